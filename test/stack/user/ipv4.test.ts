/** The host IPv4 layer: input checks, routes, loopback, fragmentation and reassembly, on a simulated link. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Network } from '../../../src/link/network.js';
import type { Clock, Device } from '../../../src/link/types.js';
import { Counters } from '../../../src/stack/user/counters.js';
import { IcmpLayer } from '../../../src/stack/user/icmp.js';
import { Ipv4Layer, IPV4_HEADROOM, type Ipv4Packet } from '../../../src/stack/user/ipv4.js';
import { fragmentIpv4 } from '../../../src/wire/fragment.js';
import { parseIcmp } from '../../../src/wire/icmp.js';
import { formatIPv4, parseIPv4 } from '../../../src/wire/ip-address.js';
import { emitIpv4, parseIpv4, PROTOCOL, type Ipv4Header } from '../../../src/wire/ipv4.js';
import { xorshift } from '../../prng.js';

const A = '10.0.0.1';
const B = '10.0.0.2';
const TEST_PROTOCOL = 253; // RFC 3692: for experimentation and testing

function ip(text: string): Uint8Array {
  return parseIPv4(text)!;
}

function setup(params: { mtu?: number; latencyMs?: number } = {}) {
  const net = new Network({ seed: 1 });
  const link = net.link(params);
  const counters = new Counters();
  const device = link.attach(A);
  const layer = new Ipv4Layer({ clock: net.clock, interfaces: [{ device, address: A, prefixLength: 24 }], counters });
  const got: Ipv4Packet[] = [];
  layer.register(TEST_PROTOCOL, (p) => got.push(p));
  // A bare device for the other host: the test writes and reads its packets byte by byte.
  const peer = link.attach(B);
  const heard: Uint8Array[] = [];
  peer.receive = (p) => heard.push(p);
  return { net, link, counters, device, layer, got, peer, heard };
}

function header(fields: Partial<Omit<Ipv4Header, 'totalLength'>> = {}): Omit<Ipv4Header, 'totalLength'> {
  return { dscp: 0, ecn: 0, identification: 7, dontFragment: false, moreFragments: false, fragmentOffset: 0, ttl: 64, protocol: TEST_PROTOCOL, src: ip(B), dst: ip(A), options: new Uint8Array(0), ...fields };
}

function built(payload: Uint8Array): Uint8Array {
  const packet = new Uint8Array(IPV4_HEADROOM + payload.length);
  packet.set(payload, IPV4_HEADROOM);
  return packet;
}

function pattern(length: number): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (i * 7 + 3) & 0xff);
}

test('a packet for us reaches the handler of its protocol; TTL is not checked on receive (RFC 1122 §3.2.1.7)', () => {
  const { net, peer, got, counters } = setup();
  const packet = emitIpv4(header({ ttl: 0 }), pattern(10));
  peer.send(packet);
  net.clock.advance(0);
  assert.equal(got.length, 1);
  assert.deepEqual([...got[0]!.payload], [...pattern(10)]);
  assert.equal(got[0]!.header.ttl, 0);
  assert.equal(formatIPv4(got[0]!.header.src), B);
  assert.deepEqual(got[0]!.raw, packet);
  assert.equal(counters.get('ipv4.in'), 1);
});

test('sendBuilt writes the header into the headroom: TTL 64, a fresh identification each time, one buffer', () => {
  const { net, layer, heard, counters } = setup();
  const first = built(pattern(12));
  layer.sendBuilt(TEST_PROTOCOL, ip(A), ip(B), first);
  layer.send(TEST_PROTOCOL, ip(A), ip(B), pattern(3));
  net.clock.advance(0);
  assert.equal(heard.length, 2);
  assert.equal(heard[0], first, 'the very buffer the caller built');
  const h = [heard[0]!, heard[1]!].map((p) => {
    const parsed = parseIpv4(p);
    assert.ok('header' in parsed);
    return parsed.header;
  });
  assert.deepEqual(
    h.map((x) => [x.ttl, x.protocol, x.totalLength, x.dontFragment, formatIPv4(x.src), formatIPv4(x.dst)]),
    [
      [64, TEST_PROTOCOL, 32, false, A, B],
      [64, TEST_PROTOCOL, 23, false, A, B],
    ],
  );
  assert.equal(h[1]!.identification, (h[0]!.identification + 1) & 0xffff);
  assert.equal(counters.get('ipv4.out'), 2);
});

test('a host does not forward: a packet for another address is counted and dropped', () => {
  const { net, device, got, counters } = setup();
  device.receive!(emitIpv4(header({ dst: ip('10.0.0.9') }), pattern(4)));
  device.receive!(emitIpv4(header({ dst: ip('8.8.8.8') }), pattern(4)));
  net.clock.advance(0);
  assert.equal(got.length, 0);
  assert.equal(counters.get('ipv4.not-ours'), 2);
});

test('broadcasts are ours: the limited one and our subnet directed one', () => {
  const { device, got, counters } = setup();
  device.receive!(emitIpv4(header({ dst: ip('255.255.255.255') }), pattern(4)));
  device.receive!(emitIpv4(header({ dst: ip('10.0.0.255') }), pattern(4)));
  device.receive!(emitIpv4(header({ dst: ip('10.0.1.255') }), pattern(4)));
  assert.equal(got.length, 2);
  assert.equal(counters.get('ipv4.not-ours'), 1);
});

test('127/8 from a wire (RFC 1122 §3.2.1.3), or a source that is ours, multicast or broadcast: dropped as martian', () => {
  const { device, got, counters } = setup();
  for (const src of ['127.0.0.1', A, '224.0.0.1', '255.255.255.255', '10.0.0.255']) device.receive!(emitIpv4(header({ src: ip(src) }), pattern(4)));
  device.receive!(emitIpv4(header({ dst: ip('127.0.0.1') }), pattern(4)));
  assert.equal(got.length, 0);
  assert.equal(counters.get('ipv4.martian'), 6);
});

test('RFC 3021: a /31 has no broadcast address, so both addresses are hosts', () => {
  const net = new Network({ seed: 1 });
  const device: Device = { mtu: 1500, send: () => {}, receive: null };
  const layer = new Ipv4Layer({ clock: net.clock, interfaces: [{ device, address: '10.0.0.0', prefixLength: 31 }], counters: new Counters() });
  assert.equal(layer.isBroadcast(ip('10.0.0.1')), false);
  assert.equal(layer.isBroadcast(ip('255.255.255.255')), true);
});

test('malformed packets are counted by reason, never thrown', () => {
  const { device, got, counters } = setup();
  const good = emitIpv4(header(), pattern(10));
  const patch = (at: number, value: number) => {
    const copy = good.slice();
    copy[at] = value;
    return copy;
  };
  device.receive!(good.subarray(0, 19));
  device.receive!(patch(0, 0x65));
  device.receive!(patch(0, 0x44));
  device.receive!(patch(3, 200));
  device.receive!(patch(8, 1));
  for (const reason of ['truncated', 'bad-version', 'bad-header-length', 'bad-total-length', 'bad-checksum']) assert.equal(counters.get(`ipv4.${reason}`), 1, reason);
  assert.equal(got.length, 0);

  // Random bytes, and valid headers over random fragment fields and payloads.
  const random = xorshift(42);
  const runs = 20_000;
  for (let i = 0; i < runs; i++) {
    if (i % 2 === 0) {
      const junk = new Uint8Array(random() % 90).map(() => random() & 0xff);
      if (junk.length > 0 && random() % 2 === 0) junk[0] = 0x45;
      device.receive!(junk);
    } else {
      const more = random() % 2 === 0;
      const fields = header({ identification: random() & 0xffff, moreFragments: more, fragmentOffset: (random() % 8200) * 8 });
      device.receive!(emitIpv4(fields, new Uint8Array(random() % 64).map(() => random() & 0xff)));
    }
  }
  assert.equal(counters.get('ipv4.in'), runs + 5);
  assert.ok(counters.get('ipv4.frag-bad') > 0 && counters.get('ipv4.truncated') > 1, 'both kinds of junk reached their checks');
});

test('routes: own address and 127/8 over loopback, on-link by prefix, anything else by the first interface', () => {
  const net = new Network({ seed: 1 });
  const lan = net.link({ mtu: 1500 });
  const wan = net.link({ mtu: 1400 });
  const layer = new Ipv4Layer({
    clock: net.clock,
    interfaces: [
      { device: wan.attach('192.0.2.10'), address: '192.0.2.10', prefixLength: 24 },
      { device: lan.attach(A), address: A, prefixLength: 24 },
    ],
    counters: new Counters(),
  });
  const route = (dst: string) => {
    const r = layer.route(ip(dst));
    return r && [r.sourceAddress, formatIPv4(r.source), r.mtu];
  };
  assert.deepEqual(layer.addresses, ['192.0.2.10', A]);
  assert.deepEqual(route(A), [A, A, 65535]);
  assert.deepEqual(route('192.0.2.10'), ['192.0.2.10', '192.0.2.10', 65535]);
  assert.deepEqual(route('127.0.0.1'), ['127.0.0.1', '127.0.0.1', 65535]);
  assert.deepEqual(route('127.9.9.9'), ['127.0.0.1', '127.0.0.1', 65535]);
  assert.deepEqual(route('10.0.0.77'), [A, A, 1500]);
  assert.deepEqual(route('198.51.100.1'), ['192.0.2.10', '192.0.2.10', 1400]);
  assert.equal(route('0.0.0.0'), null);
  assert.equal(layer.isLocal(ip(A)), true);
  assert.equal(layer.isLocal(ip('127.1.2.3')), true);
  assert.equal(layer.isLocal(ip('10.0.0.2')), false);
  const bare = new Ipv4Layer({ clock: net.clock, interfaces: [], counters: new Counters() });
  assert.equal(bare.route(ip('10.0.0.2')), null);
  assert.notEqual(bare.route(ip('127.0.0.1')), null, 'loopback needs no interface');
});

test('loopback delivery waits for a 0 ms timer: a send never re-enters its caller', () => {
  const { net, layer, got, heard, counters } = setup();
  layer.send(TEST_PROTOCOL, ip(A), ip(A), pattern(5));
  layer.send(TEST_PROTOCOL, ip('127.0.0.1'), ip('127.0.0.2'), pattern(6));
  assert.equal(got.length, 0, 'not delivered inside send');
  net.clock.advance(0);
  assert.deepEqual(
    got.map((p) => [formatIPv4(p.header.src), formatIPv4(p.header.dst), p.payload.length]),
    [
      [A, A, 5],
      ['127.0.0.1', '127.0.0.2', 6],
    ],
  );
  assert.equal(heard.length, 0, 'nothing went on the wire');
  assert.equal(counters.get('ipv4.in'), 2);
  // A handler that answers over loopback is not re-entered in the same turn either.
  let depth = 0;
  let calls = 0;
  layer.register(TEST_PROTOCOL, () => {
    assert.equal(depth, 0);
    depth++;
    if (++calls < 3) layer.send(TEST_PROTOCOL, ip(A), ip(A), pattern(1));
    depth--;
  });
  layer.send(TEST_PROTOCOL, ip(A), ip(A), pattern(1));
  net.clock.advance(0);
  assert.equal(calls, 3);
});

test('no route: counted and dropped', () => {
  const net = new Network({ seed: 1 });
  const counters = new Counters();
  const layer = new Ipv4Layer({ clock: net.clock, interfaces: [], counters });
  layer.send(TEST_PROTOCOL, ip('0.0.0.0'), ip('10.0.0.2'), pattern(1));
  assert.equal(counters.get('ipv4.no-route'), 1);
  assert.equal(counters.get('ipv4.out'), 0);
});

test('RFC 791 §2.3: 4000 bytes over MTU 1500 leave as three fragments and are reassembled at the receiver', () => {
  const net = new Network({ seed: 1 });
  const link = net.link({ mtu: 1500, latencyMs: 1 });
  const sent: Uint8Array[] = [];
  link.capture({ packet: (_t, bytes) => sent.push(bytes) });
  const counters = [new Counters(), new Counters()];
  const layers = [A, B].map((address, i) => new Ipv4Layer({ clock: net.clock, interfaces: [{ device: link.attach(address), address, prefixLength: 24 }], counters: counters[i]! }));
  const got: Ipv4Packet[] = [];
  layers[1]!.register(TEST_PROTOCOL, (p) => got.push(p));
  const payload = pattern(4000);
  layers[0]!.send(TEST_PROTOCOL, ip(A), ip(B), payload);
  assert.deepEqual(
    sent.map((p) => {
      const parsed = parseIpv4(p);
      assert.ok('header' in parsed);
      return [p.length, parsed.header.fragmentOffset, parsed.header.moreFragments];
    }),
    [
      [1500, 0, true],
      [1500, 1480, true],
      [1060, 2960, false],
    ],
  );
  assert.equal(counters[0]!.get('ipv4.out'), 1);
  assert.equal(counters[0]!.get('ipv4.frag-out'), 3);
  net.clock.advance(1);
  assert.equal(got.length, 1);
  assert.deepEqual(got[0]!.payload, payload);
  assert.equal(got[0]!.header.totalLength, 4020);
  assert.equal(got[0]!.header.moreFragments, false);
  assert.equal(got[0]!.raw.length, 4020, 'a rebuilt packet to quote');
  assert.deepEqual(got[0]!.raw.subarray(20), payload);
  assert.equal(counters[1]!.get('ipv4.reassembled'), 1);
  assert.equal(counters[1]!.get('ipv4.in'), 3);
  assert.equal(net.clock.pending, 0, 'no reassembly timer left once nothing is partial');
});

test("Don't Fragment on a packet over the MTU: counted as out-too-big, nothing sent", () => {
  const { layer, heard, net, counters } = setup({ mtu: 1500 });
  layer.sendBuilt(TEST_PROTOCOL, ip(A), ip(B), built(pattern(1481)), { dontFragment: true });
  layer.sendBuilt(TEST_PROTOCOL, ip(A), ip(B), built(pattern(1480)), { dontFragment: true });
  net.clock.advance(0);
  assert.equal(heard.length, 1);
  assert.equal(heard[0]!.length, 1500);
  assert.equal(counters.get('ipv4.out-too-big'), 1);
});

test('a missing fragment: after 30 s, ICMP time exceeded code 1 (RFC 792) back to the sender, and the partial datagram is freed', () => {
  const { net, layer, peer, heard, counters } = setup();
  new IcmpLayer(layer, net.clock, counters);
  const fragments = fragmentIpv4(header({ identification: 99 }), pattern(4000), 1500);
  peer.send(fragments[0]!);
  peer.send(fragments[2]!);
  net.clock.advance(29_999);
  assert.equal(heard.length, 0);
  assert.equal(net.clock.pending, 1, 'one reassembly timer');
  net.clock.advance(1);
  assert.equal(counters.get('ipv4.reassembly-timeout'), 1);
  net.clock.advance(0);
  assert.equal(heard.length, 1);
  const reply = parseIpv4(heard[0]!);
  assert.ok('header' in reply);
  assert.equal(reply.header.protocol, PROTOCOL.ICMP);
  assert.equal(formatIPv4(reply.header.src), A);
  assert.equal(formatIPv4(reply.header.dst), B);
  const message = parseIcmp(reply.payload);
  assert.ok('kind' in message && message.kind === 'time-exceeded');
  assert.equal(message.code, 1);
  // The quote is the first fragment's header and the start of its data (at most 548 bytes in all).
  assert.deepEqual(reply.payload.subarray(8), fragments[0]!.subarray(0, 548));
  assert.equal(net.clock.pending, 0, 'nothing left to expire');
  // The freed datagram is gone: the missing fragment alone now starts a new one.
  peer.send(fragments[1]!);
  net.clock.advance(0);
  assert.equal(counters.get('ipv4.reassembled'), 0);
});

test('without the first fragment, a timeout sends nothing (RFC 792: only if fragment zero arrived)', () => {
  const { net, layer, peer, heard, counters } = setup();
  new IcmpLayer(layer, net.clock, counters);
  const fragments = fragmentIpv4(header(), pattern(4000), 1500);
  peer.send(fragments[1]!);
  net.clock.advance(30_000);
  net.clock.advance(0);
  assert.equal(counters.get('ipv4.reassembly-timeout'), 1);
  assert.equal(heard.length, 0);
});

test('expiry also runs lazily when fragments arrive, even if the timer has not fired', () => {
  // A clock whose timers never fire: only the arrival of a fragment can notice the time.
  let now = 0;
  const clock: Clock = { now: () => now, setTimer: () => ({}), clearTimer: () => {} };
  const counters = new Counters();
  const device: Device = { mtu: 1500, send: () => {}, receive: null };
  new Ipv4Layer({ clock, interfaces: [{ device, address: A, prefixLength: 24 }], counters });
  device.receive!(fragmentIpv4(header({ identification: 1 }), pattern(3000), 1500)[0]!);
  now = 30_000;
  device.receive!(fragmentIpv4(header({ identification: 2 }), pattern(3000), 1500)[0]!);
  assert.equal(counters.get('ipv4.reassembly-timeout'), 1);
});

test('a device set up with no receive: the layer installs its own', () => {
  const device: Device = { mtu: 1500, send: () => {}, receive: null };
  const net = new Network({ seed: 1 });
  new Ipv4Layer({ clock: net.clock, interfaces: [{ device, address: A, prefixLength: 24 }], counters: new Counters() });
  assert.equal(typeof device.receive, 'function');
  assert.throws(() => new Ipv4Layer({ clock: net.clock, interfaces: [{ device, address: '10.0.0', prefixLength: 24 }], counters: new Counters() }), RangeError);
});
