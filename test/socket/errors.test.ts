/** Bad descriptors, calls in the wrong state and bad arguments are typed errors, never crashes. */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { SocketError } from '../../src/socket/errors.js';
import { dial, kernelLibrary, listenLoopback, LOOPBACK } from '../helpers.js';

const lib = kernelLibrary();
after(() => lib.closeAll());

const is = (code: string, call?: string) => (e: unknown) => e instanceof SocketError && e.code === code && (call === undefined || e.call === call);

test('read or write on a listening socket is ENOTCONN', async () => {
  const { fd } = await listenLoopback(lib);
  await assert.rejects(lib.read(fd, new Uint8Array(4)), is('ENOTCONN', 'read'));
  await assert.rejects(lib.write(fd, new Uint8Array(4)), is('ENOTCONN', 'write'));
  await lib.close(fd);
});

test('read or write before connect is ENOTCONN', async () => {
  const fd = await lib.socket('tcp');
  await assert.rejects(lib.read(fd, new Uint8Array(4)), is('ENOTCONN', 'read'));
  await assert.rejects(lib.write(fd, new Uint8Array(4)), is('ENOTCONN', 'write'));
  await assert.rejects(lib.shutdown(fd, 'write'), is('ENOTCONN', 'shutdown'));
  await lib.close(fd);
});

test('connect twice is EISCONN; connect while connecting is EALREADY; connect on a listener is EINVAL', async () => {
  const server = await listenLoopback(lib);
  const fd = await dial(lib, server.port);
  await assert.rejects(lib.connect(fd, LOOPBACK, server.port), is('EISCONN', 'connect'));
  const racing = await lib.socket('tcp');
  const first = lib.connect(racing, LOOPBACK, server.port);
  await assert.rejects(lib.connect(racing, LOOPBACK, server.port), is('EALREADY', 'connect'));
  await first;
  await assert.rejects(lib.connect(server.fd, LOOPBACK, server.port), is('EINVAL', 'connect'));
  for (const d of [fd, racing, server.fd]) await lib.close(d);
});

test('accept on a socket that is not listening is EINVAL; listen on UDP is EOPNOTSUPP', async () => {
  const fd = await lib.socket('tcp');
  await assert.rejects(lib.accept(fd), is('EINVAL', 'accept'));
  const udp = await lib.socket('udp');
  await assert.rejects(lib.listen(udp), is('EOPNOTSUPP', 'listen'));
  await assert.rejects(lib.sendto(fd, new Uint8Array(1), LOOPBACK, 9), is('EOPNOTSUPP', 'sendto'));
  await assert.rejects(lib.recvfrom(fd, new Uint8Array(1)), is('EOPNOTSUPP', 'recvfrom'));
  await lib.close(fd);
  await lib.close(udp);
});

test('binding a port in use is EADDRINUSE; binding twice is EINVAL', async () => {
  const { fd, port } = await listenLoopback(lib);
  const other = await lib.socket('tcp');
  await assert.rejects(lib.bind(other, LOOPBACK, port), (e: any) => e.code === 'EADDRINUSE' && e.message.includes(`bind(fd ${other}, 127.0.0.1:${port})`));
  await lib.bind(other, LOOPBACK, 0);
  await assert.rejects(lib.bind(other, LOOPBACK, 0), is('EINVAL', 'bind'));
  await lib.close(fd);
  await lib.close(other);
});

test('bad arguments are EINVAL with a reason', async () => {
  const fd = await lib.socket('tcp');
  const cases: [string, () => Promise<unknown>][] = [
    ['not an IP address', () => lib.connect(fd, 'example.test', 80)],
    ['not an IP address', () => lib.connect(fd, '256.1.1.1', 80)],
    ['port must be 0-65535', () => lib.connect(fd, LOOPBACK, 70_000)],
    ['port must be 0-65535', () => lib.connect(fd, LOOPBACK, -1)],
    ['port 0 is not a destination', () => lib.connect(fd, LOOPBACK, 0)],
    ['buffer must be a Uint8Array', () => lib.write(fd, 'text' as any)],
    ['outside the buffer', () => lib.read(fd, new Uint8Array(4), 5)],
    ['backlog must be a whole number', () => lib.listen(fd, -3)],
    ["how must be 'read', 'write' or 'both'", () => lib.shutdown(fd, 'sideways' as any)],
    ['timeout must be a positive number', () => lib.connect(fd, LOOPBACK, 1, { timeout: -5 })],
    ["type must be 'tcp' or 'udp'", () => lib.socket('sctp' as any)],
    ['readTimeout must be', () => lib.setsockopt(fd, { readTimeout: Infinity })],
    ['recvBufferSize must be', () => lib.setsockopt(fd, { recvBufferSize: 10 })],
    ['unknown option', () => lib.setsockopt(fd, { nagle: true } as any)],
  ];
  for (const [reason, run] of cases) {
    await assert.rejects(run(), (e: any) => e instanceof SocketError && e.code === 'EINVAL' && e.message.includes(reason), reason);
  }
  await lib.close(fd);
});

test('past maxDescriptors, socket() and accept() fail with EMFILE', async () => {
  const small = kernelLibrary('small', { maxDescriptors: 3 });
  const { fd: listener, port } = await listenLoopback(small);
  const a = await small.socket('udp');
  const client = await dial(lib, port);
  await assert.rejects(
    (async () => {
      await small.socket('tcp');
      await small.socket('tcp');
    })(),
    is('EMFILE', 'socket'),
  );
  await assert.rejects(small.accept(listener, { timeout: 2000 }), is('EMFILE', 'accept'));
  await small.close(a);
  await small.closeAll();
  await lib.close(client);
});

test('options round-trip through setsockopt/getsockopt', async () => {
  const fd = await lib.socket('tcp');
  await lib.setsockopt(fd, { noDelay: true, keepAlive: true, keepAliveIdle: 30_000, readTimeout: 5_000, recvBufferSize: 65_536 });
  const o = await lib.getsockopt(fd);
  assert.equal(o.noDelay, true);
  assert.equal(o.keepAlive, true);
  assert.equal(o.keepAliveIdle, 30_000);
  assert.equal(o.readTimeout, 5_000);
  assert.equal(o.recvBufferSize, 65_536);
  assert.equal(o.connectTimeout, 30_000, 'untouched options keep their finite default');
  await lib.close(fd);
});

test('accepted sockets inherit the listener options', async () => {
  const { fd: listener, port } = await listenLoopback(lib);
  await lib.setsockopt(listener, { noDelay: true, readTimeout: 1234 });
  const client = await dial(lib, port);
  const conn = await lib.accept(listener);
  assert.equal((await lib.getsockopt(conn)).readTimeout, 1234);
  assert.equal((await lib.getsockopt(conn)).noDelay, true);
  for (const d of [client, conn, listener]) await lib.close(d);
});
