// A storm of faults, a few minutes long: each round runs form and tus
// uploads at once (some cut off mid-body), drops in files to remux and to
// transcode, kills pimedia with SIGKILL at a random moment, and starts it
// again. After every round: every upload that was confirmed (201, or a
// last tus PATCH answered 204) is on disk byte for byte; no temp or
// partial file is listed or served; every job ends, done or failed with a
// reason; no ffmpeg outlives pimedia; every state file parses.
//
//   node tests/chaos.js [rounds]      (run by tests/run.sh after cargo's build)
'use strict';
const { spawn, execFileSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { BIN, ffmpeg, freePort, until } = require('./browser/lib');

const ROUNDS = Number(process.argv[2] || 6);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pimedia-chaos-'));
const media = path.join(dir, 'media');
const state = path.join(dir, 'state');
fs.mkdirSync(media);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const random = (n) => Math.floor(Math.random() * n);
const sha = (bytes) => crypto.createHash('sha256').update(bytes).digest('hex');

// Sources: a clip to remux (H.264 + AC-3 in MKV), one to transcode
// (MPEG-2), one that plays as it is.
const SRC = ['-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=25', '-f', 'lavfi', '-i', 'sine', '-t', '6'];
const clips = {
  mkv: path.join(dir, 'clip.mkv'),
  mpg: path.join(dir, 'clip.mpg'),
  mp4: path.join(dir, 'clip.mp4'),
};
ffmpeg([...SRC, '-c:v', 'libx264', '-preset', 'ultrafast', '-b:v', '3M', '-c:a', 'ac3', clips.mkv]);
ffmpeg([...SRC, '-c:v', 'mpeg2video', '-c:a', 'mp2', clips.mpg]);
ffmpeg([...SRC, '-c:v', 'libx264', '-preset', 'ultrafast', '-b:v', '3M', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-movflags', '+faststart', clips.mp4]);
const bytes = Object.fromEntries(Object.entries(clips).map(([k, p]) => [k, fs.readFileSync(p)]));

let server, base;
async function start() {
  const port = await freePort();
  base = 'http://127.0.0.1:' + port;
  server = spawn(BIN, ['--media-dir', media, '--state-dir', state, '--listen', '127.0.0.1:' + port], { stdio: 'ignore' });
  await until('pimedia', async () => { try { return (await fetch(base + '/healthz')).ok; } catch (e) { return false; } }, 20);
}

// One request with a body, which `cut` may end half-way; resolves to the
// status, or 0 when the connection was cut or pimedia died.
function send(method, url, headers, body, cut) {
  return new Promise((resolve) => {
    const req = http.request(base + url, { method, headers: { ...headers, 'content-length': body.length } }, (res) => {
      let text = '';
      res.on('data', (d) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode, text, headers: res.headers }));
      res.on('error', () => resolve({ status: 0 }));
    });
    req.on('error', () => resolve({ status: 0 }));
    pump(req, body, cut);
  });
}

// Writes a body as a phone on Wi-Fi would, 64 KiB at a time, so a kill
// often lands in the middle of it; `cut` stops half-way and hangs up.
async function pump(req, body, cut) {
  const end = cut ? body.length >> 1 : body.length;
  for (let i = 0; i < end && !req.destroyed; i += 65536) {
    if (!req.write(body.subarray(i, Math.min(i + 65536, end)))) {
      await new Promise((r) => {
        const done = () => { req.off('drain', done); req.off('close', done); r(); };
        req.on('drain', done);
        req.on('close', done);
      });
    }
    await sleep(5);
  }
  if (cut) req.destroy(); else req.end();
}

const confirmed = new Map(); // library path -> sha256
let serial = 0;
let interrupted = 0; // uploads the kill cut off (not counting deliberate cuts)

async function formUpload(kind, cut) {
  const name = `form-${++serial}.${kind}`;
  const boundary = 'chaos' + serial;
  const body = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\nContent-Type: application/octet-stream\r\n\r\n`),
    bytes[kind],
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  const r = await send('POST', '/upload', { 'content-type': `multipart/form-data; boundary=${boundary}`, accept: 'application/json' }, body, cut);
  if (r.status === 0 && !cut) interrupted++;
  if (r.status === 201) {
    for (const f of JSON.parse(r.text)) confirmed.set(f.path, sha(bytes[kind]));
  }
}

async function tusUpload(kind, cut) {
  const name = `tus-${++serial}.${kind}`;
  const data = bytes[kind];
  const meta = 'filename ' + Buffer.from(name).toString('base64');
  const created = await send('POST', '/uploads/', { 'tus-resumable': '1.0.0', 'upload-length': data.length, 'upload-metadata': meta }, Buffer.alloc(0));
  if (created.status !== 201) return;
  const where = created.headers.location;
  const half = data.length >> 1;
  for (const [from, to] of [[0, half], [half, data.length]]) {
    const last = to === data.length;
    const r = await send('PATCH', where, {
      'tus-resumable': '1.0.0', 'content-type': 'application/offset+octet-stream', 'upload-offset': from,
    }, data.subarray(from, to), cut && last);
    if (r.status !== 204) {
      if (r.status === 0 && !(cut && last)) interrupted++;
      return;
    }
    if (last) confirmed.set(name, sha(data));
  }
}

function ffmpegsOf(dirPath) {
  try {
    return execFileSync('pgrep', ['-f', '-a', 'ffmpeg'], { stdio: ['ignore', 'pipe', 'ignore'] })
      .toString().split('\n').filter((l) => l.includes(dirPath));
  } catch (e) {
    return [];
  }
}

function walk(d, out = []) {
  for (const e of fs.readdirSync(d, { withFileTypes: true })) {
    const p = path.join(d, e.name);
    if (e.isDirectory()) walk(p, out); else out.push(p);
  }
  return out;
}

async function check(round) {
  // Confirmed uploads, byte for byte.
  for (const [rel, digest] of confirmed) {
    const p = path.join(media, rel);
    if (!fs.existsSync(p) || sha(fs.readFileSync(p)) !== digest) {
      throw new Error(`round ${round}: the confirmed upload ${rel} is lost or changed`);
    }
  }
  // Nothing hidden is listed or served.
  const listed = (await (await fetch(base + '/api/videos')).json()).map((v) => v.path);
  const hidden = listed.filter((p) => p.split('/').some((part) => part.startsWith('.')));
  if (hidden.length) throw new Error(`round ${round}: hidden files listed: ${hidden}`);
  for (const p of walk(media).filter((p) => path.basename(p).startsWith('.pimedia-'))) {
    const r = await fetch(base + '/videos/' + encodeURIComponent(path.relative(media, p)));
    if (r.status !== 404) throw new Error(`round ${round}: a temp file is served: ${p}`);
  }
  // Every job ends, and says why when it fails.
  await until(`round ${round}: every job to end`, async () => {
    const jobs = await (await fetch(base + '/api/jobs')).json();
    return jobs.every((j) => j.state === 'done' || (j.state === 'failed' && j.error) || j.state === 'cancelled');
  }, 120);
  // Every state file parses.
  for (const f of walk(state).filter((f) => f.endsWith('.json'))) {
    JSON.parse(fs.readFileSync(f, 'utf8'));
  }
}

(async () => {
  let kills = 0;
  try {
    await start();
    for (let round = 1; round <= ROUNDS; round++) {
      const work = [];
      for (let i = 0; i < 3; i++) work.push(formUpload(['mkv', 'mp4', 'mpg'][random(3)], Math.random() < 0.3));
      for (let i = 0; i < 2; i++) work.push(tusUpload(['mkv', 'mp4'][random(2)], Math.random() < 0.3));
      fs.copyFileSync(clips.mkv, path.join(media, `dropped-${round}.mkv`));
      fs.copyFileSync(clips.mpg, path.join(media, `dropped-${round}.mpg`));
      // A kill at a random moment, in the middle of all that.
      await sleep(100 + random(1500));
      server.kill('SIGKILL');
      kills++;
      await Promise.all(work);
      await sleep(500);
      const orphans = ffmpegsOf(media);
      if (orphans.length) throw new Error(`round ${round}: ffmpeg outlived pimedia: ${orphans}`);
      await start();
      await check(round);
    }
    server.kill('SIGTERM');
    console.log(`chaos: rounds ${ROUNDS}, kills ${kills}, confirmed uploads ${confirmed.size}, cut off by a kill ${interrupted}, lost: 0`);
    fs.rmSync(dir, { recursive: true, force: true });
  } catch (e) {
    if (server) server.kill('SIGKILL');
    console.error('chaos: ' + e.message + ` (kept ${dir})`);
    process.exit(1);
  }
})();
