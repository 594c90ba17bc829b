/**
 * HTTP/1.x heads and chunked framing as bytes (RFC 9112). Everything written
 * is checked first: a CR or LF smuggled into a target or field value would
 * let whoever chose it end the head early and write their own message
 * (response splitting, request smuggling), so it is an HttpError instead.
 * What these accept, the parser in parser.ts accepts. Pure; no I/O.
 */

import { FIELD, TARGET, TCHAR } from './chars.js';
import { HttpError, type HttpErrorCode } from './errors.js';
import type { HeaderList } from './types.js';

/** Reason phrases for the status codes of RFC 9110 §15 and the few others in common use. */
export const STATUS_REASONS: Readonly<Record<number, string>> = Object.freeze({
  100: 'Continue',
  101: 'Switching Protocols',
  102: 'Processing',
  103: 'Early Hints',
  200: 'OK',
  201: 'Created',
  202: 'Accepted',
  203: 'Non-Authoritative Information',
  204: 'No Content',
  205: 'Reset Content',
  206: 'Partial Content',
  207: 'Multi-Status',
  208: 'Already Reported',
  226: 'IM Used',
  300: 'Multiple Choices',
  301: 'Moved Permanently',
  302: 'Found',
  303: 'See Other',
  304: 'Not Modified',
  305: 'Use Proxy',
  307: 'Temporary Redirect',
  308: 'Permanent Redirect',
  400: 'Bad Request',
  401: 'Unauthorized',
  402: 'Payment Required',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  407: 'Proxy Authentication Required',
  408: 'Request Timeout',
  409: 'Conflict',
  410: 'Gone',
  411: 'Length Required',
  412: 'Precondition Failed',
  413: 'Content Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  416: 'Range Not Satisfiable',
  417: 'Expectation Failed',
  418: "I'm a Teapot",
  421: 'Misdirected Request',
  422: 'Unprocessable Content',
  423: 'Locked',
  424: 'Failed Dependency',
  425: 'Too Early',
  426: 'Upgrade Required',
  428: 'Precondition Required',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  451: 'Unavailable For Legal Reasons',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
  505: 'HTTP Version Not Supported',
  506: 'Variant Also Negotiates',
  507: 'Insufficient Storage',
  508: 'Loop Detected',
  510: 'Not Extended',
  511: 'Network Authentication Required',
});

/** `method SP target SP HTTP/1.minor CRLF`, the fields, and the empty line. */
export function serializeRequestHead(method: string, target: string, headers: HeaderList, minor = 1): Uint8Array {
  const v = version(minor);
  const out = take(method.length + target.length + 12 + fieldsLength(headers));
  let at = put(out, 0, method, TCHAR, 'ERR_HTTP_BAD_METHOD', 'method');
  out[at++] = SP;
  at = put(out, at, target, TARGET, 'ERR_HTTP_BAD_TARGET', 'request-target');
  out[at++] = SP;
  at = put(out, at, v, FIELD, 'ERR_HTTP_BAD_VERSION', 'version');
  out[at++] = CR;
  out[at++] = LF;
  fields(out, at, headers);
  return out;
}

/** `HTTP/1.minor SP status SP reason CRLF`, the fields, and the empty line; an empty reason is taken from STATUS_REASONS. */
export function serializeResponseHead(status: number, reason: string, headers: HeaderList, minor = 1): Uint8Array {
  if (!Number.isInteger(status) || status < 100 || status > 999) throw new HttpError('ERR_HTTP_BAD_STATUS', `status ${status} is not three digits`);
  const v = version(minor);
  const phrase = reason === '' ? (STATUS_REASONS[status] ?? '') : reason;
  const out = take(phrase.length + 15 + fieldsLength(headers));
  let at = put(out, 0, v, FIELD, 'ERR_HTTP_BAD_VERSION', 'version');
  out[at++] = SP;
  out[at++] = 0x30 + Math.floor(status / 100);
  out[at++] = 0x30 + (Math.floor(status / 10) % 10);
  out[at++] = 0x30 + (status % 10);
  // The SP before the reason stays even when the reason is empty (RFC 9112 §4).
  out[at++] = SP;
  at = put(out, at, phrase, FIELD, 'ERR_HTTP_BAD_STATUS', 'reason');
  out[at++] = CR;
  out[at++] = LF;
  fields(out, at, headers);
  return out;
}

/** One chunk of a chunked body: size line, the data itself (not copied), CRLF (shared: do not modify). Nothing for no data: a zero size would end the body. */
export function chunk(data: Uint8Array): Uint8Array[] {
  if (data.length === 0) return [];
  const text = chunkSizeLine(data.length);
  const line = take(text.length);
  for (let i = 0; i < text.length; i++) line[i] = text.charCodeAt(i);
  return [line, data, CRLF_BYTES];
}

/** The size line before a chunk of `size` bytes as text (`1a2b\r\n`), for a writer that copies it next to the data (the server). */
export function chunkSizeLine(size: number): string {
  return `${size.toString(16)}\r\n`;
}

/** The last chunk and the trailer section that ends a chunked body. */
export function lastChunk(trailers: HeaderList = []): Uint8Array {
  const out = take(3 + fieldsLength(trailers));
  out[0] = 0x30;
  out[1] = CR;
  out[2] = LF;
  fields(out, 3, trailers);
  return out;
}

/**
 * How a sender delimits a body (RFC 9112 §6): none without one; by
 * Content-Length when its size is known before it is sent; else chunked in
 * HTTP/1.1, and in HTTP/1.0 only by closing the connection, which a response
 * can do and a request cannot (its answer has to come back on it).
 */
export type SendFraming = 'none' | 'length' | 'chunked' | 'close';

export function sendFraming(hasBody: boolean, lengthKnown: boolean, minor: 0 | 1): SendFraming {
  if (!hasBody) return 'none';
  if (lengthKnown) return 'length';
  return minor === 1 ? 'chunked' : 'close';
}

/** A chunked body's end with no trailers: `0\r\n\r\n` (shared: do not modify). */
export const LAST_CHUNK = Uint8Array.of(0x30, 0x0d, 0x0a, 0x0d, 0x0a);

/**
 * The status line of an HTTP/1.1 response as text, for a writer that builds
 * its head as a string (the server). With no reason given, the standard one;
 * those lines are made once per status and kept.
 */
export function statusLine(status: number, reason: string | undefined): string {
  if (reason !== undefined) return `HTTP/1.1 ${status} ${reason}\r\n`;
  if (status === 200) return 'HTTP/1.1 200 OK\r\n';
  let line = statusLines.get(status);
  if (line === undefined) {
    line = `HTTP/1.1 ${status} ${reasonFor(status)}\r\n`;
    if (statusLines.size < 1000) statusLines.set(status, line);
  }
  return line;
}
const statusLines = new Map<number, string>();

/** The standard reason phrase of a status, or '' for one without. */
export function reasonFor(status: number): string {
  return STATUS_REASONS[status] ?? '';
}

/** Whether a Content-Length value is one this side writes: 1 to 15 digits (below 2^53, so a number holds it exactly). */
export function isContentLength(value: string): boolean {
  return /^\d{1,15}$/.test(value);
}

/** Whether a Connection field value holds the `close` option (RFC 9112 §9.6), case-insensitive. */
export function connectionCloses(value: string): boolean {
  return /(^|[\s,])close([\s,]|$)/i.test(value);
}

const SP = 0x20;
const CR = 0x0d;
const LF = 0x0a;
/** The line end after each chunk's data (shared: do not modify). */
export const CRLF_BYTES = Uint8Array.of(CR, LF);

function version(minor: number): string {
  if (minor !== 0 && minor !== 1) throw new HttpError('ERR_HTTP_BAD_VERSION', `HTTP/1.${minor} is not HTTP/1.0 or HTTP/1.1`);
  return minor === 1 ? 'HTTP/1.1' : 'HTTP/1.0';
}

/** Bytes the fields and the empty line after them take: "name: value\r\n" each, then "\r\n". */
function fieldsLength(headers: HeaderList): number {
  let n = 2;
  for (let i = 0; i < headers.length; i++) {
    const f = headers[i]!;
    n += `${f[0]}`.length + `${f[1]}`.length + 4;
  }
  return n;
}

/** Writes the fields and the empty line at out[at]; the caller sized out with fieldsLength. */
function fields(out: Uint8Array, at: number, headers: HeaderList): void {
  for (let i = 0; i < headers.length; i++) {
    const [name, value] = headers[i]!;
    at = put(out, at, name, TCHAR, 'ERR_HTTP_BAD_HEADER_NAME', 'field name');
    out[at++] = 0x3a;
    out[at++] = SP;
    at = put(out, at, value, FIELD, 'ERR_HTTP_BAD_HEADER_VALUE', `value of ${name}`);
    out[at++] = CR;
    out[at++] = LF;
  }
  out[at++] = CR;
  out[at] = LF;
}

/**
 * Checks and writes one string, a byte per character, and returns where it
 * ended. Checking while writing is one pass; a character outside `allowed`
 * (which never includes CR or LF) throws before the bytes are used.
 */
function put(out: Uint8Array, at: number, s: string, allowed: Uint8Array, code: HttpErrorCode, what: string): number {
  if (typeof s !== 'string') throw new HttpError(code, `${what} is not a string`);
  // Names, methods, targets, versions and chunk sizes may not be empty; values and reasons may.
  if (s.length === 0 && allowed !== FIELD) throw new HttpError(code, `${what} is empty`);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff || allowed[c] === 0) throw new HttpError(code, `${what} ${JSON.stringify(s)} has ${JSON.stringify(s[i])}, which is not allowed there`);
    out[at + i] = c;
  }
  return at + s.length;
}

// Heads are small and made one per message: carving them from a shared block
// costs a fraction of allocating each (as with Buffer.allocUnsafe). A block is
// never reused, only dropped when full, so a returned view is never overwritten.
const POOL_SIZE = 16 * 1024;
let pool = new Uint8Array(POOL_SIZE);
let used = 0;

function take(n: number): Uint8Array {
  if (n > POOL_SIZE >>> 2) return new Uint8Array(n);
  if (used + n > POOL_SIZE) {
    pool = new Uint8Array(POOL_SIZE);
    used = 0;
  }
  const out = pool.subarray(used, used + n);
  used = (used + n + 7) & ~7;
  return out;
}
