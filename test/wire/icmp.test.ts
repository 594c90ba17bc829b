/** ICMPv4 (RFC 792, RFC 1122 §3.2.2, RFC 1191, RFC 1812 §4.3.2.3): known answers, round trips, quotes, drops, fuzz. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { emitEcho, emitTimeExceeded, emitUnreachable, ICMP_TYPE, MAX_QUOTE, mayReportError, parseIcmp, TIME_EXCEEDED, UNREACHABLE, type IcmpMessage } from '../../src/wire/icmp.js';
import { checksum } from '../../src/wire/checksum.js';
import { emitIpv4, parseIpv4, PROTOCOL, type Ipv4Header } from '../../src/wire/ipv4.js';
import { emitUdp } from '../../src/wire/udp.js';
import { parseIPv4 } from '../../src/wire/ip-address.js';
import { xorshift } from '../prng.js';

/** A Windows-style ping (id 1, seq 0x21, 32 bytes "abcdefghijklmnopqrstuvwabcdefghi"); checksum 0x4d3a computed by a separate Python program. */
const ECHO_REQUEST = '08004d3a00010021' + Buffer.from('abcdefghijklmnopqrstuvwabcdefghi').toString('hex');

const us = parseIPv4('10.0.0.1')!;
const them = parseIPv4('10.0.0.2')!;

function ipHeader(over: Partial<Omit<Ipv4Header, 'totalLength'>> = {}): Omit<Ipv4Header, 'totalLength'> {
  return { dscp: 0, ecn: 0, identification: 0x1234, dontFragment: true, moreFragments: false, fragmentOffset: 0, ttl: 64, protocol: PROTOCOL.UDP, src: us, dst: them, options: new Uint8Array(0), ...over };
}

/** An IPv4 packet carrying a UDP datagram 40000 -> 53 with `n` payload bytes. */
function udpPacket(n: number, over: Partial<Omit<Ipv4Header, 'totalLength'>> = {}): Uint8Array {
  const payload = new Uint8Array(n).map((_, i) => i & 0xff);
  return emitIpv4(ipHeader(over), emitUdp({ srcPort: 40000, dstPort: 53, payload }, us, them));
}

function ok(bytes: Uint8Array): IcmpMessage {
  const r = parseIcmp(bytes);
  assert.ok(!('drop' in r), `dropped: ${JSON.stringify(r)}`);
  return r;
}

test('a known echo request: emitted byte for byte with checksum 0x4d3a, and parsed back', () => {
  const data = new TextEncoder().encode('abcdefghijklmnopqrstuvwabcdefghi');
  const bytes = emitEcho('echo-request', 1, 0x21, data);
  assert.equal(Buffer.from(bytes).toString('hex'), ECHO_REQUEST);
  const m = ok(new Uint8Array(Buffer.from(ECHO_REQUEST, 'hex')));
  assert.ok(m.kind === 'echo-request');
  assert.deepEqual([m.id, m.seq, Buffer.from(m.data).toString()], [1, 0x21, 'abcdefghijklmnopqrstuvwabcdefghi']);
});

test('RFC 792: an echo reply carries back the id, sequence number and data', () => {
  for (const [id, seq, n] of [[0, 0, 0], [0xffff, 0xffff, 56], [0x1c46, 1, 1], [7, 8, 1472]] as const) {
    const data = new Uint8Array(n).map((_, i) => (i * 7) & 0xff);
    const m = ok(emitEcho('echo-reply', id, seq, data));
    assert.ok(m.kind === 'echo-reply');
    assert.deepEqual([m.id, m.seq, [...m.data]], [id, seq, [...data]]);
  }
  assert.equal(emitEcho('echo-reply', 1, 2, new Uint8Array(3))[0], ICMP_TYPE.ECHO_REPLY);
});

test('port unreachable quotes the whole small datagram; the quote names the socket', () => {
  const original = udpPacket(20);
  const bytes = emitUnreachable(UNREACHABLE.PORT, original);
  assert.deepEqual([bytes[0], bytes[1], bytes.length], [3, 3, 8 + original.length]);
  assert.deepEqual(bytes.subarray(8), original);
  assert.equal(checksum(bytes), 0);
  const m = ok(bytes);
  assert.ok(m.kind === 'unreachable');
  assert.equal(m.code, UNREACHABLE.PORT);
  assert.equal(m.mtu, undefined, 'only fragmentation-needed carries an MTU');
  const q = m.original;
  assert.deepEqual([[...q.src], [...q.dst], q.protocol, q.identification, q.fragmentOffset, q.srcPort, q.dstPort], [[10, 0, 0, 1], [10, 0, 0, 2], PROTOCOL.UDP, 0x1234, 0, 40000, 53]);
  assert.equal(q.transport.length, 8 + 20);
});

test('RFC 1191: fragmentation needed carries the next-hop MTU in the low 16 bits of the second word', () => {
  const bytes = emitUnreachable(UNREACHABLE.FRAG_NEEDED, udpPacket(1600), 1400);
  assert.deepEqual([...bytes.subarray(4, 8)], [0, 0, 0x05, 0x78]);
  const m = ok(bytes);
  assert.ok(m.kind === 'unreachable');
  assert.deepEqual([m.code, m.mtu], [4, 1400]);
  // A pre-RFC 1191 router sends zero: reported as is, for the caller to guess a plateau.
  const old = ok(emitUnreachable(UNREACHABLE.FRAG_NEEDED, udpPacket(10)));
  assert.ok(old.kind === 'unreachable' && old.mtu === 0);
  // The MTU field is ignored with other codes.
  assert.deepEqual([...emitUnreachable(UNREACHABLE.HOST, udpPacket(10), 1400).subarray(4, 8)], [0, 0, 0, 0]);
});

test('RFC 1812 §4.3.2.3: a large datagram is quoted as far as fits in a 576-byte IP packet', () => {
  const original = udpPacket(2000, { dontFragment: false });
  const bytes = emitTimeExceeded(TIME_EXCEEDED.TTL, original);
  assert.equal(bytes.length, 8 + MAX_QUOTE);
  assert.equal(emitIpv4(ipHeader({ protocol: PROTOCOL.ICMP }), bytes).length, 576);
  assert.deepEqual(bytes.subarray(8), original.subarray(0, MAX_QUOTE));
  const m = ok(bytes);
  assert.ok(m.kind === 'time-exceeded');
  assert.deepEqual([m.code, m.original.srcPort, m.original.dstPort], [0, 40000, 53]);
  // Link-layer padding after the datagram's total length is not quoted.
  const padded = new Uint8Array(60);
  padded.set(udpPacket(2));
  assert.equal(emitUnreachable(UNREACHABLE.PORT, padded).length, 8 + 30);
});

test('a quote cut to header + 8 bytes by a router parses though its total length and checksum no longer match', () => {
  const original = udpPacket(500);
  const cut = original.slice(0, 28);
  cut[8] = 1; // the router decremented the TTL without fixing the checksum
  assert.ok('drop' in parseIpv4(cut), 'as a packet it would be dropped');
  const icmp = new Uint8Array(8 + 28);
  icmp[0] = 11;
  icmp[1] = 1;
  icmp.set(cut, 8);
  const sum = checksum(icmp);
  icmp[2] = sum >> 8;
  icmp[3] = sum & 0xff;
  const m = ok(icmp);
  assert.ok(m.kind === 'time-exceeded');
  assert.deepEqual([m.code, m.original.srcPort, m.original.dstPort, m.original.transport.length], [TIME_EXCEEDED.REASSEMBLY, 40000, 53, 8]);
  // A quote with IP options: the transport header starts after them.
  const withOptions = udpPacket(4, { options: new Uint8Array([0x94, 0x04, 0, 0]) });
  const m2 = ok(emitUnreachable(UNREACHABLE.PORT, withOptions));
  assert.ok(m2.kind === 'unreachable');
  assert.deepEqual([m2.original.srcPort, m2.original.dstPort], [40000, 53]);
});

test('drops: truncated, bad checksum, and quotes that are not an IPv4 header plus 8 bytes', () => {
  assert.deepEqual(parseIcmp(new Uint8Array(7)), { drop: 'truncated' });
  const echo = emitEcho('echo-request', 1, 2, new Uint8Array([1, 2, 3]));
  const flipped = echo.slice();
  flipped[9]! ^= 0x40;
  assert.deepEqual(parseIcmp(flipped), { drop: 'bad-checksum' });
  const error = (quote: Uint8Array) => emitUnreachable(UNREACHABLE.HOST, quote);
  const good = udpPacket(0);
  const version6 = good.slice();
  version6[0] = 0x65;
  const ihl4 = good.slice();
  ihl4[0] = 0x44;
  const ihl15 = good.slice();
  ihl15[0] = 0x4f;
  for (const [quote, why] of [[good.subarray(0, 27), 'only 7 transport bytes'], [version6, 'version 6'], [ihl4, 'IHL 4'], [ihl15, 'IHL 15 past the quote'], [new Uint8Array(0), 'empty']] as const) {
    assert.deepEqual(parseIcmp(error(quote)), { drop: 'bad-quote' }, why);
  }
  assert.ok(!('drop' in parseIcmp(error(good))));
});

test('other types are reported with their type and code, not interpreted', () => {
  for (const [type, code] of [[13, 0], [5, 1], [12, 0], [4, 0], [255, 255]]) {
    const b = new Uint8Array(20);
    b[0] = type;
    b[1] = code;
    const sum = checksum(b);
    b[2] = sum >> 8;
    b[3] = sum & 0xff;
    assert.deepEqual(parseIcmp(b), { kind: 'other', type, code });
  }
});

test('RFC 1122 §3.2.2: no error about an ICMP error, a later fragment, a broadcast or multicast, or a non-host source', () => {
  assert.equal(mayReportError(udpPacket(8)), true);
  assert.equal(mayReportError(emitIpv4(ipHeader({ protocol: PROTOCOL.ICMP }), emitEcho('echo-request', 1, 1, new Uint8Array(4)))), true, 'about an echo: yes');
  const aboutError = emitIpv4(ipHeader({ protocol: PROTOCOL.ICMP }), emitUnreachable(UNREACHABLE.PORT, udpPacket(8)));
  assert.equal(mayReportError(aboutError), false);
  assert.equal(mayReportError(emitIpv4(ipHeader({ protocol: PROTOCOL.ICMP }), emitTimeExceeded(0, udpPacket(8)))), false);
  assert.equal(mayReportError(udpPacket(8, { dontFragment: false, fragmentOffset: 1480 })), false, 'a later fragment');
  assert.equal(mayReportError(udpPacket(8, { dontFragment: false, moreFragments: true })), true, 'the first fragment');
  assert.equal(mayReportError(udpPacket(8, { dst: parseIPv4('255.255.255.255')! })), false);
  assert.equal(mayReportError(udpPacket(8, { dst: parseIPv4('224.0.0.251')! })), false);
  assert.equal(mayReportError(udpPacket(8, { src: parseIPv4('0.0.0.0')! })), false);
  assert.equal(mayReportError(udpPacket(8, { src: parseIPv4('239.1.1.1')! })), false);
  assert.equal(mayReportError(new Uint8Array(10)), false);
});

test('fuzz: 100k random and mutated messages never make parseIcmp throw (seeded)', () => {
  const random = xorshift(0x1c3b);
  const seeds = [emitEcho('echo-request', 3, 4, new Uint8Array(16)), emitUnreachable(3, udpPacket(12)), emitTimeExceeded(1, udpPacket(100))];
  const kinds = new Set<string>();
  for (let i = 0; i < 100_000; i++) {
    let bytes: Uint8Array;
    if (i % 2 === 0) bytes = new Uint8Array(random() % 70).map(() => random() & 0xff);
    else {
      bytes = seeds[i % 3]!.slice(0, 8 + (random() % 100));
      for (let n = random() % 3; n >= 0; n--) bytes[random() % bytes.length] = random() & 0xff;
      // Fix the checksum so the type dispatch and quote parser see the damage.
      bytes[2] = bytes[3] = 0;
      const sum = checksum(bytes);
      bytes[2] = sum >> 8;
      bytes[3] = sum & 0xff;
    }
    const r = parseIcmp(bytes);
    kinds.add('drop' in r ? r.drop : r.kind);
  }
  for (const kind of ['bad-checksum', 'bad-quote', 'echo-request', 'other', 'time-exceeded', 'truncated', 'unreachable']) assert.ok(kinds.has(kind), `the fuzz reached ${kind}`);
});
