/**
 * The contracts between the user-space stack and whatever carries its
 * packets: a clock that tells the time and runs timers, and a device that
 * moves raw IP packets. The simulated network implements both; a TUN
 * device implements Device over the WallClock. Faults and capture are
 * decorators: Devices that wrap any Device (faults.ts, capture.ts).
 */

export type TimerHandle = unknown;

/** Time passed in, never read from the wall inside the stack (smoltcp's rule): that is what makes runs replayable. */
export interface Clock {
  /** Milliseconds since the clock's epoch (may be fractional). */
  now(): number;
  /** Calls `fire` once, `ms` from now. A timer never keeps the process alive by itself. */
  setTimer(ms: number, fire: () => void): TimerHandle;
  clearTimer(handle: TimerHandle): void;
}

/** One network interface as the stack sees it: raw IPv4 packets in and out, no link-layer header. */
export interface Device {
  /** Largest IPv4 packet the link carries, in bytes. */
  readonly mtu: number;
  /** Puts one IPv4 packet on the link. The link owns the bytes from now on; the caller must not change them. */
  send(packet: Uint8Array): void;
  /** Set by the stack: called for every packet the link delivers to this device. */
  receive: ((packet: Uint8Array) => void) | null;
}

/** The medium itself: what the simulated Link models (faults are decorators, see faults.ts). */
export interface MediumParams {
  /** One-way propagation delay, ms. */
  latencyMs: number;
  /** Bits per second per direction; 0 means unlimited (no serialisation delay). */
  bandwidthBps: number;
  /** Largest packet the link carries; larger packets are dropped (and counted). */
  mtu: number;
  /** Bytes a direction may queue while waiting for bandwidth; beyond that packets are dropped (drop-tail). */
  queueBytes: number;
}

/** What goes wrong with packets. Every probability is per packet and drawn from a seeded random source. */
export interface FaultParams {
  /** Probability a packet is lost. */
  loss: number;
  /** Probability a packet is delivered twice. */
  duplicate: number;
  /** Probability a packet is held back by up to reorderMs extra, so later packets overtake it. */
  reorder: number;
  reorderMs: number;
  /** Probability one bit of a packet is flipped, so the receiver's checksum check drops it. */
  corrupt: number;
  /** Fixed extra delay for every packet, ms (for a real device; a simulated link has latencyMs). */
  delayMs: number;
}

/** How a simulated link treats packets: the medium's shape plus the faults a network wraps around each device. */
export interface LinkParams extends MediumParams, Omit<FaultParams, 'delayMs'> {}

export const DEFAULT_MEDIUM: MediumParams = { latencyMs: 0, bandwidthBps: 0, mtu: 1500, queueBytes: 1 << 20 };

export const DEFAULT_FAULTS: FaultParams = { loss: 0, duplicate: 0, reorder: 0, reorderMs: 0, corrupt: 0, delayMs: 0 };

export const DEFAULT_LINK: LinkParams = {
  latencyMs: 0,
  bandwidthBps: 0,
  mtu: 1500,
  loss: 0,
  duplicate: 0,
  reorder: 0,
  reorderMs: 0,
  corrupt: 0,
  queueBytes: 1 << 20,
};

/** Something that records packets, like tcpdump on an interface. */
export interface PacketSink {
  packet(timeMs: number, bytes: Uint8Array): void;
}

/** A seeded source of randomness: the same seed gives the same run. */
export interface RandomSource {
  /** A uniformly distributed unsigned 32-bit integer. */
  uint32(): number;
  /** A uniformly distributed number in [0, 1). */
  float(): number;
}
