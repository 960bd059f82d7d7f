// The official tus client uploading one file in 8 MiB chunks, as the
// browser's would; prints the seconds from start to the server's last
// answer.   node client.mjs <endpoint> <file>
import fs from 'node:fs';
import path from 'node:path';
import * as tus from 'tus-js-client';

const [endpoint, file] = process.argv.slice(2);
const size = fs.statSync(file).size;
const start = process.hrtime.bigint();
const upload = new tus.Upload(fs.createReadStream(file), {
  endpoint,
  chunkSize: 8 * 1024 * 1024,
  uploadSize: size,
  retryDelays: [],
  metadata: { filename: path.basename(file), filetype: 'video/quicktime' },
  onError: (e) => { console.error(`upload failed: ${e}`); process.exit(1); },
  onSuccess: () => {
    const secs = Number(process.hrtime.bigint() - start) / 1e9;
    console.log(`${secs.toFixed(3)} ${upload.url}`);
  },
});
upload.start();
