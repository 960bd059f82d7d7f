// The evening on the sofa in Chromium, with the remote's keys: the next
// episode after a countdown, subtitle languages by name, a text size one
// can read from 3 m, "Continue watching" in the remote's path, and a Play
// button where the browser won't start sound by itself.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { chromium } = require('playwright-core');
const { tvPage, CHROMIUM_ARGS, ffmpeg, until, startPimedia, launchChromium, closeAll } = require('./lib');

let dir, media, server, base, browser;

function clip(out, seconds) {
  ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=25', '-f', 'lavfi', '-i', 'sine=sample_rate=48000',
    '-t', String(seconds), '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac',
    '-movflags', '+faststart', out]);
}

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pimedia-evening-'));
  media = path.join(dir, 'media');
  fs.mkdirSync(path.join(media, 'Show'), { recursive: true });
  const short = path.join(dir, 'short.mp4');
  clip(short, 2);
  fs.copyFileSync(short, path.join(media, 'Show', 'show.s01e01.mp4'));
  fs.copyFileSync(short, path.join(media, 'Show', 'show.s01e02.the.end.mp4'));
  clip(path.join(media, 'film.mp4'), 20);
  const cue = (text) => 'WEBVTT\n\n00:00.000 --> 00:20.000\n' + text + '\n';
  fs.writeFileSync(path.join(media, 'film.en.vtt'), cue('Hello there'));
  fs.writeFileSync(path.join(media, 'film.de.vtt'), cue('Guten Abend'));
  // English, then German sound; a second film with the same two.
  fs.mkdirSync(path.join(media, 'Lang'));
  for (const n of ['talk', 'talk2']) {
    ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
      '-f', 'lavfi', '-i', 'sine=frequency=880:sample_rate=48000', '-t', '20', '-map', '0', '-map', '1', '-map', '2',
      '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac',
      '-metadata:s:a:0', 'language=eng', '-metadata:s:a:1', 'language=deu', '-movflags', '+faststart',
      path.join(media, 'Lang', n + '.mp4')]);
  }
  // An MKV, remuxed: its page links the original under the player.
  ffmpeg(['-i', short, '-c', 'copy', path.join(media, 'Home.Movie.2019.mkv')]);
  ({ server, base } = await startPimedia(media));
  await until('six videos probed, with posters', async () => {
    const v = await (await fetch(base + '/api/videos')).json();
    return v.length === 6 && v.every((x) => x.duration && x.thumb);
  });
  browser = await launchChromium();
});

after(() => closeAll({ browser, server, dir }));


test('the next episode is offered on screen and plays when its countdown ends', async () => {
  const { context, page, errors } = await tvPage(browser);
  await page.goto(base + '/watch/Show/show.s01e01.mp4');
  await until('the offer', async () => page.isVisible('#next-up'), 30);
  assert.equal((await page.textContent('#next-play')).trim(), 'Next: S1 · E2 — the end');
  // On screen without scrolling.
  const box = await page.locator('#next-up').boundingBox();
  assert.ok(box.y >= 0 && box.y + box.height <= 1080, JSON.stringify(box));
  // At the end the countdown runs, with the remote on the offer.
  await until('the countdown', async () => /in \d+ s/.test(await page.textContent('#next-count')), 30);
  assert.equal(await page.evaluate(() => document.activeElement.id), 'next-play');
  await page.waitForURL(/show\.s01e02\.the\.end\.mp4$/, { timeout: 40000 });
  assert.equal(await page.textContent('h1.title'), 'show S1 · E2 — the end');
  // The last episode offers nothing.
  assert.equal(await page.$('#next-up'), null);
  assert.deepEqual(errors, []);
  await context.close();
});

test('Back during the countdown cancels it and stays on the episode', async () => {
  const { context, page, errors } = await tvPage(browser);
  await page.goto(base + '/watch/Show/show.s01e01.mp4');
  await until('the countdown', async () => /in \d+ s/.test((await page.textContent('#next-count')) || ''), 30);
  await page.keyboard.press('Escape');
  await until('the offer gone', async () => !(await page.isVisible('#next-up')), 10);
  assert.equal(await page.getAttribute('#next-up', 'data-cancelled'), 'true');
  assert.match(page.url(), /show\.s01e01\.mp4$/);
  // Stop on the remote cancels too: start again and press it.
  await page.reload();
  await until('the countdown again', async () => /in \d+ s/.test((await page.textContent('#next-count')) || ''), 30);
  await page.evaluate(() => document.dispatchEvent(new KeyboardEvent('keydown', { keyCode: 413, bubbles: true })));
  await until('cancelled by Stop', async () => !(await page.isVisible('#next-up')), 10);
  assert.match(page.url(), /show\.s01e01\.mp4$/);
  assert.deepEqual(errors, []);
  await context.close();
});

test('subtitle languages are chosen by name with the remote, and remembered', async () => {
  const { context, page, errors } = await tvPage(browser);
  await page.goto(base + '/watch/film.mp4');
  const names = await page.$$eval('.sub-choice', (bs) => bs.map((b) => b.textContent.trim()));
  assert.deepEqual(names.sort(), ['Deutsch', 'English', 'Off'].sort());
  const showing = () => page.evaluate(() => {
    const v = document.getElementById('player');
    const out = [];
    for (let i = 0; i < v.textTracks.length; i++) if (v.textTracks[i].mode === 'showing') out.push(v.textTracks[i].language);
    return out;
  });
  // The remote: focus walks along the row of choices, Enter takes one.
  await page.focus('.sub-choice[data-track="0"]');
  const deutsch = await page.$('.sub-choice[data-lang="de"]');
  for (let i = 0; i < 3 && !(await deutsch.evaluate((b) => b === document.activeElement)); i++) {
    await page.keyboard.press('ArrowRight');
  }
  assert.ok(await deutsch.evaluate((b) => b === document.activeElement), 'the arrows reach Deutsch');
  await page.keyboard.press('Enter');
  await until('German showing', async () => JSON.stringify(await showing()) === '["de"]', 10);
  // Remembered on this device.
  await page.reload();
  await until('German again', async () => JSON.stringify(await showing()) === '["de"]', 10);
  assert.equal(await page.getAttribute('.sub-choice[data-lang="de"]', 'aria-pressed'), 'true');
  await page.click('.sub-choice[data-track="-1"]');
  await until('none showing', async () => (await showing()).length === 0, 10);
  assert.deepEqual(errors, []);
  await context.close();
});

test('another audio language plays from the same second, and the next film starts in it', async () => {
  const { context, page, errors } = await tvPage(browser);
  await page.goto(base + '/watch/Lang/talk.mp4');
  const names = await page.$$eval('.audio-choice', (bs) => bs.map((b) => b.textContent.trim()));
  assert.deepEqual(names, ['English', 'Deutsch']);
  await until('two seconds in', async () => page.evaluate(() => document.getElementById('player').currentTime > 2), 30);
  const before = await page.evaluate(() => document.getElementById('player').currentTime);
  // With the remote: focus on English, right to Deutsch, Enter.
  await page.focus('.audio-choice[data-lang="eng"]');
  await page.keyboard.press('ArrowRight');
  assert.equal(await page.evaluate(() => document.activeElement.getAttribute('data-lang')), 'deu');
  await page.keyboard.press('Enter');
  await until('the German version playing', async () => page.evaluate(() => {
    const v = document.getElementById('player');
    return /\/audio\/1\/Lang\/talk\.mp4$/.test(v.currentSrc) && !v.paused && v.readyState >= 2;
  }), 60);
  const after = await page.evaluate(() => document.getElementById('player').currentTime);
  assert.ok(after >= before - 0.5, 'continues at ' + after + ', left at ' + before);
  assert.equal(await page.isVisible('#cannot-play'), false);
  // The next film with the same languages starts in German on this device.
  await page.goto(base + '/watch/Lang/talk2.mp4');
  await until('talk2 in German', async () => page.evaluate(() =>
    /\/audio\/1\/Lang\/talk2\.mp4$/.test(document.getElementById('player').currentSrc)), 60);
  assert.equal(await page.getAttribute('.audio-choice[data-lang="deu"]', 'aria-pressed'), 'true');
  assert.deepEqual(errors, []);
  await context.close();
});

test('a subtitle size change shows on the picture and is remembered', async () => {
  const { context, page } = await tvPage(browser);
  await page.goto(base + '/watch/film.mp4');
  await until('a cue on screen', async () => page.evaluate(() => {
    const v = document.getElementById('player');
    const t = v.textTracks[0];
    return t && t.mode === 'showing' && t.activeCues && t.activeCues.length > 0 && v.currentTime > 0.5;
  }), 30);
  await page.evaluate(() => { const v = document.getElementById('player'); v.pause(); v.currentTime = 1; });
  await until('paused at 1 s', async () => page.evaluate(() => {
    const v = document.getElementById('player');
    return v.paused && !v.seeking && v.readyState >= 2;
  }), 10);
  const shot = () => page.locator('#player').screenshot();
  const normal = await shot();
  assert.equal(await page.textContent('#sub-size'), 'Text: normal');
  // Bigger first: from the sofa that is the one people want.
  await page.click('#sub-size');
  assert.equal(await page.textContent('#sub-size'), 'Text: large');
  assert.match(await page.getAttribute('#player', 'class'), /subs-large/);
  await until('the larger cue drawn', async () => !(await shot()).equals(normal), 10);
  await page.reload();
  assert.equal(await page.textContent('#sub-size'), 'Text: large');
  await context.close();
});

test('Continue watching is the first row and the remote goes there and back', async () => {
  const r = await fetch(base + '/api/positions/film.mp4', {
    method: 'PUT', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ position: 8, duration: 20 }),
  });
  assert.ok(r.ok);
  const { context, page, errors } = await tvPage(browser);
  await page.goto(base + '/');
  assert.equal(await page.textContent('.continuing h2'), 'Continue watching');
  const inRow = () => page.evaluate(() => !!document.activeElement.closest('.continuing'));
  assert.ok(await inRow(), 'the first focus is in Continue watching');
  assert.equal(await page.evaluate(() => document.activeElement.getAttribute('href')), '/watch/film.mp4');
  await page.keyboard.press('ArrowDown');
  assert.ok(!(await inRow()), 'down leaves the row for the library');
  await page.keyboard.press('ArrowUp');
  assert.ok(await inRow(), 'up comes back');
  const bar = await page.$eval('.continuing .seen span', (s) => s.style.width);
  assert.equal(bar, '40%');
  // Folders show their videos' posters; titles read as people write them.
  // (Show has two episodes: a mosaic of their two posters.)
  const faces = await page.$$eval('a.tile.folder[href="/?dir=Show"] .poster span',
    (ps) => ps.map((p) => getComputedStyle(p).backgroundImage));
  assert.equal(faces.length, 2);
  for (const f of faces) assert.match(f, /\/thumbs\/[0-9a-f]{16}\.jpg/);
  assert.ok((await page.textContent('main')).includes('Home Movie (2019)'));
  assert.deepEqual(errors, []);
  await context.close();
});

test('where autoplay is refused, a tap on Play starts the video without an error', async () => {
  // Chromium as it ships: sound waits for a gesture, as WebKit's does.
  const strict = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: CHROMIUM_ARGS.filter((a) => !a.startsWith('--autoplay-policy'))
      .concat(['--autoplay-policy=document-user-activation-required']),
  });
  try {
    const { page, errors } = await tvPage(strict);
    await page.addInitScript(() => {
      window.__seen = [];
      document.addEventListener('play', () => window.__seen.push('play'), true);
      document.addEventListener('playing', () => window.__seen.push('playing'), true);
    });
    await page.goto(base + '/watch/film.mp4');
    await until('the Play button', async () => page.isVisible('#tap-to-play'), 20);
    const before = await page.evaluate(() => ({ paused: document.getElementById('player').paused, seen: window.__seen }));
    assert.equal(before.paused, true, JSON.stringify(before));
    assert.equal(await page.isVisible('#cannot-play'), false, 'no error is shown');
    await page.click('#tap-to-play');
    await until('playing', async () => page.evaluate(() => {
      const v = document.getElementById('player');
      return !v.paused && v.currentTime > 0.2;
    }), 20);
    assert.equal(await page.isVisible('#tap-to-play'), false);
    assert.deepEqual(errors, []);
  } finally {
    await strict.close();
  }
});

test('on a 390 px phone no page scrolls sideways', async () => {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  const page = await context.newPage();
  for (const p of ['/', '/watch/film.mp4', '/watch/Show/show.s01e01.mp4', '/watch/Lang/talk.mp4',
    '/watch/Home.Movie.2019.mp4', '/upload', '/phone', '/jobs', '/devices', '/trash', '/helpers', '/?dir=Show']) {
    await page.goto(base + p);
    const wide = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(wide <= 390, p + ' is ' + wide + ' px wide');
  }
  // The original's link keeps off the screen's edge.
  await page.goto(base + '/watch/Home.Movie.2019.mp4');
  const link = await page.locator('.original').boundingBox();
  assert.ok(link && link.x >= 8 && link.x + link.width <= 390 - 8, JSON.stringify(link));
  await context.close();
});
