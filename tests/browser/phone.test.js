// The QR code on the TV: reached with the remote, screenshotted at 1080p in
// Debian's Chromium, read by a real decoder (zbar's zbarimg) into a URL
// that opens the upload page; with a host name, the URL carries an IP.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { chromium } = require('playwright-core');
const { SHOTS, CHROMIUM_ARGS, ffmpeg, startPimedia, stopPimedia } = require('./lib');

let dir, server, base, port;

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pimedia-phone-'));
  const media = path.join(dir, 'media');
  fs.mkdirSync(media);
  fs.mkdirSync(SHOTS, { recursive: true });
  ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=10', '-t', '1', '-c:v', 'libx264', '-pix_fmt', 'yuv420p',
    '-movflags', '+faststart', path.join(media, 'clip.mp4')]);
  ({ server, base } = await startPimedia(media));
  port = new URL(base).port;
});

after(async () => {
  if (server) await stopPimedia(server);
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

// What zbarimg reads in a screenshot of the page.
async function decode(page, name) {
  const shot = path.join(SHOTS, name);
  await page.screenshot({ path: shot });
  return execFileSync('zbarimg', ['--raw', '-q', shot], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
}

test('the remote opens the QR tile, and the code opens the upload page', async () => {
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  try {
    const page = await (await browser.newContext({ viewport: { width: 1920, height: 1080 } })).newPage();
    await page.goto(base + '/');
    for (let i = 0; i < 12 && (await page.evaluate(() => document.activeElement.id)) !== 'phone-tile'; i++) {
      await page.keyboard.press('ArrowRight');
    }
    assert.equal(await page.evaluate(() => document.activeElement.id), 'phone-tile');
    await Promise.all([page.waitForURL(base + '/phone'), page.keyboard.press('Enter')]);
    const url = await decode(page, 'phone-qr.png');
    assert.equal(url, base + '/upload');
    assert.equal(await page.textContent('#qr-url'), url, 'the address in letters too');
    const r = await fetch(url);
    assert.equal(r.status, 200);
    assert.match(await r.text(), /Upload videos/);
  } finally {
    await browser.close();
  }
});

test('reached by a host name, the code carries an IP address and the port', async () => {
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [...CHROMIUM_ARGS, '--host-resolver-rules=MAP raspberrypi.local 127.0.0.1'],
  });
  try {
    const page = await (await browser.newContext({ viewport: { width: 1920, height: 1080 } })).newPage();
    await page.goto('http://raspberrypi.local:' + port + '/phone');
    const url = new URL(await decode(page, 'phone-qr-by-name.png'));
    assert.match(url.hostname, /^\d+\.\d+\.\d+\.\d+$/, 'an IPv4 address: ' + url);
    assert.notEqual(url.hostname, '127.0.0.1');
    assert.equal(url.port, port);
    assert.equal(url.pathname, '/upload');
  } finally {
    await browser.close();
  }
});
