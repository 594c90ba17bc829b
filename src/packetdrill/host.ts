/**
 * The machine a script runs on: one UserStack at packetdrill's local address
 * (192.168.0.1) whose only interface records every packet the stack sends,
 * with its virtual time; the fake peer at 192.0.2.1 exists only as the
 * packets the runner injects. Time moves on the virtual clock, one timer at
 * a time, with the application's promise callbacks run between steps, so a
 * blocking call returns at the virtual instant its data arrived.
 */
import { VirtualClock } from '../link/clock.js';
import type { Device } from '../link/types.js';
import { SocketLibrary } from '../socket/library.js';
import { UserStack } from '../stack/user/stack.js';
import type { TcpConfig } from '../stack/user/tcp/config.js';
import type { Tcb } from '../stack/user/tcp/tcb.js';
import { parseIPv4 } from '../wire/ip-address.js';
import { decodeOutbound, type Sent } from './packet.js';
import { Syscalls } from './syscalls.js';

export const LOCAL_ADDRESS = '192.168.0.1';
export const REMOTE_ADDRESS = '192.0.2.1';
/** packetdrill's --bind_port and --connect_port. */
export const BIND_PORT = 8080;
export const CONNECT_PORT = 8080;
/** The fake peer's port when it is the client. */
export const REMOTE_PORT = 48_000;
/** Clock steps one script may take: a stack that re-arms a timer forever cannot hang the runner. */
const MAX_STEPS = 2_000_000;

export class RunnerError extends Error {
  override readonly name = 'RunnerError';
}

class CaptureDevice implements Device {
  readonly mtu = 1500;
  receive: ((packet: Uint8Array) => void) | null = null;
  constructor(private readonly sink: (packet: Uint8Array) => void) {}
  send(packet: Uint8Array): void {
    this.sink(packet);
  }
}

export class Host {
  readonly clock = new VirtualClock();
  readonly stack: UserStack;
  readonly lib: SocketLibrary;
  readonly syscalls: Syscalls;
  readonly localIp = parseIPv4(LOCAL_ADDRESS)!;
  readonly remoteIp = parseIPv4(REMOTE_ADDRESS)!;
  /** Sent TCP segments not yet matched by a `>` line, oldest first. */
  readonly queue: Sent[] = [];
  /** Called for every segment sent, as it leaves (for the mapping and -v). */
  onSent: ((s: Sent) => void) | null = null;
  /** Called after every clock step, with promise callbacks run: the runner checks blocking calls here. */
  onStep: (() => void) | null = null;
  /** The next instant (µs) the runner must look, though no timer is due then: a blocking call's deadline. */
  nextCheck: (() => number) | null = null;
  /** The connection under test's ports, once a SYN went either way. */
  connection: { localPort: number; remotePort: number } | null = null;
  private steps = 0;
  private lastTcb: Tcb | null = null;
  private readonly device: CaptureDevice;

  constructor(tcp: Partial<TcpConfig>, recvBufferSize: number, sendBufferSize: number, seed: number, ports: { bind: number; connect: number }) {
    const device = new CaptureDevice((packet) => this.capture(packet));
    this.device = device;
    this.stack = new UserStack({ clock: this.clock, interfaces: [{ device, address: LOCAL_ADDRESS, prefixLength: 16 }], seed, tcp, name: 'packetdrill' });
    this.lib = new SocketLibrary(this.stack, { label: 'script', defaults: Syscalls.socketDefaults(recvBufferSize, sendBufferSize) });
    this.syscalls = new Syscalls({
      lib: this.lib,
      remoteAddress: REMOTE_ADDRESS,
      remotePort: ports.connect,
      localPort: ports.bind,
      tcb: () => this.tcb(),
      flush: () => flush(),
    });
  }

  private capture(packet: Uint8Array): void {
    const out = decodeOutbound(packet, this.clock.now());
    if (!out || !sameIp(out.dst, this.remoteIp)) return;
    this.queue.push(out.sent);
    this.onSent?.(out.sent);
  }

  /** Hands an IPv4 packet to the stack as if the fake peer sent it, then lets the application react. */
  async inject(packet: Uint8Array): Promise<void> {
    this.device.receive?.(packet);
    await this.settle();
  }

  /** Virtual time in whole microseconds. */
  usecs(): number {
    return Math.round(this.clock.now() * 1000);
  }

  /** Runs promise callbacks, then the step hook. */
  async settle(): Promise<void> {
    await flush();
    this.onStep?.();
  }

  /**
   * Moves virtual time to `target` µs, firing timers one instant at a time;
   * stops early (returning true) once `until()` holds after a step.
   */
  async advanceTo(target: number, until: () => boolean = () => false): Promise<boolean> {
    for (;;) {
      if (until()) return true;
      if (++this.steps > MAX_STEPS) throw new RunnerError(`more than ${MAX_STEPS} clock steps`);
      const next = this.clock.nextTime();
      const now = this.clock.now();
      const check = this.nextCheck?.() ?? Infinity;
      if (check <= target && check > now * 1000 && (next === null || check < next * 1000)) {
        this.clock.advance(check / 1000 - now);
      } else if (next !== null && next * 1000 <= target) {
        this.clock.advance(Math.max(0, next - now));
      } else {
        if (target / 1000 > now) this.clock.advance(target / 1000 - now);
        await this.settle();
        return until();
      }
      await this.settle();
    }
  }

  /** The connection under test: the stack's connection to the fake peer (the last one seen, once it is gone). */
  tcb(): Tcb | null {
    for (const t of this.stack.tcp.connections.values()) {
      if (t.remote.address === REMOTE_ADDRESS) this.lastTcb = t;
    }
    return this.lastTcb;
  }
}

function sameIp(a: Uint8Array, b: Uint8Array): boolean {
  return a[0] === b[0] && a[1] === b[1] && a[2] === b[2] && a[3] === b[3];
}

/** Lets every pending promise callback run (they settle in microtasks, before the next macrotask). */
export function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
