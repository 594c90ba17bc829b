/**
 * Trace events: one per socket call, one per HTTP exchange (the client's), one
 * per DNS question and its outcome (the resolver's). A library, client or
 * resolver with no sink records nothing and builds nothing, so tracing off
 * costs one property check per call.
 *
 * This is vocabulary, not a renderer: every layer records into a TraceSink,
 * so the events and sinks sit at the base of the layers (beside src/errors.ts),
 * where any layer may import them; the renderers in src/trace/ read them.
 */

export interface CallEvent {
  readonly kind: 'call';
  /** Order of recording across all libraries sharing a sink. */
  seq: number;
  /** Whose library made the call ("client", "server"). */
  readonly who: string;
  /** Which protocol stack answered ("kernel", "user"). */
  readonly stack: string;
  readonly call: string;
  /** The descriptor, or -1 for calls without one. */
  readonly fd: number;
  /** When the call began, in milliseconds on the stack's clock. */
  readonly start: number;
  /** How long control stayed inside the socket library. */
  readonly waited: number;
  /** The address the call named or learned (connect's peer, bind's address, accept's and recvfrom's sender). */
  readonly address?: string;
  readonly port?: number;
  /** The socket's own address once the call settled it ("127.0.0.1:40123"): bind, connect, accept. */
  readonly local?: string;
  /** Bytes the caller offered (write, sendto) or room it gave (read, recvfrom). */
  readonly length?: number;
  /** The answer: a descriptor, a byte count, or "ok". */
  readonly result?: number | string;
  /** The error code when the call failed. */
  readonly error?: string;
  /** Anything else worth a glance: the socket type, the shutdown direction, the backlog. */
  readonly note?: string;
  /**
   * Where the sink's order stood when the call began (TraceSink.mark): every event whose seq lies
   * between `begin` and this call's own seq happened while the call was in the library. Absent when
   * the sink keeps no order.
   */
  readonly begin?: number;
}

/**
 * One HTTP exchange as the client saw it, recorded by the client itself when the response's
 * body has ended: what HAR and the HTML report are made of.
 */
export interface HttpEvent {
  readonly kind: 'http';
  seq: number;
  readonly who: string;
  readonly stack: string;
  /** The descriptor of the connection that carried it. */
  readonly fd: number;
  readonly method: string;
  readonly url: string;
  readonly httpVersion: '1.0' | '1.1';
  readonly requestHeaders: [string, string][];
  readonly requestBodySize: number;
  readonly status: number;
  readonly statusText: string;
  readonly responseHeaders: [string, string][];
  readonly responseBodySize: number;
  /** Size of the response head in bytes. */
  readonly responseHeadSize: number;
  /** When the exchange began (before any lookup), ms on the stack's clock. */
  readonly start: number;
  /** HAR 1.2's phases in ms; -1 where a phase did not happen (a reused connection has no dns or connect). */
  readonly timings: { dns: number; connect: number; send: number; wait: number; receive: number };
  readonly serverAddress?: string;
  /** Which connection (the client's local address and port), so reuse is visible. */
  readonly connection?: string;
  /** The connection had carried an earlier exchange (so dns and connect are -1). */
  readonly reused?: boolean;
}

/**
 * One DNS question, or what came of it, as the resolver saw it: `query` when the question
 * went out on a socket, then `answer` (a reply that matched it) or `failed` (none did). The
 * renderers know which socket calls were DNS from these, not from names or port numbers.
 */
export interface DnsEvent {
  readonly kind: 'dns';
  seq: number;
  readonly who: string;
  readonly stack: string;
  readonly phase: 'query' | 'answer' | 'failed';
  /** The descriptor the question went out on. */
  readonly fd: number;
  readonly transport: 'udp' | 'tcp';
  /** The server's address and port ("127.0.0.1:53"). */
  readonly server: string;
  /** The query ID. */
  readonly id: number;
  readonly name: string;
  /** The question's type ("A", "AAAA"). */
  readonly type: string;
  /** When the question was sent, or the answer (or failure) came, ms on the stack's clock. */
  readonly start: number;
  /** Bytes of the query or of the answer on the wire (without TCP's length prefix). */
  readonly size?: number;
  /** answer and failed: ms since the question was sent. */
  readonly elapsed?: number;
  /** answer: the response code ("NOERROR", "NXDOMAIN"), whether TC was set, the answer records' data. */
  readonly rcode?: string;
  readonly truncated?: boolean;
  readonly answers?: string[];
  /** failed: the error's code ("ERR_DNS_TIMEOUT"). */
  readonly error?: string;
}

/**
 * One IPv4 packet a host's user-space stack sent (`out`) or received (`in`), as a tap at its
 * device saw it (src/link/packet-tap.ts). Decoded into fields, not text: the renderers build the
 * tcpdump-style line (and the relative sequence numbers, which need the whole connection) only
 * when they draw. Which socket call it served is the renderer's to find: the call of the same
 * host whose [begin, seq] span holds this event's seq.
 */
export interface PacketEvent {
  readonly kind: 'packet';
  seq: number;
  /** The host, by the label its socket library records calls under ("client", "web-server"). */
  readonly who: string;
  readonly stack: string;
  readonly direction: 'out' | 'in';
  /** When the packet left or arrived, ms on the stack's clock. */
  readonly start: number;
  readonly src: string;
  readonly dst: string;
  /** The IPv4 identification field: with the addresses, what ties a packet sent to the same packet received. */
  readonly ipId: number;
  /** The whole IPv4 packet, in bytes. */
  readonly length: number;
  readonly proto: 'tcp' | 'udp' | 'icmp' | 'fragment' | 'other';
  readonly srcPort?: number;
  readonly dstPort?: number;
  readonly tcp?: PacketTcp;
  /** UDP: payload bytes, and the DNS message in one line when it is one ("A? www.example.test.", "1/0/0 A 10.0.0.80"). */
  readonly udp?: { readonly payload: number; readonly dns?: string };
  /** ICMP: "echo request id 1 seq 1", "unreachable port". */
  readonly icmp?: string;
  /** Why the packet could not be read past its IPv4 header ("bad-checksum"). */
  readonly malformed?: string;
}

export interface PacketTcp {
  /** The flag bits (wire/tcp.ts's FIN, SYN, RST, PSH, ACK, ...). */
  readonly flags: number;
  /** Absolute sequence and acknowledgment numbers, as on the wire. */
  readonly seq: number;
  readonly ack: number;
  /** The window field as sent, before scaling. */
  readonly window: number;
  /** Payload bytes. */
  readonly payload: number;
  /** Options as tcpdump names them: "mss 1460", "sackOK", "TS val 1 ecr 0", "wscale 7", "sack 1 {1:1449}". */
  readonly options: readonly string[];
}

export type TraceEvent = CallEvent | HttpEvent | DnsEvent | PacketEvent;

export interface TraceSink {
  record(event: TraceEvent): void;
  /** The next place in the sink's order, taken without recording anything; a sink that keeps no order has none. */
  mark?(): number | undefined;
}

/** Keeps events in memory, up to a bound; what does not fit is counted, not kept. */
export class TraceLog implements TraceSink {
  readonly events: TraceEvent[] = [];
  dropped = 0;
  private seq = 0;

  constructor(readonly limit = 100_000) {}

  mark(): number {
    return this.seq++;
  }

  record(event: TraceEvent): void {
    event.seq = this.seq++;
    if (this.events.length >= this.limit) {
      this.dropped++;
      return;
    }
    this.events.push(event);
  }

  clear(): void {
    this.events.length = 0;
    this.dropped = 0;
  }
}

/** Sends each event to several sinks; the first sink keeps the order. */
export class TraceTee implements TraceSink {
  constructor(private readonly sinks: TraceSink[]) {}
  mark(): number | undefined {
    return this.sinks[0]?.mark?.();
  }
  record(event: TraceEvent): void {
    for (const s of this.sinks) s.record(event);
  }
}
