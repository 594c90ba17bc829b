/**
 * staticFiles on the HTTP server: types, validators and conditional requests
 * (RFC 9110 §8.8, §13), byte ranges (§14), the root as a hard boundary, and a
 * large file streamed in bounded memory; then `protostack serve` as a process.
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { serve, type HttpServer } from '../../src/http/server/index.js';
import { staticFiles, StaticRootError } from '../../src/http/static.js';

const run = promisify(execFile);

let base: string;
let root: string;
let server: HttpServer;
const BIG = randomBytes(5 * 1024 * 1024);
const MTIME = new Date('2024-03-01T12:00:00Z');

before(async () => {
  try {
    execFileSync('sh', ['-c', 'command -v curl'], { stdio: 'ignore' });
  } catch {
    throw new Error('curl is not installed: these tests use it as a real HTTP client (Debian: apt-get install curl; CI installs it)');
  }
  base = mkdtempSync(join(tmpdir(), 'static-test-'));
  root = join(base, 'www');
  mkdirSync(root);
  const files: Record<string, string | Buffer> = {
    'index.html': '<h1>home</h1>\n',
    'style.css': 'body { color: red }\n',
    'app.js': 'console.log(1)\n',
    'app.mjs': 'export {}\n',
    'data.json': '{"a":1}\n',
    'a.txt': '0123456789abcdefghijklmnopqrstuvwxyz',
    'logo.svg': '<svg/>',
    'pic.png': Buffer.from([0x89, 0x50, 0x4e, 0x47]),
    'pic.jpg': Buffer.from([0xff, 0xd8]),
    'mod.wasm': Buffer.from([0, 0x61, 0x73, 0x6d]),
    'font.woff2': Buffer.from('wOF2'),
    'blob.xyz': Buffer.from([1, 2, 3]),
    'empty.txt': '',
    'with space.txt': 'spaced',
    'big.bin': BIG,
    '.hidden': 'secret dotfile',
  };
  for (const [name, data] of Object.entries(files)) writeFileSync(join(root, name), data);
  mkdirSync(join(root, 'sub'));
  writeFileSync(join(root, 'sub', 'index.html'), '<h1>sub</h1>\n');
  writeFileSync(join(root, 'sub', 'page.txt'), 'sub page');
  mkdirSync(join(root, 'noindex'));
  writeFileSync(join(base, 'secret.txt'), 'TOP SECRET');
  symlinkSync(join(base, 'secret.txt'), join(root, 'escape.txt'));
  symlinkSync(base, join(root, 'escape-dir'));
  symlinkSync(join(root, 'a.txt'), join(root, 'link.txt'));
  utimesSync(join(root, 'a.txt'), MTIME, MTIME);
  server = await serve(staticFiles(root));
});

after(async () => {
  await server?.close({ timeout: 1000 });
  if (base) rmSync(base, { recursive: true, force: true });
});

interface Reply {
  status: number;
  headers: Map<string, string>;
  body: Buffer;
}

/** One request as raw bytes (so nothing normalizes the path), read until the server closes. */
function get(target: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Reply> {
  const lines = Object.entries(headers).map(([n, v]) => `${n}: ${v}\r\n`);
  const request = `${method} ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n${lines.join('')}\r\n`;
  return new Promise((resolve, reject) => {
    const sock = net.connect(server.port, '127.0.0.1', () => sock.write(request));
    const parts: Buffer[] = [];
    sock.on('data', (d) => parts.push(d));
    sock.on('error', reject);
    sock.on('end', () => {
      const data = Buffer.concat(parts);
      const end = data.indexOf('\r\n\r\n');
      const [statusLine, ...rest] = data.subarray(0, end).toString('latin1').split('\r\n');
      const map = new Map<string, string>();
      for (const line of rest) map.set(line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim());
      resolve({ status: Number(statusLine!.split(' ')[1]), headers: map, body: data.subarray(end + 4) });
    });
  });
}

test('Content-Type from the extension; text types say utf-8; unknown is octet-stream', async () => {
  const expected: Record<string, string> = {
    '/index.html': 'text/html; charset=utf-8',
    '/style.css': 'text/css; charset=utf-8',
    '/app.js': 'text/javascript; charset=utf-8',
    '/app.mjs': 'text/javascript; charset=utf-8',
    '/data.json': 'application/json; charset=utf-8',
    '/a.txt': 'text/plain; charset=utf-8',
    '/logo.svg': 'image/svg+xml; charset=utf-8',
    '/pic.png': 'image/png',
    '/pic.jpg': 'image/jpeg',
    '/mod.wasm': 'application/wasm',
    '/font.woff2': 'font/woff2',
    '/blob.xyz': 'application/octet-stream',
  };
  for (const [path, type] of Object.entries(expected)) {
    const r = await get(path);
    assert.equal(r.status, 200, path);
    assert.equal(r.headers.get('content-type'), type, path);
    assert.equal(r.headers.get('accept-ranges'), 'bytes');
  }
  const spaced = await get('/with%20space.txt');
  assert.equal(spaced.body.toString(), 'spaced');
  const empty = await get('/empty.txt');
  assert.equal(empty.status, 200);
  assert.equal(empty.headers.get('content-length'), '0');
});

test('HEAD: the GET headers, no body; other methods 405 with Allow', async () => {
  const head = await get('/a.txt', {}, 'HEAD');
  assert.equal(head.status, 200);
  assert.equal(head.headers.get('content-length'), '36');
  assert.equal(head.body.length, 0);
  const post = await get('/a.txt', { 'Content-Length': '0' }, 'POST');
  assert.equal(post.status, 405);
  assert.equal(post.headers.get('allow'), 'GET, HEAD');
});

test('ETag and If-None-Match: 304 by weak comparison, for "*", and in a list (RFC 9110 §13.1.2)', async () => {
  const first = await get('/a.txt');
  const etag = first.headers.get('etag')!;
  assert.match(etag, /^W\/"[0-9a-f]+-[0-9a-f]+"$/);
  for (const inm of [etag, etag.slice(2), '*', `"nope", ${etag}`]) {
    const r = await get('/a.txt', { 'If-None-Match': inm });
    assert.equal(r.status, 304, inm);
    assert.equal(r.body.length, 0);
    assert.equal(r.headers.get('etag'), etag);
  }
  const miss = await get('/a.txt', { 'If-None-Match': '"other"' });
  assert.equal(miss.status, 200);
  // If-None-Match present: If-Modified-Since is ignored even though it would say 304.
  const both = await get('/a.txt', { 'If-None-Match': '"other"', 'If-Modified-Since': new Date().toUTCString() });
  assert.equal(both.status, 200);
});

test('Last-Modified and If-Modified-Since (RFC 9110 §13.1.3)', async () => {
  const r = await get('/a.txt');
  assert.equal(r.headers.get('last-modified'), MTIME.toUTCString());
  assert.equal((await get('/a.txt', { 'If-Modified-Since': MTIME.toUTCString() })).status, 304);
  assert.equal((await get('/a.txt', { 'If-Modified-Since': new Date(MTIME.getTime() + 3600_000).toUTCString() })).status, 304);
  assert.equal((await get('/a.txt', { 'If-Modified-Since': new Date(MTIME.getTime() - 1000).toUTCString() })).status, 200);
  assert.equal((await get('/a.txt', { 'If-Modified-Since': 'not a date' })).status, 200);
});

test('Range: a-b, a-, -n give 206 with Content-Range (RFC 9110 §14.1.2, §15.3.7)', async () => {
  const cases: [string, string, string][] = [
    ['bytes=0-9', '0123456789', 'bytes 0-9/36'],
    ['bytes=30-', 'uvwxyz', 'bytes 30-35/36'],
    ['bytes=-4', 'wxyz', 'bytes 32-35/36'],
    ['bytes=10-1000', 'abcdefghijklmnopqrstuvwxyz', 'bytes 10-35/36'],
    ['bytes=-100', '0123456789abcdefghijklmnopqrstuvwxyz', 'bytes 0-35/36'],
  ];
  for (const [range, body, contentRange] of cases) {
    const r = await get('/a.txt', { Range: range });
    assert.equal(r.status, 206, range);
    assert.equal(r.body.toString(), body, range);
    assert.equal(r.headers.get('content-range'), contentRange, range);
    assert.equal(r.headers.get('content-length'), String(body.length));
  }
});

test('Range: unsatisfiable is 416 with bytes */size; several ranges or a bad one get the whole file', async () => {
  for (const range of ['bytes=36-', 'bytes=100-200', 'bytes=-0']) {
    const r = await get('/a.txt', { Range: range });
    assert.equal(r.status, 416, range);
    assert.equal(r.headers.get('content-range'), 'bytes */36');
  }
  for (const range of ['bytes=0-1,5-6', 'bytes=5-2', 'items=0-1', 'bytes=x-y']) {
    const r = await get('/a.txt', { Range: range });
    assert.equal(r.status, 200, range);
    assert.equal(r.body.length, 36);
  }
});

test('If-Range: a date equal to Last-Modified keeps the range; a (weak) ETag never does (RFC 9110 §13.1.5)', async () => {
  const etag = (await get('/a.txt')).headers.get('etag')!;
  const byDate = await get('/a.txt', { Range: 'bytes=0-3', 'If-Range': MTIME.toUTCString() });
  assert.equal(byDate.status, 206);
  assert.equal(byDate.body.toString(), '0123');
  const stale = await get('/a.txt', { Range: 'bytes=0-3', 'If-Range': new Date(MTIME.getTime() - 5000).toUTCString() });
  assert.equal(stale.status, 200);
  assert.equal(stale.body.length, 36);
  const byTag = await get('/a.txt', { Range: 'bytes=0-3', 'If-Range': etag });
  assert.equal(byTag.status, 200);
});

test('directories: /dir redirects to /dir/ (301), which serves its index.html; none is 404', async () => {
  const redirect = await get('/sub?x=1');
  assert.equal(redirect.status, 301);
  assert.equal(redirect.headers.get('location'), '/sub/?x=1');
  const index = await get('/sub/');
  assert.equal(index.status, 200);
  assert.equal(index.body.toString(), '<h1>sub</h1>\n');
  assert.equal(index.headers.get('content-type'), 'text/html; charset=utf-8');
  assert.equal((await get('/')).body.toString(), '<h1>home</h1>\n');
  assert.equal((await get('/noindex/')).status, 404);
  assert.equal((await get('/a.txt/')).status, 404);
  // "//sub" must not become "Location: //sub/", which a browser reads as another host.
  assert.equal((await get('//sub')).headers.get('location'), '/sub/');
});

test('nothing outside the root: dot segments, encoded dots and slashes, backslashes, NUL, symlinks', async () => {
  const attempts = [
    '/../secret.txt',
    '/sub/../../secret.txt',
    '/%2e%2e/secret.txt',
    '/%2E%2E/secret.txt',
    '/sub/%2e%2e/%2e%2e/secret.txt',
    '/..%2fsecret.txt',
    '/%2e%2e%2fsecret.txt',
    '/sub%2f..%2f..%2fsecret.txt',
    '/..\\secret.txt',
    '/%5c..%5csecret.txt',
    '/a.txt%00.html',
    '/%00',
    '/%zz',
    '/escape.txt',
    '/escape-dir/secret.txt',
    '/.hidden',
    '/./a.txt',
  ];
  for (const path of attempts) {
    const r = await get(path);
    assert.ok(r.status === 400 || r.status === 404, `${path}: ${r.status}`);
    assert.doesNotMatch(r.body.toString(), /TOP SECRET|secret dotfile/, path);
  }
  // A symlink whose target is inside the root is fine, whatever the way there.
  assert.equal((await get('/link.txt')).body.toString(), '0123456789abcdefghijklmnopqrstuvwxyz');
  assert.equal((await get('/escape-dir/www/a.txt')).status, 200);
  // curl normalizes dot segments unless told not to; with --path-as-is it sends them as they are.
  const { stdout } = await run('curl', ['-sS', '--path-as-is', `${server.url}../secret.txt`, `${server.url}%2e%2e/secret.txt`]);
  assert.doesNotMatch(stdout, /TOP SECRET/);
});

/** A client in its own process that reads slowly: one socket read, then a pause, and so on; prints the body's length and hash. */
const SLOW_READER = `
const net = require('node:net');
const { createHash } = require('node:crypto');
const [port, path, pause] = process.argv.slice(1);
const hash = createHash('sha256');
let head = null, parts = [], length = 0;
const s = net.connect(Number(port), '127.0.0.1', () => s.write('GET ' + path + ' HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n'));
s.on('data', (d) => {
  if (head === null) {
    parts.push(d);
    const all = Buffer.concat(parts);
    const end = all.indexOf('\\r\\n\\r\\n');
    if (end < 0) return;
    head = all.subarray(0, end).toString('latin1');
    d = all.subarray(end + 4);
  }
  hash.update(d);
  length += d.length;
  s.pause();
  setTimeout(() => s.resume(), Number(pause));
});
s.on('end', () => console.log(JSON.stringify({ head, length, sha256: hash.digest('hex') })));
`;

test('a 5 MiB file is streamed in bounded memory to a slow reader', async () => {
  const samples: number[] = [];
  const baseline = process.memoryUsage().arrayBuffers;
  const timer = setInterval(() => samples.push(process.memoryUsage().arrayBuffers - baseline), 20);
  const t0 = performance.now();
  let out: string;
  try {
    // About 80 reads of 64 KiB with 10 ms pauses: the server must wait for the reader, holding only its buffer.
    out = (await run(process.execPath, ['-e', SLOW_READER, String(server.port), '/big.bin', '10'])).stdout;
  } finally {
    clearInterval(timer);
  }
  const ms = performance.now() - t0;
  const got = JSON.parse(out) as { head: string; length: number; sha256: string };
  assert.match(got.head, /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(got.head, /\r\nContent-Length: 5242880\r\n/i);
  assert.equal(got.length, BIG.length);
  assert.equal(got.sha256, createHash('sha256').update(BIG).digest('hex'));
  const peak = Math.max(...samples);
  assert.ok(ms > 500, `the transfer took ${ms.toFixed(0)} ms: too fast to show anything`);
  assert.ok(peak < 2 * 1024 * 1024, `external memory grew by ${(peak / 1048576).toFixed(2)} MiB while sending 5 MiB`);
});

test('a range of the big file is served from its offset', async () => {
  const r = await get('/big.bin', { Range: 'bytes=1000000-1099999' });
  assert.equal(r.status, 206);
  assert.ok(r.body.equals(BIG.subarray(1_000_000, 1_100_000)));
});

test('listing: a directory without an index is listed (escaped names, sizes, dates, directories first); off by default', async () => {
  const dir = join(base, 'listed');
  mkdirSync(join(dir, 'a <dir>'), { recursive: true });
  writeFileSync(join(dir, 'x&y "z".txt'), '12345');
  writeFileSync(join(dir, '.secret'), 'hidden');
  utimesSync(join(dir, 'x&y "z".txt'), MTIME, MTIME);
  const listing = await serve(staticFiles(dir, { listing: true }));
  try {
    const page = await fetchText(`${listing.url}`);
    assert.equal(page.status, 200);
    assert.equal(page.type, 'text/html; charset=utf-8');
    assert.match(page.body, /<title>Index of \/<\/title>/);
    assert.match(page.body, /<a href="a%20%3Cdir%3E\/">a &#60;dir&#62;\/<\/a><\/td><td class="n">-<\/td>/, 'a directory: escaped, a trailing slash, no size');
    assert.match(page.body, /<a href="x%26y%20%22z%22\.txt">x&#38;y &#34;z&#34;\.txt<\/a><\/td><td class="n">5<\/td><td>2024-03-01 12:00:00<\/td>/, 'a file: escaped, its size and date');
    assert.ok(page.body.indexOf('a%20%3Cdir') < page.body.indexOf('x%26y'), 'directories first');
    assert.doesNotMatch(page.body, /secret/, 'dot files are not listed');
    assert.doesNotMatch(page.body, /href="\.\.\/"/, 'no parent link at the root');
    const sub = await fetchText(`${listing.url}a%20%3Cdir%3E/`);
    assert.match(sub.body, /<a href="\.\.\/">\.\.\/<\/a>/, 'a parent link below the root');
  } finally {
    await listing.close();
  }
  assert.equal((await fetchText(`${server.url}noindex/`)).status, 404, 'without listing: 404');
});

test('staticFiles() on a root that is missing or not a directory throws at once', () => {
  assert.throws(() => staticFiles(join(base, 'no-such-root')), (e: unknown) => e instanceof StaticRootError && e.code === 'ENOENT');
  assert.throws(() => staticFiles(join(root, 'a.txt')), (e: unknown) => e instanceof StaticRootError && e.code === 'ENOTDIR' && /not a directory/.test(e.message));
});

async function fetchText(url: string): Promise<{ status: number; type: string; body: string }> {
  const { stdout } = await run('curl', ['-sS', '-w', '\\n%{http_code} %{content_type}', url]);
  const i = stdout.lastIndexOf('\n');
  const [status, ...type] = stdout.slice(i + 1).split(' ');
  return { status: Number(status), type: type.join(' '), body: stdout.slice(0, i) };
}

// ---- the command ----

test('protostack serve: prints where it serves, logs each request, stops on SIGTERM', async () => {
  const script = new URL('../../src/cli/serve.js', import.meta.url).pathname;
  const child = spawn(process.execPath, ['-e', `import(${JSON.stringify(script)}).then((m) => m.serveCommand(process.argv.slice(1))).then((c) => { process.exitCode = c; })`, root, '--port', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    for (let i = 0; i < 100 && !/serving .* on http:\/\/127\.0\.0\.1:\d+\/\n/.test(out); i++) await new Promise((r) => setTimeout(r, 50));
    const m = /serving (.*) on (http:\/\/127\.0\.0\.1:(\d+)\/)\n/.exec(out);
    assert.ok(m, `no banner: ${out} ${err}`);
    assert.equal(m[1], root);
    const { stdout } = await run('curl', ['-sS', `${m[2]}a.txt`, `${m[2]}missing`]);
    assert.match(stdout, /^0123456789/);
    child.kill('SIGTERM');
    assert.equal(await exited, 0, err);
    assert.match(out, /^127\.0\.0\.1 GET \/a\.txt 200 36 B \d+\.\d ms$/m);
    assert.match(out, /^127\.0\.0\.1 GET \/missing 404 \d+ B \d+\.\d ms$/m);
    assert.match(out, /SIGTERM: stopped after 2 requests/);
  } finally {
    child.kill('SIGKILL');
  }
});
