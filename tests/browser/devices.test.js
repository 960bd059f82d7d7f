// Learning what each TV plays, in Debian's Chromium. A page-start script
// makes canPlayType answer as an HEVC TV or as an H.264-only TV (with a TV's
// user agent); Chromium itself cannot decode HEVC, which makes the "claims
// HEVC, then fails" TV real.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { SHOTS, ffmpeg, until, startPimedia, stopPimedia, PATIENCE, launchChromium, closeAll } = require('./lib');

const LG = 'Mozilla/5.0 (Web0S; Linux/SmartTV) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/79.0.3945.79 Safari/537.36 WebAppManager';
const SAMSUNG = 'Mozilla/5.0 (SMART-TV; LINUX; Tizen 6.0) AppleWebKit/537.36 (KHTML, like Gecko) 76.0.3809.146/6.0 TV Safari/537.36';
const SRC = ['-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000', '-t', '3'];
const X265 = ['-c:v', 'libx265', '-preset', 'ultrafast', '-x265-params', 'log-level=error'];

let dir, browser;

// Runs before any page script: the browser claims HEVC, or not.
function claimHevc(yes) {
  const hevc = /hvc1|hev1/;
  const can = HTMLMediaElement.prototype.canPlayType;
  HTMLMediaElement.prototype.canPlayType = function (t) {
    return hevc.test(t) ? (yes ? 'probably' : '') : can.call(this, t);
  };
  if (window.MediaSource) {
    const is = MediaSource.isTypeSupported.bind(MediaSource);
    MediaSource.isTypeSupported = (t) => (hevc.test(t) ? yes : is(t));
  }
}

async function tv(userAgent, hevc) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 720 }, userAgent });
  await context.addInitScript(claimHevc, hevc);
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  return { context, page, errors };
}

function hevcClip(file, extra = []) {
  ffmpeg([...SRC, ...X265, '-c:a', 'aac', ...extra, file]);
}

async function json(base, p) {
  return (await fetch(base + p)).json();
}

async function jobsFor(base, source) {
  return (await json(base, '/api/jobs')).filter((j) => j.source === source);
}

async function tvCodecs(base) {
  return (await json(base, '/healthz')).tv_codecs;
}

async function upload(base, file) {
  const form = new FormData();
  form.append('file', new Blob([fs.readFileSync(file)]), path.basename(file));
  const r = await fetch(base + '/upload', { method: 'POST', body: form, headers: { accept: 'application/json' } });
  assert.equal(r.status, 201);
}

function probe(file) {
  return JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-show_streams', '-of', 'json', file])).streams[0];
}

// Plays the player page's video for a moment: what the browser saw.
async function play(page) {
  return page.evaluate(() => new Promise((resolve) => {
    const v = document.getElementById('player');
    const done = () => resolve({ error: v.error && v.error.code, w: v.videoWidth, t: v.currentTime });
    v.addEventListener('timeupdate', () => { if (v.currentTime > 0.5) done(); });
    v.muted = true;
    v.play().catch(() => {});
    setTimeout(done, 10000);
  }));
}

function hot(temp, yes) {
  fs.writeFileSync(temp, yes ? '85000\n' : '40000\n');
}

async function paused(base, yes) {
  await until('transcodes ' + (yes ? 'paused' : 'going'), async () => ((await json(base, '/healthz')).transcodes_paused !== null) === yes, 10);
}

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pimedia-devices-'));
  fs.mkdirSync(SHOTS, { recursive: true });
  browser = await launchChromium();
});

after(() => closeAll({ browser, dir }));

test('HEVC stays HEVC for an HEVC TV; an H.264 TV gets a version that plays; unticking it drops a queued one', async () => {
  const media = path.join(dir, 'one');
  fs.mkdirSync(media);
  ffmpeg([...SRC, '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-movflags', '+faststart', path.join(media, 'clip.mp4')]);
  const temp = path.join(dir, 'one-temp');
  hot(temp, false);
  const { server, base } = await startPimedia(media, ['--thermal-file', temp]);
  try {
    // The living-room TV (HEVC) opens a video: it counts from now on.
    const lg = await tv(LG, true);
    await lg.page.goto(base + '/watch/clip.mp4');
    await until('the target to learn HEVC', async () => (await tvCodecs(base)).includes('hevc'), 15);

    // An HEVC upload through the page: remuxed, tagged hvc1, no transcode.
    const mkv = path.join(dir, 'holiday.mkv');
    hevcClip(mkv);
    await lg.page.goto(base + '/upload');
    await lg.page.setInputFiles('#file', mkv);
    await lg.page.click('#upload-button');
    await lg.page.waitForSelector('#upload-done:not([hidden])', { timeout: 30000 * PATIENCE });
    await until('the remux', async () => (await jobsFor(base, 'holiday.mkv')).some((j) => j.state === 'done'), 30);
    const jobs = await jobsFor(base, 'holiday.mkv');
    assert.deepEqual(jobs.map((j) => j.kind), ['remux']);
    const v = probe(path.join(media, 'holiday.mp4'));
    assert.equal(v.codec_name, 'hevc');
    assert.equal(v.codec_tag_string, 'hvc1');
    assert.equal((await jobsFor(base, 'holiday.mp4')).length, 0, 'no transcode for an HEVC household');

    // The bedroom TV (H.264 only) opens it: it can't show the picture, and
    // the page says a TV version is being made; then it plays.
    const samsung = await tv(SAMSUNG, false);
    await samsung.page.goto(base + '/watch/holiday.mp4');
    await samsung.page.waitForSelector('#cannot-play:not([hidden])', { timeout: 15000 * PATIENCE });
    assert.match(await samsung.page.textContent('#cannot-play'), /can't play this video, so a TV version is being made/);
    const [transcode] = await jobsFor(base, 'holiday.mp4');
    assert.equal(transcode.kind, 'transcode');
    assert.equal(transcode.for, 'Samsung Tizen TV');
    await samsung.page.waitForSelector('#cannot-play a', { timeout: 60000 * PATIENCE });
    assert.match(await samsung.page.textContent('#cannot-play'), /The TV version is ready/);
    await samsung.page.screenshot({ path: path.join(SHOTS, 'devices-tv-version-ready.png') });
    await samsung.page.click('#cannot-play a');
    await samsung.page.waitForURL(/holiday\.tv\.mp4$/);
    const played = await play(samsung.page);
    assert.equal(played.error, null, JSON.stringify(played));
    assert.ok(played.t > 0.5 && played.w === 320, 'the TV version plays: ' + JSON.stringify(played));
    assert.equal(probe(path.join(media, 'holiday.tv.mp4')).codec_name, 'h264');

    // While transcodes wait (a hot Pi), a second HEVC file is queued for
    // the bedroom TV, as the jobs page says.
    hot(temp, true);
    await paused(base, true);
    const second = path.join(dir, 'beach.mkv');
    hevcClip(second);
    await upload(base, second);
    await until('a transcode for the bedroom TV', async () => (await jobsFor(base, 'beach.mkv')).length === 1, 15);
    const [queued] = await jobsFor(base, 'beach.mkv');
    assert.equal(queued.kind, 'transcode');
    assert.equal(queued.state, 'queued');
    await lg.page.goto(base + '/jobs');
    assert.match(await lg.page.textContent('#job-' + queued.id), /for: Samsung Tizen TV/);

    // Untick the bedroom TV on /devices (a form, no script needed): the
    // queued transcode is dropped and a remux keeps the HEVC.
    await lg.page.goto(base + '/devices');
    const item = lg.page.locator('.device:has(input[name=name][value="Samsung Tizen TV"])');
    await item.locator('input[name=convert]').uncheck();
    await item.locator('button', { hasText: 'Save' }).click();
    await lg.page.waitForURL(/\/devices$/);
    await until('HEVC back in the target', async () => (await tvCodecs(base)).includes('hevc'), 10);
    await until('the remux instead', async () => {
      const j = await jobsFor(base, 'beach.mkv');
      return j.length === 1 && j[0].kind === 'remux' && j[0].state === 'done';
    }, 30);
    assert.equal(probe(path.join(media, 'beach.mp4')).codec_tag_string, 'hvc1');
    assert.equal(await item.locator('input[name=convert]').isChecked(), false);
    await lg.page.screenshot({ path: path.join(SHOTS, 'devices.png'), fullPage: true });
    // The remote reaches everything along the row: the box, Save, Forget.
    await item.locator('input[name=convert]').focus();
    await lg.page.keyboard.press('ArrowRight');
    assert.equal(await lg.page.evaluate(() => document.activeElement.textContent), 'Save');
    await lg.page.keyboard.press('ArrowRight');
    assert.equal(await lg.page.evaluate(() => document.activeElement.textContent), 'Forget');
    assert.deepEqual([...lg.errors, ...samsung.errors], []);
    await lg.context.close();
    await samsung.context.close();
  } finally {
    await stopPimedia(server);
  }
});

test('a TV that claims HEVC and then fails to decode it is marked, and a TV version is queued', async () => {
  const media = path.join(dir, 'two');
  fs.mkdirSync(media);
  const temp = path.join(dir, 'two-temp');
  hot(temp, true);
  const { server, base } = await startPimedia(media, ['--thermal-file', temp]);
  try {
    await paused(base, true);
    const file = path.join(dir, 'phone.mp4');
    hevcClip(file, ['-tag:v', 'hvc1', '-movflags', '+faststart']);
    await upload(base, file);
    const tvPage = await tv(LG, true);
    await tvPage.page.goto(base + '/watch/phone.mp4');
    // Debian's Chromium has no HEVC decoder: sound, no picture.
    await tvPage.page.waitForSelector('#cannot-play:not([hidden])', { timeout: 15000 * PATIENCE });
    assert.match(await tvPage.page.textContent('#cannot-play'), /a TV version is being made/);
    const devices = await json(base, '/api/devices');
    assert.equal(devices.devices.length, 1);
    const hevc = devices.devices[0].plays.find((c) => c.key === 'hevc');
    assert.deepEqual([hevc.yes, hevc.failed], [false, true], 'claimed HEVC, failed on the player');
    assert.equal(devices.tv_codecs.includes('hevc'), false);
    const [job] = await jobsFor(base, 'phone.mp4');
    assert.equal(job.kind, 'transcode');
    assert.equal(job.for, 'LG webOS TV');
    // The devices page shows the failure in words.
    await tvPage.page.goto(base + '/devices');
    assert.match(await tvPage.page.textContent('.device'), /✗ HEVC Main \(failed on the player\)/);

    hot(temp, false);
    await until('the TV version', async () => (await jobsFor(base, 'phone.mp4'))[0].state === 'done', 60);
    await tvPage.page.goto(base + '/watch/phone.tv.mp4');
    const played = await play(tvPage.page);
    assert.ok(played.t > 0.5 && played.w === 320, JSON.stringify(played));
    assert.deepEqual(tvPage.errors, []);
    await tvPage.context.close();
  } finally {
    await stopPimedia(server);
  }
});
