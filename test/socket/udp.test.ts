/** UDP through the socket library: sendto/recvfrom, connected sockets, truncation. */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { bytes, kernelLibrary, LOOPBACK, text } from '../helpers.js';

const lib = kernelLibrary();
after(() => lib.closeAll());

async function boundUdp(): Promise<{ fd: number; port: number }> {
  const fd = await lib.socket('udp');
  await lib.bind(fd, LOOPBACK, 0);
  return { fd, port: (await lib.getsockname(fd)).port };
}

test('UDP round trip: sendto from an unbound socket, recvfrom names the sender, the reply comes back', async () => {
  const server = await boundUdp();
  const client = await lib.socket('udp');
  assert.equal(await lib.sendto(client, bytes('ping'), LOOPBACK, server.port), 4);
  const clientName = await lib.getsockname(client);
  assert.ok(clientName.port > 0, 'sendto bound the socket to a free port');
  const buf = new Uint8Array(64);
  const got = await lib.recvfrom(server.fd, buf);
  assert.equal(text(buf.subarray(0, got.bytes)), 'ping');
  assert.equal(got.port, clientName.port);
  assert.equal(got.truncated, false);
  await lib.sendto(server.fd, bytes('pong'), got.address, got.port);
  const back = await lib.recvfrom(client, buf);
  assert.equal(text(buf.subarray(0, back.bytes)), 'pong');
  assert.deepEqual([back.address, back.port], [LOOPBACK, server.port]);
  await lib.close(client);
  await lib.close(server.fd);
});

test('a datagram larger than the buffer is truncated and says so (MSG_TRUNC)', async () => {
  const server = await boundUdp();
  const client = await lib.socket('udp');
  await lib.sendto(client, new Uint8Array(100).fill(7), LOOPBACK, server.port);
  const small = new Uint8Array(10);
  const got = await lib.recvfrom(server.fd, small);
  assert.equal(got.bytes, 10);
  assert.equal(got.truncated, true);
  await lib.close(client);
  await lib.close(server.fd);
});

test('a connected UDP socket uses write/read and hears only its peer', async () => {
  const server = await boundUdp();
  const stranger = await boundUdp();
  const client = await lib.socket('udp');
  await lib.connect(client, LOOPBACK, server.port);
  const me = await lib.getsockname(client);
  await lib.sendto(stranger.fd, bytes('from a stranger'), LOOPBACK, me.port);
  await lib.write(client, bytes('hello peer'));
  const buf = new Uint8Array(64);
  const got = await lib.recvfrom(server.fd, buf);
  assert.equal(text(buf.subarray(0, got.bytes)), 'hello peer');
  await lib.sendto(server.fd, bytes('reply'), LOOPBACK, me.port);
  const n = await lib.read(client, buf);
  assert.equal(text(buf.subarray(0, n)), 'reply', "the stranger's datagram was not delivered");
  assert.deepEqual(await lib.getpeername(client), { address: LOOPBACK, port: server.port });
  for (const d of [client, server.fd, stranger.fd]) await lib.close(d);
});

test('a datagram over 65,507 bytes is EMSGSIZE; recvfrom before any address is EINVAL; write without a peer is ENOTCONN', async () => {
  const fd = await lib.socket('udp');
  await assert.rejects(lib.sendto(fd, new Uint8Array(65_508), LOOPBACK, 9), { code: 'EMSGSIZE', call: 'sendto' });
  await assert.rejects(lib.recvfrom(fd, new Uint8Array(8)), { code: 'EINVAL', call: 'recvfrom' });
  await assert.rejects(lib.write(fd, new Uint8Array(8)), { code: 'ENOTCONN', call: 'write' });
  await lib.close(fd);
});

test('recvfrom times out with ETIMEDOUT when nothing arrives', async () => {
  const { fd } = await boundUdp();
  const t0 = performance.now();
  await assert.rejects(lib.recvfrom(fd, new Uint8Array(8), { timeout: 150 }), { code: 'ETIMEDOUT', call: 'recvfrom' });
  assert.ok(performance.now() - t0 >= 140);
  await lib.close(fd);
});

test('a full receive buffer drops datagrams instead of growing', async () => {
  const server = await lib.socket('udp');
  await lib.setsockopt(server, { recvBufferSize: 4096 });
  await lib.bind(server, LOOPBACK, 0);
  const { port } = await lib.getsockname(server);
  const client = await lib.socket('udp');
  for (let i = 0; i < 20; i++) await lib.sendto(client, new Uint8Array(1000), LOOPBACK, port);
  await new Promise((r) => setTimeout(r, 50));
  let received = 0;
  const buf = new Uint8Array(2000);
  for (;;) {
    try {
      await lib.recvfrom(server, buf, { timeout: 50 });
      received++;
    } catch (e: any) {
      assert.equal(e.code, 'ETIMEDOUT');
      break;
    }
  }
  assert.ok(received >= 1 && received <= 4, `kept ${received} of 20 datagrams in a 4 KiB buffer`);
  await lib.close(client);
  await lib.close(server);
});
