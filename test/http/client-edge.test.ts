/**
 * The client against scripted peers: a server that drops a kept-alive
 * connection under the next request, slow servers, a proxy (plain and
 * CONNECT), HTTPS, and Happy Eyeballs falling back from ::1 to 127.0.0.1.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import { after, test } from 'node:test';
import { Resolver } from '../../src/dns/resolver.js';
import { Agent } from '../../src/http/agent.js';
import { request } from '../../src/http/client.js';
import { interleave } from '../../src/http/dial.js';

const agents: Agent[] = [];
const servers: net.Server[] = [];
after(async () => {
  for (const a of agents) await a.close();
  for (const s of servers) s.close();
});

function agent(options: ConstructorParameters<typeof Agent>[0] = {}): Agent {
  const a = new Agent({ proxy: false, ...options });
  agents.push(a);
  return a;
}

/** A raw TCP server on 127.0.0.1 whose connections `script` handles; the number of connections is counted. */
async function rawServer(script: (socket: net.Socket, index: number) => void): Promise<{ port: number; connections: () => number }> {
  let count = 0;
  const server = net.createServer((s) => script(s, count++));
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { port: (server.address() as net.AddressInfo).port, connections: () => count };
}

const OK = (body: string, extra = '') => `HTTP/1.1 200 OK\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`;

test('a kept-alive connection the server dropped under the next request: the GET is retried once on a fresh connection', async () => {
  const server = await rawServer((socket, index) => {
    let requests = 0;
    socket.on('data', () => {
      requests++;
      if (index === 0 && requests === 2) return socket.destroy(); // closed under the second request, no answer
      socket.write(OK(`conn ${index} req ${requests}`));
    });
  });
  const a = agent();
  const url = `http://127.0.0.1:${server.port}/`;
  assert.equal(await (await request(url, { agent: a })).body.text(), 'conn 0 req 1');
  assert.equal(await (await request(url, { agent: a })).body.text(), 'conn 1 req 1', 'retried on a new connection');
  assert.equal(server.connections(), 2);
});

test('a POST on a dropped connection is not retried: it fails with ERR_HTTP_SOCKET', async () => {
  const server = await rawServer((socket, index) => {
    let requests = 0;
    socket.on('data', () => {
      requests++;
      if (index === 0 && requests === 2) return socket.destroy();
      socket.write(OK('ok'));
    });
  });
  const a = agent();
  const url = `http://127.0.0.1:${server.port}/`;
  await (await request(url, { agent: a })).body.dump();
  await assert.rejects(request(url, { agent: a, method: 'POST', body: 'x' }), { code: 'ERR_HTTP_SOCKET' });
});

test('headers and body timeouts', async () => {
  const silent = await rawServer(() => {});
  const a = agent();
  await assert.rejects(request(`http://127.0.0.1:${silent.port}/`, { agent: a, headersTimeout: 150 }), { code: 'ERR_HTTP_HEADERS_TIMEOUT' });
  const stalls = await rawServer((socket) => socket.once('data', () => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc')));
  const res = await request(`http://127.0.0.1:${stalls.port}/`, { agent: a, bodyTimeout: 150 });
  await assert.rejects(res.body.text(), { code: 'ERR_HTTP_BODY_TIMEOUT' });
});

test('an abort in the middle of the body ends the body with ERR_HTTP_ABORTED', async () => {
  const trickle = await rawServer((socket) => socket.once('data', () => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nfirst part')));
  const a = agent();
  const ac = new AbortController();
  const res = await request(`http://127.0.0.1:${trickle.port}/`, { agent: a, signal: ac.signal });
  const reading = res.body.text();
  setTimeout(() => ac.abort(), 50);
  await assert.rejects(reading, { code: 'ERR_HTTP_ABORTED' });
});

test('a malformed response is a typed parse error', async () => {
  const bad = await rawServer((socket) => socket.once('data', () => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n')));
  await assert.rejects(request(`http://127.0.0.1:${bad.port}/`, { agent: agent() }), { code: 'ERR_HTTP_TE_AND_CL' });
});

test('Happy Eyeballs: families interleave, and a refused ::1 falls back to 127.0.0.1 at once', async () => {
  assert.deepEqual(
    interleave([
      { address: '::1', family: 6 },
      { address: '::2', family: 6 },
      { address: '127.0.0.1', family: 4 },
    ]).map((a) => a.address),
    ['::1', '127.0.0.1', '::2'],
  );
  const server = await rawServer((socket) => socket.once('data', () => socket.end(OK('v4 only'))));
  const a = agent({ resolver: new Resolver({ hosts: false, resolvConf: false, servers: ['127.0.0.1:1'] }) });
  const t0 = performance.now();
  const res = await request(`http://localhost:${server.port}/`, { agent: a });
  assert.equal(await res.body.text(), 'v4 only');
  assert.ok(performance.now() - t0 < 240, 'did not wait out the 250 ms attempt delay');
});

test('HTTP proxy: absolute-form for http, CONNECT tunnel for https; no_proxy bypasses', async () => {
  const seen: string[] = [];
  const cert = readFileSync(new URL('../../../test/fixtures/localhost.crt', import.meta.url));
  const key = readFileSync(new URL('../../../test/fixtures/localhost.key', import.meta.url));
  const origin = https.createServer({ cert, key }, (req, res) => res.end(`secure ${req.url}`));
  servers.push(origin as unknown as net.Server);
  origin.listen(0, '127.0.0.1');
  await once(origin, 'listening');
  const originPort = (origin.address() as net.AddressInfo).port;
  const proxy = await rawServer((client) => {
    client.once('data', (first: Buffer) => {
      const line = first.toString('latin1').split('\r\n')[0]!;
      seen.push(line);
      const [method, target] = line.split(' ');
      if (method === 'CONNECT') {
        const [host, port] = target!.split(':');
        const upstream = net.connect(Number(port), host, () => {
          client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
          client.pipe(upstream).pipe(client);
        });
        return;
      }
      client.end(OK(`proxied ${target}`, 'Connection: close\r\n'));
    });
  });
  // Names are only ever asked of a dead loopback port: no query leaves the machine.
  const resolver = new Resolver({ hosts: false, resolvConf: false, servers: ['127.0.0.1:1'], timeout: 200, attempts: 1 });
  const a = agent({ proxy: { http: `http://127.0.0.1:${proxy.port}`, https: `http://127.0.0.1:${proxy.port}`, noProxy: 'skip.test' }, tls: { ca: cert }, resolver });
  const plain = await request('http://example.test/path?q=1', { agent: a });
  assert.equal(await plain.body.text(), 'proxied http://example.test/path?q=1');
  const secure = await request(`https://localhost:${originPort}/over-tunnel`, { agent: a });
  assert.equal(await secure.body.text(), 'secure /over-tunnel');
  assert.deepEqual(seen, ['GET http://example.test/path?q=1 HTTP/1.1', `CONNECT localhost:${originPort} HTTP/1.1`]);
  await assert.rejects(request('http://skip.test/', { agent: a, headersTimeout: 500 }), { code: 'ERR_HTTP_SOCKET' }, 'no_proxy: resolved directly, and skip.test does not resolve');
});

test('HTTPS through node:tls over the socket library', async () => {
  const cert = readFileSync(new URL('../../../test/fixtures/localhost.crt', import.meta.url));
  const key = readFileSync(new URL('../../../test/fixtures/localhost.key', import.meta.url));
  const server = https.createServer({ cert, key }, (req, res) => res.end(`tls ok ${req.httpVersion}`));
  servers.push(server as unknown as net.Server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  const a = agent({ tls: { ca: cert } });
  for (let i = 0; i < 2; i++) {
    const res = await request(`https://localhost:${port}/`, { agent: a });
    assert.equal(await res.body.text(), 'tls ok 1.1');
    assert.equal(res.reused, i > 0);
    if (i === 0) assert.ok(res.timings.tls > 0);
  }
  const strict = agent();
  await assert.rejects(request(`https://localhost:${port}/`, { agent: strict }), { code: 'ERR_HTTP_SOCKET' }, 'an unknown CA is refused');
});
