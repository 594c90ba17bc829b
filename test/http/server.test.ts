/**
 * The HTTP/1.1 server on real loopback sockets: Debian's curl and wrk as
 * clients, and raw bytes through node:net for what a well-behaved client
 * never sends (RFC 9112 framing attacks, oversized heads, slow clients).
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { serve, type Handler, type HttpServer, type ServeOptions } from '../../src/http/server/index.js';
import { randomBytesFrom, xorshift } from '../prng.js';

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function need(tool: string, install: string): void {
  try {
    execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
  } catch {
    throw new Error(`${tool} is not installed: these tests use it as a real HTTP client (Debian: apt-get install ${install}; CI installs it)`);
  }
}

/** The test application: a path per behaviour. */
const app: Handler = (req, res) => {
  const url = req.url;
  if (url === '/') return void res.end('hello');
  if (url === '/later') {
    // A handler that returns at once and ends the response later, node:http style.
    setTimeout(() => void res.end('later'), 50);
    return;
  }
  return routes(req, res, url);
};

async function routes(req: Parameters<Handler>[0], res: Parameters<Handler>[1], url: string): Promise<void> {
  const [path, query = ''] = url.split('?');
  const params = new URLSearchParams(query);
  switch (path) {
    case '/echo': {
      // The body's length and hash, so a large upload is checked without echoing it.
      const hash = createHash('sha256');
      let length = 0;
      for await (const chunk of req.body) {
        hash.update(chunk);
        length += chunk.length;
      }
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({ length, sha256: hash.digest('hex'), trailers: req.trailers }));
      return;
    }
    case '/slow':
      await sleep(Number(params.get('ms') ?? 200));
      res.end(`slow ${params.get('id') ?? ''}`);
      return;
    case '/id':
      res.end(`id ${params.get('n')}`);
      return;
    case '/stream':
      await res.write('one ');
      await res.write('two ');
      await res.end('three');
      return;
    case '/stream-slow':
      for (let i = 0; i < 5; i++) {
        await res.write(`part ${i}\n`);
        await sleep(100);
      }
      await res.end();
      return;
    case '/nocontent':
      res.status = 204;
      res.end();
      return;
    case '/throw':
      throw new Error('boom');
    case '/throw-late':
      await res.write('partial');
      throw new Error('boom after the head');
    case '/method':
      res.end(`${req.method} ${req.minor}`);
      return;
    default:
      res.status = 404;
      res.end('not found');
  }
}

let server: HttpServer;
let port: number;
const extra: HttpServer[] = [];
let scratch: string;

before(async () => {
  need('curl', 'curl');
  // Above the 1 MiB default body limit, for the large uploads below.
  server = await serve(app, { keepAliveTimeout: 2000, limits: { maxBodyBytes: 8 * 1024 * 1024 } });
  port = server.port;
  scratch = mkdtempSync(join(tmpdir(), 'http-server-test-'));
});

after(async () => {
  await server?.close({ timeout: 1000 });
  for (const s of extra) await s.close({ timeout: 1000 });
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

async function another(handler: Handler, options: ServeOptions): Promise<HttpServer> {
  const s = await serve(handler, options);
  extra.push(s);
  return s;
}

// ---- raw clients ----

interface Exchange {
  data: Buffer;
  /** The server closed the connection (we saw its FIN) before the wait ran out. */
  closed: boolean;
  ms: number;
}

/** Writes the bytes (all at once, or in the pieces given, `gap` ms apart), then reads until the server closes or `wait` ms pass. */
function exchange(p: number, pieces: (string | Buffer)[] | string | Buffer, options: { wait?: number; gap?: number } = {}): Promise<Exchange> {
  const list = Array.isArray(pieces) ? pieces : [pieces];
  const wait = options.wait ?? 3000;
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const sock = net.connect(p, '127.0.0.1');
    const parts: Buffer[] = [];
    let done = false;
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve({ data: Buffer.concat(parts), closed, ms: performance.now() - t0 });
    };
    const timer = setTimeout(() => finish(false), wait);
    sock.on('data', (d) => parts.push(d));
    sock.on('end', () => finish(true));
    sock.on('error', (e: NodeJS.ErrnoException) => (e.code === 'ECONNRESET' ? finish(true) : reject(e)));
    sock.on('connect', async () => {
      for (let i = 0; i < list.length; i++) {
        if (i > 0 && options.gap) await sleep(options.gap);
        if (!sock.destroyed) sock.write(list[i]!);
      }
    });
  });
}

interface Parsed {
  status: number;
  headers: Map<string, string>;
  body: Buffer;
  head: string;
}

/** Splits a byte stream into responses, framing each the way a client would (RFC 9112 §6.3). */
function responses(data: Buffer, methods: string[] = []): Parsed[] {
  const out: Parsed[] = [];
  let at = 0;
  while (at < data.length) {
    const end = data.indexOf('\r\n\r\n', at);
    if (end < 0) throw new Error(`incomplete head: ${JSON.stringify(data.subarray(at).toString('latin1'))}`);
    const head = data.subarray(at, end).toString('latin1');
    const [statusLine, ...lines] = head.split('\r\n');
    const status = Number(statusLine!.split(' ')[1]);
    const headers = new Map<string, string>();
    for (const line of lines) {
      const i = line.indexOf(':');
      headers.set(line.slice(0, i).toLowerCase(), line.slice(i + 1).trim());
    }
    at = end + 4;
    const method = status >= 200 ? methods.shift() : undefined;
    let body: Buffer = Buffer.alloc(0);
    if (method === 'HEAD' || status === 204 || status === 304 || status < 200) {
      // no body
    } else if (headers.get('transfer-encoding') === 'chunked') {
      const parts: Buffer[] = [];
      for (;;) {
        const lf = data.indexOf('\r\n', at);
        const size = parseInt(data.subarray(at, lf).toString('latin1'), 16);
        at = lf + 2;
        if (size === 0) {
          at = data.indexOf('\r\n', at) + 2;
          break;
        }
        parts.push(data.subarray(at, at + size));
        at += size + 2;
      }
      body = Buffer.concat(parts);
    } else if (headers.has('content-length')) {
      const n = Number(headers.get('content-length'));
      body = data.subarray(at, at + n);
      at += n;
    } else {
      body = data.subarray(at);
      at = data.length;
    }
    out.push({ status, headers, body, head });
  }
  return out;
}

const GET = (path: string, extraHeaders = '') => `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${extraHeaders}\r\n`;

// ---- curl ----

test('curl --http1.0: answered, and the server ends the connection (RFC 9112 §9.3)', async () => {
  const { stdout, stderr } = await run('curl', ['-sS', '-v', '--http1.0', '-D', '-', `${server.url}method`]);
  assert.match(stdout, /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(stdout, /\r\nConnection: close\r\n/i);
  assert.match(stdout, /\r\n\r\nGET 0$/);
  assert.match(stderr, /Closing connection/i);
});

test('curl, HTTP/1.1: three URLs over one kept-alive connection', async () => {
  const before = server.stats.connections;
  const { stdout, stderr } = await run('curl', ['-sS', '-v', '-w', '[%{num_connects}]\n', `${server.url}id?n=1`, `${server.url}id?n=2`, `${server.url}id?n=3`]);
  assert.equal(stdout, 'id 1[1]\nid 2[0]\nid 3[0]\n', 'one connect in all');
  assert.match(stderr, /Re-using existing connection/i);
  assert.equal(server.stats.connections - before, 1);
});

test('curl: a chunked upload is read whole (RFC 9112 §7.1)', async () => {
  const data = randomBytes(300_000);
  const file = join(scratch, 'upload.bin');
  writeFileSync(file, data);
  const { stdout, stderr } = await run('curl', ['-sS', '-v', '-H', 'Transfer-Encoding: chunked', '--data-binary', `@${file}`, `${server.url}echo`]);
  assert.match(stderr, /> Transfer-Encoding: chunked/i);
  const got = JSON.parse(stdout) as { length: number; sha256: string };
  assert.equal(got.length, data.length);
  assert.equal(got.sha256, createHash('sha256').update(data).digest('hex'));
});

test('curl: Expect: 100-continue gets 100 Continue before the body is sent (RFC 9110 §10.1.1)', async () => {
  const data = randomBytes(3 * 1024 * 1024);
  const file = join(scratch, 'expect.bin');
  writeFileSync(file, data);
  const t0 = performance.now();
  // curl waits up to --expect100-timeout for the 100; a server that never sends it costs that whole wait.
  const { stdout, stderr } = await run('curl', ['-sS', '-v', '--expect100-timeout', '5', '-H', 'Expect: 100-continue', '--data-binary', `@${file}`, `${server.url}echo`], {
    maxBuffer: 16 * 1024 * 1024,
  });
  const ms = performance.now() - t0;
  assert.match(stderr, /> Expect: 100-continue/i);
  assert.match(stderr, /< HTTP\/1\.1 100 Continue/);
  const got = JSON.parse(stdout) as { length: number; sha256: string };
  assert.equal(got.length, data.length);
  assert.equal(got.sha256, createHash('sha256').update(data).digest('hex'));
  assert.ok(ms < 4000, `took ${ms.toFixed(0)} ms: curl waited for the 100`);
});

test('curl: HEAD has the GET headers and no body (RFC 9110 §9.3.2)', async () => {
  const { stdout } = await run('curl', ['-sS', '-I', server.url]);
  assert.match(stdout, /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(stdout, /\r\nContent-Length: 5\r\n/);
  assert.match(stdout, /\r\nDate: [A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT\r\n/);
});

test('curl: Connection: close is honoured', async () => {
  const { stdout, stderr } = await run('curl', ['-sS', '-v', '-D', '-', '-H', 'Connection: close', `${server.url}id?n=1`, `${server.url}id?n=2`, '-w', '[%{num_connects}]']);
  assert.match(stdout, /\r\nConnection: close\r\n/i);
  assert.equal((stdout.match(/\[1\]/g) ?? []).length, 2, 'each URL needed its own connection');
  assert.doesNotMatch(stderr, /Re-using existing connection/i);
});

// ---- raw bytes ----

test('pipelined requests are answered in order, a slow one first (RFC 9112 §9.3.2)', async () => {
  const { data, closed } = await exchange(port, GET('/slow?ms=150&id=a') + GET('/id?n=b') + GET('/slow?ms=10&id=c') + GET('/id?n=d', 'Connection: close\r\n'));
  const got = responses(data, ['GET', 'GET', 'GET', 'GET']);
  assert.deepEqual(
    got.map((r) => r.body.toString()),
    ['slow a', 'id b', 'slow c', 'id d'],
  );
  assert.equal(got[3]!.headers.get('connection'), 'close');
  assert.ok(closed, 'the server closed after the last, which asked for it');
});

test('HEAD in a pipeline: the same head, no body, and the next response follows at once', async () => {
  const { data } = await exchange(port, `HEAD / HTTP/1.1\r\nHost: x\r\n\r\n${GET('/', 'Connection: close\r\n')}`);
  const [head, get] = responses(data, ['HEAD', 'GET']);
  assert.equal(head!.status, 200);
  assert.equal(head!.headers.get('content-length'), '5');
  assert.equal(head!.body.length, 0);
  assert.equal(get!.body.toString(), 'hello');
});

test('HTTP/1.0 keep-alive is honoured when asked, with Connection: keep-alive', async () => {
  const { data, closed } = await exchange(port, ['GET /method HTTP/1.0\r\nConnection: keep-alive\r\n\r\n', 'GET /method HTTP/1.0\r\n\r\n'], { gap: 100 });
  const [first, second] = responses(data, ['GET', 'GET']);
  assert.equal(first!.headers.get('connection'), 'keep-alive');
  assert.equal(first!.body.toString(), 'GET 0');
  assert.equal(second!.headers.get('connection'), 'close');
  assert.ok(closed);
});

test('streamed bodies: chunked for 1.1, close-delimited for 1.0 (RFC 9112 §6.3)', async () => {
  const v11 = await exchange(port, GET('/stream', 'Connection: close\r\n'));
  const [r11] = responses(v11.data, ['GET']);
  assert.equal(r11!.headers.get('transfer-encoding'), 'chunked');
  assert.equal(r11!.body.toString(), 'one two three');
  const v10 = await exchange(port, 'GET /stream HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
  const [r10] = responses(v10.data, ['GET']);
  assert.equal(r10!.headers.get('transfer-encoding'), undefined);
  assert.equal(r10!.headers.get('content-length'), undefined);
  assert.equal(r10!.headers.get('connection'), 'close');
  assert.equal(r10!.body.toString(), 'one two three');
  assert.ok(v10.closed, 'the close ends the body');
});

test('204 has no body and no Content-Length; a later end() works; the connection lives on', async () => {
  const { data } = await exchange(port, GET('/nocontent') + GET('/later') + GET('/', 'Connection: close\r\n'));
  const [a, b, c] = responses(data, ['GET', 'GET', 'GET']);
  assert.equal(a!.status, 204);
  assert.equal(a!.headers.has('content-length'), false);
  assert.equal(b!.body.toString(), 'later');
  assert.equal(c!.body.toString(), 'hello');
});

test('a handler that throws before its head gets 500; after it, the connection is aborted', async () => {
  const errorsBefore = server.stats.handlerErrors;
  const { data } = await exchange(port, GET('/throw') + GET('/', 'Connection: close\r\n'));
  const [a, b] = responses(data, ['GET', 'GET']);
  assert.equal(a!.status, 500);
  assert.equal(b!.body.toString(), 'hello', 'the connection went on');
  const late = await exchange(port, GET('/throw-late'));
  assert.ok(late.closed);
  assert.match(late.data.toString('latin1'), /^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\n7\r\npartial\r\n$/);
  assert.equal(server.stats.handlerErrors - errorsBefore, 2);
});

const MALFORMED: [string, string][] = [
  ['Content-Length with Transfer-Encoding (RFC 9112 §6.1)', 'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'],
  ['two different Content-Lengths (RFC 9110 §8.6)', 'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!'],
  ['obs-fold (RFC 9112 §5.2)', 'GET / HTTP/1.1\r\nHost: x\r\nX-Folded: a\r\n b\r\n\r\n'],
  ['whitespace before the colon (RFC 9112 §5.1)', 'GET / HTTP/1.1\r\nHost : x\r\n\r\n'],
  ['a chunk size that is not hex (RFC 9112 §7.1)', 'POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n'],
  ['a bare CR (RFC 9112 §2.2)', 'GET / HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n'],
  ['HTTP/1.1 without Host (RFC 9112 §3.2)', 'GET / HTTP/1.1\r\nUser-Agent: t\r\n\r\n'],
  ['Transfer-Encoding not ending in chunked (RFC 9112 §6.3)', 'POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\nabc'],
  ['a negative Content-Length', 'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n'],
];

for (const [name, bytes] of MALFORMED) {
  test(`400 and close: ${name}`, async () => {
    const before = server.stats.parseErrors;
    const { data, closed } = await exchange(port, bytes);
    const [r, ...rest] = responses(data, ['GET']);
    assert.equal(r!.status, 400, data.toString('latin1'));
    assert.equal(r!.headers.get('connection'), 'close');
    assert.equal(rest.length, 0, 'nothing after the 400');
    assert.ok(closed, 'the server closed the connection');
    assert.equal(server.stats.parseErrors - before, 1);
  });
}

test('a good request then a smuggling attempt in one pipeline: the first answered, then 400 and close', async () => {
  const { data, closed } = await exchange(port, GET('/id?n=1') + 'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /admin HTTP/1.1\r\nHost: x\r\n\r\n');
  const got = responses(data, ['GET', 'POST']);
  assert.deepEqual(
    got.map((r) => r.status),
    [200, 400],
  );
  assert.ok(closed);
});

test('431 for a head over the limit, 414 for a long request line, 505 for HTTP/2.0', async () => {
  const big = await exchange(port, GET('/', `X-Big: ${'a'.repeat(20_000)}\r\n`));
  assert.equal(responses(big.data)[0]!.status, 431);
  assert.ok(big.closed);
  const long = await exchange(port, GET(`/${'a'.repeat(10_000)}`));
  assert.equal(responses(long.data)[0]!.status, 414);
  assert.ok(long.closed);
  const v2 = await exchange(port, 'GET / HTTP/2.0\r\nHost: x\r\n\r\n');
  assert.equal(responses(v2.data)[0]!.status, 505);
});

test('413 for a body over the configured limit, by Content-Length or by chunks', async () => {
  const small = await another(app, { limits: { maxBodyBytes: 1000 } });
  const byLength = await exchange(small.port, `POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n${'x'.repeat(5000)}`);
  assert.equal(responses(byLength.data)[0]!.status, 413);
  assert.ok(byLength.closed);
  const chunk = (n: number) => `${n.toString(16)}\r\n${'y'.repeat(n)}\r\n`;
  const byChunks = await exchange(small.port, `POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${chunk(600)}${chunk(600)}0\r\n\r\n`);
  assert.equal(responses(byChunks.data)[0]!.status, 413);
  assert.ok(byChunks.closed);
  const fits = await exchange(small.port, `POST /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 1000\r\n\r\n${'x'.repeat(1000)}`);
  assert.equal(JSON.parse(responses(fits.data)[0]!.body.toString()).length, 1000);
});

test('by default a request body is limited to 1 MiB: 413 past it (declared or chunked), whole below it', async () => {
  const s = await another(app, {});
  const MiB = 1024 * 1024;
  const declared = await exchange(s.port, `POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: ${MiB + 1}\r\n\r\n`);
  assert.equal(responses(declared.data)[0]!.status, 413);
  const piece = `${(64 * 1024).toString(16)}\r\n${'z'.repeat(64 * 1024)}\r\n`;
  const chunked = await exchange(s.port, `POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${piece.repeat(17)}0\r\n\r\n`);
  assert.equal(responses(chunked.data)[0]!.status, 413);
  const fits = await exchange(s.port, `POST /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: ${MiB}\r\n\r\n${'x'.repeat(MiB)}`);
  assert.equal(JSON.parse(responses(fits.data)[0]!.body.toString()).length, MiB);
});

test('a slow client that sends half a head gets 408 and the close after headersTimeout', async () => {
  const s = await another(app, { headersTimeout: 300 });
  const { data, closed, ms } = await exchange(s.port, 'GET / HTTP/1.1\r\nHo', { wait: 3000 });
  assert.ok(closed);
  assert.equal(responses(data)[0]!.status, 408);
  assert.ok(ms >= 250 && ms < 2000, `closed after ${ms.toFixed(0)} ms`);
  // A byte now and then does not extend the deadline.
  const drip = await exchange(s.port, ['G', 'E', 'T', ' ', '/', ' ', 'H', 'T'], { gap: 100, wait: 3000 });
  assert.ok(drip.closed);
  assert.equal(responses(drip.data)[0]!.status, 408);
  assert.ok(drip.ms < 1500, `closed after ${drip.ms.toFixed(0)} ms`);
  assert.ok(s.stats.timeouts >= 2);
});

test('a body that does not arrive within requestTimeout gets 408 and the close', async () => {
  const s = await another(app, { requestTimeout: 300 });
  const { data, closed, ms } = await exchange(s.port, 'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly part', { wait: 3000 });
  assert.ok(closed);
  assert.equal(responses(data)[0]!.status, 408);
  assert.ok(ms >= 250 && ms < 2500, `closed after ${ms.toFixed(0)} ms`);
});

test('maxConnections: a newcomer waits while every connection is busy, then the one gone idle is shed for it', async () => {
  const s = await another(app, { maxConnections: 1, keepAliveTimeout: 5000 });
  const t0 = performance.now();
  const first = exchange(s.port, GET('/slow?ms=500&id=1'), { wait: 3000 });
  await sleep(50);
  const secondAt = performance.now();
  const second = exchange(s.port, GET('/id?n=2', 'Connection: close\r\n'), { wait: 3000 });
  const [a, b] = await Promise.all([first, second]);
  assert.equal(responses(a.data, ['GET'])[0]!.body.toString(), 'slow 1');
  assert.equal(responses(b.data, ['GET'])[0]!.body.toString(), 'id 2');
  // The second was taken only once the first had answered (500 ms after it was sent) and gone idle, which closed it
  // long before its keep-alive timeout. Measured from the first's start, so a busy machine's late timers cannot fail it.
  const answeredAt = secondAt + b.ms - t0;
  assert.ok(answeredAt >= 490, `the second was answered ${answeredAt.toFixed(0)} ms after the first was sent`);
  assert.ok(a.closed && a.ms < 2000, `the first closed after ${a.ms.toFixed(0)} ms`);
  assert.equal(s.stats.shed, 1);
  assert.equal(s.stats.connections, 2);
});

test('maxConnections: with no idle connection, the slowest head is shed for a newcomer', async () => {
  const s = await another(app, { maxConnections: 2, headersTimeout: 5000 });
  const slowest = exchange(s.port, 'GET / HTTP/1.1\r\nHo', { wait: 3000 });
  await sleep(100);
  const slower = exchange(s.port, 'GET / HTTP/1.1\r\nHo', { wait: 1500 });
  await sleep(100);
  const ordinary = await exchange(s.port, GET('/id?n=3', 'Connection: close\r\n'), { wait: 3000 });
  assert.equal(responses(ordinary.data, ['GET'])[0]!.body.toString(), 'id 3');
  assert.ok(ordinary.ms < 1000, `answered after ${ordinary.ms.toFixed(0)} ms`);
  const [a, b] = await Promise.all([slowest, slower]);
  assert.ok(a.closed && a.ms < 1000, `the slowest head was closed after ${a.ms.toFixed(0)} ms`);
  assert.equal(a.data.length, 0);
  assert.equal(b.closed, false, 'the younger head was left alone');
  assert.equal(s.stats.shed, 1);
});

test('a new connection that sends nothing is closed after firstByteTimeout, silently; the head timeout runs from the first byte', async () => {
  const s = await another(app, { firstByteTimeout: 300, headersTimeout: 400 });
  const silent = await exchange(s.port, [], { wait: 3000 });
  assert.ok(silent.closed);
  assert.equal(silent.data.length, 0);
  assert.ok(silent.ms >= 250 && silent.ms < 1500, `closed after ${silent.ms.toFixed(0)} ms`);
  // 250 ms of silence, then a head in two pieces 250 ms apart: whole 500 ms after the connection, 250 ms after its first byte.
  const late = await exchange(s.port, ['', 'GET /id?n=4 HTTP/1.1\r\n', 'Host: x\r\nConnection: close\r\n\r\n'], { gap: 250, wait: 3000 });
  assert.equal(responses(late.data, ['GET'])[0]?.body.toString(), 'id 4');
});

test('an idle keep-alive connection is closed after keepAliveTimeout, silently', async () => {
  const s = await another(app, { keepAliveTimeout: 200 });
  const { data, closed, ms } = await exchange(s.port, GET('/'), { wait: 3000 });
  assert.ok(closed);
  assert.equal(responses(data, ['GET']).length, 1);
  assert.ok(ms >= 150 && ms < 2000, `closed after ${ms.toFixed(0)} ms`);
});

test('a body the handler does not read is drained and the connection kept; a large one closes it', async () => {
  const s = await another((req, res) => void res.end(`ignored ${req.url}`), { maxDrain: 64 * 1024 });
  const small = 'x'.repeat(10_000);
  const { data } = await exchange(s.port, `POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: ${small.length}\r\n\r\n${small}${GET('/b', 'Connection: close\r\n')}`);
  assert.deepEqual(
    responses(data, ['POST', 'GET']).map((r) => r.body.toString()),
    ['ignored /a', 'ignored /b'],
  );
  const big = await exchange(s.port, `POST /c HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n${'x'.repeat(1000)}`);
  const [r] = responses(big.data, ['POST']);
  assert.equal(r!.headers.get('connection'), 'close');
  assert.ok(big.closed);
});

test('an Upgrade request is answered as a plain one, then the connection closes', async () => {
  const { data, closed } = await exchange(port, GET('/id?n=up', 'Connection: Upgrade\r\nUpgrade: websocket\r\n') + GET('/id?n=after'));
  const got = responses(data, ['GET']);
  assert.equal(got.length, 1);
  assert.equal(got[0]!.body.toString(), 'id up');
  assert.equal(got[0]!.headers.get('connection'), 'close');
  assert.ok(closed);
});

test('garbage on many connections (seeded): each gets its error status and the close, and the server goes on', async (t) => {
  const seed = 0x6a61_7262;
  t.diagnostic(`seed ${seed}`);
  const rand = xorshift(seed);
  const cases: [Buffer, number][] = [
    [randomBytesFrom(rand, 5000), 400],
    [Buffer.from('\r\n\r\n\r\n\r\n\r\n\r\n'), 400],
    [Buffer.from('GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n'), 400],
    [Buffer.from('GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffffff\r\n'), 400],
    [Buffer.from('\0\0\0\0GET / HTTP/1.1\r\n\r\n'), 400],
    [Buffer.from('GET /\0 HTTP/1.1\r\nHost: x\r\n\r\n'), 400],
    [Buffer.from(`GET / HTTP/1.1\r\n${'X: y\r\n'.repeat(3000)}\r\n`), 431],
    [Buffer.from('CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n'), 501],
    // Short garbage that starts like a method and has no line end: refused at the first bad byte, not at a timeout.
    [Buffer.from('gJ\x84s\x7f\x8d\x13A', 'latin1'), 400],
  ];
  const fixed = cases.length;
  // Random bytes are never a request: 400, or a close with no answer at all (status 0 here).
  for (let i = 0; i < 30; i++) cases.push([randomBytesFrom(rand, 1 + (rand() % 2000)), 400]);
  const results = await Promise.all(cases.map(([b]) => exchange(port, b, { wait: 2000 })));
  for (const [i, r] of results.entries()) {
    const what = `input ${i} (seed ${seed}): ${cases[i]![0].subarray(0, 16).toString('hex')}…`;
    assert.ok(r.closed, `${what}: the server closed the connection within 2 s`);
    if (r.data.length === 0 && i >= fixed) continue;
    const got = responses(r.data, ['GET']);
    assert.deepEqual(got.map((x) => x.status), [cases[i]![1]], `${what}: one ${cases[i]![1]} and nothing else`);
    assert.equal(got[0]!.headers.get('connection'), 'close', what);
  }
  const { stdout } = await run('curl', ['-sS', server.url]);
  assert.equal(stdout, 'hello');
});

test('graceful close: an in-flight response finishes, idle connections close, new ones are refused', async () => {
  const s = await serve(app, {});
  const idle = exchange(s.port, GET('/'), { wait: 5000 });
  await sleep(100);
  const slow = exchange(s.port, GET('/stream-slow'), { wait: 5000 });
  await sleep(150);
  const t0 = performance.now();
  await s.close({ timeout: 3000 });
  const closeMs = performance.now() - t0;
  const [i, r] = await Promise.all([idle, slow]);
  assert.ok(i.closed, 'the idle keep-alive connection was closed');
  assert.equal(responses(i.data, ['GET']).length, 1);
  assert.ok(r.closed);
  const [streamed] = responses(r.data, ['GET']);
  assert.equal(streamed!.body.toString(), 'part 0\npart 1\npart 2\npart 3\npart 4\n', 'the slow response was finished');
  assert.ok(closeMs >= 200 && closeMs < 2500, `close took ${closeMs.toFixed(0)} ms`);
  await assert.rejects(
    new Promise((resolve, reject) => {
      const c = net.connect(s.port, '127.0.0.1', () => resolve(c));
      c.on('error', reject);
    }),
    /ECONNREFUSED/,
  );
  assert.equal(s.stats.open, 0);
});

test('wrk: a short run with keep-alive, no errors and no non-2xx', async () => {
  need('wrk', 'wrk');
  const before = server.stats.responses;
  const { stdout } = await run('wrk', ['-t1', '-c10', '-d2s', server.url], { timeout: 10_000 });
  assert.doesNotMatch(stdout, /Non-2xx or 3xx responses/);
  assert.doesNotMatch(stdout, /Socket errors/);
  const m = /(\d+) requests in/.exec(stdout);
  assert.ok(m && Number(m[1]) > 1000, stdout);
  assert.ok(server.stats.responses - before >= Number(m![1]));
});
