/**
 * Faults as a decorator, as smoltcp's phy::FaultInjector: a Device that
 * wraps any Device (a simulated link's, a TUN interface) and loses,
 * duplicates, reorders, delays or corrupts the packets passing through it.
 * It takes a Clock and a RandomSource, so the same code runs on virtual time
 * with a seeded source or on the wall clock.
 *
 * Draws happen in a fixed order per packet (loss, duplicate, then per copy
 * reorder and corrupt), and only for the faults whose probability is above
 * zero, so a run with a fault switched off draws nothing for it.
 */
import { DEFAULT_FAULTS, type Clock, type Device, type FaultParams, type RandomSource } from './types.js';

export interface FaultStats {
  /** Packets that entered the fault stage. */
  seen: number;
  lost: number;
  duplicated: number;
  reordered: number;
  /** Copies that had one bit flipped. */
  corrupted: number;
}

/** Which packets the faults apply to: those the stack sends, those it receives, or both. */
export type FaultDirection = 'send' | 'receive' | 'both';

export interface FaultyDeviceOptions {
  clock: Clock;
  random: RandomSource;
  /** The faults; the object is read per packet, so changing its fields changes faults from now on. */
  params?: Partial<FaultParams>;
  /** Default 'both'. */
  direction?: FaultDirection;
  /** Counters to add to; several devices may share one (a network counts its link's faults once). */
  stats?: FaultStats;
}

export function emptyFaultStats(): FaultStats {
  return { seen: 0, lost: 0, duplicated: 0, reordered: 0, corrupted: 0 };
}

export class FaultyDevice implements Device {
  receive: ((packet: Uint8Array) => void) | null = null;
  readonly params: FaultParams;
  readonly stats: FaultStats;
  private readonly clock: Clock;
  private readonly random: RandomSource;
  private readonly onSend: boolean;
  private readonly onReceive: boolean;

  constructor(
    readonly inner: Device,
    options: FaultyDeviceOptions,
  ) {
    this.clock = options.clock;
    this.random = options.random;
    // Filled in place, not copied, when the caller passes a whole FaultParams: a network shares one object with all its devices.
    this.params = isComplete(options.params) ? options.params : { ...DEFAULT_FAULTS, ...options.params };
    this.stats = options.stats ?? emptyFaultStats();
    const direction = options.direction ?? 'both';
    this.onSend = direction !== 'receive';
    this.onReceive = direction !== 'send';
    inner.receive = this.onReceive ? (packet) => this.apply(packet, this.up) : (packet) => this.receive?.(packet);
  }

  get mtu(): number {
    return this.inner.mtu;
  }

  send(packet: Uint8Array): void {
    if (this.onSend) this.apply(packet, this.down);
    else this.inner.send(packet);
  }

  private readonly down = (packet: Uint8Array): void => this.inner.send(packet);
  private readonly up = (packet: Uint8Array): void => this.receive?.(packet);

  private apply(packet: Uint8Array, pass: (packet: Uint8Array) => void): void {
    const p = this.params;
    const stats = this.stats;
    const random = this.random;
    stats.seen++;
    if (p.loss > 0 && random.float() < p.loss) {
      stats.lost++;
      return;
    }
    const copies = p.duplicate > 0 && random.float() < p.duplicate ? 2 : 1;
    if (copies === 2) stats.duplicated++;
    for (let i = 0; i < copies; i++) {
      let extra = p.delayMs;
      if (p.reorder > 0 && p.reorderMs > 0 && random.float() < p.reorder) {
        // Uniform in (0, reorderMs]: float() is in [0, 1).
        extra += p.reorderMs * (1 - random.float());
        stats.reordered++;
      }
      // The second copy gets its own bytes, so a receiver that rewrites one in place cannot touch the other.
      let bytes = i === 0 ? packet : packet.slice();
      if (p.corrupt > 0 && bytes.length > 0 && random.float() < p.corrupt) {
        // A copy: the sender's bytes may still be referenced (a capture, a retransmission queue).
        bytes = bytes.slice();
        const bit = random.uint32() % (bytes.length * 8);
        bytes[bit >>> 3]! ^= 1 << (bit & 7);
        stats.corrupted++;
      }
      if (extra > 0) this.clock.setTimer(extra, () => pass(bytes));
      else pass(bytes);
    }
  }
}

function isComplete(params: Partial<FaultParams> | undefined): params is FaultParams {
  if (params === undefined) return false;
  for (const key of Object.keys(DEFAULT_FAULTS) as Array<keyof FaultParams>) if (typeof params[key] !== 'number') return false;
  return true;
}
