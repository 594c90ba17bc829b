/**
 * protostack's own protocol stack: IPv4, ICMP, UDP and TCP in TypeScript,
 * behind the same ProtocolStack seam as the kernel's, so the socket library
 * and everything above it run on it unchanged. It owns no I/O: packets come
 * and go through the devices it is given, and time is the clock it is given
 * (a simulated network's virtual clock, or the wall).
 */
import { stackError, type SocketError } from '../errors.js';
import type { Clock, RandomSource } from '../../link/types.js';
import { PacketTap, type PacketTapOptions } from '../../link/packet-tap.js';
import { CryptoRandom, Random } from '../../link/random.js';
import type {
  ConnectOptions,
  DatagramEndpoint,
  DatagramOptions,
  Endpoint,
  ProtocolStack,
  StreamBinding,
  StreamConnection,
  TimerHandle,
} from '../types.js';
import { Counters } from './counters.js';
import { IcmpLayer } from './icmp.js';
import { Ipv4Layer, type IpInterface } from './ipv4.js';
import { DEFAULT_TCP, type TcpConfig } from './tcp/config.js';
import { TcpLayer } from './tcp/layer.js';
import { UdpLayer } from './udp.js';

export interface UserStackOptions {
  clock: Clock;
  interfaces: IpInterface[];
  /** Seeds ports, ISN secrets and timestamp offsets, so a simulation replays exactly; without one (and without `random`) they come from the platform's CSPRNG. */
  seed?: number;
  random?: RandomSource;
  tcp?: Partial<TcpConfig>;
  /** A name for traces; "user" by default. */
  name?: string;
  /** Record a PacketEvent for every packet through each interface (a PacketTap on its device); none by default, at no cost. */
  packets?: Omit<PacketTapOptions, 'clock' | 'stack'>;
}

export class UserStack implements ProtocolStack {
  readonly name: string;
  readonly clock: Clock;
  readonly counters = new Counters();
  readonly ip: Ipv4Layer;
  readonly icmp: IcmpLayer;
  readonly udp: UdpLayer;
  readonly tcp: TcpLayer;

  constructor(options: UserStackOptions) {
    this.name = options.name ?? 'user';
    this.clock = options.clock;
    const random = options.random ?? (options.seed !== undefined ? new Random(options.seed) : new CryptoRandom());
    const tap = options.packets;
    const interfaces = tap ? options.interfaces.map((i) => ({ ...i, device: new PacketTap(i.device, { ...tap, clock: this.clock, stack: this.name }) })) : options.interfaces;
    this.ip = new Ipv4Layer({ clock: this.clock, interfaces, counters: this.counters });
    this.icmp = new IcmpLayer(this.ip, this.clock, this.counters);
    this.udp = new UdpLayer(this.ip, this.icmp, this.counters, random);
    this.tcp = new TcpLayer(this.ip, this.clock, this.counters, random, { ...DEFAULT_TCP, ...options.tcp }, this.icmp);
  }

  /** The host's first address. */
  get address(): string {
    return this.ip.addresses[0] ?? '127.0.0.1';
  }

  now(): number {
    return this.clock.now();
  }

  setTimer(ms: number, fire: () => void): TimerHandle {
    return this.clock.setTimer(ms, fire);
  }

  clearTimer(handle: TimerHandle): void {
    this.clock.clearTimer(handle);
  }

  bindStream(local: Endpoint): Promise<StreamBinding> {
    return attempt(() => this.tcp.bind(local));
  }

  connect(remote: Endpoint, options: ConnectOptions): Promise<StreamConnection> {
    return this.tcp.connect(remote, options);
  }

  bindDatagram(local: Endpoint, options: DatagramOptions): Promise<DatagramEndpoint> {
    return attempt(() => this.udp.bind(local, options));
  }

  /** ICMP echo: the round-trip time in ms on the stack's clock. */
  ping(address: string, timeoutMs = 1000, data: Uint8Array = new Uint8Array(56)): Promise<number> {
    return this.icmp.ping(address, data, timeoutMs);
  }
}

/** Synchronous stack calls answer through a promise, as the seam expects. */
function attempt<T>(call: () => T): Promise<T> {
  try {
    return Promise.resolve(call());
  } catch (err) {
    return Promise.reject(err instanceof Error ? err : stackError('EIO', String(err as SocketError)));
  }
}
