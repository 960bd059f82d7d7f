// A subtitle file an old Windows PC saved (Windows-1252) beside an MP4:
// Chromium's player shows its accented words as they were written.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { mediaDir, smallMp4, until, startPimedia, launchChromium, closeAll } = require('./lib');

let dir, server, base, browser;

before(async () => {
  let media;
  ({ dir, media } = mediaDir('pimedia-subtitles-'));
  smallMp4(path.join(media, 'urlaub.mp4'));
  // "Das Mädchen sagt: «très bien»" in Windows-1252.
  const cue = Buffer.concat([
    Buffer.from('1\r\n00:00:00,000 --> 00:00:04,000\r\nDas M'), Buffer.from([0xe4]),
    Buffer.from('dchen sagt: '), Buffer.from([0xab]), Buffer.from('tr'), Buffer.from([0xe8]),
    Buffer.from('s bien'), Buffer.from([0xbb]), Buffer.from('\r\n'),
  ]);
  fs.writeFileSync(path.join(media, 'urlaub.de.srt'), cue);
  ({ server, base } = await startPimedia(media));
  browser = await launchChromium();
});

after(() => closeAll({ browser, server, dir }));

test('a Windows-1252 .srt beside an MP4 is a track whose cue reads right', async () => {
  const page = await browser.newPage();
  await page.goto(base + '/watch/urlaub.mp4');
  await until('the track and its cue', async () => page.evaluate(() => {
    const v = document.getElementById('player');
    const t = v && v.textTracks[0];
    if (!t) return false;
    if (t.mode === 'disabled') t.mode = 'hidden';
    return !!(t.cues && t.cues.length);
  }), 30);
  const text = await page.evaluate(() => document.getElementById('player').textTracks[0].cues[0].text);
  assert.equal(text, 'Das Mädchen sagt: «très bien»');
  await page.close();
});
