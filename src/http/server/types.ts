/**
 * The server's public shapes: the handler, its options, its counters, and
 * the handle serve() resolves to.
 */
import type { SocketLibrary } from '../../socket/library.js';
import type { HttpLimits } from '../../wire/http/types.js';
import type { ServerRequest } from './request.js';
import type { ServerResponse } from './response.js';

export type Handler = (req: ServerRequest, res: ServerResponse) => void | Promise<void>;

export interface ServeOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: the stack picks a free port. */
  port?: number;
  /** Default: a new library over the kernel stack, labelled 'http-server'. */
  lib?: SocketLibrary;
  /** Parser limits; a request body is limited to 1 MiB unless `maxBodyBytes` says otherwise (nginx's client_max_body_size). */
  limits?: Partial<HttpLimits>;
  /** Milliseconds a new connection may wait before sending its first byte. Default 10 s. */
  firstByteTimeout?: number;
  /** Milliseconds for a whole request head, from its first byte. Default 60 s, as Node's. */
  headersTimeout?: number;
  /** Milliseconds for a whole request, head and body. Default 300 s, as Node's. */
  requestTimeout?: number;
  /** Milliseconds a keep-alive connection may sit idle between requests. Default 5 s, as Node's. */
  keepAliveTimeout?: number;
  /** Connections open at once. At the cap an idle or slow one is closed for each newcomer; only when all are busy do newcomers wait in the backlog. Default 4096. */
  maxConnections?: number;
  /** The listen backlog. Default 511, as Node's. */
  backlog?: number;
  /** Bytes of a request body the handler left unread that the server reads and discards to keep the connection. Default 1 MiB. */
  maxDrain?: number;
  /** Called with errors the handler threw (after the server answered 500 or aborted). Default: none. */
  onError?: (err: unknown, req: ServerRequest) => void;
}

export interface HttpServerStats {
  /** Connections accepted since the start. */
  connections: number;
  /** Connections open now. */
  open: number;
  /** Requests whose head was received and handed to the handler. */
  requests: number;
  /** Responses completely sent, including error responses. */
  responses: number;
  /** Malformed requests answered with 4xx/505. */
  parseErrors: number;
  /** Requests timed out (408) and idle connections closed. */
  timeouts: number;
  /** Idle or slow connections closed to make room at maxConnections. */
  shed: number;
  /** Handlers that threw. */
  handlerErrors: number;
  /** Connections aborted under a response (the peer went away, or the handler failed mid-body). */
  aborted: number;
}

export interface CloseOptions {
  /** Let in-flight responses finish (default true); false closes every connection now. */
  graceful?: boolean;
  /** Milliseconds to wait for in-flight responses before closing them anyway. Default 10 s. */
  timeout?: number;
}

export interface HttpServer {
  readonly address: string;
  readonly port: number;
  /** `http://address:port/` */
  readonly url: string;
  readonly stats: HttpServerStats;
  close(options?: CloseOptions): Promise<void>;
}
