// Drives the employer page in headless Chromium, in English: uploads each QR image given and
// prints what the page shows, one JSON line per image: {"file", "decision", "text"}.
//
// usage: node verify_page.mjs <page-url> <image.png>...
import { chromium } from "playwright-core";

const [url, ...images] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
});
try {
  const page = await browser.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  const english = new URL(url);
  english.searchParams.set("lang", "en");
  await page.goto(english.href);
  // The freshness line is a <span> once the bundle's summary has loaded. (A selector, not a
  // polled function: the page's CSP forbids the eval Playwright polls functions with.)
  await page.waitForSelector("#freshness span");
  console.log(JSON.stringify({ freshness: await page.textContent("#freshness") }));
  for (const file of images) {
    const before = await page.getAttribute("#result", "data-decision");
    await page.evaluate(() => { delete document.getElementById("result").dataset.decision; });
    await page.setInputFiles("#file", file);
    await page.waitForSelector("#result[data-decision]", { state: "visible" });
    const decision = await page.getAttribute("#result", "data-decision");
    const text = await page.innerText("#result");
    const colour = await page.$eval("#result", (el) => getComputedStyle(el).backgroundColor);
    console.log(JSON.stringify({ file, before, decision, colour, text }));
  }
  // Challenge mode: the page shows a nonce QR.
  await page.click("#challenge-btn");
  await page.waitForSelector("#challenge-qr svg");
  console.log(JSON.stringify({ challenge: await page.textContent("#challenge-status") }));
  if (errors.length) {
    console.error("page errors:", errors);
    process.exitCode = 1;
  }
} finally {
  await browser.close();
}
