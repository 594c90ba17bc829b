/**
 * The kernel stack's listeners (src/stack/kernel/listen.ts): what node:net
 * makes different from Linux's own sockets. Node binds and listens in one
 * step and accepts from the OS at once, so "bound but not listening" and "the
 * accept queue is full" are played above the OS, by resetting connections the
 * OS already completed, where Linux would refuse the SYN or drop it.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { bytes, dial, kernelLibrary, listenLoopback, LOOPBACK, readExactly, text } from '../../helpers.js';

const lib = kernelLibrary();
after(() => lib.closeAll());

/** How a connection the listener refused looks from the client: its connect may succeed, then its first read fails. */
async function refusal(fd: number, port: number): Promise<string> {
  try {
    await lib.connect(fd, LOOPBACK, port);
    const n = await lib.read(fd, new Uint8Array(8), undefined, { timeout: 2000 });
    return n === 0 ? 'end of stream' : `${n} bytes`;
  } catch (e: any) {
    return e.code;
  }
}

test('a bound socket that is not listening yet resets connections, then takes them once listen() is called', async () => {
  const server = await lib.socket('tcp');
  await lib.bind(server, LOOPBACK, 0);
  const { port } = await lib.getsockname(server);
  const early = await lib.socket('tcp');
  assert.ok(['ECONNRESET', 'ECONNREFUSED'].includes(await refusal(early, port)), 'the early connection was refused');
  await lib.listen(server, 4);
  const fd = await dial(lib, port);
  const conn = await lib.accept(server, { timeout: 2000 });
  await lib.write(fd, bytes('now'));
  assert.equal(text(await readExactly(lib, conn, 3)), 'now');
  for (const d of [early, fd, conn, server]) await lib.close(d);
});

test("the listener's queue holds backlog + 1 connections, as Linux's does; the next one is reset (Linux would drop its SYN)", async () => {
  const { fd: listener, port } = await listenLoopback(lib, 1);
  const queued = [await dial(lib, port), await dial(lib, port)];
  const late = await lib.socket('tcp');
  assert.ok(['ECONNRESET', 'end of stream'].includes(await refusal(late, port)), 'the third connection was reset');
  // The two that fit are there to accept, and work.
  for (const fd of queued) {
    const conn = await lib.accept(listener, { timeout: 2000 });
    await lib.write(fd, bytes('ok'));
    assert.equal(text(await readExactly(lib, conn, 2)), 'ok');
    await lib.close(conn);
  }
  await assert.rejects(lib.accept(listener, { timeout: 100 }), { code: 'ETIMEDOUT' }, 'nothing else was queued');
  for (const d of [...queued, late, listener]) await lib.close(d);
});

test('closing a binding frees its port at once', async () => {
  const fd = await lib.socket('tcp');
  await lib.bind(fd, LOOPBACK, 0);
  const { port } = await lib.getsockname(fd);
  await lib.close(fd);
  const again = await lib.socket('tcp');
  await lib.bind(again, LOOPBACK, port);
  assert.equal((await lib.getsockname(again)).port, port);
  await lib.close(again);
});
