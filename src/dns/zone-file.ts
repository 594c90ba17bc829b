/**
 * RFC 1035 §5 master files read into a Zone: $ORIGIN and $TTL, parentheses
 * across lines, comments, relative names, TTL units as BIND reads them, the
 * presentation forms of the common types and RFC 3597's generic one. Errors
 * are ERR_DNS_BAD_CONFIG and start with "file:line".
 */
import { readTextFile } from '#read-file';
import { DnsError } from '../wire/dns/errors.js';
import { nameToWire, normalizeName } from '../wire/dns/name.js';
import { CLASS, TYPE, parseType, typeName, type DnsRecord } from '../wire/dns/types.js';
import { formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from '../wire/ip-address.js';
import { Zone } from './zone.js';

export interface ZoneFileOptions {
  /** Where relative names start until a $ORIGIN; when given, the SOA must be there. */
  origin?: string;
  /** The file name that starts every error message. */
  file?: string;
}

/** The largest TTL (RFC 2181 §8). */
const MAX_TTL = 2 ** 31 - 1;

/** True if the text ends with a dot that is not escaped: an absolute name. */
function endsWithDot(text: string): boolean {
  let dot = false;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '\\') {
      i++;
      dot = false;
    } else dot = text[i] === '.';
  }
  return dot;
}

// ---- the master file ----

interface Token {
  text: string;
  quoted: boolean;
}

interface Entry {
  line: number;
  /** The line starts with a blank: the owner is the previous record's. */
  indented: boolean;
  tokens: Token[];
}

type Fail = (line: number, message: string) => DnsError;

/** Cuts the file into entries: one line, or several joined by parentheses, without comments (RFC 1035 §5.1). */
function entriesOf(text: string, fail: Fail): Entry[] {
  const entries: Entry[] = [];
  const blank = (c: string | undefined) => c === ' ' || c === '\t';
  let line = 1;
  let depth = 0;
  let openedAt = 0;
  let entry: Entry = { line, indented: blank(text[0]), tokens: [] };
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '\n') {
      line++;
      i++;
      if (depth === 0) {
        if (entry.tokens.length > 0) entries.push(entry);
        entry = { line, indented: blank(text[i]), tokens: [] };
      }
    } else if (c === ';') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (blank(c) || c === '\r') {
      i++;
    } else if (c === '(') {
      if (depth > 0) throw fail(line, "nested '('");
      depth = 1;
      openedAt = line;
      i++;
    } else if (c === ')') {
      if (depth === 0) throw fail(line, "')' without '('");
      depth = 0;
      i++;
    } else if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"' && text[j] !== '\n') j += text[j] === '\\' ? 2 : 1;
      if (text[j] !== '"') throw fail(line, 'a quoted string is not closed on its line');
      entry.tokens.push({ text: text.slice(i + 1, j), quoted: true });
      i = j + 1;
    } else {
      let j = i;
      while (j < text.length && !/[\s;()"]/.test(text[j]!)) {
        if (text[j] === '\\' && text[j + 1] === '\n') throw fail(line, 'a backslash at the end of a line');
        j += text[j] === '\\' ? 2 : 1;
      }
      entry.tokens.push({ text: text.slice(i, j), quoted: false });
      i = j;
    }
  }
  if (depth > 0) throw fail(openedAt, "'(' is never closed");
  if (entry.tokens.length > 0) entries.push(entry);
  return entries;
}

/** Reads a master file (RFC 1035 §5) into a zone. Errors are ERR_DNS_BAD_CONFIG with "file:line". */
export function parseZone(text: string, options: ZoneFileOptions = {}): Zone {
  const file = options.file ?? 'zone';
  const fail: Fail = (line, message) => new DnsError('ERR_DNS_BAD_CONFIG', `${file}:${line}: ${message}`);
  let origin: string | null = null;
  if (options.origin !== undefined) {
    const given = options.origin;
    const bad = (message: string) => new DnsError('ERR_DNS_BAD_CONFIG', `${file}: origin ${given}: ${message}`);
    origin = given === '' || given === '.' ? '' : absolute(endsWithDot(given) ? given : `${given}.`, null, bad);
  }
  const apex = origin;
  let defaultTtl: number | null = null;
  let lastTtl: number | null = null;
  let lastOwner: string | null = null;
  let lastClass: number = CLASS.IN;
  let soaMinimum: number | null = null;
  const records: DnsRecord[] = [];
  const lines: number[] = [];

  for (const { line, indented, tokens } of entriesOf(text, fail)) {
    const bad = (message: string) => fail(line, message);
    const first = tokens[0]!;
    if (!indented && !first.quoted && first.text.startsWith('$')) {
      const directive = first.text.toUpperCase();
      const arg = tokens[1];
      if (directive === '$INCLUDE') throw bad('$INCLUDE is not supported: put the records in this file');
      if (directive !== '$ORIGIN' && directive !== '$TTL') throw bad(`unknown directive ${first.text}`);
      if (!arg || tokens.length > 2) throw bad(`${directive} takes one argument`);
      if (directive === '$TTL') defaultTtl = ttlOf(arg.text, bad) ?? badTtl(arg.text, bad);
      else origin = absolute(arg.text, origin, bad);
      continue;
    }
    let k = 0;
    let owner: string;
    if (indented) {
      if (lastOwner === null) throw bad('no owner name: the first record must start at the beginning of its line');
      owner = lastOwner;
    } else {
      owner = nameOf(tokens[k++]!, origin, bad);
    }
    let ttl: number | null = null;
    let cls: number | null = null;
    let type: number | null = null;
    while (k < tokens.length && type === null) {
      const t = tokens[k++]!;
      const asTtl = t.quoted ? null : ttlOf(t.text, bad);
      const asClass = t.quoted ? null : classOf(t.text);
      if (asTtl !== null && ttl === null) ttl = asTtl;
      else if (asClass !== null && cls === null) cls = asClass;
      else if (asTtl !== null || asClass !== null) throw bad(`'${t.text}' given twice`);
      else {
        type = t.quoted ? null : parseType(t.text);
        if (type === null) throw bad(`unknown record type '${t.text}' (a type without a form here can be written TYPEnnn \\# LENGTH HEX)`);
        if (type === TYPE.OPT || type === TYPE.ANY || type === 0) throw bad(`${t.text} is not a record type a zone can hold`);
      }
    }
    if (type === null) throw bad('no record type');
    const data = rdataOf(type, tokens.slice(k), origin, bad);
    if (ttl === null) {
      // RFC 2308 §4: $TTL; before it, RFC 1035's "the last explicitly stated value"; failing both, the
      // SOA's minimum, as BIND does for old files.
      if (type === TYPE.SOA) soaMinimum = (data as { minimum: number }).minimum;
      ttl = defaultTtl ?? lastTtl ?? soaMinimum;
      if (ttl === null) throw bad('no TTL: give one, or set $TTL before the first record');
    } else {
      lastTtl = ttl;
    }
    if (type === TYPE.SOA && apex !== null && normalizeName(owner) !== normalizeName(apex)) {
      throw bad(`the SOA is at ${owner || '.'}, not at the origin ${apex || '.'}`);
    }
    lastOwner = owner;
    lastClass = cls ?? lastClass;
    records.push({ name: owner, type, class: lastClass, ttl, data } as DnsRecord);
    lines.push(line);
  }
  return new Zone(records, (i) => `${file}:${lines[i] ?? lines[lines.length - 1] ?? 0}`);
}

/** Reads a master file from disk; errors name the path. */
export async function loadZone(path: string, options: Omit<ZoneFileOptions, 'file'> = {}): Promise<Zone> {
  let text: string;
  try {
    text = await readTextFile(path);
  } catch (e) {
    throw new DnsError('ERR_DNS_BAD_CONFIG', `${path}: ${(e as Error).message}`, { cause: e });
  }
  return parseZone(text, { ...options, file: path });
}

/** A name in presentation form made absolute and given without its final dot. */
function absolute(text: string, origin: string | null, bad: (m: string) => DnsError): string {
  let name: string;
  if (text === '@') {
    if (origin === null) throw bad("'@' but no origin: add $ORIGIN");
    name = origin;
  } else if (text === '.') {
    name = '';
  } else if (endsWithDot(text)) {
    name = text.slice(0, -1);
  } else {
    if (origin === null) throw bad(`'${text}' is relative but there is no origin: add $ORIGIN or end it with '.'`);
    name = origin === '' ? text : `${text}.${origin}`;
  }
  try {
    nameToWire(name);
  } catch (e) {
    throw bad(`'${text}': ${(e as Error).message.replace(/^ERR_DNS_\w+: /, '')}`);
  }
  return name;
}

function nameOf(token: Token, origin: string | null, bad: (m: string) => DnsError): string {
  if (token.quoted) throw bad(`a name cannot be quoted: "${token.text}"`);
  return absolute(token.text, origin, bad);
}

/** A TTL: seconds, or units like "1h30m" (w, d, h, m, s), as BIND reads them; null if it is not one. */
function ttlOf(text: string, bad: (m: string) => DnsError): number | null {
  let seconds: number;
  if (/^\d+$/.test(text)) seconds = Number(text);
  else if (/^(\d+[wdhms])+$/i.test(text)) {
    const unit: Record<string, number> = { w: 604_800, d: 86_400, h: 3_600, m: 60, s: 1 };
    seconds = 0;
    for (const [, n, u] of text.matchAll(/(\d+)([wdhms])/gi)) seconds += Number(n) * unit[u!.toLowerCase()]!;
  } else return null;
  if (seconds > MAX_TTL) throw bad(`TTL ${text} is more than 2^31-1 seconds (RFC 2181 §8)`);
  return seconds;
}

function badTtl(text: string, bad: (m: string) => DnsError): never {
  throw bad(`'${text}' is not a TTL`);
}

function classOf(text: string): number | null {
  const upper = text.toUpperCase();
  if (upper === 'IN') return CLASS.IN;
  if (upper === 'CH') return CLASS.CH;
  if (upper === 'HS') return 4;
  const m = /^CLASS(\d{1,5})$/.exec(upper);
  return m && Number(m[1]) <= 65_535 ? Number(m[1]) : null;
}

function integer(token: Token | undefined, max: number, what: string, bad: (m: string) => DnsError): number {
  if (!token || token.quoted || !/^\d+$/.test(token.text) || Number(token.text) > max) {
    throw bad(`${what} must be a number from 0 to ${max}${token ? `, not '${token.text}'` : ''}`);
  }
  return Number(token.text);
}

/** A time field of an SOA: seconds or units. */
function seconds(token: Token | undefined, what: string, bad: (m: string) => DnsError): number {
  const n = token && !token.quoted ? ttlOf(token.text, bad) : null;
  if (n === null) throw bad(`${what} must be a time in seconds${token ? `, not '${token.text}'` : ''}`);
  return n;
}

/** The RDATA of one record, from its fields in presentation form. */
function rdataOf(type: number, fields: Token[], origin: string | null, bad: (m: string) => DnsError): unknown {
  const name = typeName(type);
  const count = (n: number) => {
    if (fields.length !== n) throw bad(`${name} takes ${n} field${n === 1 ? '' : 's'}, not ${fields.length}`);
  };
  if (fields[0] && !fields[0].quoted && fields[0].text === '\\#') return generic(type, fields, bad);
  switch (type) {
    case TYPE.A:
    case TYPE.AAAA: {
      count(1);
      const v4 = type === TYPE.A;
      const bytes = v4 ? parseIPv4(fields[0]!.text) : parseIPv6(fields[0]!.text);
      if (!bytes || fields[0]!.quoted || fields[0]!.text.includes('%')) throw bad(`'${fields[0]!.text}' is not an ${v4 ? 'IPv4' : 'IPv6'} address`);
      return v4 ? formatIPv4(bytes) : formatIPv6(bytes);
    }
    case TYPE.NS:
    case TYPE.CNAME:
    case TYPE.PTR:
      count(1);
      return nameOf(fields[0]!, origin, bad);
    case TYPE.MX:
      count(2);
      return { preference: integer(fields[0], 65_535, 'MX preference', bad), exchange: nameOf(fields[1]!, origin, bad) };
    case TYPE.SRV:
      count(4);
      return {
        priority: integer(fields[0], 65_535, 'SRV priority', bad),
        weight: integer(fields[1], 65_535, 'SRV weight', bad),
        port: integer(fields[2], 65_535, 'SRV port', bad),
        target: nameOf(fields[3]!, origin, bad),
      };
    case TYPE.SOA:
      count(7);
      return {
        mname: nameOf(fields[0]!, origin, bad),
        rname: nameOf(fields[1]!, origin, bad),
        serial: integer(fields[2], 2 ** 32 - 1, 'SOA serial', bad),
        refresh: seconds(fields[3], 'SOA refresh', bad),
        retry: seconds(fields[4], 'SOA retry', bad),
        expire: seconds(fields[5], 'SOA expire', bad),
        minimum: seconds(fields[6], 'SOA minimum', bad),
      };
    case TYPE.TXT:
      if (fields.length === 0) throw bad('TXT needs at least one string');
      return fields.map((f) => characterString(f.text, bad));
    default:
      throw bad(`${name} is not supported in its usual form; write it as ${name} \\# LENGTH HEX (RFC 3597)`);
  }
}

/** RFC 3597 §5: "\# length hex" for a type this parser has no form for. */
function generic(type: number, fields: Token[], bad: (m: string) => DnsError): Uint8Array {
  const name = typeName(type);
  if (type in KNOWN) throw bad(`write ${name} in its usual form, not \\#`);
  const length = integer(fields[1], 65_535, `${name} \\# length`, bad);
  const hex = fields.slice(2).map((f) => f.text).join('');
  if (!/^([0-9a-f]{2})*$/i.test(hex)) throw bad(`${name} \\# data must be hexadecimal digits in pairs`);
  if (hex.length / 2 !== length) throw bad(`${name} \\# says ${length} bytes but has ${hex.length / 2}`);
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}

const KNOWN: Record<number, true> = Object.fromEntries(
  [TYPE.A, TYPE.AAAA, TYPE.NS, TYPE.CNAME, TYPE.PTR, TYPE.MX, TYPE.SRV, TYPE.SOA, TYPE.TXT].map((t) => [t, true]),
);

/** A <character-string>: "\X" is X, "\DDD" a byte; at most 255 bytes (RFC 1035 §3.3, §5.1). */
function characterString(text: string, bad: (m: string) => DnsError): string {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c !== '\\') {
      const cp = text.codePointAt(i)!;
      if (cp > 0xffff) i++;
      bytes.push(...Buffer.from(String.fromCodePoint(cp)));
    } else if (/^\d{3}$/.test(text.slice(i + 1, i + 4))) {
      const n = Number(text.slice(i + 1, i + 4));
      if (n > 255) throw bad(`\\${text.slice(i + 1, i + 4)} is not a byte`);
      bytes.push(n);
      i += 3;
    } else {
      if (i + 1 >= text.length) throw bad('a string ends with a lone backslash');
      const cp = text.codePointAt(++i)!;
      if (cp > 0xffff) i++;
      bytes.push(...Buffer.from(String.fromCodePoint(cp)));
    }
  }
  if (bytes.length > 255) throw bad(`a string of ${bytes.length} bytes; each is at most 255 (split it into several)`);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(bytes));
  } catch {
    throw bad('a string that is not UTF-8 once its escapes are read');
  }
}
