/** IPv4 reassembly (RFC 791 §3.2, RFC 815 holes, RFC 5722's overlap rule): every order, duplicates, overlaps, limits, timeout. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Reassembler, type ReassemblyResult } from '../../../src/stack/user/reassembly.js';
import { fragmentIpv4 } from '../../../src/wire/fragment.js';
import { emitIpv4, parseIpv4, PROTOCOL, type Ipv4Header } from '../../../src/wire/ipv4.js';
import { emitTimeExceeded, parseIcmp, TIME_EXCEEDED } from '../../../src/wire/icmp.js';
import { parseIPv4 } from '../../../src/wire/ip-address.js';
import { xorshift } from '../../prng.js';

type Fragment = { header: Ipv4Header; payload: Uint8Array; raw: Uint8Array };

function header(over: Partial<Omit<Ipv4Header, 'totalLength'>> = {}): Omit<Ipv4Header, 'totalLength'> {
  return { dscp: 0, ecn: 0, identification: 0x4242, dontFragment: false, moreFragments: false, fragmentOffset: 0, ttl: 64, protocol: PROTOCOL.UDP, src: parseIPv4('10.0.0.1')!, dst: parseIPv4('10.0.0.2')!, options: new Uint8Array(0), ...over };
}

function datagram(n: number, seed = 1): Uint8Array {
  const random = xorshift(seed);
  return new Uint8Array(n).map(() => random() & 0xff);
}

function fragments(payload: Uint8Array, mtu: number, over: Partial<Omit<Ipv4Header, 'totalLength'>> = {}): Fragment[] {
  return fragmentIpv4(header(over), payload, mtu).map((raw) => {
    const r = parseIpv4(raw);
    assert.ok('header' in r);
    return { ...r, raw };
  });
}

/** A hand-made fragment: `bytes` at `offset`. */
function piece(offset: number, bytes: Uint8Array, more: boolean, over: Partial<Omit<Ipv4Header, 'totalLength'>> = {}): Fragment {
  const h = { ...header(over), fragmentOffset: offset, moreFragments: more };
  return { header: { ...h, totalLength: 20 + bytes.length }, payload: bytes, raw: emitIpv4(h, bytes) };
}

function feed(r: Reassembler, frags: Fragment[], now = 0): ReassemblyResult[] {
  return frags.map((f) => r.accept(f.header, f.payload, now));
}

function assertComplete(result: ReassemblyResult | undefined, payload: Uint8Array): Ipv4Header {
  assert.ok(result && 'complete' in result, `not complete: ${JSON.stringify(result)}`);
  assert.deepEqual(result.complete, payload);
  return result.header;
}

function shuffle<T>(items: T[], random: () => number): T[] {
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = random() % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

const payload = datagram(4000);

test('in order, reversed and 67 seeded shuffles per MTU: pending until the last piece, then the datagram with a whole header', () => {
  const random = xorshift(0x5eed);
  for (const mtu of [1500, 576, 68]) {
    const frags = fragments(payload, mtu);
    const orders = [frags, frags.slice().reverse(), ...Array.from({ length: 67 }, () => shuffle(frags, random))];
    for (const order of orders) {
      const r = new Reassembler();
      const results = feed(r, order);
      for (const x of results.slice(0, -1)) assert.deepEqual(x, { pending: true });
      const h = assertComplete(results.at(-1), payload);
      assert.deepEqual([h.totalLength, h.moreFragments, h.fragmentOffset, h.identification, h.protocol], [4020, false, 0, 0x4242, PROTOCOL.UDP]);
      assert.deepEqual([r.size, r.bufferedBytes], [0, 0], 'nothing is held after completion');
    }
  }
});

test('exact duplicates are harmless, and so is the same data cut differently (two paths, two MTUs)', () => {
  const frags = fragments(payload, 576);
  const r = new Reassembler();
  const twice = frags.flatMap((f, i) => (i < frags.length - 1 ? [f, f] : [f]));
  const results = feed(r, twice);
  assert.ok(results.slice(0, -1).every((x) => 'pending' in x));
  assertComplete(results.at(-1), payload);

  const mixed = [...fragments(payload, 1500).slice(0, 2), ...fragments(payload, 576).slice(3)];
  const results2 = feed(new Reassembler(), mixed);
  assertComplete(results2.at(-1), payload);
});

test('RFC 5722 rule: overlapping data that differs drops the whole datagram', () => {
  const frags = fragments(payload, 1500);
  const r = new Reassembler();
  assert.deepEqual(r.accept(frags[0]!.header, frags[0]!.payload, 0), { pending: true });
  const forged = payload.slice(800, 1600);
  forged[100]! ^= 1;
  const overlap = piece(800, forged, true);
  assert.deepEqual(r.accept(overlap.header, overlap.payload, 0), { drop: 'frag-overlap' });
  assert.deepEqual([r.size, r.bufferedBytes], [0, 0]);
  // What follows starts afresh and cannot complete without a new first fragment.
  assert.deepEqual(feed(r, frags.slice(1)), [{ pending: true }, { pending: true }]);
  assertComplete(r.accept(frags[0]!.header, frags[0]!.payload, 0), payload);
});

test('malformed fragments drop the datagram as frag-bad', () => {
  const cases: Array<[string, Fragment[]]> = [
    ['a middle piece not a multiple of 8', [piece(0, datagram(16), true), piece(16, datagram(12), true)]],
    ['an empty middle piece', [piece(0, datagram(16), true), piece(16, new Uint8Array(0), true)]],
    ['two different ends', [piece(0, datagram(16), true), piece(24, datagram(8), false), piece(16, datagram(8), false)]],
    ['data past the end', [piece(0, datagram(16), true), piece(24, datagram(8), false), piece(32, datagram(8), true)]],
    ['an end before data already received', [piece(0, datagram(16), true), piece(64, datagram(8), true), piece(16, datagram(8), false)]],
  ];
  for (const [why, frags] of cases) {
    const r = new Reassembler();
    const results = feed(r, frags);
    assert.deepEqual(results.at(-1), { drop: 'frag-bad' }, why);
    assert.equal(r.size, 0, why);
  }
});

test('a datagram longer than 65535 bytes (the ping of death) is frag-too-big', () => {
  const r = new Reassembler();
  assert.deepEqual(r.accept(piece(0, datagram(1480), true).header, datagram(1480), 0), { pending: true });
  const tail = piece(65528, datagram(8), false);
  assert.deepEqual(r.accept(tail.header, tail.payload, 0), { drop: 'frag-too-big' });
  assert.equal(r.size, 0);
  // The largest legal one, 65515 payload bytes after a 20-byte header, reassembles.
  const big = datagram(65515);
  const results = feed(new Reassembler(), fragments(big, 9000).reverse());
  assert.equal(assertComplete(results.at(-1), big).totalLength, 65535);
  // A smaller configured limit applies too.
  const small = new Reassembler({ maxDatagramLength: 1000 });
  const tooBig = { drop: 'frag-too-big' };
  assert.deepEqual(feed(small, fragments(datagram(2000), 576)), [{ pending: true }, tooBig, tooBig, tooBig]);
});

test('limits: partial datagrams and buffered bytes are bounded; a refused fragment leaves the others intact', () => {
  const r = new Reassembler({ maxDatagrams: 2 });
  const a = fragments(payload, 1500, { identification: 1 });
  const b = fragments(payload, 1500, { identification: 2 });
  const c = fragments(payload, 1500, { identification: 3 });
  feed(r, [a[0]!, b[0]!]);
  assert.deepEqual(r.accept(c[0]!.header, c[0]!.payload, 0), { drop: 'frag-limit' });
  assert.equal(r.size, 2);
  // Same identification, different protocol or source: a different datagram, also refused.
  const d = fragments(payload, 1500, { identification: 1, protocol: PROTOCOL.TCP });
  assert.deepEqual(r.accept(d[0]!.header, d[0]!.payload, 0), { drop: 'frag-limit' });
  assertComplete(feed(r, a.slice(1)).at(-1), payload);
  assert.deepEqual(r.accept(c[0]!.header, c[0]!.payload, 0), { pending: true }, 'room again');

  // Last fragments first, so each buffer is allocated at its exact length: 4000 bytes.
  const bytes = new Reassembler({ maxBytes: 9000 });
  for (const id of [1, 2]) {
    const last = fragments(payload, 1500, { identification: id })[2]!;
    assert.deepEqual(bytes.accept(last.header, last.payload, 0), { pending: true });
  }
  assert.equal(bytes.bufferedBytes, 8000);
  const third = fragments(payload, 1500, { identification: 3 });
  assert.deepEqual(bytes.accept(third[2]!.header, third[2]!.payload, 0), { drop: 'frag-limit' });
  assert.deepEqual([bytes.size, bytes.bufferedBytes], [2, 8000]);
});

test('timeout: after 30 s the datagram is given up, with its first fragment for ICMP time exceeded (code 1)', () => {
  const frags = fragments(payload, 1500);
  const r = new Reassembler();
  r.accept(frags[0]!.header, frags[0]!.payload, 1000);
  r.accept(frags[2]!.header, frags[2]!.payload, 20_000);
  const late = piece(8, datagram(8), true, { identification: 7 });
  r.accept(late.header, late.payload, 5000);
  assert.equal(r.nextDeadline(), 31_000, 'counted from the first fragment, not refreshed');
  assert.deepEqual(r.expire(30_999), []);
  const expired = r.expire(31_000);
  assert.equal(expired.length, 1);
  assert.deepEqual(expired[0]!.key, { src: parseIPv4('10.0.0.1'), dst: parseIPv4('10.0.0.2'), protocol: PROTOCOL.UDP, identification: 0x4242 });
  assert.deepEqual(expired[0]!.firstFragment, frags[0]!.raw, 'the first fragment byte for byte');
  const icmp = parseIcmp(emitTimeExceeded(TIME_EXCEEDED.REASSEMBLY, expired[0]!.firstFragment!));
  assert.ok(!('drop' in icmp) && icmp.kind === 'time-exceeded' && icmp.code === 1 && icmp.original.identification === 0x4242);
  // Without its first fragment there is nothing to quote (RFC 792: no error then).
  const rest = r.expire(35_000);
  assert.deepEqual(rest.map((e) => [e.key.identification, e.firstFragment]), [[7, null]]);
  assert.deepEqual([r.size, r.bufferedBytes, r.nextDeadline()], [0, 0, null]);
  // The timeout is an option.
  const quick = new Reassembler({ timeoutMs: 100 });
  quick.accept(frags[1]!.header, frags[1]!.payload, 0);
  assert.equal(quick.expire(100).length, 1);
});

test('RFC 3168 §5.3: congestion experienced on any fragment marks the reassembled datagram', () => {
  const frags = fragments(payload, 1500, { ecn: 2 });
  const r = new Reassembler();
  const marked = { ...frags[1]!.header, ecn: 3 };
  r.accept(frags[0]!.header, frags[0]!.payload, 0);
  r.accept(marked, frags[1]!.payload, 0);
  assert.equal(assertComplete(r.accept(frags[2]!.header, frags[2]!.payload, 0), payload).ecn, 3);
});

test('fuzz: 50k seeded random fragments never throw, and the bounds always hold', () => {
  const random = xorshift(0xfa66);
  const r = new Reassembler({ maxDatagrams: 8, maxBytes: 200_000, timeoutMs: 1000 });
  let completed = 0;
  for (let i = 0; i < 50_000; i++) {
    const id = random() % 12;
    const offset = (random() % 64) * 8 * (random() & 1 ? 1 : 128);
    const length = random() & 3 ? 8 * (1 + (random() % 8)) : random() % 70;
    const bytes = new Uint8Array(length).map(() => (random() & 7 ? 0 : random() & 0xff));
    const f = piece(offset, bytes, (random() & 3) !== 0, { identification: id });
    const result = r.accept(f.header, f.payload, i);
    if ('complete' in result) {
      completed++;
      assert.equal(result.header.totalLength, 20 + result.complete.length);
    }
    if (i % 100 === 0) r.expire(i);
    assert.ok(r.size <= 8 && r.bufferedBytes <= 200_000 && r.bufferedBytes >= 0);
  }
  assert.ok(completed > 0, 'some datagrams completed');
});
