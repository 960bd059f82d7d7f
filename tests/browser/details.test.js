// The sofa details, each as a user meets it in Debian's Chromium: hidden
// things stay hidden, one line of links on a phone, the remote's keys, the
// position saved when a browser has no sendBeacon, and the screen kept on
// while uploading from a page that is not a secure context.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { chromium } = require('playwright-core');
const { SHOTS, CHROMIUM_ARGS, ffmpeg, until, startPimedia, PATIENCE, launchChromium, closeAll } = require('./lib');

let dir, media, server, base, browser;
const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true };

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pimedia-details-'));
  media = path.join(dir, 'media');
  fs.mkdirSync(media);
  fs.mkdirSync(SHOTS, { recursive: true });
  ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=10', '-f', 'lavfi', '-i', 'sine', '-t', '60',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-movflags', '+faststart',
    path.join(media, 'long.mp4')]);
  ({ server, base } = await startPimedia(media));
  browser = await launchChromium();
});

after(() => closeAll({ browser, server, dir }));

// A key as a TV remote sends it: only its keyCode says which.
// A key that navigates may take the page away before evaluate returns:
// that is the key working, not a failure.
function remote(page, keyCode) {
  return page.evaluate((code) => {
    const e = new KeyboardEvent('keydown', { bubbles: true, cancelable: true });
    Object.defineProperty(e, 'keyCode', { get: () => code });
    (document.activeElement || document.body).dispatchEvent(e);
  }, keyCode).catch((e) => {
    if (!/Execution context was destroyed|navigation/.test(e.message)) throw e;
  });
}

async function playing(page) {
  await page.evaluate(() => new Promise((resolve) => {
    const v = document.getElementById('player');
    v.muted = true;
    const ok = () => { if (v.currentTime > 0.3) resolve(); };
    v.addEventListener('timeupdate', ok);
    v.play().catch(() => {});
    ok();
  }));
}

async function position() {
  const r = await fetch(base + '/api/positions/long.mp4');
  return r.status === 200 ? (await r.json()).position : 0;
}

test('Start over stays hidden with no saved position; the title never runs into its details', async () => {
  for (const options of [{ viewport: { width: 1280, height: 720 } }, PHONE]) {
    const context = await browser.newContext(options);
    const page = await context.newPage();
    await page.goto(base + '/watch/long.mp4');
    assert.equal(await page.isVisible('#start-over'), false, 'no position: no Start over');
    const title = await page.locator('.controls .title').boundingBox();
    const details = await page.locator('.controls .details').boundingBox();
    const sameLine = details.y < title.y + title.height && title.y < details.y + details.height;
    assert.ok(!sameLine || details.x >= title.x + title.width + 10, JSON.stringify({ title, details }));
    await context.close();
  }
});

test('on a 390 px phone the header is one line of links', async () => {
  const context = await browser.newContext(PHONE);
  const page = await context.newPage();
  await page.goto(base + '/');
  const boxes = await page.$$eval('.bar nav a', (links) => links.map((a) => a.getBoundingClientRect().top));
  assert.equal(boxes.length, 4);
  assert.equal(new Set(boxes).size, 1, 'one line: ' + boxes);
  const right = await page.$$eval('.bar nav a', (links) => Math.max(...links.map((a) => a.getBoundingClientRect().right)));
  assert.ok(right <= 390, 'fits: ' + right);
  await page.screenshot({ path: path.join(SHOTS, 'phone-header.png') });
  // Every control of the upload page is a 44 px touch target at least.
  await page.goto(base + '/upload');
  const small = await page.$$eval('main button, main select, main input:not([type=hidden]), main .button', (els) =>
    els.filter((e) => e.getBoundingClientRect().height > 0 && e.getBoundingClientRect().height < 44)
      .map((e) => e.outerHTML.slice(0, 60) + ' ' + e.getBoundingClientRect().height));
  assert.deepEqual(small, [], 'under 44 px');
  await context.close();
});

test("the remote's keys: media keys on the player, Esc and Back go back, Back even from a text field", async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
  const page = await context.newPage();
  await page.goto(base + '/watch/long.mp4');
  await playing(page);
  await remote(page, 19);
  assert.equal(await page.$eval('#player', (v) => v.paused), true, 'Pause (19)');
  await remote(page, 415);
  await until('Play (415)', async () => !(await page.$eval('#player', (v) => v.paused)), 5);
  await remote(page, 179);
  assert.equal(await page.$eval('#player', (v) => v.paused), true, 'Play/Pause (179)');
  const t0 = await page.$eval('#player', (v) => v.currentTime);
  await remote(page, 417);
  const t1 = await page.$eval('#player', (v) => v.currentTime);
  assert.ok(t1 >= t0 + 29, 'Fast-forward (417): ' + t0 + ' -> ' + t1);
  await remote(page, 412);
  const t2 = await page.$eval('#player', (v) => v.currentTime);
  assert.ok(Math.abs(t2 - (t1 - 10)) < 1, 'Rewind (412): ' + t1 + ' -> ' + t2);
  // Stop (413) leaves the player, saving where it was.
  await Promise.all([page.waitForURL(base + '/'), remote(page, 413)]);
  await until('the position saved by Stop', async () => Math.abs((await position()) - t2) < 1, 5);

  // Esc (27) on the player goes back to the list.
  await page.goto(base + '/watch/long.mp4');
  await Promise.all([page.waitForURL(base + '/'), remote(page, 27)]);
  // webOS Back (461) from the search field: back where the viewer came from.
  await page.goto(base + '/watch/long.mp4');
  await page.goto(base + '/?q=long');
  await page.focus('input[type=search]');
  await Promise.all([page.waitForURL(/\/watch\/long\.mp4$/), remote(page, 461)]);
  // Esc inside the search field belongs to the field.
  await page.goto(base + '/?q=long');
  await page.focus('input[type=search]');
  await remote(page, 27);
  assert.match(page.url(), /\?q=long$/);
  await context.close();
});

test('without sendBeacon (webOS 3) leaving the player still saves the position', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
  await context.addInitScript(() => { delete Navigator.prototype.sendBeacon; });
  const page = await context.newPage();
  await page.goto(base + '/watch/long.mp4');
  assert.equal(await page.evaluate(() => 'sendBeacon' in navigator), false);
  await playing(page);
  await page.$eval('#player', (v) => { v.currentTime = 40; });
  await page.waitForFunction(() => document.getElementById('player').currentTime >= 40);
  await Promise.all([page.waitForURL(base + '/'), page.click('#back')]);
  const at = await position();
  assert.ok(at >= 39.5, 'saved at ' + at);
  await context.close();
});

test('on a plain-HTTP LAN name (no Wake Lock) an upload keeps the screen on with a looping video', async () => {
  const lan = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [...CHROMIUM_ARGS, '--host-resolver-rules=MAP raspberrypi.local 127.0.0.1'],
  });
  try {
    const context = await lan.newContext(PHONE);
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(base.replace('127.0.0.1', 'raspberrypi.local') + '/upload');
    assert.deepEqual(await page.evaluate(() => [window.isSecureContext, 'wakeLock' in navigator]), [false, false]);
    // What was on screen when the keep-awake video started playing.
    await page.evaluate(() => document.addEventListener('playing', (e) => {
      window.awake = { id: e.target.id, muted: e.target.muted, loop: e.target.loop, inline: e.target.hasAttribute('playsinline'),
        note: !document.getElementById('keep-open').hidden };
    }, true));
    const clip = path.join(dir, 'from-phone.mp4');
    fs.copyFileSync(path.join(media, 'long.mp4'), clip);
    await page.setInputFiles('#file', clip);
    await page.tap('#upload-button');
    await page.waitForSelector('#upload-done:not([hidden])', { timeout: 30000 * PATIENCE });
    assert.deepEqual(await page.evaluate(() => window.awake), { id: 'keep-awake', muted: true, loop: true, inline: true, note: true });
    assert.equal(await page.$eval('#keep-awake', (v) => v.paused), true, 'let go once done');
    assert.equal(await page.isVisible('#keep-open'), false);
    assert.deepEqual(errors, []);
    await context.close();
  } finally {
    await lan.close();
  }
});
