/**
 * A simulated network in one object: a virtual clock and a seeded random
 * source shared by every link made from it, so one seed replays the run.
 *
 *   const net = new Network({ seed: 1 });
 *   const lan = net.link({ latencyMs: 5 });
 *   const dev = lan.attach('10.0.0.1');
 */
import { VirtualClock } from './clock.js';
import { Random } from './random.js';
import { SimulatedLink } from './simulated-link.js';
import type { LinkParams } from './types.js';

export class Network {
  readonly clock = new VirtualClock();
  readonly random: Random;

  constructor(options: { seed: number }) {
    this.random = new Random(options.seed);
  }

  /** A link whose faults and taps are decorators around each attached device (see simulated-link.ts). */
  link(params: Partial<LinkParams> = {}): SimulatedLink {
    return new SimulatedLink(this.clock, this.random, params);
  }
}
