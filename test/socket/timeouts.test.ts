/**
 * Every wait has a timeout. A connect timeout needs a listener whose accept
 * queue is full, so the kernel drops further SYNs: python3 makes one with
 * listen(0) and never calls accept.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { after, test } from 'node:test';
import { dial, kernelLibrary, listenLoopback, LOOPBACK } from '../helpers.js';

const lib = kernelLibrary();
const children: ChildProcess[] = [];
after(async () => {
  for (const c of children) c.kill();
  await lib.closeAll();
});

const NEVER_ACCEPTS = `
import socket, sys, time
s = socket.socket()
s.bind(('127.0.0.1', 0))
s.listen(0)
print(s.getsockname()[1], flush=True)
time.sleep(60)
`;

async function neverAccepts(): Promise<number> {
  const child = spawn('python3', ['-c', NEVER_ACCEPTS], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  const [line] = (await once(child.stdout!, 'data')) as [Buffer];
  return Number(line.toString().trim());
}

test('connect to a listener whose accept queue is full times out with ETIMEDOUT', async () => {
  const port = await neverAccepts();
  // Fill the accept queue (Linux holds backlog + 1), then the next SYN is dropped.
  const fillers: number[] = [];
  let timedOut = false;
  for (let i = 0; i < 8 && !timedOut; i++) {
    const fd = await lib.socket('tcp');
    fillers.push(fd);
    const t0 = performance.now();
    try {
      await lib.connect(fd, LOOPBACK, port, { timeout: 300 });
    } catch (e: any) {
      assert.equal(e.code, 'ETIMEDOUT');
      assert.equal(e.call, 'connect');
      assert.ok(e.message.includes(`127.0.0.1:${port}`));
      const waited = performance.now() - t0;
      assert.ok(waited >= 290 && waited < 2000, `waited ${waited} ms`);
      timedOut = true;
    }
  }
  assert.ok(timedOut, 'one connect timed out once the queue was full');
  for (const fd of fillers) await lib.close(fd);
});

test('the connectTimeout option applies when no per-call timeout is given; a signal cancels with ECANCELED', async () => {
  const port = await neverAccepts();
  const fds: number[] = [];
  for (let i = 0; i < 3; i++) {
    const fd = await lib.socket('tcp');
    fds.push(fd);
    await lib.connect(fd, LOOPBACK, port, { timeout: 300 }).catch(() => {});
  }
  const fd = await lib.socket('tcp');
  await lib.setsockopt(fd, { connectTimeout: 200 });
  await assert.rejects(lib.connect(fd, LOOPBACK, port), { code: 'ETIMEDOUT' });
  const other = await lib.socket('tcp');
  const abort = new AbortController();
  setTimeout(() => abort.abort(), 100);
  await assert.rejects(lib.connect(other, LOOPBACK, port, { signal: abort.signal }), { code: 'ECANCELED', call: 'connect' });
  for (const d of [...fds, fd, other]) await lib.close(d);
});

test('read times out with ETIMEDOUT, and the connection is still usable afterwards (SO_RCVTIMEO)', async () => {
  const { fd: listener, port } = await listenLoopback(lib);
  const client = await dial(lib, port);
  const conn = await lib.accept(listener);
  await lib.setsockopt(client, { readTimeout: 150 });
  const buf = new Uint8Array(8);
  const t0 = performance.now();
  await assert.rejects(lib.read(client, buf), (e: any) => e.code === 'ETIMEDOUT' && e.message === `read(fd ${client}): ETIMEDOUT (timed out)`);
  assert.ok(performance.now() - t0 >= 140);
  await lib.write(conn, new Uint8Array([1, 2, 3]));
  assert.equal(await lib.read(client, buf), 3);
  for (const d of [client, conn, listener]) await lib.close(d);
});

test('accept times out with ETIMEDOUT; a read blocked when its descriptor is closed fails with EBADF', async () => {
  const { fd: listener, port } = await listenLoopback(lib);
  await assert.rejects(lib.accept(listener, { timeout: 100 }), { code: 'ETIMEDOUT', call: 'accept' });
  const client = await dial(lib, port);
  const pending = lib.read(client, new Uint8Array(8));
  await new Promise((r) => setTimeout(r, 20));
  await lib.close(client);
  await assert.rejects(pending, { code: 'EBADF', call: 'read' });
  await lib.close(listener);
});

test('a write blocked on a peer that never reads times out with ETIMEDOUT and resets the connection', async () => {
  const { fd: listener, port } = await listenLoopback(lib);
  const client = await dial(lib, port);
  const conn = await lib.accept(listener);
  await lib.setsockopt(client, { writeTimeout: 300 });
  const chunk = new Uint8Array(256 * 1024);
  let written = 0;
  await assert.rejects(
    (async () => {
      for (;;) written += await lib.write(client, chunk);
    })(),
    { code: 'ETIMEDOUT', call: 'write' },
  );
  assert.ok(written > 0 && written < 256 * 1024 * 1024, `${written} bytes taken before the stack stopped taking more`);
  await assert.rejects(lib.write(client, chunk), { code: 'ETIMEDOUT', call: 'write' });
  for (const d of [client, conn, listener]) await lib.close(d);
});

test('a read sleeping when a write times out fails with the write\'s ETIMEDOUT, not an end of stream', async () => {
  const { fd: listener, port } = await listenLoopback(lib);
  const client = await dial(lib, port);
  const conn = await lib.accept(listener);
  await lib.setsockopt(client, { writeTimeout: 300 });
  const reading = lib.read(client, new Uint8Array(100), undefined, { timeout: 5000 });
  const chunk = new Uint8Array(256 * 1024);
  await assert.rejects(
    (async () => {
      for (;;) await lib.write(client, chunk);
    })(),
    { code: 'ETIMEDOUT', call: 'write' },
  );
  await assert.rejects(reading, { code: 'ETIMEDOUT', call: 'write' });
  for (const d of [client, conn, listener]) await lib.close(d);
});
