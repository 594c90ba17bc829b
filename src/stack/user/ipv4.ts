/**
 * The host's IPv4 layer (RFC 791, RFC 1122 §3.3): packets in from the
 * devices, checked, reassembled and handed to the transport by protocol
 * number; packets out with a header written in place, fragmented when the
 * route's MTU asks for it. A host, not a router: nothing is forwarded.
 * Packets to one of our own addresses or to 127/8 go round a loopback queue
 * drained by a 0 ms clock timer, so a send never re-enters its caller.
 * The transports see it through the version-free IpLayer seam (ip.ts).
 */
import type { Clock, Device, TimerHandle } from '../../link/types.js';
import { fragmentIpv4, MIN_MTU } from '../../wire/fragment.js';
import { parseIPv4 } from '../../wire/ip-address.js';
import { emitIpv4, parseIpv4, writeIpv4Header, type Ipv4Header } from '../../wire/ipv4.js';
import type { Counters } from './counters.js';
import type { IpInterface, IpLayer, IpPacket, Route } from './ip.js';
import { Reassembler } from './reassembly.js';

/** Bytes a transport leaves free at the front of a packet for the IPv4 header (no options). */
export const IPV4_HEADROOM = 20;
const LOOPBACK_MTU = 65535;
/** As Linux's netdev_max_backlog: a sender that never yields to the clock cannot grow the queue without bound. */
const LOOPBACK_QUEUE = 1000;
const NO_OPTIONS = new Uint8Array(0);

export type { IpInterface, Route } from './ip.js';

/** A received IPv4 packet: the seam's packet with the whole IPv4 header. */
export type Ipv4Packet = IpPacket<Ipv4Header>;

interface Attached {
  device: Device;
  address: string;
  addr: number;
  mask: number;
  broadcast: number;
  route: Route;
  /** To our own address: over loopback, from that address, as Linux picks it. */
  selfRoute: Route;
}

const LOOPBACK = 'loopback';
type Egress = Attached | typeof LOOPBACK;

export function addressToNumber(bytes: Uint8Array): number {
  return ((bytes[0]! << 24) | (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!) >>> 0;
}

function isLoopbackNumber(n: number): boolean {
  return n >>> 24 === 127;
}

export class Ipv4Layer implements IpLayer {
  readonly addresses: readonly string[];
  /** Installed by the ICMP layer: a datagram timed out in reassembly; `firstFragment` arrived. */
  onReassemblyTimeout: ((firstFragment: Ipv4Packet) => void) | null = null;
  /** Installed by the ICMP layer: no handler for the packet's protocol. */
  onUnknownProtocol: ((packet: Ipv4Packet) => void) | null = null;

  private readonly clock: Clock;
  private readonly counters: Counters;
  private readonly ttl: number;
  private readonly attached: Attached[];
  private readonly handlers = new Map<number, (packet: Ipv4Packet) => void>();
  private readonly reassembler = new Reassembler();
  private reassemblyTimer: TimerHandle | null = null;
  private loopbackQueue: Uint8Array[] = [];
  private loopbackTimer: TimerHandle | null = null;
  private readonly loopbackRoute: Route = { source: parseIPv4('127.0.0.1')!, sourceAddress: '127.0.0.1', mtu: LOOPBACK_MTU, headerBytes: IPV4_HEADROOM };
  private identification = 0;

  constructor(options: { clock: Clock; interfaces: IpInterface[]; counters: Counters; ttl?: number }) {
    this.clock = options.clock;
    this.counters = options.counters;
    this.ttl = options.ttl ?? 64;
    this.attached = options.interfaces.map((i) => {
      const bytes = parseIPv4(i.address);
      if (!bytes || !Number.isInteger(i.prefixLength) || i.prefixLength < 0 || i.prefixLength > 32) {
        throw new RangeError(`bad interface address ${i.address}/${i.prefixLength}`);
      }
      const addr = addressToNumber(bytes);
      const mask = i.prefixLength === 0 ? 0 : (0xffffffff << (32 - i.prefixLength)) >>> 0;
      const attached: Attached = {
        device: i.device,
        address: i.address,
        addr,
        mask,
        // RFC 3021: a /31 has no broadcast address, nor has a /32.
        broadcast: i.prefixLength >= 31 ? -1 : (addr | ~mask) >>> 0,
        route: { source: bytes, sourceAddress: i.address, mtu: i.device.mtu, headerBytes: IPV4_HEADROOM },
        selfRoute: { source: bytes, sourceAddress: i.address, mtu: LOOPBACK_MTU, headerBytes: IPV4_HEADROOM },
      };
      i.device.receive = (packet) => this.input(packet, true);
      return attached;
    });
    this.addresses = this.attached.map((a) => a.address);
  }

  register(protocol: number, handler: (packet: Ipv4Packet) => void): void {
    this.handlers.set(protocol, handler);
  }

  /** One of our own addresses, or 127/8. */
  isLocal(address: Uint8Array): boolean {
    const n = addressToNumber(address);
    return isLoopbackNumber(n) || this.attached.some((a) => a.addr === n);
  }

  /** The limited broadcast or the directed broadcast of an attached subnet. */
  isBroadcast(address: Uint8Array): boolean {
    const n = addressToNumber(address);
    return n === 0xffffffff || this.attached.some((a) => a.broadcast === n);
  }

  route(dst: Uint8Array): Route | null {
    const n = addressToNumber(dst);
    if (n === 0) return null;
    if (isLoopbackNumber(n)) return this.loopbackRoute;
    const out = this.egress(n);
    if (out === null) return null;
    if (out === LOOPBACK) return this.attached.find((a) => a.addr === n)!.selfRoute;
    return out.route;
  }

  headroom(_dst: Uint8Array): number {
    return IPV4_HEADROOM;
  }

  sendBuilt(protocol: number, src: Uint8Array, dst: Uint8Array, packet: Uint8Array, options: { dontFragment?: boolean } = {}): void {
    const out = this.egress(addressToNumber(dst));
    if (out === null) {
      this.counters.add('ipv4.no-route');
      return;
    }
    const mtu = out === LOOPBACK ? LOOPBACK_MTU : out.device.mtu;
    const dontFragment = options.dontFragment ?? false;
    // A link narrower than RFC 791's minimum cannot carry the fragments either.
    if (packet.length > 0xffff || (packet.length > mtu && (dontFragment || mtu < MIN_MTU))) {
      this.counters.add('ipv4.out-too-big');
      return;
    }
    const header = {
      dscp: 0,
      ecn: 0,
      identification: this.nextIdentification(),
      dontFragment,
      moreFragments: false,
      fragmentOffset: 0,
      ttl: this.ttl,
      protocol,
      src,
      dst,
      options: NO_OPTIONS,
    };
    this.counters.add('ipv4.out');
    if (packet.length <= mtu) {
      writeIpv4Header(packet, header, packet.length - IPV4_HEADROOM);
      this.transmit(out, packet);
      return;
    }
    const fragments = fragmentIpv4(header, packet.subarray(IPV4_HEADROOM), mtu);
    this.counters.add('ipv4.frag-out', fragments.length);
    for (const fragment of fragments) this.transmit(out, fragment);
  }

  send(protocol: number, src: Uint8Array, dst: Uint8Array, payload: Uint8Array): void {
    const packet = new Uint8Array(IPV4_HEADROOM + payload.length);
    packet.set(payload, IPV4_HEADROOM);
    this.sendBuilt(protocol, src, dst, packet);
  }

  /** Own address or 127/8 → loopback; on-link subnet → its interface; else the first interface (the default route). */
  private egress(n: number): Egress | null {
    if (n === 0) return null;
    if (isLoopbackNumber(n)) return LOOPBACK;
    let onLink: Attached | null = null;
    for (const a of this.attached) {
      if (a.addr === n) return LOOPBACK;
      if (onLink === null && ((n ^ a.addr) & a.mask) === 0) onLink = a;
    }
    return onLink ?? this.attached[0] ?? null;
  }

  private nextIdentification(): number {
    this.identification = (this.identification + 1) & 0xffff;
    return this.identification;
  }

  private transmit(out: Egress, packet: Uint8Array): void {
    if (out !== LOOPBACK) {
      out.device.send(packet);
      return;
    }
    if (this.loopbackQueue.length >= LOOPBACK_QUEUE) {
      this.counters.add('ipv4.loopback-full');
      return;
    }
    this.loopbackQueue.push(packet);
    this.loopbackTimer ??= this.clock.setTimer(0, () => this.drainLoopback());
  }

  private drainLoopback(): void {
    this.loopbackTimer = null;
    // Only what was queued before this timer: replies queued while delivering wait for the next one.
    const batch = this.loopbackQueue;
    this.loopbackQueue = [];
    for (const packet of batch) this.input(packet, false);
  }

  private input(packet: Uint8Array, fromDevice: boolean): void {
    this.counters.add('ipv4.in');
    const parsed = parseIpv4(packet);
    if ('drop' in parsed) {
      this.counters.add(`ipv4.${parsed.drop}`);
      return;
    }
    let { header, payload } = parsed;
    const src = addressToNumber(header.src);
    const dst = addressToNumber(header.dst);
    if (fromDevice && this.isMartian(src, dst)) {
      this.counters.add('ipv4.martian');
      return;
    }
    if (!this.accepts(dst)) {
      this.counters.add('ipv4.not-ours');
      return;
    }
    let raw = packet.length === header.totalLength ? packet : packet.subarray(0, header.totalLength);
    if (header.moreFragments || header.fragmentOffset > 0) {
      const now = this.clock.now();
      this.expireReassembly(now);
      const result = this.reassembler.accept(header, payload, now);
      this.armReassemblyTimer();
      if ('drop' in result) {
        this.counters.add(`ipv4.${result.drop}`);
        return;
      }
      if ('pending' in result) return;
      header = result.header;
      payload = result.complete;
      raw = emitIpv4(header, payload);
      this.counters.add('ipv4.reassembled');
    }
    const handler = this.handlers.get(header.protocol);
    if (handler) handler({ header, payload, raw });
    else {
      this.counters.add('ipv4.unknown-protocol');
      this.onUnknownProtocol?.({ header, payload, raw });
    }
  }

  /**
   * 127/8 never appears on a wire (RFC 1122 §3.2.1.3), and no single host sends from a multicast or
   * broadcast address or from one of ours: such a packet is spoofed, and Linux drops it as a martian.
   */
  private isMartian(src: number, dst: number): boolean {
    if (isLoopbackNumber(src) || isLoopbackNumber(dst) || src >>> 28 >= 0xe) return true;
    return this.attached.some((a) => a.addr === src || a.broadcast === src);
  }

  /** Weak host model, as Linux: any of our addresses on any interface, plus broadcasts. */
  private accepts(dst: number): boolean {
    if (dst === 0xffffffff || isLoopbackNumber(dst)) return true;
    return this.attached.some((a) => a.addr === dst || a.broadcast === dst);
  }

  private expireReassembly(now: number): void {
    for (const expired of this.reassembler.expire(now)) {
      this.counters.add('ipv4.reassembly-timeout');
      if (!expired.firstFragment || !this.onReassemblyTimeout) continue;
      const parsed = parseIpv4(expired.firstFragment);
      if ('header' in parsed) this.onReassemblyTimeout({ ...parsed, raw: expired.firstFragment });
    }
  }

  /** One timer, for the earliest deadline, and only while something waits: an idle stack holds no timers. */
  private armReassemblyTimer(): void {
    const deadline = this.reassembler.nextDeadline();
    if (deadline === null) {
      if (this.reassemblyTimer !== null) this.clock.clearTimer(this.reassemblyTimer);
      this.reassemblyTimer = null;
      return;
    }
    // Deadlines only grow as datagrams arrive, so a timer already set is for the earliest one or sooner.
    if (this.reassemblyTimer !== null) return;
    this.reassemblyTimer = this.clock.setTimer(Math.max(0, deadline - this.clock.now()), () => {
      this.reassemblyTimer = null;
      this.expireReassembly(this.clock.now());
      this.armReassemblyTimer();
    });
  }
}
