// driver.js - a headless Chromium (Debian's /usr/bin/chromium) driven over
// the DevTools protocol by puppeteer-core, for tests/e2e/test_dashboard.py.
//
// One JSON command per line on stdin, one JSON answer per line on stdout
// ({"ok": true, ...} or {"ok": false, "error": "..."}):
//   {"cmd": "open", "url": U}                      load a page
//   {"cmd": "wait", "selector": S, "timeout_ms": T} until S matches; {"ms": waited}
//   {"cmd": "eval", "js": "expression"}             {"value": its JSON value}
//   {"cmd": "type", "selector": S, "text": X}       type into an input
//   {"cmd": "click", "selector": S}
//   {"cmd": "press", "key": "Enter"}
//   {"cmd": "screenshot", "path": P}                full page PNG
//   {"cmd": "quit"}
// Console errors and failed requests of the page are reported in every
// answer ("console": [...]) so the test can fail on them.
"use strict";

const readline = require("readline");
const puppeteer = require("puppeteer-core");

const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";

async function main() {
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--headless", "--disable-gpu", "--disable-dev-shm-usage",
           "--no-first-run", "--no-default-browser-check"],
  });
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 800 });
  let consoleMsgs = [];
  page.on("console", (m) => {
    if (m.type() === "error") consoleMsgs.push(m.text());
  });
  page.on("pageerror", (e) => consoleMsgs.push("pageerror: " + e.message));
  page.on("requestfailed", (r) =>
    consoleMsgs.push("requestfailed: " + r.url() + " " + (r.failure() || {}).errorText));

  const say = (obj) => {
    obj.console = consoleMsgs;
    consoleMsgs = [];
    process.stdout.write(JSON.stringify(obj) + "\n");
  };
  say({ ok: true, ready: true, version: await browser.version() });

  const rl = readline.createInterface({ input: process.stdin });
  for await (const line of rl) {
    if (!line.trim()) continue;
    let c;
    try {
      c = JSON.parse(line);
      const t0 = Date.now();
      switch (c.cmd) {
        case "open":
          await page.goto(c.url, { waitUntil: "load", timeout: c.timeout_ms || 15000 });
          say({ ok: true });
          break;
        case "wait":
          await page.waitForSelector(c.selector, { timeout: c.timeout_ms || 10000 });
          say({ ok: true, ms: Date.now() - t0 });
          break;
        case "eval":
          say({ ok: true, value: await page.evaluate(c.js) });
          break;
        case "type":
          await page.type(c.selector, c.text);
          say({ ok: true });
          break;
        case "click":
          await page.click(c.selector);
          say({ ok: true });
          break;
        case "press":
          await page.keyboard.press(c.key);
          say({ ok: true });
          break;
        case "screenshot":
          await page.screenshot({ path: c.path, fullPage: true });
          say({ ok: true });
          break;
        case "quit":
          say({ ok: true });
          await browser.close();
          return;
        default:
          say({ ok: false, error: "unknown command " + c.cmd });
      }
    } catch (e) {
      say({ ok: false, error: String(e && e.message || e) });
    }
  }
  await browser.close();
}

main().catch((e) => {
  process.stdout.write(JSON.stringify({ ok: false, fatal: true, error: String(e && e.stack || e) }) + "\n");
  process.exit(1);
});
