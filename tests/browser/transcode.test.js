// What a remux can't fix is transcoded, and the result plays in Debian's
// Chromium: every fixture of tests/transcode.rs, made again here, played
// through pimedia's own player page.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { ffmpeg, until, startPimedia, launchChromium, closeAll } = require('./lib');

let dir, media, server, base, browser;
const SRC = ['-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000', '-t', '3'];
const X265 = ['-c:v', 'libx265', '-preset', 'ultrafast', '-x265-params', 'log-level=error'];
const FAST = ['-movflags', '+faststart'];

// source -> [options, the playable version, its shown size]
const CASES = {
  'hlg.mp4': [[...X265, '-pix_fmt', 'yuv420p10le', '-color_primaries', 'bt2020', '-color_trc', 'arib-std-b67', '-colorspace', 'bt2020nc', '-c:a', 'aac', ...FAST], 'hlg.tv.mp4', [320, 240]],
  'android.mp4': [[...X265, '-c:a', 'aac', ...FAST], 'android.tv.mp4', [320, 240]],
  'anime.mkv': [['-c:v', 'libx264', '-pix_fmt', 'yuv420p10le', '-c:a', 'aac'], 'anime.mp4', [320, 240]],
  'screen.mp4': [['-c:v', 'libx264', '-pix_fmt', 'yuv444p', '-c:a', 'aac', ...FAST], 'screen.tv.mp4', [320, 240]],
  'divx.mp4': [['-c:v', 'mpeg4', '-c:a', 'mp3'], 'divx.tv.mp4', [320, 240]],
  'old.wmv': [['-c:v', 'wmv2', '-c:a', 'wmav2'], 'old.mp4', [320, 240]],
  'tape.mpg': [['-c:v', 'mpeg2video', '-c:a', 'mp2'], 'tape.mp4', [320, 240]],
  'ac3.mp4': [['-c:v', 'libx264', '-c:a', 'ac3', ...FAST], 'ac3.tv.mp4', [320, 240]],
  'IMG_0042.MOV': [null, 'IMG_0042.mp4', [240, 320]],
  'uhd.mkv': [null, 'uhd.mp4', [1920, 1080]],
};

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pimedia-transcode-'));
  media = path.join(dir, 'media');
  fs.mkdirSync(media);
  for (const [name, [opts]] of Object.entries(CASES)) {
    if (opts) ffmpeg([...SRC, ...opts, path.join(media, name)]);
  }
  // The iPhone's portrait HEVC clip: the turn is written when copying.
  const flat = path.join(dir, 'flat.mov');
  ffmpeg([...SRC, ...X265, '-tag:v', 'hvc1', '-c:a', 'aac', flat]);
  ffmpeg(['-i', flat, '-c', 'copy', '-metadata:s:v:0', 'rotate=90', path.join(media, 'IMG_0042.MOV')]);
  // 4K HEVC, two seconds at 5 frames/s: scaled down to 1080p.
  ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=3840x2160:rate=5', '-f', 'lavfi', '-i', 'sine', '-t', '2', ...X265, '-c:a', 'aac',
    path.join(media, 'uhd.mkv')]);
  ({ server, base } = await startPimedia(media));
  await until('every conversion', async () => {
    const jobs = await (await fetch(base + '/api/jobs')).json();
    return jobs.length === Object.keys(CASES).length && jobs.every((j) => j.state === 'done');
  }, 120);
  browser = await launchChromium();
});

after(() => closeAll({ browser, server, dir }));

test('every playable version plays in Chromium, upright, from the player page', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
  for (const [source, [, output, [w, h]]] of Object.entries(CASES)) {
    const page = await context.newPage();
    await page.goto(base + '/watch/' + encodeURIComponent(output));
    const played = await page.evaluate(() => new Promise((resolve) => {
      const v = document.getElementById('player');
      const done = () => resolve({ error: v.error && v.error.code, w: v.videoWidth, h: v.videoHeight, t: v.currentTime, src: v.currentSrc });
      v.addEventListener('error', done, true);
      v.addEventListener('timeupdate', () => { if (v.currentTime > 0.5) done(); });
      v.muted = true;
      v.play().catch(() => {});
      setTimeout(done, 10000);
    }));
    assert.equal(played.error, null, source + ': ' + JSON.stringify(played));
    assert.ok(played.t > 0.5, source + ' played: ' + JSON.stringify(played));
    assert.deepEqual([played.w, played.h], [w, h], source + ' shown ' + w + 'x' + h);
    // The original is one link away, and the source itself is not listed.
    assert.ok((await page.textContent('.original')).includes(source), source);
    await page.close();
  }
  const listed = (await (await fetch(base + '/api/videos')).json()).map((v) => v.path).sort();
  assert.deepEqual(listed, Object.values(CASES).map((c) => c[1]).sort());
  await context.close();
});
