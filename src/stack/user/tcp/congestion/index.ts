/**
 * Picks the congestion controller TcpConfig's `congestionControl` names.
 * A new algorithm is a file in this folder and a line here (and a name in
 * config.ts's union).
 */
import type { TcpConfig } from '../config.js';
import type { CongestionController } from './controller.js';
import { Cubic } from './cubic.js';
import { NewReno } from './newreno.js';
import { NoCongestionControl } from './none.js';

export type { CongestionController } from './controller.js';
export { INFINITE_SSTHRESH, MAX_WINDOW } from './controller.js';

/** Keeps no state, so every connection shares one. */
const NONE = new NoCongestionControl();

/** One per connection (the window is per path), except the stateless 'none'. */
export function createController(config: TcpConfig): CongestionController {
  switch (config.congestionControl) {
    case 'none':
      return NONE;
    case 'cubic':
      return new Cubic(config.initialWindow);
    case 'newreno':
      return new NewReno(config.initialWindow);
  }
}
