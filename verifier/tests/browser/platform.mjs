// The whole platform in headless Chromium, the short way (pasted offers, uploaded images; see
// story.mjs for the full story with the camera, both languages and both screen sizes): the
// console issues a citizen card, the wallet page receives it and shows a QR code, the verifier
// page accepts it; the console revokes it, the verifier page refreshes its bundle and rejects
// the same presentation as revoked. Prints one JSON line per step.
//
// usage: node platform.mjs <base-url> <demo-token> [ko|en]
import { chromium } from "playwright-core";

const [base, token, lang = "en"] = process.argv.slice(2);
const log = (step, data) => console.log(JSON.stringify({ step, ...data }));
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
});
const errors = [];
try {
  const page = await browser.newPage();
  page.on("pageerror", (e) => errors.push(String(e)));
  const open = async (path) => {
    await page.goto(`${base}${path}`.replace(/(#|$)/, `?lang=${lang}$1`));
    // A selector, not a polled function: the page's CSP forbids the eval Playwright polls with.
    await page.waitForSelector("body[data-ready]");
  };

  // The issuing office: the type's example claims, as the form is prefilled.
  await open(`/console/#token=${token}`);
  await page.selectOption("#type", "citizen-card");
  await page.click("#issue");
  await page.waitForSelector("#offer-qr svg");
  const uri = await page.textContent("#offer-uri");
  const txCode = await page.textContent("#offer-tx");
  log("offered", { uri, txCode });

  // The citizen.
  await open(`/wallet/#token=${token}`);
  await page.fill("#offer", uri);
  await page.fill("#tx", txCode);
  await page.click("#receive");
  await page.waitForSelector("#receive-status[data-id]");
  const id = await page.getAttribute("#receive-status", "data-id");
  const card = page.locator(`.card[data-id="${id}"]`);
  log("received", { title: (await card.locator("h3").textContent()) + " · " + (await card.locator(".meta").textContent()) });
  for (const claim of ["name", "age_over_19"]) {
    await card.locator(`input[name=claim][value="${claim}"]`).check();
  }
  await card.locator("button.present").click();
  await page.waitForSelector("#qr-image");
  const dataUri = await page.getAttribute("#qr-image", "src");
  const png = Buffer.from(dataUri.split(",")[1], "base64");
  log("presented", { bytes: png.length });

  const verify = async () => {
    await page.evaluate(() => { delete document.getElementById("result").dataset.decision; });
    await page.setInputFiles("#file", { name: "qr.png", mimeType: "image/png", buffer: png });
    await page.waitForSelector("#result[data-decision]", { state: "visible" });
    return {
      decision: await page.getAttribute("#result", "data-decision"),
      text: await page.innerText("#result"),
    };
  };
  const refresh = async () => {
    await page.click("#refresh-btn");
    await page.waitForSelector('#refresh-status[data-state="done"]');
  };
  // The counter: it refreshes its bundle when it opens (the new status list is in it), then
  // judges offline.
  await open("/verifier/");
  await refresh();
  log("verified", await verify());

  // The office revokes it, with the first reason offered.
  await open(`/console/#token=${token}`);
  await page.waitForSelector("#issued tr .action-revoke");
  await page.locator("#issued tr").first().locator(".action-revoke").click();
  await page.waitForSelector("#confirm[open]");
  await page.click("#confirm-ok");
  await page.waitForSelector('#issued tr[data-status="revoked"]');
  log("revoked", {});

  // The counter refreshes its bundle; the same presentation is now rejected.
  await open("/verifier/");
  await refresh();
  log("refreshed", { freshness: await page.textContent("#freshness") });
  log("verified-again", await verify());
} finally {
  await browser.close();
  if (errors.length) {
    console.error("page errors:", errors);
    process.exitCode = 1;
  }
}
