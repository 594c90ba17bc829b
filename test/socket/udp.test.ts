/** UDP through the socket library on both stacks: sendto/recvfrom, connected sockets, truncation, bounds. */
import assert from 'node:assert/strict';
import { bytes, text } from '../helpers.js';
import { boundUdp, eachStack } from './stacks.js';

eachStack('UDP round trip: sendto from an unbound socket, recvfrom names the sender, the reply comes back', async ({ client: { lib }, server: host }) => {
  const server = await boundUdp(host);
  const fd = await lib.socket('udp');
  assert.equal(await lib.sendto(fd, bytes('ping'), host.address, server.port), 4);
  const clientName = await lib.getsockname(fd);
  assert.ok(clientName.port > 0, 'sendto bound the socket to a free port');
  assert.equal(clientName.address, '0.0.0.0', 'on every address, as an implicit bind is');
  const buf = new Uint8Array(64);
  const got = await host.lib.recvfrom(server.fd, buf);
  assert.equal(text(buf.subarray(0, got.bytes)), 'ping');
  assert.equal(got.port, clientName.port);
  assert.equal(got.truncated, false);
  await host.lib.sendto(server.fd, bytes('pong'), got.address, got.port);
  const back = await lib.recvfrom(fd, buf);
  assert.equal(text(buf.subarray(0, back.bytes)), 'pong');
  assert.deepEqual([back.address, back.port], [host.address, server.port]);
  await lib.close(fd);
  await host.lib.close(server.fd);
});

eachStack('a datagram larger than the buffer is truncated and says so (MSG_TRUNC)', async ({ client: { lib }, server: host }) => {
  const server = await boundUdp(host);
  const fd = await lib.socket('udp');
  await lib.sendto(fd, new Uint8Array(100).fill(7), host.address, server.port);
  const small = new Uint8Array(10);
  const got = await host.lib.recvfrom(server.fd, small);
  assert.equal(got.bytes, 10);
  assert.equal(got.truncated, true);
  assert.deepEqual([...small], Array(10).fill(7));
  await lib.close(fd);
  await host.lib.close(server.fd);
});

eachStack('a connected UDP socket uses write/read and hears only its peer', async ({ client, server: host, other }) => {
  const { lib } = client;
  const server = await boundUdp(host);
  // One stranger shares the peer's address (another port), one is elsewhere.
  const strangers = [await boundUdp(host), await boundUdp(other)];
  const fd = await lib.socket('udp');
  await lib.connect(fd, host.address, server.port);
  const me = await lib.getsockname(fd);
  assert.deepEqual([me.address, me.port > 0], [client.address, true], 'connect picked the source address and a port');
  await host.lib.sendto(strangers[0]!.fd, bytes('from a stranger'), me.address, me.port);
  await other.lib.sendto(strangers[1]!.fd, bytes('from afar'), me.address, me.port);
  await lib.write(fd, bytes('hello peer'));
  const buf = new Uint8Array(64);
  const got = await host.lib.recvfrom(server.fd, buf);
  assert.equal(text(buf.subarray(0, got.bytes)), 'hello peer');
  assert.deepEqual([got.address, got.port], [me.address, me.port], 'connect fixed the source address');
  await host.lib.sendto(server.fd, bytes('reply'), got.address, me.port);
  const n = await lib.read(fd, buf);
  assert.equal(text(buf.subarray(0, n)), 'reply', "the strangers' datagrams were not delivered");
  assert.deepEqual(await lib.getpeername(fd), { address: host.address, port: server.port });
  await lib.close(fd);
  for (const d of [server.fd, strangers[0]!.fd]) await host.lib.close(d);
  await other.lib.close(strangers[1]!.fd);
});

eachStack('a datagram over 65,507 bytes is EMSGSIZE; recvfrom before any address is EINVAL; write without a peer is ENOTCONN', async ({ client: { lib }, server }) => {
  const fd = await lib.socket('udp');
  await assert.rejects(lib.sendto(fd, new Uint8Array(65_508), server.address, 9), { code: 'EMSGSIZE', call: 'sendto' });
  await assert.rejects(lib.recvfrom(fd, new Uint8Array(8)), { code: 'EINVAL', call: 'recvfrom' });
  await assert.rejects(lib.write(fd, new Uint8Array(8)), { code: 'ENOTCONN', call: 'write' });
  await lib.close(fd);
});

eachStack('recvfrom times out with ETIMEDOUT when nothing arrives', async (net) => {
  const { fd } = await boundUdp(net.client);
  const t0 = net.now();
  await assert.rejects(net.client.lib.recvfrom(fd, new Uint8Array(8), { timeout: 150 }), { code: 'ETIMEDOUT', call: 'recvfrom' });
  assert.ok(net.now() - t0 >= 140);
  await net.client.lib.close(fd);
});

eachStack('a full receive buffer drops datagrams instead of growing', async (net) => {
  const { lib, address } = net.server;
  const server = await lib.socket('udp');
  await lib.setsockopt(server, { recvBufferSize: 4096 });
  await lib.bind(server, address, 0);
  const { port } = await lib.getsockname(server);
  const fd = await net.client.lib.socket('udp');
  for (let i = 0; i < 20; i++) await net.client.lib.sendto(fd, new Uint8Array(1000), address, port);
  await net.sleep(50);
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
  await net.client.lib.close(fd);
  await lib.close(server);
});

eachStack("a connected UDP socket learns from ICMP port unreachable: its next read fails with ECONNREFUSED (Linux)", async ({ client: { lib }, server }) => {
  const probe = await boundUdp(server);
  await server.lib.close(probe.fd); // nobody there now
  const fd = await lib.socket('udp');
  await lib.connect(fd, server.address, probe.port);
  await lib.write(fd, bytes('anyone?'));
  await assert.rejects(lib.read(fd, new Uint8Array(8), undefined, { timeout: 1000 }), { code: 'ECONNREFUSED', call: 'read' });
  await lib.close(fd);
});

eachStack('an unconnected UDP socket ignores ICMP port unreachable: recvfrom times out (Linux)', async ({ client: { lib }, server }) => {
  const probe = await boundUdp(server);
  await server.lib.close(probe.fd);
  const fd = await lib.socket('udp');
  await lib.sendto(fd, bytes('anyone?'), server.address, probe.port);
  await assert.rejects(lib.recvfrom(fd, new Uint8Array(8), { timeout: 300 }), { code: 'ETIMEDOUT', call: 'recvfrom' });
  await lib.close(fd);
});

eachStack('the largest datagram (65,507 bytes) arrives whole, and an empty one arrives as an empty one', async ({ client: { lib }, server: host }) => {
  const server = await boundUdp(host);
  const fd = await lib.socket('udp');
  const big = new Uint8Array(65_507);
  for (let i = 0; i < big.length; i++) big[i] = (i * 7) & 0xff;
  await lib.sendto(fd, big, host.address, server.port);
  await lib.sendto(fd, new Uint8Array(0), host.address, server.port);
  const buf = new Uint8Array(70_000);
  const got = await host.lib.recvfrom(server.fd, buf, { timeout: 1000 });
  assert.equal(got.bytes, big.length);
  assert.ok(Buffer.from(buf.subarray(0, got.bytes)).equals(big), 'the same bytes');
  const empty = await host.lib.recvfrom(server.fd, buf, { timeout: 1000 });
  assert.deepEqual([empty.bytes, empty.truncated, empty.port], [0, false, got.port]);
  await lib.close(fd);
  await host.lib.close(server.fd);
});
