/** The TCP segment codec (RFC 9293 §3.1, options of RFC 7323 and RFC 2018): a known answer, option round trips, drops, fuzz. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ACK, emitTcp, FIN, flagString, optionsLength, parseTcp, PSH, RST, SYN, type TcpOptions, type TcpSegment } from '../../src/wire/tcp.js';
import { finish, pseudoHeaderSum, sum16 } from '../../src/wire/checksum.js';
import { parseIPv4 } from '../../src/wire/ip-address.js';
import { xorshift } from '../prng.js';

const src = parseIPv4('192.168.1.10')!;
const dst = parseIPv4('93.184.216.34')!;

/**
 * A Linux SYN, 192.168.1.10:50000 -> 93.184.216.34:80, seq 0xdeadbeef, window
 * 64240, <mss 1460,sackOK,TS val 0x0a1b2c3d ecr 0,nop,wscale 7>. Built byte by
 * byte and its checksum (0xbdeb) computed by a separate Python program over
 * the pseudo-header, not by this codebase.
 */
const LINUX_SYN = 'c3500050deadbeef00000000a002faf0bdeb0000' + '020405b40402080a0a1b2c3d0000000001030307';

function segment(over: Partial<TcpSegment> = {}): TcpSegment {
  return { srcPort: 50000, dstPort: 80, seq: 1, ack: 0, flags: ACK, window: 502, urgent: 0, options: {}, payload: new Uint8Array(0), ...over };
}

function parsed(bytes: Uint8Array): TcpSegment {
  const r = parseTcp(bytes, src, dst);
  assert.ok(!('drop' in r), `dropped: ${JSON.stringify(r)}`);
  return r;
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

test('a Linux SYN parses to its fields, and emitting them gives the same bytes and checksum', () => {
  const bytes = new Uint8Array(Buffer.from(LINUX_SYN, 'hex'));
  const s = parsed(bytes);
  assert.deepEqual(
    { ...s, payload: [...s.payload] },
    { srcPort: 50000, dstPort: 80, seq: 0xdeadbeef, ack: 0, flags: SYN, window: 64240, urgent: 0, payload: [], options: { mss: 1460, sackPermitted: true, timestamp: { value: 0x0a1b2c3d, echo: 0 }, windowScale: 7 } },
  );
  assert.equal(flagString(s.flags), 'S');
  assert.equal(hex(emitTcp(s, src, dst)), LINUX_SYN);
  assert.equal(finish(sum16(bytes, pseudoHeaderSum(src, dst, 6, bytes.length))), 0, 'the checksum verifies with the pseudo-header');
});

test('the SYN options are laid out as Linux does: 02 04 05 b4 04 02 08 0a <ts> <ecr> 01 03 03 07', () => {
  const options: TcpOptions = { mss: 1460, sackPermitted: true, timestamp: { value: 0x01020304, echo: 0x05060708 }, windowScale: 7 };
  assert.equal(optionsLength(options), 20);
  const bytes = emitTcp(segment({ flags: SYN, options }), src, dst);
  assert.equal(bytes[12]! >> 4, 10, 'data offset: 40 bytes');
  assert.equal(hex(bytes.subarray(20, 40)), '020405b40402080a' + '0102030405060708' + '01030307');
});

test('every option and combination round trips; the options take at most 40 bytes, a multiple of 4', () => {
  const ts = { value: 0xfffffff0, echo: 0x80000001 };
  const blocks = (n: number): Array<[number, number]> => Array.from({ length: n }, (_, i) => [0xffff0000 + i * 0x1000, (0xffff0800 + i * 0x1000) >>> 0] as [number, number]);
  const cases: TcpOptions[] = [
    {},
    { mss: 536 },
    { mss: 65535 },
    { windowScale: 0 },
    { windowScale: 14 },
    { sackPermitted: true },
    { timestamp: ts },
    { timestamp: { value: 0, echo: 0 } },
    { mss: 1460, windowScale: 7 },
    { mss: 1460, sackPermitted: true, windowScale: 7 },
    { mss: 1460, sackPermitted: true, timestamp: ts, windowScale: 7 },
    ...[1, 2, 3, 4].map((n) => ({ sack: blocks(n) })),
    ...[1, 2, 3].map((n) => ({ timestamp: ts, sack: blocks(n) })),
    { mss: 1460, sack: blocks(4) },
  ];
  for (const options of cases) {
    const length = optionsLength(options);
    assert.ok(length <= 40 && length % 4 === 0, `${JSON.stringify(options)}: ${length}`);
    const bytes = emitTcp(segment({ options, payload: new Uint8Array([1, 2, 3]) }), src, dst);
    assert.equal(bytes.length, 20 + length + 3);
    const back = parsed(bytes);
    assert.deepEqual(back.options, options, JSON.stringify(options));
    assert.deepEqual([...back.payload], [1, 2, 3]);
  }
  // RFC 2018 §3: with timestamps there is room for three blocks, not four.
  assert.throws(() => emitTcp(segment({ options: { timestamp: ts, sack: blocks(4) } }), src, dst), RangeError);
});

test('32-bit fields near 2^32 round trip unsigned', () => {
  for (const n of [0, 1, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff]) {
    const s = parsed(emitTcp(segment({ seq: n, ack: (n + 1) >>> 0, options: { timestamp: { value: n, echo: n }, sack: [[n, (n + 100) >>> 0]] } }), src, dst));
    assert.equal(s.seq, n);
    assert.equal(s.ack, (n + 1) >>> 0);
    assert.deepEqual(s.options.timestamp, { value: n, echo: n });
    assert.deepEqual(s.options.sack, [[n, (n + 100) >>> 0]]);
  }
  const s = parsed(emitTcp(segment({ flags: FIN | PSH | ACK | RST, window: 65535, urgent: 65535 }), src, dst));
  assert.deepEqual([s.flags, s.window, s.urgent, flagString(s.flags)], [FIN | PSH | ACK | RST, 65535, 65535, 'FRP.']);
});

/** A segment with these raw option bytes (padded to 4 with End of Options) and a correct checksum. */
function withOptions(raw: number[]): Uint8Array {
  const length = (raw.length + 3) & ~3;
  const b = new Uint8Array(20 + length);
  b.set([0xc3, 0x50, 0x00, 0x50], 0);
  b[12] = ((20 + length) / 4) << 4;
  b[13] = ACK;
  b.set(raw, 20);
  const sum = finish(sum16(b, pseudoHeaderSum(src, dst, 6, b.length)));
  b[16] = sum >> 8;
  b[17] = sum & 0xff;
  return b;
}

test('RFC 9293 §3.2: unknown options are skipped by their length; End of Options stops the list', () => {
  // kind 30 (MPTCP) with 6 bytes, kind 254 (experimental) with 4, then MSS.
  assert.deepEqual(parsed(withOptions([30, 6, 1, 2, 3, 4, 254, 4, 0xf9, 0x89, 2, 4, 0x05, 0xb4])).options, { mss: 1460 });
  // After End of Options the rest is padding, even if it looks like an option.
  assert.deepEqual(parsed(withOptions([1, 0, 2, 4, 0x05, 0xb4])).options, {});
  assert.deepEqual(parsed(withOptions([1, 1, 1, 1])).options, {});
});

test('bad option lengths are dropped as bad-option', () => {
  const bad: number[][] = [
    [2, 3, 5, 0], // MSS must be 4 long
    [3, 4, 7, 0], // window scale must be 3
    [4, 3, 0, 0], // SACK-permitted must be 2
    [8, 8, 0, 0, 0, 0, 0, 0], // timestamps must be 10
    [5, 2, 0, 0], // SACK with no block
    [5, 6, 0, 0, 0, 0], // SACK not a whole block
    [30, 1, 0, 0], // a length below 2
    [30, 0, 0, 0], // zero would loop forever
    [30, 9, 0, 0], // past the data offset
    [1, 1, 1, 30], // a kind with no room for its length
  ];
  for (const raw of bad) assert.deepEqual(parseTcp(withOptions(raw), src, dst), { drop: 'bad-option' }, JSON.stringify(raw));
});

test('truncated, bad data offset and bad checksum are dropped', () => {
  const good = emitTcp(segment({ options: { mss: 1460 }, payload: new Uint8Array([9, 9]) }), src, dst);
  assert.deepEqual(parseTcp(good.subarray(0, 19), src, dst), { drop: 'truncated' });
  const patch = (at: number, value: number) => {
    const b = good.slice();
    b[at] = value;
    return b;
  };
  assert.deepEqual(parseTcp(patch(12, 4 << 4), src, dst), { drop: 'bad-offset' }, 'below 5 words');
  assert.deepEqual(parseTcp(patch(12, 15 << 4), src, dst), { drop: 'bad-offset' }, 'past the segment');
  assert.deepEqual(parseTcp(good.subarray(0, 23), src, dst), { drop: 'bad-offset' }, 'options cut off');
  assert.deepEqual(parseTcp(patch(25, 8), src, dst), { drop: 'bad-checksum' }, 'a payload byte changed');
  assert.deepEqual(parseTcp(good, src, parseIPv4('93.184.216.35')!), { drop: 'bad-checksum' }, 'the pseudo-header covers the addresses');
});

test('fuzz: 100k random and mutated segments never make parseTcp throw (seeded)', () => {
  const random = xorshift(0x7c9);
  const seeds = [
    new Uint8Array(Buffer.from(LINUX_SYN, 'hex')),
    emitTcp(segment({ options: { timestamp: { value: 1, echo: 2 }, sack: [[1, 2], [3, 4], [5, 6]] }, payload: new Uint8Array(30) }), src, dst),
    emitTcp(segment({ options: { mss: 536, sack: [[1, 2], [3, 4], [5, 6], [7, 8]] } }), src, dst),
  ];
  let accepted = 0;
  for (let i = 0; i < 100_000; i++) {
    let bytes: Uint8Array;
    if (i % 2 === 0) {
      bytes = new Uint8Array(random() % 80).map(() => random() & 0xff);
    } else {
      bytes = seeds[i % seeds.length]!.slice(0, 20 + (random() % 60));
      for (let n = random() % 4; n >= 0; n--) bytes[random() % bytes.length] = random() & 0xff;
      // Fix the checksum half the time so the option parser sees the damage.
      if (random() & 1) {
        bytes[16] = bytes[17] = 0;
        const sum = finish(sum16(bytes, pseudoHeaderSum(src, dst, 6, bytes.length)));
        bytes[16] = sum >> 8;
        bytes[17] = sum & 0xff;
      }
    }
    const r = parseTcp(bytes, src, dst);
    if (!('drop' in r)) {
      accepted++;
      assert.ok(r.payload.length <= bytes.length - 20);
      assert.ok(r.seq >= 0 && r.seq <= 0xffffffff && r.ack >= 0);
    }
  }
  assert.ok(accepted > 1000, `the fuzz reached the option parser (${accepted} accepted)`);
});
