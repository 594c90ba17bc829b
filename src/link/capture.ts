/**
 * Capture as a decorator: a Device that wraps any Device and shows every
 * packet crossing it to a sink (a PcapWriter), stamped with the clock's
 * time, like tcpdump on an interface. The sink sees the packet before the
 * wrapped device does anything with it, so a capture outside a FaultyDevice
 * records what the stack sent, not what the faults made of it.
 */
import type { Clock, Device, PacketSink } from './types.js';

/** Which packets the capture records: those the stack sends, those it receives, or both. */
export type CaptureDirection = 'send' | 'receive' | 'both';

export class PcapDevice implements Device {
  receive: ((packet: Uint8Array) => void) | null = null;

  constructor(
    readonly inner: Device,
    private readonly clock: Clock,
    private readonly sink: PacketSink,
    private readonly direction: CaptureDirection = 'both',
  ) {
    inner.receive =
      direction === 'send'
        ? (packet) => this.receive?.(packet)
        : (packet) => {
            this.sink.packet(this.clock.now(), packet);
            this.receive?.(packet);
          };
  }

  get mtu(): number {
    return this.inner.mtu;
  }

  send(packet: Uint8Array): void {
    if (this.direction !== 'receive') this.sink.packet(this.clock.now(), packet);
    this.inner.send(packet);
  }
}
