// Drives the employer page in headless Chromium: reads the issuer policy it shows, pastes each
// credential given and prints what the page shows, one JSON line each:
// {"policy"}, then {"decision", "summary", "notAccredited", "text"}.
//
// usage: node issuer_policy.mjs <page-url> <credential-file>...
import { readFileSync } from "node:fs";
import { chromium } from "playwright-core";

const [url, ...files] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
});
try {
  const page = await browser.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(url);
  // A selector, not a polled function: the page's CSP forbids the eval Playwright polls with.
  await page.waitForSelector("#issuer-policy[data-policy]");
  console.log(JSON.stringify({ policy: await page.textContent("#issuer-policy") }));
  for (const file of files) {
    await page.evaluate(() => { delete document.getElementById("result").dataset.decision; });
    await page.fill("#text", readFileSync(file, "utf8"));
    await page.click("#verify-text");
    await page.waitForSelector("#result[data-decision]", { state: "visible" });
    console.log(JSON.stringify({
      decision: await page.getAttribute("#result", "data-decision"),
      summary: await page.textContent("#summary"),
      notAccredited: await page.isVisible("#not-accredited"),
      text: await page.innerText("#result"),
    }));
  }
  if (errors.length) {
    console.error("page errors:", errors);
    process.exitCode = 1;
  }
} finally {
  await browser.close();
}
