/**
 * The Internet checksum (RFC 1071): the one's-complement of the one's-
 * complement sum of 16-bit words. Sums are kept unfolded so a pseudo-header
 * and a payload can be added before the final fold.
 */

/** Adds `bytes[start..end)` as big-endian 16-bit words to `sum` (an odd last byte is padded with zero). */
export function sum16(bytes: Uint8Array, sum = 0, start = 0, end = bytes.length): number {
  let i = start;
  for (; i + 1 < end; i += 2) sum += (bytes[i]! << 8) | bytes[i + 1]!;
  if (i < end) sum += bytes[i]! << 8;
  // Fold now and then so the sum stays a small integer however long the input.
  return (sum & 0xffff) + Math.floor(sum / 0x10000);
}

/** Folds the carries back in and complements: the value that goes in a checksum field. */
export function finish(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}

export function checksum(bytes: Uint8Array, start = 0, end = bytes.length): number {
  return finish(sum16(bytes, 0, start, end));
}

/**
 * The pseudo-header of UDP and TCP, as an unfolded sum, for 4-byte (IPv4:
 * RFC 768, RFC 9293 §3.1) or 16-byte (IPv6: RFC 8200 §8.1) addresses. The
 * two layouts sum alike: IPv6's 32-bit length adds as its two 16-bit
 * halves, and its zero bytes add nothing.
 */
export function pseudoHeaderSum(src: Uint8Array, dst: Uint8Array, protocol: number, length: number): number {
  return sum16(src, 0, 0, src.length) + sum16(dst, 0, 0, dst.length) + protocol + (length >>> 16) + (length & 0xffff);
}
