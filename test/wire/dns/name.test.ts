import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DnsError, type DnsErrorCode } from '../../../src/wire/dns/errors.js';
import {
  decodeName,
  isSubdomain,
  NameCompressor,
  nameToWire,
  namesEqual,
  normalizeName,
  splitLabels,
  wireToName,
} from '../../../src/wire/dns/name.js';

function throwsCode(fn: () => unknown, code: DnsErrorCode, label?: string): void {
  assert.throws(fn, (err: unknown) => err instanceof DnsError && err.code === code, label);
}

/** Length-prefixed labels, as bytes. */
function labels(...parts: (string | number[])[]): number[] {
  const out: number[] = [];
  for (const p of parts) {
    const bytes = typeof p === 'string' ? [...Buffer.from(p, 'latin1')] : p;
    out.push(bytes.length, ...bytes);
  }
  return out;
}

/** The layout of RFC 1035 §4.1.4's example: F.ISI.ARPA at 20, FOO.F.ISI.ARPA at 40, ARPA at 64, the root at 92. */
function rfc1035Example(): Uint8Array {
  const m = new Uint8Array(93);
  m.set([...labels('F', 'ISI', 'ARPA'), 0], 20);
  m.set([...labels('FOO'), 0xc0, 20], 40); // FOO, then a pointer to offset 20
  m.set([0xc0, 26], 64); // a pointer to the ARPA label inside F.ISI.ARPA
  m[92] = 0;
  return m;
}

test('decodes the compressed names of RFC 1035 §4.1.4', () => {
  const m = rfc1035Example();
  assert.deepEqual(decodeName(m, 20), { name: 'F.ISI.ARPA', next: 32 });
  assert.deepEqual(decodeName(m, 40), { name: 'FOO.F.ISI.ARPA', next: 46 });
  assert.deepEqual(decodeName(m, 64), { name: 'ARPA', next: 66 });
  assert.deepEqual(decodeName(m, 92), { name: '', next: 93 });
});

test('the compressor reproduces the RFC 1035 §4.1.4 layout, ignoring case', () => {
  const c = new NameCompressor();
  assert.deepEqual([...c.encode('F.ISI.ARPA', 20)], [...labels('F', 'ISI', 'ARPA'), 0]);
  assert.deepEqual([...c.encode('foo.f.isi.arpa.', 40)], [...labels('foo'), 0xc0, 20]);
  assert.deepEqual([...c.encode('Arpa', 64)], [0xc0, 26]);
  assert.deepEqual([...c.encode('', 92)], [0]);
  // Without compression the name is written whole, as SRV targets must be.
  assert.deepEqual([...c.encode('F.ISI.ARPA', 93, false)], [...labels('F', 'ISI', 'ARPA'), 0]);
});

test('the compressor only points where a pointer can reach, and forgets on rollback', () => {
  const c = new NameCompressor();
  c.encode('far.example', 0x4000); // beyond 14 bits: not remembered
  assert.equal(c.encode('far.example', 0x4100).length, 13);
  c.encode('near.example', 12);
  const mark = c.mark();
  c.encode('x.other', 100);
  assert.deepEqual([...c.encode('other', 200)], [0xc0, 102]);
  c.rollback(mark);
  assert.equal(c.encode('other', 200).length, 7);
  assert.deepEqual([...c.encode('near.example', 300)], [0xc0, 12]);
});

test('presentation form: no final dot, root is "", escapes as in master files', () => {
  const wire = (...b: number[]) => Uint8Array.from(b);
  assert.equal(wireToName(wire(0)), '');
  assert.equal(wireToName(wire(...labels('www', 'Example', 'test'), 0)), 'www.Example.test');
  assert.equal(wireToName(wire(...labels('a.b', 'c\\d'), 0)), 'a\\.b.c\\\\d');
  assert.equal(wireToName(wire(...labels([0, 32, 127, 200, 0x2a, 0x5f, 0x2d]), 0)), '\\000\\032\\127\\200*_-');
  assert.equal(wireToName(wire(...labels('0/25', 'a@b;c'), 0)), '0/25.a\\@b\\;c');
  // Every byte value survives the trip through text and back.
  for (let start = 0; start < 256; start += 63) {
    const label = Array.from({ length: Math.min(63, 256 - start) }, (_, i) => start + i);
    const w = wire(...labels(label), 0);
    assert.deepEqual(nameToWire(wireToName(w)), w);
  }
});

test('parses presentation names, with the final dot optional', () => {
  assert.deepEqual([...nameToWire('')], [0]);
  assert.deepEqual([...nameToWire('.')], [0]);
  assert.deepEqual([...nameToWire('a.b')], [...labels('a', 'b'), 0]);
  assert.deepEqual([...nameToWire('a.b.')], [...labels('a', 'b'), 0]);
  assert.deepEqual([...nameToWire('a\\.b.c')], [...labels('a.b', 'c'), 0]);
  assert.deepEqual([...nameToWire('a\\.')], [...labels('a.'), 0]);
  assert.deepEqual([...nameToWire('a\\\\.b')], [...labels('a\\', 'b'), 0]);
  assert.deepEqual([...nameToWire('\\065\\000b')], [...labels([65, 0, 98]), 0]);
  const max = `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}`; // 255 octets on the wire
  assert.equal(nameToWire(max).length, 255);
  assert.equal(nameToWire(max + '.').length, 255);
});

test('refuses presentation names that cannot be encoded', () => {
  const cases = [
    'a..b',
    '.a',
    'a..',
    '..',
    'x'.repeat(64),
    `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(62)}`, // 256 octets
    'a'.repeat(100_000),
    'a\\',
    'a\\25',
    'a\\256',
    'a\\1x3',
    'bücher.example',
    'a.\\ü',
  ];
  for (const name of cases) throwsCode(() => nameToWire(name), 'ERR_DNS_BAD_NAME', name.slice(0, 40));
  throwsCode(() => nameToWire(42 as unknown as string), 'ERR_DNS_BAD_NAME');
});

test('a pointer to itself, a loop of two and a forward pointer are refused', () => {
  // 12: a pointer to 12
  throwsCode(() => decodeName(Uint8Array.from([...new Array(12).fill(0), 0xc0, 12]), 12), 'ERR_DNS_POINTER_LOOP', 'self');
  // 12: "a" then a pointer to 15; 15: "b" then a pointer to 12
  const two = Uint8Array.from([...new Array(12).fill(0), 1, 97, 0xc0, 16, 1, 98, 0xc0, 12]);
  throwsCode(() => decodeName(two, 12), 'ERR_DNS_POINTER_LOOP', 'loop from the first');
  throwsCode(() => decodeName(two, 16), 'ERR_DNS_POINTER_LOOP', 'loop from the second');
  // 12: a pointer to 14, where a valid name sits: still forward.
  throwsCode(() => decodeName(Uint8Array.from([...new Array(12).fill(0), 0xc0, 14, 1, 97, 0]), 12), 'ERR_DNS_POINTER_LOOP', 'forward');
  // A pointer backwards into its own run of labels loops too.
  throwsCode(() => decodeName(Uint8Array.from([1, 97, 1, 98, 0xc0, 2]), 0), 'ERR_DNS_POINTER_LOOP', 'into own run');
});

test('at most 64 pointers per name', () => {
  // 0: the root; 1: a pointer to 0; 3: a pointer to 1; ... each one step back.
  const bytes = [0];
  for (let i = 0; i < 70; i++) bytes.push(0xc0, i === 0 ? 0 : 1 + 2 * (i - 1));
  const chain = Uint8Array.from(bytes);
  assert.deepEqual(decodeName(chain, 1 + 2 * 63), { name: '', next: 1 + 2 * 63 + 2 }); // 64 jumps
  throwsCode(() => decodeName(chain, 1 + 2 * 64), 'ERR_DNS_POINTER_LOOP'); // 65 jumps
});

test('label and name length limits on the wire', () => {
  throwsCode(() => decodeName(Uint8Array.from([64, ...new Array(64).fill(97), 0]), 0), 'ERR_DNS_LABEL_TOO_LONG', 'label 64');
  throwsCode(() => decodeName(Uint8Array.from([0x80, 0]), 0), 'ERR_DNS_LABEL_TOO_LONG', '0x80 label type');
  const long = (last: number) =>
    Uint8Array.from([...labels('a'.repeat(63), 'b'.repeat(63), 'c'.repeat(63), 'd'.repeat(last)), 0]);
  assert.equal(decodeName(long(61), 0).next, 255);
  throwsCode(() => decodeName(long(62), 0), 'ERR_DNS_NAME_TOO_LONG', 'name 256');
  // The limit counts the name as it is, after pointers: 192 octets here plus 64 reached through a pointer.
  const viaPointer = Uint8Array.from([...labels('x'.repeat(62)), 0, ...labels('a'.repeat(63), 'b'.repeat(63), 'c'.repeat(63)), 0xc0, 0]);
  throwsCode(() => decodeName(viaPointer, 64), 'ERR_DNS_NAME_TOO_LONG', 'name 256 through a pointer');
});

test('a name running past the end is truncated', () => {
  throwsCode(() => decodeName(Uint8Array.from([3, 97, 98]), 0), 'ERR_DNS_TRUNCATED', 'label');
  throwsCode(() => decodeName(Uint8Array.from([1, 97]), 0), 'ERR_DNS_TRUNCATED', 'no root');
  throwsCode(() => decodeName(Uint8Array.from([0, 0xc0]), 1), 'ERR_DNS_TRUNCATED', 'half a pointer');
  throwsCode(() => decodeName(Uint8Array.from([]), 0), 'ERR_DNS_TRUNCATED', 'empty');
  throwsCode(() => decodeName(Uint8Array.from([1, 97, 0]), 0, 2), 'ERR_DNS_TRUNCATED', 'past a given end');
});

test('helpers: namesEqual, normalizeName, isSubdomain, splitLabels', () => {
  assert.ok(namesEqual('WWW.Example.TEST', 'www.example.test.'));
  assert.ok(namesEqual('\\065', 'a'));
  assert.ok(namesEqual('', '.'));
  assert.ok(!namesEqual('a.b', 'a.b.c'));
  assert.ok(!namesEqual('a\\.b', 'a.b'));
  assert.ok(namesEqual('a..b', 'A..B'), 'invalid names compare as text');
  assert.ok(!namesEqual('a..b', 'a.b'));

  assert.equal(normalizeName('WWW.Example.TEST.'), 'www.example.test');
  assert.equal(normalizeName('.'), '');
  assert.equal(normalizeName('\\065\\.B'), 'a\\.b');
  throwsCode(() => normalizeName('a..b'), 'ERR_DNS_BAD_NAME');

  assert.ok(isSubdomain('www.Example.test', 'example.TEST.'));
  assert.ok(isSubdomain('example.test', 'example.test'));
  assert.ok(isSubdomain('anything', ''));
  assert.ok(!isSubdomain('badexample.test', 'example.test'));
  assert.ok(!isSubdomain('example.test', 'www.example.test'));
  assert.ok(!isSubdomain('a\\.example.test', 'b.example.test'));
  assert.ok(!isSubdomain('a..b', 'b'));

  assert.deepEqual(splitLabels('www.example.test.'), ['www', 'example', 'test']);
  assert.deepEqual(splitLabels('a\\.b.c'), ['a\\.b', 'c']);
  assert.deepEqual(splitLabels(''), []);
  throwsCode(() => splitLabels('a..b'), 'ERR_DNS_BAD_NAME');
});
