/** The socket calls in the seed's order, on real loopback sockets through the kernel stack. */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { bytes, dial, echoLoop, kernelLibrary, listenLoopback, LOOPBACK, readExactly, readToEnd, text } from '../helpers.js';

const lib = kernelLibrary();
after(() => lib.closeAll());

test('echo: what the client writes comes back through the library', async () => {
  const server = kernelLibrary('server');
  const { fd: listener, port } = await listenLoopback(server);
  const serving = echoLoop(server, listener);
  const fd = await dial(lib, port);
  const message = bytes('hello, protocol stack');
  assert.equal(await lib.write(fd, message), message.length);
  assert.equal(text(await readExactly(lib, fd, message.length)), 'hello, protocol stack');
  await lib.close(fd);
  await server.close(listener);
  await serving;
});

test('descriptors are the lowest free integers from 3, reused after close (POSIX)', async () => {
  const own = kernelLibrary();
  const a = await own.socket('tcp');
  const b = await own.socket('udp');
  const c = await own.socket('tcp');
  assert.deepEqual([a, b, c], [3, 4, 5]);
  await own.close(b);
  assert.equal(await own.socket('tcp'), 4, 'the freed 4 is the lowest free');
  await own.close(a);
  await own.close(c);
  assert.equal(await own.socket('udp'), 3);
  assert.equal(await own.socket('udp'), 5);
  assert.equal(await own.socket('udp'), 6);
  await own.closeAll();
  assert.equal(own.openCount, 0);
});

test('every call on a closed descriptor fails with EBADF, naming the call and the descriptor', async () => {
  const fd = await lib.socket('tcp');
  await lib.close(fd);
  const buf = new Uint8Array(8);
  const calls: [string, () => Promise<unknown>][] = [
    ['read', () => lib.read(fd, buf)],
    ['write', () => lib.write(fd, buf)],
    ['connect', () => lib.connect(fd, LOOPBACK, 80)],
    ['close', () => lib.close(fd)],
    ['accept', () => lib.accept(fd)],
    ['shutdown', () => lib.shutdown(fd, 'both')],
  ];
  for (const [call, run] of calls) {
    await assert.rejects(run(), (e: any) => e.name === 'SocketError' && e.code === 'EBADF' && e.call === call && e.fd === fd && e.message.startsWith(`${call}(fd ${fd}`));
  }
  await assert.rejects(lib.read(999, buf), { code: 'EBADF' });
  await assert.rejects(lib.read(-1, buf), { code: 'EBADF' });
  await assert.rejects(lib.read(3.5, buf), { code: 'EBADF' });
});

test('connect to a loopback port with no listener fails with ECONNREFUSED', async () => {
  const probe = await listenLoopback(lib);
  await lib.close(probe.fd); // the port was free a moment ago and now nobody listens
  const fd = await lib.socket('tcp');
  await assert.rejects(lib.connect(fd, LOOPBACK, probe.port), (e: any) => e.code === 'ECONNREFUSED' && e.message === `connect(fd ${fd}, 127.0.0.1:${probe.port}): ECONNREFUSED (connection refused)`);
  // The socket may try again after a failed connect.
  const server = await listenLoopback(lib);
  await lib.connect(fd, LOOPBACK, server.port);
  assert.equal((await lib.getpeername(fd)).port, server.port);
  await lib.close(fd);
  await lib.close(server.fd);
});

test('read returns 0 once the peer has closed, after all its data', async () => {
  const { fd: listener, port } = await listenLoopback(lib);
  const client = await dial(lib, port);
  const conn = await lib.accept(listener);
  await lib.write(conn, bytes('last words'));
  await lib.close(conn); // the server closes first, as web servers usually do
  assert.equal(text(await readToEnd(lib, client)), 'last words');
  assert.equal(await lib.read(client, new Uint8Array(4)), 0, 'and stays at 0');
  await lib.close(client);
  await lib.close(listener);
});

test("half-close: shutdown('write') sends FIN; the other direction keeps working", async () => {
  const { fd: listener, port } = await listenLoopback(lib);
  const client = await dial(lib, port);
  const conn = await lib.accept(listener);
  await lib.write(client, bytes('request, then FIN'));
  await lib.shutdown(client, 'write');
  await assert.rejects(lib.write(client, bytes('x')), { code: 'EPIPE', call: 'write' });
  // The server sees the end of the request...
  assert.equal(text(await readToEnd(lib, conn)), 'request, then FIN');
  // ...and can still answer on its half.
  await lib.write(conn, bytes('response after your FIN'));
  await lib.close(conn);
  assert.equal(text(await readToEnd(lib, client)), 'response after your FIN');
  await lib.close(client);
  await lib.close(listener);
});

test("shutdown('read'): later reads return 0 at once", async () => {
  const { fd: listener, port } = await listenLoopback(lib);
  const client = await dial(lib, port);
  const conn = await lib.accept(listener);
  await lib.shutdown(client, 'read');
  await lib.write(conn, bytes('ignored'));
  assert.equal(await lib.read(client, new Uint8Array(16)), 0);
  await lib.close(client);
  await lib.close(conn);
  await lib.close(listener);
});

test('getsockname and getpeername agree across the two ends', async () => {
  const { fd: listener, port } = await listenLoopback(lib);
  const client = await dial(lib, port);
  const conn = await lib.accept(listener);
  const clientName = await lib.getsockname(client);
  assert.deepEqual(await lib.getpeername(conn), clientName);
  assert.deepEqual(await lib.getpeername(client), { address: LOOPBACK, port });
  assert.deepEqual(await lib.getsockname(conn), { address: LOOPBACK, port });
  const fresh = await lib.socket('tcp');
  assert.deepEqual(await lib.getsockname(fresh), { address: '0.0.0.0', port: 0 });
  await assert.rejects(lib.getpeername(fresh), { code: 'ENOTCONN' });
  for (const fd of [client, conn, listener, fresh]) await lib.close(fd);
});

test('closing with unread data resets the connection (RFC 2525 §2.17): the peer\'s next read fails with ECONNRESET at once', async () => {
  const { fd: listener, port } = await listenLoopback(lib);
  const client = await dial(lib, port);
  const conn = await lib.accept(listener);
  await lib.write(client, bytes('xnever read'));
  // Reading one byte proves the write reached the server; the other ten stay unread.
  assert.equal(await lib.read(conn, new Uint8Array(1)), 1);
  await lib.close(conn);
  // A FIN would make this read return 0 (end of stream); only a RST makes it fail, and it is already on its way.
  await assert.rejects(lib.read(client, new Uint8Array(16), undefined, { timeout: 1000 }), { code: 'ECONNRESET' });
  await lib.close(client);
  await lib.close(listener);
});

test('a bound client socket connects from its own port', async () => {
  const server = await listenLoopback(lib);
  const fd = await lib.socket('tcp');
  await lib.bind(fd, LOOPBACK, 0);
  const { port: local } = await lib.getsockname(fd);
  assert.ok(local > 0);
  await lib.connect(fd, LOOPBACK, server.port);
  const conn = await lib.accept(server.fd);
  assert.equal((await lib.getpeername(conn)).port, local);
  for (const d of [fd, conn, server.fd]) await lib.close(d);
});

test('IPv6 loopback works when the machine has it', async (t) => {
  const fd = await lib.socket('tcp');
  try {
    await lib.bind(fd, '::1', 0);
  } catch (e: any) {
    await lib.close(fd);
    t.skip(`no IPv6 loopback here (${e.code})`);
    return;
  }
  await lib.listen(fd);
  const { port, address } = await lib.getsockname(fd);
  assert.equal(address, '::1');
  const client = await dial(lib, port, '::1');
  const conn = await lib.accept(fd);
  await lib.write(client, bytes('v6'));
  assert.equal(text(await readExactly(lib, conn, 2)), 'v6');
  for (const d of [client, conn, fd]) await lib.close(d);
});
