/**
 * `protostack get` as a user runs it, when things go wrong: curl's exit code
 * and one line on stderr for each kind of failure, output errors that are
 * not stack traces, -H that replaces and removes headers, -v that shows every
 * redirect hop, -w's warning, --har/--html's "wrote FILE".
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { createSocket, type Socket as Socket4 } from 'node:dgram';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { serve, type HttpServer } from '../../src/http/server/index.js';
import { assertOneLineError, cli, MAIN, shell } from './run.js';

const BIG = Buffer.alloc(2 * 1024 * 1024, 'x');
const dir = mkdtempSync(join(tmpdir(), 'protostack-get-'));
const fixture = (name: string) => readFileSync(new URL(`../../../test/fixtures/${name}`, import.meta.url));
let web: HttpServer;
let base: string;
let silent: Server;
let silentPort: number;
const held: Socket[] = [];
let secure: HttpsServer;
let securePort: number;
let closedPort: number;
let stall: Server;
let stallPort: number;
let mute: Socket4;
let mutePort: number;

before(async () => {
  web = await serve((req, res) => {
    const path = req.url;
    if (path === '/hello') return res.end('hello\n');
    if (path === '/big') return res.end(BIG);
    if (path === '/r1' || path === '/r2' || path === '/loop') {
      res.status = path === '/r1' ? 301 : 302;
      res.setHeader('Location', path === '/r1' ? '/r2' : path === '/r2' ? '/hello' : '/loop');
      return res.end();
    }
    // The request's fields as they arrived, one per line, names in the case they had on the wire.
    if (path === '/headers') return res.end(req.headers.map(([n, v]) => `${n}: ${v}\n`).join(''));
    res.status = 404;
    return res.end('no such thing\n');
  });
  base = `http://127.0.0.1:${web.port}`;
  // A server that accepts and never answers.
  silent = createServer((s) => held.push(s));
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  silentPort = (silent.address() as { port: number }).port;
  secure = createHttpsServer({ cert: fixture('localhost.crt'), key: fixture('localhost.key') }, (_req, res) => res.end('secure\n'));
  await new Promise<void>((r) => secure.listen(0, '127.0.0.1', r));
  securePort = (secure.address() as { port: number }).port;
  // A server that sends a head and the start of a body, then nothing.
  stall = createServer((s) => {
    held.push(s);
    s.on('data', () => s.write('HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nthe first part'));
  });
  await new Promise<void>((r) => stall.listen(0, '127.0.0.1', r));
  stallPort = (stall.address() as { port: number }).port;
  // A DNS server that reads queries and never answers.
  mute = createSocket('udp4');
  await new Promise<void>((r) => mute.bind(0, '127.0.0.1', r));
  mutePort = mute.address().port;
  // A port nobody listens on: bound once, then closed.
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  closedPort = (probe.address() as { port: number }).port;
  await new Promise<void>((r) => probe.close(() => r()));
});

after(async () => {
  for (const s of held) s.destroy();
  await new Promise<void>((r) => silent.close(() => r()));
  await new Promise<void>((r) => stall.close(() => r()));
  mute.close();
  secure.closeAllConnections();
  await new Promise<void>((r) => secure.close(() => r()));
  await web.close();
  rmSync(dir, { recursive: true, force: true });
});

test('no URL, or two: a usage error saying what is missing (exit 2)', async () => {
  assertOneLineError(await cli(['get']), 2, 'get', /no URL given/);
  assertOneLineError(await cli(['get', `${base}/hello`, `${base}/hello`]), 2, 'get', /one URL at a time/);
  assertOneLineError(await cli(['get', '--bogus', `${base}/hello`]), 2, 'get', /unknown option '--bogus'/);
  assertOneLineError(await cli(['get', '-m', 'abc', `${base}/hello`]), 2, 'get', /-m wants seconds/);
});

test('a malformed URL or port 0 is exit 3; another scheme exit 1 (as curl)', async () => {
  assertOneLineError(await cli(['get', 'http://[bad/']), 3, 'get', /malformed URL 'http:\/\/\[bad\/'/);
  const zero = await cli(['get', 'http://127.0.0.1:0/']);
  assertOneLineError(zero, 3, 'get', /port 0/);
  assert.doesNotMatch(zero.stderr, /:80\b/, 'no connection to port 80 was tried');
  assertOneLineError(await cli(['get', 'ftp://127.0.0.1/x']), 1, 'get', /protocol 'ftp' is not supported/);
  // No scheme: http://, as curl guesses.
  const guessed = await cli(['get', `127.0.0.1:${web.port}/hello`]);
  assert.equal(guessed.code, 0, guessed.stderr);
  assert.equal(guessed.stdout, 'hello\n');
});

test('a name that does not resolve is exit 6; a refused connection exit 7', async () => {
  // .invalid is answered locally (RFC 6761): nothing leaves the machine.
  assertOneLineError(await cli(['get', 'http://nothing-here.invalid/']), 6, 'get', /cannot resolve nothing-here\.invalid: no such name \(NXDOMAIN\)/);
  assertOneLineError(await cli(['get', `http://127.0.0.1:${closedPort}/`]), 7, 'get', new RegExp(`cannot connect to 127\\.0\\.0\\.1 port ${closedPort}: connection refused`));
});

test('-m bounds the whole transfer: a server that never answers is "timed out after N s", exit 28', async () => {
  const r = await cli(['get', '-m', '0.5', `http://127.0.0.1:${silentPort}/`]);
  assertOneLineError(r, 28, 'get', /^protostack get: timed out after 0\.5 s$/);
  assert.ok(r.ms < 5000, `the command ended soon after the deadline (${Math.round(r.ms)} ms)`);
  // A body that stops coming is bounded the same way: the deadline covers the body too.
  const body = await cli(['get', '-m', '0.5', `http://127.0.0.1:${stallPort}/`]);
  assertOneLineError(body, 28, 'get', /timed out after 0\.5 s/);
  assert.equal(body.stdout, 'the first part', 'what came before the stall was written');
  assert.ok(body.ms < 5000, `${Math.round(body.ms)} ms`);
  // And so is the lookup: a DNS server that never answers would otherwise be waited on for 5 s per try.
  const lookup = await cli(['get', '-m', '0.5', '--dns-servers', `127.0.0.1:${mutePort}`, 'http://www.example.test/']);
  assertOneLineError(lookup, 28, 'get', /timed out after 0\.5 s/);
  assert.ok(lookup.ms < 4000, `${Math.round(lookup.ms)} ms`);
});

test('https:// to a plain-HTTP port is one sentence, exit 35; an untrusted certificate exit 60, -k passes', async () => {
  assertOneLineError(await cli(['get', `https://127.0.0.1:${web.port}/hello`]), 35, 'get', /did not answer TLS \(is it plain HTTP\? try http:\/\/\)/);
  assertOneLineError(await cli(['get', `https://127.0.0.1:${securePort}/`]), 60, 'get', /certificate of 127\.0\.0\.1 is not trusted: .*\(-k skips the check\)/);
  const k = await cli(['get', '-k', `https://127.0.0.1:${securePort}/`]);
  assert.equal(k.code, 0, k.stderr);
  assert.equal(k.stdout, 'secure\n');
});

test('-f: a status of 400 or above prints no body and exits 22; without -f the body is printed, exit 0', async () => {
  const failed = await cli(['get', '-f', `${base}/missing`]);
  assertOneLineError(failed, 22, 'get', /the server answered 404 Not Found/);
  assert.equal(failed.stdout, '');
  const plain = await cli(['get', `${base}/missing`]);
  assert.equal(plain.code, 0);
  assert.equal(plain.stdout, 'no such thing\n');
});

test('more redirects than --max-redirs is exit 47', async () => {
  assertOneLineError(await cli(['get', '-L', '--max-redirs', '3', `${base}/loop`]), 47, 'get', /too many redirects: more than 3/);
});

test('-o into a missing directory or onto a directory: one line, exit 23, and no file left behind on a failed request', async () => {
  assertOneLineError(await cli(['get', '-o', join(dir, 'no', 'such', 'dir', 'f'), `${base}/hello`]), 23, 'get', /cannot write .*\/no\/such\/dir\/f: ENOENT/);
  assertOneLineError(await cli(['get', '-o', dir, `${base}/hello`]), 23, 'get', /cannot write .*: EISDIR/);
  const out = join(dir, 'refused.txt');
  assert.equal((await cli(['get', '-o', out, `http://127.0.0.1:${closedPort}/`])).code, 7);
  assert.throws(() => readFileSync(out), /ENOENT/);
});

test('a reader that closes stdout (| head -c 10) ends the transfer quietly, exit 23 as curl', async () => {
  const r = await shell('bash', ['-c', `set -o pipefail; node ${MAIN} get ${base}/big | head -c 10`]);
  assert.equal(r.stdout, 'xxxxxxxxxx');
  assert.equal(r.stderr, '', 'nothing on stderr: no stack trace, no message');
  assert.equal(r.code, 23);
});

test('-H replaces a default of the same name, -H "Name:" removes it; one header case on the wire', async () => {
  const r = await cli(['get', '-H', 'accept: text/plain', '-H', 'User-Agent:', '-H', 'x-trace-id: 7', '-H', 'X-Empty;', `${base}/headers`]);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.split('\n').filter((l) => l !== '');
  assert.deepEqual(lines.filter((l) => /^accept:/i.test(l)), ['Accept: text/plain'], 'one Accept, the given one');
  assert.equal(lines.filter((l) => /^user-agent:/i.test(l)).length, 0, 'User-Agent removed');
  assert.ok(lines.includes('X-Trace-Id: 7'));
  assert.ok(lines.includes('X-Empty: '), "'Name;' sends an empty value");
  for (const l of lines) assert.match(l, /^[A-Z][a-z0-9]*(-[A-Z][a-z0-9]*)*: /, `Title-Case names: ${l}`);
  assertOneLineError(await cli(['get', '-H', 'nocolon', `${base}/hello`]), 2, 'get', /bad header 'nocolon'/);
});

test('-v with -L shows every hop: each request head, then its response head', async () => {
  const r = await cli(['get', '-v', '-L', `${base}/r1`]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'hello\n');
  const heads = r.stderr.split('\n').filter((l) => /^> [A-Z]+ \/|^< HTTP\//.test(l));
  assert.deepEqual(heads, ['> GET /r1 HTTP/1.1', '< HTTP/1.1 301 Moved Permanently', '> GET /r2 HTTP/1.1', '< HTTP/1.1 302 Found', '> GET /hello HTTP/1.1', '< HTTP/1.1 200 OK']);
  assert.match(r.stderr, /^> Host: 127\.0\.0\.1:\d+$/m, 'the Host header as sent');
  assert.match(r.stderr, /^< Location: \/r2$/m);
  // -I with -L: every head on stdout, as curl prints them.
  const head = await cli(['get', '-I', '-L', `${base}/r1`]);
  assert.deepEqual(head.stdout.split('\n').filter((l) => l.startsWith('HTTP/')), ['HTTP/1.1 301 Moved Permanently', 'HTTP/1.1 302 Found', 'HTTP/1.1 200 OK']);
});

test('-w warns about a variable it does not know; --har and --html say what they wrote', async () => {
  const w = await cli(['get', '-w', '%{http_code} %{no_such_thing}\\n', `${base}/hello`]);
  assert.equal(w.code, 0);
  assert.equal(w.stdout, 'hello\n200 \n');
  assert.equal(w.stderr, "protostack get: unknown -w variable '%{no_such_thing}' (printed as nothing)\n");
  const har = join(dir, 'x.har');
  const html = join(dir, 'x.html');
  const r = await cli(['get', '--har', har, '--html', html, `${base}/hello`]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, new RegExp(`^protostack get: wrote ${har} \\(HAR 1\\.2\\)$`, 'm'));
  assert.match(r.stderr, new RegExp(`^protostack get: wrote ${html} \\(HTML report\\)$`, 'm'));
  assert.equal((JSON.parse(readFileSync(har, 'utf8')) as { log: { entries: unknown[] } }).log.entries.length, 1);
  assert.match(readFileSync(html, 'utf8'), /<html/i);
  // The client recorded the exchanges itself: with -L each hop is an entry, the later ones on the kept connection.
  const hops = join(dir, 'hops.har');
  assert.equal((await cli(['get', '-L', '--har', hops, `${base}/r1`])).code, 0);
  type Entry = { response: { status: number; headersSize: number }; timings: { dns: number; connect: number }; connection: string };
  const entries = (JSON.parse(readFileSync(hops, 'utf8')) as { log: { entries: Entry[] } }).log.entries;
  assert.deepEqual(entries.map((e) => e.response.status), [301, 302, 200]);
  assert.ok(entries.every((e) => e.response.headersSize > 0 && e.connection === entries[0]!.connection));
  assert.ok(entries[0]!.timings.connect >= 0);
  assert.deepEqual(entries.slice(1).map((e) => [e.timings.dns, e.timings.connect]), [[-1, -1], [-1, -1]]);
});
