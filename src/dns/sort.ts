/**
 * Destination address selection (RFC 6724 §6): which of a name's addresses
 * to try first. Each destination is paired with the source address the stack
 * would use to reach it (null when it has no route), learned by the caller;
 * the rules below are then pure.
 */
import { parseIPv4, parseIPv6 } from '../wire/ip-address.js';

export interface Candidate {
  address: string;
  family: 4 | 6;
  /** The source address the stack picked for this destination, or null if unreachable. */
  source: string | null;
}

interface Policy {
  prefix: Uint8Array;
  bits: number;
  precedence: number;
  label: number;
}

/** RFC 6724 §2.1, the default policy table. */
const POLICY: Policy[] = [
  ['::1', 128, 50, 0],
  ['::ffff:0:0', 96, 35, 4],
  ['2002::', 16, 30, 2],
  ['2001::', 32, 5, 5],
  ['fc00::', 7, 3, 13],
  ['::', 96, 1, 3],
  ['fec0::', 10, 1, 11],
  ['3ffe::', 16, 1, 12],
  ['::', 0, 40, 1],
].map(([p, bits, precedence, label]) => ({ prefix: parseIPv6(p as string)!, bits: bits as number, precedence: precedence as number, label: label as number }));

/** IPv4 is compared as IPv4-mapped IPv6 (RFC 6724 §2). */
function as16(address: string): Uint8Array | null {
  const v4 = parseIPv4(address);
  if (v4) return new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...v4]);
  return parseIPv6(address);
}

function commonPrefix(a: Uint8Array, b: Uint8Array, limit = 128): number {
  let bits = 0;
  for (let i = 0; i < 16 && bits < limit; i++) {
    const x = a[i]! ^ b[i]!;
    if (x === 0) {
      bits += 8;
      continue;
    }
    return Math.min(limit, bits + Math.clz32(x) - 24);
  }
  return Math.min(bits, limit);
}

function policyOf(a: Uint8Array): Policy {
  let best = POLICY[POLICY.length - 1]!;
  for (const p of POLICY) if (commonPrefix(a, p.prefix, p.bits) >= p.bits && p.bits >= best.bits) best = p;
  return best;
}

/** Scope per RFC 6724 §3.1 (IPv6) and §3.2 (IPv4: loopback and link-local are link-local scope). */
function scopeOf(a: Uint8Array): number {
  const mapped = a.subarray(0, 12).every((b, i) => (i < 10 ? b === 0 : b === 0xff));
  if (mapped) return a[12] === 127 || (a[12] === 169 && a[13] === 254) ? 2 : 14;
  if (a[0] === 0xff) return a[1]! & 0x0f;
  if (a[0] === 0xfe && (a[1]! & 0xc0) === 0x80) return 2;
  if (a.subarray(0, 15).every((b) => b === 0) && a[15] === 1) return 2;
  if (a[0] === 0xfe && (a[1]! & 0xc0) === 0xc0) return 5;
  return 14;
}

interface Keyed extends Candidate {
  index: number;
  dst: Uint8Array;
  src: Uint8Array | null;
}

/** Sorts destinations, best first, by RFC 6724 rules 1, 2, 5, 6, 8, 9 and 10. */
export function sortDestinations<T extends Candidate>(candidates: T[]): T[] {
  const keyed = candidates.map((c, index) => ({ ...c, index, dst: as16(c.address)!, src: c.source ? as16(c.source) : null }));
  keyed.sort(compare);
  return keyed.map((k) => candidates[k.index]!);
}

function compare(a: Keyed, b: Keyed): number {
  // Rule 1: avoid unusable destinations.
  if (!a.src !== !b.src) return a.src ? -1 : 1;
  if (a.src && b.src) {
    // Rule 2: prefer matching scope.
    const am = scopeOf(a.dst) === scopeOf(a.src);
    const bm = scopeOf(b.dst) === scopeOf(b.src);
    if (am !== bm) return am ? -1 : 1;
    // Rule 5: prefer matching label.
    const al = policyOf(a.dst).label === policyOf(a.src).label;
    const bl = policyOf(b.dst).label === policyOf(b.src).label;
    if (al !== bl) return al ? -1 : 1;
  }
  // Rule 6: prefer higher precedence.
  const pa = policyOf(a.dst).precedence;
  const pb = policyOf(b.dst).precedence;
  if (pa !== pb) return pb - pa;
  // Rule 8: prefer smaller scope.
  const sa = scopeOf(a.dst);
  const sb = scopeOf(b.dst);
  if (sa !== sb) return sa - sb;
  // Rule 9: longest matching prefix, between IPv6 destinations only (as glibc does).
  if (a.family === 6 && b.family === 6 && a.src && b.src) {
    const ca = commonPrefix(a.dst, a.src, 64);
    const cb = commonPrefix(b.dst, b.src, 64);
    if (ca !== cb) return cb - ca;
  }
  // Rule 10: otherwise keep the order.
  return a.index - b.index;
}
