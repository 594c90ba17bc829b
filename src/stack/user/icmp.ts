/**
 * The host's ICMP (RFC 792, RFC 1122 §3.2.2): answers echo requests, sends
 * destination-unreachable and reassembly time-exceeded for the IP and
 * transport layers, hands errors it receives to the transport whose
 * datagram they quote, and pings. Errors it sends pass RFC 1122's rules
 * (never about an ICMP error, a later fragment or a broadcast) and a global
 * token bucket, as Linux's icmp_msgs_per_sec and icmp_msgs_burst.
 */
import type { Clock, TimerHandle } from '../../link/types.js';
import { stackError, type ErrorCode, type SocketError } from '../errors.js';
import { emitEcho, emitTimeExceeded, emitUnreachable, mayReportError, parseIcmp, TIME_EXCEEDED, UNREACHABLE, type IcmpQuote } from '../../wire/icmp.js';
import { formatIPv4, ipFamily, parseIPv4 } from '../../wire/ip-address.js';
import { PROTOCOL } from '../../wire/ipv4.js';
import type { Endpoint } from '../types.js';
import type { Counters } from './counters.js';
import type { IpPacket } from './ip.js';
import { addressToNumber, type Ipv4Layer } from './ipv4.js';

export interface IcmpError {
  kind: 'unreachable' | 'time-exceeded';
  code: number;
  /** Next-hop MTU of a fragmentation-needed error (RFC 1191); 0 from an older router. */
  mtu?: number;
  /** The quoted datagram's source: one of our sockets. */
  local: Endpoint;
  remote: Endpoint;
  /** The quoted transport bytes, at least 8: TCP can check the sequence number in them (RFC 5927 §4.1). */
  transport: Uint8Array;
}

/** Linux's defaults: net.ipv4.icmp_msgs_per_sec and icmp_msgs_burst. */
const ERRORS_PER_SECOND = 1000;
const ERROR_BURST = 50;
/** The identifier of our echo requests; the sequence number tells them apart. */
const ECHO_ID = 0x7073;
/** 65535 less the IPv4 and ICMP headers. */
const MAX_ECHO_DATA = 65535 - 20 - 8;

interface Ping {
  dst: number;
  sentAt: number;
  timer: TimerHandle;
  resolve: (rtt: number) => void;
  reject: (err: SocketError) => void;
}

/** How an unreachable code reads to a socket (Linux's icmp_err_convert, within the codes we have). */
export function unreachableError(code: number): ErrorCode {
  if (code === UNREACHABLE.PORT || code === UNREACHABLE.PROTOCOL) return 'ECONNREFUSED';
  if (code === UNREACHABLE.NET || code === 6 || code === 9 || code === 11) return 'ENETUNREACH';
  if (code === UNREACHABLE.FRAG_NEEDED) return 'EMSGSIZE';
  return 'EHOSTUNREACH';
}

export class IcmpLayer {
  private readonly listeners = new Map<number, Array<(e: IcmpError) => void>>();
  private readonly pings = new Map<number, Ping>();
  private seq = 0;
  private tokens = ERROR_BURST;
  private refilledAt: number;

  constructor(
    private readonly ip: Ipv4Layer,
    private readonly clock: Clock,
    private readonly counters: Counters,
  ) {
    this.refilledAt = clock.now();
    ip.register(PROTOCOL.ICMP, (packet) => this.input(packet));
    ip.onUnknownProtocol = (packet) => this.unreachable(packet, UNREACHABLE.PROTOCOL);
    ip.onReassemblyTimeout = (first) => this.sendError(first, 'icmp.time-exceeded-out', () => emitTimeExceeded(TIME_EXCEEDED.REASSEMBLY, first.raw));
  }

  /** Errors quoting a datagram of `protocol` that one of our sockets sent. */
  onError(protocol: number, listener: (e: IcmpError) => void): void {
    const list = this.listeners.get(protocol);
    if (list) list.push(listener);
    else this.listeners.set(protocol, [listener]);
  }

  /** Tells the sender of `packet` it could not be delivered (code 3: no such port), unless RFC 1122 or the rate limit says not to. */
  unreachable(packet: IpPacket, code: number): void {
    this.sendError(packet, 'icmp.unreachable-out', () => emitUnreachable(code, packet.raw));
  }

  /** Sends an echo request; the round-trip time on the clock, or ETIMEDOUT, or the error a router sent back. */
  ping(dst: string, data: Uint8Array, timeoutMs: number): Promise<number> {
    const to = parseIPv4(dst);
    if (!to) return Promise.reject(stackError(ipFamily(dst) === 6 ? 'EAFNOSUPPORT' : 'EINVAL', `ping ${dst}`));
    if (data.length > MAX_ECHO_DATA) return Promise.reject(stackError('EMSGSIZE', `${data.length} bytes is more than an echo request holds`));
    const route = this.ip.route(to);
    if (!route) return Promise.reject(stackError('ENETUNREACH', `no route to ${dst}`));
    if (this.pings.size > 0xffff) return Promise.reject(stackError('ENOBUFS', 'every echo sequence number is waiting'));
    do this.seq = (this.seq + 1) & 0xffff;
    while (this.pings.has(this.seq));
    const seq = this.seq;
    return new Promise((resolve, reject) => {
      const timer = this.clock.setTimer(timeoutMs, () => {
        this.pings.delete(seq);
        reject(stackError('ETIMEDOUT', `no echo reply from ${dst}`));
      });
      this.pings.set(seq, { dst: addressToNumber(to), sentAt: this.clock.now(), timer, resolve, reject });
      this.counters.add('icmp.echo-out');
      this.ip.send(PROTOCOL.ICMP, route.source, to, emitEcho('echo-request', ECHO_ID, seq, data));
    });
  }

  private input(packet: IpPacket): void {
    const message = parseIcmp(packet.payload);
    if ('drop' in message) {
      this.counters.add(`icmp.${message.drop}`);
      return;
    }
    this.counters.add('icmp.in');
    const { header } = packet;
    switch (message.kind) {
      case 'echo-request':
        // As Linux's icmp_echo_ignore_broadcasts: a broadcast ping would make every host answer at once (smurf).
        if (this.ip.isBroadcast(header.dst) || header.dst[0]! >= 224) {
          this.counters.add('icmp.echo-ignored');
          return;
        }
        this.counters.add('icmp.echo');
        this.ip.send(PROTOCOL.ICMP, header.dst, header.src, emitEcho('echo-reply', message.id, message.seq, message.data));
        return;
      case 'echo-reply': {
        const ping = this.pings.get(message.seq);
        if (message.id !== ECHO_ID || !ping || ping.dst !== addressToNumber(header.src)) {
          this.counters.add('icmp.echo-unexpected');
          return;
        }
        this.settle(message.seq, ping);
        ping.resolve(this.clock.now() - ping.sentAt);
        return;
      }
      case 'unreachable':
      case 'time-exceeded':
        this.error(message.kind, message.code, 'mtu' in message ? message.mtu : undefined, message.original);
        return;
      default:
        this.counters.add('icmp.other');
    }
  }

  private error(kind: IcmpError['kind'], code: number, mtu: number | undefined, q: IcmpQuote): void {
    // Only a datagram we sent can be about one of our sockets; a later fragment's "ports" are payload.
    if (!this.ip.isLocal(q.src) || q.fragmentOffset !== 0) {
      this.counters.add('icmp.error-not-ours');
      return;
    }
    this.counters.add('icmp.error-in');
    if (q.protocol === PROTOCOL.ICMP) {
      // Our echo request: its identifier and sequence number follow the type, code and checksum.
      const t = q.transport;
      const seq = (t[6]! << 8) | t[7]!;
      const ping = t[0] === 8 && ((t[4]! << 8) | t[5]!) === ECHO_ID ? this.pings.get(seq) : undefined;
      if (!ping || ping.dst !== addressToNumber(q.dst)) return;
      this.settle(seq, ping);
      ping.reject(stackError(kind === 'time-exceeded' ? 'EHOSTUNREACH' : unreachableError(code), `${kind} (code ${code}) for echo to ${formatIPv4(q.dst)}`));
      return;
    }
    const event: IcmpError = {
      kind,
      code,
      local: { address: formatIPv4(q.src), port: q.srcPort },
      remote: { address: formatIPv4(q.dst), port: q.dstPort },
      transport: q.transport,
    };
    if (mtu !== undefined) event.mtu = mtu;
    for (const listener of this.listeners.get(q.protocol) ?? []) listener(event);
  }

  private settle(seq: number, ping: Ping): void {
    this.pings.delete(seq);
    this.clock.clearTimer(ping.timer);
  }

  private sendError(packet: IpPacket, counter: string, build: () => Uint8Array): void {
    const { header } = packet;
    if (!mayReportError(packet.raw) || this.ip.isBroadcast(header.dst) || this.ip.isBroadcast(header.src)) {
      this.counters.add('icmp.error-suppressed');
      return;
    }
    if (!this.takeToken()) {
      this.counters.add('icmp.rate-limited');
      return;
    }
    this.counters.add(counter);
    // From the address the datagram was sent to: it is ours and unicast, as just checked.
    this.ip.send(PROTOCOL.ICMP, header.dst, header.src, build());
  }

  private takeToken(): boolean {
    const now = this.clock.now();
    this.tokens = Math.min(ERROR_BURST, this.tokens + ((now - this.refilledAt) * ERRORS_PER_SECOND) / 1000);
    this.refilledAt = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
