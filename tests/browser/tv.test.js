// pimedia in a real browser: Debian's Chromium, headless, driven by
// playwright-core. Run by tests/run.sh after `cargo test` has built the
// binary: node --test tests/browser/
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const { tvPage, SHOTS, ffmpeg, until, startPimedia, PATIENCE, launchChromium, closeAll } = require('./lib');

let dir, media, server, base, browser;

function clip(out, seconds, extra) {
  ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=25', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
    '-t', String(seconds), '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', ...extra, out]);
}

async function json(p) {
  const r = await fetch(base + p);
  return r.json();
}

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pimedia-browser-'));
  media = path.join(dir, 'media');
  fs.mkdirSync(path.join(media, 'Kids'), { recursive: true });
  fs.mkdirSync(SHOTS, { recursive: true });
  // An MKV with AC-3 audio and SRT subtitles: TVs can't play it until remuxed.
  const base_ = path.join(dir, 'base.mkv');
  clip(base_, 20, ['-c:a', 'ac3']);
  const srt = path.join(dir, 'talk.srt');
  fs.writeFileSync(srt, '1\n00:00:00,000 --> 00:00:19,000\nHello from the subtitles\n');
  ffmpeg(['-i', base_, '-i', srt, '-map', '0', '-map', '1', '-c:v', 'copy', '-c:a', 'copy', '-c:s', 'srt',
    '-metadata:s:s:0', 'language=eng', path.join(media, 'Talk.mkv')]);
  const names = ['Big Buck Bunny', 'Sintel', 'Tears of Steel', 'Elephants Dream', 'Cosmos Laundromat', 'Spring', 'Caminandes'];
  const mp4 = path.join(dir, 'tile.mp4');
  clip(mp4, 2, ['-c:a', 'aac', '-movflags', '+faststart']);
  for (const n of names) fs.copyFileSync(mp4, path.join(media, n + '.mp4'));
  fs.copyFileSync(mp4, path.join(media, 'Kids', 'Cartoon.mp4'));
  ({ server, base } = await startPimedia(media));
  await until('the remux of Talk.mkv', async () => (await json('/api/jobs')).some((j) => j.state === 'done'));
  await until('posters', async () => (await json('/api/videos')).every((v) => v.thumb));
  browser = await launchChromium();
});

after(() => closeAll({ browser, server, dir }));


test('the remote moves focus between tiles and opens the player', async () => {
  const { context, page, errors } = await tvPage(browser);
  await page.goto(base + '/');
  const focused = () => page.evaluate(() => {
    const el = document.activeElement;
    const r = el.getBoundingClientRect();
    const st = getComputedStyle(el);
    return { text: el.textContent.trim(), cls: el.className, x: r.left, y: r.top, outline: st.outlineStyle, width: parseFloat(st.outlineWidth) };
  });
  const first = await focused();
  assert.match(first.cls, /tile/, 'focus starts on the first tile');
  assert.equal(first.outline, 'solid');
  assert.ok(first.width >= 4, 'a thick focus ring: ' + first.width);
  await page.screenshot({ path: path.join(SHOTS, 'library.png') });
  await page.keyboard.press('ArrowRight');
  const second = await focused();
  assert.ok(second.x > first.x && Math.abs(second.y - first.y) < 5, 'right moves right');
  await page.keyboard.press('ArrowDown');
  const below = await focused();
  assert.ok(below.y > second.y, 'down moves down');
  await page.keyboard.press('ArrowUp');
  assert.equal((await focused()).text, second.text, 'up comes back');
  // Walk along the rows to the converted MKV's tile, then Enter.
  for (let i = 0; i < 20 && !(await focused()).text.startsWith('Talk'); i++) {
    const was = (await focused()).text;
    await page.keyboard.press('ArrowRight');
    if ((await focused()).text === was) {
      // The end of a row: down, then back to the row's start.
      await page.keyboard.press('ArrowDown');
      for (let k = 0; k < 6; k++) await page.keyboard.press('ArrowLeft');
    }
  }
  assert.ok((await focused()).text.startsWith('Talk'), 'reached the Talk tile');
  await page.keyboard.press('Enter');
  await page.waitForURL(/\/watch\/Talk\.mp4$/);
  assert.deepEqual(errors, []);
  await context.close();
});

test('a remuxed MKV with AC-3 plays with its subtitles, and resumes on another device', async () => {
  const { context, page, errors } = await tvPage(browser);
  await page.goto(base + '/watch/Talk.mp4');
  const video = page.locator('#player');
  await video.evaluate((v) => { if (v.paused) return v.play(); });
  // Past 5 s, so the pause below saves a position the next device resumes.
  await page.waitForFunction(() => document.getElementById('player').currentTime > 6, null, { timeout: 30000 * PATIENCE });
  const state = await video.evaluate((v) => ({
    error: v.error && v.error.code,
    tracks: v.textTracks.length,
    mode: v.textTracks[0] && v.textTracks[0].mode,
    cue: v.textTracks[0] && v.textTracks[0].cues && v.textTracks[0].cues.length ? v.textTracks[0].cues[0].text : null,
  }));
  assert.equal(state.error, null);
  assert.equal(state.tracks, 1);
  assert.equal(state.mode, 'showing');
  assert.equal(state.cue, 'Hello from the subtitles');
  await page.screenshot({ path: path.join(SHOTS, 'player.png') });
  // Enter pauses (webOS sends keys to the video); the pause saves the position.
  await video.focus();
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.getElementById('player').paused);
  const at = await video.evaluate((v) => v.currentTime);
  await until('the saved position', async () => (await json('/api/positions/Talk.mp4')).position > 5, 10);
  // Left seeks back 10 s.
  await page.keyboard.press('ArrowLeft');
  assert.ok((await video.evaluate((v) => v.currentTime)) < at - 1);
  await page.keyboard.press('ArrowRight');
  // The subtitles button turns them off.
  await page.click('#subtitles');
  assert.equal(await video.evaluate((v) => v.textTracks[0].mode), 'hidden');
  assert.deepEqual(errors, []);
  await context.close();

  // Another device: a new browser context starts where the first stopped.
  const saved = (await json('/api/positions/Talk.mp4')).position;
  const other = await tvPage(browser);
  await other.page.goto(base + '/watch/Talk.mp4');
  await other.page.waitForFunction((s) => document.getElementById('player').currentTime >= s - 1, saved, { timeout: 15000 * PATIENCE });
  assert.ok(await other.page.isVisible('#start-over'), 'a start-over choice');
  await other.page.goto(base + '/');
  assert.ok(await other.page.isVisible('.tile .seen'), 'the library marks it half-watched');
  assert.deepEqual(other.errors, []);
  await other.context.close();
});

test('with JavaScript off the library and the form upload work', async () => {
  const context = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 1920, height: 1080 } });
  const page = await context.newPage();
  await page.goto(base + '/');
  assert.ok((await page.locator('.tile').count()) >= 8);
  await page.goto(base + '/upload');
  const file = path.join(dir, 'nojs.mp4');
  clip(file, 1, ['-c:a', 'aac']);
  await page.setInputFiles('#file', file);
  await page.click('#upload-button');
  await page.waitForURL(/uploaded=1/);
  assert.ok((await page.textContent('body')).includes('1 file uploaded.'));
  assert.ok((await page.textContent('body')).includes('nojs'));
  await context.close();
});

test('on a phone the upload shows progress and the file appears in the library', async () => {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(base + '/upload');
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 390, 'fits the screen: ' + width);
  // Over 50 MB: the resumable (tus) path.
  const ts = path.join(dir, 'phone.ts');
  ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25', '-t', '1', '-c:v', 'libx264', '-preset', 'ultrafast', '-f', 'mpegts', ts]);
  const big = path.join(dir, 'Phone video.ts');
  fs.writeFileSync(big, Buffer.concat([fs.readFileSync(ts), Buffer.alloc(60 * 1024 * 1024, 7)]));
  await page.setInputFiles('#file', big);
  await page.click('#upload-button');
  await page.waitForSelector('#upload-list progress');
  await page.screenshot({ path: path.join(SHOTS, 'phone-upload.png') });
  await page.waitForFunction(() => {
    const s = document.querySelector('#upload-list .status');
    return s && s.textContent === 'done';
  }, null, { timeout: 60000 * PATIENCE });
  assert.equal(await page.evaluate(() => document.querySelector('#upload-list progress').value), 100);
  await page.screenshot({ path: path.join(SHOTS, 'phone-upload-done.png') });
  await page.goto(base + '/');
  assert.ok((await page.textContent('body')).includes('Phone video'));
  assert.deepEqual(errors, []);
  await context.close();
});

test('a connection dropped mid-upload resumes where the server left off, screen kept awake', async () => {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  // Count Wake Lock requests and releases (headless Chromium has no screen to keep on).
  await context.addInitScript(() => {
    window.wake = { asked: 0, released: 0 };
    if (navigator.wakeLock) {
      navigator.wakeLock.request = () => {
        window.wake.asked++;
        return Promise.resolve({ release: () => { window.wake.released++; return Promise.resolve(); } });
      };
    }
  });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  // The third chunk never arrives, as when a phone walks out of Wi-Fi range.
  let patches = 0;
  const seen = [];
  await page.route('**/uploads/**', (route) => {
    const req = route.request();
    seen.push(req.method());
    if (req.method() === 'PATCH' && ++patches === 3) return route.abort('connectionreset');
    return route.continue();
  });
  await page.goto(base + '/upload');
  const ts = path.join(dir, 'walk.ts');
  ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25', '-t', '1', '-c:v', 'libx264', '-preset', 'ultrafast', '-f', 'mpegts', ts]);
  const file = path.join(dir, 'Garden walk.ts');
  const bytes = Buffer.concat([fs.readFileSync(ts), Buffer.alloc(60 * 1024 * 1024, 3)]);
  fs.writeFileSync(file, bytes);
  await page.setInputFiles('#file', file);
  await page.click('#upload-button');
  await page.waitForFunction(() => {
    const s = document.querySelector('#upload-list .status');
    return s && /connection lost; retrying/.test(s.textContent);
  }, null, { timeout: 30000 * PATIENCE });
  await page.waitForFunction(() => {
    const s = document.querySelector('#upload-list .status');
    return s && s.textContent === 'done';
  }, null, { timeout: 60000 * PATIENCE });
  // After the drop the client asked the server where it stood, and went on from there.
  const after = seen.slice(seen.indexOf('PATCH') + 3);
  assert.equal(after[0], 'HEAD', seen.join(' '));
  const kept = fs.readFileSync(path.join(media, 'Garden walk.ts'));
  assert.equal(kept.length, bytes.length);
  assert.ok(kept.equals(bytes), 'the file on disk is the file sent');
  // No upload temp is left (the remux of what was uploaded may be running).
  const left = fs.readdirSync(media).filter((n) => n.startsWith('.pimedia-tus-') || n.startsWith('.pimedia-tmp-up-'));
  assert.deepEqual(left, []);
  assert.deepEqual(await page.evaluate(() => window.wake), { asked: 1, released: 1 });
  assert.deepEqual(errors, []);
  await context.close();
});
