// Tidying the library from a phone in Debian's Chromium: rename and move,
// delete to the trash and restore, a new folder and an upload into it, the
// password; and on the TV, the remote never reaches any of it.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { SHOTS, ffmpeg, startPimedia, stopPimedia, until, PATIENCE, launchChromium, closeAll } = require('./lib');

let dir, clip, browser;
const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true };

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pimedia-manage-'));
  fs.mkdirSync(SHOTS, { recursive: true });
  clip = path.join(dir, 'clip.mp4');
  ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=10', '-f', 'lavfi', '-i', 'sine', '-t', '20',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-movflags', '+faststart', clip]);
  browser = await launchChromium();
});

after(() => closeAll({ browser, dir }));

async function library(base) {
  return (await (await fetch(base + '/api/videos')).json()).map((v) => v.path).sort();
}

async function serve(name, args = []) {
  const media = path.join(dir, name);
  fs.mkdirSync(media);
  fs.copyFileSync(clip, path.join(media, 'IMG_0042.mp4'));
  const started = await startPimedia(media, args);
  await until('the clip', async () => (await library(started.base)).length === 1);
  return { media, ...started };
}

test('on a phone: rename and move, delete, restore, a new folder and an upload into it', async () => {
  const { media, server, base } = await serve('phone');
  try {
    await fetch(base + '/api/positions/IMG_0042.mp4', { method: 'PUT', body: JSON.stringify({ position: 7, duration: 20 }) });
    const context = await browser.newContext(PHONE);
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));

    // Rename and move from the video's page: plain buttons, no hover.
    await page.goto(base + '/watch/IMG_0042.mp4');
    assert.equal(await page.inputValue('#rename-to'), 'IMG_0042');
    await page.fill('#rename-to', 'Summer/Birthday cake');
    await Promise.all([page.waitForURL(/\/watch\/Summer\/Birthday%20cake\.mp4$/), page.tap('text=Rename or move')]);
    assert.equal(await page.textContent('.controls .title'), 'Birthday cake');
    const resume = parseFloat(await page.getAttribute('#player', 'data-resume'));
    assert.ok(resume >= 7 && resume < 9, 'resume followed the rename: ' + resume);
    assert.ok(fs.existsSync(path.join(media, 'Summer', 'Birthday cake.mp4')));
    await page.screenshot({ path: path.join(SHOTS, 'phone-manage.png'), fullPage: true });

    // Delete asks once: the button shows only after "Delete…".
    assert.equal(await page.isVisible('#delete-confirm'), false);
    await page.tap('summary:has-text("Delete")');
    await Promise.all([page.waitForURL(base + '/?dir=Summer'), page.tap('#delete-confirm')]);
    assert.equal(await page.locator('.tile.video').count(), 0);
    assert.deepEqual(await library(base), []);
    assert.equal(fs.existsSync(path.join(media, 'Summer', 'Birthday cake.mp4')), false);

    // The trash page restores it where it was.
    await page.goto(base + '/trash');
    assert.match(await page.textContent('#trash-list'), /Birthday cake/);
    await page.tap('text=Restore');
    await page.waitForSelector('text=The trash is empty');
    assert.deepEqual(await library(base), ['Summer/Birthday cake.mp4']);

    // A new folder from the library page, then an upload straight into it.
    await page.goto(base + '/');
    await page.fill('#new-folder', 'Trips');
    await Promise.all([page.waitForURL(base + '/?dir=Trips'), page.tap('text=Make it')]);
    assert.ok(fs.statSync(path.join(media, 'Trips')).isDirectory());
    await Promise.all([page.waitForURL(base + '/upload?folder=Trips'), page.tap('text=Upload into Trips')]);
    assert.equal(await page.inputValue('#folder'), 'Trips');
    const upload = path.join(dir, 'Beach.mp4');
    fs.copyFileSync(clip, upload);
    await page.setInputFiles('#file', upload);
    await page.tap('#upload-button');
    await page.waitForSelector('#upload-done:not([hidden])', { timeout: 30000 * PATIENCE });
    await page.goto(base + '/?dir=Trips');
    assert.match(await page.textContent('.tiles'), /Beach/);
    assert.deepEqual(errors, []);
    await context.close();
  } finally {
    await stopPimedia(server);
  }
});

test('with a password, the phone asks for it once, then manages', async () => {
  const { media, server, base } = await serve('locked', ['--upload-password', 'sofa']);
  try {
    const context = await browser.newContext(PHONE);
    const page = await context.newPage();
    await page.goto(base + '/watch/IMG_0042.mp4');
    assert.equal(await page.isVisible('#rename-to'), false);
    await page.fill('.manage input[name=password]', 'sofa');
    await Promise.all([page.waitForURL(base + '/watch/IMG_0042.mp4'), page.tap('.manage button:has-text("Continue")')]);
    await page.fill('#rename-to', 'Cake');
    await Promise.all([page.waitForURL(/\/watch\/Cake\.mp4$/), page.tap('text=Rename or move')]);
    assert.ok(fs.existsSync(path.join(media, 'Cake.mp4')));
    await context.close();
  } finally {
    await stopPimedia(server);
  }
});

test("on the TV the remote never reaches delete or rename", async () => {
  const { server, base } = await serve('tv');
  try {
    const context = await browser.newContext({ viewport: { width: 1920, height: 1080 } });
    const page = await context.newPage();
    await page.goto(base + '/watch/IMG_0042.mp4');
    const reached = new Set();
    for (const key of ['ArrowDown', 'ArrowDown', 'ArrowDown', 'ArrowRight', 'ArrowRight', 'ArrowDown', 'ArrowDown', 'ArrowRight', 'ArrowRight', 'ArrowDown']) {
      await page.keyboard.press(key);
      reached.add(await page.evaluate(() => {
        const el = document.activeElement;
        return (el.closest('.manage') ? 'MANAGE ' : '') + el.tagName + '#' + (el.id || el.textContent.trim());
      }));
    }
    assert.ok([...reached].some((r) => r.includes('fullscreen')), [...reached].join(', '));
    assert.ok(![...reached].some((r) => r.startsWith('MANAGE')), [...reached].join(', '));
    // And on the library page, the folder form is out of its path too.
    await page.goto(base + '/');
    for (let i = 0; i < 6; i++) await page.keyboard.press('ArrowDown');
    assert.equal(await page.evaluate(() => !!document.activeElement.closest('.manage')), false);
    await context.close();
  } finally {
    await stopPimedia(server);
  }
});
