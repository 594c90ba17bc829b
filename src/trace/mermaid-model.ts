/**
 * The model behind the sequence diagram: the sockets in a trace, who owns
 * which endpoint, which two descriptors are the ends of one pipe, and where
 * each call is placed in time. Worked out from the trace alone:
 *  - a socket owns the endpoints it bound or connected from (bind's and
 *    connect's `local`; accept's `local` names the listener's owner when its
 *    bind was not traced);
 *  - a connect is paired with the accept whose peer is the connect's local
 *    endpoint, and the two descriptors are the two ends of one pipe;
 *  - a UDP sendto to an owned endpoint is paired with the owner's recvfrom of
 *    the same size, which tells the sender's port;
 *  - a stream read is matched, byte for byte, with the peer's write that sent
 *    its first byte;
 *  - a socket is a resolver's when the resolver recorded a DNS question on it
 *    (a DnsEvent naming its `who` and descriptor), and only then.
 */
import type { CallEvent, DnsEvent, HttpEvent } from '../trace-events.js';
import { hostPort } from '../wire/address.js';
import { closeThatEnded, CLOSED_WHILE_WAITING } from './text.js';

/** The participant for peers that are not in the trace. */
export const NETWORK = 'network';

export type Proto = 'tcp' | 'udp';

/** One socket: a descriptor of one `who` from its socket() (or accept()) to its close(). */
export interface Sock {
  readonly who: string;
  readonly fd: number;
  readonly birth: number;
  /** The recording order of the call that made it: breaks a tie of `birth` on a virtual clock. */
  readonly birthSeq: number;
  proto: Proto | undefined;
  /** The socket's own endpoint ("127.0.0.1:8080"), once known. */
  local?: string;
  /** The endpoint it connected to, or accepted from. */
  remote?: string;
  /** The traced socket at the other end of the pipe. */
  peer?: Sock;
  accepted: boolean;
  listening: boolean;
  /** A traced socket sent to this one. */
  targeted: boolean;
  /** This socket sent (write, sendto) before it received anything. */
  sentFirst?: boolean;
  /** The accept that made this socket, drawn as its connect's reply. */
  acceptEvent?: CallEvent;
}

export class Model {
  private readonly sockets = new Map<string, Sock[]>();
  readonly sockOf = new Map<CallEvent, Sock>();
  private readonly owners = new Map<string, Sock>();
  /** Accepts drawn as a connect's reply, and the connect each answers. */
  readonly replies = new Map<CallEvent, CallEvent>();
  readonly consumed = new Set<CallEvent>();
  /** UDP sends and the traced socket they went to. */
  readonly udpTargets = new Map<CallEvent, Sock>();
  private readonly whoInitiates = new Set<string>();
  /** Reads placed where the bytes they got were written, and waits placed after the close that ended them. */
  private readonly places = new Map<CallEvent, { time: number; seq: number }>();

  /** Sockets a resolver asked its questions on. */
  private readonly dnsSockets = new Set<Sock>();

  constructor(calls: readonly CallEvent[], dns: readonly DnsEvent[] = []) {
    this.assign(calls);
    this.resolvers(dns);
    this.own(calls);
    this.pairStreams(calls);
    this.pairDatagrams(calls);
    this.roles(calls);
    this.flows(calls);
  }

  /** Places each call on the socket its descriptor named when the call began. */
  private assign(calls: readonly CallEvent[]): void {
    const births: { e: CallEvent; fd: number; at: number; proto: Proto | undefined; accepted: boolean }[] = [];
    for (const e of calls) {
      if (e.error || typeof e.result !== 'number') continue;
      if (e.call === 'socket') births.push({ e, fd: e.result, at: e.start, proto: protoOf(e.note), accepted: false });
      else if (e.call === 'accept') births.push({ e, fd: e.result, at: end(e), proto: 'tcp', accepted: true });
    }
    births.sort((a, b) => a.at - b.at || a.e.seq - b.e.seq);
    for (const b of births) {
      const s: Sock = { who: b.e.who, fd: b.fd, birth: b.at, birthSeq: b.e.seq, proto: b.proto, accepted: b.accepted, listening: false, targeted: false };
      if (b.accepted) {
        s.acceptEvent = b.e;
        s.local = b.e.local;
        if (b.e.address !== undefined) s.remote = hostPort(b.e.address, b.e.port ?? 0);
      }
      this.list(b.e.who, b.fd).push(s);
    }
    for (const e of calls) {
      if (e.call === 'socket' || e.fd < 0) continue;
      const list = this.list(e.who, e.fd);
      // The newest socket on that descriptor born before the call began (at one instant, recorded before it); one made up if the trace began later.
      let s: Sock | undefined;
      for (const c of list) if (c.birth < e.start || (c.birth === e.start && c.birthSeq < e.seq)) s = c;
      if (!s) {
        s = { who: e.who, fd: e.fd, birth: -Infinity, birthSeq: -1, proto: undefined, accepted: false, listening: false, targeted: false };
        list.unshift(s);
      }
      this.sockOf.set(e, s);
      if (!s.proto) s.proto = protoFromCall(e.call);
    }
  }

  /** The socket each DNS question went out on: the newest on its descriptor born before the question was sent. */
  private resolvers(dns: readonly DnsEvent[]): void {
    for (const q of dns) {
      if (q.phase !== 'query') continue;
      let s: Sock | undefined;
      for (const c of this.sockets.get(`${q.who}\u0000${q.fd}`) ?? []) if (c.birth <= q.start) s = c;
      if (s) this.dnsSockets.add(s);
    }
  }

  /** Did a resolver ask a DNS question on this socket? */
  isDns(s: Sock | undefined): boolean {
    return s !== undefined && this.dnsSockets.has(s);
  }

  private list(who: string, fd: number): Sock[] {
    const key = `${who}\u0000${fd}`;
    let list = this.sockets.get(key);
    if (!list) this.sockets.set(key, (list = []));
    return list;
  }

  /** Who owns which endpoint: bind and connect name the socket's own address; accept names its listener's. */
  private own(calls: readonly CallEvent[]): void {
    for (const e of calls) {
      const s = this.sockOf.get(e);
      if (!s || e.error) continue;
      if (e.call === 'listen') s.listening = true;
      if ((e.call === 'bind' || e.call === 'connect') && e.local) {
        s.local = e.local;
        this.setOwner(s.proto ?? 'tcp', e.local, s);
      }
      if (e.call === 'connect' && e.address !== undefined) s.remote = hostPort(e.address, e.port ?? 0);
      if (e.call === 'accept') s.listening = true;
    }
    // An accept's local address is the listener's: a fallback owner when the bind was not traced.
    for (const e of calls) {
      const s = this.sockOf.get(e);
      if (s && e.call === 'accept' && !e.error && e.local && !this.owners.has(key('tcp', e.local))) this.setOwner('tcp', e.local, s);
    }
  }

  private setOwner(proto: Proto, endpoint: string, s: Sock): void {
    if (!this.owners.has(key(proto, endpoint))) this.owners.set(key(proto, endpoint), s);
  }

  /** The socket that owns `address:port`, a wildcard bind included. */
  owner(proto: Proto, address: string, port: number): Sock | undefined {
    return (
      this.owners.get(key(proto, hostPort(address, port))) ??
      (address.includes(':') ? this.owners.get(key(proto, `[::]:${port}`)) : this.owners.get(key(proto, `0.0.0.0:${port}`)) ?? this.owners.get(key(proto, `[::]:${port}`)))
    );
  }

  /** Each connect with the accept at the other end: the accept's peer is the connect's local endpoint. */
  private pairStreams(calls: readonly CallEvent[]): void {
    const accepted = [...this.sockets.values()].flat().filter((s) => s.accepted && s.acceptEvent);
    for (const e of calls) {
      const s = this.sockOf.get(e);
      if (!s || e.call !== 'connect' || e.error || s.proto === 'udp' || !e.local) continue;
      this.whoInitiates.add(e.who);
      let best: Sock | undefined;
      for (const a of accepted) {
        if (a.peer || a.remote !== e.local) continue;
        const at = end(a.acceptEvent!);
        if (at < e.start) continue;
        if (!best || at < end(best.acceptEvent!)) best = a;
      }
      if (best) {
        s.peer = best;
        best.peer = s;
        this.replies.set(e, best.acceptEvent!);
        this.consumed.add(best.acceptEvent!);
      }
    }
  }

  /** Each UDP send to a traced socket, and the sender's port learned from the matching receive. */
  private pairDatagrams(calls: readonly CallEvent[]): void {
    const matched = new Set<CallEvent>();
    for (const e of calls) {
      const s = this.sockOf.get(e);
      if (!s || e.error) continue;
      let to: Sock | undefined;
      if (e.call === 'sendto' && e.address !== undefined) to = this.owner('udp', e.address, e.port ?? 0);
      else if (e.call === 'write' && s.proto === 'udp' && s.remote) to = this.ownerOf('udp', s.remote);
      if (!to || to === s) continue;
      this.udpTargets.set(e, to);
      to.targeted = true;
      if (s.local) continue;
      // The receiver saw the sender's address: the earliest receive of the same size that ended after the send began.
      let best: CallEvent | undefined;
      for (const r of calls) {
        if (r.call !== 'recvfrom' || r.error || matched.has(r) || this.sockOf.get(r) !== to || r.result !== e.result || end(r) < e.start) continue;
        if (!best || end(r) < end(best)) best = r;
      }
      if (best && best.address !== undefined) {
        matched.add(best);
        s.local = hostPort(best.address, best.port ?? 0);
        this.setOwner('udp', s.local, s);
      }
    }
  }

  private ownerOf(proto: Proto, endpoint: string): Sock | undefined {
    const { address, port } = splitEndpoint(endpoint);
    return this.owner(proto, address, port);
  }

  /** A socket that was sent to and received before it sent is the answering side. */
  private roles(calls: readonly CallEvent[]): void {
    for (const e of calls) {
      const s = this.sockOf.get(e);
      if (!s || s.sentFirst !== undefined) continue;
      if (e.call === 'write' || e.call === 'sendto') s.sentFirst = true;
      else if ((e.call === 'read' || e.call === 'recvfrom') && !e.error) s.sentFirst = false;
    }
    for (const e of this.udpTargets.keys()) {
      const from = this.sockOf.get(e)!;
      if (!this.answers(from)) this.whoInitiates.add(from.who);
    }
  }

  /** The socket is the answering end of an exchange with a traced peer: its calls become notes. */
  answers(s: Sock): boolean {
    if (s.accepted) return s.peer !== undefined;
    return s.proto === 'udp' && s.targeted && s.sentFirst === false;
  }

  initiates(who: string): boolean {
    return this.whoInitiates.has(who);
  }

  /**
   * Where each stream read's first byte was written: a read that was already waiting then is
   * placed just after that write. Bytes are matched in order, write by write, on each pipe.
   */
  private flows(calls: readonly CallEvent[]): void {
    const writes = new Map<Sock, CallEvent[]>();
    const reads = new Map<Sock, CallEvent[]>();
    for (const e of calls) {
      const s = this.sockOf.get(e);
      if (e.note === CLOSED_WHILE_WAITING) {
        const closer = closeThatEnded(calls, e);
        if (closer) this.places.set(e, { time: Math.max(end(e), closer.start), seq: Math.max(e.seq, closer.seq + 0.5) });
      }
      if (!s || s.proto === 'udp' || e.error || typeof e.result !== 'number' || e.result <= 0) continue;
      const into = e.call === 'write' ? writes : e.call === 'read' ? reads : null;
      if (!into) continue;
      let list = into.get(s);
      if (!list) into.set(s, (list = []));
      list.push(e);
    }
    for (const [s, rs] of reads) {
      const ws = s.peer ? writes.get(s.peer) : undefined;
      if (!ws) continue;
      let w = 0;
      let written = (ws[0]!.result as number);
      let offset = 0;
      for (const r of rs) {
        while (w < ws.length - 1 && written <= offset) written += ws[++w]!.result as number;
        const from = ws[w]!;
        if (written > offset && from.start > r.start) this.places.set(r, { time: from.start, seq: from.seq + 0.5 });
        offset += r.result as number;
      }
    }
  }

  /** When a call is drawn: calls that wait for the other side are drawn when they returned, or when their bytes were sent. */
  place(e: CallEvent): { time: number; seq: number } {
    return this.places.get(e) ?? { time: e.call === 'accept' || e.call === 'read' || e.call === 'recvfrom' ? end(e) : e.start, seq: e.seq };
  }

  /** The participant for an endpoint: its owner's who, or the network. */
  whoAt(proto: Proto, endpoint: string | undefined): string {
    if (!endpoint) return NETWORK;
    return this.ownerOf(proto, endpoint)?.who ?? NETWORK;
  }

  /** The participant at the other end of a stream socket. */
  streamPeer(s: Sock): string | undefined {
    if (s.peer) return s.peer.who;
    if (!s.remote) return undefined;
    // An accepted socket's remote is its client's own address; a connected socket's is the server's.
    return s.accepted ? this.whoAt('tcp', s.remote) : this.whoAt(s.proto ?? 'tcp', s.remote);
  }

  /** The server's participant for an HTTP exchange: who owns the URL's address, or the far end of its connection. */
  httpServer(h: HttpEvent): string | undefined {
    let port = 80;
    try {
      const u = new URL(h.url);
      port = u.port ? Number(u.port) : u.protocol === 'https:' ? 443 : 80;
    } catch {
      // not a URL: fall back on the connection
    }
    if (h.serverAddress) {
      const owner = this.owner('tcp', h.serverAddress, port);
      if (owner) return owner.who;
    }
    if (h.connection) {
      const client = this.owners.get(key('tcp', h.connection));
      if (client?.peer) return client.peer.who;
      if (client?.remote) return this.whoAt('tcp', client.remote);
    }
    return undefined;
  }

  /** "client (app → socket library)", "server (web server on 127.0.0.1:8080)", "dns-server (tcp 127.0.0.1:5353; udp 127.0.0.1:5353)". */
  label(who: string, https: readonly HttpEvent[]): string {
    if (who === NETWORK) return 'network (peers not in the trace)';
    const mine = [...this.sockets.values()].flat().filter((s) => s.who === who);
    const listens = unique(mine.filter((s) => s.listening && !s.accepted && s.local).map((s) => s.local!));
    const answersUdp = unique(mine.filter((s) => s.proto === 'udp' && this.answers(s) && s.local).map((s) => s.local!));
    const web = https.some((h) => this.httpServer(h) === who);
    const roles: string[] = [];
    if (listens.length > 0) roles.push(web ? `web server on ${listens.join(', ')}` : `tcp ${listens.join(', ')}`);
    if (answersUdp.length > 0) roles.push(`udp ${answersUdp.join(', ')}`);
    if (roles.length === 0 && this.initiates(who)) roles.push('app → socket library');
    return roles.length > 0 ? `${who} (${roles.join('; ')})` : who;
  }
}

export function end(e: CallEvent): number {
  return e.start + e.waited;
}

function key(proto: Proto, endpoint: string): string {
  return `${proto} ${endpoint}`;
}

function protoOf(note: string | undefined): Proto | undefined {
  return note === 'tcp' || note === 'udp' ? note : undefined;
}

function protoFromCall(call: string): Proto | undefined {
  if (call === 'sendto' || call === 'recvfrom') return 'udp';
  if (call === 'listen' || call === 'accept' || call === 'shutdown') return 'tcp';
  return undefined;
}

function splitEndpoint(endpoint: string): { address: string; port: number } {
  const m = /^\[(.*)\]:(\d+)$/.exec(endpoint) ?? /^(.*):(\d+)$/.exec(endpoint);
  return m ? { address: m[1]!, port: Number(m[2]) } : { address: endpoint, port: 0 };
}

function unique<T>(xs: T[]): T[] {
  return [...new Set(xs)];
}
