/**
 * Whole DNS messages (RFC 1035 §4.1) with EDNS (RFC 6891), and the TCP
 * length prefix (RFC 1035 §4.2.2). The decoder takes bytes from anyone: it is
 * bounded before it allocates and throws nothing but DnsError. Pure; no I/O.
 */

import { DnsError } from './errors.js';
import { decodeName, NameCompressor, namesEqual } from './name.js';
import { decodeRdata, encodeRdata } from './rdata.js';
import { TYPE, type DnsMessage, type DnsRecord, type Edns, type EdnsOption, type Question } from './types.js';

const HEADER = 12;
/** The least a question can take: the root name, QTYPE, QCLASS. */
const MIN_QUESTION = 5;
/** The least a record can take: the root name, TYPE, CLASS, TTL, RDLENGTH. */
const MIN_RECORD = 11;
const MAX_MESSAGE = 0xffff;
const MAX_TTL = 0x7fff_ffff;

export interface DecodeLimits {
  /** Longest message accepted, in bytes; default 65535. */
  maxSize?: number;
  /** Most questions and records together; default 4096. */
  maxRecords?: number;
}

export interface EncodeOptions {
  /** Truncate to this many bytes (RFC 2181 §9, RFC 6891 §7). */
  maxSize?: number;
}

export interface DnsHeader {
  id: number;
  qr: boolean;
  opcode: number;
  /** The header's 4 bits only: the EDNS upper bits need the whole message. */
  rcode: number;
  qdcount: number;
  ancount: number;
  nscount: number;
  arcount: number;
}

/**
 * The fixed header, or null when there are fewer than 12 bytes. Enough for a
 * server to answer FORMERR, with the right ID, to a message it cannot parse.
 */
export function decodeHeader(bytes: Uint8Array): DnsHeader | null {
  if (bytes.length < HEADER) return null;
  const u16 = (at: number) => (bytes[at]! << 8) | bytes[at + 1]!;
  const flags = u16(2);
  return {
    id: u16(0),
    qr: (flags & 0x8000) !== 0,
    opcode: (flags >> 11) & 0xf,
    rcode: flags & 0xf,
    qdcount: u16(4),
    ancount: u16(6),
    nscount: u16(8),
    arcount: u16(10),
  };
}

/**
 * Parses a whole message. Every failure is a DnsError; anything else thrown
 * underneath (a bug) comes out as ERR_DNS_FORMERR with the original as cause,
 * so a server can always turn a failure into a FORMERR reply.
 *
 * Bytes after the last record are ignored: RFC 1035 gives them no meaning,
 * some servers and middleboxes pad, and refusing the answer would gain nothing
 * since every record in it has been checked.
 */
export function decodeMessage(bytes: Uint8Array, limits: DecodeLimits = {}): DnsMessage {
  try {
    return decode(bytes, limits);
  } catch (err) {
    if (err instanceof DnsError) throw err;
    throw new DnsError('ERR_DNS_FORMERR', `cannot decode message: ${String(err)}`, { cause: err });
  }
}

function decode(bytes: Uint8Array, limits: DecodeLimits): DnsMessage {
  const maxSize = limits.maxSize ?? MAX_MESSAGE;
  const maxRecords = limits.maxRecords ?? 4096;
  // Checked before anything else: a reply larger than the caller's buffer is
  // what CVE-2015-7547 was made of.
  if (bytes.length > maxSize) throw new DnsError('ERR_DNS_OVERSIZE', `message of ${bytes.length} bytes is over ${maxSize}`);
  const header = decodeHeader(bytes);
  if (!header) throw new DnsError('ERR_DNS_TRUNCATED', `message of ${bytes.length} bytes is shorter than a header`);
  const { qdcount, ancount, nscount, arcount } = header;
  // Counts are checked before anything is allocated for them: twelve bytes
  // claiming 65535 answers cost nothing.
  const total = qdcount + ancount + nscount + arcount;
  if (total > maxRecords) throw new DnsError('ERR_DNS_TOO_MANY_RECORDS', `${total} questions and records is over ${maxRecords}`);
  const least = qdcount * MIN_QUESTION + (ancount + nscount + arcount) * MIN_RECORD;
  if (least > bytes.length - HEADER)
    throw new DnsError('ERR_DNS_TOO_MANY_RECORDS', `counts need at least ${least} bytes after the header; there are ${bytes.length - HEADER}`);

  const flags = (bytes[2]! << 8) | bytes[3]!;
  const message: DnsMessage = {
    id: header.id,
    qr: header.qr,
    opcode: header.opcode,
    aa: (flags & 0x0400) !== 0,
    tc: (flags & 0x0200) !== 0,
    rd: (flags & 0x0100) !== 0,
    ra: (flags & 0x0080) !== 0,
    ad: (flags & 0x0020) !== 0,
    cd: (flags & 0x0010) !== 0,
    rcode: header.rcode,
    questions: [],
    answers: [],
    authorities: [],
    additionals: [],
    edns: null,
  };

  const short = (what: string): DnsError => new DnsError('ERR_DNS_TRUNCATED', `${what} runs past the end of the message`);
  const u16 = (at: number) => (bytes[at]! << 8) | bytes[at + 1]!;
  let pos = HEADER;
  for (let i = 0; i < qdcount; i++) {
    const { name, next } = decodeName(bytes, pos);
    if (next + 4 > bytes.length) throw short(`question ${i}`);
    message.questions.push({ name, type: u16(next), class: u16(next + 2) });
    pos = next + 4;
  }

  let extendedRcode = 0;
  const sections = [
    [message.answers, ancount, 'answer'],
    [message.authorities, nscount, 'authority'],
    [message.additionals, arcount, 'additional'],
  ] as const;
  for (const [records, count, section] of sections) {
    for (let i = 0; i < count; i++) {
      const { name, next } = decodeName(bytes, pos);
      if (next + 10 > bytes.length) throw short(`${section} record ${i}`);
      const type = u16(next);
      const cls = u16(next + 2);
      const ttl = ((bytes[next + 4]! << 24) | (bytes[next + 5]! << 16) | u16(next + 6)) >>> 0;
      const length = u16(next + 8);
      const rdata = next + 10;
      if (rdata + length > bytes.length) throw short(`RDATA of ${section} record ${i}`);
      pos = rdata + length;
      if (type === TYPE.OPT) {
        // RFC 6891 §6.1.1: one OPT at most, in the additional section, owned by the root.
        if (section !== 'additional') throw new DnsError('ERR_DNS_FORMERR', `OPT record in the ${section} section`);
        if (message.edns) throw new DnsError('ERR_DNS_FORMERR', 'more than one OPT record');
        if (name !== '') throw new DnsError('ERR_DNS_FORMERR', `OPT record owned by ${JSON.stringify(name)}, not the root`);
        message.edns = decodeOpt(bytes, rdata, length, cls, ttl);
        extendedRcode = ttl >>> 24;
        continue;
      }
      const data = decodeRdata(bytes, rdata, length, type, cls);
      // RFC 2181 §8: a TTL with the top bit set is to be read as zero.
      records.push({ name, type, class: cls, ttl: ttl > MAX_TTL ? 0 : ttl, data } as DnsRecord);
    }
  }
  // RFC 6891 §6.1.3: the OPT TTL holds the upper 8 bits of a 12-bit RCODE.
  message.rcode = (extendedRcode << 4) | header.rcode;
  return message;
}

function decodeOpt(bytes: Uint8Array, at: number, length: number, udpSize: number, ttl: number): Edns {
  const options: EdnsOption[] = [];
  const end = at + length;
  while (at < end) {
    if (at + 4 > end) throw new DnsError('ERR_DNS_BAD_RDATA', 'OPT option header runs past RDLENGTH');
    const code = (bytes[at]! << 8) | bytes[at + 1]!;
    const size = (bytes[at + 2]! << 8) | bytes[at + 3]!;
    if (at + 4 + size > end) throw new DnsError('ERR_DNS_BAD_RDATA', `OPT option ${code} runs past RDLENGTH`);
    options.push({ code, data: bytes.slice(at + 4, at + 4 + size) });
    at += 4 + size;
  }
  return {
    // RFC 6891 §6.2.5: values below 512 are to be treated as 512.
    udpSize: Math.max(udpSize, 512),
    version: (ttl >>> 16) & 0xff,
    dnssecOk: (ttl & 0x8000) !== 0,
    options,
  };
}

/** A growable byte buffer with a write position that can be moved back. */
class Writer {
  bytes = new Uint8Array(512);
  length = 0;

  private room(n: number): void {
    if (this.length + n <= this.bytes.length) return;
    let size = this.bytes.length * 2;
    while (size < this.length + n) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
  }

  u16(n: number): void {
    this.room(2);
    this.bytes[this.length++] = n >> 8;
    this.bytes[this.length++] = n & 0xff;
  }

  u32(n: number): void {
    this.u16(Math.floor(n / 0x10000));
    this.u16(n % 0x10000);
  }

  put(data: Uint8Array): void {
    this.room(data.length);
    this.bytes.set(data, this.length);
    this.length += data.length;
  }

  setU16(at: number, n: number): void {
    this.bytes[at] = n >> 8;
    this.bytes[at + 1] = n & 0xff;
  }
}

function badValue(message: string): DnsError {
  return new DnsError('ERR_DNS_BAD_VALUE', message);
}

function check(value: unknown, name: string, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max)
    throw badValue(`${name} must be an integer from 0 to ${max}, not ${String(value)}`);
  return value;
}

function encodeQuestion(w: Writer, names: NameCompressor, q: Question): void {
  if (typeof q !== 'object' || q === null) throw badValue('a question must be an object');
  const type = check(q.type, 'question type', 0xffff);
  const cls = check(q.class, 'question class', 0xffff);
  w.put(names.encode(q.name, w.length, true));
  w.u16(type);
  w.u16(cls);
}

function encodeRecord(w: Writer, names: NameCompressor, r: DnsRecord): void {
  if (typeof r !== 'object' || r === null) throw badValue('a record must be an object');
  const type = check(r.type, 'record type', 0xffff);
  if (type === TYPE.OPT) throw badValue('OPT is not a record to put in a section: set message.edns');
  const cls = check(r.class, 'record class', 0xffff);
  const ttl = check(r.ttl, 'TTL', MAX_TTL);
  w.put(names.encode(r.name, w.length, true));
  w.u16(type);
  w.u16(cls);
  w.u32(ttl);
  const rdata = encodeRdata(type, r.data, w.length + 2, names);
  w.u16(rdata.length);
  w.put(rdata);
}

/** The OPT record, whole: its name is the root, so it never takes part in compression. */
function encodeOpt(edns: Edns, rcode: number): Uint8Array {
  if (typeof edns !== 'object') throw badValue('edns must be an object or null');
  const w = new Writer();
  w.put(Uint8Array.of(0));
  w.u16(TYPE.OPT);
  w.u16(check(edns.udpSize, 'EDNS UDP size', 0xffff));
  const version = check(edns.version, 'EDNS version', 0xff);
  w.u32((rcode >> 4) * 0x100_0000 + version * 0x1_0000 + (edns.dnssecOk ? 0x8000 : 0));
  const lengthAt = w.length;
  w.u16(0);
  if (!Array.isArray(edns.options)) throw badValue('EDNS options must be an array');
  for (const option of edns.options) {
    w.u16(check(option?.code, 'EDNS option code', 0xffff));
    if (!(option.data instanceof Uint8Array)) throw badValue('EDNS option data must be a Uint8Array');
    w.u16(check(option.data.length, 'EDNS option length', 0xffff));
    w.put(option.data);
  }
  const length = w.length - lengthAt - 2;
  w.setU16(lengthAt, check(length, 'OPT RDATA length', 0xffff));
  return w.bytes.slice(0, w.length);
}

/** Runs of records with the same name, type and class: what truncation drops whole. */
function rrsets(records: DnsRecord[]): DnsRecord[][] {
  const sets: DnsRecord[][] = [];
  for (const r of records) {
    const last = sets[sets.length - 1];
    const head = last?.[0];
    if (last && head && head.type === r.type && head.class === r.class && namesEqual(head.name, r.name)) last.push(r);
    else sets.push([r]);
  }
  return sets;
}

/**
 * Encodes a message, compressing names across all of it. With `maxSize`, a
 * message that would be longer is cut to fit (RFC 2181 §9, RFC 6891 §7):
 * header, questions and OPT stay; whole RRsets go from the end, so the
 * additional section goes first, then authority, then answer. TC is set only
 * when answer or authority records were dropped: missing additional data is
 * not a truncated answer. Without `maxSize` the limit is 65535 bytes, the most
 * any transport carries, and a longer message is ERR_DNS_BAD_VALUE.
 */
export function encodeMessage(message: DnsMessage, options: EncodeOptions = {}): Uint8Array {
  const m = message;
  if (typeof m !== 'object' || m === null) throw badValue('message must be an object');
  let limit = MAX_MESSAGE;
  if (options.maxSize !== undefined) {
    if (typeof options.maxSize !== 'number' || !Number.isInteger(options.maxSize) || options.maxSize < HEADER)
      throw badValue(`maxSize must be an integer of at least ${HEADER}, not ${String(options.maxSize)}`);
    limit = Math.min(options.maxSize, MAX_MESSAGE);
  }
  const id = check(m.id, 'ID', 0xffff);
  const opcode = check(m.opcode, 'opcode', 0xf);
  const rcode = check(m.rcode, 'RCODE', 0xfff);
  if (rcode > 0xf && !m.edns) throw badValue(`RCODE ${rcode} needs EDNS to carry its upper bits`);
  const sections = [m.answers, m.authorities, m.additionals];
  for (const list of [m.questions, ...sections])
    if (!Array.isArray(list) || list.length > 0xffff) throw badValue('each section must be an array of at most 65535 entries');
  if (m.additionals.length + (m.edns ? 1 : 0) > 0xffff) throw badValue('more than 65535 additional records with OPT');

  const w = new Writer();
  const names = new NameCompressor();
  w.put(new Uint8Array(HEADER));
  for (const q of m.questions) encodeQuestion(w, names, q);
  const opt = m.edns ? encodeOpt(m.edns, rcode) : null;
  const budget = limit - (opt?.length ?? 0);
  const tooLong = (): DnsError =>
    badValue(options.maxSize === undefined ? `message is over ${MAX_MESSAGE} bytes` : `message does not fit in ${options.maxSize} bytes`);
  if (w.length > budget) throw tooLong();

  const counts = [0, 0, 0];
  let full = true;
  for (let s = 0; s < 3 && full; s++) {
    for (const set of rrsets(sections[s]!)) {
      const length = w.length;
      const mark = names.mark();
      for (const r of set) encodeRecord(w, names, r);
      if (w.length > budget) {
        // Compression only points backwards, so what came before is unchanged:
        // taking this RRset and all after it back out leaves a valid message.
        w.length = length;
        names.rollback(mark);
        full = false;
        break;
      }
      counts[s]! += set.length;
    }
  }
  if (!full && options.maxSize === undefined) throw tooLong();
  if (opt) w.put(opt);

  const dropped = counts[0] !== m.answers.length || counts[1] !== m.authorities.length;
  const flags =
    (m.qr ? 0x8000 : 0) |
    (opcode << 11) |
    (m.aa ? 0x0400 : 0) |
    (m.tc || dropped ? 0x0200 : 0) |
    (m.rd ? 0x0100 : 0) |
    (m.ra ? 0x0080 : 0) |
    (m.ad ? 0x0020 : 0) |
    (m.cd ? 0x0010 : 0) |
    (rcode & 0xf);
  w.setU16(0, id);
  w.setU16(2, flags);
  w.setU16(4, m.questions.length);
  w.setU16(6, counts[0]!);
  w.setU16(8, counts[1]!);
  w.setU16(10, counts[2]! + (opt ? 1 : 0));
  return w.bytes.slice(0, w.length);
}

/** Prefixes a message with its 2-byte length, for DNS over TCP (RFC 1035 §4.2.2). */
export function frameTcp(message: Uint8Array): Uint8Array {
  if (message.length > MAX_MESSAGE) throw badValue(`message of ${message.length} bytes is over ${MAX_MESSAGE}, too long to frame`);
  const out = new Uint8Array(message.length + 2);
  out[0] = message.length >> 8;
  out[1] = message.length & 0xff;
  out.set(message, 2);
  return out;
}
