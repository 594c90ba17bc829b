/**
 * A packet-level harness for the user-space TCP, in the manner of smoltcp's
 * socket tests: one UserStack ("us", 10.0.0.1) whose only interface is a
 * test device, and a fake peer (10.0.0.2) that the test plays by hand. The
 * test writes exact segments in and reads the exact segments the stack sent,
 * on a virtual clock it moves with `advance`. Sequence numbers in both
 * directions are relative: ours from our ISS, the peer's from its ISN, so a
 * test reads like RFC 9293's figures (`<SEQ=1><ACK=1><CTL=ACK>`).
 */
import assert from 'node:assert/strict';
import { VirtualClock } from '../../../src/link/clock.js';
import type { Device } from '../../../src/link/types.js';
import { SocketError } from '../../../src/socket/errors.js';
import type { StreamConnection, StreamListener, StreamOptions } from '../../../src/stack/types.js';
import { UserStack } from '../../../src/stack/user/stack.js';
import type { TcpConfig } from '../../../src/stack/user/tcp/config.js';
import type { Tcb } from '../../../src/stack/user/tcp/tcb.js';
import { emitUnreachable } from '../../../src/wire/icmp.js';
import { parseIPv4 } from '../../../src/wire/ip-address.js';
import { emitIpv4, parseIpv4, PROTOCOL } from '../../../src/wire/ipv4.js';
import { ACK, emitTcp, FIN, flagString, parseTcp, PSH, RST, SYN, type TcpOptions, type TcpSegment } from '../../../src/wire/tcp.js';

export const US = '10.0.0.1';
export const PEER = '10.0.0.2';
export const US_IP = parseIPv4(US)!;
export const PEER_IP = parseIPv4(PEER)!;
/** The port we listen on in passive tests, and the peer's port in active ones. */
export const SERVER_PORT = 80;
/** The peer's port when it is the client. */
export const CLIENT_PORT = 40000;
/** The peer's initial sequence number: near the wrap, so every test crosses 2^32 without saying so. */
export const PEER_ISN = 0xffffff00;

export const DEFAULT_OPTIONS: StreamOptions = { noDelay: false, keepAliveMs: 0, sendBufferSize: 256 * 1024, recvBufferSize: 64 * 1024 };

/** A segment the stack sent, with sequence numbers made relative. */
export interface Out {
  /** tcpdump's flags: "S", "S.", ".", "P.", "F.", "FP.", "R", "R.". */
  flags: string;
  /** Relative to our ISS (absolute when no ISS is known yet). */
  seq: number;
  /** Relative to the peer's ISN; 0 when the ACK flag is off (as sent). */
  ack: number;
  /** The window field as sent, unscaled. */
  window: number;
  options: TcpOptions;
  /** SACK blocks relative to the peer's ISN, or undefined. */
  sack: Array<[number, number]> | undefined;
  payload: Uint8Array;
  len: number;
  srcPort: number;
  dstPort: number;
  /** The TCP header and payload as sent. */
  bytes: Uint8Array;
  /** The whole IPv4 packet, for an ICMP error to quote. */
  packet: Uint8Array;
  /** When the stack sent it, on the virtual clock. */
  at: number;
}

/** What the peer puts in its SYN or SYN-ACK. */
export interface Offer {
  mss?: number;
  sack?: boolean;
  ts?: boolean;
  wscale?: number;
  /** The window field of the SYN (never scaled). */
  window?: number;
}

export interface SegmentIn {
  /** Flags in tcpdump's letters, e.g. "S", "S.", ".", "P.", "F.", "R". */
  flags: string;
  /** Relative to the peer's ISN. */
  seq?: number;
  /** Relative to our ISS. */
  ack?: number;
  /** The window field as sent (the stack scales it by what the peer offered). */
  window?: number;
  /** Payload: bytes, text, or a length (filled with pattern(len, offset = seq − 1)). */
  data?: Uint8Array | string | number;
  options?: TcpOptions;
  /** SACK blocks relative to our ISS. */
  sack?: Array<[number, number]>;
  /** The peer's timestamp value; by default the clock plus PEER_TS_BASE when timestamps were negotiated. Set `false` to leave it out. */
  tsVal?: number | false;
  tsEcr?: number;
  srcPort?: number;
  dstPort?: number;
  /** Bytes to break the checksum with. */
  corrupt?: boolean;
}

export const PEER_TS_BASE = 500_000;

export interface HarnessOptions {
  tcp?: Partial<TcpConfig>;
  seed?: number;
  mtu?: number;
  peerIsn?: number;
}

/** Deterministic payload bytes: byte i is (offset + i) mod 251, so any shift or overlap shows. */
export function pattern(length: number, offset = 0): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (offset + i) % 251;
  return out;
}

/** The stack's only interface: what it sends is kept, with the time it was sent, until the test takes it. */
export class TestDevice implements Device {
  readonly sent: Uint8Array[] = [];
  readonly times = new WeakMap<Uint8Array, number>();
  receive: ((packet: Uint8Array) => void) | null = null;
  constructor(
    readonly mtu: number,
    private readonly now: () => number,
  ) {}
  send(packet: Uint8Array): void {
    this.sent.push(packet);
    this.times.set(packet, this.now());
  }
}

export class Harness {
  readonly clock = new VirtualClock();
  readonly device: TestDevice;
  readonly stack: UserStack;
  /** Our ISS, learned from the first SYN we send (or set by hand). */
  iss: number | null = null;
  peerIsn: number;
  /** Our port on the connection under test. */
  usPort = SERVER_PORT;
  peerPort = CLIENT_PORT;
  /** What the peer negotiated. */
  peerTs = false;
  /** Our latest TSval, which the peer echoes. */
  lastTsVal = 0;
  /** Every segment taken so far, for a test that wants the whole story. */
  readonly log: Out[] = [];

  constructor(options: HarnessOptions = {}) {
    this.device = new TestDevice(options.mtu ?? 1500, () => this.clock.now());
    this.peerIsn = options.peerIsn ?? PEER_ISN;
    this.stack = new UserStack({
      clock: this.clock,
      interfaces: [{ device: this.device, address: US, prefixLength: 24 }],
      seed: options.seed ?? 1,
      // Quick-ACK mode off unless a test asks for it: these tests pin down RFC 9293's delayed ACK
      // (tcp-quickack.test.ts tests Linux's quick ACKs at the start of a connection).
      tcp: { quickAcks: 0, ...options.tcp },
    });
  }

  // ---- time ----

  advance(ms: number): void {
    this.clock.advance(ms);
  }

  now(): number {
    return this.clock.now();
  }

  /** Advances to the next timer the stack set (and fires it); returns the new time, or null when none is pending. */
  step(): number | null {
    const next = this.clock.nextTime();
    if (next === null) return null;
    this.clock.advance(next - this.clock.now());
    return next;
  }

  // ---- what the stack sent ----

  /** Every TCP segment sent since the last call, parsed; packets of other protocols are left for takeIcmp. */
  take(): Out[] {
    const out: Out[] = [];
    const keep: Uint8Array[] = [];
    for (const packet of this.device.sent.splice(0)) {
      const ip = parseIpv4(packet);
      assert.ok('header' in ip, 'the stack sent a malformed IPv4 packet');
      if (ip.header.protocol !== PROTOCOL.TCP) {
        keep.push(packet);
        continue;
      }
      assert.deepEqual([...ip.header.src], [...US_IP]);
      assert.deepEqual([...ip.header.dst], [...PEER_IP]);
      const seg = parseTcp(ip.payload, ip.header.src, ip.header.dst);
      assert.ok(!('drop' in seg), `the stack sent a bad TCP segment: ${'drop' in seg ? seg.drop : ''}`);
      out.push(this.describe(seg, ip.payload, packet));
    }
    this.device.sent.push(...keep);
    this.log.push(...out);
    return out;
  }

  /** Exactly one segment was sent; returns it. */
  one(what = 'one segment'): Out {
    const out = this.take();
    assert.equal(out.length, 1, `expected ${what}, got ${out.length}: ${out.map(show).join(' | ')}`);
    return out[0]!;
  }

  /** Nothing was sent. */
  none(what = 'no segment'): void {
    const out = this.take();
    assert.equal(out.length, 0, `expected ${what}, got ${out.map(show).join(' | ')}`);
  }

  /** Raw packets of other protocols (ICMP) sent since the last call. */
  takeOther(): Uint8Array[] {
    const out: Uint8Array[] = [];
    const keep: Uint8Array[] = [];
    for (const packet of this.device.sent.splice(0)) {
      const ip = parseIpv4(packet);
      if ('header' in ip && ip.header.protocol !== PROTOCOL.TCP) out.push(packet);
      else keep.push(packet);
    }
    this.device.sent.push(...keep);
    return out;
  }

  private describe(seg: TcpSegment, bytes: Uint8Array, packet: Uint8Array): Out {
    if (seg.flags & SYN && this.iss === null) this.iss = seg.seq;
    if (seg.options.timestamp) this.lastTsVal = seg.options.timestamp.value;
    const iss = this.iss ?? 0;
    const rel = (n: number, base: number) => (n - base) | 0;
    return {
      flags: flagString(seg.flags),
      seq: rel(seg.seq, iss),
      ack: seg.flags & ACK ? rel(seg.ack, this.peerIsn) : seg.ack,
      window: seg.window,
      options: seg.options,
      sack: seg.options.sack?.map(([l, r]) => [rel(l, this.peerIsn), rel(r, this.peerIsn)] as [number, number]),
      payload: seg.payload,
      len: seg.payload.length,
      srcPort: seg.srcPort,
      dstPort: seg.dstPort,
      bytes: bytes.slice(),
      packet: packet.slice(),
      at: this.device.times.get(packet) ?? this.clock.now(),
    };
  }

  // ---- what the peer sends ----

  /** Builds the peer's segment and hands it to the device, as if it came off the link. */
  send(s: SegmentIn): void {
    this.device.receive!(this.packet(s));
  }

  /** The IPv4 packet `send` would deliver. */
  packet(s: SegmentIn): Uint8Array {
    const flags = parseFlags(s.flags);
    const seq = ((s.seq ?? 0) + this.peerIsn) >>> 0;
    const iss = this.iss ?? 0;
    const ack = flags & ACK ? ((s.ack ?? 0) + iss) >>> 0 : (s.ack ?? 0) >>> 0;
    let payload: Uint8Array;
    if (s.data === undefined) payload = new Uint8Array(0);
    else if (typeof s.data === 'number') payload = pattern(s.data, Math.max(0, (s.seq ?? 1) - 1));
    else if (typeof s.data === 'string') payload = new TextEncoder().encode(s.data);
    else payload = s.data;
    const options: TcpOptions = { ...s.options };
    if (s.sack) options.sack = s.sack.map(([l, r]) => [(l + iss) >>> 0, (r + iss) >>> 0]);
    if (s.tsVal !== false && (s.tsVal !== undefined || (this.peerTs && !options.timestamp))) {
      options.timestamp = { value: (s.tsVal ?? this.peerTsVal()) >>> 0, echo: (s.tsEcr ?? (flags & ACK ? this.lastTsVal : 0)) >>> 0 };
    }
    const seg: TcpSegment = {
      srcPort: s.srcPort ?? this.peerPort,
      dstPort: s.dstPort ?? this.usPort,
      seq,
      ack,
      flags,
      window: s.window ?? 65535,
      urgent: 0,
      options,
      payload,
    };
    const tcp = emitTcp(seg, PEER_IP, US_IP);
    if (s.corrupt) tcp[tcp.length - 1]! ^= 0x55;
    return emitIpv4(
      { dscp: 0, ecn: 0, identification: 1, dontFragment: true, moreFragments: false, fragmentOffset: 0, ttl: 64, protocol: PROTOCOL.TCP, src: PEER_IP, dst: US_IP, options: new Uint8Array(0) },
      tcp,
    );
  }

  /** The peer's TSval now: a 1 ms clock from PEER_TS_BASE. */
  peerTsVal(): number {
    return (PEER_TS_BASE + Math.floor(this.clock.now())) >>> 0;
  }

  /** An ICMP destination unreachable from the peer quoting the IPv4 packet we sent (`quoted`). */
  sendIcmpUnreachable(code: number, quoted: Uint8Array, mtu?: number): void {
    const icmp = emitUnreachable(code, quoted, mtu);
    this.device.receive!(
      emitIpv4(
        { dscp: 0, ecn: 0, identification: 2, dontFragment: false, moreFragments: false, fragmentOffset: 0, ttl: 64, protocol: PROTOCOL.ICMP, src: PEER_IP, dst: US_IP, options: new Uint8Array(0) },
        icmp,
      ),
    );
  }

  // ---- the stack's API ----

  /** Listens on SERVER_PORT (or `port`) at every address. */
  listen(backlog = 8, options: Partial<StreamOptions> = {}, port = SERVER_PORT): StreamListener {
    this.usPort = port;
    return this.stack.tcp.bind({ address: '0.0.0.0', port }).listen(backlog, { ...DEFAULT_OPTIONS, ...options });
  }

  /** Starts an active open to the peer: the SYN is sent before this returns. */
  connect(options: Partial<StreamOptions> = {}): Pending<StreamConnection> {
    this.peerPort = SERVER_PORT;
    const pending = track(this.stack.connect({ address: PEER, port: SERVER_PORT }, { ...DEFAULT_OPTIONS, ...options }));
    const syn = this.device.sent.length > 0 ? this.peekTcp(this.device.sent[this.device.sent.length - 1]!) : null;
    if (syn) this.usPort = syn.srcPort;
    return pending;
  }

  private peekTcp(packet: Uint8Array): TcpSegment | null {
    const ip = parseIpv4(packet);
    if (!('header' in ip) || ip.header.protocol !== PROTOCOL.TCP) return null;
    const seg = parseTcp(ip.payload, ip.header.src, ip.header.dst);
    return 'drop' in seg ? null : seg;
  }

  /** The options a SYN from the peer carries for an offer. */
  synOptions(offer: Offer, echo = 0): TcpOptions {
    const o: TcpOptions = {};
    if (offer.mss !== undefined) o.mss = offer.mss;
    if (offer.sack) o.sackPermitted = true;
    if (offer.ts) o.timestamp = { value: this.peerTsVal(), echo };
    if (offer.wscale !== undefined) o.windowScale = offer.wscale;
    return o;
  }

  /**
   * Active open to ESTABLISHED: our SYN, the peer's SYN-ACK with `offer`,
   * our ACK. Returns the connection and the three segments' view.
   */
  async activeOpen(offer: Offer = { mss: 1460 }, options: Partial<StreamOptions> = {}): Promise<{ conn: StreamConnection; syn: Out; ack: Out }> {
    const pending = this.connect(options);
    const syn = this.one('our SYN');
    assert.equal(syn.flags, 'S');
    this.peerTs = !!offer.ts;
    this.send({ flags: 'S.', seq: 0, ack: 1, window: offer.window ?? 65535, options: this.synOptions(offer, this.lastTsVal), tsVal: false });
    const ack = this.one('our ACK of the SYN-ACK');
    await flush();
    const conn = pending.value();
    return { conn, syn, ack };
  }

  /**
   * Passive open to ESTABLISHED: the peer's SYN with `offer`, our SYN-ACK,
   * the peer's ACK, then accept().
   */
  async passiveOpen(
    offer: Offer = { mss: 1460 },
    options: Partial<StreamOptions> = {},
    backlog = 8,
  ): Promise<{ conn: StreamConnection; listener: StreamListener; synAck: Out }> {
    const listener = this.listen(backlog, options);
    this.peerTs = !!offer.ts;
    this.send({ flags: 'S', seq: 0, window: offer.window ?? 65535, options: this.synOptions(offer), tsVal: false });
    const synAck = this.one('our SYN-ACK');
    assert.equal(synAck.flags, 'S.');
    this.send({ flags: '.', seq: 1, ack: 1 });
    this.none('nothing after the handshake');
    const conn = listener.accept();
    assert.ok(conn, 'accept() returns the connection');
    return { conn, listener, synAck };
  }

  /** The connection's control block, for state and counters. */
  tcb(): Tcb {
    const [t] = [...this.stack.tcp.connections.values()];
    assert.ok(t, 'no connection');
    return t;
  }

  /** "ESTABLISHED", "TIME-WAIT", …, or "none" when the table is empty. */
  state(): string {
    const states = this.stack.tcp.states();
    if (states.length === 0) return 'none';
    assert.equal(states.length, 1, `one connection expected: ${states.join(', ')}`);
    return states[0]!.split(' ')[1]!;
  }

  counter(name: string): number {
    return this.stack.counters.get(name);
  }
}

/** A promise whose outcome a synchronous test can look at after `flush()`. */
export interface Pending<T> {
  promise: Promise<T>;
  settled(): boolean;
  /** The value; fails the test when still pending or rejected. */
  value(): T;
  /** The rejection's SocketError code; fails the test otherwise. */
  error(): string;
}

export function track<T>(promise: Promise<T>): Pending<T> {
  let state: { ok: true; value: T } | { ok: false; error: unknown } | null = null;
  promise.then(
    (value) => (state = { ok: true, value }),
    (error: unknown) => (state = { ok: false, error }),
  );
  return {
    promise,
    settled: () => state !== null,
    value: () => {
      assert.ok(state, 'still pending');
      if (!state.ok) throw state.error;
      return state.value;
    },
    error: () => {
      assert.ok(state, 'still pending');
      assert.ok(!state.ok, 'resolved, not rejected');
      assert.ok(state.error instanceof SocketError, String(state.error));
      return state.error.code;
    },
  };
}

/** Lets every pending promise callback run (promises settle in microtasks). */
export function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** The SocketError code `fn` throws. */
export function thrown(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof SocketError, String(e));
    return e.code;
  }
  assert.fail('expected a SocketError');
}

/** Reads everything readable now. */
export function readAll(conn: StreamConnection, max = 1 << 20): Uint8Array {
  const buf = new Uint8Array(max);
  const n = conn.read(buf);
  return n > 0 ? buf.slice(0, n) : new Uint8Array(0);
}

export function parseFlags(text: string): number {
  let f = 0;
  for (const c of text) {
    if (c === 'S') f |= SYN;
    else if (c === 'F') f |= FIN;
    else if (c === 'R') f |= RST;
    else if (c === 'P') f |= PSH;
    else if (c === '.') f |= ACK;
    else throw new Error(`unknown flag ${c} in ${text}`);
  }
  return f;
}

/** One line per segment, tcpdump-like, for failure messages. */
export function show(o: Out): string {
  return `[${o.flags}] seq ${o.seq} ack ${o.ack} win ${o.window} len ${o.len}${o.sack ? ` sack ${JSON.stringify(o.sack)}` : ''}`;
}

/** The fields a test names, checked exactly: `expectSeg(out, { flags: 'P.', seq: 1, ack: 1, len: 100 })`. */
export function expectSeg(o: Out, want: Partial<Pick<Out, 'flags' | 'seq' | 'ack' | 'window' | 'len' | 'sack'>>, message?: string): void {
  const got: Record<string, unknown> = {};
  for (const key of Object.keys(want)) got[key] = o[key as keyof Out];
  assert.deepEqual(got, want, message ?? show(o));
}

/** The tuples (flags, seq, ack, len) of a list of segments, for comparing whole exchanges. */
export function brief(out: Out[]): string[] {
  return out.map((o) => `${o.flags} ${o.seq}:${o.ack} ${o.len}`);
}
