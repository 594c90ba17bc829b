/**
 * UDP (RFC 768) over the IP layer, with endpoints that behave as the kernel
 * stack's KernelDatagram does over Linux: a receive queue bounded in bytes,
 * a connected endpoint that hears only its peer, ICMP errors reported by the
 * next recv() of a connected endpoint, ephemeral ports in Linux's range
 * picked at random (RFC 6056 algorithm 1).
 */
import type { RandomSource } from '../../link/types.js';
import { stackError, type SocketError } from '../errors.js';
import { formatIPv4, ipFamily, parseIPv4 } from '../../wire/ip-address.js';
import { UNREACHABLE } from '../../wire/icmp.js';
import { PROTOCOL } from '../../wire/ipv4.js';
import { emitUdp, parseUdp } from '../../wire/udp.js';
import { DatagramQueue } from '../datagram-queue.js';
import type { Datagram, DatagramEndpoint, DatagramOptions, Endpoint } from '../types.js';
import type { Counters } from './counters.js';
import { unreachableError, type IcmpError, type IcmpLayer } from './icmp.js';
import type { IpLayer, IpPacket } from './ip.js';
import { addressToNumber } from './ipv4.js';

/** Linux's net.ipv4.ip_local_port_range. */
export const EPHEMERAL_FIRST = 32768;
export const EPHEMERAL_LAST = 60999;
/** 65535 less the IPv4 and UDP headers. */
export const MAX_UDP_PAYLOAD = 65507;

/** An IPv4 address and port, checked: what every call that names one needs. */
function parseEndpoint(address: string, port: number, what: string): { bytes: Uint8Array } | { error: SocketError } {
  const bytes = parseIPv4(address);
  if (!bytes) return { error: stackError(ipFamily(address) === 6 ? 'EAFNOSUPPORT' : 'EINVAL', `${what} ${address}: the user-space stack speaks IPv4`) };
  if (!Number.isInteger(port) || port < 0 || port > 0xffff) return { error: stackError('EINVAL', `${what} port ${port}`) };
  return { bytes };
}

function isLoopback(bytes: Uint8Array): boolean {
  return bytes[0] === 127;
}

export class UdpLayer {
  private readonly ports = new Map<number, UserDatagram[]>();

  constructor(
    readonly ip: IpLayer,
    private readonly icmp: IcmpLayer,
    readonly counters: Counters,
    private readonly random: RandomSource,
  ) {
    ip.register(PROTOCOL.UDP, (packet) => this.input(packet));
    icmp.onError(PROTOCOL.UDP, (e) => this.error(e));
  }

  bind(local: Endpoint, options: DatagramOptions): DatagramEndpoint {
    const parsed = parseEndpoint(local.address, local.port, 'bind');
    if ('error' in parsed) throw parsed.error;
    const addr = addressToNumber(parsed.bytes);
    if (addr !== 0 && !this.ip.isLocal(parsed.bytes)) throw stackError('EADDRNOTAVAIL', `${local.address} is not an address of this host`);
    let port = local.port;
    if (port === 0) port = this.ephemeral(addr);
    else if (this.conflicts(addr, port)) throw stackError('EADDRINUSE', `${local.address}:${port}`);
    const endpoint = new UserDatagram(this, { address: formatIPv4(parsed.bytes), port }, parsed.bytes, options.recvBufferSize);
    const list = this.ports.get(port);
    if (list) list.push(endpoint);
    else this.ports.set(port, [endpoint]);
    return endpoint;
  }

  /** @internal */
  unbind(endpoint: UserDatagram): void {
    const list = this.ports.get(endpoint.local.port);
    if (!list) return;
    const left = list.filter((e) => e !== endpoint);
    if (left.length > 0) this.ports.set(endpoint.local.port, left);
    else this.ports.delete(endpoint.local.port);
  }

  /** Without SO_REUSEADDR: the wildcard takes the whole port; specific addresses share it only with other addresses. */
  private conflicts(addr: number, port: number): boolean {
    return (this.ports.get(port) ?? []).some((e) => e.addr === 0 || addr === 0 || e.addr === addr);
  }

  /** RFC 6056 §3.3.1: start at a random port in the range, then probe upwards, wrapping. */
  private ephemeral(addr: number): number {
    const count = EPHEMERAL_LAST - EPHEMERAL_FIRST + 1;
    let port = EPHEMERAL_FIRST + (this.random.uint32() % count);
    for (let i = 0; i < count; i++) {
      if (!this.conflicts(addr, port)) return port;
      port = port === EPHEMERAL_LAST ? EPHEMERAL_FIRST : port + 1;
    }
    throw stackError('EADDRINUSE', 'no free ephemeral port');
  }

  private input(packet: IpPacket): void {
    const { header } = packet;
    const datagram = parseUdp(packet.payload, header.src, header.dst);
    if ('drop' in datagram) {
      this.counters.add(`udp.${datagram.drop}`);
      return;
    }
    this.counters.add('udp.in');
    const endpoint = this.lookup(datagram.dstPort, header.dst, header.src, datagram.srcPort);
    if (!endpoint) {
      this.counters.add('udp.no-port');
      this.icmp.unreachable(packet, UNREACHABLE.PORT);
      return;
    }
    endpoint.deliver(datagram.payload, formatIPv4(header.src), datagram.srcPort);
  }

  /**
   * As Linux's UDP lookup: the endpoint's address must be the destination (a broadcast reaches only
   * the wildcard), and a connected endpoint matches only its peer; the most specific match wins.
   */
  private lookup(port: number, dst: Uint8Array, src: Uint8Array, srcPort: number): UserDatagram | null {
    const list = this.ports.get(port);
    if (!list) return null;
    const to = addressToNumber(dst);
    const from = addressToNumber(src);
    const broadcast = this.ip.isBroadcast(dst);
    let best: UserDatagram | null = null;
    let bestScore = -1;
    for (const e of list) {
      if (e.addr !== 0 && (broadcast || e.addr !== to)) continue;
      if (e.peer && (e.peerAddr !== from || e.peer.port !== srcPort)) continue;
      const score = (e.addr !== 0 ? 1 : 0) + (e.peer ? 2 : 0);
      if (score > bestScore) {
        best = e;
        bestScore = score;
      }
    }
    return best;
  }

  /** Linux reports an ICMP error on an unconnected UDP socket only with IP_RECVERR: here, never. */
  private error(e: IcmpError): void {
    const addr = addressToNumber(parseIPv4(e.local.address)!);
    const peerAddr = addressToNumber(parseIPv4(e.remote.address)!);
    for (const endpoint of this.ports.get(e.local.port) ?? []) {
      if (!endpoint.peer || endpoint.peerAddr !== peerAddr || endpoint.peer.port !== e.remote.port) continue;
      if (endpoint.addr !== 0 && endpoint.addr !== addr) continue;
      // Fragmentation needed: we fragment UDP ourselves, so there is nothing to tell the socket.
      if (e.kind === 'unreachable' && e.code === 4) return;
      this.counters.add('udp.icmp-error');
      endpoint.fail(stackError(e.kind === 'time-exceeded' ? 'EHOSTUNREACH' : unreachableError(e.code), `ICMP ${e.kind} (code ${e.code}) from ${e.remote.address}:${e.remote.port}`));
      return;
    }
  }
}

export class UserDatagram implements DatagramEndpoint {
  notify: (() => void) | null = null;
  local: Endpoint;
  peer: Endpoint | null = null;
  /** @internal The bound address as a number (0: any), and the peer's. */
  addr: number;
  peerAddr = 0;
  private source: Uint8Array;
  private peerBytes: Uint8Array | null = null;
  private readonly queue: DatagramQueue;
  private closed = false;

  constructor(
    private readonly udp: UdpLayer,
    local: Endpoint,
    source: Uint8Array,
    recvBufferSize: number,
  ) {
    // Bounded in bytes as KernelDatagram is, and in count, so that empty datagrams cannot queue without end.
    this.queue = new DatagramQueue(recvBufferSize, recvBufferSize);
    this.local = local;
    this.source = source;
    this.addr = addressToNumber(source);
  }

  /** @internal */
  deliver(payload: Uint8Array, address: string, port: number): void {
    if (this.closed) return;
    // A copy: the queue then holds only its own bytes, not the packets they came in.
    if (this.queue.push(Uint8Array.prototype.slice.call(payload), address, port)) this.notify?.();
    else this.udp.counters.add('udp.recv-buffer-full');
  }

  /** @internal An ICMP error for the next call to report, as POSIX does for asynchronous errors. */
  fail(error: SocketError): void {
    this.queue.error = error;
    this.notify?.();
  }

  get drops(): number {
    return this.queue.drops;
  }

  recv(into: Uint8Array): Datagram | null {
    return this.queue.take(into);
  }

  connect(remote: Endpoint): Promise<void> {
    if (this.closed) return Promise.reject(stackError('EBADF'));
    const parsed = parseEndpoint(remote.address, remote.port, 'connect to');
    if ('error' in parsed) return Promise.reject(parsed.error);
    if (remote.port === 0) return Promise.reject(stackError('EINVAL', 'connect to port 0'));
    const checked = this.check(parsed.bytes, remote.address);
    if (checked) return Promise.reject(checked);
    if (this.addr === 0) {
      // As Linux: connect() fixes the source address the route picks, and from then on receives only there.
      const route = this.udp.ip.route(parsed.bytes)!;
      this.source = route.source;
      this.addr = addressToNumber(route.source);
      this.local = { address: route.sourceAddress, port: this.local.port };
    }
    this.peer = { address: formatIPv4(parsed.bytes), port: remote.port };
    this.peerBytes = parsed.bytes;
    this.peerAddr = addressToNumber(parsed.bytes);
    return Promise.resolve();
  }

  send(data: Uint8Array, address: string, port: number): Promise<void> {
    if (this.closed) return Promise.reject(stackError('EBADF'));
    const peer = this.peer;
    if (peer && (peer.address !== address || peer.port !== port)) return Promise.reject(stackError('EISCONN', 'connected to another peer'));
    if (data.length > MAX_UDP_PAYLOAD) return Promise.reject(stackError('EMSGSIZE', `${data.length} bytes is more than one datagram holds`));
    let dst = this.peerBytes;
    if (!dst) {
      const parsed = parseEndpoint(address, port, 'send to');
      if ('error' in parsed) return Promise.reject(parsed.error);
      if (port === 0) return Promise.reject(stackError('EINVAL', 'send to port 0'));
      const checked = this.check(parsed.bytes, address);
      if (checked) return Promise.reject(checked);
      dst = parsed.bytes;
    }
    const ip = this.udp.ip;
    const src = this.addr !== 0 ? this.source : ip.route(dst)!.source;
    // One allocation: the IP layer writes its header into the headroom.
    const packet = emitUdp({ srcPort: this.local.port, dstPort: port, payload: data }, src, dst, ip.headroom(dst));
    this.udp.counters.add('udp.out');
    ip.sendBuilt(PROTOCOL.UDP, src, dst, packet);
    return Promise.resolve();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.queue.clear();
    this.udp.unbind(this);
  }

  /** Whether a datagram may go to `dst`: the errors Linux gives for connect() and sendto(). */
  private check(dst: Uint8Array, address: string): SocketError | null {
    const ip = this.udp.ip;
    const route = ip.route(dst);
    if (!route) return stackError('ENETUNREACH', `no route to ${address}`);
    // Without SO_BROADCAST, which this stack does not offer.
    if (ip.isBroadcast(dst)) return stackError('EACCES', `${address} is a broadcast address`);
    // A loopback source cannot leave the host.
    if (isLoopback(this.source) && !ip.isLocal(dst)) return stackError('EINVAL', `from ${this.local.address} to ${address}`);
    return null;
  }
}
