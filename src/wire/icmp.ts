/**
 * ICMPv4 (RFC 792, with RFC 1122 §3.2.2 and RFC 1812 §4.3.2): echo,
 * destination unreachable (with the next-hop MTU of RFC 1191) and time
 * exceeded. Parsing never throws. An error message quotes the datagram that
 * caused it; the quote is read leniently, since routers truncate it and so
 * its total length and checksum need not match what is left.
 */
import { checksum } from './checksum.js';
import { PROTOCOL } from './ipv4.js';

export const ICMP_TYPE = { ECHO_REPLY: 0, DEST_UNREACHABLE: 3, ECHO_REQUEST: 8, TIME_EXCEEDED: 11 } as const;
export const UNREACHABLE = { NET: 0, HOST: 1, PROTOCOL: 2, PORT: 3, FRAG_NEEDED: 4, ADMIN_PROHIBITED: 13 } as const;
export const TIME_EXCEEDED = { TTL: 0, REASSEMBLY: 1 } as const;

/** An error quotes at most this much, so the whole error fits in a 576-byte IP packet (RFC 1812 §4.3.2.3): 576 - 20 - 8. */
export const MAX_QUOTE = 548;

/** What an error says about the datagram it is about: enough to find the socket that sent it. */
export interface IcmpQuote {
  src: Uint8Array;
  dst: Uint8Array;
  protocol: number;
  identification: number;
  /** In bytes. A quote of a later fragment holds no transport header, so its ports mean nothing. */
  fragmentOffset: number;
  /** The first two 16-bit words of the transport header: the ports, for TCP and UDP. */
  srcPort: number;
  dstPort: number;
  /** The quoted transport bytes, at least 8 (TCP's sequence number is bytes 4..8, RFC 5927 checks it). */
  transport: Uint8Array;
}

export type IcmpMessage =
  | { kind: 'echo-request' | 'echo-reply'; id: number; seq: number; data: Uint8Array }
  | { kind: 'unreachable'; code: number; mtu?: number; original: IcmpQuote }
  | { kind: 'time-exceeded'; code: number; original: IcmpQuote }
  | { kind: 'other'; type: number; code: number };

export type IcmpDrop = 'truncated' | 'bad-checksum' | 'bad-quote';

/** Parses an ICMP message (the payload of an IPv4 packet with protocol 1). */
export function parseIcmp(bytes: Uint8Array): IcmpMessage | { drop: IcmpDrop } {
  if (bytes.length < 8) return { drop: 'truncated' };
  if (checksum(bytes) !== 0) return { drop: 'bad-checksum' };
  const type = bytes[0]!;
  const code = bytes[1]!;
  if (type === ICMP_TYPE.ECHO_REQUEST || type === ICMP_TYPE.ECHO_REPLY) {
    const kind = type === ICMP_TYPE.ECHO_REQUEST ? 'echo-request' : 'echo-reply';
    return { kind, id: read16(bytes, 4), seq: read16(bytes, 6), data: bytes.subarray(8) };
  }
  if (type !== ICMP_TYPE.DEST_UNREACHABLE && type !== ICMP_TYPE.TIME_EXCEEDED) return { kind: 'other', type, code };
  const original = parseQuote(bytes.subarray(8));
  if (original === null) return { drop: 'bad-quote' };
  if (type === ICMP_TYPE.TIME_EXCEEDED) return { kind: 'time-exceeded', code, original };
  // RFC 1191: the low 16 bits of the unused word carry the next-hop MTU; 0 from a router older than that.
  if (code === UNREACHABLE.FRAG_NEEDED) return { kind: 'unreachable', code, mtu: read16(bytes, 6), original };
  return { kind: 'unreachable', code, original };
}

/** The header must be whole and sane, followed by 8 transport bytes (RFC 792); nothing else is trusted. */
function parseQuote(q: Uint8Array): IcmpQuote | null {
  if (q.length < 28 || q[0]! >> 4 !== 4) return null;
  const headerLength = (q[0]! & 0x0f) * 4;
  if (headerLength < 20 || q.length < headerLength + 8) return null;
  const transport = q.subarray(headerLength);
  return {
    src: q.slice(12, 16),
    dst: q.slice(16, 20),
    protocol: q[9]!,
    identification: read16(q, 4),
    fragmentOffset: (read16(q, 6) & 0x1fff) * 8,
    srcPort: read16(transport, 0),
    dstPort: read16(transport, 2),
    transport,
  };
}

export function emitEcho(kind: 'echo-request' | 'echo-reply', id: number, seq: number, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + data.length);
  out[0] = kind === 'echo-request' ? ICMP_TYPE.ECHO_REQUEST : ICMP_TYPE.ECHO_REPLY;
  write16(out, 4, id);
  write16(out, 6, seq);
  out.set(data, 8);
  write16(out, 2, checksum(out));
  return out;
}

/** A destination-unreachable message about `original` (a whole IPv4 packet); `mtu` goes with code 4. */
export function emitUnreachable(code: number, original: Uint8Array, mtu?: number): Uint8Array {
  return emitError(ICMP_TYPE.DEST_UNREACHABLE, code, original, code === UNREACHABLE.FRAG_NEEDED ? (mtu ?? 0) : 0);
}

export function emitTimeExceeded(code: number, original: Uint8Array): Uint8Array {
  return emitError(ICMP_TYPE.TIME_EXCEEDED, code, original, 0);
}

function emitError(type: number, code: number, original: Uint8Array, mtu: number): Uint8Array {
  // Quote the packet without any link-layer padding, and no more than fits in 576 bytes.
  const declared = original.length >= 4 ? read16(original, 2) : original.length;
  const length = Math.min(original.length, declared >= 20 ? declared : original.length, MAX_QUOTE);
  const out = new Uint8Array(8 + length);
  out[0] = type;
  out[1] = code;
  write16(out, 6, mtu);
  out.set(original.subarray(0, length), 8);
  write16(out, 2, checksum(out));
  return out;
}

/**
 * Whether RFC 1122 §3.2.2 allows an error message about `original`: never
 * about an ICMP error, a later fragment, a datagram sent to a broadcast or
 * multicast address, or one whose source is not a single host. (A directed
 * subnet broadcast or a link-layer broadcast needs the interface: the caller
 * checks those.)
 */
export function mayReportError(original: Uint8Array): boolean {
  if (original.length < 20 || original[0]! >> 4 !== 4) return false;
  const headerLength = (original[0]! & 0x0f) * 4;
  if (headerLength < 20 || original.length < headerLength) return false;
  if ((read16(original, 6) & 0x1fff) !== 0) return false;
  const src = original[12]!;
  const dst = original[16]!;
  // 0/8 is "this network", 224/4 multicast, 240/4 reserved and 255.255.255.255 broadcast.
  if (src === 0 || src >= 224 || dst >= 224) return false;
  if (original[9] === PROTOCOL.ICMP) {
    if (original.length <= headerLength) return false;
    const type = original[headerLength]!;
    // Errors are unreachable (3), source quench (4), redirect (5), time exceeded (11), parameter problem (12).
    if (type === 3 || type === 4 || type === 5 || type === 11 || type === 12) return false;
  }
  return true;
}

function read16(b: Uint8Array, i: number): number {
  return (b[i]! << 8) | b[i + 1]!;
}

function write16(b: Uint8Array, i: number, v: number): void {
  b[i] = (v >> 8) & 0xff;
  b[i + 1] = v & 0xff;
}
