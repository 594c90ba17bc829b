/**
 * HTTP/1.x messages as values, and the contract of the incremental parser
 * (src/wire/http/parser.ts) and the serializers (src/wire/http/serialize.ts).
 * Pure: no I/O. RFC 9110 (semantics) and RFC 9112 (HTTP/1.1 messages).
 */

/** Header fields in the order received, names as sent; lookups are case-insensitive. */
export type HeaderList = [name: string, value: string][];

/** How the body of a message is delimited (RFC 9112 §6.3). */
export type BodyFraming =
  | { kind: 'none' }
  | { kind: 'length'; length: number }
  | { kind: 'chunked' }
  /** Until the connection closes: only a response without length or chunking (HTTP/1.0 style). */
  | { kind: 'close' };

export interface RequestHead {
  kind: 'request';
  method: string;
  /** The request-target as sent: origin-form "/a?b", absolute-form, authority-form (CONNECT) or "*". */
  target: string;
  /** 0 for HTTP/1.0, 1 for HTTP/1.1. */
  minor: 0 | 1;
  headers: HeaderList;
  body: BodyFraming;
  /** The connection may carry another message after this one (RFC 9112 §9.3). */
  keepAlive: boolean;
  /** Expect: 100-continue was sent (RFC 9110 §10.1.1). */
  expectContinue: boolean;
  /** Upgrade requested, or CONNECT: after this head the bytes are no longer HTTP. */
  upgrade: boolean;
}

export interface ResponseHead {
  kind: 'response';
  status: number;
  reason: string;
  minor: 0 | 1;
  headers: HeaderList;
  body: BodyFraming;
  keepAlive: boolean;
  /** 101 Switching Protocols, or 2xx to CONNECT: the rest of the stream is not HTTP. */
  upgrade: boolean;
}

export type MessageHead = RequestHead | ResponseHead;

export interface HttpLimits {
  /** Bytes in the request line (414 past it) or status line. Node: within maxHeaderBytes. */
  maxStartLine: number;
  /** Bytes of the whole head, start line and fields (431 past it). Node's default is 16 KiB. */
  maxHeaderBytes: number;
  /** Header fields in one head (431 past it). Node's maxHeadersCount is 2000. */
  maxHeaders: number;
  /** Bytes of body (413 past it); Infinity for no bound. */
  maxBodyBytes: number;
  /** Bytes of one chunk-size line with its extensions. */
  maxChunkLine: number;
}

export const DEFAULT_LIMITS: Readonly<HttpLimits> = Object.freeze({
  maxStartLine: 8 * 1024,
  maxHeaderBytes: 16 * 1024,
  maxHeaders: 2000,
  maxBodyBytes: Infinity,
  maxChunkLine: 4 * 1024,
});

export interface ParserCallbacks {
  /** A complete head. For a 1xx response (other than 101) onEnd follows at once and the final response is still to come. */
  onHead(head: MessageHead): void;
  /** Body bytes: a view into the input, valid only during the call (copy what you keep). */
  onBody(chunk: Uint8Array): void;
  /** The message is complete; trailers of a chunked body, or null. The parser is ready for the next message. */
  onEnd(trailers: HeaderList | null): void;
}

/** Case-insensitive lookup of the first field with this name. */
export function headerValue(headers: HeaderList, name: string): string | undefined {
  const lower = name.toLowerCase();
  for (const [n, v] of headers) if (n.length === lower.length && n.toLowerCase() === lower) return v;
  return undefined;
}
