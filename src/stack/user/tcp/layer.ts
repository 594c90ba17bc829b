/**
 * TCP for one host: the table of connections, the listeners, port
 * allocation, and the segments no connection owns (RFC 9293 §3.10.7.1: a
 * reset for anything arriving at a closed port).
 */
import { stackError } from '../../errors.js';
import { addressKey, formatIPv4, parseIPv4 } from '../../../wire/ip-address.js';
import { PROTOCOL } from '../../../wire/ipv4.js';
import { ACK, emitTcp, FIN, parseTcp, RST, SYN, type TcpOptions, type TcpSegment } from '../../../wire/tcp.js';
import type { Clock, RandomSource } from '../../../link/types.js';
import type { ConnectOptions, Endpoint, StreamBinding, StreamConnection, StreamOptions } from '../../types.js';
import type { Counters } from '../counters.js';
import type { IcmpLayer } from '../icmp.js';
import type { IpLayer, IpPacket } from '../ip.js';
import type { TcpConfig } from './config.js';
import { accept, acceptCookie, open } from './handshake.js';
import type { TcpHost } from './host.js';
import { makeIsn } from './isn.js';
import { UserBinding, type UserListener } from './listener.js';
import { windowShift } from './options.js';
import { add } from './seq.js';
import { cookieOptions, cookieTimestamp, flowOf, SynCookies } from './syncookie.js';
import { STATE_NAMES } from './state.js';
import { Tcb } from './tcb.js';

/** Linux's ip_local_port_range. */
const EPHEMERAL_LOW = 32768;
const EPHEMERAL_HIGH = 60999;
const EMPTY = new Uint8Array(0);

export type SegmentTap = (direction: 'in' | 'out', tcb: Tcb | null, seg: TcpSegment) => void;

/** Each connection's host (host.ts): what a TCB may ask of the layer. */
export class TcpLayer implements TcpHost<Tcb> {
  readonly connections = new Map<string, Tcb>();
  /** Bound ports: every binding and listener, by port. */
  private readonly bound = new Map<number, Set<UserBinding>>();
  private readonly secret: Uint8Array;
  /** SYN cookies' keys (RFC 4987 §3.6), for every listener of this host. */
  readonly cookies: SynCookies;
  private challengeWindow = -1;
  private challengeCount = 0;
  /** Sees every segment in and out (for traces); null when nobody listens. */
  tap: SegmentTap | null = null;

  constructor(
    readonly ip: IpLayer,
    readonly clock: Clock,
    readonly counters: Counters,
    readonly random: RandomSource,
    readonly config: TcpConfig,
    icmp: IcmpLayer,
  ) {
    // HalfSipHash's 64-bit key (isn.ts).
    const secret = new Uint8Array(8);
    for (let i = 0; i < 8; i += 4) new DataView(secret.buffer).setUint32(i, random.uint32());
    this.secret = secret;
    this.cookies = new SynCookies(random);
    ip.register(PROTOCOL.TCP, (p) => this.input(p));
    icmp.onError(PROTOCOL.TCP, (e) => {
      const t = this.connections.get(this.keyOf(parseIPv4(e.local.address)!, e.local.port, parseIPv4(e.remote.address)!, e.remote.port));
      if (t) t.icmpError(e.kind === 'unreachable' ? e.code : -1, e.mtu);
    });
  }

  keyOf(localIp: Uint8Array, localPort: number, remoteIp: Uint8Array, remotePort: number): string {
    return `${addressKey(localIp)}:${localPort}>${addressKey(remoteIp)}:${remotePort}`;
  }

  // ---- the socket library's calls ----

  bind(local: Endpoint): StreamBinding {
    const ip = parseIPv4(local.address);
    if (!ip) throw stackError('EAFNOSUPPORT', 'the user-space stack speaks IPv4 only');
    if (u32(ip) !== 0 && !this.ip.isLocal(ip)) throw stackError('EADDRNOTAVAIL', `${local.address} is not an address of this host`);
    let port = local.port;
    if (port === 0) port = this.pickPort((p) => !this.bound.has(p));
    else if (this.conflicts(ip, port)) throw stackError('EADDRINUSE', `${local.address}:${port}`);
    const binding = new UserBinding(this, { address: local.address, port }, ip);
    let set = this.bound.get(port);
    if (!set) this.bound.set(port, (set = new Set()));
    set.add(binding);
    return binding;
  }

  unbind(binding: UserBinding): void {
    const set = this.bound.get(binding.local.port);
    set?.delete(binding);
    if (set?.size === 0) this.bound.delete(binding.local.port);
  }

  connect(remote: Endpoint, options: ConnectOptions, from?: { ip: Uint8Array; port: number }): Promise<StreamConnection> {
    const remoteIp = parseIPv4(remote.address);
    if (!remoteIp) return Promise.reject(stackError('EAFNOSUPPORT', 'the user-space stack speaks IPv4 only'));
    if (remote.port === 0 || u32(remoteIp) === 0) return Promise.reject(stackError('EINVAL', 'no such peer address'));
    if (options.signal?.aborted) return Promise.reject(stackError('ECANCELED'));
    const route = this.ip.route(remoteIp);
    if (!route) return Promise.reject(stackError('ENETUNREACH'));
    const localIp = from && u32(from.ip) !== 0 ? from.ip : route.source;
    const port =
      from?.port || this.pickPort((p) => !this.bound.has(p) && !this.connections.has(this.keyOf(localIp, p, remoteIp, remote.port)));
    const key = this.keyOf(localIp, port, remoteIp, remote.port);
    if (this.connections.has(key)) return Promise.reject(stackError('EADDRINUSE', 'that connection exists'));
    const t = this.create({ address: formatIPv4(localIp), port }, remote, localIp, remoteIp, options);
    return new Promise((resolve, reject) => {
      const signal = options.signal;
      const onAbort = () => t.fail(stackError('ECANCELED'));
      signal?.addEventListener('abort', onAbort, { once: true });
      t.opening = {
        resolve: (c) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(c);
        },
        reject: (e) => {
          signal?.removeEventListener('abort', onAbort);
          reject(e);
        },
      };
      open(t);
    });
  }

  // ---- for connections ----

  create(local: Endpoint, remote: Endpoint, localIp: Uint8Array, remoteIp: Uint8Array, options: StreamOptions): Tcb {
    const t = new Tcb(this, this.keyOf(localIp, local.port, remoteIp, remote.port), local, remote, localIp, remoteIp, options);
    const now = this.clock.now();
    t.iss = makeIsn(this.secret, now, localIp, local.port, remoteIp, remote.port);
    t.sndUna = t.sndNxt = t.sndMax = t.sndSml = t.iss;
    t.tsOffset = this.random.uint32();
    t.lastHeard = now;
    this.connections.set(t.key, t);
    return t;
  }

  release(t: Tcb): void {
    if (this.connections.get(t.key) === t) this.connections.delete(t.key);
    t.released();
  }

  emit(t: Tcb, seg: TcpSegment): void {
    this.tap?.('out', t, seg);
    this.counters.add('tcp.out');
    this.ip.sendBuilt(PROTOCOL.TCP, t.localIp, t.remoteIp, emitTcp(seg, t.localIp, t.remoteIp, this.ip.headroom(t.remoteIp)), { dontFragment: true });
  }

  mssTo(remoteIp: Uint8Array): number {
    // The route's MTU less the IPv4 and TCP headers; 576 (RFC 1122's minimum to assume) when there is no route.
    const route = this.ip.route(remoteIp);
    return Math.min(this.config.mss, (route?.mtu ?? 576) - 40);
  }

  /** RFC 5961 §7: at most `challengeAckLimit` challenge ACKs per second, stack-wide. */
  challengeAllowed(): boolean {
    const second = Math.floor(this.clock.now() / 1000);
    if (second !== this.challengeWindow) {
      this.challengeWindow = second;
      this.challengeCount = 0;
    }
    return this.challengeCount++ < this.config.challengeAckLimit;
  }

  /** A new SYN for a connection in TIME-WAIT whose sequence lies beyond it: the old one gives way (RFC 9293 §3.6.1). */
  reopen(t: Tcb, seg: TcpSegment): void {
    this.release(t);
    this.counters.add('tcp.time-wait-reused');
    const listener = this.findListener(t.localIp, t.local.port);
    if (listener) listener.syn(seg, t.localIp, t.remoteIp, t.remote);
  }

  // ---- segments from the network ----

  input(p: IpPacket): void {
    const { src, dst } = p.header;
    const seg = parseTcp(p.payload, src, dst);
    if ('drop' in seg) return this.counters.add(`tcp.${seg.drop}`);
    this.counters.add('tcp.in');
    const t = this.connections.get(this.keyOf(dst, seg.dstPort, src, seg.srcPort));
    this.tap?.('in', t ?? null, seg);
    if (t) return t.input(seg, this.clock.now());
    if (seg.flags & SYN && !(seg.flags & (ACK | RST))) {
      const listener = this.findListener(dst, seg.dstPort);
      if (listener) return listener.syn(seg, dst, src, { address: formatIPv4(src), port: seg.srcPort });
    }
    // An ACK for no connection may be a SYN cookie coming back (RFC 4987 §3.6).
    if (seg.flags & ACK && !(seg.flags & (SYN | RST))) {
      const listener = this.findListener(dst, seg.dstPort);
      if (listener?.cookieAck(seg, dst, src, { address: formatIPv4(src), port: seg.srcPort })) return;
    }
    this.counters.add('tcp.no-socket');
    this.resetFor(seg, dst, src);
  }

  /** Accepts a SYN for a listener: a new block in SYN-RECEIVED. */
  open(listener: UserListener, seg: TcpSegment, localIp: Uint8Array, remoteIp: Uint8Array, remote: Endpoint): Tcb {
    const local = { address: formatIPv4(localIp), port: listener.local.port };
    const t = this.create(local, remote, localIp, remoteIp, listener.options);
    accept(t, seg, listener);
    return t;
  }

  /** Answers a SYN with a cookie SYN-ACK and keeps nothing (see syncookie.ts for what it encodes). */
  sendCookie(listener: UserListener, seg: TcpSegment, localIp: Uint8Array, remoteIp: Uint8Array): void {
    const c = this.config;
    const now = this.clock.now();
    const flow = flowOf(remoteIp, localIp, seg.srcPort, seg.dstPort);
    const { cookie } = this.cookies.make(now, flow, seg.seq, seg.options.mss ?? 536);
    const options: TcpOptions = { mss: this.mssTo(remoteIp) };
    // Window scale and SACK can only be remembered inside a timestamp; without one the SYN-ACK offers neither.
    const ts = seg.options.timestamp;
    if (c.timestamps && ts) {
      const peerShift = c.windowScaling && seg.options.windowScale !== undefined ? Math.min(seg.options.windowScale, 14) : undefined;
      const sack = c.sack && seg.options.sackPermitted === true;
      if (sack) options.sackPermitted = true;
      if (peerShift !== undefined) options.windowScale = windowShift(listener.options.recvBufferSize, c.recvBufferMax);
      options.timestamp = { value: (cookieTimestamp(Math.floor(now), peerShift, sack) + this.cookies.tsOffset(flow)) >>> 0, echo: ts.value };
    }
    this.counters.add('tcp.syncookie-sent');
    this.reply({ srcPort: seg.dstPort, dstPort: seg.srcPort, seq: cookie, ack: add(seg.seq, 1), flags: SYN | ACK, window: Math.min(listener.options.recvBufferSize, 0xffff), urgent: 0, options, payload: EMPTY }, localIp, remoteIp);
  }

  /**
   * An ACK to a listener that sent cookies lately: if its acknowledgment is a
   * valid cookie, the connection is built as the SYN asked for and the ACK
   * completes it (Linux's cookie_v4_check). False when the cookie is not valid.
   */
  openFromCookie(listener: UserListener, seg: TcpSegment, localIp: Uint8Array, remoteIp: Uint8Array, remote: Endpoint): boolean {
    const c = this.config;
    const now = this.clock.now();
    const flow = flowOf(remoteIp, localIp, seg.srcPort, seg.dstPort);
    const iss = add(seg.ack, -1);
    const mss = this.cookies.check(now, flow, add(seg.seq, -1), iss);
    if (mss === 0) {
      this.counters.add('tcp.syncookie-failed');
      return false;
    }
    this.counters.add('tcp.syncookie-recv');
    const offered: TcpOptions = { mss };
    const ts = seg.options.timestamp;
    const tsOffset = this.cookies.tsOffset(flow);
    if (ts) {
      const { windowScale, sack } = cookieOptions(ts.echo !== 0 ? add(ts.echo, -tsOffset) : 0);
      // An option we would not have offered: not our cookie (Linux's cookie_timestamp_decode).
      if (!c.timestamps || (sack && !c.sack) || (windowScale !== undefined && !c.windowScaling)) return false;
      offered.timestamp = ts;
      if (sack) offered.sackPermitted = true;
      if (windowScale !== undefined) offered.windowScale = windowScale;
    }
    // No room in the accept queue: the ACK is dropped; the client's next segment may find room.
    if (listener.full) {
      this.counters.add('tcp.listen-overflow');
      return true;
    }
    const t = this.create({ address: formatIPv4(localIp), port: listener.local.port }, remote, localIp, remoteIp, listener.options);
    if (ts) t.tsOffset = tsOffset;
    acceptCookie(t, seg, listener, iss, offered);
    // The ACK completes the handshake. Its echo is no round-trip sample (the cookie's TSval was
    // rounded down by up to 63 ms), so it is left out, as Linux takes none from a cookie handshake.
    t.input(ts ? { ...seg, options: { ...seg.options, timestamp: { value: ts.value, echo: 0 } } } : seg, now);
    return true;
  }

  /** RFC 9293 §3.10.7.1: no connection; answer anything but a RST with a RST. */
  private resetFor(seg: TcpSegment, localIp: Uint8Array, remoteIp: Uint8Array): void {
    if (seg.flags & RST) return;
    const len = seg.payload.length + (seg.flags & SYN ? 1 : 0) + (seg.flags & FIN ? 1 : 0);
    const reply: TcpSegment = {
      srcPort: seg.dstPort,
      dstPort: seg.srcPort,
      seq: seg.flags & ACK ? seg.ack : 0,
      ack: seg.flags & ACK ? 0 : add(seg.seq, len),
      flags: seg.flags & ACK ? RST : RST | ACK,
      window: 0,
      urgent: 0,
      options: {},
      payload: EMPTY,
    };
    this.counters.add('tcp.reset-sent');
    this.reply(reply, localIp, remoteIp);
  }

  /** Sends a segment that belongs to no connection. */
  private reply(seg: TcpSegment, localIp: Uint8Array, remoteIp: Uint8Array): void {
    this.tap?.('out', null, seg);
    this.ip.sendBuilt(PROTOCOL.TCP, localIp, remoteIp, emitTcp(seg, localIp, remoteIp, this.ip.headroom(remoteIp)), { dontFragment: true });
  }

  private findListener(ip: Uint8Array, port: number): UserListener | null {
    const set = this.bound.get(port);
    if (!set) return null;
    let wildcard: UserListener | null = null;
    for (const b of set) {
      const l = b.listener;
      if (!l) continue;
      if (u32(b.ip) === u32(ip)) return l;
      if (u32(b.ip) === 0) wildcard = l;
    }
    return wildcard;
  }

  private conflicts(ip: Uint8Array, port: number): boolean {
    const set = this.bound.get(port);
    if (!set) return false;
    for (const b of set) if (u32(b.ip) === 0 || u32(ip) === 0 || u32(b.ip) === u32(ip)) return true;
    return false;
  }

  /** RFC 6056 algorithm 1: a random start in the ephemeral range, then the next free one. */
  private pickPort(free: (port: number) => boolean): number {
    const span = EPHEMERAL_HIGH - EPHEMERAL_LOW + 1;
    const start = this.random.uint32() % span;
    for (let i = 0; i < span; i++) {
      const port = EPHEMERAL_LOW + ((start + i) % span);
      if (free(port)) return port;
    }
    throw stackError('EADDRNOTAVAIL', 'no free ephemeral port');
  }

  /** Every connection's state, for tests and tools: "10.0.0.1:80>10.0.0.2:40000 ESTABLISHED". */
  states(): string[] {
    return [...this.connections.values()].map((t) => `${t.local.address}:${t.local.port}>${t.remote.address}:${t.remote.port} ${STATE_NAMES[t.state]}`);
  }
}

function u32(ip: Uint8Array): number {
  return ((ip[0]! << 24) | (ip[1]! << 16) | (ip[2]! << 8) | ip[3]!) >>> 0;
}

