/**
 * Packets between the script's numbers and the wire's. Inbound: a script
 * packet becomes IPv4 bytes from the fake peer, with the ACK and SACK blocks
 * moved from script space (relative to our ISN) to live space and its TCP
 * options laid out exactly as written. Outbound: the stack's bytes become a
 * packet in script space, as packetdrill maps them: our ISN from the first
 * SYN or SYN-ACK we sent, TS val relative to the first TS val matched, TS ecr
 * as the peer's own values. Printed in packetdrill's notation.
 */
import { finish, pseudoHeaderSum, sum16 } from '../wire/checksum.js';
import { emitIpv4, parseIpv4, PROTOCOL } from '../wire/ipv4.js';
import type { PacketSpec, TcpOptionSpec } from './ast.js';

import { ACK, CWR, ECE, FIN, PSH, RST, SYN, URG } from '../wire/tcp.js';

export { ACK, FIN, PSH, SYN };

const LETTERS: Array<[string, number]> = [
  ['S', SYN],
  ['F', FIN],
  ['R', RST],
  ['P', PSH],
  ['U', URG],
  ['E', ECE],
  ['W', CWR],
  ['.', ACK],
];

export function flagBits(flags: string): number {
  let bits = 0;
  if (flags === '-') return 0;
  for (const c of flags) bits |= LETTERS.find(([l]) => l === c)?.[1] ?? 0;
  return bits;
}

export function flagLetters(bits: number): string {
  const s = LETTERS.filter(([, b]) => bits & b)
    .map(([l]) => l)
    .join('');
  return s === '' ? '-' : s;
}

/** An outbound TCP segment as the stack sent it (live numbers). */
export interface Sent {
  /** Virtual time it left, ms. */
  at: number;
  srcPort: number;
  dstPort: number;
  flags: number;
  seq: number;
  ack: number;
  window: number;
  urgent: number;
  options: TcpOptionSpec[];
  length: number;
}

/** Script ↔ live numbers for the connection under test. */
export class Mapping {
  /** Our ISN as sent (live) and as the script wrote it. */
  localLive: number | null = null;
  localScript = 0;
  /** The peer's ISN: packetdrill injects the script's own numbers, so the two agree. */
  remoteLive = 0;
  remoteScript = 0;
  /** TS val the script expected → the TS val the stack sent, to map the peer's echoes back. */
  readonly tsVals = new Map<number, number>();
  tsFirst: { script: number; live: number } | null = null;

  localToLive(n: number): number {
    return (n - this.localScript + (this.localLive ?? 0)) >>> 0;
  }

  localToScript(n: number): number {
    return (n - (this.localLive ?? 0) + this.localScript) >>> 0;
  }

  remoteToLive(n: number): number {
    return (n - this.remoteScript + this.remoteLive) >>> 0;
  }

  remoteToScript(n: number): number {
    return (n - this.remoteLive + this.remoteScript) >>> 0;
  }

  /** The live TSecr for a TS ecr the script wrote: the TS val it stands for, else by the first val's offset. */
  ecrToLive(ecr: number): number {
    const exact = this.tsVals.get(ecr);
    if (exact !== undefined) return exact;
    if (this.tsFirst) return (ecr - this.tsFirst.script + this.tsFirst.live) >>> 0;
    return ecr;
  }

  tsValToScript(live: number): number {
    return this.tsFirst ? (live - this.tsFirst.live + this.tsFirst.script) >>> 0 : live;
  }
}

export interface Addresses {
  local: Uint8Array;
  remote: Uint8Array;
  localPort: number;
  remotePort: number;
}

/** The IPv4 packet the fake peer sends for a script's inbound packet. */
export function buildInbound(p: PacketSpec, map: Mapping, addr: Addresses): Uint8Array {
  const flags = flagBits(p.flags);
  const options = encodeOptions(p.options === 'any' || p.options === null ? [] : p.options, map);
  const header = 20 + options.length;
  const seg = new Uint8Array(header + p.length);
  seg[0] = addr.remotePort >> 8;
  seg[1] = addr.remotePort & 0xff;
  seg[2] = addr.localPort >> 8;
  seg[3] = addr.localPort & 0xff;
  write32(seg, 4, map.remoteToLive(p.seq));
  write32(seg, 8, flags & ACK && p.ack !== null ? map.localToLive(p.ack) : 0);
  seg[12] = (header / 4) << 4;
  seg[13] = flags;
  const window = p.window ?? 0;
  seg[14] = window >> 8;
  seg[15] = window & 0xff;
  const urgent = p.urgent ?? 0;
  seg[18] = urgent >> 8;
  seg[19] = urgent & 0xff;
  seg.set(options, 20);
  const sum = finish(sum16(seg, pseudoHeaderSum(addr.remote, addr.local, PROTOCOL.TCP, seg.length)));
  seg[16] = sum >> 8;
  seg[17] = sum & 0xff;
  return emitIpv4(
    { dscp: 0, ecn: 0, identification: 0, dontFragment: true, moreFragments: false, fragmentOffset: 0, ttl: 64, protocol: PROTOCOL.TCP, src: addr.remote, dst: addr.local, options: new Uint8Array(0) },
    seg,
  );
}

function encodeOptions(list: TcpOptionSpec[], map: Mapping): Uint8Array {
  const bytes: number[] = [];
  for (const o of list) {
    switch (o.kind) {
      case 'nop':
        bytes.push(1);
        break;
      case 'eol':
        bytes.push(0);
        break;
      case 'mss':
        bytes.push(2, 4, (o.value >> 8) & 0xff, o.value & 0xff);
        break;
      case 'wscale':
        bytes.push(3, 3, o.value & 0xff);
        break;
      case 'sackOK':
        bytes.push(4, 2);
        break;
      case 'sack':
        bytes.push(5, 2 + 8 * o.blocks.length);
        for (const [l, r] of o.blocks) bytes.push(...be32(map.localToLive(l)), ...be32(map.localToLive(r)));
        break;
      case 'TS':
        bytes.push(8, 10, ...be32(o.val), ...be32(map.ecrToLive(o.ecr)));
        break;
      case 'unsupported':
        break;
    }
  }
  // The data offset counts 32-bit words: pad with End of Option List.
  while (bytes.length % 4 !== 0) bytes.push(0);
  return Uint8Array.from(bytes);
}

/** The TCP segment inside an IPv4 packet the stack sent, or null for anything else. */
export function decodeOutbound(packet: Uint8Array, at: number): { sent: Sent; dst: Uint8Array } | null {
  const ip = parseIpv4(packet);
  if (!('header' in ip) || ip.header.protocol !== PROTOCOL.TCP) return null;
  const b = ip.payload;
  if (b.length < 20) return null;
  const offset = (b[12]! >> 4) * 4;
  if (offset < 20 || offset > b.length) return null;
  return {
    dst: ip.header.dst,
    sent: {
      at,
      srcPort: (b[0]! << 8) | b[1]!,
      dstPort: (b[2]! << 8) | b[3]!,
      seq: read32(b, 4),
      ack: read32(b, 8),
      flags: b[13]!,
      window: (b[14]! << 8) | b[15]!,
      urgent: (b[18]! << 8) | b[19]!,
      options: decodeOptions(b.subarray(20, offset)),
      length: b.length - offset,
    },
  };
}

/** Options in order, nop included; an End of Option List ends the list (what follows is padding). */
export function decodeOptions(b: Uint8Array): TcpOptionSpec[] {
  const out: TcpOptionSpec[] = [];
  let i = 0;
  while (i < b.length) {
    const kind = b[i]!;
    if (kind === 0) break;
    if (kind === 1) {
      out.push({ kind: 'nop' });
      i++;
      continue;
    }
    const len = b[i + 1] ?? 0;
    if (len < 2 || i + len > b.length) {
      out.push({ kind: 'unsupported', name: `malformed option ${kind}` });
      break;
    }
    if (kind === 2 && len === 4) out.push({ kind: 'mss', value: (b[i + 2]! << 8) | b[i + 3]! });
    else if (kind === 3 && len === 3) out.push({ kind: 'wscale', value: b[i + 2]! });
    else if (kind === 4 && len === 2) out.push({ kind: 'sackOK' });
    else if (kind === 5 && (len - 2) % 8 === 0) {
      const blocks: Array<[number, number]> = [];
      for (let j = i + 2; j < i + len; j += 8) blocks.push([read32(b, j), read32(b, j + 4)]);
      out.push({ kind: 'sack', blocks });
    } else if (kind === 8 && len === 10) out.push({ kind: 'TS', val: read32(b, i + 2), ecr: read32(b, i + 6) });
    else out.push({ kind: 'unsupported', name: `option ${kind}` });
    i += len;
  }
  return out;
}

/** A sent segment in script space, as a PacketSpec for comparing and printing. */
export function toScript(s: Sent, map: Mapping): PacketSpec {
  const seq = map.localToScript(s.seq);
  return {
    direction: '>',
    flags: flagLetters(s.flags),
    ipInfo: null,
    seq,
    end: (seq + s.length) >>> 0,
    length: s.length,
    ack: s.flags & ACK ? map.remoteToScript(s.ack) : null,
    window: s.window,
    urgent: s.flags & URG ? s.urgent : null,
    options: s.options.map((o) => {
      if (o.kind === 'sack') return { kind: 'sack', blocks: o.blocks.map(([l, r]) => [map.remoteToScript(l), map.remoteToScript(r)] as [number, number]) };
      if (o.kind === 'TS') return { kind: 'TS', val: map.tsValToScript(o.val), ecr: o.ecr };
      return o;
    }),
  };
}

/** packetdrill's notation: `> P. 1:1001(1000) ack 1 win 257 <nop,nop,TS val 100 ecr 200>`. */
export function formatPacket(p: PacketSpec, show: { window?: boolean; options?: boolean } = {}): string {
  let s = `${p.direction} ${p.ipInfo ? `[${p.ipInfo}] ` : ''}${p.flags} ${p.seq}:${p.end}(${p.length})`;
  if (p.ack !== null) s += ` ack ${p.ack}`;
  if (p.window !== null && show.window !== false) s += ` win ${p.window}`;
  if (p.urgent !== null) s += ` urg ${p.urgent}`;
  if (show.options !== false) {
    if (p.options === 'any') s += ' <...>';
    else if (p.options !== null && p.options.length > 0) s += ` <${p.options.map(formatOption).join(',')}>`;
  }
  return s;
}

export function formatOption(o: TcpOptionSpec): string {
  switch (o.kind) {
    case 'nop':
    case 'eol':
    case 'sackOK':
      return o.kind;
    case 'mss':
    case 'wscale':
      return `${o.kind} ${o.value}`;
    case 'sack':
      return `sack ${o.blocks.map(([l, r]) => `${l}:${r}`).join(' ')}`;
    case 'TS':
      return `TS val ${o.val} ecr ${o.ecr}`;
    case 'unsupported':
      return o.name;
  }
}

function be32(v: number): number[] {
  return [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
}

function write32(b: Uint8Array, i: number, v: number): void {
  b.set(be32(v >>> 0), i);
}

function read32(b: Uint8Array, i: number): number {
  return ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0;
}
