/** The Internet checksum, IPv4 and UDP codecs: known answers, round trips, and drops instead of throws. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checksum, finish, sum16 } from '../../src/wire/checksum.js';
import { emitIpv4, parseIpv4, PROTOCOL, type Ipv4Header } from '../../src/wire/ipv4.js';
import { emitUdp, parseUdp } from '../../src/wire/udp.js';
import { parseIPv4 } from '../../src/wire/ip-address.js';
import { xorshift } from '../prng.js';

test('RFC 1071 §3: the worked example sums to 0xddf2, so the checksum is 0x220d', () => {
  const bytes = new Uint8Array([0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]);
  assert.equal(checksum(bytes), 0x220d);
  assert.equal(finish(sum16(bytes)), 0x220d);
  // Odd length: the last byte is padded with zero.
  assert.equal(checksum(new Uint8Array([0x01])), ~0x0100 & 0xffff);
});

test('a published IPv4 header (checksum 0xb861) parses and verifies', () => {
  const head = Buffer.from('450000730000400040 11b861c0a80001c0a800c7'.replace(/ /g, ''), 'hex');
  const packet = new Uint8Array(0x73);
  packet.set(head);
  const parsed = parseIpv4(packet);
  assert.ok('header' in parsed);
  const h = parsed.header;
  assert.equal(h.totalLength, 115);
  assert.equal(h.dontFragment, true);
  assert.equal(h.ttl, 64);
  assert.equal(h.protocol, PROTOCOL.UDP);
  assert.deepEqual([...h.src], [192, 168, 0, 1]);
  assert.deepEqual([...h.dst], [192, 168, 0, 199]);
  assert.equal(parsed.payload.length, 95);
  const { totalLength, ...fields } = h;
  assert.equal(totalLength, 115);
  assert.ok(Buffer.from(emitIpv4(fields, parsed.payload)).equals(Buffer.from(packet)), 're-emitted byte for byte');
});

test('bad IPv4 packets are dropped with a reason, never thrown', () => {
  const good = emitIpv4(header(), new Uint8Array(10));
  const cases: [Uint8Array, string][] = [
    [good.subarray(0, 19), 'truncated'],
    [patch(good, 0, 0x65), 'bad-version'],
    [patch(good, 0, 0x44), 'bad-header-length'],
    [patch(good, 3, 200), 'bad-total-length'],
    [patch(good, 8, 1), 'bad-checksum'],
  ];
  for (const [packet, reason] of cases) assert.deepEqual(parseIpv4(packet), { drop: reason });
  const random = xorshift(7);
  for (let i = 0; i < 20_000; i++) {
    const junk = new Uint8Array(random() % 80).map(() => random() & 0xff);
    if (junk.length > 0) junk[0] = 0x45;
    const r = parseIpv4(junk);
    assert.ok('drop' in r || r.payload.length <= junk.length);
  }
});

test('UDP round trip with the pseudo-header checksum; a flipped bit is caught; zero means none', () => {
  const src = parseIPv4('10.0.0.1')!;
  const dst = parseIPv4('10.0.0.2')!;
  const payload = new TextEncoder().encode('a datagram');
  const bytes = emitUdp({ srcPort: 5353, dstPort: 53, payload }, src, dst);
  const back = parseUdp(bytes, src, dst);
  assert.ok(!('drop' in back));
  assert.deepEqual([back.srcPort, back.dstPort, Buffer.from(back.payload).toString()], [5353, 53, 'a datagram']);
  assert.deepEqual(parseUdp(patch(bytes, 9, bytes[9]! ^ 0x01), src, dst), { drop: 'bad-checksum' });
  assert.deepEqual(parseUdp(bytes, src, parseIPv4('10.0.0.3')!), { drop: 'bad-checksum' }, 'the pseudo-header covers the addresses');
  const unchecked = patch(patch(bytes, 6, 0), 7, 0);
  assert.ok(!('drop' in parseUdp(unchecked, src, dst)));
  assert.deepEqual(parseUdp(bytes.subarray(0, 7), src, dst), { drop: 'truncated' });
  assert.deepEqual(parseUdp(patch(bytes, 5, 200), src, dst), { drop: 'bad-length' });
});

function header(): Omit<Ipv4Header, 'totalLength'> {
  return { dscp: 0, ecn: 0, identification: 1, dontFragment: true, moreFragments: false, fragmentOffset: 0, ttl: 64, protocol: PROTOCOL.UDP, src: parseIPv4('10.0.0.1')!, dst: parseIPv4('10.0.0.2')!, options: new Uint8Array(0) };
}

function patch(bytes: Uint8Array, at: number, value: number): Uint8Array {
  const copy = bytes.slice();
  copy[at] = value;
  return copy;
}
