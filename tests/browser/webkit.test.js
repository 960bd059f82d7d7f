// A smoke test in WebKit, the engine of every iPhone: Debian's WebKitGTK
// driven through its WebDriver (WebKitWebDriver, under xvfb-run) by
// selenium-webdriver, with GStreamer's libav and good plugins playing the
// video. The library, the player playing after a tap, Quality moving to a
// smaller version from the same second, an upload from the
// phone's upload page, and "Who's watching?" with a PIN. tests/run.sh installs webkit2gtk-driver, xvfb and
// the GStreamer plugins; without them the test says so and skips.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn, execFileSync } = require('node:child_process');
const { Builder, By } = require('selenium-webdriver');
const { SHOTS, ffmpeg, freePort, until, startPimedia, stopPimedia } = require('./lib');

const MINIBROWSER = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu']
  .map((d) => path.join(d, 'webkit2gtk-4.1', 'MiniBrowser'))
  .find((p) => fs.existsSync(p));

function missing() {
  const has = (cmd) => { try { execFileSync('sh', ['-c', 'command -v ' + cmd]); return true; } catch (e) { return false; } };
  if (!has('WebKitWebDriver')) return 'WebKitWebDriver (webkit2gtk-driver) is not installed';
  if (!has('xvfb-run')) return 'xvfb-run (xvfb) is not installed';
  if (!MINIBROWSER) return "WebKitGTK's MiniBrowser is not installed";
  return null;
}
const skip = missing() || false;

let dir, media, server, base, driverProc, driver;

before(async () => {
  if (skip) return;
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pimedia-webkit-'));
  media = path.join(dir, 'media');
  fs.mkdirSync(media);
  ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=25', '-f', 'lavfi', '-i', 'sine=sample_rate=48000', '-t', '20',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-profile:v', 'main', '-c:a', 'aac',
    '-movflags', '+faststart', path.join(media, 'The.Holiday.2006.1080p.BluRay.x264-GRP.mp4')]);
  ({ server, base } = await startPimedia(media));
  const port = await freePort();
  // The driver starts the browser: both under one X server of their own.
  driverProc = spawn('xvfb-run', ['-a', '-s', '-screen 0 1280x1024x24', 'WebKitWebDriver', '--port=' + port],
    { stdio: 'ignore', detached: true });
  const at = 'http://127.0.0.1:' + port;
  await until('WebKitWebDriver', async () => {
    try { return (await (await fetch(at + '/status')).json()).value.ready; } catch (e) { return false; }
  }, 30);
  driver = await new Builder().usingServer(at).withCapabilities({
    browserName: 'MiniBrowser',
    // As on an iPhone: sound starts only from a tap.
    'webkitgtk:browserOptions': {
      binary: MINIBROWSER,
      args: ['--automation', '--media-playback-requires-user-gesture=true'],
    },
  }).build();
  // A phone's width, as an iPhone's.
  await driver.manage().window().setRect({ width: 390, height: 844 });
});

after(async () => {
  if (driver) await driver.quit().catch(() => {});
  if (driverProc) { try { process.kill(-driverProc.pid, 'SIGTERM'); } catch (e) { /* gone */ } }
  if (server) await stopPimedia(server);
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

test('WebKit: the library lists the film under the title people read', { skip }, async () => {
  await driver.get(base + '/');
  const texts = await driver.executeScript(
    "return Array.prototype.map.call(document.querySelectorAll('.tile.video .name'), function (n) { return n.textContent; })");
  assert.deepEqual(texts, ['The Holiday (2006)']);
  const shot = await driver.takeScreenshot();
  fs.mkdirSync(SHOTS, { recursive: true });
  fs.writeFileSync(path.join(SHOTS, 'webkit-library.png'), Buffer.from(shot, 'base64'));
  // No page scrolls sideways (MiniBrowser keeps its window a little wider
  // than 390 px; Chromium's test checks 390 itself).
  for (const p of ['/', '/watch/The.Holiday.2006.1080p.BluRay.x264-GRP.mp4', '/upload', '/phone', '/jobs',
    '/devices', '/trash', '/helpers']) {
    await driver.get(base + p);
    const [wide, view] = await driver.executeScript(
      'return [document.documentElement.scrollWidth, window.innerWidth]');
    assert.ok(view < 500, 'a phone-sized window: ' + view);
    assert.ok(wide <= view, p + ' is ' + wide + ' px wide in ' + view);
  }
});

test('WebKit: the player plays after a tap, as sound waits for one', { skip }, async () => {
  await driver.get(base + '/watch/The.Holiday.2006.1080p.BluRay.x264-GRP.mp4');
  const state = () => driver.executeScript(`
    const v = document.getElementById('player');
    const t = document.getElementById('tap-to-play');
    return { paused: v.paused, time: v.currentTime, tap: !!t && !t.hidden, error: v.error && v.error.code,
             cannot: !document.getElementById('cannot-play').hidden };`);
  // WebKit refused to start it: the page offers the Play button, no error.
  await until('the Play button', async () => (await state()).tap, 30);
  const asked = await state();
  assert.equal(asked.paused, true);
  assert.equal(asked.cannot, false);
  await driver.findElement(By.id('tap-to-play')).click();
  await until('the video playing', async () => {
    const s = await state();
    return !s.paused && s.time > 0.5;
  }, 30);
  const s = await state();
  assert.equal(s.error, null);
  assert.equal(s.cannot, false, 'no "cannot play" notice');
});

test('WebKit: a video uploaded from the upload page is listed', { skip }, async () => {
  const clip = path.join(dir, 'from-the-phone.mp4');
  ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25', '-f', 'lavfi', '-i', 'sine', '-t', '1',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-movflags', '+faststart', clip]);
  await driver.get(base + '/upload');
  await driver.findElement(By.id('file')).sendKeys(clip);
  await driver.findElement(By.id('upload-button')).click();
  await until('the upload in the library', async () => {
    const videos = await (await fetch(base + '/api/videos')).json();
    return videos.some((v) => v.path === 'from-the-phone.mp4');
  }, 60);
  assert.deepEqual(fs.readFileSync(path.join(media, 'from-the-phone.mp4')), fs.readFileSync(clip));
  // No temp file left beside it (the state dir is pimedia's own).
  assert.deepEqual(fs.readdirSync(media).filter((f) => f.startsWith('.') && f !== '.pimedia'), []);
});

test('WebKit: Quality moves to a smaller version from the same second', { skip }, async () => {
  // A 720p film with a 480p version made on request.
  ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=25', '-f', 'lavfi', '-i', 'sine=sample_rate=48000', '-t', '30',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-b:v', '4M', '-pix_fmt', 'yuv420p', '-profile:v', 'main', '-c:a', 'aac',
    '-movflags', '+faststart', path.join(dir, 'far.mp4')]);
  fs.renameSync(path.join(dir, 'far.mp4'), path.join(media, 'far.mp4'));
  await until('the film listed', async () => {
    const videos = await (await fetch(base + '/api/videos')).json();
    return videos.some((v) => v.path === 'far.mp4' && v.state === 'ready');
  }, 60);
  const made = await fetch(base + '/api/videos/far.mp4/versions', {
    method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ name: '480p' }),
  });
  assert.equal(made.status, 201);
  await until('the 480p version', async () => {
    const v = (await (await fetch(base + '/api/videos')).json()).find((x) => x.path === 'far.mp4');
    return v.versions.some((x) => x.name === '480p' && x.state === 'ready');
  }, 120);
  await driver.get(base + '/watch/far.mp4');
  const state = () => driver.executeScript(`
    const v = document.getElementById('player');
    const t = document.getElementById('tap-to-play');
    return { paused: v.paused, time: v.currentTime, src: v.currentSrc, tap: !!t && !t.hidden,
             cannot: !document.getElementById('cannot-play').hidden };`);
  await until('the Play button', async () => (await state()).tap, 30);
  await driver.findElement(By.id('tap-to-play')).click();
  await until('two seconds in', async () => (await state()).time > 2, 30);
  const before = (await state()).time;
  await driver.findElement(By.css('.quality-choice[data-quality="480p"]')).click();
  await until('the 480p version playing on', async () => {
    const s = await state();
    return /version=480p/.test(s.src) && !s.paused && s.time > before;
  }, 30);
  const s = await state();
  assert.equal(s.cannot, false);
  assert.equal(await driver.executeScript(
    "return document.querySelector('.quality-choice[data-quality=\"480p\"]').getAttribute('aria-pressed')"), 'true');
});

// Last: with two profiles every page asks who is watching first.
test("WebKit: Who's watching? is a tap, and a PIN profile asks for its PIN", { skip }, async () => {
  const make = async (body) => {
    const r = await fetch(base + '/api/profiles', {
      method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(body),
    });
    assert.equal(r.status, 201);
    return (await r.json()).id;
  };
  const ids = [await make({ name: 'Anna' }), await make({ name: 'Kids', pin: '2468' })];
  const header = () => driver.executeScript("return document.querySelector('header').textContent");
  await driver.get(base + '/');
  assert.match(await driver.getCurrentUrl(), /\/profiles$/);
  await driver.findElement(By.xpath("//button[normalize-space()='Anna']")).click();
  await until('the library as Anna', async () => (await header()).includes('Anna · Switch'), 30);
  await driver.get(base + '/profiles');
  await driver.findElement(By.css('input[name="pin"]')).sendKeys('2468');
  await driver.findElement(By.xpath("//button[normalize-space()='Kids']")).click();
  await until('the library as Kids', async () => (await header()).includes('Kids · Switch'), 30);
  for (const id of ids) {
    const r = await fetch(base + '/api/profiles/' + id + '/remove', { method: 'POST', headers: { accept: 'application/json' } });
    assert.equal(r.status, 200);
  }
});
