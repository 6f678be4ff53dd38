// The whole story of `dojang up` in headless Chromium, in one language at one screen size, as
// a clerk, a citizen and an employer live it:
//
// 1. the clerk opens the console, types a birth date that does not exist (2001-02-30), sees
//    the server's refusal at the field, fixes it and issues a citizen card (a double click
//    makes one offer);
// 2. the citizen's wallet receives it through the CAMERA: the offer's QR code is drawn into a
//    Y4M video that Chromium's fake camera plays, and the page decodes it with jsQR; the
//    console sees the offer redeemed and hides its QR code;
// 3. the citizen shows nothing (refused), then name and age_over_19;
// 4. the employer's page accepts it, with the labels in the page's language; a page whose
//    server cannot be reached says so;
// 5. the clerk finds the card by its number and revokes it with a reason, through the dialog;
// 6. the employer refreshes the bundle: the card is rejected as revoked;
// 7. a job badge (the type's example) goes the same way and its verdict fits the screen;
// 8. the employer's challenge QR is answered by the wallet and accepted;
// 9. an OpenID4VP request is previewed in the wallet, answered, and judged on the employer's
//    page.
//
// axe-core checks every page; each step is screenshotted to
// $DOJANG_ARTIFACTS/<lang>-<w>x<h>/NN-<step>.png and printed as one JSON line
// ({"step", …}) that ../../../cli/tests/browser.rs reads.
//
// usage: node story.mjs <base-url> <demo-token> <ko|en> <width>x<height>
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
const AXE = join(here, "node_modules/axe-core/axe.min.js");
const [base, token, lang, size] = process.argv.slice(2);
if (!base || !token || !["ko", "en"].includes(lang) || !/^\d+x\d+$/.test(size || "")) {
  console.error("usage: node story.mjs <base-url> <demo-token> <ko|en> <width>x<height>");
  process.exit(2);
}
const [width, height] = size.split("x").map(Number);
const artifacts = join(process.env.DOJANG_ARTIFACTS || join(tmpdir(), "dojang-browser-artifacts"), `${lang}-${size}`);
rmSync(artifacts, { recursive: true, force: true });
mkdirSync(artifacts, { recursive: true });
const work = mkdtempSync(join(tmpdir(), "dojang-story-"));

const log = (step, data) => console.log(JSON.stringify({ step, lang, size, ...data }));
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const executablePath = process.env.CHROMIUM || "/usr/bin/chromium";
const args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"];
const phone = width < 600;
const contextOptions = {
  locale: lang === "ko" ? "ko-KR" : "en-US",
  viewport: { width, height },
  isMobile: phone,
  hasTouch: phone,
  deviceScaleFactor: 1,
};

let shots = 0;
async function snap(page, name, fullPage = true) {
  shots += 1;
  await page.screenshot({ path: join(artifacts, `${String(shots).padStart(2, "0")}-${name}.png`), fullPage });
}

/// How wide the page is against the window: no horizontal scroll means scrollWidth <= innerWidth.
function scroll(page) {
  return page.evaluate(() => ({
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: window.innerWidth,
  }));
}

/// axe-core on the page as it is now; prints the serious and critical violations.
async function axe(page, name) {
  await page.addScriptTag({ path: AXE });
  const violations = await page.evaluate(async () => {
    const result = await window.axe.run(document, { resultTypes: ["violations"] });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.slice(0, 5).map((n) => n.target.join(" ") + " — " + (n.failureSummary || "").replace(/\s+/g, " ")),
    }));
  });
  const serious = violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  log("axe", {
    page: name,
    htmlLang: await page.getAttribute("html", "lang"),
    serious,
    other: violations.filter((v) => !serious.includes(v)).map((v) => `${v.id} (${v.impact})`),
  });
}

const errors = [];
function watch(page, who) {
  page.on("pageerror", (e) => errors.push(`${who}: ${e}`));
  page.on("console", (m) => {
    if (m.type() === "error" && !/Failed to load resource|net::ERR_FAILED/.test(m.text())) errors.push(`${who}: ${m.text()}`);
  });
  return page;
}

async function ready(page) {
  await page.waitForSelector("body[data-ready]");
}

/// The QR code in `svg` drawn on a white 640×480 frame, written as a Y4M video (4:2:0, BT.601
/// full range) that Chromium's fake camera plays in a loop.
async function y4mOf(browser, svg, file) {
  const page = await browser.newPage();
  const rgba = Buffer.from(await page.evaluate(async (markup) => {
    const source = markup.includes("xmlns=") ? markup : markup.replace("<svg", '<svg xmlns="http://www.w3.org/2000/svg"');
    const img = new Image();
    img.src = "data:image/svg+xml;charset=utf-8," + encodeURIComponent(source);
    await img.decode();
    const canvas = document.createElement("canvas");
    canvas.width = 640;
    canvas.height = 480;
    const g = canvas.getContext("2d");
    g.fillStyle = "#fff";
    g.fillRect(0, 0, 640, 480);
    g.imageSmoothingEnabled = false;
    g.drawImage(img, 100, 20, 440, 440);
    const data = g.getImageData(0, 0, 640, 480).data;
    let binary = "";
    for (let i = 0; i < data.length; i += 0x8000) binary += String.fromCharCode.apply(null, data.subarray(i, i + 0x8000));
    return btoa(binary);
  }, svg), "base64");
  await page.close();
  const [w, h] = [640, 480];
  const y = Buffer.alloc(w * h);
  const u = Buffer.alloc((w / 2) * (h / 2));
  const v = Buffer.alloc((w / 2) * (h / 2));
  const clamp = (x) => Math.max(0, Math.min(255, Math.round(x)));
  for (let row = 0; row < h; row++) {
    for (let col = 0; col < w; col++) {
      const i = (row * w + col) * 4;
      y[row * w + col] = clamp(0.299 * rgba[i] + 0.587 * rgba[i + 1] + 0.114 * rgba[i + 2]);
    }
  }
  for (let row = 0; row < h / 2; row++) {
    for (let col = 0; col < w / 2; col++) {
      let r = 0;
      let g = 0;
      let b = 0;
      for (const [dy, dx] of [[0, 0], [0, 1], [1, 0], [1, 1]]) {
        const i = ((row * 2 + dy) * w + col * 2 + dx) * 4;
        r += rgba[i];
        g += rgba[i + 1];
        b += rgba[i + 2];
      }
      [r, g, b] = [r / 4, g / 4, b / 4];
      u[row * (w / 2) + col] = clamp(-0.168736 * r - 0.331264 * g + 0.5 * b + 128);
      v[row * (w / 2) + col] = clamp(0.5 * r - 0.418688 * g - 0.081312 * b + 128);
    }
  }
  const frame = Buffer.concat([Buffer.from("FRAME\n"), y, u, v]);
  const frames = Array.from({ length: 10 }, () => frame);
  writeFileSync(file, Buffer.concat([Buffer.from(`YUV4MPEG2 W${w} H${h} F10:1 Ip A1:1 C420jpeg\n`), ...frames]));
}

/// The employer's page judges a QR image (the photo-upload path); what it shows.
async function verifyImage(page, png) {
  await page.evaluate(() => {
    delete document.getElementById("result").dataset.decision;
  });
  await page.setInputFiles("#file", { name: "qr.png", mimeType: "image/png", buffer: png });
  await page.waitForSelector("#result[data-decision]", { state: "visible" });
  return {
    decision: await page.getAttribute("#result", "data-decision"),
    decisionText: await page.innerText("#decision"),
    summary: await page.textContent("#summary"),
    labels: await page.locator("#claims dt").allTextContents(),
    values: await page.locator("#claims dd").allInnerTexts(),
    reasons: await page.locator("#reasons li").evaluateAll((items) =>
      items.map((li) => ({ code: li.dataset.code, text: li.textContent }))),
    freshness: await page.textContent("#verdict-freshness"),
    text: await page.innerText("#result"),
  };
}

/// The citizen's QR image once the page shows one different from `before`.
async function shownQr(page, before) {
  for (let i = 0; i < 200; i++) {
    const src = await page.getAttribute("#qr-image", "src").catch(() => null);
    if (src && src !== before) return src;
    await sleep(100);
  }
  throw new Error("the wallet showed no new QR code");
}

const browser = await chromium.launch({ executablePath, args });
let camera = null;
try {
  const context = await browser.newContext(contextOptions);

  // ---- home ----
  const clerk = watch(await context.newPage(), "console");
  await clerk.goto(`${base}/`);
  await ready(clerk);
  log("home", {
    htmlLang: await clerk.getAttribute("html", "lang"),
    h1: await clerk.textContent("h1"),
    links: await clerk.locator("main a").evaluateAll((as) => as.map((a) => a.getAttribute("href"))),
    scroll: await scroll(clerk),
  });
  await axe(clerk, "home");
  await snap(clerk, "home");

  // ---- 1. the clerk issues a citizen card from the form ----
  await clerk.goto(`${base}/console/#token=${token}`);
  await ready(clerk);
  await clerk.selectOption("#type", "citizen-card");
  await clerk.waitForSelector('[data-pointer="/birthdate"] input');
  log("console", {
    htmlLang: await clerk.getAttribute("html", "lang"),
    labels: await clerk.locator("#claims-fields label").allTextContents(),
    scroll: await scroll(clerk),
  });
  await axe(clerk, "console");
  await snap(clerk, "console");

  const cardNumber = `SC-2026-${String(Math.floor(Math.random() * 1e6)).padStart(6, "0")}`;
  await clerk.fill('[data-pointer="/card_number"] input', cardNumber);
  // A date input cannot hold a day that does not exist; a browser without a date picker shows
  // a text box instead, where a clerk can type one.
  await clerk.$eval('[data-pointer="/birthdate"] input', (input) => { input.type = "text"; });
  await clerk.fill('[data-pointer="/birthdate"] input', "2001-02-30");
  await clerk.click("#issue");
  await clerk.waitForSelector('[data-pointer="/birthdate"] input[aria-invalid="true"]');
  log("field-error", {
    message: await clerk.textContent('[data-pointer="/birthdate"] .field-error'),
    summary: await clerk.textContent("#issue-error"),
    focused: await clerk.evaluate(() => {
      const field = document.activeElement && document.activeElement.closest("[data-pointer]");
      return field ? field.dataset.pointer : null;
    }),
    describedBy: await clerk.getAttribute('[data-pointer="/birthdate"] input', "aria-describedby"),
    offerShown: await clerk.isVisible("#offer-qr svg"),
  });
  await snap(clerk, "field-error");

  await clerk.fill('[data-pointer="/birthdate"] input', "1994-03-15");
  let offerPosts = 0;
  clerk.on("request", (r) => {
    if (r.method() === "POST" && r.url().endsWith("/console/api/offers")) offerPosts += 1;
  });
  await clerk.dblclick("#issue");
  await clerk.waitForSelector("#offer-qr svg");
  await sleep(500);
  const uri = await clerk.textContent("#offer-uri");
  const txCode = await clerk.textContent("#offer-tx");
  const svg = await clerk.$eval("#offer-qr svg", (s) => s.outerHTML);
  log("offered", {
    uri,
    txCode,
    offerPosts,
    invalidLeft: await clerk.locator('[aria-invalid="true"]').count(),
    state: await clerk.getAttribute("#offer-state", "data-state"),
    scroll: await scroll(clerk),
  });
  await snap(clerk, "offer");

  // ---- 2. the citizen receives it through the camera ----
  const video = join(work, "offer.y4m");
  await y4mOf(browser, svg, video);
  camera = await chromium.launch({
    executablePath,
    args: [
      ...args,
      "--use-fake-device-for-media-stream",
      "--use-fake-ui-for-media-stream",
      `--use-file-for-fake-video-capture=${video}`,
    ],
  });
  const citizenContext = await camera.newContext({ ...contextOptions, permissions: ["camera"] });
  const citizen = watch(await citizenContext.newPage(), "wallet");
  await citizen.goto(`${base}/wallet/#token=${token}`);
  await ready(citizen);
  await axe(citizen, "wallet");
  await snap(citizen, "wallet");
  await citizen.click("#scan-offer");
  await citizen.waitForSelector('#offer[data-source="camera"]', { timeout: 30_000 });
  const scanned = await citizen.inputValue("#offer");
  log("scanned", { same: scanned === uri, status: await citizen.textContent("#receive-status"), videoHidden: await citizen.isHidden("#offer-video") });
  await snap(citizen, "scanned");

  await citizen.fill("#tx", txCode);
  await citizen.click("#receive");
  await citizen.waitForSelector("#receive-status[data-id]");
  const cardId = await citizen.getAttribute("#receive-status", "data-id");
  const card = citizen.locator(`.card[data-id="${cardId}"]`);
  await card.waitFor();
  log("received", {
    status: await citizen.textContent("#receive-status"),
    title: await card.locator("h3").textContent(),
    meta: await card.locator(".meta").textContent(),
    labels: await card.locator(".card-claims dt").allTextContents(),
    values: await card.locator(".card-claims dd").allInnerTexts(),
    choosable: await card.locator("input[name=claim]").evaluateAll((boxes) => boxes.map((b) => b.value)),
    scroll: await scroll(citizen),
  });
  await snap(citizen, "received");

  await clerk.waitForSelector('#offer-state[data-state="redeemed"]', { timeout: 15_000 });
  log("redeemed", {
    text: await clerk.textContent("#offer-state"),
    qrHidden: (await clerk.locator("#offer-qr svg").count()) === 0 && (await clerk.isHidden("#offer-live")),
  });
  await snap(clerk, "redeemed");

  // ---- 3. nothing chosen is refused; then name and age_over_19 ----
  await card.locator("button.present").click();
  await card.locator(".card-error").filter({ hasText: /\S/ }).waitFor();
  log("nothing-selected", {
    message: await card.locator(".card-error").textContent(),
    qrShown: await citizen.locator("#qr-image").count(),
  });
  for (const key of ["name", "age_over_19"]) await card.locator(`input[name=claim][value="${key}"]`).check();
  await card.locator("button.present").click();
  const firstQr = await shownQr(citizen, null);
  log("presented", {
    what: await citizen.textContent("#show-what"),
    countdown: await citizen.textContent("#countdown"),
    alt: await citizen.getAttribute("#qr-image", "alt"),
    scroll: await scroll(citizen),
  });
  await axe(citizen, "wallet-showing");
  await snap(citizen, "presented");

  // ---- 4. the employer verifies ----
  const employer = watch(await context.newPage(), "verifier");
  await employer.goto(`${base}/verifier/`);
  await ready(employer);
  await employer.waitForSelector("#freshness span");
  await axe(employer, "verifier");
  await employer.click("#refresh-btn");
  await employer.waitForSelector('#refresh-status[data-state="done"]');
  const png = Buffer.from(firstQr.split(",")[1], "base64");
  log("verified", { ...(await verifyImage(employer, png)), scroll: await scroll(employer) });
  await axe(employer, "verifier-verdict");
  await snap(employer, "verified");

  // A page whose server cannot be reached says so, in the page's language.
  await employer.route("**/api/verify*", (route) => route.abort("connectionrefused"));
  await employer.fill("#text", "DJ1:unreachable");
  await employer.click("#verify-text");
  await employer.waitForSelector('#result[data-state="error"]');
  log("unreachable", {
    message: await employer.textContent("#result-message"),
    decision: await employer.getAttribute("#result", "data-decision"),
  });
  await snap(employer, "unreachable");
  await employer.unroute("**/api/verify*");

  // ---- 5. the clerk finds the card by its number and revokes it ----
  await clerk.bringToFront();
  await clerk.fill("#find-card", cardNumber);
  await clerk.click("#find-btn");
  await clerk.waitForSelector(`#results-h[data-query="card_number=${cardNumber}"]`);
  const found = await clerk.locator("#issued tr").count();
  const firstRow = clerk.locator("#issued tr").first();
  const foundRow = {
    cells: await firstRow.locator("td").allInnerTexts(),
    status: await firstRow.getAttribute("data-status"),
  };
  await firstRow.locator(".action-revoke").click();
  await clerk.waitForSelector("#confirm[open]");
  const reasons = await clerk.locator("#confirm-reason option").evaluateAll((os) =>
    os.map((o) => ({ code: o.value, label: o.textContent })));
  if (reasons.length > 1) await clerk.selectOption("#confirm-reason", reasons[1].code);
  const reason = reasons.length > 1 ? reasons[1] : reasons[0] || null;
  await axe(clerk, "console-dialog");
  await snap(clerk, "confirm", false);
  await clerk.click("#confirm-ok");
  await clerk.waitForSelector("#confirm", { state: "hidden" });
  await clerk.waitForSelector('#issued tr[data-status="revoked"]');
  log("revoked", {
    found,
    foundRow,
    reason,
    title: await clerk.textContent("#confirm-title"),
    statusName: await clerk.locator('#issued tr[data-status="revoked"] .status').first().textContent(),
    message: await clerk.textContent("#action-status"),
    scroll: await scroll(clerk),
  });
  await snap(clerk, "revoked");

  // ---- 6. the employer refreshes: rejected as revoked ----
  // A fresh QR code from the wallet: the first one's time window may have closed meanwhile.
  await citizen.bringToFront();
  await card.locator("button.present").click();
  const secondQr = await shownQr(citizen, await citizen.getAttribute("#qr-image", "src"));
  await employer.bringToFront();
  await employer.click("#refresh-btn");
  await employer.waitForSelector('#refresh-status[data-state="done"]');
  log("verified-again", await verifyImage(employer, Buffer.from(secondQr.split(",")[1], "base64")));
  await snap(employer, "rejected");

  // ---- 7. a job badge, every choosable claim shown; its verdict fits the screen ----
  await clerk.bringToFront();
  await clerk.selectOption("#type", "job-badge");
  await clerk.waitForSelector('[data-pointer="/achievement"]');
  await clerk.click("#issue");
  await clerk.waitForSelector('#offer-state[data-state="open"]');
  await clerk.waitForSelector("#offer-qr svg");
  const badgeOffer = { uri: await clerk.textContent("#offer-uri"), tx: await clerk.textContent("#offer-tx") };
  await snap(clerk, "badge-offer");
  await citizen.bringToFront();
  await citizen.fill("#offer", badgeOffer.uri);
  await citizen.fill("#tx", badgeOffer.tx);
  await citizen.click("#receive");
  await citizen.waitForSelector(`#receive-status[data-id]:not([data-id="${cardId}"])`);
  const badgeId = await citizen.getAttribute("#receive-status", "data-id");
  const badge = citizen.locator(`.card[data-id="${badgeId}"]`);
  await badge.waitFor();
  for (const box of await badge.locator("input[name=claim]").all()) await box.check();
  await badge.locator("button.present").click();
  const badgeQr = await shownQr(citizen, secondQr);
  log("badge-presented", {
    title: await badge.locator("h3").textContent(),
    what: await citizen.textContent("#show-what"),
    scroll: await scroll(citizen),
  });
  await snap(citizen, "badge-presented");
  await employer.bringToFront();
  const badgeVerdict = await verifyImage(employer, Buffer.from(badgeQr.split(",")[1], "base64"));
  await employer.evaluate(() => window.scrollTo(0, 0));
  log("badge-verified", { ...badgeVerdict, scroll: await scroll(employer) });
  await snap(employer, "badge-verified");
  await axe(employer, "verifier-badge");

  // ---- 8. challenge mode: the employer shows a challenge, the wallet answers it ----
  await employer.click("#challenge-btn");
  await employer.waitForSelector("#challenge-qr svg");
  const challenge = await employer.textContent("#challenge-text");
  await snap(employer, "challenge");
  await citizen.bringToFront();
  await citizen.fill("#challenge", challenge);
  await badge.locator("button.present").click();
  const answerQr = await shownQr(citizen, badgeQr);
  const answer = {
    note: await citizen.isVisible("#show-challenge"),
    countdown: await citizen.textContent("#countdown"),
  };
  await snap(citizen, "challenge-answer");
  await citizen.click("#challenge-clear");
  await employer.bringToFront();
  log("challenge", {
    ...answer,
    ...(await verifyImage(employer, Buffer.from(answerQr.split(",")[1], "base64"))),
    status: await employer.textContent("#challenge-status"),
  });
  await snap(employer, "challenge-verified");

  // ---- 9. an online request (OpenID4VP): previewed, then answered from the wallet ----
  await employer.selectOption("#online-type", "job-badge");
  await employer.check('input[name=online-claim][value="identifier"]');
  await employer.click("#online-btn");
  await employer.waitForSelector("#online-qr svg");
  const request = await employer.textContent("#online-uri");
  await snap(employer, "online-request");
  await citizen.bringToFront();
  await citizen.fill("#oid4vp-request", request);
  await citizen.click("#oid4vp-preview-btn");
  await citizen.waitForSelector("#oid4vp-preview:not([hidden])");
  const preview = {
    to: await citizen.textContent("#oid4vp-to"),
    items: await citizen.locator("#oid4vp-items li").allTextContents(),
  };
  await snap(citizen, "online-preview");
  await employer.evaluate(() => {
    delete document.getElementById("result").dataset.decision;
  });
  await citizen.click("#oid4vp-answer");
  await citizen.locator("#oid4vp-status").filter({ hasText: /\S/ }).waitFor();
  await employer.bringToFront();
  await employer.waitForSelector("#result[data-decision]", { timeout: 15_000 });
  log("online", {
    preview,
    answered: await citizen.textContent("#oid4vp-status"),
    decision: await employer.getAttribute("#result", "data-decision"),
    labels: await employer.locator("#claims dt").allTextContents(),
    status: await employer.textContent("#online-status"),
  });
  await snap(employer, "online-verified");
} finally {
  if (camera) await camera.close();
  await browser.close();
  rmSync(work, { recursive: true, force: true });
  log("done", { errors });
  if (errors.length) process.exitCode = 1;
}
