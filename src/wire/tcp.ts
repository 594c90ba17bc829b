/**
 * TCP segments (RFC 9293 §3.1) and the options Linux offers in a SYN:
 * MSS (kind 2), window scale (3, RFC 7323), SACK-permitted (4) and SACK
 * blocks (5, RFC 2018), timestamps (8, RFC 7323). Parsing never throws: a
 * bad segment is a reason to drop it. Unknown options are skipped by length.
 */
import { finish, pseudoHeaderSum, sum16 } from './checksum.js';
import { PROTOCOL } from './ipv4.js';

export const FIN = 0x01;
export const SYN = 0x02;
export const RST = 0x04;
export const PSH = 0x08;
export const ACK = 0x10;
export const URG = 0x20;
export const ECE = 0x40;
export const CWR = 0x80;

export interface TcpOptions {
  mss?: number;
  windowScale?: number;
  sackPermitted?: boolean;
  /** TSval and TSecr. */
  timestamp?: { value: number; echo: number };
  /** SACK blocks as [left, right) sequence-number pairs, at most 4 (3 next to timestamps). */
  sack?: Array<[number, number]>;
}

export interface TcpSegment {
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  flags: number;
  /** The window field as sent, before any scaling. */
  window: number;
  urgent: number;
  options: TcpOptions;
  payload: Uint8Array;
}

export type TcpDrop = 'truncated' | 'bad-offset' | 'bad-checksum' | 'bad-option';

export const TCP_HEADER = 20;

export function parseTcp(segment: Uint8Array, src: Uint8Array, dst: Uint8Array): TcpSegment | { drop: TcpDrop } {
  if (segment.length < TCP_HEADER) return { drop: 'truncated' };
  const offset = (segment[12]! >> 4) * 4;
  if (offset < TCP_HEADER || offset > segment.length) return { drop: 'bad-offset' };
  if (finish(sum16(segment, pseudoHeaderSum(src, dst, PROTOCOL.TCP, segment.length))) !== 0) return { drop: 'bad-checksum' };
  const options = parseOptions(segment, TCP_HEADER, offset);
  if (options === null) return { drop: 'bad-option' };
  return {
    srcPort: (segment[0]! << 8) | segment[1]!,
    dstPort: (segment[2]! << 8) | segment[3]!,
    seq: read32(segment, 4),
    ack: read32(segment, 8),
    flags: segment[13]!,
    window: (segment[14]! << 8) | segment[15]!,
    urgent: (segment[18]! << 8) | segment[19]!,
    options,
    payload: segment.subarray(offset),
  };
}

function parseOptions(b: Uint8Array, start: number, end: number): TcpOptions | null {
  const options: TcpOptions = {};
  let i = start;
  while (i < end) {
    const kind = b[i]!;
    if (kind === 0) break; // end of option list
    if (kind === 1) {
      i++; // no-operation
      continue;
    }
    if (i + 1 >= end) return null;
    const length = b[i + 1]!;
    if (length < 2 || i + length > end) return null;
    switch (kind) {
      case 2:
        if (length !== 4) return null;
        options.mss = (b[i + 2]! << 8) | b[i + 3]!;
        break;
      case 3:
        if (length !== 3) return null;
        options.windowScale = b[i + 2]!;
        break;
      case 4:
        if (length !== 2) return null;
        options.sackPermitted = true;
        break;
      case 5: {
        if ((length - 2) % 8 !== 0 || length === 2) return null;
        const blocks: Array<[number, number]> = [];
        for (let j = i + 2; j < i + length; j += 8) blocks.push([read32(b, j), read32(b, j + 4)]);
        options.sack = blocks;
        break;
      }
      case 8:
        if (length !== 10) return null;
        options.timestamp = { value: read32(b, i + 2), echo: read32(b, i + 6) };
        break;
      default:
        break; // unknown: skipped by its length, as RFC 9293 §3.2 requires
    }
    i += length;
  }
  return options;
}

/** Bytes the options take on the wire, padded to a multiple of 4. */
export function optionsLength(o: TcpOptions): number {
  let n = 0;
  if (o.mss !== undefined) n += 4;
  if (o.windowScale !== undefined) n += 4; // NOP + 3
  // SACK-permitted rides in the two bytes before the timestamps, else NOP NOP + 2.
  if (o.timestamp) n += 12;
  else if (o.sackPermitted) n += 4;
  if (o.sack && o.sack.length > 0) n += 4 + 8 * o.sack.length; // NOP NOP + 2 + 8n
  return (n + 3) & ~3;
}

/**
 * Writes the segment into a new buffer after `headroom` free bytes (room
 * for the IP header, so a packet is built with one allocation) and fills in
 * the checksum. Options are laid out the way Linux does.
 */
export function emitTcp(s: TcpSegment, src: Uint8Array, dst: Uint8Array, headroom = 0): Uint8Array {
  const optionBytes = optionsLength(s.options);
  if (optionBytes > 40) throw new RangeError(`TCP options take at most 40 bytes, not ${optionBytes}`);
  const headerLength = TCP_HEADER + optionBytes;
  const out = new Uint8Array(headroom + headerLength + s.payload.length);
  const seg = headroom === 0 ? out : out.subarray(headroom);
  seg[0] = s.srcPort >> 8;
  seg[1] = s.srcPort & 0xff;
  seg[2] = s.dstPort >> 8;
  seg[3] = s.dstPort & 0xff;
  write32(seg, 4, s.seq);
  write32(seg, 8, s.ack);
  seg[12] = (headerLength / 4) << 4;
  seg[13] = s.flags;
  seg[14] = s.window >> 8;
  seg[15] = s.window & 0xff;
  seg[18] = s.urgent >> 8;
  seg[19] = s.urgent & 0xff;
  writeOptions(seg, TCP_HEADER, s.options);
  seg.set(s.payload, headerLength);
  const sum = finish(sum16(seg, pseudoHeaderSum(src, dst, PROTOCOL.TCP, seg.length)));
  seg[16] = sum >> 8;
  seg[17] = sum & 0xff;
  return out;
}

function writeOptions(b: Uint8Array, at: number, o: TcpOptions): void {
  let i = at;
  if (o.mss !== undefined) {
    b[i++] = 2;
    b[i++] = 4;
    b[i++] = o.mss >> 8;
    b[i++] = o.mss & 0xff;
  }
  if (o.sackPermitted && o.timestamp) {
    b[i++] = 4;
    b[i++] = 2;
    i = writeTimestamp(b, i, o.timestamp);
  } else if (o.timestamp) {
    b[i++] = 1;
    b[i++] = 1;
    i = writeTimestamp(b, i, o.timestamp);
  } else if (o.sackPermitted) {
    b[i++] = 1;
    b[i++] = 1;
    b[i++] = 4;
    b[i++] = 2;
  }
  if (o.windowScale !== undefined) {
    b[i++] = 1;
    b[i++] = 3;
    b[i++] = 3;
    b[i++] = o.windowScale;
  }
  if (o.sack && o.sack.length > 0) {
    b[i++] = 1;
    b[i++] = 1;
    b[i++] = 5;
    b[i++] = 2 + 8 * o.sack.length;
    for (const [left, right] of o.sack) {
      write32(b, i, left);
      write32(b, i + 4, right);
      i += 8;
    }
  }
  // Whatever is left up to the data offset stays zero: End of Option List.
}

function writeTimestamp(b: Uint8Array, i: number, t: { value: number; echo: number }): number {
  b[i++] = 8;
  b[i++] = 10;
  write32(b, i, t.value);
  write32(b, i + 4, t.echo);
  return i + 8;
}

function read32(b: Uint8Array, i: number): number {
  return ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0;
}

function write32(b: Uint8Array, i: number, v: number): void {
  b[i] = v >>> 24;
  b[i + 1] = (v >>> 16) & 0xff;
  b[i + 2] = (v >>> 8) & 0xff;
  b[i + 3] = v & 0xff;
}

/** Flags as tcpdump prints them: S, F, R, P, ., for a test's expectations and the trace. */
export function flagString(flags: number): string {
  let s = '';
  if (flags & SYN) s += 'S';
  if (flags & FIN) s += 'F';
  if (flags & RST) s += 'R';
  if (flags & PSH) s += 'P';
  if (flags & ACK) s += '.';
  return s || 'none';
}
