// Smaller versions in the player, in Chromium: on a link slower than the
// film (Chromium's own throttling, which media loads obey), Auto moves to
// the largest version the link carries, says so, and then plays a minute
// without a stall; Original forced on the same link stalls. A connection
// that drops while the player loads marks nothing and plays once it is
// back. On a phone, a missing version is made on a tap and its link comes.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { chromium } = require('playwright-core');
const { tvPage, CHROMIUM_ARGS, ffmpeg, until, startPimedia, stopPimedia } = require('./lib');

let dir, media, server, base, browser;
const LINK = 2500000; // bits per second

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pimedia-versions-'));
  media = path.join(dir, 'media');
  fs.mkdirSync(path.join(media, 'Far'), { recursive: true });
  // 100 s of 720p at a steady 4 Mb/s: more than the link carries.
  ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=25', '-f', 'lavfi', '-i', 'sine=sample_rate=48000',
    '-t', '100', '-c:v', 'libx264', '-preset', 'ultrafast', '-b:v', '4M', '-minrate', '4M', '-maxrate', '4M',
    '-bufsize', '1M', '-x264-params', 'nal-hrd=cbr', '-pix_fmt', 'yuv420p', '-c:a', 'aac',
    '-movflags', '+faststart', path.join(media, 'Far', 'film.mp4')]);
  ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25', '-f', 'lavfi', '-i', 'sine=sample_rate=48000',
    '-t', '20', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac',
    '-movflags', '+faststart', path.join(media, 'clip.mp4')]);
  ({ server, base } = await startPimedia(media));
  const set = await fetch(base + '/api/folders/versions', {
    method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ path: 'Far', versions: '720p, 480p' }),
  });
  assert.equal(set.status, 200);
  await until('the 720p and 480p versions', async () => {
    const v = (await (await fetch(base + '/api/videos')).json()).find((x) => x.path === 'Far/film.mp4');
    return v && v.versions.length === 2 && v.versions.every((x) => x.state === 'ready');
  }, 240);
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
});

after(async () => {
  if (browser) await browser.close();
  if (server) await stopPimedia(server);
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

// A TV page whose link carries `bits` a second.
async function slowPage(bits) {
  const tv = await tvPage(browser);
  const cdp = await tv.context.newCDPSession(tv.page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', {
    offline: false, latency: 20, downloadThroughput: bits / 8, uploadThroughput: bits / 8,
  });
  return tv;
}

// Counts the player's stalls from now on (a `waiting` while it plays).
async function countStalls(page) {
  await page.evaluate(() => {
    const v = document.getElementById('player');
    window.stalls = 0;
    v.addEventListener('waiting', () => { if (!v.paused) window.stalls += 1; });
  });
}

const player = (page) => page.evaluate(() => {
  const v = document.getElementById('player');
  return { t: v.currentTime, src: v.currentSrc, paused: v.paused, stalls: window.stalls };
});

test('on a slow link Auto moves to the largest version it carries, then plays a minute without a stall', async () => {
  const { context, page, errors } = await slowPage(LINK);
  await page.goto(base + '/watch/Far/film.mp4');
  await until('the move to a smaller version', async () => !(await page.isHidden('#quality-line')), 60);
  // 720p (about 2.8 Mb/s) is more than 2.5 Mb/s carries; 480p is not.
  assert.equal(await page.textContent('#quality-line'), '480p — the connection is slow');
  await until('the 480p version playing', async () => {
    const p = await player(page);
    return /version=480p/.test(p.src) && !p.paused && p.t > 0;
  }, 30);
  await countStalls(page);
  const from = (await player(page)).t;
  await until('a minute played on', async () => (await player(page)).t >= from + 60, 120);
  const p = await player(page);
  assert.equal(p.stalls, 0, 'no stall after the move');
  assert.match(p.src, /version=480p/);
  assert.deepEqual(errors, []);
  await context.close();
});

test('Original, chosen with the remote and remembered, stalls on the same link', async () => {
  const { context, page, errors } = await slowPage(LINK);
  await page.goto(base + '/watch/Far/film.mp4');
  // The remote reaches the Quality choice.
  await page.focus('.quality-choice[data-quality="original"]');
  await page.keyboard.press('Enter');
  assert.equal(await page.getAttribute('.quality-choice[data-quality="original"]', 'aria-pressed'), 'true');
  await page.reload();
  assert.equal(await page.getAttribute('.quality-choice[data-quality="original"]', 'aria-pressed'), 'true', 'remembered');
  await until('playing', async () => (await player(page)).t > 0, 30);
  await countStalls(page);
  await until('a stall', async () => (await player(page)).stalls > 0, 60);
  const p = await player(page);
  assert.match(p.src, /\/videos\/Far\/film\.mp4$/, 'still the original');
  assert.ok(await page.isHidden('#quality-line'));
  assert.deepEqual(errors, []);
  await context.close();
});

test('a connection that drops while the player loads marks nothing and plays once it is back', async () => {
  const { context, page, errors } = await tvPage(browser);
  const reports = [];
  page.on('request', (r) => {
    if (r.method() === 'POST' && r.url().endsWith('/api/devices/me')) reports.push(r.postData() || '');
  });
  let dropping = true;
  await page.route('**/videos/**', (route) => (dropping ? route.abort('connectionreset') : route.continue()));
  await page.goto(base + '/watch/clip.mp4');
  await until('the page to say so', async () => !(await page.isHidden('#connection')), 20);
  assert.equal(await page.textContent('#connection'), 'Connection lost — trying again');
  await new Promise((r) => setTimeout(r, 3000));
  dropping = false;
  await until('playing once requests go through', async () => (await player(page)).t > 1, 40);
  assert.ok(await page.isHidden('#connection'));
  assert.ok(await page.isHidden('#cannot-play'));
  assert.deepEqual(reports.filter((b) => b.includes('failed')), [], 'no device report of a failure');
  const devices = await (await fetch(base + '/api/devices')).json();
  for (const d of devices.devices) {
    assert.ok(d.plays.every((p) => !p.failed), JSON.stringify(d.plays));
  }
  assert.deepEqual(errors, []);
  await context.close();
});

test('on a phone, a missing version is made on a tap, with its progress, then its link', async () => {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true });
  const page = await context.newPage();
  await page.goto(base + '/watch/clip.mp4');
  const row = page.locator('.downloads li', { hasText: 'Sound only (M4A)' });
  await Promise.all([page.waitForURL(/#download$/), row.locator('button', { hasText: 'Make it' }).click()]);
  await until('its link', async () => (await page.locator('.downloads a[href$="version=audio"]').count()) === 1, 60);
  const href = await page.getAttribute('.downloads a[href$="version=audio"]', 'href');
  const r = await fetch(base + href);
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-disposition'), /attachment; filename="clip - audio\.m4a"/);
  // The library's "ready" notice tells when.
  await page.goto(base + '/');
  assert.match(await page.textContent('.notices'), /Ready to play: clip — Sound only \(M4A\)/);
  await context.close();
});
