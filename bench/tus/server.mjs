// The tus reference server (@tus/server with its file store) on a port,
// storing uploads in a folder: what bench/tus.sh measures pimedia against.
//   node server.mjs <port> <dir>
import http from 'node:http';
import { Server } from '@tus/server';
import { FileStore } from '@tus/file-store';

const [port, dir] = process.argv.slice(2);
const tus = new Server({ path: '/files', datastore: new FileStore({ directory: dir }) });
http.createServer((req, res) => tus.handle(req, res)).listen(Number(port), '127.0.0.1');
