/**
 * The simulated network's seeded randomness. sfc32 (Chris Doty-Humphrey's
 * small fast chaotic generator) is fast in 32-bit integer arithmetic, which
 * JavaScript does exactly on every engine, so a seed gives the same sequence
 * everywhere. Its four words of state come from splitmix32, so that nearby
 * seeds (1, 2, 3…) still start far apart.
 * Beside it, CryptoRandom: the platform's unpredictable numbers, for secrets.
 */
import type { RandomSource } from './types.js';

export class Random implements RandomSource {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    let s = seed >>> 0;
    const next = (): number => {
      s = (s + 0x9e3779b9) | 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
      z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
      return (z ^ (z >>> 15)) | 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    // A few rounds mix the seeded words into each other before use.
    for (let i = 0; i < 12; i++) this.uint32();
  }

  uint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  float(): number {
    return this.uint32() / 0x1_0000_0000;
  }

  /** A uniform integer in [0, n), for 1 ≤ n ≤ 2^32. */
  int(n: number): number {
    return uniformInt(this, n, 'Random.int');
  }
}

/**
 * Unpredictable numbers from the platform's CSPRNG: Web Crypto's
 * getRandomValues, which browsers and Node 20 both have, so no node:crypto.
 * For what an attacker must not guess (DNS query IDs and source ports) when
 * no seeded source was given. Words are drawn 256 at a time.
 */
export class CryptoRandom implements RandomSource {
  private readonly words = new Uint32Array(256);
  private next = this.words.length;

  uint32(): number {
    if (this.next === this.words.length) {
      globalThis.crypto.getRandomValues(this.words);
      this.next = 0;
    }
    return this.words[this.next++]!;
  }

  float(): number {
    return this.uint32() / 0x1_0000_0000;
  }

  /** A uniform integer in [0, n), for 1 ≤ n ≤ 2^32. */
  int(n: number): number {
    return uniformInt(this, n, 'CryptoRandom.int');
  }
}

/** A uniform integer in [0, n) from `source`, for 1 ≤ n ≤ 2^32; rejection keeps it unbiased. */
function uniformInt(source: RandomSource, n: number, name: string): number {
  if (!Number.isInteger(n) || n < 1 || n > 0x1_0000_0000) throw new RangeError(`${name} needs an integer in [1, 2^32], not ${n}`);
  const limit = 0x1_0000_0000 - (0x1_0000_0000 % n);
  for (;;) {
    const x = source.uint32();
    if (x < limit) return x % n;
  }
}
