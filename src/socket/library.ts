/**
 * The socket library: descriptors and the calls an application makes, in the
 * order the seed describes (socket, connect, write, read, close; bind, listen,
 * accept on the server). One library drives one protocol stack; every call is
 * async and settles only when the stack has answered.
 */
import { openDuplex } from '#duplex';
import {
  WOULD_BLOCK,
  type Datagram,
  type DatagramEndpoint,
  type Endpoint,
  type ProtocolStack,
  type StreamConnection,
} from '../stack/types.js';
import type { CallEvent, TraceSink } from '../trace-events.js';
import { hostPort } from '../wire/address.js';
import { ipFamily } from '../wire/ip-address.js';
import { DescriptorTable } from './descriptors.js';
import { SocketError, toSocketError } from './errors.js';
import { checkOptions, DEFAULT_OPTIONS, type SocketOptions } from './options.js';
import { bounded } from './bounded.js';
import { endpoint, peerOf, span, streamOf } from './checks.js';
import { MAX_UDP_PAYLOAD, Sock, streamOptions } from './sock.js';
import type { CallOptions, LibraryOptions, RecvResult, ShutdownHow, SocketType } from './types.js';

export type { CallOptions, LibraryOptions, RecvResult, ShutdownHow, SocketType } from './types.js';

/** A traced call's start: its time and, when the sink keeps an order, its place in it. */
interface Begin {
  start: number;
  begin?: number;
}
const NOT_TRACED: Begin = Object.freeze({ start: 0 });

export class SocketLibrary {
  readonly stack: ProtocolStack;
  readonly label: string;
  private trace: TraceSink | null;
  private readonly table: DescriptorTable<Sock>;
  private readonly defaults: SocketOptions;

  constructor(stack: ProtocolStack, options: LibraryOptions = {}) {
    this.stack = stack;
    this.label = options.label ?? 'app';
    this.trace = options.trace ?? null;
    this.table = new DescriptorTable(options.maxDescriptors ?? 65_536);
    const defaults = options.defaults ?? {};
    checkOptions(defaults, 'SocketLibrary');
    this.defaults = { ...DEFAULT_OPTIONS, ...defaults };
  }

  /** Starts or stops tracing; with no sink a call records nothing. */
  setTrace(sink: TraceSink | null): void {
    this.trace = sink;
  }

  /** How many descriptors are open. */
  get openCount(): number {
    return this.table.size;
  }

  /** socket(): a new, unconnected socket and the descriptor that names it. */
  async socket(type: SocketType): Promise<number> {
    const t0 = this.begin();
    try {
      if (type !== 'tcp' && type !== 'udp') throw new SocketError('EINVAL', { call: 'socket', detail: `type must be 'tcp' or 'udp'` });
      const fd = this.table.allocate(new Sock(type, { ...this.defaults }, this.stack));
      if (fd < 0) throw new SocketError('EMFILE', { call: 'socket' });
      if (this.trace) this.record({ call: 'socket', fd, ...t0, result: fd, note: type });
      return fd;
    } catch (e) {
      throw this.failed(e, 'socket', -1, t0, { note: String(type) });
    }
  }

  /** bind(): gives the socket a local address; port 0 lets the stack pick a free one. */
  async bind(fd: number, address: string, port: number): Promise<void> {
    await this.traced('bind', fd, { address, port }, async () => {
      const s = this.lookup(fd, 'bind');
      const local = endpoint(address, port, 'bind', fd);
      if (s.state !== 'new') throw new SocketError('EINVAL', { call: 'bind', fd, detail: 'socket is already bound' });
      s.state = 'binding';
      try {
        if (s.kind === 'tcp') {
          const binding = await this.stack.bindStream(local);
          if (s.closed) return binding.close();
          s.binding = binding;
        } else {
          this.attachDatagram(s, await this.openDatagram(s, local));
        }
        s.state = 'bound';
        return { local: this.localOf(s) };
      } catch (e) {
        if (s.state === 'binding') s.state = 'new';
        throw e;
      }
    });
  }

  /** listen(): turns a TCP socket into a listener with a backlog of waiting connections. */
  async listen(fd: number, backlog = 128): Promise<void> {
    return this.traced('listen', fd, { note: `backlog ${backlog}` }, async () => {
      const s = this.lookup(fd, 'listen');
      if (s.kind !== 'tcp') throw new SocketError('EOPNOTSUPP', { call: 'listen', fd, detail: 'listen is for tcp sockets' });
      if (!Number.isInteger(backlog) || backlog < 0) throw new SocketError('EINVAL', { call: 'listen', fd, detail: 'backlog must be a whole number' });
      if (s.state === 'listening') return;
      if (s.state === 'new') await this.bind(fd, '0.0.0.0', 0);
      if (s.state !== 'bound' || !s.binding) throw new SocketError('EINVAL', { call: 'listen', fd, detail: `socket is ${s.state}` });
      // Linux caps the backlog at somaxconn and takes 0 as it is (the queue then holds one connection).
      s.listener = s.binding.listen(Math.min(backlog, 65_535), streamOptions(s.options));
      s.listener.notify = s.wake;
      s.state = 'listening';
    });
  }

  /** accept(): waits for a connection on a listener and returns a new descriptor for it. */
  async accept(fd: number, options: CallOptions = {}): Promise<number> {
    const t0 = this.begin();
    try {
      const s = this.lookup(fd, 'accept');
      if (s.state !== 'listening' || !s.listener) throw new SocketError('EINVAL', { call: 'accept', fd, detail: 'socket is not listening' });
      const deadline = this.deadline(options, s.options.acceptTimeout, 'accept', fd);
      let conn = s.listener.accept();
      while (!conn) {
        await s.waits.sleep(deadline, { call: 'accept', fd }, options.signal);
        if (s.closed) throw new SocketError('EBADF', { call: 'accept', fd, detail: 'closed while waiting' });
        conn = s.listener.accept();
      }
      const child = new Sock('tcp', { ...s.options }, this.stack);
      const newFd = this.table.allocate(child);
      if (newFd < 0) {
        conn.abort();
        throw new SocketError('EMFILE', { call: 'accept', fd });
      }
      this.attachStream(child, conn);
      if (this.trace) this.record({ call: 'accept', fd, ...t0, result: newFd, address: conn.remote.address, port: conn.remote.port, local: hostPort(conn.local.address, conn.local.port) });
      return newFd;
    } catch (e) {
      throw this.failed(e, 'accept', fd, t0, {});
    }
  }

  /** connect(): joins the pipe to a server's socket (TCP), or sets the default peer (UDP). */
  async connect(fd: number, address: string, port: number, options: CallOptions = {}): Promise<void> {
    await this.traced('connect', fd, { address, port }, async () => {
      const s = this.lookup(fd, 'connect');
      const remote = endpoint(address, port, 'connect', fd);
      if (s.kind === 'udp') {
        const d = await this.ensureDatagram(s, remote.address);
        // The stack picks the route and the source address now; nothing is sent.
        await d.connect(remote);
        s.peer = remote;
        s.state = 'connected';
        return { local: this.localOf(s) };
      }
      if (s.state === 'connected') throw new SocketError('EISCONN', { call: 'connect', fd });
      if (s.state === 'connecting' || s.state === 'binding') throw new SocketError('EALREADY', { call: 'connect', fd });
      if (s.state === 'listening') throw new SocketError('EINVAL', { call: 'connect', fd, detail: 'socket is listening' });
      await this.connectStream(s, fd, remote, options);
      return { local: this.localOf(s) };
    });
  }

  /** write(): hands bytes to the stack for sending; resolves with the count once the stack has taken them all. */
  async write(fd: number, data: Uint8Array, length?: number, options: CallOptions = {}): Promise<number> {
    const t0 = this.begin();
    try {
      const s = this.lookup(fd, 'write');
      const bytes = span(data, length, 'write', fd);
      let n: number;
      if (s.kind === 'udp') n = await this.sendDatagram(s, fd, bytes, peerOf(s, 'write', fd), options, 'write');
      else if (bytes.length > s.options.sendBufferSize) n = await this.writeStream(s, fd, bytes, options);
      else {
        // The common case, one piece, inline: no deadline timer unless the stack keeps the bytes.
        const conn = streamOf(s, 'write', fd);
        if (s.writeShut) throw new SocketError('EPIPE', { call: 'write', fd, detail: 'shut down for writing' });
        const pending = bytes.length === 0 ? null : conn.write(bytes);
        if (pending) await this.settleWrite(s, fd, conn, pending, this.deadline(options, s.options.writeTimeout, 'write', fd), options);
        n = bytes.length;
      }
      if (this.trace) this.record({ call: 'write', fd, ...t0, length: bytes.length, result: n });
      return n;
    } catch (e) {
      throw this.failed(e, 'write', fd, t0, { length: length ?? data?.length });
    }
  }

  /** read(): fills the caller's buffer with received bytes; resolves with the count, or 0 once the peer has closed. */
  async read(fd: number, buffer: Uint8Array, length?: number, options: CallOptions = {}): Promise<number> {
    const t0 = this.begin();
    try {
      const s = this.lookup(fd, 'read');
      const into = span(buffer, length, 'read', fd);
      let n: number;
      if (s.kind === 'udp') {
        peerOf(s, 'read', fd);
        n = (await this.receiveDatagram(s, fd, into, options, 'read')).bytes;
      } else {
        // The read-and-sleep loop inline: one async frame fewer on the hottest call.
        const conn = streamOf(s, 'read', fd);
        n = s.readShut ? 0 : conn.read(into);
        if (n === WOULD_BLOCK) {
          const deadline = this.deadline(options, s.options.readTimeout, 'read', fd);
          const context = { call: 'read', fd };
          do {
            await s.waits.sleep(deadline, context, options.signal);
            if (s.closed) throw new SocketError('EBADF', { ...context, detail: 'closed while waiting' });
            // A write that timed out meanwhile reset the stream: its end is not the peer's.
            if (s.broken) throw s.broken;
            n = s.readShut ? 0 : conn.read(into);
          } while (n === WOULD_BLOCK);
        }
      }
      if (this.trace) this.record({ call: 'read', fd, ...t0, length: into.length, result: n });
      return n;
    } catch (e) {
      throw this.failed(e, 'read', fd, t0, { length: length ?? buffer?.length });
    }
  }

  /** sendto(): sends one UDP datagram to an address; an unbound socket is bound to a free port first. */
  async sendto(fd: number, data: Uint8Array, address: string, port: number, options: CallOptions = {}): Promise<number> {
    return this.traced('sendto', fd, { address, port, length: data?.length }, async () => {
      const s = this.lookup(fd, 'sendto');
      if (s.kind !== 'udp') throw new SocketError('EOPNOTSUPP', { call: 'sendto', fd, detail: 'sendto is for udp sockets; use write' });
      const to = endpoint(address, port, 'sendto', fd);
      return this.sendDatagram(s, fd, span(data, undefined, 'sendto', fd), to, options, 'sendto');
    });
  }

  /** recvfrom(): waits for one UDP datagram and says who sent it. */
  async recvfrom(fd: number, buffer: Uint8Array, options: CallOptions = {}): Promise<RecvResult> {
    const t0 = this.begin();
    try {
      const s = this.lookup(fd, 'recvfrom');
      if (s.kind !== 'udp') throw new SocketError('EOPNOTSUPP', { call: 'recvfrom', fd, detail: 'recvfrom is for udp sockets; use read' });
      const d = await this.receiveDatagram(s, fd, span(buffer, undefined, 'recvfrom', fd), options, 'recvfrom');
      if (this.trace) this.record({ call: 'recvfrom', fd, ...t0, length: buffer.length, result: d.bytes, address: d.address, port: d.port });
      return { bytes: d.bytes, address: d.address, port: d.port, truncated: d.truncated };
    } catch (e) {
      throw this.failed(e, 'recvfrom', fd, t0, { length: buffer?.length });
    }
  }

  /** shutdown(): closes one direction of a connection ('write' sends FIN; 'read' discards what arrives). */
  async shutdown(fd: number, how: ShutdownHow): Promise<void> {
    return this.traced('shutdown', fd, { note: String(how) }, async () => {
      const s = this.lookup(fd, 'shutdown');
      if (how !== 'read' && how !== 'write' && how !== 'both') throw new SocketError('EINVAL', { call: 'shutdown', fd, detail: `how must be 'read', 'write' or 'both'` });
      if (s.state !== 'connected') throw new SocketError('ENOTCONN', { call: 'shutdown', fd });
      if (how !== 'write') s.readShut = true;
      if (how !== 'read') s.writeShut = true;
      s.conn?.shutdown(how);
      s.waits.wakeAll();
    });
  }

  /** close(): separates the pipe and erases the socket; the descriptor is free for reuse at once. */
  async close(fd: number): Promise<void> {
    return this.traced('close', fd, {}, async () => {
      const s = this.lookup(fd, 'close');
      this.table.release(fd);
      this.release(s);
    });
  }

  private localOf(s: Sock): string | undefined {
    const l = s.conn?.local ?? s.binding?.local ?? s.dgram?.local;
    return l ? hostPort(l.address, l.port) : undefined;
  }

  /** The local address of a socket; 0.0.0.0:0 before it has one. */
  async getsockname(fd: number): Promise<Endpoint> {
    const s = this.lookup(fd, 'getsockname');
    const local = s.conn?.local ?? s.listener?.local ?? s.binding?.local ?? s.dgram?.local;
    return local ? { address: local.address, port: local.port } : { address: '0.0.0.0', port: 0 };
  }

  /** The peer of a connected socket. */
  async getpeername(fd: number): Promise<Endpoint> {
    const s = this.lookup(fd, 'getpeername');
    const remote = s.conn?.remote ?? s.peer;
    if (!remote) throw new SocketError('ENOTCONN', { call: 'getpeername', fd });
    return { address: remote.address, port: remote.port };
  }

  /** Bytes waiting to be read now (ioctl FIONREAD, SIOCINQ); 0 on a socket with no connection. */
  async readable(fd: number): Promise<number> {
    const s = this.lookup(fd, 'readable');
    if (s.readShut) return 0;
    return s.conn?.readable ?? 0;
  }

  async setsockopt(fd: number, options: Partial<SocketOptions>): Promise<void> {
    const s = this.lookup(fd, 'setsockopt');
    checkOptions(options, 'setsockopt', fd);
    s.options = { ...s.options, ...options };
    s.conn?.setOptions(streamOptions(s.options));
    s.listener?.setOptions(streamOptions(s.options));
  }

  async getsockopt(fd: number): Promise<SocketOptions> {
    return { ...this.lookup(fd, 'getsockopt').options };
  }

  /** A Node Duplex over a connected descriptor, so node:tls and other stream users can run over this library. */
  toDuplex(fd: number): ReturnType<typeof openDuplex> {
    const s = this.lookup(fd, 'toDuplex');
    if (s.kind !== 'tcp' || s.state !== 'connected') throw new SocketError('ENOTCONN', { call: 'toDuplex', fd });
    return openDuplex(this, fd, s.options.recvBufferSize);
  }

  /** Closes every descriptor this library holds. */
  async closeAll(): Promise<void> {
    for (const [fd] of [...this.table.entries()]) await this.close(fd);
  }

  // ---- the work behind the calls ----

  private async connectStream(s: Sock, fd: number, remote: Endpoint, options: CallOptions): Promise<void> {
    const timeout = options.timeout ?? s.options.connectTimeout;
    this.deadline(options, timeout, 'connect', fd);
    const abort = new AbortController();
    let timedOut = false;
    const timer = this.stack.setTimer(timeout, () => {
      timedOut = true;
      abort.abort();
    });
    const forward = () => abort.abort();
    options.signal?.addEventListener('abort', forward, { once: true });
    const binding = s.binding;
    s.state = 'connecting';
    s.connecting = abort;
    let conn: StreamConnection;
    try {
      const opts = { ...streamOptions(s.options), signal: abort.signal };
      conn = binding ? await binding.connect(remote, opts) : await this.stack.connect(remote, opts);
    } catch (e) {
      s.state = 'new';
      s.binding = null;
      if (s.closed) throw new SocketError('EBADF', { call: 'connect', fd, detail: 'closed while connecting' });
      if (timedOut) throw new SocketError('ETIMEDOUT', { call: 'connect', fd, address: hostPort(remote.address, remote.port) });
      throw e;
    } finally {
      s.connecting = null;
      this.stack.clearTimer(timer);
      options.signal?.removeEventListener('abort', forward);
    }
    s.binding = null;
    if (s.closed) {
      conn.abort();
      throw new SocketError('EBADF', { call: 'connect', fd, detail: 'closed while connecting' });
    }
    this.attachStream(s, conn);
  }

  private async writeStream(s: Sock, fd: number, data: Uint8Array, options: CallOptions): Promise<number> {
    const conn = streamOf(s, 'write', fd);
    if (s.writeShut) throw new SocketError('EPIPE', { call: 'write', fd, detail: 'shut down for writing' });
    const deadline = this.deadline(options, s.options.writeTimeout, 'write', fd);
    const max = s.options.sendBufferSize;
    for (let off = 0; off < data.length; off += max) {
      const pending = conn.write(data.subarray(off, off + max));
      if (pending) await this.settleWrite(s, fd, conn, pending, deadline, options);
    }
    return data.length;
  }

  /** Waits for the stack to finish with a piece, under the write deadline. */
  private async settleWrite(s: Sock, fd: number, conn: StreamConnection, pending: Promise<void>, deadline: number, options: CallOptions): Promise<void> {
    await bounded(this.stack, pending, deadline, { call: 'write', fd }, options.signal, () => {
      // The stack may hold part of the data; the byte stream can no longer be trusted.
      s.broken = new SocketError('ETIMEDOUT', { call: 'write', fd, detail: 'an earlier write timed out; the connection was reset' });
      conn.abort();
    });
    if (s.closed) throw new SocketError('EBADF', { call: 'write', fd });
  }

  private async sendDatagram(s: Sock, fd: number, data: Uint8Array, to: Endpoint, options: CallOptions, call: string): Promise<number> {
    const family = ipFamily(to.address) as 4 | 6;
    if (data.length > MAX_UDP_PAYLOAD[family]) throw new SocketError('EMSGSIZE', { call, fd, detail: `${data.length} bytes is more than one datagram holds` });
    if (s.writeShut) throw new SocketError('EPIPE', { call, fd });
    const d = await this.ensureDatagram(s, to.address);
    const deadline = this.deadline(options, s.options.writeTimeout, call, fd);
    await bounded(this.stack, d.send(data, to.address, to.port), deadline, { call, fd }, options.signal, () => {});
    return data.length;
  }

  private async receiveDatagram(s: Sock, fd: number, into: Uint8Array, options: CallOptions, call: string): Promise<Datagram> {
    const d = s.dgram;
    if (!d) throw new SocketError('EINVAL', { call, fd, detail: 'socket has no address yet: bind or sendto first' });
    const deadline = this.deadline(options, s.options.readTimeout, call, fd);
    const context = { call, fd };
    for (;;) {
      const got = d.recv(into);
      // A connected UDP socket hears only its peer, as POSIX says.
      if (got && (!s.peer || (got.address === s.peer.address && got.port === s.peer.port))) return got;
      if (!got) {
        await s.waits.sleep(deadline, context, options.signal);
        if (s.closed) throw new SocketError('EBADF', { ...context, detail: 'closed while waiting' });
      }
    }
  }

  private ensureDatagram(s: Sock, towards: string): Promise<DatagramEndpoint> {
    if (s.dgram) return Promise.resolve(s.dgram);
    if (!s.dgramPending) {
      const any = ipFamily(towards) === 6 ? '::' : '0.0.0.0';
      s.state = 'binding';
      s.dgramPending = this.openDatagram(s, { address: any, port: 0 }).then(
        (d) => {
          this.attachDatagram(s, d);
          if (s.state === 'binding') s.state = 'bound';
          return d;
        },
        (e) => {
          s.dgramPending = null;
          s.state = 'new';
          throw e;
        },
      );
    }
    return s.dgramPending;
  }

  private async openDatagram(s: Sock, local: Endpoint): Promise<DatagramEndpoint> {
    const d = await this.stack.bindDatagram(local, { recvBufferSize: s.options.recvBufferSize });
    if (s.closed) {
      d.close();
      throw new SocketError('EBADF', { detail: 'closed while binding' });
    }
    return d;
  }

  private attachDatagram(s: Sock, d: DatagramEndpoint): void {
    s.dgram = d;
    d.notify = s.wake;
  }

  private attachStream(s: Sock, conn: StreamConnection): void {
    s.conn = conn;
    s.state = 'connected';
    conn.notify = s.wake;
  }

  private release(s: Sock): void {
    s.closed = true;
    s.connecting?.abort();
    s.waits.wakeAll();
    s.waits.dispose();
    if (s.conn) s.conn.close();
    if (s.listener) s.listener.close();
    if (s.binding) s.binding.close();
    if (s.dgram) s.dgram.close();
  }

  // ---- checks ----

  private lookup(fd: number, call: string): Sock {
    const s = Number.isInteger(fd) ? this.table.get(fd) : undefined;
    if (!s) throw new SocketError('EBADF', { call, fd });
    return s;
  }

  private deadline(options: CallOptions, fallback: number, call: string, fd: number): number {
    const timeout = options.timeout ?? fallback;
    if (typeof timeout !== 'number' || !(timeout > 0) || timeout > 2 ** 31 - 1) throw new SocketError('EINVAL', { call, fd, detail: 'timeout must be a positive number of milliseconds' });
    return this.stack.now() + timeout;
  }

  // ---- tracing ----

  private async traced<T>(call: string, fd: number, fields: Partial<CallEvent>, body: () => Promise<T>): Promise<T> {
    const t0 = this.begin();
    try {
      const result = await body();
      if (this.trace) {
        const local = (result as { local?: string } | undefined)?.local;
        this.record({ call, fd, ...t0, result: typeof result === 'number' ? result : 'ok', ...fields, ...(local ? { local } : {}) });
      }
      return result;
    } catch (e) {
      throw this.failed(e, call, fd, t0, fields);
    }
  }

  private failed(e: unknown, call: string, fd: number, t0: Begin, fields: Partial<CallEvent>): SocketError {
    const address = fields.address !== undefined && fields.port !== undefined ? hostPort(fields.address, fields.port) : undefined;
    const err = toSocketError(e, { call, fd: fd >= 0 ? fd : undefined, address });
    if (this.trace) this.record({ call, fd, ...t0, error: err.code, ...fields, ...(err.detail === 'closed while waiting' ? { note: err.detail } : {}) });
    return err;
  }

  /** When a call begins: the time, and where the sink's order stands (so a packet can be placed inside the call). Nothing when tracing is off. */
  private begin(): Begin {
    if (!this.trace) return NOT_TRACED;
    const mark = this.trace.mark?.();
    return mark === undefined ? { start: this.stack.now() } : { start: this.stack.now(), begin: mark };
  }

  private record(fields: Partial<CallEvent> & { call: string; fd: number; start: number }): void {
    this.trace!.record({ kind: 'call', seq: 0, who: this.label, stack: this.stack.name, waited: this.stack.now() - fields.start, ...fields });
  }
}



