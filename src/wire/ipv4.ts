/**
 * IPv4 headers (RFC 791). Parsing untrusted bytes never throws: a packet is
 * either a header and its payload, or a reason it was dropped, which the
 * stack counts.
 */
import { checksum } from './checksum.js';

export const PROTOCOL = { ICMP: 1, TCP: 6, UDP: 17 } as const;

export interface Ipv4Header {
  dscp: number;
  ecn: number;
  /** Header and payload, in bytes. */
  totalLength: number;
  identification: number;
  dontFragment: boolean;
  moreFragments: boolean;
  /** In bytes (the field counts 8-byte units). */
  fragmentOffset: number;
  ttl: number;
  protocol: number;
  src: Uint8Array;
  dst: Uint8Array;
  /** Options as raw bytes (a multiple of 4). */
  options: Uint8Array;
}

export type Ipv4Drop = 'truncated' | 'bad-version' | 'bad-header-length' | 'bad-total-length' | 'bad-checksum';

export type Ipv4Parsed = { header: Ipv4Header; payload: Uint8Array } | { drop: Ipv4Drop };

export function parseIpv4(packet: Uint8Array): Ipv4Parsed {
  if (packet.length < 20) return { drop: 'truncated' };
  if (packet[0]! >> 4 !== 4) return { drop: 'bad-version' };
  const headerLength = (packet[0]! & 0x0f) * 4;
  if (headerLength < 20 || headerLength > packet.length) return { drop: 'bad-header-length' };
  const totalLength = (packet[2]! << 8) | packet[3]!;
  // Link layers may pad a frame; they never shorten a packet.
  if (totalLength < headerLength || totalLength > packet.length) return { drop: 'bad-total-length' };
  if (checksum(packet, 0, headerLength) !== 0) return { drop: 'bad-checksum' };
  const flags = packet[6]! >> 5;
  return {
    header: {
      dscp: packet[1]! >> 2,
      ecn: packet[1]! & 0x03,
      totalLength,
      identification: (packet[4]! << 8) | packet[5]!,
      dontFragment: (flags & 0b010) !== 0,
      moreFragments: (flags & 0b001) !== 0,
      fragmentOffset: (((packet[6]! & 0x1f) << 8) | packet[7]!) * 8,
      ttl: packet[8]!,
      protocol: packet[9]!,
      src: packet.slice(12, 16),
      dst: packet.slice(16, 20),
      options: packet.slice(20, headerLength),
    },
    payload: packet.subarray(headerLength, totalLength),
  };
}

/** Writes a header (checksum computed) followed by `payload`. */
export function emitIpv4(header: Omit<Ipv4Header, 'totalLength'>, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(ipv4HeaderLength(header) + payload.length);
  const at = writeIpv4Header(out, header, payload.length);
  out.set(payload, at);
  return out;
}

export function ipv4HeaderLength(header: Pick<Ipv4Header, 'options'>): number {
  return 20 + header.options.length;
}

/**
 * Writes a header at the start of `out`, whose payload of `payloadLength`
 * bytes follows it; returns where the payload starts. Lets an upper layer
 * build a packet in one buffer with room left for this header.
 */
export function writeIpv4Header(out: Uint8Array, header: Omit<Ipv4Header, 'totalLength'>, payloadLength: number): number {
  const optionBytes = header.options.length;
  if (optionBytes % 4 !== 0 || optionBytes > 40) throw new RangeError('IPv4 options must be a multiple of 4 bytes, at most 40');
  const headerLength = 20 + optionBytes;
  const totalLength = headerLength + payloadLength;
  if (totalLength > 0xffff) throw new RangeError(`an IPv4 packet holds at most 65535 bytes, not ${totalLength}`);
  if (header.fragmentOffset % 8 !== 0) throw new RangeError('the fragment offset must be a multiple of 8');
  out[0] = 0x40 | (headerLength / 4);
  out[1] = (header.dscp << 2) | (header.ecn & 0x03);
  out[2] = totalLength >> 8;
  out[3] = totalLength & 0xff;
  out[4] = header.identification >> 8;
  out[5] = header.identification & 0xff;
  const offset = header.fragmentOffset / 8;
  out[6] = ((header.dontFragment ? 0b010 : 0) | (header.moreFragments ? 0b001 : 0)) << 5 | (offset >> 8);
  out[7] = offset & 0xff;
  out[8] = header.ttl;
  out[9] = header.protocol;
  out[10] = 0;
  out[11] = 0;
  out.set(header.src, 12);
  out.set(header.dst, 16);
  if (optionBytes > 0) out.set(header.options, 20);
  const sum = checksum(out, 0, headerLength);
  out[10] = sum >> 8;
  out[11] = sum & 0xff;
  return headerLength;
}
