/**
 * Initial sequence numbers per RFC 6528: ISN = M + F(local, remote, secret),
 * where M is a clock ticking every 4 µs and F a keyed hash of the
 * connection's addresses and ports, so an off-path attacker cannot guess
 * the ISN of a connection and ISNs of one 4-tuple still grow with time.
 *
 * F is HalfSipHash under the stack's secret, as Linux uses siphash for its
 * ISNs: plain 32-bit arithmetic, so the stack needs no crypto module and runs
 * unchanged in a browser. The secret comes from the stack's injected random
 * source (seeded in a simulation, so a run replays exactly).
 */
import { halfSipHash } from './halfsiphash.js';

/** A keyed hash to 32 bits: F's pseudo-random function. */
export type KeyedHash = (key: Uint8Array, data: Uint8Array) => number;

/** HalfSipHash-2-4 keyed by the first 8 bytes of `key`. */
export const keyedHalfSipHash: KeyedHash = (key, data) => {
  const view = new DataView(key.buffer, key.byteOffset, key.byteLength);
  return halfSipHash(view.getUint32(0, true), view.getUint32(4, true), data);
};

export function makeIsn(
  secret: Uint8Array,
  nowMs: number,
  localIp: Uint8Array,
  localPort: number,
  remoteIp: Uint8Array,
  remotePort: number,
  hash: KeyedHash = keyedHalfSipHash,
): number {
  const data = new Uint8Array(localIp.length + remoteIp.length + 4);
  data.set(localIp, 0);
  data.set(remoteIp, localIp.length);
  const at = localIp.length + remoteIp.length;
  data[at] = localPort >> 8;
  data[at + 1] = localPort & 0xff;
  data[at + 2] = remotePort >> 8;
  data[at + 3] = remotePort & 0xff;
  const f = hash(secret, data) >>> 0;
  const m = Math.floor(nowMs * 250);
  return (m + f) >>> 0;
}
