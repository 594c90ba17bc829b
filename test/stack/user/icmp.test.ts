/** The host ICMP layer: echo, errors sent under RFC 1122's rules and a rate limit, errors received, ping. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Network } from '../../../src/link/network.js';
import { SocketError } from '../../../src/socket/errors.js';
import { Counters } from '../../../src/stack/user/counters.js';
import { IcmpLayer, type IcmpError } from '../../../src/stack/user/icmp.js';
import type { IpPacket } from '../../../src/stack/user/ip.js';
import { Ipv4Layer } from '../../../src/stack/user/ipv4.js';
import { checksum } from '../../../src/wire/checksum.js';
import { emitEcho, emitTimeExceeded, emitUnreachable, parseIcmp } from '../../../src/wire/icmp.js';
import { formatIPv4, parseIPv4 } from '../../../src/wire/ip-address.js';
import { emitIpv4, parseIpv4, PROTOCOL, type Ipv4Header } from '../../../src/wire/ipv4.js';
import { emitUdp } from '../../../src/wire/udp.js';
import { xorshift } from '../../prng.js';

const A = '10.0.0.1';
const B = '10.0.0.2';

function ip(text: string): Uint8Array {
  return parseIPv4(text)!;
}

function host(net: Network, link: ReturnType<Network['link']>, address: string) {
  const counters = new Counters();
  const device = link.attach(address);
  const layer = new Ipv4Layer({ clock: net.clock, interfaces: [{ device, address, prefixLength: 24 }], counters });
  const icmp = new IcmpLayer(layer, net.clock, counters);
  return { counters, device, ip: layer, icmp };
}

/** Host A with the ICMP layer, and B as a bare device whose packets the test writes and reads. */
function setup(params: { latencyMs?: number } = {}) {
  const net = new Network({ seed: 1 });
  const link = net.link(params);
  const a = host(net, link, A);
  const peer = link.attach(B);
  const heard: Uint8Array[] = [];
  peer.receive = (p) => heard.push(p);
  return { net, link, ...a, peer, heard };
}

function header(fields: Partial<Omit<Ipv4Header, 'totalLength'>> = {}): Omit<Ipv4Header, 'totalLength'> {
  return { dscp: 0, ecn: 0, identification: 7, dontFragment: false, moreFragments: false, fragmentOffset: 0, ttl: 64, protocol: PROTOCOL.ICMP, src: ip(B), dst: ip(A), options: new Uint8Array(0), ...fields };
}

function packet(fields: Partial<Omit<Ipv4Header, 'totalLength'>>, payload: Uint8Array): IpPacket {
  const raw = emitIpv4(header(fields), payload);
  const parsed = parseIpv4(raw);
  assert.ok('header' in parsed);
  return { ...parsed, raw };
}

function icmpOf(bytes: Uint8Array) {
  const parsed = parseIpv4(bytes);
  assert.ok('header' in parsed);
  assert.equal(parsed.header.protocol, PROTOCOL.ICMP);
  return { header: parsed.header, payload: parsed.payload, message: parseIcmp(parsed.payload) };
}

async function rejection(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (e) {
    assert.ok(e instanceof SocketError, String(e));
    return e.code;
  }
  assert.fail('expected a rejection');
}

test('RFC 792: an echo request gets an echo reply with the same identifier, sequence and data, byte for byte', () => {
  const { net, peer, heard, counters } = setup();
  const request = emitEcho('echo-request', 0x1234, 1, new TextEncoder().encode('abcdefgh'));
  peer.send(emitIpv4(header(), request));
  net.clock.advance(0);
  assert.equal(heard.length, 1);
  // Only the type changes (8 → 0), so the checksum grows by 0x0800 (RFC 1624 incremental update).
  const icmp = request.slice();
  icmp[0] = 0;
  const sum = ((request[2]! << 8) | request[3]!) + 0x0800;
  const folded = (sum & 0xffff) + (sum >> 16);
  icmp[2] = folded >> 8;
  icmp[3] = folded & 0xff;
  assert.equal(checksum(icmp), 0);
  const expected = emitIpv4({ ...header(), identification: 1, src: ip(A), dst: ip(B) }, icmp);
  assert.deepEqual(heard[0], expected);
  assert.equal(counters.get('icmp.echo'), 1);
});

test('echo requests to a broadcast address are ignored, as Linux icmp_echo_ignore_broadcasts', () => {
  const { net, device, heard, counters } = setup();
  const request = emitEcho('echo-request', 1, 1, new Uint8Array(4));
  // Straight into A's device: the simulated link carries only unicast.
  device.receive!(emitIpv4(header({ dst: ip('10.0.0.255') }), request));
  device.receive!(emitIpv4(header({ dst: ip('255.255.255.255') }), request));
  net.clock.advance(0);
  assert.equal(heard.length, 0);
  assert.equal(counters.get('icmp.echo-ignored'), 2);
});

test('ping: the round trip on the clock; loopback answers in no time; errors for bad targets', async () => {
  const net = new Network({ seed: 1 });
  const link = net.link({ latencyMs: 5 });
  const a = host(net, link, A);
  const b = host(net, link, B);
  assert.equal(await net.clock.run(a.icmp.ping(B, new Uint8Array(56), 1000)), 10);
  assert.equal(b.counters.get('icmp.echo'), 1);
  assert.equal(await net.clock.run(a.icmp.ping('127.0.0.1', new Uint8Array(8), 1000)), 0);
  assert.equal(await net.clock.run(a.icmp.ping(A, new Uint8Array(8), 1000)), 0);
  const start = net.clock.now();
  assert.equal(await net.clock.run(rejection(a.icmp.ping('10.0.0.3', new Uint8Array(8), 1000))), 'ETIMEDOUT');
  assert.equal(net.clock.now() - start, 1000);
  assert.equal(await rejection(a.icmp.ping('10.0.0', new Uint8Array(8), 1000)), 'EINVAL');
  assert.equal(await rejection(a.icmp.ping('::1', new Uint8Array(8), 1000)), 'EAFNOSUPPORT');
  assert.equal(await rejection(a.icmp.ping(B, new Uint8Array(65508), 1000)), 'EMSGSIZE');
  const bare = new IcmpLayer(new Ipv4Layer({ clock: net.clock, interfaces: [], counters: new Counters() }), net.clock, new Counters());
  assert.equal(await rejection(bare.ping(B, new Uint8Array(8), 1000)), 'ENETUNREACH');
  assert.equal(net.clock.pending, 0, 'no timer left behind');
});

test('a ping answered by a router with host unreachable fails with EHOSTUNREACH; a stray echo reply is ignored', async () => {
  const { net, icmp, peer, heard, counters } = setup();
  const pending = rejection(icmp.ping(B, new Uint8Array(8), 1000));
  net.clock.advance(0);
  assert.equal(heard.length, 1);
  const request = icmpOf(heard[0]!);
  assert.ok('kind' in request.message && request.message.kind === 'echo-request');
  // An echo reply with another sequence number, then the error quoting the request.
  peer.send(emitIpv4(header(), emitEcho('echo-reply', request.message.id, request.message.seq + 1, new Uint8Array(8))));
  peer.send(emitIpv4(header(), emitUnreachable(1, heard[0]!)));
  net.clock.advance(0);
  assert.equal(await pending, 'EHOSTUNREACH');
  assert.equal(counters.get('icmp.echo-unexpected'), 1);
  assert.equal(net.clock.pending, 0);
});

test('a protocol nobody speaks: protocol unreachable (code 2) quoting the datagram', () => {
  const { net, peer, heard, counters } = setup();
  const original = emitIpv4(header({ protocol: 253 }), new Uint8Array(30).fill(9));
  peer.send(original);
  net.clock.advance(0);
  assert.equal(counters.get('ipv4.unknown-protocol'), 1);
  assert.equal(heard.length, 1);
  const reply = icmpOf(heard[0]!);
  assert.ok('kind' in reply.message && reply.message.kind === 'unreachable');
  assert.equal(reply.message.code, 2);
  assert.deepEqual(reply.payload.subarray(8), original);
  assert.equal(formatIPv4(reply.header.src), A);
  assert.equal(counters.get('icmp.unreachable-out'), 1);
});

test('RFC 1122 §3.2.2: no error about an ICMP error, a later fragment, a broadcast or multicast, or a source that is no single host', () => {
  const { net, icmp, heard, counters } = setup();
  const udp = (fields: Partial<Omit<Ipv4Header, 'totalLength'>>) => packet({ protocol: PROTOCOL.UDP, ...fields }, new Uint8Array(16));
  const aboutError = emitIpv4(header({ src: ip(A), dst: ip(B) }), new Uint8Array(28));
  const cases: IpPacket[] = [
    packet({}, emitUnreachable(3, aboutError)),
    packet({}, emitTimeExceeded(0, aboutError)),
    udp({ fragmentOffset: 1480 }),
    udp({ dst: ip('10.0.0.255') }),
    udp({ dst: ip('255.255.255.255') }),
    udp({ dst: ip('224.0.0.1') }),
    udp({ src: ip('0.0.0.0') }),
    udp({ src: ip('10.0.0.255') }),
    udp({ src: ip('239.1.1.1') }),
  ];
  for (const p of cases) icmp.unreachable(p, 3);
  net.clock.advance(0);
  assert.equal(heard.length, 0);
  assert.equal(counters.get('icmp.error-suppressed'), cases.length);
  // A query is not an error: an echo request that cannot be delivered may be reported.
  icmp.unreachable(packet({}, emitEcho('echo-request', 1, 1, new Uint8Array(0))), 3);
  net.clock.advance(0);
  assert.equal(heard.length, 1);
});

test('errors are rate-limited by a token bucket: a burst of 50, then 1000 per second', () => {
  const { net, icmp, heard, counters } = setup();
  const p = packet({ protocol: PROTOCOL.UDP }, new Uint8Array(16));
  for (let i = 0; i < 100; i++) icmp.unreachable(p, 3);
  net.clock.advance(0);
  assert.equal(heard.length, 50);
  assert.equal(counters.get('icmp.rate-limited'), 50);
  net.clock.advance(10);
  for (let i = 0; i < 20; i++) icmp.unreachable(p, 3);
  net.clock.advance(0);
  assert.equal(heard.length, 60, 'ten tokens in 10 ms');
  net.clock.advance(10_000);
  for (let i = 0; i < 100; i++) icmp.unreachable(p, 3);
  net.clock.advance(0);
  assert.equal(heard.length, 110, 'a long pause refills only up to the burst');
  assert.equal(counters.get('icmp.rate-limited'), 110);
  // Echo replies are not errors, and are not limited.
  const { net: net2, peer, heard: heard2 } = setup();
  for (let i = 0; i < 200; i++) peer.send(emitIpv4(header(), emitEcho('echo-request', 1, i, new Uint8Array(0))));
  net2.clock.advance(0);
  assert.equal(heard2.length, 200);
});

test('errors received go to the listeners of the quoted protocol, with our endpoint and the remote one', () => {
  const { net, icmp, peer, counters } = setup();
  const got: IcmpError[] = [];
  icmp.onError(PROTOCOL.UDP, (e) => got.push(e));
  const tcp: IcmpError[] = [];
  icmp.onError(PROTOCOL.TCP, (e) => tcp.push(e));
  const sent = emitIpv4(header({ protocol: PROTOCOL.UDP, src: ip(A), dst: ip('192.0.2.9') }), emitUdp({ srcPort: 40000, dstPort: 53, payload: new Uint8Array(20) }, ip(A), ip('192.0.2.9')));
  peer.send(emitIpv4(header(), emitUnreachable(3, sent)));
  peer.send(emitIpv4(header(), emitUnreachable(4, sent, 1280)));
  peer.send(emitIpv4(header(), emitTimeExceeded(0, sent)));
  // Quoting a datagram that is not ours: nobody hears of it.
  const notOurs = emitIpv4(header({ protocol: PROTOCOL.UDP, src: ip('10.0.0.7'), dst: ip('192.0.2.9') }), new Uint8Array(28));
  peer.send(emitIpv4(header(), emitUnreachable(3, notOurs)));
  net.clock.advance(0);
  const local = { address: A, port: 40000 };
  const remote = { address: '192.0.2.9', port: 53 };
  const transport = sent.subarray(20);
  assert.deepEqual(got, [
    { kind: 'unreachable', code: 3, local, remote, transport },
    { kind: 'unreachable', code: 4, mtu: 1280, local, remote, transport },
    { kind: 'time-exceeded', code: 0, local, remote, transport },
  ]);
  assert.equal(tcp.length, 0);
  assert.equal(counters.get('icmp.error-not-ours'), 1);
  assert.equal(counters.get('icmp.error-in'), 3);
});

test('malformed ICMP is counted, never thrown', () => {
  const { net, peer, heard, counters } = setup();
  const bad = emitEcho('echo-request', 1, 1, new Uint8Array(8));
  bad[9] ^= 1;
  peer.send(emitIpv4(header(), bad));
  peer.send(emitIpv4(header(), new Uint8Array(7)));
  net.clock.advance(0);
  assert.equal(counters.get('icmp.bad-checksum'), 1);
  assert.equal(counters.get('icmp.truncated'), 1);
  const random = xorshift(9);
  const runs = 5000;
  for (let i = 0; i < runs; i++) {
    const body = new Uint8Array(random() % 80).map(() => random() & 0xff);
    if (body.length >= 4) {
      // Mostly well-formed checksums, so the parser's later checks are reached too.
      body[0] = [0, 3, 8, 11, 5][random() % 5]!;
      body[2] = body[3] = 0;
      const sum = checksum(body);
      body[2] = sum >> 8;
      body[3] = sum & 0xff;
    }
    peer.send(emitIpv4(header(), body));
  }
  net.clock.advance(0);
  assert.equal(counters.get('ipv4.in'), runs + 2);
  assert.ok(counters.get('icmp.bad-quote') > 0 && counters.get('icmp.echo') > 0);
  assert.ok(heard.length > 0);
});
