/**
 * Sequence-number arithmetic modulo 2^32 (RFC 9293 §3.4): comparisons are
 * made on the signed 32-bit difference, valid while the numbers compared lie
 * within 2^31 of each other, which windows guarantee.
 */

/** a - b as a signed distance. */
export function diff(a: number, b: number): number {
  return (a - b) | 0;
}

export function lt(a: number, b: number): boolean {
  return ((a - b) | 0) < 0;
}

export function le(a: number, b: number): boolean {
  return ((a - b) | 0) <= 0;
}

export function gt(a: number, b: number): boolean {
  return ((a - b) | 0) > 0;
}

export function ge(a: number, b: number): boolean {
  return ((a - b) | 0) >= 0;
}

export function add(a: number, n: number): number {
  return (a + n) >>> 0;
}

/** a ≤ x < b, modulo 2^32. */
export function inRange(x: number, a: number, b: number): boolean {
  return ((x - a) | 0) >= 0 && ((x - b) | 0) < 0;
}

export function max(a: number, b: number): number {
  return gt(a, b) ? a : b;
}

export function min(a: number, b: number): number {
  return lt(a, b) ? a : b;
}
