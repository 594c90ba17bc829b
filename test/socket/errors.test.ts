/** Bad descriptors, calls in the wrong state and bad arguments are typed errors, never crashes, on both stacks. */
import assert from 'node:assert/strict';
import { SocketError } from '../../src/socket/errors.js';
import { dial } from '../helpers.js';
import { eachStack, listenOn } from './stacks.js';

const is = (code: string, call?: string) => (e: unknown) => e instanceof SocketError && e.code === code && (call === undefined || e.call === call);

eachStack('read or write on a listening socket is ENOTCONN', async ({ server: host }) => {
  const { lib } = host;
  const { fd } = await listenOn(host);
  await assert.rejects(lib.read(fd, new Uint8Array(4)), is('ENOTCONN', 'read'));
  await assert.rejects(lib.write(fd, new Uint8Array(4)), is('ENOTCONN', 'write'));
  await lib.close(fd);
});

eachStack('read or write before connect is ENOTCONN', async ({ client: { lib } }) => {
  const fd = await lib.socket('tcp');
  await assert.rejects(lib.read(fd, new Uint8Array(4)), is('ENOTCONN', 'read'));
  await assert.rejects(lib.write(fd, new Uint8Array(4)), is('ENOTCONN', 'write'));
  await assert.rejects(lib.shutdown(fd, 'write'), is('ENOTCONN', 'shutdown'));
  await lib.close(fd);
});

eachStack('connect twice is EISCONN; connect while connecting is EALREADY; connect on a listener is EINVAL', async ({ client: { lib }, server }) => {
  const listening = await listenOn(server);
  const fd = await dial(lib, listening.port, server.address);
  await assert.rejects(lib.connect(fd, server.address, listening.port), is('EISCONN', 'connect'));
  const racing = await lib.socket('tcp');
  const first = lib.connect(racing, server.address, listening.port);
  await assert.rejects(lib.connect(racing, server.address, listening.port), is('EALREADY', 'connect'));
  await first;
  await assert.rejects(server.lib.connect(listening.fd, server.address, listening.port), is('EINVAL', 'connect'));
  for (const d of [fd, racing]) await lib.close(d);
  await server.lib.close(listening.fd);
});

eachStack('accept on a socket that is not listening is EINVAL; listen on UDP is EOPNOTSUPP', async ({ client: { lib }, server }) => {
  const fd = await lib.socket('tcp');
  await assert.rejects(lib.accept(fd), is('EINVAL', 'accept'));
  const udp = await lib.socket('udp');
  await assert.rejects(lib.listen(udp), is('EOPNOTSUPP', 'listen'));
  await assert.rejects(lib.sendto(fd, new Uint8Array(1), server.address, 9), is('EOPNOTSUPP', 'sendto'));
  await assert.rejects(lib.recvfrom(fd, new Uint8Array(1)), is('EOPNOTSUPP', 'recvfrom'));
  await lib.close(fd);
  await lib.close(udp);
});

eachStack('binding a port in use is EADDRINUSE; binding twice is EINVAL', async ({ server: host }) => {
  const { lib, address } = host;
  const { fd, port } = await listenOn(host);
  const other = await lib.socket('tcp');
  await assert.rejects(lib.bind(other, address, port), (e: any) => e.code === 'EADDRINUSE' && e.message.includes(`bind(fd ${other}, ${address}:${port})`));
  await lib.bind(other, address, 0);
  await assert.rejects(lib.bind(other, address, 0), is('EINVAL', 'bind'));
  await lib.close(fd);
  await lib.close(other);
});

eachStack('bad arguments are EINVAL with a reason', async ({ client: { lib }, server }) => {
  const fd = await lib.socket('tcp');
  const to = server.address;
  const cases: [string, () => Promise<unknown>][] = [
    ['not an IP address', () => lib.connect(fd, 'example.test', 80)],
    ['not an IP address', () => lib.connect(fd, '256.1.1.1', 80)],
    ['port must be 0-65535', () => lib.connect(fd, to, 70_000)],
    ['port must be 0-65535', () => lib.connect(fd, to, -1)],
    ['port 0 is not a destination', () => lib.connect(fd, to, 0)],
    ['buffer must be a Uint8Array', () => lib.write(fd, 'text' as any)],
    ['outside the buffer', () => lib.read(fd, new Uint8Array(4), 5)],
    ['backlog must be a whole number', () => lib.listen(fd, -3)],
    ["how must be 'read', 'write' or 'both'", () => lib.shutdown(fd, 'sideways' as any)],
    ['timeout must be a positive number', () => lib.connect(fd, to, 1, { timeout: -5 })],
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

eachStack('past maxDescriptors, socket() and accept() fail with EMFILE', async (net) => {
  const { lib } = net.client;
  const small = net.library(net.server, 'small', { maxDescriptors: 3 });
  const { fd: listener, port } = await listenOn(net.server, 128, small);
  const a = await small.socket('udp');
  const client = await dial(lib, port, net.server.address);
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

eachStack('options round-trip through setsockopt/getsockopt', async ({ client: { lib } }) => {
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

eachStack('accepted sockets inherit the listener options', async ({ client, server }) => {
  const { fd: listener, port } = await listenOn(server);
  await server.lib.setsockopt(listener, { noDelay: true, readTimeout: 1234 });
  const fd = await dial(client.lib, port, server.address);
  const conn = await server.lib.accept(listener);
  assert.equal((await server.lib.getsockopt(conn)).readTimeout, 1234);
  assert.equal((await server.lib.getsockopt(conn)).noDelay, true);
  await client.lib.close(fd);
  for (const d of [conn, listener]) await server.lib.close(d);
});
