/** The HTTP client against real servers: nginx (keep-alive, chunked, 304, redirects) and Python's http.server (HTTP/1.0). */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Agent } from '../../src/http/agent.js';
import { request } from '../../src/http/client.js';
import { fetch } from '../../src/http/fetch.js';
import { HttpError } from '../../src/wire/http/errors.js';
import { startNginx, startPythonHttp, type Peer } from './peers.js';

let nginx: Peer;
let python: Peer;
const agents: Agent[] = [];
const big = Buffer.alloc(3 * 1024 * 1024 + 17, 'x');
before(async () => {
  nginx = await startNginx({ 'hello.txt': 'hello, world\n', 'big.bin': big });
  python = await startPythonHttp({ 'index.txt': 'from python\n' });
});
after(async () => {
  for (const a of agents) await a.close();
  nginx?.stop();
  python?.stop();
});

function agent(options: ConstructorParameters<typeof Agent>[0] = {}): Agent {
  const a = new Agent({ proxy: false, ...options });
  agents.push(a);
  return a;
}

const base = () => `http://127.0.0.1:${nginx.port}`;

test('keep-alive: several requests reuse one connection (nginx numbers its connections)', async () => {
  const a = agent();
  const conns = new Set<string>();
  for (let i = 0; i < 5; i++) {
    const res = await request(`${base()}/hello.txt`, { agent: a });
    assert.equal(res.statusCode, 200);
    assert.equal(await res.body.text(), 'hello, world\n');
    assert.equal(res.reused, i > 0);
    conns.add(res.headers['x-conn'] as string);
  }
  assert.equal(conns.size, 1);
  assert.equal(a.stats.connections, 1);
});

test('content-length and chunked bodies arrive whole', async () => {
  const a = agent();
  const res = await request(`${base()}/big.bin`, { agent: a });
  assert.equal(res.headers['content-length'], String(big.length));
  assert.ok(Buffer.from(await res.body.bytes()).equals(big));
  const chunked = await request(`${base()}/chunked/text.txt`, { agent: a });
  assert.equal(chunked.headers['transfer-encoding'], 'chunked');
  assert.equal(await chunked.body.text(), 'HELLO '.repeat(5000));
  assert.equal(chunked.reused, true, 'the connection survives a chunked body');
});

test('304 Not Modified for a matching ETag, with no body', async () => {
  const a = agent();
  const first = await request(`${base()}/hello.txt`, { agent: a });
  await first.body.dump();
  const etag = first.headers['etag'] as string;
  assert.ok(etag);
  const second = await request(`${base()}/hello.txt`, { agent: a, headers: { 'if-none-match': etag } });
  assert.equal(second.statusCode, 304);
  assert.equal((await second.body.bytes()).length, 0);
  const third = await request(`${base()}/hello.txt`, { agent: a });
  assert.equal(await third.body.text(), 'hello, world\n', 'the connection is still in step after a 304');
});

test('redirects: 301/302/303 become GET, 307/308 keep the method and body; hops are bounded', async () => {
  const a = agent();
  const r = await request(`${base()}/r301`, { agent: a, maxRedirects: 5 });
  assert.equal(await r.body.text(), 'hello, world\n');
  assert.deepEqual(r.redirects, [`${base()}/hello.txt`]);
  const notFollowed = await request(`${base()}/r302`, { agent: a });
  assert.equal(notFollowed.statusCode, 302);
  await notFollowed.body.dump();
  for (const code of [301, 302, 303]) {
    const res = await request(`${base()}/r${code}`, { agent: a, method: 'POST', body: 'data', maxRedirects: 5 });
    assert.equal(await res.body.text(), 'hello, world\n', `POST after ${code} became GET`);
  }
  for (const code of [307, 308]) {
    const res = await request(`${base()}/r${code}`, { agent: a, method: 'POST', body: 'data', maxRedirects: 5 });
    assert.equal(await res.body.text(), 'POST 4\n', `${code} kept POST and its 4-byte body`);
  }
  await assert.rejects(request(`${base()}/loop`, { agent: a, maxRedirects: 3 }), (e: any) => e instanceof HttpError && e.code === 'ERR_HTTP_TOO_MANY_REDIRECTS');
});

test('Connection: close from the server: the next request opens a new connection', async () => {
  const a = agent();
  const one = await request(`${base()}/close`, { agent: a });
  assert.equal(one.headers['connection'], 'close');
  await one.body.dump();
  const two = await request(`${base()}/hello.txt`, { agent: a });
  await two.body.dump();
  assert.equal(two.reused, false);
  assert.notEqual(two.headers['x-conn'], one.headers['x-conn']);
});

test('HTTP/1.0 against Python http.server: one connection per request, closed by the server', async () => {
  const a = agent();
  for (let i = 0; i < 3; i++) {
    const res = await request(`http://127.0.0.1:${python.port}/index.txt`, { agent: a, version: '1.0' });
    assert.equal(res.httpVersion, '1.0');
    assert.equal(await res.body.text(), 'from python\n');
    assert.equal(res.reused, false);
  }
  const oneOne = await request(`http://127.0.0.1:${python.port}/index.txt`, { agent: a });
  assert.equal(await oneOne.body.text(), 'from python\n', 'an HTTP/1.0 answer to HTTP/1.1 is read to the close');
});

test('fetch returns a WHATWG Response', async () => {
  const a = agent();
  const res = await fetch(`${base()}/r302`, { agent: a });
  assert.ok(res instanceof Response);
  assert.equal(res.status, 200);
  assert.equal(res.redirected, true);
  assert.equal(res.url, `${base()}/hello.txt`);
  assert.equal(res.headers.get('content-type'), 'text/plain');
  assert.equal(await res.text(), 'hello, world\n');
  const post = await fetch(`${base()}/echo-method`, { agent: a, method: 'POST', body: 'abc' });
  assert.equal(await post.text(), 'POST 3\n');
  const manual = await fetch(`${base()}/r301`, { agent: a, redirect: 'manual' });
  assert.equal(manual.status, 301);
  await manual.arrayBuffer();
  await assert.rejects(fetch(`http://127.0.0.1:1/`, { agent: a }), TypeError);
});

test('with pipelining on, 20 concurrent requests to nginx share one connection and each gets its own answer', async () => {
  const a = agent({ connections: 1, pipelining: 8 });
  await (await request(`${base()}/hello.txt`, { agent: a })).body.dump();
  const results = await Promise.all(
    Array.from({ length: 20 }, (_, i) =>
      request(`${base()}/${i % 2 ? 'hello.txt' : 'echo-method'}`, { agent: a }).then(async (r) => [i, await r.body.text(), r.headers['x-conn']] as const),
    ),
  );
  for (const [i, text] of results) assert.equal(text, i % 2 ? 'hello, world\n' : 'GET \n');
  assert.equal(new Set(results.map((r) => r[2])).size, 1, 'one connection carried them all');
});

test('bad URLs and aborts are typed errors', async () => {
  const a = agent();
  await assert.rejects(request('ftp://example.test/', { agent: a }), { code: 'ERR_HTTP_BAD_URL' });
  await assert.rejects(request('not a url', { agent: a }), { code: 'ERR_HTTP_BAD_URL' });
  const ac = new AbortController();
  ac.abort();
  await assert.rejects(request(`${base()}/hello.txt`, { agent: a, signal: ac.signal }), { code: 'ERR_HTTP_ABORTED' });
});
