/** UDP datagrams over IPv4 (RFC 768). Parsing never throws; a bad datagram is a reason to drop it. */
import { finish, pseudoHeaderSum, sum16 } from './checksum.js';
import { PROTOCOL } from './ipv4.js';

export interface UdpDatagram {
  srcPort: number;
  dstPort: number;
  payload: Uint8Array;
}

export type UdpDrop = 'truncated' | 'bad-length' | 'bad-checksum';

export function parseUdp(segment: Uint8Array, src: Uint8Array, dst: Uint8Array): UdpDatagram | { drop: UdpDrop } {
  if (segment.length < 8) return { drop: 'truncated' };
  const length = (segment[4]! << 8) | segment[5]!;
  if (length < 8 || length > segment.length) return { drop: 'bad-length' };
  const sent = (segment[6]! << 8) | segment[7]!;
  // Zero means the sender computed none (allowed over IPv4, RFC 768).
  if (sent !== 0 && finish(sum16(segment, pseudoHeaderSum(src, dst, PROTOCOL.UDP, length), 0, length)) !== 0) return { drop: 'bad-checksum' };
  return { srcPort: (segment[0]! << 8) | segment[1]!, dstPort: (segment[2]! << 8) | segment[3]!, payload: segment.subarray(8, length) };
}

/** The datagram, after `headroom` free bytes a lower layer can write its header into (none by default). */
export function emitUdp(datagram: UdpDatagram, src: Uint8Array, dst: Uint8Array, headroom = 0): Uint8Array {
  const length = 8 + datagram.payload.length;
  if (length > 0xffff) throw new RangeError(`a UDP datagram holds at most 65527 bytes of payload, not ${datagram.payload.length}`);
  const out = new Uint8Array(headroom + length);
  const at = headroom;
  out[at] = datagram.srcPort >> 8;
  out[at + 1] = datagram.srcPort & 0xff;
  out[at + 2] = datagram.dstPort >> 8;
  out[at + 3] = datagram.dstPort & 0xff;
  out[at + 4] = length >> 8;
  out[at + 5] = length & 0xff;
  out.set(datagram.payload, at + 8);
  // A computed zero is sent as all ones, since zero means "no checksum".
  const sum = finish(sum16(out, pseudoHeaderSum(src, dst, PROTOCOL.UDP, length), at, at + length)) || 0xffff;
  out[at + 6] = sum >> 8;
  out[at + 7] = sum & 0xff;
  return out;
}
