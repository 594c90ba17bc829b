/**
 * A simulated shared medium: one segment joining any number of hosts, with
 * no link-layer header. A packet goes to the device that owns its IPv4
 * destination. Each direction between two devices has its own transmitter
 * (serialisation at the link's bandwidth, drop-tail queue), then propagation
 * delay. Faults and capture are not here: they are decorators around the
 * devices (faults.ts, capture.ts), which SimulatedLink puts together. Every
 * delivery is a clock timer, never a call inside send, so the stack is never
 * re-entered.
 */
import { DEFAULT_MEDIUM, type Clock, type Device, type MediumParams } from './types.js';

export interface MediumStats {
  /** Packets put on the medium by senders (all of them, before any drop). */
  sent: number;
  /** Packets handed to a receiving device. */
  delivered: number;
  /** Larger than the MTU. */
  tooBig: number;
  /** Dropped by a full transmit queue. */
  queueDrops: number;
  /** Too short to hold an IPv4 destination, or addressed to no attached device. */
  noRoute: number;
  /** Sent by, or arriving at, a device that is down or detached. */
  down: number;
}

/** One device on a link. `up = false` makes it vanish: what it sends and what is sent to it disappears. */
export class LinkDevice implements Device {
  receive: ((packet: Uint8Array) => void) | null = null;
  up = true;
  attached = true;
  /** Per receiver: when this device's transmitter towards it is next free (virtual ms). */
  readonly freeAt = new Map<LinkDevice, number>();

  constructor(
    readonly link: Link,
    readonly address: string,
    readonly key: number,
  ) {}

  get mtu(): number {
    return this.link.params.mtu;
  }

  send(packet: Uint8Array): void {
    this.link.transmit(this, packet);
  }
}

export class Link {
  params: MediumParams;
  readonly stats: MediumStats = { sent: 0, delivered: 0, tooBig: 0, queueDrops: 0, noRoute: 0, down: 0 };
  private readonly devices = new Map<number, LinkDevice>();

  constructor(
    readonly clock: Clock,
    params: Partial<MediumParams> = {},
  ) {
    this.params = { ...DEFAULT_MEDIUM, ...params };
  }

  /** Adds a device that owns `address` (dotted IPv4). */
  attach(address: string): LinkDevice {
    const key = addressKey(address);
    if (this.devices.has(key)) throw new Error(`Link.attach(${address}): address already attached`);
    const device = new LinkDevice(this, address, key);
    this.devices.set(key, device);
    return device;
  }

  /** Removes a device; packets in flight to it and later ones to its address disappear. */
  detach(device: Device): void {
    if (!(device instanceof LinkDevice) || device.link !== this || !device.attached) return;
    device.attached = false;
    this.devices.delete(device.key);
  }

  /** Changes delay, bandwidth, queue or MTU from now on; packets already in flight keep their times. */
  setParams(params: Partial<MediumParams>): void {
    this.params = { ...this.params, ...params };
  }

  /** Called by LinkDevice.send. */
  transmit(from: LinkDevice, packet: Uint8Array): void {
    const now = this.clock.now();
    const stats = this.stats;
    const p = this.params;
    stats.sent++;
    if (!from.up || !from.attached) {
      stats.down++;
      return;
    }
    if (packet.length > p.mtu) {
      stats.tooBig++;
      return;
    }
    const to = packet.length >= 20 ? this.devices.get(((packet[16]! << 24) | (packet[17]! << 16) | (packet[18]! << 8) | packet[19]!) >>> 0) : undefined;
    if (to === undefined) {
      stats.noRoute++;
      return;
    }
    let delay = p.latencyMs;
    if (p.bandwidthBps > 0) {
      const bytesPerMs = p.bandwidthBps / 8000;
      const start = Math.max(now, from.freeAt.get(to) ?? 0);
      // What is still waiting to be serialised, counting the packet on the wire.
      const backlog = (start - now) * bytesPerMs;
      if (backlog + packet.length > p.queueBytes) {
        stats.queueDrops++;
        return;
      }
      const done = start + packet.length / bytesPerMs;
      from.freeAt.set(to, done);
      delay += done - now;
    }
    this.clock.setTimer(delay, () => this.deliver(to, packet));
  }

  private deliver(to: LinkDevice, packet: Uint8Array): void {
    if (!to.up || !to.attached) {
      this.stats.down++;
      return;
    }
    this.stats.delivered++;
    to.receive?.(packet);
  }
}

/** Dotted IPv4 → the unsigned 32-bit number that bytes 16..20 of a packet spell. */
function addressKey(address: string): number {
  const parts = address.split('.');
  if (parts.length !== 4 || parts.some((part) => !/^(0|[1-9]\d{0,2})$/.test(part) || Number(part) > 255))
    throw new Error(`Link.attach(${address}): not a dotted IPv4 address`);
  return parts.reduce((key, part) => key * 256 + Number(part), 0);
}
