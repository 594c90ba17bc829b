/**
 * An authoritative DNS server over the socket library: a UDP loop and a TCP
 * accept loop on one address and port, both answering from the same zones.
 * Every datagram and every TCP message goes through `respond`, which never
 * throws: whatever arrives, the loops keep answering.
 */
import { SocketError } from '../socket/errors.js';
import type { SocketLibrary } from '../socket/library.js';
import { ShedOrder } from '../socket/shedding.js';
import { decodeHeader, decodeMessage, encodeMessage, frameTcp } from '../wire/dns/index.js';
import { isSubdomain, normalizeName } from '../wire/dns/name.js';
import { CLASS, OPCODE, RCODE, TYPE, emptyMessage, type DnsMessage } from '../wire/dns/types.js';
import { RateLimiter, type RateLimitOptions } from './rate-limit.js';
import type { Zone } from './zone.js';

export interface DnsServerOptions {
  /** Default 127.0.0.1. */
  address?: string;
  /** Default 0: the stack picks one free for both UDP and TCP. */
  port?: number;
  /**
   * The largest UDP response we send to an EDNS client, and what our OPT advertises (RFC 6891 §6.2.5).
   * Default 1232, the DNS flag day 2020 value (as the resolver offers): no IP fragmentation, and a
   * 45-byte query cannot draw more than about 27 times its size.
   */
  udpSize?: number;
  /** Milliseconds a TCP client has for each whole query (from the connection or the last answer), and for taking each answer; then we close. Default 10 s. */
  idleTimeout?: number;
  /** TCP connections open at once; at the cap the longest idle one (else the slowest) is closed for a newcomer. Default 64. */
  maxTcpConnections?: number;
  /** Response-rate limiting of UDP answers per source network (BIND's RRL); off by default. */
  rateLimit?: RateLimitOptions;
}

export interface DnsServerStats {
  /** Messages received, over UDP and TCP. */
  queries: number;
  responses: number;
  /** Messages left unanswered: shorter than a header, or responses themselves. */
  dropped: number;
  /** FORMERR responses: messages that could not be decoded, or did not ask one question. */
  formErrors: number;
  /** Responses cut short with TC=1 (over UDP; over TCP only past 65535 bytes). */
  truncated: number;
  /** Socket errors the loops survived. */
  errors: number;
  tcpConnections: number;
  /** Idle or slow TCP connections closed to make room for new ones. */
  shed: number;
  /** UDP answers withheld by the rate limit (sent as a bare TC reply or not at all). */
  rateLimited: number;
}

/** One TCP connection: an object of its own, since its descriptor number is reused once closed. */
interface TcpConnection {
  fd: number;
  task: Promise<void> | null;
}

/** Without EDNS a UDP message is at most 512 bytes (RFC 1035 §4.2.1). */
const PLAIN_UDP_SIZE = 512;
/** A TCP message's 2-byte length prefix allows no more (RFC 1035 §4.2.2). */
const MAX_TCP_SIZE = 65_535;
/** Zone transfers (refused: we do not serve them) and the obsolete mail QTYPEs (not implemented). */
const AXFR = 252;
const IXFR = 251;
const MAILB = 253;
const MAILA = 254;
/** Answers kept, keyed by the query's bytes after its ID; past this the oldest goes. */
const ANSWER_CACHE_SIZE = 4096;
/** Longer queries (many EDNS options, several questions) are answered afresh and not kept. */
const CACHEABLE_QUERY = 512;

/** A response kept for its question: the bytes (ID to be replaced) and what it adds to the stats. */
interface CachedAnswer {
  bytes: Uint8Array;
  formError: boolean;
  truncated: boolean;
}

/** Starts a server for `zones` on the library's stack and resolves once both sockets listen. */
export async function serveDns(lib: SocketLibrary, zones: readonly Zone[], options: DnsServerOptions = {}): Promise<DnsServer> {
  const server = new DnsServer(lib, zones, options);
  await server.open();
  return server;
}

export class DnsServer {
  readonly stats: DnsServerStats = { queries: 0, responses: 0, dropped: 0, formErrors: 0, truncated: 0, errors: 0, tcpConnections: 0, shed: 0, rateLimited: 0 };
  /** The address and port both sockets are bound to; the port is known once open() resolves. */
  address: string;
  port = 0;
  private readonly zones: readonly Zone[];
  private readonly udpSize: number;
  private readonly idleTimeout: number;
  private readonly maxTcp: number;
  private readonly limiter: RateLimiter | null;
  private readonly wantedPort: number;
  private udpFd = -1;
  private tcpFd = -1;
  private closed = false;
  private closing: Promise<void> | null = null;
  private readonly loops: Promise<void>[] = [];
  /** Open connections; whoever deletes one closes its descriptor, exactly once. */
  private readonly connections = new Set<TcpConnection>();
  /** Which connection to close first when the cap is reached. */
  private readonly shedOrder = new ShedOrder<TcpConnection>();
  private slotWaiters: (() => void)[] = [];
  /**
   * Responses by query bytes. Zones cannot change once built (Zone is immutable) and the answer
   * depends only on the bytes after the ID and the transport, so a kept answer is always the one
   * `answer` would build again; the question's spelling is in the key, so its case comes back as sent.
   */
  private readonly answers = new Map<string, CachedAnswer>();

  constructor(
    private readonly lib: SocketLibrary,
    zones: readonly Zone[],
    options: DnsServerOptions = {},
  ) {
    this.zones = [...zones];
    const origins = new Set<string>();
    for (const zone of this.zones) {
      const key = `${zone.class}/${normalizeName(zone.origin)}`;
      if (origins.has(key)) throw new Error(`two zones for ${zone.origin || '.'}`);
      origins.add(key);
    }
    this.address = options.address ?? '127.0.0.1';
    this.wantedPort = options.port ?? 0;
    this.udpSize = options.udpSize ?? 1232;
    this.limiter = options.rateLimit ? new RateLimiter(options.rateLimit) : null;
    this.idleTimeout = options.idleTimeout ?? 10_000;
    this.maxTcp = options.maxTcpConnections ?? 64;
    if (!Number.isInteger(this.udpSize) || this.udpSize < PLAIN_UDP_SIZE || this.udpSize > MAX_TCP_SIZE) throw new RangeError('udpSize must be 512-65535');
    if (!(this.idleTimeout > 0)) throw new RangeError('idleTimeout must be a positive number of milliseconds');
    if (!Number.isInteger(this.maxTcp) || this.maxTcp < 1) throw new RangeError('maxTcpConnections must be at least 1');
  }

  /** Binds UDP, then TCP on the same port, and starts both loops. */
  async open(): Promise<void> {
    if (this.closed) throw new Error('the server is closed');
    if (this.udpFd >= 0) throw new Error('the server is already open');
    const lib = this.lib;
    for (let attempt = 1; ; attempt++) {
      const udp = await lib.socket('udp');
      try {
        await lib.bind(udp, this.address, this.wantedPort);
      } catch (e) {
        await lib.close(udp);
        throw e;
      }
      const { port } = await lib.getsockname(udp);
      const tcp = await lib.socket('tcp');
      try {
        await lib.bind(tcp, this.address, port);
        await lib.listen(tcp, 128);
      } catch (e) {
        await lib.close(tcp);
        await lib.close(udp);
        // The port the stack picked for UDP may be taken for TCP; pick again.
        if (this.wantedPort === 0 && e instanceof SocketError && e.code === 'EADDRINUSE' && attempt < 10) continue;
        throw e;
      }
      if (this.closed) {
        // close() came while we were binding: it had nothing to close yet.
        await lib.close(tcp);
        await lib.close(udp);
        throw new Error('the server was closed while opening');
      }
      this.udpFd = udp;
      this.tcpFd = tcp;
      this.port = port;
      break;
    }
    this.loops.push(this.udpLoop(), this.acceptLoop());
  }

  /** Stops both loops and closes every descriptor the server holds. */
  close(): Promise<void> {
    if (this.closing) return this.closing;
    this.closed = true;
    this.closing = (async () => {
      for (const wake of this.slotWaiters.splice(0)) wake();
      // Closing a descriptor wakes the call sleeping on it with EBADF, which ends its loop.
      for (const fd of [this.udpFd, this.tcpFd]) if (fd >= 0) await this.lib.close(fd).catch(() => {});
      const tasks = [...this.connections].map((c) => c.task);
      for (const c of [...this.connections]) await this.closeConnection(c);
      await Promise.allSettled([...this.loops, ...tasks]);
    })();
    return this.closing;
  }

  /**
   * The response to one message as bytes, or null to send nothing. Never
   * throws. Over UDP the response fits the client's limit (512 bytes, or its
   * EDNS size up to ours) and says TC=1 when the answer did not; over TCP it
   * may take 65535 bytes.
   */
  respond(query: Uint8Array, transport: 'udp' | 'tcp'): Uint8Array | null {
    this.stats.queries++;
    // Nothing to answer to, or a response: answering a response invites loops between servers.
    if (query.length < 12 || (query[2]! & 0x80) !== 0) {
      this.stats.dropped++;
      return null;
    }
    const key = query.length <= CACHEABLE_QUERY ? keyOf(query, transport) : null;
    const kept = key === null ? undefined : this.answers.get(key);
    if (kept) {
      const bytes = kept.bytes.slice();
      bytes[0] = query[0]!;
      bytes[1] = query[1]!;
      if (kept.formError) this.stats.formErrors++;
      if (kept.truncated) this.stats.truncated++;
      return bytes;
    }
    const formErrors = this.stats.formErrors;
    const bytes = this.build(query, transport);
    if (bytes && key !== null) {
      if (this.answers.size >= ANSWER_CACHE_SIZE) this.answers.delete(this.answers.keys().next().value!);
      this.answers.set(key, { bytes: bytes.slice(), formError: this.stats.formErrors !== formErrors, truncated: (bytes[2]! & 0x02) !== 0 });
    }
    return bytes;
  }

  /** The response to a query not answered before, counted in the stats; null to send nothing. */
  private build(query: Uint8Array, transport: 'udp' | 'tcp'): Uint8Array | null {
    const header = decodeHeader(query)!;
    let reply: DnsMessage;
    let decoded: DnsMessage | null = null;
    try {
      decoded = decodeMessage(query, { maxSize: MAX_TCP_SIZE });
      reply = this.answer(decoded);
    } catch {
      // Undecodable: FORMERR with the same ID, opcode and RD, and no question (RFC 1035 §4.1.1).
      reply = emptyMessage({ id: header.id, qr: true, opcode: header.opcode, rd: (query[2]! & 0x01) !== 0, rcode: RCODE.FORMERR });
    }
    const limit = transport === 'tcp' ? MAX_TCP_SIZE : decoded?.edns ? Math.min(Math.max(decoded.edns.udpSize, PLAIN_UDP_SIZE), this.udpSize) : PLAIN_UDP_SIZE;
    let bytes: Uint8Array;
    try {
      bytes = encodeMessage(reply, { maxSize: limit });
    } catch {
      // An answer the encoder refuses (a zone built in code with a bad value) becomes SERVFAIL; an
      // error whose echoed questions do not fit (NOTIMP to 200 questions) goes without them.
      const failed = reply.rcode === RCODE.NOERROR || reply.rcode === RCODE.NXDOMAIN;
      const rcode = failed ? RCODE.SERVFAIL : reply.rcode;
      const questions = failed ? reply.questions : [];
      try {
        bytes = encodeMessage({ ...reply, rcode, aa: false, questions, answers: [], authorities: [], additionals: [] }, { maxSize: limit });
      } catch {
        this.stats.dropped++;
        return null;
      }
    }
    if (reply.rcode === RCODE.FORMERR) this.stats.formErrors++;
    if ((bytes[2]! & 0x02) !== 0) this.stats.truncated++;
    return bytes;
  }

  /** The response to a decoded query (RFC 1034 §4.3.2, RFC 6891 for EDNS). */
  private answer(query: DnsMessage): DnsMessage {
    const reply = emptyMessage({ id: query.id, qr: true, opcode: query.opcode, rd: query.rd, cd: query.cd, questions: query.questions });
    if (query.edns) {
      // Our own OPT: our size, version 0, DO copied (RFC 3225 §3); the client's options are not echoed.
      reply.edns = { udpSize: this.udpSize, version: 0, dnssecOk: query.edns.dnssecOk, options: [] };
      if (query.edns.version > 0) return { ...reply, rcode: RCODE.BADVERS };
    }
    if (query.opcode !== OPCODE.QUERY) return { ...reply, rcode: RCODE.NOTIMP };
    if (query.questions.length !== 1) return { ...reply, questions: [], rcode: RCODE.FORMERR };
    const q = query.questions[0]!;
    if (q.type === TYPE.OPT) return { ...reply, rcode: RCODE.FORMERR };
    if (q.type === AXFR || q.type === IXFR) return { ...reply, rcode: RCODE.REFUSED };
    if (q.type === MAILB || q.type === MAILA) return { ...reply, rcode: RCODE.NOTIMP };
    const zone = this.zoneFor(q.name, q.class);
    if (!zone) return { ...reply, rcode: RCODE.REFUSED };
    const found = zone.lookup(q.name, q.type);
    return { ...reply, aa: found.authoritative, rcode: found.rcode, answers: found.answers, authorities: found.authorities, additionals: found.additionals };
  }

  /** The zone closest to the name (the longest origin it falls under), of the question's class. */
  private zoneFor(name: string, cls: number): Zone | null {
    let best: Zone | null = null;
    for (const zone of this.zones) {
      if (cls !== zone.class && cls !== CLASS.ANY) continue;
      if (!isSubdomain(name, zone.origin)) continue;
      if (!best || zone.origin.length > best.origin.length) best = zone;
    }
    return best;
  }

  // ---- UDP ----

  private async udpLoop(): Promise<void> {
    const buffer = new Uint8Array(65_536);
    while (!this.closed) {
      let from;
      try {
        from = await this.lib.recvfrom(this.udpFd, buffer);
      } catch (e) {
        if (this.closed || code(e) === 'EBADF') return;
        if (code(e) !== 'ETIMEDOUT') await this.survived();
        continue;
      }
      const query = buffer.subarray(0, from.bytes);
      let reply = this.respond(query, 'udp');
      if (!reply) continue;
      const verdict = this.limiter?.check(from.address, this.lib.stack.now()) ?? 'send';
      if (verdict !== 'send') {
        this.stats.rateLimited++;
        reply = verdict === 'slip' ? slipReply(query) : null;
        if (!reply) continue;
      }
      try {
        await this.lib.sendto(this.udpFd, reply, from.address, from.port);
        this.stats.responses++;
      } catch {
        if (this.closed) return;
        await this.survived();
      }
    }
  }

  // ---- TCP ----

  private async acceptLoop(): Promise<void> {
    while (!this.closed) {
      // At the bound with no connection to shed (all answering), new clients wait in the backlog.
      while (this.connections.size >= this.maxTcp && this.shedOrder.size === 0 && !this.closed) await this.slot();
      if (this.closed) return;
      let fd: number;
      try {
        fd = await this.lib.accept(this.tcpFd);
      } catch (e) {
        if (this.closed || code(e) === 'EBADF') return;
        if (code(e) !== 'ETIMEDOUT') await this.survived();
        continue;
      }
      // Room for the newcomer: the longest idle connection goes, else the slowest (RFC 7766 §6.2.3).
      while (this.connections.size >= this.maxTcp && !this.closed) {
        const victim = this.shedOrder.pick();
        if (victim === undefined) await this.slot();
        else {
          this.stats.shed++;
          await this.closeConnection(victim);
        }
      }
      if (this.closed) {
        await this.lib.close(fd).catch(() => {});
        return;
      }
      this.stats.tcpConnections++;
      const conn: TcpConnection = { fd, task: null };
      this.connections.add(conn);
      const done = () => this.closeConnection(conn);
      conn.task = this.serveConnection(conn).then(done, done);
    }
  }

  /** Waits until a connection closes or becomes one that may be shed. */
  private slot(): Promise<void> {
    return new Promise<void>((wake) => this.slotWaiters.push(wake));
  }

  private wakeSlot(): void {
    this.slotWaiters.shift()?.();
  }

  /** Answers length-prefixed queries in the order they came, several per connection (RFC 7766 §6.2.1). */
  private async serveConnection(conn: TcpConnection): Promise<void> {
    const fd = conn.fd;
    const chunk = new Uint8Array(16 * 1024);
    const clock = this.lib.stack;
    // Bytes read but not yet a whole message: at most one message and one chunk, because a
    // whole message is answered before the next read.
    let pending = new Uint8Array(0);
    // Each query must be whole within the idle timeout of the last answer (or of the
    // connection), so a client sending a byte now and then cannot hold a slot for ever.
    let deadline = clock.now() + this.idleTimeout;
    try {
      for (;;) {
        while (pending.length >= 2) {
          const length = (pending[0]! << 8) | pending[1]!;
          if (pending.length < 2 + length) break;
          this.shedOrder.busy(conn);
          const reply = this.respond(pending.subarray(2, 2 + length), 'tcp');
          pending = pending.subarray(2 + length);
          if (!reply) continue; // a dropped message is no progress: the deadline stands
          await this.lib.write(fd, frameTcp(reply), undefined, { timeout: this.idleTimeout });
          this.stats.responses++;
          deadline = clock.now() + this.idleTimeout;
        }
        const left = deadline - clock.now();
        if (left <= 0) return;
        // Waiting: with nothing of a query it may be shed first, with part of one next.
        if (pending.length === 0) this.shedOrder.idle(conn);
        else this.shedOrder.slow(conn);
        if (this.slotWaiters.length > 0) this.wakeSlot();
        const n = await this.lib.read(fd, chunk, undefined, { timeout: left });
        if (n === 0) return;
        const joined = new Uint8Array(pending.length + n);
        joined.set(pending);
        joined.set(chunk.subarray(0, n), pending.length);
        pending = joined;
      }
    } catch (e) {
      // An idle client, a reset, or our own close(): the connection ends, the server goes on.
      if (!this.closed && code(e) !== 'ETIMEDOUT' && code(e) !== 'ECONNRESET' && code(e) !== 'EPIPE') this.stats.errors++;
    }
  }

  private async closeConnection(conn: TcpConnection): Promise<void> {
    if (!this.connections.delete(conn)) return;
    this.shedOrder.forget(conn);
    await this.lib.close(conn.fd).catch(() => {});
    this.wakeSlot();
  }

  /** Counts an error a loop lives through, and pauses a moment so a persistent one cannot spin. */
  private survived(): Promise<void> {
    this.stats.errors++;
    return new Promise((resolve) => this.lib.stack.setTimer(10, resolve));
  }
}

/** The answer to a rate-limited query that slips through: its question with TC set, nothing else, so a real client asks over TCP. */
function slipReply(query: Uint8Array): Uint8Array | null {
  try {
    const q = decodeMessage(query, { maxSize: MAX_TCP_SIZE });
    return encodeMessage(emptyMessage({ id: q.id, qr: true, opcode: q.opcode, rd: q.rd, tc: true, questions: q.questions }), { maxSize: PLAIN_UDP_SIZE });
  } catch {
    return null;
  }
}

/** The cache key: the transport, then every byte after the ID (flags, counts, question as spelt, OPT). */
function keyOf(query: Uint8Array, transport: 'udp' | 'tcp'): string {
  let key = transport === 'udp' ? 'u' : 't';
  // String.fromCharCode over the bytes: latin1, one char per byte, no Buffer needed in the portable layers.
  for (let i = 2; i < query.length; i += 1024) key += String.fromCharCode.apply(null, query.subarray(i, Math.min(i + 1024, query.length)) as unknown as number[]);
  return key;
}

function code(e: unknown): string | undefined {
  return e instanceof SocketError ? e.code : undefined;
}
