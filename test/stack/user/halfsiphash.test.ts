/** HalfSipHash-2-4 (32-bit tag) against the reference implementation's test vectors (vectors_hsip32: key 00..07, input 00..len-1). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { halfSipHash, halfSipHash4 } from '../../../src/stack/user/tcp/halfsiphash.js';

/** The first eleven of the 64 reference tags, as the bytes the reference writes out. */
const VECTORS = [
  [0xa9, 0x35, 0x9f, 0x5b],
  [0x27, 0x47, 0x5a, 0xb8],
  [0xfa, 0x62, 0xa6, 0x03],
  [0x8a, 0xfe, 0xe7, 0x04],
  [0x2a, 0x6e, 0x46, 0x89],
  [0xc5, 0xfa, 0xb6, 0x69],
  [0x58, 0x63, 0xfc, 0x23],
  [0x8b, 0xcf, 0x63, 0xc5],
  [0xd0, 0xb8, 0x84, 0x8f],
  [0xf8, 0x06, 0xe7, 0x79],
  [0x94, 0xb0, 0x79, 0x34],
];

const K0 = 0x03020100;
const K1 = 0x07060504;

test('HalfSipHash-2-4 matches the reference vectors for inputs of 0 to 10 bytes (whole words and every tail length)', () => {
  VECTORS.forEach((want, len) => {
    const h = halfSipHash(K0, K1, Uint8Array.from({ length: len }, (_, i) => i));
    assert.deepEqual([h & 0xff, (h >>> 8) & 0xff, (h >>> 16) & 0xff, h >>> 24], want, `${len} bytes`);
  });
});

test('halfSipHash4 is the hash of the four words as 16 little-endian bytes', () => {
  const bytes = Uint8Array.from({ length: 16 }, (_, i) => i * 17);
  const view = new DataView(bytes.buffer);
  const words = [0, 4, 8, 12].map((i) => view.getUint32(i, true)) as [number, number, number, number];
  assert.equal(halfSipHash4(K0, K1, ...words), halfSipHash(K0, K1, bytes));
  assert.notEqual(halfSipHash4(K0, K1, 1, 2, 3, 4), halfSipHash4(K0, K1 ^ 1, 1, 2, 3, 4), 'the key matters');
});
