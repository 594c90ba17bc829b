/**
 * Every wait has a timeout, on both stacks. A connect timeout needs a
 * listener whose accept queue is full, so that further SYNs are dropped
 * (`net.neverAccepts`): python3's listen() for the kernel, a listener that
 * never accepts on the simulated server host for the user stack.
 */
import assert from 'node:assert/strict';
import { dial } from '../helpers.js';
import { connectPair, eachStack, listenOn } from './stacks.js';

for (const backlog of [0, 1]) {
  eachStack(`connect to a listener whose accept queue is full times out with ETIMEDOUT, after backlog + 1 connections (Linux; backlog ${backlog})`, async (net) => {
    const { lib } = net.client;
    const port = await net.neverAccepts(backlog);
    // Linux holds backlog + 1 finished handshakes in the accept queue (sk_acceptq_is_full), then drops further SYNs.
    const fillers: number[] = [];
    let connected = 0;
    let timedOut = false;
    for (let i = 0; i < 8 && !timedOut; i++) {
      const fd = await lib.socket('tcp');
      fillers.push(fd);
      const t0 = net.now();
      try {
        await lib.connect(fd, net.server.address, port, { timeout: 300 });
        connected++;
      } catch (e: any) {
        assert.equal(e.code, 'ETIMEDOUT');
        assert.equal(e.call, 'connect');
        assert.ok(e.message.includes(`${net.server.address}:${port}`));
        const waited = net.now() - t0;
        assert.ok(waited >= 290 && waited < 2000, `waited ${waited} ms`);
        timedOut = true;
      }
    }
    assert.ok(timedOut, 'one connect timed out once the queue was full');
    assert.equal(connected, backlog + 1, 'the accept queue held backlog + 1 connections');
    for (const fd of fillers) await lib.close(fd);
  });
}

eachStack('the connectTimeout option applies when no per-call timeout is given; a signal cancels with ECANCELED', async (net) => {
  const { lib } = net.client;
  const port = await net.neverAccepts(0);
  const fds: number[] = [];
  for (let i = 0; i < 3; i++) {
    const fd = await lib.socket('tcp');
    fds.push(fd);
    await lib.connect(fd, net.server.address, port, { timeout: 300 }).catch(() => {});
  }
  const fd = await lib.socket('tcp');
  await lib.setsockopt(fd, { connectTimeout: 200 });
  const t0 = net.now();
  await assert.rejects(lib.connect(fd, net.server.address, port), { code: 'ETIMEDOUT' });
  assert.ok(net.now() - t0 >= 190, 'waited the socket option, not less');
  const other = await lib.socket('tcp');
  const abort = new AbortController();
  net.after(100, () => abort.abort());
  await assert.rejects(lib.connect(other, net.server.address, port, { signal: abort.signal }), { code: 'ECANCELED', call: 'connect' });
  for (const d of [...fds, fd, other]) await lib.close(d);
});

eachStack('read times out with ETIMEDOUT, and the connection is still usable afterwards (SO_RCVTIMEO)', async (net) => {
  const { client, server } = net;
  const { fd, conn, close } = await connectPair({ client, server });
  await client.lib.setsockopt(fd, { readTimeout: 150 });
  const buf = new Uint8Array(8);
  const t0 = net.now();
  await assert.rejects(client.lib.read(fd, buf), (e: any) => e.code === 'ETIMEDOUT' && e.message === `read(fd ${fd}): ETIMEDOUT (timed out)`);
  assert.ok(net.now() - t0 >= 140);
  await server.lib.write(conn, new Uint8Array([1, 2, 3]));
  assert.equal(await client.lib.read(fd, buf), 3);
  await close();
});

eachStack('accept times out with ETIMEDOUT; a read blocked when its descriptor is closed fails with EBADF', async (net) => {
  const { client, server } = net;
  const { fd: listener, port } = await listenOn(server);
  const t0 = net.now();
  await assert.rejects(server.lib.accept(listener, { timeout: 100 }), { code: 'ETIMEDOUT', call: 'accept' });
  assert.ok(net.now() - t0 >= 90);
  const fd = await dial(client.lib, port, server.address);
  const pending = client.lib.read(fd, new Uint8Array(8));
  await net.sleep(20);
  await client.lib.close(fd);
  await assert.rejects(pending, { code: 'EBADF', call: 'read' });
  await server.lib.close(listener);
});

eachStack('a write blocked on a peer that never reads times out with ETIMEDOUT and resets the connection', async (net) => {
  const { client, server } = net;
  const { fd, conn, close } = await connectPair({ client, server });
  await client.lib.setsockopt(fd, { writeTimeout: 300 });
  const chunk = new Uint8Array(256 * 1024);
  let written = 0;
  await assert.rejects(
    (async () => {
      for (;;) written += await client.lib.write(fd, chunk);
    })(),
    { code: 'ETIMEDOUT', call: 'write' },
  );
  assert.ok(written > 0 && written < 256 * 1024 * 1024, `${written} bytes taken before the stack stopped taking more`);
  await assert.rejects(client.lib.write(fd, chunk), { code: 'ETIMEDOUT', call: 'write' });
  // The reset reaches the peer: once it has read what had arrived, its read fails with ECONNRESET,
  // as Linux's recv does (python3 shows it). Under node:net the reset shows as an end of stream
  // ('end', no 'error'): libuv reads what is queued and, seeing POLLHUP after a short read,
  // declares EOF without reading the pending error. So the kernel stack can only say the stream ended.
  const buf = new Uint8Array(64 * 1024);
  const peerSaw = await (async () => {
    try {
      while ((await server.lib.read(conn, buf, undefined, { timeout: 1000 })) > 0);
      return 'end of stream';
    } catch (e: any) {
      return e.code as string;
    }
  })();
  assert.ok(peerSaw === 'ECONNRESET' || (net.name === 'kernel' && peerSaw === 'end of stream'), `the peer saw ${peerSaw}`);
  await close();
});

eachStack("a read sleeping when a write times out fails with the write's ETIMEDOUT, not an end of stream", async (net) => {
  const { client, server } = net;
  const { fd, conn, close } = await connectPair({ client, server });
  await client.lib.setsockopt(fd, { writeTimeout: 300 });
  const reading = client.lib.read(fd, new Uint8Array(100), undefined, { timeout: 5000 });
  const chunk = new Uint8Array(256 * 1024);
  await assert.rejects(
    (async () => {
      for (;;) await client.lib.write(fd, chunk);
    })(),
    { code: 'ETIMEDOUT', call: 'write' },
  );
  await assert.rejects(reading, { code: 'ETIMEDOUT', call: 'write' });
  await close();
});
