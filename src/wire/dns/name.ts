/**
 * Domain names: the wire form with compression pointers (RFC 1035 §3.1,
 * §4.1.4) and the presentation form the rest of the stack uses (no final dot,
 * "" for the root, master-file escapes). Matching is ASCII case-insensitive
 * (RFC 4343). Pure; no I/O.
 */

import { DnsError } from './errors.js';

const MAX_LABEL = 63;
/** Octets in wire form, length bytes and the root byte included (RFC 1035 §3.1). */
const MAX_NAME = 255;
/**
 * The backwards rule below already makes loops impossible; the cap bounds the
 * work a hostile message can make us do per name.
 */
const MAX_JUMPS = 64;
/** A pointer has 14 bits of offset. */
const MAX_POINTER = 0x3fff;

// Presentation text for each byte value, computed once: decoding is hot.
// Letters, digits, '-', '_' and '*' (and other harmless printable ASCII)
// stand as they are; '.' and '\' and the characters a master file gives a
// meaning to are escaped with a backslash, as dig prints them; space, control
// bytes and bytes above 0x7e become \DDD.
const TEXT: string[] = [];
for (let b = 0; b < 256; b++) {
  const ch = String.fromCharCode(b);
  if (b <= 0x20 || b >= 0x7f) TEXT.push('\\' + String(b).padStart(3, '0'));
  else if ('.\\"();@$'.includes(ch)) TEXT.push('\\' + ch);
  else TEXT.push(ch);
}

/** A name for an error message, cut short: the input may be anything. */
function show(name: string): string {
  return JSON.stringify(name.length > 80 ? name.slice(0, 80) + '...' : name);
}

function bad(message: string): DnsError {
  return new DnsError('ERR_DNS_BAD_NAME', message);
}

/**
 * Reads the name at `offset`. `next` is where the bytes after the name start:
 * just past the first pointer when there is one. Reads never go at or beyond
 * `end`. Each pointer must point before the start of the run of labels it
 * ends, so every jump lands strictly earlier than the last: no loop, no
 * forward reference, whatever the bytes. A real encoder only ever points at
 * names it wrote before the current one, so nothing valid is refused.
 */
export function decodeName(bytes: Uint8Array, offset: number, end = bytes.length): { name: string; next: number } {
  let pos = offset;
  let runStart = offset;
  let next = -1;
  let jumps = 0;
  let wire = 1; // the root byte
  let name = '';
  for (;;) {
    if (pos >= end) throw new DnsError('ERR_DNS_TRUNCATED', `name at ${offset} runs past the end`);
    const len = bytes[pos]!;
    if (len === 0) return { name, next: next < 0 ? pos + 1 : next };
    const kind = len & 0xc0;
    if (kind === 0xc0) {
      if (pos + 1 >= end) throw new DnsError('ERR_DNS_TRUNCATED', `pointer at ${pos} runs past the end`);
      const target = ((len & 0x3f) << 8) | bytes[pos + 1]!;
      if (target >= runStart)
        throw new DnsError('ERR_DNS_POINTER_LOOP', `pointer at ${pos} to ${target} does not point backwards`);
      if (++jumps > MAX_JUMPS) throw new DnsError('ERR_DNS_POINTER_LOOP', `name at ${offset} has over ${MAX_JUMPS} pointers`);
      if (next < 0) next = pos + 2;
      pos = runStart = target;
      continue;
    }
    // 0x40 and 0x80 are the extended and reserved label types (RFC 6891 §5): none is in use.
    if (kind !== 0) throw new DnsError('ERR_DNS_LABEL_TOO_LONG', `label type 0x${kind.toString(16)} at ${pos}`);
    wire += len + 1;
    if (wire > MAX_NAME) throw new DnsError('ERR_DNS_NAME_TOO_LONG', `name at ${offset} is over ${MAX_NAME} octets`);
    const stop = pos + 1 + len;
    if (stop > end) throw new DnsError('ERR_DNS_TRUNCATED', `label at ${pos} runs past the end`);
    if (name.length > 0) name += '.';
    for (let i = pos + 1; i < stop; i++) name += TEXT[bytes[i]!]!;
    pos = stop;
  }
}

/**
 * The wire form of a presentation name, uncompressed: length-prefixed labels
 * and the root byte. Accepts a final dot and the escapes \X and \DDD. Refuses
 * empty labels, labels over 63 octets, names over 255, and characters outside
 * ASCII: names are bytes, and turning Unicode into them is IDNA's job.
 */
export function nameToWire(name: string): Uint8Array {
  if (typeof name !== 'string') throw bad(`name must be a string, not ${typeof name}`);
  if (name === '' || name === '.') return new Uint8Array([0]);
  const out: number[] = [0];
  let lenAt = 0;
  let finalDot = false;
  const close = (): void => {
    const len = out.length - lenAt - 1;
    if (len === 0) throw bad(`empty label in ${show(name)}`);
    if (len > MAX_LABEL) throw bad(`label over ${MAX_LABEL} octets in ${show(name)}`);
    out[lenAt] = len;
  };
  for (let i = 0; i < name.length; i++) {
    if (out.length > MAX_NAME) break; // refused below; no need to read a megabyte of it
    let c = name.charCodeAt(i);
    if (c === 0x2e) {
      close();
      if (i === name.length - 1) finalDot = true;
      else {
        lenAt = out.length;
        out.push(0);
      }
      continue;
    }
    if (c === 0x5c) {
      const d = name.slice(i + 1, i + 4);
      if (/^[0-9]/.test(d)) {
        if (!/^[0-9]{3}$/.test(d) || Number(d) > 255) throw bad(`bad \\DDD escape in ${show(name)}`);
        out.push(Number(d));
        i += 3;
        continue;
      }
      if (i + 1 >= name.length) throw bad(`name ends with a lone backslash: ${show(name)}`);
      c = name.charCodeAt(++i);
    }
    if (c > 0x7f) throw bad(`non-ASCII character in ${show(name)} (use its IDNA form)`);
    out.push(c);
  }
  if (!finalDot && out.length <= MAX_NAME) close();
  out.push(0);
  if (out.length > MAX_NAME) throw bad(`name over ${MAX_NAME} octets: ${show(name)}`);
  return Uint8Array.from(out);
}

/** The presentation form of a wire name held in `wire` (uncompressed). */
export function wireToName(wire: Uint8Array): string {
  return decodeName(wire, 0).name;
}

function lowerAscii(wire: Uint8Array): Uint8Array {
  const out = new Uint8Array(wire);
  for (let i = 0; i < out.length; i++) if (out[i]! >= 0x41 && out[i]! <= 0x5a) out[i]! += 0x20;
  return out;
}

function labelStarts(wire: Uint8Array): number[] {
  const starts: number[] = [];
  for (let p = 0; wire[p] !== 0; p += wire[p]! + 1) starts.push(p);
  return starts;
}

/** Lower case (ASCII only), no final dot, escapes in one canonical spelling. ERR_DNS_BAD_NAME if invalid. */
export function normalizeName(name: string): string {
  // Fast path: letters, digits, '-', '_' and '*' in labels of 1-63, at most 253 characters: only case and the final dot change.
  if (name.length <= 254 && PLAIN_NAME.test(name)) {
    const bare = name.endsWith('.') ? name.slice(0, -1) : name;
    if (bare.length <= 253) return bare.toLowerCase();
  }
  return wireToName(lowerAscii(nameToWire(name)));
}
const PLAIN_NAME = /^[A-Za-z0-9_*-]{1,63}(\.[A-Za-z0-9_*-]{1,63})*\.?$/;

/** The labels of a name, in presentation form, root excluded: "a.b." gives ["a", "b"]. */
export function splitLabels(name: string): string[] {
  const wire = nameToWire(name);
  return labelStarts(wire).map((p) => wireToName(Uint8Array.from([...wire.subarray(p, p + wire[p]! + 1), 0])));
}

function tryLowerWire(name: string): Uint8Array | null {
  try {
    return lowerAscii(nameToWire(name));
  } catch {
    return null;
  }
}

function sameBytes(a: Uint8Array, aFrom: number, b: Uint8Array): boolean {
  if (a.length - aFrom !== b.length) return false;
  for (let i = 0; i < b.length; i++) if (a[aFrom + i] !== b[i]) return false;
  return true;
}

/**
 * Whether two names are the same name, ignoring ASCII case (RFC 4343) and a
 * final dot. Never throws: two invalid names compare as lower-cased text.
 */
export function namesEqual(a: string, b: string): boolean {
  const wa = tryLowerWire(a);
  const wb = tryLowerWire(b);
  if (wa && wb) return sameBytes(wa, 0, wb);
  if (wa || wb) return false;
  const strip = (s: string) => (s.endsWith('.') && !s.endsWith('\\.') ? s.slice(0, -1) : s).replace(/[A-Z]/g, (c) => c.toLowerCase());
  return strip(String(a)) === strip(String(b));
}

/** Whether `name` is `zone` or below it, ignoring case. Every name is under the root (""). False if either is invalid. */
export function isSubdomain(name: string, zone: string): boolean {
  const wn = tryLowerWire(name);
  const wz = tryLowerWire(zone);
  if (!wn || !wz) return false;
  if (wz.length === 1) return true;
  for (const p of labelStarts(wn)) if (sameBytes(wn, p, wz)) return true;
  return false;
}

/**
 * Name compression for one message being encoded (RFC 1035 §4.1.4): remembers
 * where each name suffix was written, keyed by its lower-cased wire form so
 * that matching ignores case (RFC 4343). Only offsets a pointer can express
 * (< 0x4000) are kept. mark()/rollback() undo what was learnt from records
 * that a truncating encoder takes back out.
 */
export class NameCompressor {
  private readonly offsets = new Map<string, number>();
  private readonly learnt: string[] = [];

  /**
   * The bytes for `name` written at message offset `at`. With `compress` off
   * (SRV targets, types we do not know: RFC 2782, RFC 3597 §4) the name is
   * written in full, but later names may still point into it.
   */
  encode(name: string, at: number, compress = true): Uint8Array {
    const wire = nameToWire(name);
    const lower = lowerAscii(wire);
    const starts = labelStarts(wire);
    // The wire suffix is self-delimiting, so its bytes as a string make an exact key.
    const keys = starts.map((p) => String.fromCharCode(...lower.subarray(p)));
    let cut = starts.length;
    let target = 0;
    if (compress) {
      for (let i = 0; i < keys.length; i++) {
        const found = this.offsets.get(keys[i]!);
        if (found !== undefined) {
          cut = i;
          target = found;
          break;
        }
      }
    }
    for (let i = 0; i < cut; i++) {
      const where = at + starts[i]!;
      if (where > MAX_POINTER || this.offsets.has(keys[i]!)) continue;
      this.offsets.set(keys[i]!, where);
      this.learnt.push(keys[i]!);
    }
    if (cut === starts.length) return wire;
    const head = starts[cut]!;
    const out = new Uint8Array(head + 2);
    out.set(wire.subarray(0, head));
    out[head] = 0xc0 | (target >> 8);
    out[head + 1] = target & 0xff;
    return out;
  }

  mark(): number {
    return this.learnt.length;
  }

  rollback(mark: number): void {
    while (this.learnt.length > mark) this.offsets.delete(this.learnt.pop()!);
  }
}
