/**
 * One HTTP request over a descriptor the caller connected and owns, in the
 * plainest form the socket library allows: the head in one `write`, then
 * `read` into the caller's buffer until the parser says the response is
 * complete (or the server closed). No pool, no timers of its own: what the
 * demo's client does by hand, so its calls are the textbook's. The caller
 * reads on or closes. With a trace it records the exchange's HttpEvent, as a
 * pooled connection does.
 */
import type { SocketLibrary } from '../socket/library.js';
import { HttpError } from '../wire/http/errors.js';
import { HttpParser } from '../wire/http/parser.js';
import { serializeRequestHead } from '../wire/http/serialize.js';
import type { HeaderList, MessageHead } from '../wire/http/types.js';
import { recordExchange, type ConnectionTrace } from './trace.js';

export interface ExchangeRequest {
  method: string;
  /** The absolute URL (what the trace shows); the target sent is its path and query. */
  url: string;
  headers: HeaderList;
  version: '1.0' | '1.1';
}

export interface ExchangeOnOptions {
  /** The buffer each `read` fills. */
  buffer: Uint8Array;
  /** Where the exchange is recorded, and what to say about the connection; none: nothing is built. */
  trace?: ConnectionTrace | null;
  /** The connection carried an exchange before (no dns or connect for this one). */
  reused?: boolean;
  /** When the exchange began, if before this call (the lookup and connect were part of it). */
  start?: number;
}

export interface ExchangeResult {
  head: Extract<MessageHead, { kind: 'response' }>;
  /** Bytes written (the request) and read (the response, head and body). */
  sent: number;
  received: number;
  /** Body bytes in the response. */
  body: number;
}

export async function exchangeOn(lib: SocketLibrary, fd: number, request: ExchangeRequest, options: ExchangeOnOptions): Promise<ExchangeResult> {
  const trace = options.trace ?? null;
  const start = options.start ?? lib.stack.now();
  const u = new URL(request.url);
  const head = serializeRequestHead(request.method, `${u.pathname}${u.search}`, request.headers, request.version === '1.0' ? 0 : 1);
  const sendAt = trace ? lib.stack.now() : 0;
  await lib.write(fd, head);
  const writtenAt = trace ? lib.stack.now() : 0;

  let response: ExchangeResult['head'] | null = null;
  let complete = false;
  let body = 0;
  const parser = new HttpParser('response', {
    onHead: (h) => {
      if (h.kind === 'response' && h.status >= 200) response = h;
    },
    onBody: (chunk) => (body += chunk.length),
    onEnd: () => {
      if (response) complete = true;
    },
  });
  parser.expect(request.method);
  let received = 0;
  let firstAt = 0;
  while (!complete) {
    const n = await lib.read(fd, options.buffer);
    if (trace && firstAt === 0) firstAt = lib.stack.now();
    if (n === 0) {
      parser.finish();
      break;
    }
    received += n;
    parser.execute(options.buffer.subarray(0, n));
  }
  if (!response) throw new HttpError('ERR_HTTP_SOCKET', 'the server closed the connection without a response');
  const final: ExchangeResult['head'] = response;
  if (trace) {
    recordExchange(trace, {
      method: request.method,
      url: request.url,
      minor: request.version === '1.0' ? 0 : 1,
      requestHeaders: request.headers,
      requestBodySize: 0,
      status: final.status,
      statusText: final.reason,
      responseHeaders: final.headers,
      responseHeadSize: received - body,
      responseBodySize: body,
      reused: options.reused ?? false,
      start,
      sendAt,
      writtenAt,
      headAt: firstAt,
      endAt: lib.stack.now(),
    });
  }
  return { head: final, sent: head.length, received, body };
}
