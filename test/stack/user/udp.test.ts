/** UDP endpoints of the user-space stack: binding, exchange, ICMP errors, bounds, and malformed input, on a simulated link. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SimulatedLink as Link } from '../../../src/link/simulated-link.js';
import { Network } from '../../../src/link/network.js';
import type { RandomSource } from '../../../src/link/types.js';
import { SocketError } from '../../../src/socket/errors.js';
import type { DatagramEndpoint } from '../../../src/stack/types.js';
import { Counters } from '../../../src/stack/user/counters.js';
import { IcmpLayer } from '../../../src/stack/user/icmp.js';
import { Ipv4Layer } from '../../../src/stack/user/ipv4.js';
import { EPHEMERAL_FIRST, EPHEMERAL_LAST, UdpLayer } from '../../../src/stack/user/udp.js';
import { emitUnreachable, parseIcmp } from '../../../src/wire/icmp.js';
import { formatIPv4, parseIPv4 } from '../../../src/wire/ip-address.js';
import { emitIpv4, parseIpv4, PROTOCOL, type Ipv4Header } from '../../../src/wire/ipv4.js';
import { emitUdp } from '../../../src/wire/udp.js';
import { xorshift } from '../../prng.js';

const A = '10.0.0.1';
const B = '10.0.0.2';
const OPTIONS = { recvBufferSize: 64 * 1024 };

function ip(text: string): Uint8Array {
  return parseIPv4(text)!;
}

function host(net: Network, link: Link, address: string, random: RandomSource = net.random) {
  const counters = new Counters();
  const device = link.attach(address);
  const layer = new Ipv4Layer({ clock: net.clock, interfaces: [{ device, address, prefixLength: 24 }], counters });
  const icmp = new IcmpLayer(layer, net.clock, counters);
  return { counters, device, ip: layer, icmp, udp: new UdpLayer(layer, icmp, counters, random) };
}

/** Host A, and B as a bare device whose packets the test writes and reads. */
function setup(params: { mtu?: number } = {}) {
  const net = new Network({ seed: 1 });
  const link = net.link(params);
  const a = host(net, link, A);
  const peer = link.attach(B);
  const heard: Uint8Array[] = [];
  peer.receive = (p) => heard.push(p);
  return { net, link, ...a, peer, heard };
}

/** Two whole hosts. */
function pair(params: { mtu?: number; latencyMs?: number } = {}) {
  const net = new Network({ seed: 1 });
  const link = net.link({ latencyMs: 1, ...params });
  return { net, link, a: host(net, link, A), b: host(net, link, B) };
}

function header(fields: Partial<Omit<Ipv4Header, 'totalLength'>> = {}): Omit<Ipv4Header, 'totalLength'> {
  return { dscp: 0, ecn: 0, identification: 7, dontFragment: false, moreFragments: false, fragmentOffset: 0, ttl: 64, protocol: PROTOCOL.UDP, src: ip(B), dst: ip(A), options: new Uint8Array(0), ...fields };
}

/** A UDP packet from B's bare device. */
function datagram(srcPort: number, dstPort: number, payload: Uint8Array, fields: Partial<Omit<Ipv4Header, 'totalLength'>> = {}): Uint8Array {
  const h = header(fields);
  return emitIpv4(h, emitUdp({ srcPort, dstPort, payload }, h.src, h.dst));
}

function text(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof SocketError, String(e));
    return e.code;
  }
  return 'none';
}

async function rejection(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (e) {
    assert.ok(e instanceof SocketError, String(e));
    return e.code;
  }
  return 'none';
}

function recvText(e: DatagramEndpoint, size = 2048) {
  const buf = new Uint8Array(size);
  const got = e.recv(buf);
  return got && { ...got, text: new TextDecoder().decode(buf.subarray(0, got.bytes)) };
}

test('bind: the errors Linux gives, and which addresses share a port without SO_REUSEADDR', () => {
  const { udp } = setup();
  const bind = (address: string, port: number) => codeOf(() => udp.bind({ address, port }, OPTIONS));
  assert.equal(bind('10.0.0.9', 0), 'EADDRNOTAVAIL');
  assert.equal(bind('nonsense', 0), 'EINVAL');
  assert.equal(bind(A, 70_000), 'EINVAL');
  assert.equal(bind(A, -1), 'EINVAL');
  assert.equal(bind(A, 1.5), 'EINVAL');
  assert.equal(bind('::', 0), 'EAFNOSUPPORT');
  assert.equal(bind('::1', 0), 'EAFNOSUPPORT');
  assert.equal(bind('0.0.0.0', 5000), 'none');
  assert.equal(bind('0.0.0.0', 5000), 'EADDRINUSE');
  assert.equal(bind(A, 5000), 'EADDRINUSE');
  assert.equal(bind(A, 6000), 'none');
  assert.equal(bind('127.0.0.1', 6000), 'none', 'different addresses share a port');
  assert.equal(bind('127.0.0.5', 6000), 'none', 'all of 127/8 is ours');
  assert.equal(bind(A, 6000), 'EADDRINUSE');
  assert.equal(bind('0.0.0.0', 6000), 'EADDRINUSE');
  const e = udp.bind({ address: A, port: 7000 }, OPTIONS);
  assert.deepEqual(e.local, { address: A, port: 7000 });
  e.close();
  e.close();
  assert.equal(bind('0.0.0.0', 7000), 'none', 'free again after close');
});

test('RFC 6056 algorithm 1: a random start in 32768–60999, then a linear probe that wraps', () => {
  const { udp } = setup();
  for (let i = 0; i < 200; i++) {
    const port = udp.bind({ address: '0.0.0.0', port: 0 }, OPTIONS).local.port;
    assert.ok(port >= EPHEMERAL_FIRST && port <= EPHEMERAL_LAST, String(port));
  }
  let next = 0;
  const fixed: RandomSource = { uint32: () => next, float: () => 0 };
  const net = new Network({ seed: 1 });
  const h = host(net, net.link(), A, fixed);
  const port = () => h.udp.bind({ address: '0.0.0.0', port: 0 }, OPTIONS).local.port;
  assert.equal(port(), 32768);
  assert.equal(port(), 32769, 'taken: the next one up');
  next = EPHEMERAL_LAST - EPHEMERAL_FIRST;
  assert.equal(port(), 60999);
  assert.equal(port(), 32770, 'past the end it wraps to the start of the range');
  // The same seed picks the same ports.
  const ports = () => {
    const n = new Network({ seed: 5 });
    const x = host(n, n.link(), A);
    return [1, 2, 3].map(() => x.udp.bind({ address: '0.0.0.0', port: 0 }, OPTIONS).local.port);
  };
  assert.deepEqual(ports(), ports());
});

test('two hosts exchange datagrams; the receiver sees the sender; notify fires; a short buffer truncates', async () => {
  const { net, a, b } = pair();
  const server = b.udp.bind({ address: '0.0.0.0', port: 7 }, OPTIONS);
  const client = a.udp.bind({ address: '0.0.0.0', port: 0 }, OPTIONS);
  let notified = 0;
  server.notify = () => notified++;
  await client.send(text('hello'), B, 7);
  assert.equal(recvText(server), null, 'not there before the link delivers it');
  net.clock.advance(1);
  assert.equal(notified, 1);
  assert.deepEqual(recvText(server), { bytes: 5, address: A, port: client.local.port, truncated: false, text: 'hello' });
  assert.equal(recvText(server), null);
  await server.send(text('a longer reply'), A, client.local.port);
  net.clock.advance(1);
  assert.deepEqual(recvText(client, 8), { bytes: 8, address: B, port: 7, truncated: true, text: 'a longer' });
  assert.equal(recvText(client), null, 'the rest of a truncated datagram is gone');
  assert.deepEqual([a.counters.get('udp.out'), b.counters.get('udp.in'), server.drops], [1, 1, 0]);
});

test('the packet on the wire: the checksum is always computed, and the UDP header sits right after the IPv4 one', async () => {
  const { net, udp, heard } = setup();
  const e = udp.bind({ address: '0.0.0.0', port: 4000 }, OPTIONS);
  await e.send(text('payload'), B, 53);
  net.clock.advance(0);
  assert.equal(heard.length, 1);
  const parsed = parseIpv4(heard[0]!);
  assert.ok('header' in parsed);
  assert.equal(formatIPv4(parsed.header.src), A, 'the route picks the source of a wildcard endpoint');
  assert.deepEqual(parsed.payload, emitUdp({ srcPort: 4000, dstPort: 53, payload: text('payload') }, ip(A), ip(B)));
  assert.notEqual((parsed.payload[6]! << 8) | parsed.payload[7]!, 0);
  // emitUdp with headroom leaves the front free and writes the same datagram after it.
  const roomy = emitUdp({ srcPort: 1, dstPort: 2, payload: text('x') }, ip(A), ip(B), 20);
  assert.deepEqual(roomy.subarray(0, 20), new Uint8Array(20));
  assert.deepEqual(roomy.subarray(20), emitUdp({ srcPort: 1, dstPort: 2, payload: text('x') }, ip(A), ip(B)));
});

test('a datagram to a closed port: exactly one ICMP port unreachable quoting the original (RFC 1122 §4.1.3.1)', () => {
  const { net, peer, heard, counters } = setup();
  const original = datagram(5555, 9, text('anyone there?'));
  peer.send(original);
  net.clock.advance(0);
  assert.equal(counters.get('udp.no-port'), 1);
  assert.equal(heard.length, 1);
  const reply = parseIpv4(heard[0]!);
  assert.ok('header' in reply);
  assert.equal(reply.header.protocol, PROTOCOL.ICMP);
  assert.deepEqual([formatIPv4(reply.header.src), formatIPv4(reply.header.dst)], [A, B]);
  const message = parseIcmp(reply.payload);
  assert.ok('kind' in message && message.kind === 'unreachable');
  assert.equal(message.code, 3);
  assert.deepEqual([...reply.payload.subarray(0, 2), ...reply.payload.subarray(4, 8)], [3, 3, 0, 0, 0, 0]);
  assert.deepEqual(reply.payload.subarray(8), original, 'the whole original: header and data');
});

test('a connected endpoint gets ECONNREFUSED on its next recv, once; an unconnected one does not', async () => {
  const { net, a, b } = pair();
  const connected = a.udp.bind({ address: '0.0.0.0', port: 0 }, OPTIONS);
  await connected.connect({ address: B, port: 9 });
  let notified = 0;
  connected.notify = () => notified++;
  await connected.send(text('x'), B, 9);
  net.clock.advance(2);
  assert.equal(b.counters.get('udp.no-port'), 1);
  assert.equal(notified, 1);
  assert.equal(codeOf(() => connected.recv(new Uint8Array(10))), 'ECONNREFUSED');
  assert.equal(connected.recv(new Uint8Array(10)), null, 'reported once');

  const unconnected = a.udp.bind({ address: '0.0.0.0', port: 0 }, OPTIONS);
  await unconnected.send(text('x'), B, 9);
  net.clock.advance(2);
  assert.equal(a.counters.get('icmp.error-in'), 2);
  assert.equal(a.counters.get('udp.icmp-error'), 1);
  assert.equal(unconnected.recv(new Uint8Array(10)), null);
});

test('over loopback too: a connected endpoint sending to a closed local port gets ECONNREFUSED', async () => {
  const { net, udp, counters } = setup();
  const e = udp.bind({ address: '127.0.0.1', port: 0 }, OPTIONS);
  await e.connect({ address: '127.0.0.1', port: 9 });
  await e.send(text('x'), '127.0.0.1', 9);
  net.clock.advance(0);
  assert.equal(counters.get('icmp.unreachable-out'), 1);
  assert.equal(codeOf(() => e.recv(new Uint8Array(1))), 'ECONNREFUSED');
});

test('host and net unreachable from a router reach the connected endpoint whose peer they quote', async () => {
  const { net, udp, peer, heard } = setup();
  const e = udp.bind({ address: '0.0.0.0', port: 0 }, OPTIONS);
  await e.connect({ address: B, port: 53 });
  await e.send(text('q'), B, 53);
  net.clock.advance(0);
  const sent = heard[0]!;
  const from = (code: number, quoted = sent) => peer.send(emitIpv4(header({ protocol: PROTOCOL.ICMP }), emitUnreachable(code, quoted)));
  from(1);
  net.clock.advance(0);
  assert.equal(codeOf(() => e.recv(new Uint8Array(1))), 'EHOSTUNREACH');
  from(0);
  net.clock.advance(0);
  assert.equal(codeOf(() => e.recv(new Uint8Array(1))), 'ENETUNREACH');
  // About another peer port: not this endpoint's business.
  const other = sent.slice();
  other[22] = 0;
  other[23] = 54;
  from(3, other);
  net.clock.advance(0);
  assert.equal(e.recv(new Uint8Array(1)), null);
});

test('a connected endpoint hears only its peer; others get port unreachable, as Linux does', async () => {
  const { net, udp, peer, heard, counters } = setup();
  const e = udp.bind({ address: '0.0.0.0', port: 5000 }, OPTIONS);
  await e.connect({ address: B, port: 7 });
  assert.deepEqual(e.local, { address: A, port: 5000 }, 'connect fixes the source address the route picks');
  peer.send(datagram(8, 5000, text('stranger')));
  peer.send(datagram(7, 5000, text('peer')));
  net.clock.advance(0);
  assert.equal(recvText(e)?.text, 'peer');
  assert.equal(recvText(e), null);
  assert.equal(counters.get('udp.no-port'), 1);
  assert.equal(heard.length, 1);
  const reply = parseIpv4(heard[0]!);
  assert.ok('header' in reply && reply.header.protocol === PROTOCOL.ICMP);
});

test('send and connect errors: EISCONN, EMSGSIZE, EBADF, EINVAL, EACCES, ENETUNREACH', async () => {
  const { udp } = setup();
  const e = udp.bind({ address: '0.0.0.0', port: 0 }, OPTIONS);
  assert.equal(await rejection(e.send(new Uint8Array(65508), B, 7)), 'EMSGSIZE');
  assert.equal(await rejection(e.send(new Uint8Array(1), B, 0)), 'EINVAL');
  assert.equal(await rejection(e.send(new Uint8Array(1), 'nope', 7)), 'EINVAL');
  assert.equal(await rejection(e.send(new Uint8Array(1), '::1', 7)), 'EAFNOSUPPORT');
  assert.equal(await rejection(e.send(new Uint8Array(1), '10.0.0.255', 7)), 'EACCES', 'broadcast needs SO_BROADCAST');
  assert.equal(await rejection(e.send(new Uint8Array(1), '0.0.0.0', 7)), 'ENETUNREACH');
  assert.equal(await rejection(e.connect({ address: B, port: 0 })), 'EINVAL');
  await e.connect({ address: B, port: 7 });
  assert.equal(await rejection(e.send(new Uint8Array(1), B, 8)), 'EISCONN');
  assert.equal(await rejection(e.send(new Uint8Array(65507), B, 7)), 'none', '65507 bytes is the most');
  const lo = udp.bind({ address: '127.0.0.1', port: 0 }, OPTIONS);
  assert.equal(await rejection(lo.send(new Uint8Array(1), B, 7)), 'EINVAL', 'a loopback source cannot leave the host');
  assert.equal(await rejection(lo.connect({ address: B, port: 7 })), 'EINVAL');
  e.close();
  assert.equal(await rejection(e.send(new Uint8Array(1), B, 7)), 'EBADF');
  assert.equal(await rejection(e.connect({ address: B, port: 7 })), 'EBADF');
  const net = new Network({ seed: 1 });
  const counters = new Counters();
  const bare = new Ipv4Layer({ clock: net.clock, interfaces: [], counters });
  const lonely = new UdpLayer(bare, new IcmpLayer(bare, net.clock, counters), counters, net.random).bind({ address: '0.0.0.0', port: 0 }, OPTIONS);
  assert.equal(await rejection(lonely.connect({ address: B, port: 7 })), 'ENETUNREACH');
  assert.equal(await rejection(lonely.send(new Uint8Array(1), B, 7)), 'ENETUNREACH');
});

test('loopback: to 127.0.0.1 and to our own address, delivered on the next clock turn with the right source', async () => {
  const { net, udp, heard } = setup();
  const server = udp.bind({ address: '0.0.0.0', port: 7 }, OPTIONS);
  const lo = udp.bind({ address: '0.0.0.0', port: 0 }, OPTIONS);
  await lo.send(text('one'), '127.0.0.1', 7);
  await lo.send(text('two'), A, 7);
  assert.equal(recvText(server), null, 'never inside send');
  net.clock.advance(0);
  assert.deepEqual([recvText(server), recvText(server)].map((d) => d && [d.text, d.address, d.port]), [
    ['one', '127.0.0.1', lo.local.port],
    ['two', A, lo.local.port],
  ]);
  const c = udp.bind({ address: '0.0.0.0', port: 0 }, OPTIONS);
  await c.connect({ address: '127.0.0.1', port: 7 });
  assert.equal(c.local.address, '127.0.0.1');
  assert.equal(heard.length, 0);
});

test('the receive queue is bounded in bytes: drops are counted, and room comes back as it is read', () => {
  const { net, udp, peer, counters } = setup();
  const e = udp.bind({ address: '0.0.0.0', port: 7 }, { recvBufferSize: 1000 });
  for (let i = 0; i < 5; i++) peer.send(datagram(1, 7, new Uint8Array(300).fill(i)));
  net.clock.advance(0);
  assert.equal(e.drops, 2);
  assert.equal(counters.get('udp.recv-buffer-full'), 2);
  const buf = new Uint8Array(300);
  assert.equal(e.recv(buf)?.bytes, 300);
  assert.equal(buf[0], 0);
  peer.send(datagram(1, 7, new Uint8Array(300).fill(9)));
  net.clock.advance(0);
  assert.equal(e.drops, 2);
  const order: number[] = [];
  for (let d = e.recv(buf); d; d = e.recv(buf)) order.push(buf[0]!);
  assert.deepEqual(order, [1, 2, 9]);
  // Empty datagrams take no bytes but still count against the bound.
  const tiny = udp.bind({ address: '0.0.0.0', port: 8 }, { recvBufferSize: 3 });
  for (let i = 0; i < 5; i++) peer.send(datagram(1, 8, new Uint8Array(0)));
  net.clock.advance(0);
  assert.equal(tiny.drops, 2);
});

test('broadcasts reach the wildcard endpoint only', () => {
  const { device, udp } = setup();
  const any = udp.bind({ address: '0.0.0.0', port: 7 }, OPTIONS);
  const specific = udp.bind({ address: A, port: 8 }, OPTIONS);
  device.receive!(datagram(1, 7, text('all'), { dst: ip('10.0.0.255') }));
  device.receive!(datagram(1, 8, text('all'), { dst: ip('255.255.255.255') }));
  assert.equal(recvText(any)?.text, 'all');
  assert.equal(recvText(specific), null);
});

test('a 4000-byte datagram over MTU 1500 is fragmented and reassembled end to end', async () => {
  const { net, link, a, b } = pair({ mtu: 1500 });
  const sizes: number[] = [];
  link.capture({ packet: (_t, p) => sizes.push(p.length) });
  const server = b.udp.bind({ address: '0.0.0.0', port: 7 }, OPTIONS);
  const client = a.udp.bind({ address: '0.0.0.0', port: 0 }, OPTIONS);
  const payload = Uint8Array.from({ length: 4000 }, (_, i) => (i * 13) & 0xff);
  await client.send(payload, B, 7);
  net.clock.advance(1);
  assert.deepEqual(sizes, [1500, 1500, 20 + 4008 - 2 * 1480]);
  const buf = new Uint8Array(5000);
  const got = server.recv(buf);
  assert.equal(got?.bytes, 4000);
  assert.deepEqual(buf.subarray(0, 4000), payload);
  assert.equal(b.counters.get('ipv4.reassembled'), 1);
});

test('bad checksums and other malformed datagrams are counted, never thrown, never answered', () => {
  const { net, udp, peer, heard, counters } = setup();
  const e = udp.bind({ address: '0.0.0.0', port: 7 }, OPTIONS);
  const bad = datagram(1, 7, text('flip'));
  bad[bad.length - 1] ^= 0x01;
  peer.send(bad);
  peer.send(emitIpv4(header(), new Uint8Array(7)));
  net.clock.advance(0);
  assert.equal(counters.get('udp.bad-checksum'), 1);
  assert.equal(counters.get('udp.truncated'), 1);
  assert.equal(e.recv(new Uint8Array(10)), null);
  assert.equal(heard.length, 0);
  const random = xorshift(3);
  const runs = 5000;
  for (let i = 0; i < runs; i++) {
    const body = new Uint8Array(random() % 40).map(() => random() & 0xff);
    // Half the time a plausible length and no checksum (zero, RFC 768), so every check is reached.
    if (body.length >= 8 && random() % 2 === 0) {
      body[4] = 0;
      body[5] = random() % (body.length + 4);
      body[6] = body[7] = 0;
    }
    peer.send(emitIpv4(header(), body));
  }
  net.clock.advance(0);
  const seen = ['udp.in', 'udp.truncated', 'udp.bad-length', 'udp.bad-checksum'].reduce((n, c) => n + counters.get(c), 0);
  assert.equal(seen, runs + 2);
  assert.ok(counters.get('udp.bad-length') > 0 && counters.get('udp.in') > 0);
});
