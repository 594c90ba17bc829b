/**
 * Throws hostile bytes at the decoder: every input must either decode or fail
 * with a DnsError, quickly; whatever decodes must re-encode, and decode again
 * to the same message (the counts are asserted, so a skipped step cannot pass).
 * The PRNG is seeded: a failure prints the seed, and DNS_FUZZ_SEED=<seed>
 * replays it; DNS_FUZZ_SEED=random picks a fresh one to explore. By default the
 * seed is fixed, so CI runs the same 100,000 inputs every time.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DnsError } from '../../../src/wire/dns/errors.js';
import { decodeMessage, encodeMessage } from '../../../src/wire/dns/message.js';
import { normalizeName } from '../../../src/wire/dns/name.js';
import { CLASS, emptyMessage, RCODE, TYPE, type DnsMessage, type DnsRecord, type MxData, type SoaData, type SrvData } from '../../../src/wire/dns/types.js';
import { xorshift } from '../../prng.js';

const INPUTS = 100_000;
const TIME_LIMIT_MS = 20_000;

function seedMessages(): Uint8Array[] {
  const r = (fields: Partial<DnsRecord> & Pick<DnsRecord, 'name' | 'type' | 'data'>) => ({ class: CLASS.IN, ttl: 300, ...fields }) as DnsRecord;
  const messages: DnsMessage[] = [
    emptyMessage({
      id: 0x1234,
      questions: [{ name: 'example.com', type: TYPE.A, class: CLASS.IN }],
      edns: { udpSize: 4096, version: 0, dnssecOk: true, options: [{ code: 10, data: Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]) }] },
    }),
    emptyMessage({
      id: 0xbeef,
      qr: true,
      ra: true,
      questions: [{ name: 'example.com', type: TYPE.MX, class: CLASS.IN }],
      answers: [
        r({ name: 'example.com', type: TYPE.MX, data: { preference: 10, exchange: 'mail.example.com' } }),
        r({ name: 'example.com', type: TYPE.MX, data: { preference: 20, exchange: 'mail2.Example.com' } }),
      ],
      additionals: [r({ name: 'mail.example.com', type: TYPE.A, data: '93.184.216.34' }), r({ name: 'mail.example.com', type: TYPE.AAAA, data: '2001:db8::25' })],
    }),
    emptyMessage({
      id: 1,
      qr: true,
      aa: true,
      rcode: RCODE.NXDOMAIN,
      questions: [{ name: 'nope.example.com', type: TYPE.A, class: CLASS.IN }],
      authorities: [
        r({ name: 'example.com', type: TYPE.SOA, data: { mname: 'ns.example.com', rname: 'hostmaster.example.com', serial: 1, refresh: 2, retry: 3, expire: 4, minimum: 5 } }),
      ],
    }),
    emptyMessage({
      id: 2,
      qr: true,
      rcode: RCODE.BADVERS,
      questions: [{ name: '_sip._tcp.example.test', type: TYPE.SRV, class: CLASS.IN }],
      answers: [
        r({ name: '_sip._tcp.example.test', type: TYPE.SRV, data: { priority: 1, weight: 2, port: 5060, target: 'sip.example.test' } }),
        r({ name: 'alias.example.test', type: TYPE.CNAME, data: 'sip.example.test' }),
        r({ name: 'example.test', type: TYPE.TXT, data: ['v=spf1 -all', 'héllo'] }),
        r({ name: '9.2.0.192.in-addr.arpa', type: TYPE.PTR, data: 'sip.example.test' }),
        r({ name: 'example.test', type: 257, data: Uint8Array.from([0, 5, 105, 115, 115, 117, 101]) }),
      ],
      authorities: [r({ name: 'example.test', type: TYPE.NS, data: 'ns1.example.test' })],
      edns: { udpSize: 1232, version: 0, dnssecOk: false, options: [] },
    }),
  ];
  return messages.map((m) => encodeMessage(m));
}

/** Names compared without case: compression may hand a name the case of an earlier one. */
function canonical(m: DnsMessage): DnsMessage {
  const n = normalizeName;
  const rdata = (r: DnsRecord): DnsRecord['data'] => {
    if (r.data instanceof Uint8Array || Array.isArray(r.data)) return r.data;
    if (typeof r.data === 'string') return r.type === TYPE.A || r.type === TYPE.AAAA ? r.data : n(r.data);
    if (r.type === TYPE.MX) return { ...(r.data as MxData), exchange: n((r.data as MxData).exchange) };
    if (r.type === TYPE.SRV) return { ...(r.data as SrvData), target: n((r.data as SrvData).target) };
    const soa = r.data as SoaData;
    return { ...soa, mname: n(soa.mname), rname: n(soa.rname) };
  };
  const records = (list: DnsRecord[]) => list.map((r) => ({ ...r, name: n(r.name), data: rdata(r) }) as DnsRecord);
  return {
    ...m,
    questions: m.questions.map((q) => ({ ...q, name: n(q.name) })),
    answers: records(m.answers),
    authorities: records(m.authorities),
    additionals: records(m.additionals),
  };
}

function mutate(seed: Uint8Array, rand: () => number): Uint8Array {
  let bytes = [...seed];
  const pick = (n: number) => (n <= 0 ? 0 : rand() % n);
  const rounds = [1, 1, 1, 2, 2, 3, 4][pick(7)]!; // mostly light: deep damage only tests the first check
  for (let i = 0; i < rounds; i++) {
    switch (pick(8)) {
      case 0: // flip a bit
        if (bytes.length) bytes[pick(bytes.length)]! ^= 1 << pick(8);
        break;
      case 1: // set a byte
        if (bytes.length) bytes[pick(bytes.length)] = pick(256);
        break;
      case 2: // insert bytes
        bytes.splice(pick(bytes.length + 1), 0, ...Array.from({ length: 1 + pick(4) }, () => pick(256)));
        break;
      case 3: // delete bytes
        bytes.splice(pick(bytes.length), 1 + pick(4));
        break;
      case 4: {
        // change a count: small, off by one, or huge
        const at = 4 + 2 * pick(4);
        const value = [pick(8), pick(0x10000), 0xffff, ((bytes[at]! << 8) | bytes[at + 1]!) + 1][pick(4)]!;
        bytes[at] = (value >> 8) & 0xff;
        bytes[at + 1] = value & 0xff;
        break;
      }
      case 5: {
        // inject a pointer, anywhere, to anywhere nearby
        const at = pick(bytes.length);
        const target = pick(bytes.length + 16);
        bytes[at] = 0xc0 | (target >> 8);
        bytes[at + 1] = target & 0xff;
        break;
      }
      case 6: // cut the end off
        bytes = bytes.slice(0, pick(bytes.length + 1));
        break;
      default: {
        // repeat a slice: records and names appearing twice
        const from = pick(bytes.length);
        const slice = bytes.slice(from, from + 1 + pick(32));
        bytes.splice(pick(bytes.length + 1), 0, ...slice);
      }
    }
  }
  return Uint8Array.from(bytes.slice(0, 70_000).map((b) => (b ?? 0) & 0xff));
}

function randomBytes(rand: () => number): Uint8Array {
  const length = rand() % 4 === 0 ? rand() % 2048 : rand() % 96;
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = rand() & 0xff;
  // Often keep the counts small, so the decoder gets past the header.
  if (length >= 12 && rand() % 2 === 0) for (let at = 4; at < 12; at += 2) [out[at], out[at + 1]] = [0, rand() % 4];
  return out;
}

function assertDnsError(err: unknown, stage: string): void {
  if (!(err instanceof DnsError && err.code.startsWith('ERR_DNS_')))
    throw new Error(`${stage} threw something other than a DnsError: ${String(err)}`, { cause: err });
  // decodeMessage wraps any other exception as ERR_DNS_FORMERR with a cause: that is a bug caught, not a verdict.
  if (err.cause !== undefined) throw new Error(`${stage} wrapped an unexpected exception: ${String(err.cause)}`, { cause: err });
}

test(`fuzz: ${INPUTS} hostile inputs decode or fail with a DnsError; whatever decodes re-encodes and decodes again alike`, (t) => {
  const env = process.env.DNS_FUZZ_SEED;
  const seed = env === 'random' ? (Math.random() * 0xffffffff) >>> 0 || 1 : env ? Number(env) >>> 0 : 0x5eed_d115;
  t.diagnostic(`seed ${seed} (replay with DNS_FUZZ_SEED=${seed})`);
  const rand = xorshift(seed);
  const seeds = seedMessages();
  const tally = { decoded: 0, reencoded: 0, redecoded: 0, refused: new Map<string, number>() };
  const start = performance.now();
  for (let i = 0; i < INPUTS; i++) {
    const input = rand() % 10 < 3 ? randomBytes(rand) : mutate(seeds[rand() % seeds.length]!, rand);
    try {
      let decoded: DnsMessage;
      try {
        decoded = decodeMessage(input);
      } catch (err) {
        assertDnsError(err, 'decodeMessage');
        const code = (err as DnsError).code;
        tally.refused.set(code, (tally.refused.get(code) ?? 0) + 1);
        continue;
      }
      tally.decoded++;
      // Whatever decodes is a message the encoder must be able to write back: a failure here is a bug, not a verdict.
      const encoded = encodeMessage(decoded);
      tally.reencoded++;
      const again = decodeMessage(encoded);
      assert.deepEqual(canonical(again), canonical(decoded), 're-decoded message differs');
      tally.redecoded++;
      assert.deepEqual(encodeMessage(again), encoded, 'encoding is not stable');
    } catch (err) {
      const hex = Buffer.from(input).toString('hex');
      throw new Error(`fuzz failure: seed ${seed}, input ${i} (replay with DNS_FUZZ_SEED=${seed}); input hex ${hex}`, { cause: err });
    }
  }
  const ms = performance.now() - start;
  t.diagnostic(
    `${INPUTS} inputs in ${ms.toFixed(0)} ms: ${tally.decoded} decoded, ${tally.reencoded} re-encoded, ${tally.redecoded} decoded again to the same message; refused ` +
      [...tally.refused].map(([code, n]) => `${code} ${n}`).join(', '),
  );
  assert.ok(ms < TIME_LIMIT_MS, `took ${ms} ms (seed ${seed})`);
  const refused = [...tally.refused.values()].reduce((a, b) => a + b, 0);
  assert.equal(tally.decoded + refused, INPUTS, 'every input either decoded or was refused');
  assert.ok(tally.decoded > INPUTS / 20, `only ${tally.decoded} inputs decoded: the mutations are too destructive`);
  assert.equal(tally.reencoded, tally.decoded, 'every decoded message re-encoded');
  assert.equal(tally.redecoded, tally.decoded, 'every re-encoded message decoded again to the same message');
});
