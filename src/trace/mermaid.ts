/**
 * The seed's sequence diagram, drawn from a real trace: the same arrows
 * (prepare descriptor, connect and its OK, write, read, close, the
 * gethostbyname request and its answer) with the real descriptors,
 * addresses, ports and byte counts.
 *
 * Who talks to whom is worked out from the trace alone:
 *  - a socket owns the endpoints it bound or connected from (bind's and
 *    connect's `local`; accept's `local` names the listener's owner when its
 *    bind was not traced);
 *  - a connect is paired with the accept whose peer is the connect's local
 *    endpoint, and the two descriptors are the two ends of one pipe;
 *  - a UDP sendto to an owned endpoint is paired with the owner's recvfrom of
 *    the same size, which tells the sender's port.
 *
 * The side that connected (or sent first) is drawn as the seed draws the
 * application: its calls are arrows. The side that accepted (or answered)
 * is drawn as the other side: its accept is connect's "OK", its reads and
 * writes are notes over it, and its close is an arrow back. A peer that was
 * not traced is the participant "network".
 *
 * Calls are placed in the order they began, except calls that wait for the
 * other side (accept, read, recvfrom), which are placed when they returned,
 * which is when the connection or the data arrived; a read that was waiting
 * when the peer wrote its bytes is placed right after that write, so arrows
 * follow the bytes (the data before a FIN that followed it). A wait ended by
 * the side's own close is placed after that close.
 */
import type { CallEvent, HttpEvent, TraceEvent } from './events.js';
import { closeThatEnded, CLOSED_WHILE_WAITING, describeError, hostPort } from './text.js';

export interface MermaidOptions {
  /** A title above the diagram. */
  title?: string;
  /** Participant labels by `who`, instead of the ones made from the trace. */
  labels?: Readonly<Record<string, string>>;
  /** Participants (by `who`) to put first, left to right; the rest follow in the default order. */
  order?: readonly string[];
  /** At most this many messages; what is left is counted in a last note. Default 400. */
  maxMessages?: number;
}

/** The participant for peers that are not in the trace. */
export const NETWORK = 'network';

const DEFAULT_MAX_MESSAGES = 400;

type Proto = 'tcp' | 'udp';

/** One socket: a descriptor of one `who` from its socket() (or accept()) to its close(). */
interface Sock {
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

interface Item {
  /** Placement time on the stack's clock, then the recording order. */
  readonly time: number;
  readonly seq: number;
  readonly lines: string[];
}

/** A Mermaid `sequenceDiagram` of the trace. */
export function renderMermaid(events: readonly TraceEvent[], options: MermaidOptions = {}): string {
  const calls = events.filter((e): e is CallEvent => e.kind === 'call').sort(byStart);
  const https = events.filter((e): e is HttpEvent => e.kind === 'http').sort(byStart);
  const model = new Model(calls);
  const ids = new Ids();
  const used = new Set<string>();
  const p = (who: string): string => {
    used.add(who);
    return ids.of(who);
  };

  const items: Item[] = [];
  for (const e of calls) {
    const lines = model.draw(e, p);
    if (lines.length > 0) items.push({ ...model.place(e), lines });
  }
  for (const h of https) items.push({ time: h.start, seq: h.seq, lines: [drawHttp(h, model, p)] });
  items.sort((a, b) => a.time - b.time || a.seq - b.seq);

  const out: string[] = ['sequenceDiagram'];
  if (options.title) out.push(`  title ${mermaidText(options.title)}`);

  // Participants: who begins exchanges first (the application), then who answers, in order of first appearance.
  const appearance: string[] = [];
  for (const e of [...calls, ...https].sort(byStart)) if (!appearance.includes(e.who)) appearance.push(e.who);
  const initiators = appearance.filter((w) => model.initiates(w) || https.some((h) => h.who === w));
  const ordered = [...(options.order ?? []).filter((w) => appearance.includes(w))];
  for (const w of [...initiators, ...appearance]) if (!ordered.includes(w)) ordered.push(w);
  if (used.has(NETWORK) && !ordered.includes(NETWORK)) ordered.push(NETWORK);
  for (const who of ordered) {
    const label = options.labels?.[who] ?? model.label(who, https);
    out.push(`  participant ${ids.of(who)} as ${mermaidText(label, true)}`);
  }

  const max = Math.max(1, options.maxMessages ?? DEFAULT_MAX_MESSAGES);
  let shown = 0;
  let hidden = 0;
  let last: string | null = null;
  let repeat = 1;
  const flush = () => {
    if (last === null) return;
    out.push(`  ${last}${repeat > 1 ? ` ×${repeat}` : ''}`);
    last = null;
    repeat = 1;
  };
  for (const item of items) {
    // Consecutive identical single-line messages (a loop of equal reads) become one with a count.
    if (hidden === 0 && item.lines.length === 1 && item.lines[0] === last) {
      repeat++;
      continue;
    }
    if (hidden > 0 || shown + item.lines.length > max) {
      hidden += item.lines.length;
      continue;
    }
    flush();
    shown += item.lines.length;
    if (item.lines.length === 1) last = item.lines[0]!;
    else for (const line of item.lines) out.push(`  ${line}`);
  }
  flush();
  if (hidden > 0 && ordered.length > 0) {
    const span = ordered.length > 1 ? `${ids.of(ordered[0]!)},${ids.of(ordered[ordered.length - 1]!)}` : ids.of(ordered[0]!);
    out.push(`  Note over ${span}: ${mermaidText(`… ${hidden} more messages not shown`)}`);
  }
  return out.join('\n') + '\n';
}

// ---- the model: sockets, who owns which endpoint, which ends are paired ----

class Model {
  private readonly sockets = new Map<string, Sock[]>();
  private readonly sockOf = new Map<CallEvent, Sock>();
  private readonly owners = new Map<string, Sock>();
  /** Accepts drawn as a connect's reply, and the connect each answers. */
  private readonly replies = new Map<CallEvent, CallEvent>();
  private readonly consumed = new Set<CallEvent>();
  /** UDP sends and the traced socket they went to. */
  private readonly udpTargets = new Map<CallEvent, Sock>();
  private readonly whoInitiates = new Set<string>();
  /** Reads placed where the bytes they got were written, and waits placed after the close that ended them. */
  private readonly places = new Map<CallEvent, { time: number; seq: number }>();

  constructor(calls: readonly CallEvent[]) {
    this.assign(calls);
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
  private answers(s: Sock): boolean {
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
  private whoAt(proto: Proto, endpoint: string | undefined): string {
    if (!endpoint) return NETWORK;
    return this.ownerOf(proto, endpoint)?.who ?? NETWORK;
  }

  /** The participant at the other end of a stream socket. */
  private streamPeer(s: Sock): string | undefined {
    if (s.peer) return s.peer.who;
    if (!s.remote) return undefined;
    // An accepted socket's remote is its client's own address; a connected socket's is the server's.
    return s.accepted ? this.whoAt('tcp', s.remote) : this.whoAt(s.proto ?? 'tcp', s.remote);
  }

  /** The lines for one call. */
  draw(e: CallEvent, p: (who: string) => string): string[] {
    const me = p(e.who);
    const s = this.sockOf.get(e);
    const failed = e.error !== undefined;
    const self = (label: string) => [arrow(me, me, 'solid', failed, label)];
    const note = (label: string) => [`Note over ${me}: ${mermaidText(label)}`];
    const answering = s !== undefined && this.answers(s);
    switch (e.call) {
      case 'socket':
        return self(`socket(${e.note ?? ''})${outcome(e, `fd ${e.result}`)}`);
      case 'bind':
        return self(`bind(fd ${e.fd}, ${endpointArg(e)})${outcome(e, e.local ?? 'ok')}`);
      case 'listen':
        return self(`listen(fd ${e.fd}${e.note ? `, ${e.note}` : ''})${outcome(e, 'ok')}`);
      case 'connect': {
        const label = `connect(fd ${e.fd}, ${e.address ?? '?'}, ${e.port ?? '?'})`;
        if (s?.proto === 'udp') return self(`${label}${outcome(e, `ok, from ${e.local ?? '?'}`)}`);
        const accept = this.replies.get(e);
        const target = s?.peer ? p(s.peer.who) : p(e.address !== undefined ? this.whoAt('tcp', hostPort(e.address, e.port ?? 0)) : NETWORK);
        const request = arrow(me, target, 'dashed', false, label);
        if (failed) return [request, arrow(target, me, 'dashed', true, `✗ ${e.error}`)];
        const from = e.local ? `, from ${e.local}` : '';
        const reply = accept ? `OK (accept(fd ${accept.fd}) → fd ${accept.result}${from})` : `OK${e.local ? ` (from ${e.local})` : ''}`;
        return [request, arrow(target, me, 'dashed', false, reply)];
      }
      case 'accept': {
        if (this.consumed.has(e)) return [];
        const label = `accept(fd ${e.fd})`;
        if (failed) return note(stopped(e, label) ?? `${label} ✗ ${e.error}`);
        const from = e.address !== undefined ? ` from ${hostPort(e.address, e.port ?? 0)}` : '';
        return [arrow(p(NETWORK), me, 'dashed', false, `${label} → fd ${e.result}${from}`)];
      }
      case 'write': {
        const label = `write(fd ${e.fd}, ${e.length ?? '?'} B)${e.result !== undefined && e.result !== e.length ? ` → ${e.result} B` : ''}${failed ? ` ✗ ${e.error}` : ''}`;
        if (answering) return note(label);
        const peer = s?.proto === 'udp' ? this.udpPeer(e, s) : s ? this.streamPeer(s) : undefined;
        if (peer === undefined) return failed ? self(label) : note(label);
        const udpDns = s?.proto === 'udp' && isDnsish(peer, s.remote);
        return [arrow(me, p(peer), udpDns ? 'dashed' : 'solid', failed, udpDns ? `gethostbyname request: ${label}` : label)];
      }
      case 'read': {
        const label = `read(fd ${e.fd}, buffer ${e.length ?? '?'} B)`;
        if (failed) return note(stopped(e, label) ?? `${label} ✗ ${e.error}`);
        if (answering) return note(`${label} → ${e.result} B`);
        const peer = s?.proto === 'udp' ? this.udpPeer(e, s) : s ? this.streamPeer(s) : undefined;
        if (peer === undefined) return note(`${label} → ${e.result} B`);
        if (e.result === 0) {
          // End of stream: a traced peer's close was already drawn; an untraced one's is this.
          return s?.peer ? note(`${label} → 0 B, end of stream`) : [arrow(p(peer), me, 'dashed', false, `${label} → 0 B, end of stream`)];
        }
        const udpDns = s?.proto === 'udp' && isDnsish(peer, s.remote);
        return [arrow(p(peer), me, udpDns ? 'dashed' : 'solid', false, `${udpDns ? 'answer: ' : ''}${label} → ${e.result} B`)];
      }
      case 'sendto': {
        const to = e.address !== undefined ? hostPort(e.address, e.port ?? 0) : '?';
        const label = `sendto(fd ${e.fd}, ${e.length ?? '?'} B, ${e.address ?? '?'}, ${e.port ?? '?'})${failed ? ` ✗ ${e.error}` : ''}`;
        const target = this.udpTargets.get(e)?.who ?? (e.address !== undefined ? this.whoAt('udp', to) : NETWORK);
        if (answering && target !== NETWORK) return note(label);
        const dns = isDnsish(target, to);
        return [arrow(me, p(target), dns ? 'dashed' : 'solid', failed, dns ? `gethostbyname request: ${label}` : label)];
      }
      case 'recvfrom': {
        const label = `recvfrom(fd ${e.fd}, buffer ${e.length ?? '?'} B)`;
        if (failed) return note(stopped(e, label) ?? `${label} ✗ ${e.error}`);
        const from = hostPort(e.address ?? '?', e.port ?? 0);
        const result = `${label} → ${e.result} B from ${from}`;
        const source = e.address !== undefined ? this.whoAt('udp', from) : NETWORK;
        if (answering && source !== NETWORK) return note(result);
        const dns = isDnsish(source, from);
        return [arrow(p(source), me, dns ? 'dashed' : 'solid', false, dns ? `answer: ${result}` : result)];
      }
      case 'shutdown':
      case 'close': {
        const label = `${e.call}(fd ${e.fd}${e.note ? `, ${e.note}` : ''})${failed ? ` ✗ ${e.error}` : ''}`;
        const peer = s && s.proto !== 'udp' && !s.listening && !failed ? this.streamPeer(s) : undefined;
        if (peer === undefined) return self(label);
        return [arrow(me, p(peer), 'dashed', false, label)];
      }
      default: {
        const args = e.fd >= 0 ? `fd ${e.fd}` : '';
        return self(`${e.call}(${args})${outcome(e, e.result === undefined ? 'ok' : String(e.result))}`);
      }
    }
  }

  private udpPeer(e: CallEvent, s: Sock): string | undefined {
    const to = this.udpTargets.get(e);
    if (to) return to.who;
    return s.remote ? this.whoAt('udp', s.remote) : undefined;
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

function drawHttp(h: HttpEvent, model: Model, p: (who: string) => string): string {
  const me = p(h.who);
  const server = model.httpServer(h);
  const over = server && server !== h.who ? `${me},${p(server)}` : me;
  const total = [h.timings.dns, h.timings.connect, h.timings.send, h.timings.wait, h.timings.receive].filter((t) => t >= 0).reduce((a, b) => a + b, 0);
  return `Note over ${over}: ${mermaidText(`HTTP ${h.method} ${h.url} → ${h.status} ${h.statusText} (fd ${h.fd}, ${total.toFixed(1)} ms)`)}`;
}

// ---- text ----

function arrow(from: string, to: string, style: 'solid' | 'dashed', failed: boolean, label: string): string {
  const head = failed ? (style === 'solid' ? '-x' : '--x') : style === 'solid' ? '->>' : '-->>';
  return `${from}${head}${to}: ${mermaidText(label)}`;
}

/** A wait the side's own close ended is no failure: "accept(fd 3) → stopped waiting: fd 3 was closed (EBADF)". */
function stopped(e: CallEvent, label: string): string | null {
  return e.note === CLOSED_WHILE_WAITING ? `${label} → ${describeError(e)}` : null;
}

/** " → fd 3", or " ✗ EMFILE". */
function outcome(e: CallEvent, ok: string): string {
  return e.error ? ` ✗ ${e.error}` : ` → ${ok}`;
}

function endpointArg(e: CallEvent): string {
  return e.address !== undefined ? hostPort(e.address, e.port ?? 0) : '?';
}

/**
 * Text safe anywhere Mermaid takes text. Mermaid's own escape is `#code;`
 * (decimal), turned into an HTML entity after parsing. Escaped: what ends a
 * message (`;`, `#`, a line break), what starts a directive (`%%{`), HTML
 * (`<`, `>`, `&`), braces, and in participant labels what ends the label
 * (`:`, `,`, `@`). Also broken up: the words "style" and "classDef", which
 * Mermaid's entity pre-pass treats specially on a line with `:` and `#`, and
 * a leading "wrap:" or "nowrap:", which is a directive.
 */
export function mermaidText(value: string, label = false): string {
  let s = value.replace(/[\r\n\t]+/g, ' ');
  const special = label ? /[#;%<>&{}:,@"\uFB02\u00B6]/g : /[#;%<>&{}"\uFB02\u00B6]/g;
  s = s.replace(special, (c) => `#${c.codePointAt(0)};`);
  s = s.replace(/style/g, 'st#121;le').replace(/classDef/g, 'class#68;ef');
  if (/^\s*(?:no)?wrap:/i.test(s)) s = s.replace(/^(\s*)(\S)/, (_, space: string, c: string) => `${space}#${c.codePointAt(0)};`);
  return s.trim() === '' ? '#32;' : s;
}

// ---- helpers ----

class Ids {
  private readonly ids = new Map<string, string>();
  private readonly taken = new Set<string>();

  /** A Mermaid-safe participant id for a who: letters, digits and _, never a keyword, never a number. */
  of(who: string): string {
    let id = this.ids.get(who);
    if (id) return id;
    let base = who.replace(/[^A-Za-z0-9_]/g, '_') || 'p';
    if (/^[0-9]/.test(base) || KEYWORDS.has(base.toLowerCase()) || /^x/i.test(base)) base = `p_${base}`;
    id = base;
    for (let i = 2; this.taken.has(id.toLowerCase()); i++) id = `${base}_${i}`;
    this.taken.add(id.toLowerCase());
    this.ids.set(who, id);
    return id;
  }
}

/** Words Mermaid's sequence lexer reads as keywords wherever an id could stand. */
const KEYWORDS = new Set([
  'participant', 'actor', 'as', 'box', 'create', 'destroy', 'loop', 'rect', 'opt', 'alt', 'else', 'par', 'par_over', 'and',
  'critical', 'option', 'break', 'end', 'left', 'right', 'of', 'links', 'link', 'properties', 'details', 'over', 'note',
  'activate', 'deactivate', 'title', 'acctitle', 'accdescr', 'sequencediagram', 'autonumber', 'off', 'wrap', 'nowrap',
]);

function byStart(a: TraceEvent, b: TraceEvent): number {
  return a.start - b.start || a.seq - b.seq;
}

function end(e: CallEvent): number {
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

function isDnsish(who: string, endpoint: string | undefined): boolean {
  return /dns|resolver|nameserver/i.test(who) || (endpoint !== undefined && /:53$/.test(endpoint));
}

function unique<T>(xs: T[]): T[] {
  return [...new Set(xs)];
}
