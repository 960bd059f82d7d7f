// Shared by the browser tests: the binary, Chromium's flags, a free port,
// ffmpeg, polling, and pimedia started on a media dir.
'use strict';
const { spawn, execFileSync } = require('node:child_process');
const path = require('node:path');
const net = require('node:net');
const fs = require('node:fs');
const os = require('node:os');

const ROOT = path.join(__dirname, '..', '..');
const BIN = process.env.PIMEDIA_BIN || path.join(ROOT, 'target', 'debug', 'pimedia');
const SHOTS = path.join(ROOT, 'target', 'screenshots');
const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic',
  // TV browsers start videos they are asked to; headless Chromium would wait for a click.
  '--autoplay-policy=no-user-gesture-required',
];

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
  });
}

function ffmpeg(args) {
  execFileSync('ffmpeg', ['-v', 'error', '-y', ...args]);
}

// A wait ends when its condition holds; on a busy machine it may take
// this many times longer before it fails (as tests/common's patience()).
const PATIENCE = Math.max(1, Number(process.env.PIMEDIA_TEST_PATIENCE) || 4);

async function until(what, fn, secs = 60) {
  const end = Date.now() + secs * PATIENCE * 1000;
  while (Date.now() < end) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('timed out waiting for ' + what);
}

// A fresh temp dir (`prefix`) with an empty media folder in it.
function mediaDir(prefix) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const media = path.join(dir, 'media');
  fs.mkdirSync(media);
  return { dir, media };
}

// A 5 s 320×240 H.264 + AAC MP4 with its index first, as TVs play it.
function smallMp4(out) {
  ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=10', '-f', 'lavfi', '-i', 'sine', '-t', '5',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-movflags', '+faststart', out]);
}

// pimedia on `media` with extra arguments; resolves to { server, base } once healthy.
async function startPimedia(media, args = []) {
  const port = await freePort();
  const base = 'http://127.0.0.1:' + port;
  const server = spawn(BIN, ['--media-dir', media, '--listen', '127.0.0.1:' + port, ...args], { stdio: 'ignore' });
  await until('the server', async () => { try { return (await fetch(base + '/healthz')).ok; } catch (e) { return false; } });
  return { server, base };
}

async function stopPimedia(server) {
  const exited = new Promise((r) => server.once('exit', r));
  server.kill('SIGTERM');
  await exited;
}

// Debian's Chromium, as the browser tests drive it.
function launchChromium() {
  return require('playwright-core').chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
}

// What a test file started, stopped: the browser first, then the server,
// then its folder.
async function closeAll({ browser, server, dir }) {
  if (browser) await browser.close();
  if (server) await stopPimedia(server);
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
}

// A page in a 1920×1080 TV window, with the script errors it throws.
async function tvPage(browser) {
  const context = await browser.newContext({ viewport: { width: 1920, height: 1080 } });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  return { context, page, errors };
}

module.exports = { mediaDir, smallMp4, tvPage, launchChromium, closeAll, ROOT, BIN, SHOTS, CHROMIUM_ARGS, PATIENCE, freePort, ffmpeg, until, startPimedia, stopPimedia };
