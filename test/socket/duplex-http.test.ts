/**
 * The other direction of the seam: Node's own HTTP client and undici, given a
 * Duplex from toDuplex as their connection, speak HTTP over either stack —
 * over protostack's own TCP on the user stack. The server is node:http fed
 * the server side's Duplex, so neither end touches node:net.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { Duplex } from 'node:stream';
import { Client } from 'undici';
import { dial } from '../helpers.js';
import { eachStack, listenOn, type Net } from './stacks.js';

/** A node:http server on the server host: every accepted descriptor is handed to it as a Duplex. */
async function httpServer(net: Net, body: Buffer): Promise<{ port: number; stop: () => Promise<void> }> {
  const { fd: listener, port } = await listenOn(net.server);
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const got = Buffer.concat(chunks);
      res.setHeader('content-type', 'application/octet-stream');
      res.end(req.method === 'POST' ? Buffer.from(`got ${got.length} bytes`) : body);
    });
  });
  let stopped = false;
  const accepting = (async () => {
    while (!stopped) {
      let fd: number;
      try {
        fd = await net.server.lib.accept(listener);
      } catch {
        return;
      }
      server.emit('connection', net.server.lib.toDuplex(fd));
    }
  })();
  return {
    port,
    stop: async () => {
      stopped = true;
      server.closeAllConnections();
      await net.server.lib.close(listener);
      await accepting;
    },
  };
}

eachStack('node:http: a request whose createConnection returns the Duplex gets the whole body, twice', async (net) => {
  const body = Buffer.alloc(200_000, 'x');
  const { port, stop } = await httpServer(net, body);
  let connections = 0;
  const duplexes: Duplex[] = [];
  // No keep-alive Agent here: a fresh connection per request (the keep-alive Agent is the next test).
  const agent = new http.Agent({ keepAlive: false, maxSockets: 1 });
  // An Agent's createConnection may hand its socket back through the callback: the descriptor is dialled first.
  (agent as unknown as { createConnection: unknown }).createConnection = (_o: unknown, cb: (e: Error | null, s?: Duplex) => void) => {
    connections++;
    dial(net.client.lib, port, net.server.address).then((fd) => {
      const d = net.client.lib.toDuplex(fd);
      duplexes.push(d);
      cb(null, d);
    }, cb);
  };
  const get = () =>
    new Promise<Buffer>((resolve, reject) => {
      const req = http.request({ host: net.server.address, port, path: '/', agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve(Buffer.concat(chunks)));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    });
  assert.deepEqual(await get(), body);
  assert.deepEqual(await get(), body);
  assert.equal(connections, 2, 'one Duplex per request');
  agent.destroy();
  await stop();
});

eachStack('node:http with a keepAlive Agent reuses one Duplex for every request; setKeepAlive and setNoDelay reach setsockopt', async (net) => {
  const body = Buffer.alloc(50_000, 'k');
  const { port, stop } = await httpServer(net, body);
  const fds: number[] = [];
  const agent = new http.Agent({ keepAlive: true, keepAliveMsecs: 7000, maxSockets: 1 });
  (agent as unknown as { createConnection: unknown }).createConnection = (_o: unknown, cb: (e: Error | null, s?: Duplex) => void) => {
    dial(net.client.lib, port, net.server.address).then((fd) => {
      fds.push(fd);
      const d = net.client.lib.toDuplex(fd);
      d.setNoDelay(true);
      cb(null, d);
    }, cb);
  };
  const get = () =>
    new Promise<Buffer>((resolve, reject) => {
      const req = http.request({ host: net.server.address, port, path: '/', agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve(Buffer.concat(chunks)));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    });
  for (let i = 0; i < 3; i++) assert.deepEqual(await get(), body);
  assert.equal(fds.length, 1, 'three requests over one connection');
  // The Agent called setKeepAlive(true, keepAliveMsecs) when the socket went back to the pool.
  const options = await net.client.lib.getsockopt(fds[0]!);
  assert.equal(options.keepAlive, true);
  assert.equal(options.keepAliveIdle, 7000);
  assert.equal(options.noDelay, true);
  agent.destroy();
  await stop();
});

eachStack('a Duplex emits timeout after setTimeout ms without traffic, and setTimeout(0) stops it', async (net, t) => {
  // The idle timer runs on the wall clock, as net.Socket's does; the simulation's virtual time would race past it.
  if (net.name === 'user') return t.skip('wall-clock timer; the simulated network runs on virtual time');
  const { fd: listener, port } = await listenOn(net.server);
  const fd = await dial(net.client.lib, port, net.server.address);
  const peer = await net.server.lib.accept(listener);
  const d = net.client.lib.toDuplex(fd);
  const fired = await new Promise<boolean>((resolve) => {
    const bound = setTimeout(() => resolve(false), 5000);
    d.setTimeout(30, () => {
      clearTimeout(bound);
      resolve(true);
    });
  });
  assert.equal(fired, true);
  assert.equal(d.timeout, 30);
  d.setTimeout(0);
  assert.equal(d.timeout, 0);
  d.destroy();
  await net.server.lib.close(peer);
  await net.server.lib.close(listener);
});

eachStack('undici: a Client whose connect returns the Duplex GETs and POSTs over it', async (net) => {
  const body = Buffer.alloc(100_000, 'y');
  const { port, stop } = await httpServer(net, body);
  let connections = 0;
  const client = new Client(`http://${net.server.address}:${port}`, {
    connect: (_options, callback) => {
      connections++;
      dial(net.client.lib, port, net.server.address).then(
        (fd) => (callback as (e: null, s: unknown) => void)(null, net.client.lib.toDuplex(fd)),
        (e: Error) => (callback as (e: Error, s: null) => void)(e, null),
      );
    },
  });
  const get = await client.request({ path: '/', method: 'GET' });
  assert.equal(get.statusCode, 200);
  assert.deepEqual(Buffer.from(await get.body.arrayBuffer()), body);
  const post = await client.request({ path: '/', method: 'POST', body: Buffer.alloc(50_000, 'z') });
  assert.equal(await post.body.text(), 'got 50000 bytes');
  assert.equal(connections, 1, 'both requests on one connection');
  await client.close();
  await stop();
});

