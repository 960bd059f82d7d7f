// "Who's watching?" on a TV: Debian's Chromium in a 1920×1080 window,
// driven only by the remote's keys. Two profiles: the chooser comes first,
// the arrows and Enter pick one, and a subtitle size and language chosen
// by one are not the other's.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { chromium } = require('playwright-core');
const { mediaDir, smallMp4, tvPage, CHROMIUM_ARGS, until, startPimedia, stopPimedia } = require('./lib');

let dir, server, base, browser;

async function make(body) {
  const r = await fetch(base + '/api/profiles', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify(body),
  });
  assert.equal(r.status, 201);
}

before(async () => {
  let media;
  ({ dir, media } = mediaDir('pimedia-profiles-'));
  smallMp4(path.join(media, 'film.mp4'));
  fs.writeFileSync(path.join(media, 'film.en.vtt'), 'WEBVTT\n\n00:00:00.000 --> 00:00:04.000\nHello\n');
  fs.writeFileSync(path.join(media, 'film.de.vtt'), 'WEBVTT\n\n00:00:00.000 --> 00:00:04.000\nHallo\n');
  ({ server, base } = await startPimedia(media));
  await make({ name: 'Anna' });
  await make({ name: 'Ben' });
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
});

after(async () => {
  if (browser) await browser.close();
  if (server) await stopPimedia(server);
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

// From the chooser, with the remote only: the arrows to `name`, then Enter.
async function pick(page, name) {
  assert.match(page.url(), /\/profiles$/);
  for (let i = 0; i < 6; i++) {
    const focused = await page.evaluate(() => document.activeElement && document.activeElement.textContent.trim());
    if (focused === name) break;
    await page.keyboard.press(i < 3 ? 'ArrowRight' : 'ArrowLeft');
  }
  const focused = await page.evaluate(() => document.activeElement.textContent.trim());
  assert.equal(focused, name);
  await Promise.all([page.waitForURL(base + '/'), page.keyboard.press('Enter')]);
  assert.ok((await page.textContent('header')).includes(name + ' · Switch'));
}

// The subtitle size and language the player starts with.
async function choices(page) {
  await page.goto(base + '/watch/film.mp4');
  await until('the size button', async () => (await page.$('#sub-size')) !== null, 30);
  return {
    size: await page.getAttribute('#sub-size', 'data-size'),
    language: await page.getAttribute('.sub-choice[aria-pressed="true"]', 'data-lang'),
  };
}

test('the chooser comes first, the remote picks, and each keeps their own subtitle size and language', async () => {
  const { context, page, errors } = await tvPage(browser);
  await page.goto(base + '/');
  assert.match(page.url(), /\/profiles$/);
  assert.equal(await page.textContent('h1'), "Who's watching?");
  await pick(page, 'Ben');
  assert.deepEqual(await choices(page), { size: 'normal', language: 'de' });
  await page.click('#sub-size');
  await page.click('.sub-choice[data-lang="en"]');
  assert.equal(await page.getAttribute('#sub-size', 'data-size'), 'large');

  // Switch to Anna from the header: her choices are her own.
  await page.goto(base + '/profiles');
  await pick(page, 'Anna');
  assert.deepEqual(await choices(page), { size: 'normal', language: 'de' });
  // And Ben's are still his.
  await page.goto(base + '/profiles');
  await pick(page, 'Ben');
  assert.deepEqual(await choices(page), { size: 'large', language: 'en' });
  assert.deepEqual(errors, []);
  await context.close();
});
