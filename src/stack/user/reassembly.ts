/**
 * IPv4 reassembly (RFC 791 §3.2), tracking what is missing as a list of
 * holes (RFC 815). Fragments are matched on (src, dst, protocol,
 * identification). Overlapping data that differs drops the whole datagram,
 * as RFC 5722 requires for IPv6 and modern stacks do for IPv4, so that no
 * two hosts can reassemble different datagrams from the same fragments.
 * Memory is bounded (datagrams, bytes, a timeout as Linux's ipfrag_time)
 * and time is passed in: the caller calls `expire` and sends ICMP.
 */
import { emitIpv4, ipv4HeaderLength, type Ipv4Header } from '../../wire/ipv4.js';

export interface ReassemblyKey {
  src: Uint8Array;
  dst: Uint8Array;
  protocol: number;
  identification: number;
}

export interface ReassemblyOptions {
  /** Partial datagrams held at once (default 64). */
  maxDatagrams?: number;
  /** Buffer bytes held across them (default 1 MiB; Linux's ipfrag_high_thresh is 4 MiB). */
  maxBytes?: number;
  /** From the first fragment to giving up (default 30 s, Linux's ipfrag_time). */
  timeoutMs?: number;
  /** Largest reassembled packet, header included (default 65535, the most the length field says). */
  maxDatagramLength?: number;
}

export type ReassemblyDrop = 'frag-overlap' | 'frag-too-big' | 'frag-limit' | 'frag-bad';

export type ReassemblyResult = { complete: Uint8Array; header: Ipv4Header } | { pending: true } | { drop: ReassemblyDrop };

export interface ExpiredDatagram {
  key: ReassemblyKey;
  /** The first fragment as it arrived (for ICMP time exceeded, code 1), or null if it never came. */
  firstFragment: Uint8Array | null;
}

interface Datagram {
  key: ReassemblyKey;
  deadline: number;
  /** Grows as fragments arrive; bytes outside the holes are received. */
  buffer: Uint8Array;
  /** Missing [start, end) ranges in order; the last ends at Infinity until the last fragment comes. */
  holes: Array<[number, number]>;
  /** Payload length, known from the last fragment; -1 before. */
  total: number;
  /** One past the highest byte received. */
  end: number;
  first: Ipv4Header | null;
  firstLength: number;
  congested: boolean;
}

export class Reassembler {
  private readonly partials = new Map<string, Datagram>();
  private bytes = 0;
  private readonly maxDatagrams: number;
  private readonly maxBytes: number;
  private readonly timeoutMs: number;
  private readonly maxDatagramLength: number;

  constructor(options: ReassemblyOptions = {}) {
    this.maxDatagrams = options.maxDatagrams ?? 64;
    this.maxBytes = options.maxBytes ?? 1 << 20;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.maxDatagramLength = options.maxDatagramLength ?? 0xffff;
  }

  /** Partial datagrams held. */
  get size(): number {
    return this.partials.size;
  }

  /** Buffer bytes held, counted against `maxBytes`. */
  get bufferedBytes(): number {
    return this.bytes;
  }

  /** When the earliest partial datagram times out, or null if none is held: when to call `expire`. */
  nextDeadline(): number | null {
    let next: number | null = null;
    for (const p of this.partials.values()) if (next === null || p.deadline < next) next = p.deadline;
    return next;
  }

  /** Takes one fragment (More Fragments set or an offset): its header and payload as `parseIpv4` gave them. */
  accept(header: Ipv4Header, payload: Uint8Array, nowMs: number): ReassemblyResult {
    const id = keyOf(header);
    const known = this.partials.get(id);
    // A fragment that contradicts the others poisons the datagram: nothing it said can be trusted.
    const fail = (drop: ReassemblyDrop): ReassemblyResult => {
      if (known) this.discard(id, known);
      return { drop };
    };
    const start = header.fragmentOffset;
    const end = start + payload.length;
    const last = !header.moreFragments;
    if (!last && (payload.length === 0 || payload.length % 8 !== 0)) return fail('frag-bad');
    if (20 + end > this.maxDatagramLength) return fail('frag-too-big');
    if (!known && this.partials.size >= this.maxDatagrams) return { drop: 'frag-limit' };
    const p = known ?? this.create(header, nowMs);
    if (p.total >= 0 ? end > p.total || (last && end !== p.total) : last && p.end > end) return fail('frag-bad');
    if (!matchesReceived(p, start, payload)) return fail('frag-overlap');

    const total = last ? end : p.total;
    if (end > p.buffer.length) {
      // Once the length is known, allocate exactly; before, double to keep copying linear.
      const capacity = total >= 0 ? total : Math.max(end, Math.min(p.buffer.length * 2, this.maxDatagramLength - 20));
      if (this.bytes + capacity - p.buffer.length > this.maxBytes) return { drop: 'frag-limit' };
      const grown = new Uint8Array(capacity);
      grown.set(p.buffer);
      this.bytes += capacity - p.buffer.length;
      p.buffer = grown;
    }
    if (!known) this.partials.set(id, p);

    p.buffer.set(payload, start);
    p.holes = fill(p.holes, start, end, last);
    p.total = total;
    p.end = Math.max(p.end, end);
    if (header.ecn === 3) p.congested = true;
    if (start === 0) {
      p.first = header;
      p.firstLength = payload.length;
    }
    if (p.holes.length > 0) return { pending: true };

    this.discard(id, p);
    // No holes means byte 0 arrived, so the first fragment did: its header and options are the datagram's.
    const first = p.first!;
    const headerLength = ipv4HeaderLength(first);
    if (headerLength + p.total > this.maxDatagramLength) return { drop: 'frag-too-big' };
    // RFC 3168 §5.3: congestion seen on any fragment is congestion seen on the datagram.
    const ecn = p.congested && first.ecn !== 0 ? 3 : first.ecn;
    return {
      complete: p.buffer.subarray(0, p.total),
      header: { ...first, ecn, moreFragments: false, fragmentOffset: 0, totalLength: headerLength + p.total },
    };
  }

  /** Gives up on every datagram whose time is up (`nowMs` ≥ first fragment's arrival + timeout). */
  expire(nowMs: number): ExpiredDatagram[] {
    const expired: ExpiredDatagram[] = [];
    for (const [id, p] of this.partials) {
      if (nowMs < p.deadline) continue;
      this.discard(id, p);
      let firstFragment: Uint8Array | null = null;
      if (p.first) {
        const { totalLength: _, ...fields } = p.first;
        firstFragment = emitIpv4(fields, p.buffer.subarray(0, p.firstLength));
      }
      expired.push({ key: p.key, firstFragment });
    }
    return expired;
  }

  private create(header: Ipv4Header, nowMs: number): Datagram {
    const key = { src: header.src, dst: header.dst, protocol: header.protocol, identification: header.identification };
    return { key, deadline: nowMs + this.timeoutMs, buffer: new Uint8Array(0), holes: [[0, Infinity]], total: -1, end: 0, first: null, firstLength: 0, congested: false };
  }

  private discard(id: string, p: Datagram): void {
    this.partials.delete(id);
    this.bytes -= p.buffer.length;
  }
}

function keyOf(h: Ipv4Header): string {
  return `${h.src.join('.')}>${h.dst.join('.')}/${h.protocol}/${h.identification}`;
}

/** Whether the bytes of [start, start + data.length) already received are the same as `data`. */
function matchesReceived(p: Datagram, start: number, data: Uint8Array): boolean {
  const end = start + data.length;
  let at = start;
  const same = (from: number, to: number): boolean => {
    for (let i = from; i < to; i++) if (p.buffer[i] !== data[i - start]) return false;
    return true;
  };
  for (const [holeStart, holeEnd] of p.holes) {
    if (at >= end) break;
    if (holeEnd <= at) continue;
    if (!same(at, Math.min(holeStart, end))) return false;
    at = Math.max(at, holeEnd);
  }
  // Past the last hole everything is received (the caller rejected data past the known end).
  return same(at, end);
}

/** The holes left once [start, end) arrives; the last fragment also closes everything past its end. */
function fill(holes: Array<[number, number]>, start: number, end: number, last: boolean): Array<[number, number]> {
  const left: Array<[number, number]> = [];
  for (const [holeStart, holeEnd] of holes) {
    const pieces: Array<[number, number]> = holeEnd <= start || holeStart >= end ? [[holeStart, holeEnd]] : [[holeStart, start], [end, holeEnd]];
    for (const [a, b] of pieces) {
      const to = last ? Math.min(b, end) : b;
      if (a < to) left.push([a, to]);
    }
  }
  return left;
}
