/**
 * What the pool needs of a connection, and what it hands one: the seam
 * between the pool (how many, which one, retries) and a protocol session (how
 * requests go over the bytes). The HTTP/1.1 connection (connection.ts) is one
 * implementation; an HTTP/2 session, many streams on one connection, would be
 * a second one behind the same four questions: can it take this request, send
 * it, is it idle, destroy it.
 */
import type { HeaderList, HttpLimits } from '../wire/http/types.js';
import type { ProtocolStack } from '../stack/types.js';
import type { ResponseBody } from './body.js';
import type { Io } from './io.js';
import type { ConnectionTrace } from './trace.js';

export type RequestBody = Uint8Array | AsyncIterable<Uint8Array> | null;

export interface Timings {
  /** Milliseconds, on this connection's first request only (0 when reused). */
  lookup: number;
  connect: number;
  tls: number;
  /** From the request being written to the response head. */
  firstByte: number;
}

export interface RawResponse {
  status: number;
  reason: string;
  minor: 0 | 1;
  headers: HeaderList;
  body: ResponseBody;
  /** The connection was reused from an earlier request. */
  reused: boolean;
  timings: Timings;
}

/** A request as the pool hands it to a session. */
export interface Dispatch {
  method: string;
  target: string;
  headers: HeaderList;
  body: RequestBody;
  minor: 0 | 1;
  headersTimeout: number;
  bodyTimeout: number;
  signal: AbortSignal | undefined;
  resolve(response: RawResponse): void;
  reject(error: Error): void;
  /** A retry of an idempotent request that failed on a reused connection. */
  retried: boolean;
  /** Set once any response byte for it has been parsed. */
  answered: boolean;
  /** When it was handed to the connection, and when its last byte was written (0 until then). */
  sentAt: number;
  writtenAt: number;
  /** Its response body, once the head has arrived. */
  response?: ResponseBody;
  onAbort?: () => void;
  /** Set only when the client records a trace: the exchange's URL and when it began, then what the session learns. */
  traced?: TracedDispatch;
}

/** An exchange being traced: filled in as it goes, recorded when its body ends. */
export interface TracedDispatch {
  url: string;
  start: number;
  requestHeaders?: HeaderList;
  requestBodySize?: number;
  headAt?: number;
  status?: number;
  statusText?: string;
  responseHeaders?: HeaderList;
  headSize?: number;
  bodySize?: number;
}

/** A connection as the pool opens it: the byte pipe and what opening it took. */
export interface Connected {
  io: Io;
  timings: Omit<Timings, 'firstByte'>;
  /** Present when the client records a trace. */
  trace?: ConnectionTrace;
}

export interface Session {
  /** May `d` be sent on this session now (free, or allowed to pipeline or multiplex it)? */
  canTake(d: Pick<Dispatch, 'method' | 'body'>): boolean;
  /** Sends `d`; its promise settles through `d.resolve` / `d.reject`. */
  send(d: Dispatch): void;
  /** Open with nothing in flight. */
  readonly idle: boolean;
  /** Requests sent on it and not yet answered in full: the pool gives new work to the least loaded. */
  readonly load: number;
  /** Exchanges completed on it; 0 means never used, so a retry may go there. */
  readonly completed: number;
  /** Closes it; what was in flight and never answered goes back to the pool through `onClose`. */
  destroy(error: Error | null): void;
}

/** What a session tells its pool. */
export interface SessionEvents {
  /** A response completed: the session may take more work. */
  onReady(session: Session): void;
  /** The session is gone; `orphans` are requests that never got an answer. */
  onClose(session: Session, orphans: Dispatch[], error: Error | null): void;
}

/** How the pool configures each session it opens. */
export interface SessionOptions extends SessionEvents {
  pipelining: number;
  keepAliveTimeout: number;
  keepAliveMaxTimeout: number;
  limits?: Partial<HttpLimits>;
  /** Time and timers: the stack's clock, so a simulated network times out on its own time. */
  clock: Pick<ProtocolStack, 'now' | 'setTimer' | 'clearTimer'>;
}

/** Makes a session over a freshly opened connection. */
export type SessionFactory = (connected: Connected, options: SessionOptions) => Session;
