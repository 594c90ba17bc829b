/**
 * The HTTP client's own trace: one HttpEvent per exchange, recorded when the
 * response's body has ended, by whatever carried it (a pooled connection, or
 * `exchangeOn` on a caller's descriptor). Only made when a sink was given: a
 * client without one builds no event and reads no extra clock.
 */
import type { HttpEvent, TraceSink } from '../trace-events.js';
import type { HeaderList } from '../wire/http/types.js';

/** What a connection knows about itself for its exchanges' events. */
export interface ConnectionTrace {
  readonly sink: TraceSink;
  /** The socket library's label and its stack's name. */
  readonly who: string;
  readonly stack: string;
  /** The descriptor the connection runs on. */
  readonly fd: number;
  readonly serverAddress?: string;
  /** Names the connection, so reuse is visible ("127.0.0.1:40312", or "fd 3 #2"). */
  readonly connection: string;
  /** The lookup and connect (TLS included) that opened it, ms; the first exchange on it carries them. */
  readonly dns: number;
  readonly connect: number;
}

/** One exchange's facts, in the client's clock's ms. */
export interface ExchangeFacts {
  method: string;
  url: string;
  minor: 0 | 1;
  requestHeaders: HeaderList;
  requestBodySize: number;
  status: number;
  statusText: string;
  responseHeaders: HeaderList;
  responseHeadSize: number;
  responseBodySize: number;
  /** The connection had carried an exchange before this one. */
  reused: boolean;
  /** When the exchange began (before the connection was opened, for the first one on it). */
  start: number;
  /** When its first byte was handed to the socket, its last byte was, its final head arrived, its body ended. */
  sendAt: number;
  writtenAt: number;
  headAt: number;
  endAt: number;
}

export function recordExchange(t: ConnectionTrace, x: ExchangeFacts): void {
  const event: HttpEvent = {
    kind: 'http',
    seq: 0,
    who: t.who,
    stack: t.stack,
    fd: t.fd,
    method: x.method,
    url: x.url,
    httpVersion: x.minor === 0 ? '1.0' : '1.1',
    requestHeaders: x.requestHeaders,
    requestBodySize: x.requestBodySize,
    status: x.status,
    statusText: x.statusText,
    responseHeaders: x.responseHeaders,
    responseBodySize: x.responseBodySize,
    responseHeadSize: x.responseHeadSize,
    start: x.start,
    timings: {
      dns: x.reused ? -1 : t.dns,
      connect: x.reused ? -1 : t.connect,
      send: Math.max(0, x.writtenAt - x.sendAt),
      wait: Math.max(0, x.headAt - x.writtenAt),
      receive: Math.max(0, x.endAt - x.headAt),
    },
    ...(t.serverAddress !== undefined ? { serverAddress: t.serverAddress } : {}),
    connection: t.connection,
    reused: x.reused,
  };
  t.sink.record(event);
}

/** The size of a response head as its fields were parsed, in the canonical form (one SP after the colon, CRLF line ends). */
export function headSize(minor: 0 | 1, status: number, reason: string, headers: HeaderList): number {
  let n = `HTTP/1.${minor} ${status} ${reason}\r\n`.length + 2;
  for (const [name, value] of headers) n += name.length + value.length + 4;
  return n;
}
