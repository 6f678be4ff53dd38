// Drives the employer page in headless Chromium, in Korean and then in English: reads the
// issuer policy it shows, pastes each credential given and prints what the page shows, one
// JSON line each: {"policy"}, then {"decision", "summary", "notAccredited", "text"}. Texts are
// the Korean page's and the English page's, joined by a newline; `decision` is the one both
// showed (or "ko:<a> en:<b>" when they differ), `notAccredited` whether both showed the warning.
//
// usage: node issuer_policy.mjs <page-url> <credential-file>...
import { readFileSync } from "node:fs";
import { chromium } from "playwright-core";

const [url, ...files] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
});
const errors = [];
try {
  const seen = {};
  for (const lang of ["ko", "en"]) {
    const page = await browser.newPage();
    page.on("pageerror", (e) => errors.push(String(e)));
    const address = new URL(url);
    address.searchParams.set("lang", lang);
    await page.goto(address.href);
    // A selector, not a polled function: the page's CSP forbids the eval Playwright polls with.
    await page.waitForSelector("#issuer-policy[data-policy]");
    const shown = { policy: await page.textContent("#issuer-policy"), verdicts: [] };
    for (const file of files) {
      await page.evaluate(() => { delete document.getElementById("result").dataset.decision; });
      await page.fill("#text", readFileSync(file, "utf8"));
      await page.click("#verify-text");
      await page.waitForSelector("#result[data-decision]", { state: "visible" });
      shown.verdicts.push({
        decision: await page.getAttribute("#result", "data-decision"),
        summary: await page.textContent("#summary"),
        notAccredited: await page.isVisible("#not-accredited"),
        text: await page.innerText("#result"),
      });
    }
    seen[lang] = shown;
    await page.close();
  }
  console.log(JSON.stringify({ policy: seen.ko.policy + "\n" + seen.en.policy }));
  seen.ko.verdicts.forEach((ko, i) => {
    const en = seen.en.verdicts[i];
    console.log(JSON.stringify({
      decision: ko.decision === en.decision ? ko.decision : `ko:${ko.decision} en:${en.decision}`,
      summary: ko.summary + "\n" + en.summary,
      notAccredited: ko.notAccredited && en.notAccredited,
      text: ko.text + "\n" + en.text,
    }));
  });
} finally {
  await browser.close();
  if (errors.length) {
    console.error("page errors:", errors);
    process.exitCode = 1;
  }
}
