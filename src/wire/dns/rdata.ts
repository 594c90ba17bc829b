/**
 * RDATA for the types the stack understands (RFC 1035 §3.3–3.4, RFC 3596,
 * RFC 2782); every other type stays opaque bytes (RFC 3597). Pure; no I/O.
 */

import { DnsError } from './errors.js';
import { decodeName, type NameCompressor } from './name.js';
import { CLASS, TYPE, type DnsRecord, type MxData, type SoaData, type SrvData } from './types.js';
import { formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from '../ip-address.js';

const CLASS_NONE = 254; // RFC 2136 §2.4: "delete this RR" in updates

const utf8 = new TextEncoder();
// ignoreBOM keeps a leading U+FEFF: it is part of the string, not a marker.
const utf8Text = new TextDecoder('utf-8', { ignoreBOM: true });

/**
 * Whether RDATA of this type and class has a known structure. A, AAAA and SRV
 * mean what we think only in class IN (RFC 3597 §4: RDATA formats are class
 * specific; a CH-class A record holds a name and a Chaosnet address). The
 * name and text types read the same in every class, but not in the ANY and
 * NONE of dynamic update, whose records carry empty RDATA (RFC 2136 §2.5).
 */
export function isStructured(type: number, cls: number): boolean {
  switch (type) {
    case TYPE.A:
    case TYPE.AAAA:
    case TYPE.SRV:
      return cls === CLASS.IN;
    case TYPE.CNAME:
    case TYPE.NS:
    case TYPE.PTR:
    case TYPE.MX:
    case TYPE.SOA:
    case TYPE.TXT:
      return cls !== CLASS.ANY && cls !== CLASS_NONE;
    default:
      return false;
  }
}

function badRdata(type: number, message: string): DnsError {
  return new DnsError('ERR_DNS_BAD_RDATA', `type ${type}: ${message}`);
}

function u16(bytes: Uint8Array, at: number): number {
  return (bytes[at]! << 8) | bytes[at + 1]!;
}

function u32(bytes: Uint8Array, at: number): number {
  return ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>> 0;
}

/**
 * A name inside RDATA: pointers may reach back anywhere in the message, but
 * the name's own bytes must end inside the RDATA. Running past its end is an
 * RDLENGTH that does not match, not a short message.
 */
function rdataName(bytes: Uint8Array, at: number, end: number, type: number): { name: string; next: number } {
  try {
    return decodeName(bytes, at, end);
  } catch (err) {
    if (err instanceof DnsError && err.code === 'ERR_DNS_TRUNCATED') throw badRdata(type, 'name runs past RDLENGTH');
    throw err;
  }
}

/**
 * Decodes the RDATA at bytes[offset, offset + length), which the caller has
 * checked lies inside the message. Every byte must be used: a parser that
 * stops short or runs over is ERR_DNS_BAD_RDATA.
 */
export function decodeRdata(bytes: Uint8Array, offset: number, length: number, type: number, cls: number): DnsRecord['data'] {
  const end = offset + length;
  if (!isStructured(type, cls)) return bytes.slice(offset, end);
  const exact = (used: number): void => {
    if (used !== end) throw badRdata(type, `RDLENGTH ${length} but the data takes ${used - offset}`);
  };
  const atLeast = (n: number): void => {
    if (length < n) throw badRdata(type, `RDLENGTH ${length} is under ${n}`);
  };
  switch (type) {
    case TYPE.A:
      if (length !== 4) throw badRdata(type, `RDLENGTH ${length}, not 4`);
      return formatIPv4(bytes, offset);
    case TYPE.AAAA:
      if (length !== 16) throw badRdata(type, `RDLENGTH ${length}, not 16`);
      return formatIPv6(bytes, offset);
    case TYPE.CNAME:
    case TYPE.NS:
    case TYPE.PTR: {
      const { name, next } = rdataName(bytes, offset, end, type);
      exact(next);
      return name;
    }
    case TYPE.MX: {
      atLeast(3);
      const { name, next } = rdataName(bytes, offset + 2, end, type);
      exact(next);
      return { preference: u16(bytes, offset), exchange: name } satisfies MxData;
    }
    case TYPE.SOA: {
      const mname = rdataName(bytes, offset, end, type);
      const rname = rdataName(bytes, mname.next, end, type);
      exact(rname.next + 20);
      const at = rname.next;
      return {
        mname: mname.name,
        rname: rname.name,
        serial: u32(bytes, at),
        refresh: u32(bytes, at + 4),
        retry: u32(bytes, at + 8),
        expire: u32(bytes, at + 12),
        minimum: u32(bytes, at + 16),
      } satisfies SoaData;
    }
    case TYPE.SRV: {
      atLeast(7);
      // RFC 2782 forbids compressing the target, but RFC 3597 §4 asks us to
      // accept it: servers that followed RFC 2052 compressed it.
      const { name, next } = rdataName(bytes, offset + 6, end, type);
      exact(next);
      return { priority: u16(bytes, offset), weight: u16(bytes, offset + 2), port: u16(bytes, offset + 4), target: name } satisfies SrvData;
    }
    case TYPE.TXT: {
      // One or more character-strings (RFC 1035 §3.3.14): empty RDATA is not a TXT record.
      atLeast(1);
      const strings: string[] = [];
      for (let at = offset; at < end; ) {
        const stop = at + 1 + bytes[at]!;
        if (stop > end) throw badRdata(type, `character-string at ${at} runs past RDLENGTH`);
        strings.push(utf8Text.decode(bytes.subarray(at + 1, stop)));
        at = stop;
      }
      return strings;
    }
    default:
      return bytes.slice(offset, end);
  }
}

function badValue(type: number, message: string): DnsError {
  return new DnsError('ERR_DNS_BAD_VALUE', `type ${type}: ${message}`);
}

function isInt(n: unknown, max: number): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= max;
}

function concat(parts: Uint8Array[]): Uint8Array {
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new Uint8Array(length);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function be(n: number, size: 2 | 4): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = size - 1; i >= 0; i--, n = Math.floor(n / 256)) out[i] = n % 256;
  return out;
}

function object<T>(type: number, data: unknown, what: string): T {
  if (typeof data !== 'object' || data === null) throw badValue(type, `data must be ${what}`);
  return data as T;
}

function field(type: number, value: unknown, name: string, max: number): number {
  if (!isInt(value, max)) throw badValue(type, `${name} must be an integer from 0 to ${max}, not ${String(value)}`);
  return value;
}

/**
 * Encodes a record's RDATA, to be written at message offset `at` (names in
 * it are compressed against, and remembered by, `names`). A Uint8Array is
 * written as it is, whatever the type: the RFC 3597 escape hatch. Names are
 * compressed only in the RFC 1035 types (RFC 3597 §4), never in SRV.
 */
export function encodeRdata(type: number, data: unknown, at: number, names: NameCompressor): Uint8Array {
  if (data instanceof Uint8Array) {
    if (data.length > 0xffff) throw badValue(type, `RDATA of ${data.length} bytes is over 65535`);
    return data;
  }
  switch (type) {
    case TYPE.A:
    case TYPE.AAAA: {
      const v4 = type === TYPE.A;
      const bytes = typeof data === 'string' && !data.includes('%') ? (v4 ? parseIPv4(data) : parseIPv6(data)) : null;
      if (!bytes) throw badValue(type, `not an IPv${v4 ? 4 : 6} address: ${String(data)}`);
      return bytes;
    }
    case TYPE.CNAME:
    case TYPE.NS:
    case TYPE.PTR:
      if (typeof data !== 'string') throw badValue(type, 'data must be a name');
      return names.encode(data, at, true);
    case TYPE.MX: {
      const mx = object<MxData>(type, data, '{ preference, exchange }');
      const preference = be(field(type, mx.preference, 'preference', 0xffff), 2);
      return concat([preference, names.encode(mx.exchange, at + 2, true)]);
    }
    case TYPE.SOA: {
      const soa = object<SoaData>(type, data, '{ mname, rname, serial, refresh, retry, expire, minimum }');
      const numbers = (['serial', 'refresh', 'retry', 'expire', 'minimum'] as const).map((k) => be(field(type, soa[k], k, 0xffff_ffff), 4));
      const mname = names.encode(soa.mname, at, true);
      const rname = names.encode(soa.rname, at + mname.length, true);
      return concat([mname, rname, ...numbers]);
    }
    case TYPE.SRV: {
      const srv = object<SrvData>(type, data, '{ priority, weight, port, target }');
      const head = (['priority', 'weight', 'port'] as const).map((k) => be(field(type, srv[k], k, 0xffff), 2));
      return concat([...head, names.encode(srv.target, at + 6, false)]);
    }
    case TYPE.TXT: {
      if (!Array.isArray(data) || data.length === 0) throw badValue(type, 'data must be a non-empty array of strings');
      const parts: Uint8Array[] = [];
      let length = 0;
      for (const s of data) {
        if (typeof s !== 'string') throw badValue(type, 'data must be a non-empty array of strings');
        const bytes = utf8.encode(s);
        if (bytes.length > 255) throw badValue(type, `character-string of ${bytes.length} bytes is over 255`);
        parts.push(Uint8Array.of(bytes.length), bytes);
        length += 1 + bytes.length;
        if (length > 0xffff) throw badValue(type, 'RDATA over 65535 bytes');
      }
      return concat(parts);
    }
    default:
      throw badValue(type, 'data of a type without a known structure must be a Uint8Array');
  }
}
