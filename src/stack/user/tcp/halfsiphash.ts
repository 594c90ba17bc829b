/**
 * HalfSipHash-2-4 with a 32-bit result (Aumasson and Bernstein's SipHash
 * family, the 32-bit-word variant Linux calls hsiphash): a keyed hash that is
 * fast on short inputs and, without the key, unpredictable. SYN cookies use it
 * the way Linux uses siphash: the key is the stack's secret, the input the
 * connection's addresses and ports. Written in plain 32-bit arithmetic so the
 * stack needs no crypto module; checked against the reference test vectors.
 */

/** The hash of `data` under the 64-bit key (k0, k1), both read as little-endian words. */
export function halfSipHash(k0: number, k1: number, data: Uint8Array): number {
  const s = new State(k0, k1);
  const whole = data.length & ~3;
  for (let i = 0; i < whole; i += 4) s.absorb(data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24));
  let last = data.length << 24;
  for (let i = whole; i < data.length; i++) last |= data[i]! << (8 * (i - whole));
  return s.finish(last);
}

/** The hash of four 32-bit words (the 16 bytes they are little-endian), as Linux's siphash_4u32 takes them. */
export function halfSipHash4(k0: number, k1: number, a: number, b: number, c: number, d: number): number {
  const s = new State(k0, k1);
  s.absorb(a);
  s.absorb(b);
  s.absorb(c);
  s.absorb(d);
  return s.finish(16 << 24);
}

class State {
  v0: number;
  v1: number;
  v2: number;
  v3: number;

  constructor(k0: number, k1: number) {
    this.v0 = k0 | 0;
    this.v1 = k1 | 0;
    this.v2 = 0x6c796765 ^ k0;
    this.v3 = 0x74656462 ^ k1;
  }

  absorb(m: number): void {
    this.v3 ^= m;
    this.round();
    this.round();
    this.v0 ^= m;
  }

  finish(last: number): number {
    this.absorb(last);
    this.v2 ^= 0xff;
    for (let i = 0; i < 4; i++) this.round();
    return (this.v1 ^ this.v3) >>> 0;
  }

  private round(): void {
    this.v0 = (this.v0 + this.v1) | 0;
    this.v1 = rotl(this.v1, 5) ^ this.v0;
    this.v0 = rotl(this.v0, 16);
    this.v2 = (this.v2 + this.v3) | 0;
    this.v3 = rotl(this.v3, 8) ^ this.v2;
    this.v0 = (this.v0 + this.v3) | 0;
    this.v3 = rotl(this.v3, 7) ^ this.v0;
    this.v2 = (this.v2 + this.v1) | 0;
    this.v1 = rotl(this.v1, 13) ^ this.v2;
    this.v2 = rotl(this.v2, 16);
  }
}

function rotl(x: number, n: number): number {
  return (x << n) | (x >>> (32 - n));
}
