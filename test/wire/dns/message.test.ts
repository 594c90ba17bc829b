import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DnsError, type DnsErrorCode } from '../../../src/wire/dns/errors.js';
import { decodeHeader, decodeMessage, encodeMessage, frameTcp } from '../../../src/wire/dns/message.js';
import { nameToWire } from '../../../src/wire/dns/name.js';
import { CLASS, emptyMessage, RCODE, TYPE, type DnsMessage, type DnsRecord } from '../../../src/wire/dns/types.js';

function throwsCode(fn: () => unknown, code: DnsErrorCode, label?: string): void {
  assert.throws(fn, (err: unknown) => err instanceof DnsError && err.code === code, label);
}

/** Length-prefixed labels and the root byte. */
function name(text: string): number[] {
  const out: number[] = [];
  for (const label of text.split('.')) out.push(label.length, ...Buffer.from(label, 'latin1'));
  return [...out, 0];
}
const u16 = (n: number) => [n >> 8, n & 0xff];
const u32 = (n: number) => [n >>> 24, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];

function record(fields: Partial<DnsRecord> & Pick<DnsRecord, 'name' | 'type' | 'data'>): DnsRecord {
  return { class: CLASS.IN, ttl: 300, ...fields } as DnsRecord;
}

/** A header: ID, flags, then the four counts. */
function header(id: number, flags: number, qd: number, an: number, ns: number, ar: number): number[] {
  return [...u16(id), ...u16(flags), ...u16(qd), ...u16(an), ...u16(ns), ...u16(ar)];
}

test('byte-exact: a query for example.com A with EDNS, as dig sends it', () => {
  const bytes = Uint8Array.from([
    ...header(0x1234, 0x0100, 1, 0, 0, 1), // flags: RD only
    ...name('example.com'), // at 12
    ...u16(TYPE.A), ...u16(CLASS.IN),
    0, // OPT: owned by the root
    ...u16(TYPE.OPT),
    ...u16(4096), // CLASS is the UDP payload size
    0, 0, 0x80, 0x00, // TTL: extended RCODE 0, version 0, the DO bit
    ...u16(0), // no options
  ]);
  const message = emptyMessage({
    id: 0x1234,
    questions: [{ name: 'example.com', type: TYPE.A, class: CLASS.IN }],
    edns: { udpSize: 4096, version: 0, dnssecOk: true, options: [] },
  });
  assert.deepEqual(encodeMessage(message), bytes);
  assert.deepEqual(decodeMessage(bytes), message);
});

test('byte-exact: an MX answer with its glue, compressed inside RDATA', () => {
  const bytes = Uint8Array.from([
    ...header(0xbeef, 0x8180, 1, 1, 0, 1), // QR, RD, RA; NOERROR
    ...name('example.com'), ...u16(TYPE.MX), ...u16(CLASS.IN), // question, example.com at 12
    0xc0, 12, ...u16(TYPE.MX), ...u16(CLASS.IN), ...u32(3600), // answer at 29, owner points to 12
    ...u16(9), ...u16(10), 4, ...Buffer.from('mail'), 0xc0, 12, // RDATA: preference 10, mail + pointer; mail at 43
    0xc0, 43, ...u16(TYPE.A), ...u16(CLASS.IN), ...u32(3600), // glue owned by mail.example.com at 43
    ...u16(4), 93, 184, 216, 34,
  ]);
  const message = emptyMessage({
    id: 0xbeef,
    qr: true,
    ra: true,
    questions: [{ name: 'example.com', type: TYPE.MX, class: CLASS.IN }],
    answers: [record({ name: 'example.com', type: TYPE.MX, ttl: 3600, data: { preference: 10, exchange: 'mail.example.com' } })],
    additionals: [record({ name: 'mail.example.com', type: TYPE.A, ttl: 3600, data: '93.184.216.34' })],
  });
  assert.deepEqual(encodeMessage(message), bytes);
  assert.deepEqual(decodeMessage(bytes), message);
});

test('byte-exact: NXDOMAIN with the SOA in the authority section', () => {
  const soa = { serial: 2024010101, refresh: 7200, retry: 3600, expire: 1209600, minimum: 300 };
  const bytes = Uint8Array.from([
    ...header(0x0001, 0x8583, 1, 0, 1, 0), // QR, AA, RD, RA; RCODE 3 (NXDOMAIN)
    ...name('nope.example.com'), ...u16(TYPE.A), ...u16(CLASS.IN), // example.com sits at 12 + 5 = 17
    0xc0, 17, ...u16(TYPE.SOA), ...u16(CLASS.IN), ...u32(300), ...u16(5 + 13 + 20),
    2, ...Buffer.from('ns'), 0xc0, 17, // MNAME ns.example.com
    10, ...Buffer.from('hostmaster'), 0xc0, 17, // RNAME hostmaster.example.com
    ...u32(soa.serial), ...u32(soa.refresh), ...u32(soa.retry), ...u32(soa.expire), ...u32(soa.minimum),
  ]);
  const message = emptyMessage({
    id: 1,
    qr: true,
    aa: true,
    ra: true,
    rcode: RCODE.NXDOMAIN,
    questions: [{ name: 'nope.example.com', type: TYPE.A, class: CLASS.IN }],
    authorities: [record({ name: 'example.com', type: TYPE.SOA, data: { mname: 'ns.example.com', rname: 'hostmaster.example.com', ...soa } })],
  });
  assert.deepEqual(encodeMessage(message), bytes);
  assert.deepEqual(decodeMessage(bytes), message);
});

function everyType(): DnsMessage {
  return emptyMessage({
    id: 0xffff,
    qr: true,
    opcode: 0,
    aa: true,
    rd: false,
    ra: true,
    ad: true,
    cd: true,
    questions: [{ name: 'svc.example.test', type: TYPE.ANY, class: CLASS.IN }],
    answers: [
      record({ name: 'svc.example.test', type: TYPE.A, data: '192.0.2.1' }),
      record({ name: 'svc.example.test', type: TYPE.AAAA, data: '2001:db8::1' }),
      record({ name: 'alias.example.test', type: TYPE.CNAME, data: 'svc.example.test' }),
      record({ name: 'example.test', type: TYPE.NS, ttl: 0x7fffffff, data: 'ns1.example.test' }),
      record({ name: '1.2.0.192.in-addr.arpa', type: TYPE.PTR, ttl: 0, data: 'svc.example.test' }),
      record({ name: 'example.test', type: TYPE.MX, data: { preference: 65535, exchange: 'mx.example.test' } }),
      record({ name: 'example.test', type: TYPE.TXT, data: ['v=spf1 -all', '', 'héllo wörld ✓', 'x'.repeat(255)] }),
      record({
        name: 'example.test',
        type: TYPE.SOA,
        data: { mname: 'ns1.example.test', rname: 'host\\.master.example.test', serial: 0xffffffff, refresh: 1, retry: 2, expire: 3, minimum: 4 },
      }),
      record({ name: '_sip._tcp.example.test', type: TYPE.SRV, data: { priority: 1, weight: 2, port: 5060, target: 'sip.example.test' } }),
      record({ name: 'example.test', type: 257, data: Uint8Array.from([0, 5, 105, 115, 115, 117, 101]) }), // CAA, opaque
      record({ name: 'odd\\000name.example.test', type: 65280, data: new Uint8Array(0) }), // private use, empty
      record({ name: 'version.bind', type: TYPE.TXT, class: CLASS.CH, data: ['9.18'] }),
      record({ name: 'chaos.example', type: TYPE.A, class: CLASS.CH, data: Uint8Array.from([1, 2, 3]) }), // not IN: opaque
    ],
    authorities: [record({ name: 'example.test', type: TYPE.NS, data: 'ns2.example.test' })],
    additionals: [record({ name: 'ns1.example.test', type: TYPE.A, data: '192.0.2.53' })],
  });
}

test('every record type round-trips', () => {
  const message = everyType();
  assert.deepEqual(decodeMessage(encodeMessage(message)), message);
});

test('dynamic update records with empty RDATA (class ANY, NONE) stay opaque', () => {
  const message = emptyMessage({
    opcode: 5,
    rd: false,
    questions: [{ name: 'example.test', type: TYPE.SOA, class: CLASS.IN }],
    authorities: [
      record({ name: 'old.example.test', type: TYPE.A, class: CLASS.ANY, ttl: 0, data: new Uint8Array(0) }),
      record({ name: 'old.example.test', type: TYPE.CNAME, class: 254, ttl: 0, data: Uint8Array.from(nameToWire('x')) }),
    ],
  });
  assert.deepEqual(decodeMessage(encodeMessage(message)), message);
});

test('compression shrinks a message with repeated names, and it decodes back', () => {
  const answers = Array.from({ length: 20 }, (_, i) => record({ name: 'www.Example.test', type: TYPE.A, data: `192.0.2.${i}` }));
  answers.push(record({ name: 'alias.example.test', type: TYPE.CNAME, data: 'WWW.example.test' }));
  const message = emptyMessage({ qr: true, questions: [{ name: 'www.example.test', type: TYPE.A, class: CLASS.IN }], answers });
  const bytes = encodeMessage(message);
  const uncompressed = 12 + 18 + 4 + 20 * (18 + 10 + 4) + (20 + 10 + 18);
  assert.equal(bytes.length, 12 + 18 + 4 + 20 * (2 + 10 + 4) + (8 + 10 + 2));
  assert.ok(bytes.length < uncompressed / 1.8, `${bytes.length} vs ${uncompressed}`);
  // Case-insensitive matching: the answers point at the question, so they read back in its case.
  const decoded = decodeMessage(bytes);
  assert.deepEqual(decoded.answers.map((r) => r.name), [...new Array(20).fill('www.example.test'), 'alias.example.test']);
  assert.equal(decoded.answers[20]!.data, 'www.example.test');
  assert.deepEqual(decoded.answers.slice(0, 20).map((r) => r.data), answers.slice(0, 20).map((r) => r.data));
});

test('SRV targets are never compressed, though they may be decompressed', () => {
  const message = emptyMessage({
    questions: [{ name: 'sip.example.test', type: TYPE.SRV, class: CLASS.IN }],
    answers: [record({ name: '_sip._tcp.example.test', type: TYPE.SRV, data: { priority: 0, weight: 0, port: 5060, target: 'sip.example.test' } })],
  });
  const bytes = encodeMessage(message);
  const target = name('sip.example.test');
  assert.deepEqual([...bytes.subarray(bytes.length - target.length)], target);
  // An RFC 2052 server compressed the target: still read.
  const compressed = Uint8Array.from([
    ...header(0, 0x8000, 1, 1, 0, 0),
    ...name('sip.example.test'), ...u16(TYPE.SRV), ...u16(CLASS.IN),
    0xc0, 12, ...u16(TYPE.SRV), ...u16(CLASS.IN), ...u32(60), ...u16(8),
    ...u16(1), ...u16(2), ...u16(5060), 0xc0, 12,
  ]);
  assert.deepEqual(decodeMessage(compressed).answers[0]!.data, { priority: 1, weight: 2, port: 5060, target: 'sip.example.test' });
});

/** A response with one answer whose RDATA (and its length) we choose. */
function withRdata(type: number, rdata: number[], rdlength = rdata.length, extra: number[] = []): Uint8Array {
  return Uint8Array.from([
    ...header(7, 0x8000, 1, 1, 0, 0),
    ...name('a.test'), ...u16(type), ...u16(CLASS.IN),
    0xc0, 12, ...u16(type), ...u16(CLASS.IN), ...u32(60), ...u16(rdlength), ...rdata, ...extra,
  ]);
}

test('RDLENGTH must match what the RDATA takes', () => {
  throwsCode(() => decodeMessage(withRdata(TYPE.A, [1, 2, 3, 4, 5])), 'ERR_DNS_BAD_RDATA', 'A of 5');
  throwsCode(() => decodeMessage(withRdata(TYPE.A, [1, 2, 3])), 'ERR_DNS_BAD_RDATA', 'A of 3');
  throwsCode(() => decodeMessage(withRdata(TYPE.AAAA, new Array(15).fill(0))), 'ERR_DNS_BAD_RDATA', 'AAAA of 15');
  throwsCode(() => decodeMessage(withRdata(TYPE.CNAME, [...name('b.test'), 0])), 'ERR_DNS_BAD_RDATA', 'name and a spare byte');
  throwsCode(() => decodeMessage(withRdata(TYPE.CNAME, name('b.test'), 4, name('b.test').slice(4))), 'ERR_DNS_BAD_RDATA', 'name past RDLENGTH');
  throwsCode(() => decodeMessage(withRdata(TYPE.MX, [0, 1])), 'ERR_DNS_BAD_RDATA', 'MX without exchange');
  throwsCode(() => decodeMessage(withRdata(TYPE.SRV, [0, 1, 0, 2, 0, 3])), 'ERR_DNS_BAD_RDATA', 'SRV without target');
  throwsCode(() => decodeMessage(withRdata(TYPE.SOA, [0, 0, ...new Array(19).fill(0)])), 'ERR_DNS_BAD_RDATA', 'SOA short');
  throwsCode(() => decodeMessage(withRdata(TYPE.SOA, [0, 0, ...new Array(21).fill(0)])), 'ERR_DNS_BAD_RDATA', 'SOA long');
  throwsCode(() => decodeMessage(withRdata(TYPE.TXT, [5, 97, 98])), 'ERR_DNS_BAD_RDATA', 'TXT string past RDLENGTH');
  throwsCode(() => decodeMessage(withRdata(TYPE.TXT, [])), 'ERR_DNS_BAD_RDATA', 'TXT without strings');
  // RDLENGTH past the end of the message is a short message.
  throwsCode(() => decodeMessage(withRdata(TYPE.A, [1, 2, 3, 4], 5)), 'ERR_DNS_TRUNCATED', 'RDLENGTH past the end');
  // Pointer errors inside RDATA keep their own code.
  throwsCode(() => decodeMessage(withRdata(TYPE.CNAME, [0xc0, 60])), 'ERR_DNS_POINTER_LOOP', 'forward pointer in RDATA');
});

test('malformed messages give their exact codes', () => {
  const q = [...name('a.test'), ...u16(1), ...u16(1)];
  throwsCode(() => decodeMessage(new Uint8Array(11)), 'ERR_DNS_TRUNCATED', 'short header');
  throwsCode(() => decodeMessage(Uint8Array.from([...header(1, 0, 1, 0, 0, 0), ...q.slice(0, -1)])), 'ERR_DNS_TRUNCATED', 'short question');
  throwsCode(
    () => decodeMessage(Uint8Array.from([...header(1, 0, 1, 1, 0, 0), ...q, 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0])),
    'ERR_DNS_TRUNCATED',
    'short record header',
  );
  throwsCode(() => decodeMessage(Uint8Array.from([...header(1, 0, 1, 0, 0, 0), 0xc0, 12, 0, 1, 0, 1])), 'ERR_DNS_POINTER_LOOP', 'self pointer');
  throwsCode(() => decodeMessage(Uint8Array.from([...header(1, 0, 1, 0, 0, 0), 0x40, 0, 0, 1, 0, 1])), 'ERR_DNS_LABEL_TOO_LONG', 'label type 0x40');
  // Three questions need at least 15 bytes; there are 12.
  throwsCode(() => decodeMessage(Uint8Array.from([...header(1, 0, 3, 0, 0, 0), ...q])), 'ERR_DNS_TOO_MANY_RECORDS', 'count past the bytes');
  throwsCode(() => decodeMessage(Uint8Array.from([...header(1, 0, 0, 2, 0, 0), ...new Array(21).fill(0)])), 'ERR_DNS_TOO_MANY_RECORDS', 'two records in 21 bytes');
  throwsCode(() => decodeMessage(new Uint8Array(100), { maxSize: 99 }), 'ERR_DNS_OVERSIZE', 'over maxSize');
  throwsCode(() => decodeMessage(new Uint8Array(65536)), 'ERR_DNS_OVERSIZE', 'over 65535');
  throwsCode(
    () => decodeMessage(Uint8Array.from([...header(1, 0, 3, 0, 0, 0), ...q, ...q, ...q]), { maxRecords: 2 }),
    'ERR_DNS_TOO_MANY_RECORDS',
    'over maxRecords',
  );
  // Whatever is thrown underneath comes out as a DnsError.
  throwsCode(() => decodeMessage(null as unknown as Uint8Array), 'ERR_DNS_FORMERR', 'not bytes');
});

test('a tiny message claiming 65535 answers fails at once', () => {
  const bytes = Uint8Array.from(header(1, 0x8000, 0, 0xffff, 0, 0));
  const start = process.hrtime.bigint();
  for (let i = 0; i < 1000; i++) {
    throwsCode(() => decodeMessage(bytes), 'ERR_DNS_TOO_MANY_RECORDS');
    // Even with the record limit lifted, the bytes cannot hold them.
    throwsCode(() => decodeMessage(bytes, { maxRecords: 1e6 }), 'ERR_DNS_TOO_MANY_RECORDS');
  }
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  assert.ok(ms < 500, `2000 rejections took ${ms} ms`);
});

test('TTLs with the top bit set read as 0; bytes after the last record are ignored', () => {
  const bytes = Uint8Array.from([
    ...header(9, 0x8000, 0, 2, 0, 0),
    ...name('a.test'), ...u16(TYPE.A), ...u16(CLASS.IN), ...u32(0x80000000), ...u16(4), 192, 0, 2, 1,
    0xc0, 12, ...u16(TYPE.A), ...u16(CLASS.IN), ...u32(0x7fffffff), ...u16(4), 192, 0, 2, 2,
    0, 0, 0, 0, 0xde, 0xad, // padding some servers add
  ]);
  const m = decodeMessage(bytes);
  assert.deepEqual(m.answers.map((r) => r.ttl), [0, 0x7fffffff]);
});

test('decodeHeader reads the ID even from garbage, and null below 12 bytes', () => {
  assert.equal(decodeHeader(new Uint8Array(11)), null);
  const garbage = Uint8Array.from([0xab, 0xcd, 0x28, 0x05, 0, 9, 0, 8, 0, 7, 0, 6, 0xff]);
  assert.deepEqual(decodeHeader(garbage), { id: 0xabcd, qr: false, opcode: 5, rcode: 5, qdcount: 9, ancount: 8, nscount: 7, arcount: 6 });
});

test('EDNS round-trips with options, and carries the extended RCODE', () => {
  const message = emptyMessage({
    id: 77,
    qr: true,
    rcode: RCODE.BADVERS,
    questions: [{ name: 'example.test', type: TYPE.A, class: CLASS.IN }],
    additionals: [record({ name: 'ns.example.test', type: TYPE.A, data: '192.0.2.9' })],
    edns: {
      udpSize: 1232,
      version: 0,
      dnssecOk: false,
      options: [
        { code: 10, data: Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]) }, // COOKIE
        { code: 12, data: new Uint8Array(0) }, // PADDING
      ],
    },
  });
  const bytes = encodeMessage(message);
  assert.equal(bytes[3]! & 0xf, 0, 'the header keeps the low 4 bits of BADVERS (16): 0');
  assert.deepEqual(decodeMessage(bytes), message);
  assert.equal(decodeHeader(bytes)!.arcount, 2);

  // Extended RCODE 0xab1: header low bits 1, OPT TTL high byte 0xab.
  const big = { ...message, rcode: 0xab1, additionals: [], edns: { udpSize: 100, version: 1, dnssecOk: true, options: [] } };
  const decoded = decodeMessage(encodeMessage(big));
  assert.equal(decoded.rcode, 0xab1);
  assert.deepEqual(decoded.edns, { udpSize: 512, version: 1, dnssecOk: true, options: [] }, 'udpSize below 512 reads as 512');
  throwsCode(() => encodeMessage({ ...message, edns: null }), 'ERR_DNS_BAD_VALUE', 'extended RCODE without EDNS');
});

test('OPT: one at most, owned by the root, in the additional section', () => {
  const opt = (owner: number[]) => [...owner, ...u16(TYPE.OPT), ...u16(4096), 0, 0, 0, 0, ...u16(0)];
  throwsCode(() => decodeMessage(Uint8Array.from([...header(1, 0, 0, 0, 0, 2), ...opt([0]), ...opt([0])])), 'ERR_DNS_FORMERR', 'two');
  throwsCode(() => decodeMessage(Uint8Array.from([...header(1, 0, 0, 0, 0, 1), ...opt(name('x'))])), 'ERR_DNS_FORMERR', 'not root');
  throwsCode(() => decodeMessage(Uint8Array.from([...header(1, 0, 0, 1, 0, 0), ...opt([0])])), 'ERR_DNS_FORMERR', 'in answers');
  const badOption = [0, ...u16(TYPE.OPT), ...u16(4096), 0, 0, 0, 0, ...u16(5), ...u16(10), ...u16(2), 1];
  throwsCode(() => decodeMessage(Uint8Array.from([...header(1, 0, 0, 0, 0, 1), ...badOption])), 'ERR_DNS_BAD_RDATA', 'option past RDLENGTH');
});

function bigResponse(): DnsMessage {
  const a = (owner: string, n: number) => Array.from({ length: n }, (_, i) => record({ name: owner, type: TYPE.A, data: `192.0.2.${i}` }));
  return emptyMessage({
    id: 5,
    qr: true,
    questions: [{ name: 'big.example.test', type: TYPE.A, class: CLASS.IN }],
    answers: [...a('big.example.test', 30), ...a('other.example.test', 30)],
    authorities: Array.from({ length: 8 }, (_, i) => record({ name: 'example.test', type: TYPE.NS, data: `ns${i}.example.test` })),
    additionals: Array.from({ length: 8 }, (_, i) => record({ name: `ns${i}.example.test`, type: TYPE.AAAA, data: `2001:db8::${i}` })),
    edns: { udpSize: 1232, version: 0, dnssecOk: false, options: [] },
  });
}

test('truncation to maxSize drops whole RRsets from the end, keeps OPT and sets TC', () => {
  const message = bigResponse();
  const full = encodeMessage(message);
  assert.deepEqual(encodeMessage(message, { maxSize: full.length }), full, 'fits: unchanged');
  for (const maxSize of [12 + 22 + 11, 100, 512, 700, 900, full.length - 1]) {
    const bytes = encodeMessage(message, { maxSize });
    assert.ok(bytes.length <= maxSize, `${bytes.length} > ${maxSize}`);
    const m = decodeMessage(bytes);
    assert.deepEqual(m.questions, message.questions);
    assert.deepEqual(m.edns, message.edns, 'OPT kept');
    const answersWhole = m.answers.length === 0 || m.answers.length === 30 || m.answers.length === 60;
    assert.ok(answersWhole, `answers cut inside an RRset: ${m.answers.length}`);
    const dropped = m.answers.length < 60 || m.authorities.length < 8;
    assert.equal(m.tc, dropped, `maxSize ${maxSize}`);
    if (m.authorities.length > 0) assert.equal(m.answers.length, 60, 'authority only after every answer');
    if (m.additionals.length > 0) assert.equal(m.authorities.length, 8, 'additional only after all authority');
  }
  // Room for answers and authority but not all the additional data: no TC.
  const noGlue = encodeMessage({ ...message, additionals: [] });
  const bytes = encodeMessage(message, { maxSize: noGlue.length + 30 });
  const m = decodeMessage(bytes);
  assert.equal(m.tc, false);
  assert.equal(m.answers.length, 60);
  assert.ok(m.additionals.length >= 1 && m.additionals.length < 8);
  // Too small even for the header, question and OPT.
  throwsCode(() => encodeMessage(message, { maxSize: 12 + 22 + 10 }), 'ERR_DNS_BAD_VALUE', 'no room');
  throwsCode(() => encodeMessage(message, { maxSize: 11 }), 'ERR_DNS_BAD_VALUE', 'below a header');
});

test('a message over 65535 bytes is refused without maxSize, truncated with it', () => {
  const data = [new Uint8Array(60000)];
  const answers = [0, 1].map((i) => record({ name: `n${i}.test`, type: 999, data: data[0]! }));
  const message = emptyMessage({ qr: true, answers });
  throwsCode(() => encodeMessage(message), 'ERR_DNS_BAD_VALUE');
  const m = decodeMessage(encodeMessage(message, { maxSize: 70000 }));
  assert.equal(m.answers.length, 1);
  assert.equal(m.tc, true);
});

test('the encoder validates what it writes', () => {
  const base = everyType();
  const withAnswer = (r: Partial<DnsRecord>) => ({ ...base, answers: [{ ...base.answers[0]!, ...r } as DnsRecord] });
  const cases: [DnsMessage, DnsErrorCode, string][] = [
    [{ ...base, id: 65536 }, 'ERR_DNS_BAD_VALUE', 'ID'],
    [{ ...base, id: -1 }, 'ERR_DNS_BAD_VALUE', 'ID below 0'],
    [{ ...base, opcode: 16 }, 'ERR_DNS_BAD_VALUE', 'opcode'],
    [{ ...base, rcode: 4096 }, 'ERR_DNS_BAD_VALUE', 'RCODE'],
    [withAnswer({ ttl: 2 ** 31 }), 'ERR_DNS_BAD_VALUE', 'TTL'],
    [withAnswer({ ttl: 1.5 }), 'ERR_DNS_BAD_VALUE', 'TTL fraction'],
    [withAnswer({ class: 65536 }), 'ERR_DNS_BAD_VALUE', 'class'],
    [withAnswer({ name: 'a..b' }), 'ERR_DNS_BAD_NAME', 'owner'],
    [withAnswer({ data: '192.0.2' }), 'ERR_DNS_BAD_VALUE', 'A'],
    [withAnswer({ type: TYPE.AAAA, data: '192.0.2.1' }), 'ERR_DNS_BAD_VALUE', 'AAAA'],
    [withAnswer({ type: TYPE.AAAA, data: 'fe80::1%eth0' }), 'ERR_DNS_BAD_VALUE', 'AAAA with zone'],
    [withAnswer({ type: TYPE.CNAME, data: 'x'.repeat(64) }), 'ERR_DNS_BAD_NAME', 'CNAME'],
    [withAnswer({ type: TYPE.MX, data: { preference: 65536, exchange: 'mx' } }), 'ERR_DNS_BAD_VALUE', 'MX preference'],
    [withAnswer({ type: TYPE.MX, data: null } as unknown as DnsRecord), 'ERR_DNS_BAD_VALUE', 'MX null'],
    [withAnswer({ type: TYPE.SRV, data: { priority: 0, weight: 0, port: 70000, target: 'x' } }), 'ERR_DNS_BAD_VALUE', 'SRV port'],
    [withAnswer({ type: TYPE.SOA, data: { mname: 'a', rname: 'b', serial: 2 ** 32, refresh: 0, retry: 0, expire: 0, minimum: 0 } }), 'ERR_DNS_BAD_VALUE', 'SOA serial'],
    [withAnswer({ type: TYPE.TXT, data: ['x'.repeat(256)] }), 'ERR_DNS_BAD_VALUE', 'TXT 256'],
    [withAnswer({ type: TYPE.TXT, data: ['é'.repeat(128)] }), 'ERR_DNS_BAD_VALUE', 'TXT 256 bytes of UTF-8'],
    [withAnswer({ type: TYPE.TXT, data: [] }), 'ERR_DNS_BAD_VALUE', 'TXT empty'],
    [withAnswer({ type: 99, data: 'text' } as unknown as DnsRecord), 'ERR_DNS_BAD_VALUE', 'unknown type not bytes'],
    [withAnswer({ type: 99, data: new Uint8Array(65536) }), 'ERR_DNS_BAD_VALUE', 'RDATA over 65535'],
    [{ ...base, additionals: [{ name: '', type: TYPE.OPT, class: 4096, ttl: 0, data: new Uint8Array(0) }] }, 'ERR_DNS_BAD_VALUE', 'OPT as a record'],
    [{ ...base, questions: [{ name: 'ok', type: 70000, class: 1 }] }, 'ERR_DNS_BAD_VALUE', 'QTYPE'],
    [{ ...base, edns: { udpSize: 70000, version: 0, dnssecOk: false, options: [] } }, 'ERR_DNS_BAD_VALUE', 'udpSize'],
  ];
  for (const [message, code, label] of cases) throwsCode(() => encodeMessage(message), code, label);
});

test('frameTcp prefixes the length', () => {
  assert.deepEqual([...frameTcp(Uint8Array.from([1, 2, 3]))], [0, 3, 1, 2, 3]);
  assert.deepEqual([...frameTcp(new Uint8Array(0x1234)).subarray(0, 2)], [0x12, 0x34]);
  assert.equal(frameTcp(new Uint8Array(65535)).length, 65537);
  throwsCode(() => frameTcp(new Uint8Array(65536)), 'ERR_DNS_BAD_VALUE');
});
