/**
 * The packets of a trace, read together: which socket call each one served,
 * its sequence numbers relative to the start of its connection (as tcpdump
 * prints them), whether it was a retransmission, and whether a packet sent
 * was lost before the other host's tap saw it. The renderers draw from this;
 * the taps record only fields (src/link/packet-tap.ts).
 *
 * Which call: a call is "in the library" from its `begin` mark to its own
 * record (seq); a packet recorded in between, on the same host, happened
 * while the call waited. When several calls of a host wait at once (a
 * server's accept and its read), the one whose socket the packet belongs to
 * wins: the socket's endpoints are known from connect, accept and bind.
 */
import type { CallEvent, PacketEvent, TraceEvent } from '../trace-events.js';
import { ACK, FIN, SYN, flagString } from '../wire/tcp.js';

export interface PacketView {
  readonly event: PacketEvent;
  /** The call it served, if a call of its host was waiting. */
  readonly call?: CallEvent;
  /** The tcpdump-style line, without time or host: "> S 0:0(0) win 65535 <mss 1460,sackOK>". */
  readonly line: string;
  readonly retransmission: boolean;
  /** Sent, and the receiving host (traced) never saw it. */
  readonly lost: boolean;
  /** The host that sent it and the one it was for (by address), when they are traced. */
  readonly from?: string;
  readonly to?: string;
}

export interface PacketModel {
  readonly packets: PacketView[];
  /** Host label → its address, from the packets it sent. */
  readonly hosts: Map<string, string>;
  readonly retransmissions: number;
}

export function readPackets(events: readonly TraceEvent[]): PacketModel {
  const packets = events.filter((e): e is PacketEvent => e.kind === 'packet').sort((a, b) => a.seq - b.seq);
  const hosts = new Map<string, string>();
  const byAddress = new Map<string, string>();
  for (const p of packets) {
    if (p.direction === 'out' && !hosts.has(p.who)) hosts.set(p.who, p.src);
    if (p.direction === 'out' && !byAddress.has(p.src)) byAddress.set(p.src, p.who);
  }
  const calls = attribute(events, packets);
  const received = new Map<string, number>();
  for (const p of packets) if (p.direction === 'in') received.set(wireKey(p), (received.get(wireKey(p)) ?? 0) + 1);
  const numbers = new Numbering();
  const views: PacketView[] = [];
  let retransmissions = 0;
  for (const p of packets) {
    const { text, retransmission } = numbers.describe(p);
    let lost = false;
    const to = byAddress.get(p.dst);
    if (p.direction === 'out' && to !== undefined) {
      const n = received.get(wireKey(p)) ?? 0;
      if (n > 0) received.set(wireKey(p), n - 1);
      else lost = true;
    }
    if (retransmission && p.direction === 'out') retransmissions++;
    const line = `${p.direction === 'out' ? '>' : '<'} ${text}${retransmission ? ' (retransmission)' : ''}${lost ? ' (lost)' : ''}`;
    const from = byAddress.get(p.src);
    const call = calls.get(p);
    views.push({ event: p, line, retransmission, lost, ...(call ? { call } : {}), ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}) });
  }
  return { packets: views, hosts, retransmissions };
}

/** What ties a packet sent to the same packet received: the addresses, the IPv4 ID and the length. */
function wireKey(p: PacketEvent): string {
  return `${p.src}>${p.dst}#${p.ipId}/${p.length}`;
}

const end = (address: string, port: number | undefined) => `${address}:${port ?? 0}`;

/** A packet's two ends as its host sees them. */
function ends(p: PacketEvent): { local: string; remote: string } {
  return p.direction === 'out' ? { local: end(p.src, p.srcPort), remote: end(p.dst, p.dstPort) } : { local: end(p.dst, p.dstPort), remote: end(p.src, p.srcPort) };
}

/** Sweeps the trace in recording order: calls open at `begin`, close at `seq`; a packet goes to the best open call of its host. */
function attribute(events: readonly TraceEvent[], packets: readonly PacketEvent[]): Map<PacketEvent, CallEvent> {
  const points: { at: number; order: number; call?: CallEvent; packet?: PacketEvent }[] = [];
  for (const e of events) if (e.kind === 'call' && e.begin !== undefined) points.push({ at: e.begin, order: 0, call: e }, { at: e.seq, order: 1, call: e });
  for (const p of packets) points.push({ at: p.seq, order: 2, packet: p });
  points.sort((a, b) => a.at - b.at || a.order - b.order);
  const open = new Map<string, Set<CallEvent>>();
  /** Per host and descriptor: the socket's endpoints, as its connect, accept or bind said. */
  const sockets = new Map<string, { local?: string; remote?: string }>();
  /** Per host: the flows ("local|remote") some descriptor owns. */
  const owned = new Set<string>();
  const out = new Map<PacketEvent, CallEvent>();
  for (const point of points) {
    const c = point.call;
    if (c && point.order === 0) {
      let set = open.get(c.who);
      if (!set) open.set(c.who, (set = new Set()));
      set.add(c);
    } else if (c) {
      open.get(c.who)?.delete(c);
      learn(c, sockets, owned);
    } else if (point.packet) {
      const p = point.packet;
      const candidates = open.get(p.who);
      if (!candidates || candidates.size === 0) continue;
      const { local, remote } = ends(p);
      const isOwned = owned.has(`${p.who}|${local}|${remote}`);
      let best: CallEvent | undefined;
      let bestScore = 0;
      for (const call of candidates) {
        const score = match(call, sockets.get(`${call.who}|${call.fd}`), local, remote, isOwned);
        if (score > bestScore || (score === bestScore && score > 0 && best !== undefined && (call.begin ?? 0) > (best.begin ?? 0))) {
          best = call;
          bestScore = score;
        }
      }
      if (best) out.set(p, best);
    }
  }
  return out;
}

/** How well a waiting call fits a packet: 3 its socket's two ends, 2 its local end (a listener, an unconnected UDP socket), 1 a socket not yet known; 0 not at all. */
function match(call: CallEvent, socket: { local?: string; remote?: string } | undefined, local: string, remote: string, owned: boolean): number {
  const named = call.address !== undefined && call.port !== undefined ? end(call.address, call.port) : undefined;
  switch (call.call) {
    case 'connect':
      return call.local === local && named === remote ? 3 : call.local === undefined && named === remote ? 2 : 0;
    case 'accept':
      if (owned) return 0;
      return call.local !== undefined ? (port(call.local) === port(local) ? 2 : 0) : 1;
    case 'sendto':
      return named === remote && (socket?.local === undefined || socket.local === local || wildcard(socket.local, local)) ? 2 : 0;
  }
  if (socket?.local !== undefined && socket.remote !== undefined) return socket.local === local && socket.remote === remote ? 3 : 0;
  if (socket?.local !== undefined) return socket.local === local || wildcard(socket.local, local) ? (owned ? 0 : 2) : 0;
  if (call.call === 'recvfrom' && named === remote) return 2;
  return owned ? 0 : 1;
}

function port(endpoint: string): string {
  return endpoint.slice(endpoint.lastIndexOf(':') + 1);
}

/** A socket bound to 0.0.0.0:P takes packets to any address on port P. */
function wildcard(bound: string, local: string): boolean {
  return bound.startsWith('0.0.0.0:') && port(bound) === port(local);
}

function learn(c: CallEvent, sockets: Map<string, { local?: string; remote?: string }>, owned: Set<string>): void {
  if (c.error !== undefined) return;
  const named = c.address !== undefined && c.port !== undefined ? end(c.address, c.port) : undefined;
  const set = (fd: number, local: string | undefined, remote: string | undefined) => {
    sockets.set(`${c.who}|${fd}`, { ...(local !== undefined ? { local } : {}), ...(remote !== undefined ? { remote } : {}) });
    if (local !== undefined && remote !== undefined) owned.add(`${c.who}|${local}|${remote}`);
  };
  switch (c.call) {
    case 'socket':
      if (typeof c.result === 'number') sockets.delete(`${c.who}|${c.result}`);
      break;
    case 'bind':
      set(c.fd, c.local, undefined);
      break;
    case 'connect':
      set(c.fd, c.local, named);
      break;
    case 'accept':
      if (typeof c.result === 'number') set(c.result, c.local, named);
      break;
  }
}

/** Relative sequence numbers per host and connection, and retransmissions: what tcpdump works out from the packets alone. */
class Numbering {
  private readonly flows = new Map<string, { isn: { out?: number; in?: number }; high: { out?: number; in?: number } }>();

  describe(p: PacketEvent): { text: string; retransmission: boolean } {
    if (p.malformed) return { text: `${p.proto.toUpperCase()} ${p.src} → ${p.dst} malformed (${p.malformed})`, retransmission: false };
    if (p.proto === 'udp' && p.udp) {
      const peer = p.direction === 'out' ? end(p.dst, p.dstPort) : end(p.src, p.srcPort);
      return { text: `UDP ${p.direction === 'out' ? 'to' : 'from'} ${peer}${p.udp.dns ? ` DNS ${p.udp.dns}` : ''} (${p.udp.payload})`, retransmission: false };
    }
    if (p.proto === 'icmp') return { text: `ICMP ${p.icmp ?? ''} ${p.direction === 'out' ? 'to' : 'from'} ${p.direction === 'out' ? p.dst : p.src}`, retransmission: false };
    if (p.proto !== 'tcp' || !p.tcp) return { text: `${p.proto === 'fragment' ? 'IP fragment' : 'IP'} ${p.src} → ${p.dst} length ${p.length}`, retransmission: false };
    const t = p.tcp;
    const { local, remote } = ends(p);
    const key = `${p.who}|${local}|${remote}`;
    let flow = this.flows.get(key);
    if (!flow || (t.flags & SYN && !(t.flags & ACK) && p.direction === 'out' && flow.isn.out !== t.seq)) {
      // A new SYN on a reused four-tuple starts a new connection.
      flow = { isn: {}, high: {} };
      this.flows.set(key, flow);
    }
    const me = p.direction;
    const other = me === 'out' ? 'in' : 'out';
    if (flow.isn[me] === undefined) flow.isn[me] = t.seq;
    const rel = (n: number, base: number | undefined) => (base === undefined ? n : (n - base) >>> 0);
    const seq = rel(t.seq, flow.isn[me]);
    const space = t.payload + (t.flags & SYN ? 1 : 0) + (t.flags & FIN ? 1 : 0);
    const high = flow.high[me];
    const retransmission = space > 0 && high !== undefined && !after(t.seq + space, high);
    if (space > 0 && (high === undefined || after(t.seq + space, high))) flow.high[me] = (t.seq + space) >>> 0;
    const parts = [flagString(t.flags)];
    if (space > 0) parts.push(`${seq}:${seq + t.payload}(${t.payload})`);
    if (t.flags & ACK) parts.push(`ack ${rel(t.ack, flow.isn[other])}`);
    parts.push(`win ${t.window}`);
    if (t.options.length > 0) parts.push(`<${t.options.join(',')}>`);
    const peer = me === 'out' ? `to ${remote}` : `from ${remote}`;
    return { text: `${parts.join(' ')} ${peer}`, retransmission };
  }
}

/** a is after b in sequence space (RFC 9293's modular comparison). */
function after(a: number, b: number): boolean {
  return ((a - b) | 0) > 0;
}
