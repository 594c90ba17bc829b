/**
 * No congestion control: the window is unbounded, so only the peer's receive
 * window limits the flight. For experiments and for comparing with stacks
 * that ship without one (smoltcp's default); never on a shared network.
 */
import { INFINITE_SSTHRESH, MAX_WINDOW, type CongestionController } from './controller.js';

export class NoCongestionControl implements CongestionController {
  readonly cwnd = MAX_WINDOW;
  readonly ssthresh = INFINITE_SSTHRESH;
  start(): void {}
  setMss(): void {}
  preTransmit(): void {}
  onSend(): void {}
  onAck(): void {}
  onLoss(): void {}
  onRecoveryAck(): void {}
  onRecoveryEnd(): void {}
  onRto(): void {}
}
