/** The seeded source replays; the platform's CSPRNG source stays in range and unbiased enough to see. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CryptoRandom, Random } from '../../src/link/random.js';

test('a seed gives the same sequence', () => {
  const a = new Random(7);
  const b = new Random(7);
  for (let i = 0; i < 100; i++) assert.equal(a.uint32(), b.uint32());
});

test('CryptoRandom: 32-bit words and integers in range from Web Crypto, bad bounds refused', () => {
  const r = new CryptoRandom();
  const counts = new Array<number>(6).fill(0);
  const draws = 6_000;
  for (let i = 0; i < draws; i++) counts[r.int(6)]!++;
  for (const c of counts) assert.ok(c > draws / 6 / 2 && c < (draws / 6) * 2, `each face about 1000 times: ${counts}`);
  const words = new Set<number>();
  for (let i = 0; i < 600; i++) {
    const w = r.uint32();
    assert.ok(Number.isInteger(w) && w >= 0 && w < 2 ** 32);
    words.add(w);
  }
  assert.ok(words.size > 590, 'past one batch of 256 words, no repeats to speak of');
  const f = r.float();
  assert.ok(f >= 0 && f < 1);
  assert.throws(() => r.int(0), RangeError);
  assert.throws(() => r.int(2 ** 32 + 1), RangeError);
});
