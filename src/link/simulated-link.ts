/**
 * A link of the simulated network, put together from parts: the medium
 * (Link: latency, bandwidth, queue, MTU) and, around each attached device,
 * the same decorators a real device would wear. A sender's packet goes
 *
 *   stack → PcapDevice (the link's taps) → FaultyDevice (the link's faults) → medium → receiving stack
 *
 * so a tap sees every packet as it is sent, before any fault, and the faults
 * are drawn at send time in send order. One FaultParams object and one
 * FaultStats object are shared by every device on the link, so setParams and
 * stats speak for the whole link.
 */
import { PcapDevice } from './capture.js';
import { emptyFaultStats, FaultyDevice, type FaultStats } from './faults.js';
import { Link, type LinkDevice } from './link.js';
import { DEFAULT_LINK, type Clock, type Device, type FaultParams, type LinkParams, type MediumParams, type PacketSink, type RandomSource } from './types.js';

export interface LinkStats {
  /** Packets put on the link by senders (all of them, before any drop). */
  sent: number;
  /** Copies handed to a receiving device (duplicates count twice). */
  delivered: number;
  lost: number;
  duplicated: number;
  reordered: number;
  /** Copies with a bit flipped on the way (the receiver's checksum drops them). */
  corrupted: number;
  /** Larger than the MTU. */
  tooBig: number;
  /** Dropped by a full transmit queue. */
  queueDrops: number;
  /** Too short to hold an IPv4 destination, or addressed to no attached device. */
  noRoute: number;
  /** Sent by, or arriving at, a device that is down or detached. */
  down: number;
}

/** A host's interface on a simulated link. `up = false` makes it vanish: what it sends and what is sent to it disappears. */
export class SimulatedPort implements Device {
  constructor(
    /** The device on the bare medium. */
    readonly wire: LinkDevice,
    private readonly outer: Device,
  ) {}

  get mtu(): number {
    return this.outer.mtu;
  }

  get receive(): ((packet: Uint8Array) => void) | null {
    return this.outer.receive;
  }

  set receive(fn: ((packet: Uint8Array) => void) | null) {
    this.outer.receive = fn;
  }

  get up(): boolean {
    return this.wire.up;
  }

  set up(up: boolean) {
    this.wire.up = up;
  }

  get address(): string {
    return this.wire.address;
  }

  send(packet: Uint8Array): void {
    this.outer.send(packet);
  }
}

export class SimulatedLink {
  readonly medium: Link;
  private readonly faults: FaultParams;
  private readonly faultStats: FaultStats = emptyFaultStats();
  private readonly taps: PacketSink[] = [];
  /** Fans a packet out to every tap; one object shared by every port's PcapDevice. */
  private readonly tap: PacketSink = {
    packet: (timeMs, bytes) => {
      for (const sink of this.taps) sink.packet(timeMs, bytes);
    },
  };

  constructor(
    readonly clock: Clock,
    readonly random: RandomSource,
    params: Partial<LinkParams> = {},
  ) {
    const p = { ...DEFAULT_LINK, ...params };
    this.medium = new Link(clock, medium(p));
    this.faults = { loss: p.loss, duplicate: p.duplicate, reorder: p.reorder, reorderMs: p.reorderMs, corrupt: p.corrupt, delayMs: 0 };
  }

  get params(): LinkParams {
    const { delayMs: _, ...faults } = this.faults;
    return { ...this.medium.params, ...faults };
  }

  /** Adds a device that owns `address` (dotted IPv4). */
  attach(address: string): SimulatedPort {
    const wire = this.medium.attach(address);
    const faulty = new FaultyDevice(wire, { clock: this.clock, random: this.random, params: this.faults, direction: 'send', stats: this.faultStats });
    return new SimulatedPort(wire, new PcapDevice(faulty, this.clock, this.tap, 'send'));
  }

  /** Removes a device; packets in flight to it and later ones to its address disappear. */
  detach(device: Device): void {
    this.medium.detach(device instanceof SimulatedPort ? device.wire : device);
  }

  /** Changes faults, delay or bandwidth from now on; packets already in flight keep their times. */
  setParams(params: Partial<LinkParams>): void {
    this.medium.setParams(medium({ ...this.medium.params, ...params }));
    for (const key of ['loss', 'duplicate', 'reorder', 'reorderMs', 'corrupt'] as const) if (params[key] !== undefined) this.faults[key] = params[key];
  }

  /** Adds a tap that sees every packet as a sender puts it on the link, with the clock's time. */
  capture(sink: PacketSink): void {
    this.taps.push(sink);
  }

  get stats(): LinkStats {
    const m = this.medium.stats;
    const f = this.faultStats;
    return {
      sent: f.seen,
      delivered: m.delivered,
      lost: f.lost,
      duplicated: f.duplicated,
      reordered: f.reordered,
      corrupted: f.corrupted,
      tooBig: m.tooBig,
      queueDrops: m.queueDrops,
      noRoute: m.noRoute,
      down: m.down,
    };
  }
}

function medium(p: MediumParams): MediumParams {
  return { latencyMs: p.latencyMs, bandwidthBps: p.bandwidthBps, mtu: p.mtu, queueBytes: p.queueBytes };
}
