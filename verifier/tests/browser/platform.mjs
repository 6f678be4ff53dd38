// The whole platform in headless Chromium: the console issues a citizen card, the wallet page
// receives it and shows a QR code, the verifier page accepts it; the console revokes it, the
// verifier page refreshes its bundle and rejects the same presentation as revoked.
// Prints one JSON line per step.
//
// usage: node platform.mjs <base-url> <demo-token>
import { chromium } from "playwright-core";

const [base, token] = process.argv.slice(2);
const log = (step, data) => console.log(JSON.stringify({ step, ...data }));
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
});
const errors = [];
try {
  const page = await browser.newPage();
  page.on("pageerror", (e) => errors.push(String(e)));

  // The issuing office.
  await page.goto(`${base}/console/#token=${token}`);
  await page.selectOption("#type", "citizen-card");
  await page.click("#issue");
  await page.waitForSelector("#offer-qr svg");
  const uri = await page.textContent("#offer-uri");
  const txCode = await page.textContent("#offer-tx");
  log("offered", { uri, txCode });

  // The citizen.
  await page.goto(`${base}/wallet/#token=${token}`);
  await page.fill("#offer", uri);
  await page.fill("#tx", txCode);
  await page.click("#receive");
  await page.waitForSelector(".card");
  const card = page.locator(".card").first();
  log("received", { title: await card.locator("strong").textContent() });
  for (const claim of ["name", "age_over_19"]) {
    await card.locator(`input[value="${claim}"]`).check();
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
  // The counter: it refreshes its bundle when it opens (the new status list is in it), then
  // judges offline.
  await page.goto(`${base}/verifier/`);
  await page.click("#refresh-btn");
  // A selector, not a polled function: the page's CSP forbids the eval Playwright polls with.
  await page.locator("#refresh-status", { hasText: "up to date" }).waitFor();
  log("verified", await verify());

  // The office revokes it.
  await page.goto(`${base}/console/#token=${token}`);
  await page.waitForSelector("#issued tr .action-revoke");
  await page.locator("#issued tr").first().locator(".action-revoke").click();
  await page.waitForSelector('#issued tr[data-status="revoked"]');
  log("revoked", {});

  // The counter refreshes its bundle; the same presentation is now rejected.
  await page.goto(`${base}/verifier/`);
  await page.click("#refresh-btn");
  // A selector, not a polled function: the page's CSP forbids the eval Playwright polls with.
  await page.locator("#refresh-status", { hasText: "up to date" }).waitFor();
  log("refreshed", { freshness: await page.textContent("#freshness") });
  log("verified-again", await verify());
} finally {
  await browser.close();
  if (errors.length) {
    console.error("page errors:", errors);
    process.exitCode = 1;
  }
}
