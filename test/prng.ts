/** A seeded random source for fuzz tests, so every failure can be replayed from its seed. */

/** xorshift32: tiny, fast, and the same sequence everywhere for a given seed. */
export function xorshift(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

/** `length` bytes drawn from `rand`. */
export function randomBytesFrom(rand: () => number, length: number): Buffer {
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i++) out[i] = rand() & 0xff;
  return out;
}
