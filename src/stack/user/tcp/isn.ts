/**
 * Initial sequence numbers per RFC 6528: ISN = M + F(local, remote, secret),
 * where M is a clock ticking every 4 µs and F a keyed hash of the
 * connection's addresses and ports, so an off-path attacker cannot guess
 * the ISN of a connection and ISNs of one 4-tuple still grow with time.
 */
import { createHash } from 'node:crypto';

export function makeIsn(secret: Uint8Array, nowMs: number, localIp: Uint8Array, localPort: number, remoteIp: Uint8Array, remotePort: number): number {
  const h = createHash('sha256');
  h.update(secret);
  h.update(localIp);
  h.update(remoteIp);
  h.update(new Uint8Array([localPort >> 8, localPort & 0xff, remotePort >> 8, remotePort & 0xff]));
  const f = h.digest().readUInt32BE(0);
  const m = Math.floor(nowMs * 250);
  return (m + f) >>> 0;
}
