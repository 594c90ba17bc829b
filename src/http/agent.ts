/**
 * The agent: one pool per origin (scheme, host, port), each opening its
 * connections through the socket library: resolve and dial (Happy
 * Eyeballs), then TLS for https, or through a proxy when the environment
 * names one. Everything above it (request, fetch) only dispatches.
 */
import { defaultLibrary } from '#default-library';
import tls from 'node:tls';
import { Resolver } from '../dns/resolver.js';
import type { SocketLibrary } from '../socket/library.js';
import { hostPort } from '../wire/address.js';
import { HttpError } from '../wire/http/errors.js';
import type { HttpLimits } from '../wire/http/types.js';
import type { TraceSink } from '../trace-events.js';
import type { Dispatch } from './session.js';
import { dial, type Dialed } from './dial.js';
import { FdIo, TlsIo, type Io } from './io.js';
import { Pool, type Connected } from './pool.js';
import { proxyFor, proxyFromEnv, tunnel, type ProxyConfig } from './proxy.js';

export interface AgentOptions {
  lib?: SocketLibrary;
  resolver?: Resolver;
  /** Connections per origin. */
  connections?: number;
  /** Requests in flight per connection; above 1 turns pipelining on for idempotent requests. */
  pipelining?: number;
  /** Idle time before a kept-alive connection is closed, unless the server's Keep-Alive says less. */
  keepAliveTimeout?: number;
  keepAliveMaxTimeout?: number;
  connectTimeout?: number;
  headersTimeout?: number;
  bodyTimeout?: number;
  maxQueue?: number;
  /** Options for node:tls (ca, rejectUnauthorized, ...). */
  tls?: tls.ConnectionOptions;
  /** Proxies; by default from http_proxy / https_proxy / no_proxy. false for none. */
  proxy?: ProxyConfig | false;
  limits?: Partial<HttpLimits>;
  /**
   * Where each exchange is recorded as an HttpEvent when its body ends (src/trace-events.ts);
   * also given to the default resolver for its DnsEvents. None by default, and then nothing is built.
   */
  trace?: TraceSink | null;
}

export const DEFAULTS = {
  connections: 256,
  pipelining: 1,
  keepAliveTimeout: 4_000,
  keepAliveMaxTimeout: 600_000,
  connectTimeout: 10_000,
  headersTimeout: 300_000,
  bodyTimeout: 300_000,
  maxQueue: 100_000,
};

export class Agent {
  readonly lib: SocketLibrary;
  readonly resolver: Resolver;
  readonly options: AgentOptions;
  private readonly pools = new Map<string, Pool>();
  private readonly proxy: ProxyConfig;
  private readonly ownsLib: boolean;
  private readonly trace: TraceSink | null;
  /** Connections opened, to name each in the trace. */
  private opened = 0;

  constructor(options: AgentOptions = {}) {
    this.options = options;
    this.ownsLib = !options.lib;
    this.lib = options.lib ?? defaultLibrary('http-client');
    this.trace = options.trace ?? null;
    this.resolver = options.resolver ?? new Resolver({ lib: this.lib, trace: this.trace });
    this.proxy = options.proxy === false ? {} : (options.proxy ?? proxyFromEnv());
  }

  /** Sends `d` to `url`'s origin (or its proxy); the target in `d` is rewritten for a plain HTTP proxy. */
  dispatch(url: URL, d: Dispatch): void {
    if (this.trace) d.traced = { url: url.href, start: this.lib.stack.now() };
    let proxy: URL | null;
    try {
      proxy = proxyFor(url, this.proxy);
    } catch (e) {
      return d.reject(e as Error);
    }
    const port = Number(url.port) || (url.protocol === 'https:' ? 443 : 80);
    const host = url.hostname;
    if (proxy && url.protocol === 'http:') {
      // A plain HTTP proxy takes the absolute URL as the target (RFC 9112 §3.2.2).
      d.target = url.href.replace(/#.*/, '');
      return this.poolFor(`proxy ${proxy.host}`, () => this.direct(proxy!.hostname, Number(proxy!.port) || 80, null)).dispatch(d);
    }
    const key = `${url.protocol}//${host}:${port}${proxy ? ` via ${proxy.host}` : ''}`;
    this.poolFor(key, () => (proxy ? this.tunnelled(proxy, host, port) : this.direct(host, port, url.protocol === 'https:' ? host : null))).dispatch(d);
  }

  get stats(): { origins: number; connections: number; pending: number } {
    let connections = 0;
    let pending = 0;
    for (const p of this.pools.values()) {
      connections += p.size;
      pending += p.pending;
    }
    return { origins: this.pools.size, connections, pending };
  }

  async close(): Promise<void> {
    for (const p of this.pools.values()) await p.close();
    this.pools.clear();
    await this.resolver.close();
    if (this.ownsLib) await this.lib.closeAll();
  }

  private poolFor(key: string, connect: () => Promise<Connected>): Pool {
    let pool = this.pools.get(key);
    if (!pool) {
      const o = this.options;
      pool = new Pool({
        connect,
        connections: o.connections ?? DEFAULTS.connections,
        pipelining: o.pipelining ?? DEFAULTS.pipelining,
        keepAliveTimeout: o.keepAliveTimeout ?? DEFAULTS.keepAliveTimeout,
        keepAliveMaxTimeout: o.keepAliveMaxTimeout ?? DEFAULTS.keepAliveMaxTimeout,
        maxQueue: o.maxQueue ?? DEFAULTS.maxQueue,
        limits: o.limits,
        clock: this.lib.stack,
      });
      this.pools.set(key, pool);
    }
    return pool;
  }

  /** Dial host:port; with `servername`, run TLS over the connection. */
  private async direct(host: string, port: number, servername: string | null): Promise<Connected> {
    const timeout = this.options.connectTimeout ?? DEFAULTS.connectTimeout;
    const d = await dial(this.lib, this.resolver, host, port, { timeout });
    const io = new FdIo(this.lib, d.fd);
    if (!servername) return this.connected(io, d, 0);
    const t0 = this.lib.stack.now();
    const secure = await this.handshake(d.fd, servername, timeout);
    return this.connected(secure, d, this.lib.stack.now() - t0);
  }

  private async tunnelled(proxy: URL, host: string, port: number): Promise<Connected> {
    const timeout = this.options.connectTimeout ?? DEFAULTS.connectTimeout;
    const d = await dial(this.lib, this.resolver, proxy.hostname, Number(proxy.port) || 80, { timeout });
    const raw = new FdIo(this.lib, d.fd);
    try {
      await tunnel(raw, hostPort(host, port), proxy, timeout);
    } catch (e) {
      raw.close();
      throw e;
    }
    const t0 = this.lib.stack.now();
    const secure = await this.handshake(d.fd, host, timeout);
    return this.connected(secure, d, this.lib.stack.now() - t0);
  }

  /** A connection ready for requests; with a trace, what its exchanges' events will say about it. */
  private connected(io: Io, d: Dialed, tls: number): Connected {
    const timings = { lookup: d.lookup, connect: d.connect, tls };
    if (!this.trace) return { io, timings };
    const trace = {
      sink: this.trace,
      who: this.lib.label,
      stack: this.lib.stack.name,
      fd: d.fd,
      serverAddress: d.address,
      connection: `fd ${d.fd} #${++this.opened}`,
      dns: d.lookup,
      connect: d.connect + tls,
    };
    return { io, timings, trace };
  }

  private handshake(fd: number, servername: string, timeout: number): Promise<Io> {
    return new Promise((resolve, reject) => {
      const socket = tls.connect({ ...this.options.tls, socket: this.lib.toDuplex(fd), servername: isIpLiteral(servername) ? undefined : servername, ALPNProtocols: ['http/1.1'] });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new HttpError('ERR_HTTP_CONNECT_TIMEOUT', `TLS handshake with ${servername} took over ${timeout} ms`));
      }, timeout);
      socket.once('secureConnect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(new TlsIo(socket));
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(new HttpError('ERR_HTTP_SOCKET', `TLS with ${servername}: ${err.message}`, { cause: err }));
      });
    });
  }
}

function isIpLiteral(host: string): boolean {
  return /^[\d.]+$/.test(host) || host.includes(':');
}
