/** IPv4 fragmentation (RFC 791 §2.3, §3.2): offsets in 8-byte units, More Fragments, copied options, DF and the 68-byte minimum. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fragmentIpv4 } from '../../src/wire/fragment.js';
import { parseIpv4, PROTOCOL, type Ipv4Header } from '../../src/wire/ipv4.js';
import { parseIPv4 } from '../../src/wire/ip-address.js';
import { xorshift } from '../prng.js';

function header(over: Partial<Omit<Ipv4Header, 'totalLength'>> = {}): Omit<Ipv4Header, 'totalLength'> {
  return { dscp: 0, ecn: 0, identification: 0xbeef, dontFragment: false, moreFragments: false, fragmentOffset: 0, ttl: 64, protocol: PROTOCOL.UDP, src: parseIPv4('10.0.0.1')!, dst: parseIPv4('10.0.0.2')!, options: new Uint8Array(0), ...over };
}

/** 4000 bytes standing for a UDP datagram (header included), patterned so misplaced bytes show. */
const datagram = new Uint8Array(4000).map((_, i) => (i * 31 + 7) & 0xff);

function parseAll(packets: Uint8Array[]): Array<{ header: Ipv4Header; payload: Uint8Array; length: number }> {
  return packets.map((p) => {
    const r = parseIpv4(p);
    assert.ok('header' in r, `a fragment does not parse: ${JSON.stringify(r)}`);
    return { ...r, length: p.length };
  });
}

function layout(packets: Uint8Array[]): Array<[number, boolean, number]> {
  return parseAll(packets).map((f) => [f.header.fragmentOffset, f.header.moreFragments, f.length]);
}

function joined(packets: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(datagram.length);
  for (const f of parseAll(packets)) out.set(f.payload, f.header.fragmentOffset);
  return out;
}

test('a 4000-byte UDP datagram at MTU 1500: 1480 + 1480 + 1040 bytes at offsets 0, 1480, 2960', () => {
  const packets = fragmentIpv4(header(), datagram, 1500);
  assert.deepEqual(layout(packets), [[0, true, 1500], [1480, true, 1500], [2960, false, 1060]]);
  assert.deepEqual(joined(packets), datagram);
  for (const f of parseAll(packets)) assert.deepEqual([f.header.identification, f.header.protocol, f.header.ttl], [0xbeef, PROTOCOL.UDP, 64]);
});

test('the same datagram at MTU 576: seven fragments of 552 bytes (69 units of 8) and one of 136', () => {
  const packets = fragmentIpv4(header(), datagram, 576);
  const expected: Array<[number, boolean, number]> = [];
  for (let i = 0; i < 7; i++) expected.push([i * 552, true, 572]);
  expected.push([3864, false, 156]);
  assert.deepEqual(layout(packets), expected);
  assert.deepEqual(joined(packets), datagram);
});

test('a datagram that fits is one unfragmented packet, DF or not', () => {
  for (const dontFragment of [false, true]) {
    const [f, ...rest] = parseAll(fragmentIpv4(header({ dontFragment }), datagram.subarray(0, 1480), 1500));
    assert.equal(rest.length, 0);
    assert.deepEqual([f!.header.moreFragments, f!.header.fragmentOffset, f!.header.totalLength, f!.header.dontFragment], [false, 0, 1500, dontFragment]);
  }
});

test('Don\'t Fragment on a datagram too big, and an MTU below 68, throw RangeError', () => {
  assert.throws(() => fragmentIpv4(header({ dontFragment: true }), datagram, 1500), RangeError);
  assert.throws(() => fragmentIpv4(header(), datagram, 67), RangeError);
  assert.throws(() => fragmentIpv4(header(), new Uint8Array(1), NaN), RangeError);
  // At exactly 68 with a 60-byte header, each fragment carries the 8 bytes RFC 791 guarantees.
  const options = new Uint8Array(40).fill(1);
  const packets = fragmentIpv4(header({ options }), datagram.subarray(0, 20), 68);
  assert.deepEqual(layout(packets), [[0, true, 68], [8, false, 32]], 'NOP options are not copied, so later headers are 20 bytes');
});

test('RFC 791 §3.1: only options with the copied bit go in every fragment; later headers shrink', () => {
  // Security (130, copied, 4 bytes of padding-like data here), then Record Route (7, not copied), then a NOP.
  const options = new Uint8Array([130, 4, 0xaa, 0xbb, 7, 7, 4, 0, 0, 0, 0, 1]);
  const parsed = parseAll(fragmentIpv4(header({ options }), datagram, 1000));
  assert.deepEqual([...parsed[0]!.header.options], [...options]);
  for (const f of parsed.slice(1)) assert.deepEqual([...f.header.options], [130, 4, 0xaa, 0xbb]);
  // The first carries floor((1000 - 32) / 8) * 8 = 968 bytes; later ones floor((1000 - 24) / 8) * 8 = 976.
  assert.deepEqual(parsed.map((f) => f.payload.length), [968, 976, 976, 976, 104]);
  assert.deepEqual(joined(fragmentIpv4(header({ options }), datagram, 1000)), datagram);
});

test('a fragment split again keeps its offset base and, if not the last, its More Fragments flag', () => {
  const middle = fragmentIpv4(header({ moreFragments: true, fragmentOffset: 1480 }), datagram.subarray(1480, 2960), 576);
  assert.deepEqual(layout(middle), [[1480, true, 572], [2032, true, 572], [2584, true, 396]]);
  const last = fragmentIpv4(header({ fragmentOffset: 2960 }), datagram.subarray(2960), 576);
  assert.deepEqual(layout(last), [[2960, true, 572], [3512, false, 508]]);
});

test('seeded sizes and MTUs: fragments fit, offsets are multiples of 8, and they join back to the datagram', () => {
  const random = xorshift(0xf4a6);
  for (let i = 0; i < 300; i++) {
    const payload = new Uint8Array(random() % 9000).map(() => random() & 0xff);
    const mtu = 68 + (random() % 3000);
    const packets = fragmentIpv4(header({ identification: i }), payload, mtu);
    const parsed = parseAll(packets);
    const out = new Uint8Array(payload.length);
    let at = 0;
    parsed.forEach((f, n) => {
      assert.ok(f.length <= mtu);
      assert.equal(f.header.fragmentOffset, at);
      assert.equal(f.header.fragmentOffset % 8, 0);
      assert.equal(f.header.moreFragments, n < parsed.length - 1);
      out.set(f.payload, at);
      at += f.payload.length;
    });
    assert.equal(at, payload.length);
    assert.deepEqual(out, payload);
  }
});
