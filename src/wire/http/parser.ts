/**
 * The HTTP/1.x message parser (RFC 9112): bytes in, heads and body pieces out,
 * one message after another on a connection.
 *
 * Input is scanned where it lies. A valid field line is checked and its end
 * found in one pass over its bytes; anything else finds its LF with indexOf
 * first and is then checked in full. Only a head, trailer section or
 * chunk-size line cut off by the end of the input is copied, into one buffer
 * the limits bound. The offsets of names and values are kept as lines are
 * checked; the finished head is decoded from latin1 once, and names and
 * values are slices of that string. Body pieces are views of the input.
 *
 * Strict, because two parsers that disagree about where a message ends are
 * how requests get smuggled: anything RFC 9110/9112 rules out is an HttpError
 * with a stable code, after which the parser is dead (so is it if a callback
 * throws). The checks run in a fixed order (the first bytes of a start line,
 * then each complete line: limits, line ending, content), so the verdict does
 * not depend on where the input was split; the fuzz test holds it to that.
 *
 * Where the RFCs leave a choice:
 * - A line ending in LF alone is refused (RFC 9112 §2.2 lets a recipient
 *   accept it; node:http does not). A CR anywhere but before LF is
 *   ERR_HTTP_BARE_CR, and wins over anything else wrong with its line.
 * - A request's method (tchars up to a SP) and a response's first bytes
 *   ("HTTP/1.") are checked as they arrive: TLS, HTTP/2 or garbage sent to an
 *   HTTP/1 peer fails at once instead of waiting for a line end. So a byte
 *   that cannot be in a method is ERR_HTTP_BAD_METHOD even if a bare CR
 *   follows it on the line.
 * - Up to MAX_EMPTY_LINES empty lines before a request line are skipped
 *   (§2.2); none before a status line.
 * - HTTP/1.2 to HTTP/1.9 are read as HTTP/1.1 (RFC 9110 §2.5; llhttp refuses).
 * - A field line starting with whitespace is ERR_HTTP_OBS_FOLD, first or not.
 * - The request-target is visible ASCII only, as in llhttp.
 * - Host must be one field of uri-host [":" port] characters (RFC 9112 §3.2).
 * - HTTP/1.0 with Transfer-Encoding is refused in both directions (§6.1).
 * - Transfer-Encoding is refused with chunked twice, chunked with parameters
 *   or an empty list element; Content-Length with empty elements or signs.
 * - Chunk extensions (BWS allowed, as the grammar says) are checked and
 *   dropped. Their bytes count with the head and trailers against
 *   maxHeaderBytes, so a body cannot carry unbounded metadata one short chunk
 *   at a time; trailer fields count with the head's against maxHeaders.
 * - A body read until close gets exactly maxBodyBytes through, then fails.
 * - onEnd gets null when a chunked body has no trailer fields.
 * - An upgrade (101, 2xx to CONNECT, a request with Upgrade or CONNECT) ends
 *   with onEnd like any message (a request's body first), and then the parser
 *   stops until reset(): a server declining the upgrade resets and goes on.
 */

import { FIELD, TARGET, TCHAR, byteSet, isAlnum } from './chars.js';
import { HttpError, type HttpErrorCode } from './errors.js';
import { DEFAULT_LIMITS, type BodyFraming, type HeaderList, type HttpLimits, type MessageHead, type ParserCallbacks } from './types.js';

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const HTAB = 0x09;
const COLON = 0x3a;
const COMMA = 0x2c;
const SEMI = 0x3b;
const EQUALS = 0x3d;
const DQUOTE = 0x22;
const BACKSLASH = 0x5c;

/** Empty lines ignored before a request line (RFC 9112 §2.2 asks for at least one). */
const MAX_EMPTY_LINES = 4;
/** scan() found an ignorable empty line in front of a request line. */
const SKIP = -2;

/** uri-host [ ":" port ] (RFC 3986 §3.2.2): unreserved, pct-encoded, sub-delims, and the brackets of an IP-literal. */
const HOST = byteSet((b) => isAlnum(b) || "-._~%!$&'()*+,;=:[]".includes(String.fromCharCode(b)));
const HEX = new Int8Array(256).fill(-1);
for (let b = 0; b < 256; b++) {
  if (b >= 0x30 && b <= 0x39) HEX[b] = b - 0x30;
  else if ((b | 0x20) >= 0x61 && (b | 0x20) <= 0x66) HEX[b] = (b | 0x20) - 0x61 + 10;
}

const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const N_HOST = ascii('host');
const N_EXPECT = ascii('expect');
const N_UPGRADE = ascii('upgrade');
const N_CONNECTION = ascii('connection');
const N_CONTENT_LENGTH = ascii('content-length');
const N_TRANSFER_ENCODING = ascii('transfer-encoding');
const T_CLOSE = ascii('close');
const T_KEEP_ALIVE = ascii('keep-alive');
const T_CHUNKED = ascii('chunked');
const T_CONTINUE = ascii('100-continue');
const HTTP1 = ascii('HTTP/1.');

/** src[at, at + lower.length) equals the lowercase ASCII `lower`, ignoring case. Only for bytes already known to be tchar. */
function sameLower(src: Uint8Array, at: number, end: number, lower: Uint8Array): boolean {
  if (end - at !== lower.length) return false;
  for (let i = 0; i < lower.length; i++) if ((src[at + i]! | 0x20) !== lower[i]) return false;
  return true;
}

const isWs = (b: number | undefined) => b === SP || b === HTAB;

// Node's own latin1 decoder is about five times faster than String.fromCharCode
// over the bytes. It is not in the typings, so it is looked up, and tried once
// on a plain Uint8Array before it is trusted.
type Latin1Slice = (this: Uint8Array, start: number, end: number) => string;
const nativeLatin1 = ((): Latin1Slice | null => {
  const f = (globalThis as { Buffer?: { prototype: { latin1Slice?: unknown } } }).Buffer?.prototype.latin1Slice;
  try {
    return typeof f === 'function' && (f as Latin1Slice).call(Uint8Array.of(0x41, 0x80, 0xff), 0, 3) === 'A\x80\xff' ? (f as Latin1Slice) : null;
  } catch {
    return null;
  }
})();

function latin1(src: Uint8Array, start: number, end: number): string {
  if (nativeLatin1) return nativeLatin1.call(src, start, end);
  let s = '';
  for (let i = start; i < end; i += 4096) s += String.fromCharCode(...src.subarray(i, Math.min(end, i + 4096)));
  return s;
}

/** Shared by every message without a body; frozen, since heads go to the caller. */
const NO_BODY: BodyFraming = Object.freeze({ kind: 'none' });

// States. A message is HEAD, then a body state, then back to HEAD.
const HEAD = 0;
const BODY_LENGTH = 1;
const BODY_CLOSE = 2;
const CHUNK_LINE = 3;
const CHUNK_DATA = 4;
const CHUNK_CR = 5;
const CHUNK_LF = 6;
const TRAILERS = 7;
/** After an upgrade: the rest of the stream is not HTTP. */
const UPGRADED = 8;
/** finish() ended a read-until-close body: nothing more can come. */
const CLOSED = 9;
const DEAD = 10;

export class HttpParser {
  private readonly isRequest: boolean;
  private readonly limits: HttpLimits;
  private state = HEAD;
  private error: unknown = null;
  /** Methods of requests sent, oldest first, for the responses still to come. */
  private readonly methods: string[] = [];

  /** The incomplete head, trailer section or chunk-size line; nothing else is ever copied. */
  private buf = new Uint8Array(0);
  private bufLen = 0;

  // The field section being scanned (a head or trailers); offsets are from its first byte.
  private lineStart = 0;
  private scanned = 0;
  private inStartLine = true;
  /** Bytes of the request line already known to be method tchars; -1 once the method has ended. */
  private methodScanned = 0;
  private fieldCount = 0;
  /** nameStart, nameEnd, valueStart, valueEnd for each field line. */
  private offsets = new Int32Array(64);
  private emptyLines = 0;
  /** The field line just checked, as positions in its source. */
  private nameEnd = 0;
  private valueStart = 0;
  private valueEnd = 0;

  // The message so far.
  /** Bytes of metadata (head, chunk extensions, trailers) and fields, against maxHeaderBytes and maxHeaders. */
  private metaBytes = 0;
  private metaFields = 0;
  private methodEnd = 0;
  private targetEnd = 0;
  private minor: 0 | 1 = 1;
  private status = 0;
  private contentLength = -1;
  private te = false;
  private teChunked = false;
  private teChunkedLast = false;
  private connClose = false;
  private connKeepAlive = false;
  private connUpgrade = false;
  private hasUpgrade = false;
  private hosts = 0;
  private expectContinue = false;
  private upgradeAfter = false;
  private remaining = 0;
  private bodyBytes = 0;

  constructor(
    kind: 'request' | 'response',
    private readonly callbacks: ParserCallbacks,
    limits?: Partial<HttpLimits>,
  ) {
    this.isRequest = kind === 'request';
    this.limits = {
      maxStartLine: limits?.maxStartLine ?? DEFAULT_LIMITS.maxStartLine,
      maxHeaderBytes: limits?.maxHeaderBytes ?? DEFAULT_LIMITS.maxHeaderBytes,
      maxHeaders: limits?.maxHeaders ?? DEFAULT_LIMITS.maxHeaders,
      maxBodyBytes: limits?.maxBodyBytes ?? DEFAULT_LIMITS.maxBodyBytes,
      maxChunkLine: limits?.maxChunkLine ?? DEFAULT_LIMITS.maxChunkLine,
    };
  }

  /** Response parsers: the method of a request just sent, so its response is framed right (HEAD, CONNECT). */
  expect(method: string): void {
    if (this.isRequest) throw new TypeError('expect() is for response parsers');
    this.methods.push(method);
  }

  /** Nothing of a message has arrived since the last one ended. */
  get idle(): boolean {
    return (this.state === HEAD && this.bufLen === 0) || this.state === UPGRADED || this.state === CLOSED;
  }

  /** Back to the start: no message, no error, no methods expected. */
  reset(): void {
    this.state = HEAD;
    this.error = null;
    this.methods.length = 0;
    this.bufLen = 0;
    this.emptyLines = 0;
    this.resetScan(true);
    this.resetMessage();
  }

  /**
   * Parses as much of `bytes` as belongs to HTTP and returns how much that
   * was: all of it, unless a message upgraded the connection. Callbacks run
   * before it returns; body pieces are views into `bytes`.
   */
  execute(bytes: Uint8Array): number {
    if (this.state === DEAD) throw this.error;
    try {
      return this.run(bytes);
    } catch (err) {
      this.state = DEAD;
      this.error = err;
      throw err;
    }
  }

  /** The peer closed the connection: ends a read-until-close body; anything else unfinished is ERR_HTTP_INCOMPLETE. */
  finish(): void {
    switch (this.state) {
      case DEAD:
        throw this.error;
      case HEAD:
        if (this.bufLen === 0) return;
        break;
      case BODY_CLOSE:
        this.state = CLOSED;
        this.callbacks.onEnd(null);
        return;
      case UPGRADED:
      case CLOSED:
        return;
    }
    const what = this.state === HEAD ? 'a head' : this.state === TRAILERS ? 'trailers' : 'a body';
    this.state = DEAD;
    this.error = new HttpError('ERR_HTTP_INCOMPLETE', `the connection closed inside ${what}`);
    throw this.error;
  }

  private run(bytes: Uint8Array): number {
    const len = bytes.length;
    let pos = 0;
    while (pos < len) {
      switch (this.state) {
        case HEAD:
        case TRAILERS:
          pos = this.bufLen === 0 ? this.sectionInPlace(bytes, pos) : this.sectionBuffered(bytes, pos);
          break;
        case BODY_LENGTH: {
          const n = Math.min(this.remaining, len - pos);
          this.remaining -= n;
          this.callbacks.onBody(bytes.subarray(pos, pos + n));
          pos += n;
          if (this.remaining === 0) this.end(null);
          break;
        }
        case BODY_CLOSE: {
          // Up to the limit, then refused: the same bytes arrive however the input was split.
          const n = Math.min(len - pos, this.limits.maxBodyBytes - this.bodyBytes);
          this.bodyBytes += n;
          if (n > 0) this.callbacks.onBody(bytes.subarray(pos, pos + n));
          pos += n;
          if (pos < len) throw tooLargeBody(this.limits.maxBodyBytes);
          break;
        }
        case CHUNK_LINE:
          pos = this.chunkLine(bytes, pos);
          break;
        case CHUNK_DATA: {
          const n = Math.min(this.remaining, len - pos);
          this.remaining -= n;
          this.callbacks.onBody(bytes.subarray(pos, pos + n));
          pos += n;
          if (this.remaining === 0) this.state = CHUNK_CR;
          break;
        }
        case CHUNK_CR:
          if (bytes[pos] !== CR) throw new HttpError('ERR_HTTP_BAD_CHUNK', 'chunk data is not followed by CRLF');
          pos++;
          this.state = CHUNK_LF;
          break;
        case CHUNK_LF:
          if (bytes[pos] !== LF) throw new HttpError('ERR_HTTP_BAD_CHUNK', 'chunk data is not followed by CRLF');
          pos++;
          this.state = CHUNK_LINE;
          break;
        case UPGRADED:
          return pos;
        case CLOSED:
          throw new HttpError('ERR_HTTP_UNEXPECTED_DATA', 'bytes after the connection closed');
      }
    }
    return pos;
  }

  // ---- field sections: the head and the trailers ----

  /** The common case: scan the section where it lies, copying only if the input ends inside it. */
  private sectionInPlace(bytes: Uint8Array, pos: number): number {
    for (;;) {
      const r = this.scan(bytes, pos, bytes.length);
      if (r === SKIP) {
        pos += 2;
        this.resetScan(true);
        if (pos === bytes.length) return pos;
        continue;
      }
      if (r < 0) {
        this.keep(bytes, pos, bytes.length);
        return bytes.length;
      }
      this.sectionDone(bytes, pos, r);
      return pos + r;
    }
  }

  /** A section already begun in the buffer: add a line at a time, so it never takes bytes past its end. */
  private sectionBuffered(bytes: Uint8Array, pos: number): number {
    const len = bytes.length;
    while (pos < len) {
      const lf = bytes.indexOf(LF, pos);
      let stop = lf < 0 ? len : lf + 1;
      // One byte past the limit is enough for scan() to refuse.
      const room = this.limits.maxHeaderBytes - this.metaBytes + 1 - this.bufLen;
      if (stop - pos > room) stop = pos + Math.max(room, 1);
      this.keep(bytes, pos, stop);
      pos = stop;
      const r = this.scan(this.buf, 0, this.bufLen);
      if (r === SKIP) {
        // Back to scanning in place.
        this.bufLen = 0;
        this.resetScan(true);
        return pos;
      }
      if (r >= 0) {
        this.bufLen = 0;
        this.sectionDone(this.buf, 0, r);
        return pos;
      }
    }
    return pos;
  }

  /**
   * Scans the section at src[base, end) on from where the last call stopped,
   * validating each complete line. Returns the section's length once its
   * empty line is in, -1 if more is needed, or SKIP.
   */
  private scan(src: Uint8Array, base: number, end: number): number {
    const { maxStartLine } = this.limits;
    const maxBytes = this.limits.maxHeaderBytes - this.metaBytes;
    for (;;) {
      const start = this.lineStart;
      const p = base + start;
      if (this.inStartLine) {
        const bad = this.startPrefix(src, p, end);
        if (bad) throw new HttpError(bad, this.isRequest ? 'not a request line' : 'not a status line');
      }
      // A whole, valid field line is checked and its end found in one pass;
      // anything else, LF first and then the checks, in the order that fixes the code.
      let lf = !this.inStartLine && this.scanned === start ? this.quickField(src, p, end) : -1;
      const quick = lf >= 0;
      if (!quick) {
        lf = src.indexOf(LF, base + this.scanned);
        if (lf < 0 || lf >= end) {
          const have = end - base;
          if (this.inStartLine && have - start - (src[end - 1] === CR ? 1 : 0) > maxStartLine) throw this.startLineTooLong();
          if (have > maxBytes) throw tooLargeHead(this.limits.maxHeaderBytes);
          this.scanned = have;
          return -1;
        }
      }
      const hasCr = lf > p && src[lf - 1] === CR;
      const e = hasCr ? lf - 1 : lf;
      const next = lf + 1 - base;
      if (this.inStartLine && e - p > maxStartLine) throw this.startLineTooLong();
      if (next > maxBytes) throw tooLargeHead(this.limits.maxHeaderBytes);
      if (!hasCr) throw lineError(src, p, e, this.inStartLine ? 'ERR_HTTP_BAD_START_LINE' : 'ERR_HTTP_BAD_HEADER_VALUE', 'a line ends in LF without CR');
      this.lineStart = this.scanned = next;
      if (this.inStartLine) {
        if (p === e) {
          if (this.isRequest && this.emptyLines < MAX_EMPTY_LINES) {
            this.emptyLines++;
            return SKIP;
          }
          throw new HttpError('ERR_HTTP_BAD_START_LINE', 'too many empty lines before the request line');
        }
        const bad = this.isRequest ? this.requestLine(src, p, e) : this.statusLine(src, p, e);
        if (bad) throw lineError(src, p, e, bad, 'bad start line');
        this.inStartLine = false;
        continue;
      }
      if (p === e) return next;
      if (++this.fieldCount + this.metaFields > this.limits.maxHeaders)
        throw new HttpError('ERR_HTTP_HEADERS_TOO_LARGE', `more than ${this.limits.maxHeaders} header fields`);
      if (!quick) {
        const bad = this.fieldLine(src, p, e);
        if (bad) throw lineError(src, p, e, bad, 'bad field line');
      }
      const bad = this.recordField(src, base, p);
      if (bad) throw new HttpError(bad, 'bad framing field');
    }
  }

  /**
   * The position of the LF ending a valid field line (or the empty line) at
   * src[p], setting nameEnd, valueStart and valueEnd; -1 if the line is
   * incomplete or anything in it is unusual.
   */
  private quickField(src: Uint8Array, p: number, end: number): number {
    let i = p;
    while (i < end && TCHAR[src[i]!]) i++;
    if (i === p || i === end || src[i] !== COLON) return i === p && src[p] === CR && p + 1 < end && src[p + 1] === LF ? p + 1 : -1;
    let v = i + 1;
    while (v < end && isWs(src[v])) v++;
    let k = v;
    while (k < end && FIELD[src[k]!]) k++;
    if (k + 1 >= end || src[k] !== CR || src[k + 1] !== LF) return -1;
    let ve = k;
    while (ve > v && isWs(src[ve - 1])) ve--;
    this.nameEnd = i;
    this.valueStart = v;
    this.valueEnd = ve;
    return k + 1;
  }

  /**
   * What can be told from the first bytes of a start line, before it is
   * complete: a request line starts with a method, tchars up to a SP (or
   * with CR, for an empty line), a status line with "HTTP/1.". Checked first,
   * on whatever has arrived, so TLS, HTTP/2 or any garbage sent to an HTTP/1
   * peer is refused at once instead of holding the connection until a line
   * end or a timeout, with the same code however the bytes were split (the
   * first byte that is not a tchar decides it). Each byte is looked at once.
   */
  private startPrefix(src: Uint8Array, p: number, end: number): HttpErrorCode | null {
    if (p >= end) return null;
    if (this.isRequest) {
      if (this.methodScanned < 0) return null;
      let i = p + this.methodScanned;
      while (i < end && TCHAR[src[i]!]) i++;
      if (i === end) {
        this.methodScanned = i - p;
        return null;
      }
      const b = src[i]!;
      if (i === p) {
        if (b === CR) return null;
        return b === LF || isWs(b) ? 'ERR_HTTP_BAD_START_LINE' : 'ERR_HTTP_BAD_METHOD';
      }
      // The method ended: the line's own checks judge the rest (a CR or LF here ends the line).
      if (b === SP || b === CR || b === LF) {
        this.methodScanned = -1;
        return null;
      }
      return isWs(b) ? 'ERR_HTTP_BAD_START_LINE' : 'ERR_HTTP_BAD_METHOD';
    }
    const n = Math.min(end - p, HTTP1.length);
    for (let k = 0; k < n; k++) if (src[p + k] !== HTTP1[k]) return 'ERR_HTTP_BAD_VERSION';
    return null;
  }

  private startLineTooLong(): HttpError {
    const max = this.limits.maxStartLine;
    return this.isRequest
      ? new HttpError('ERR_HTTP_URI_TOO_LONG', `request line over ${max} bytes`)
      : new HttpError('ERR_HTTP_HEADERS_TOO_LARGE', `status line over ${max} bytes`);
  }

  /** method SP request-target SP HTTP-version (RFC 9112 §3). */
  private requestLine(src: Uint8Array, p: number, e: number): HttpErrorCode | null {
    let i = p;
    while (i < e && TCHAR[src[i]!]) i++;
    if (i === e) return 'ERR_HTTP_BAD_START_LINE';
    if (src[i] !== SP || i === p) return isWs(src[i]) ? 'ERR_HTTP_BAD_START_LINE' : 'ERR_HTTP_BAD_METHOD';
    this.methodEnd = i - p;
    const t = i + 1;
    let j = t;
    while (j < e && TARGET[src[j]!]) j++;
    // No second space is HTTP/0.9, which has no headers to frame anything: refused.
    if (j === e) return 'ERR_HTTP_BAD_START_LINE';
    if (src[j] !== SP) return j === t && src[j] === HTAB ? 'ERR_HTTP_BAD_START_LINE' : 'ERR_HTTP_BAD_TARGET';
    if (j === t) return 'ERR_HTTP_BAD_START_LINE';
    this.targetEnd = j - p;
    const v = j + 1;
    for (let k = v; k < e; k++) if (src[k] === SP) return 'ERR_HTTP_BAD_START_LINE';
    if (e - v !== 8 || !this.version(src, v)) return 'ERR_HTTP_BAD_VERSION';
    return null;
  }

  /** HTTP-version SP status-code SP [ reason-phrase ] (RFC 9112 §4), the last SP optional for robustness. */
  private statusLine(src: Uint8Array, p: number, e: number): HttpErrorCode | null {
    if (e - p < 8 || !this.version(src, p)) return 'ERR_HTTP_BAD_VERSION';
    if (p + 8 === e) return 'ERR_HTTP_BAD_STATUS';
    if (src[p + 8] !== SP) return 'ERR_HTTP_BAD_VERSION';
    const s = p + 9;
    if (isWs(src[s])) return 'ERR_HTTP_BAD_START_LINE';
    if (e - s < 3) return 'ERR_HTTP_BAD_STATUS';
    const d0 = src[s]! - 0x30;
    const d1 = src[s + 1]! - 0x30;
    const d2 = src[s + 2]! - 0x30;
    if (d0 < 1 || d0 > 9 || d1 < 0 || d1 > 9 || d2 < 0 || d2 > 9) return 'ERR_HTTP_BAD_STATUS';
    this.status = d0 * 100 + d1 * 10 + d2;
    if (s + 3 === e) return null;
    if (src[s + 3] !== SP) return 'ERR_HTTP_BAD_STATUS';
    for (let i = s + 4; i < e; i++) if (!FIELD[src[i]!]) return 'ERR_HTTP_BAD_STATUS';
    return null;
  }

  /** "HTTP/" DIGIT "." DIGIT, case-sensitive (RFC 9112 §2.3); sets minor. Major 1 only. */
  private version(src: Uint8Array, v: number): boolean {
    if (src[v] !== 0x48 || src[v + 1] !== 0x54 || src[v + 2] !== 0x54 || src[v + 3] !== 0x50 || src[v + 4] !== 0x2f) return false;
    if (src[v + 5] !== 0x31 || src[v + 6] !== 0x2e) return false;
    const minor = src[v + 7]! - 0x30;
    if (minor < 0 || minor > 9) return false;
    // A higher 1.x speaks at least 1.1 (RFC 9110 §2.5).
    this.minor = minor === 0 ? 0 : 1;
    return true;
  }

  /** field-name ":" OWS field-value OWS (RFC 9112 §5) in src[p, e): the careful check, with a code for what is wrong. */
  private fieldLine(src: Uint8Array, p: number, e: number): HttpErrorCode | null {
    if (isWs(src[p])) return 'ERR_HTTP_OBS_FOLD';
    let i = p;
    while (i < e && TCHAR[src[i]!]) i++;
    if (i === e) return 'ERR_HTTP_BAD_HEADER_NAME';
    if (src[i] !== COLON) {
      if (i > p && isWs(src[i])) {
        let k = i;
        while (k < e && isWs(src[k])) k++;
        if (src[k] === COLON) return 'ERR_HTTP_SPACE_BEFORE_COLON';
      }
      return 'ERR_HTTP_BAD_HEADER_NAME';
    }
    if (i === p) return 'ERR_HTTP_BAD_HEADER_NAME';
    let v = i + 1;
    while (v < e && isWs(src[v])) v++;
    let ve = e;
    while (ve > v && isWs(src[ve - 1])) ve--;
    for (let k = v; k < ve; k++) if (!FIELD[src[k]!]) return 'ERR_HTTP_BAD_HEADER_VALUE';
    this.nameEnd = i;
    this.valueStart = v;
    this.valueEnd = ve;
    return null;
  }

  /** Keeps the offsets of the field line at src[p] just checked, and notes the fields that frame the message. */
  private recordField(src: Uint8Array, base: number, p: number): HttpErrorCode | null {
    const at = (this.fieldCount - 1) * 4;
    if (at + 4 > this.offsets.length) {
      const grown = new Int32Array(this.offsets.length * 2);
      grown.set(this.offsets);
      this.offsets = grown;
    }
    const o = this.offsets;
    const i = this.nameEnd;
    const v = this.valueStart;
    const ve = this.valueEnd;
    o[at] = p - base;
    o[at + 1] = i - base;
    o[at + 2] = v - base;
    o[at + 3] = ve - base;
    return this.state === HEAD ? this.framingField(src, p, i, v, ve) : null;
  }

  /** The fields that decide framing, connection and expectations, recognised by length first. */
  private framingField(src: Uint8Array, p: number, i: number, v: number, ve: number): HttpErrorCode | null {
    switch (i - p) {
      case 4:
        if (this.isRequest && sameLower(src, p, i, N_HOST)) {
          this.hosts++;
          for (let k = v; k < ve; k++) if (!HOST[src[k]!]) return 'ERR_HTTP_MISSING_HOST';
        }
        return null;
      case 6:
        if (this.isRequest && sameLower(src, p, i, N_EXPECT)) this.listTokens(src, v, ve, false);
        return null;
      case 7:
        if (sameLower(src, p, i, N_UPGRADE)) this.hasUpgrade = true;
        return null;
      case 10:
        if (sameLower(src, p, i, N_CONNECTION)) this.listTokens(src, v, ve, true);
        return null;
      case 14:
        return sameLower(src, p, i, N_CONTENT_LENGTH) && !this.ignoresFraming() ? this.contentLengthField(src, v, ve) : null;
      case 17:
        return sameLower(src, p, i, N_TRANSFER_ENCODING) && !this.ignoresFraming() ? this.transferEncodingField(src, v, ve) : null;
    }
    return null;
  }

  /** A client ignores Content-Length and Transfer-Encoding in a 2xx to CONNECT (RFC 9110 §9.3.6). */
  private ignoresFraming(): boolean {
    return !this.isRequest && this.status >= 200 && this.status < 300 && this.queuedMethod() === 'CONNECT';
  }

  /** Connection or Expect: comma-separated tokens, case-insensitive; the ones that matter set flags. */
  private listTokens(src: Uint8Array, v: number, ve: number, connection: boolean): void {
    let k = v;
    while (k < ve) {
      let s = k;
      while (k < ve && src[k] !== COMMA) k++;
      let t = k;
      k++;
      while (s < t && isWs(src[s])) s++;
      while (t > s && isWs(src[t - 1])) t--;
      if (!connection) {
        if (sameLower(src, s, t, T_CONTINUE)) this.expectContinue = true;
      } else if (sameLower(src, s, t, T_CLOSE)) this.connClose = true;
      else if (sameLower(src, s, t, T_KEEP_ALIVE)) this.connKeepAlive = true;
      else if (sameLower(src, s, t, N_UPGRADE)) this.connUpgrade = true;
    }
  }

  /**
   * Content-Length = 1*DIGIT (RFC 9110 §8.6). A list of identical values, or
   * the same value in several fields, is taken as one; anything else is fatal,
   * since the message's end is then a guess.
   */
  private contentLengthField(src: Uint8Array, v: number, ve: number): HttpErrorCode | null {
    let k = v;
    for (;;) {
      const d = k;
      let n = 0;
      while (k < ve && src[k]! >= 0x30 && src[k]! <= 0x39) {
        n = n * 10 + (src[k]! - 0x30);
        if (n > Number.MAX_SAFE_INTEGER) return 'ERR_HTTP_BAD_CONTENT_LENGTH';
        k++;
      }
      if (k === d) return 'ERR_HTTP_BAD_CONTENT_LENGTH';
      if (this.contentLength >= 0 && n !== this.contentLength) return 'ERR_HTTP_BAD_CONTENT_LENGTH';
      this.contentLength = n;
      while (k < ve && isWs(src[k])) k++;
      if (k === ve) return null;
      if (src[k] !== COMMA) return 'ERR_HTTP_BAD_CONTENT_LENGTH';
      k++;
      while (k < ve && isWs(src[k])) k++;
    }
  }

  /**
   * Transfer-Encoding = #transfer-coding (RFC 9112 §6.1), across all its
   * fields. Notes whether chunked is last; chunked twice, chunked with
   * parameters, or an empty element are refused: each is a way to make two
   * parsers see different framing.
   */
  private transferEncodingField(src: Uint8Array, v: number, ve: number): HttpErrorCode | null {
    this.te = true;
    let k = v;
    for (;;) {
      const s = k;
      while (k < ve && TCHAR[src[k]!]) k++;
      if (k === s) return 'ERR_HTTP_BAD_TRANSFER_ENCODING';
      const chunked = sameLower(src, s, k, T_CHUNKED);
      if (chunked && this.teChunked) return 'ERR_HTTP_BAD_TRANSFER_ENCODING';
      if (chunked) this.teChunked = true;
      this.teChunkedLast = chunked;
      for (;;) {
        while (k < ve && isWs(src[k])) k++;
        if (src[k] !== SEMI || k >= ve) break;
        if (chunked) return 'ERR_HTTP_BAD_TRANSFER_ENCODING';
        k = parameter(src, k + 1, ve);
        if (k < 0) return 'ERR_HTTP_BAD_TRANSFER_ENCODING';
      }
      if (k === ve) return null;
      if (src[k] !== COMMA) return 'ERR_HTTP_BAD_TRANSFER_ENCODING';
      k++;
      while (k < ve && isWs(src[k])) k++;
    }
  }

  private queuedMethod(): string {
    return this.methods.length > 0 ? this.methods[0]! : 'GET';
  }

  // ---- a complete section ----

  private sectionDone(src: Uint8Array, base: number, length: number): void {
    const count = this.fieldCount;
    this.metaBytes += length;
    this.metaFields += count;
    this.resetScan(false);
    if (this.state === TRAILERS && count === 0) return this.end(null);
    // One decode for the section; names and values are slices of it.
    const text = latin1(src, base, base + length);
    const fields: HeaderList = new Array(count);
    const o = this.offsets;
    for (let f = 0, at = 0; f < count; f++, at += 4) fields[f] = [text.slice(o[at], o[at + 1]), text.slice(o[at + 2], o[at + 3])];
    if (this.state === TRAILERS) this.end(fields);
    else if (this.isRequest) this.requestHead(text, fields);
    else this.responseHead(text, fields);
  }

  private requestHead(text: string, headers: HeaderList): void {
    const method = text.slice(0, this.methodEnd);
    const minor = this.minor;
    if (this.hosts > 1) throw new HttpError('ERR_HTTP_MISSING_HOST', 'more than one Host field');
    if (this.hosts === 0 && minor === 1) throw new HttpError('ERR_HTTP_MISSING_HOST', 'HTTP/1.1 request without Host');
    const connect = method === 'CONNECT';
    const body = this.framing(connect);
    const upgrade = connect || (minor === 1 && this.connUpgrade && this.hasUpgrade);
    this.startBody(body, upgrade);
    this.callbacks.onHead({
      kind: 'request',
      method,
      target: text.slice(this.methodEnd + 1, this.targetEnd),
      minor,
      headers,
      body,
      keepAlive: this.keepAlive(body),
      expectContinue: this.expectContinue && minor === 1,
      upgrade,
    });
    this.afterHead(body);
  }

  private responseHead(text: string, headers: HeaderList): void {
    const status = this.status;
    const method = this.queuedMethod();
    const interim = status < 200 && status !== 101;
    // The final response answers the oldest request; 1xx come before it.
    if (!interim) this.methods.shift();
    const upgrade = status === 101 || (method === 'CONNECT' && status >= 200 && status < 300);
    const body = this.framing(interim || upgrade || method === 'HEAD' || status === 204 || status === 304);
    this.startBody(body, upgrade);
    const minor = this.minor;
    // The reason starts after "HTTP/1.1 200 ", if there is one.
    const head: MessageHead = {
      kind: 'response',
      status,
      reason: text.length > 13 ? text.slice(13, text.indexOf('\r')) : '',
      minor,
      headers,
      body,
      keepAlive: this.keepAlive(body),
      upgrade,
    };
    this.callbacks.onHead(head);
    this.afterHead(body);
  }

  /** How the body is delimited (RFC 9112 §6.3), once the whole head is in. */
  private framing(noBody: boolean): BodyFraming {
    if (this.te && this.contentLength >= 0) throw new HttpError('ERR_HTTP_TE_AND_CL', 'both Transfer-Encoding and Content-Length');
    if (this.te && this.minor === 0) throw new HttpError('ERR_HTTP_BAD_TRANSFER_ENCODING', 'Transfer-Encoding in an HTTP/1.0 message');
    if (noBody) return NO_BODY;
    if (this.te) {
      if (this.teChunkedLast) return { kind: 'chunked' };
      // A request's length would be a guess; a response's ends when the connection does.
      if (this.isRequest) throw new HttpError('ERR_HTTP_BAD_TRANSFER_ENCODING', 'the last transfer coding of a request is not chunked');
      return { kind: 'close' };
    }
    if (this.contentLength >= 0) {
      if (this.contentLength > this.limits.maxBodyBytes) throw tooLargeBody(this.limits.maxBodyBytes);
      return { kind: 'length', length: this.contentLength };
    }
    return this.isRequest ? NO_BODY : { kind: 'close' };
  }

  private keepAlive(body: BodyFraming): boolean {
    if (body.kind === 'close' || this.connClose) return false;
    return this.minor === 1 || this.connKeepAlive;
  }

  private startBody(body: BodyFraming, upgrade: boolean): void {
    this.upgradeAfter = upgrade;
    this.bodyBytes = 0;
    switch (body.kind) {
      case 'length':
        this.remaining = body.length;
        this.state = BODY_LENGTH;
        break;
      case 'chunked':
        this.state = CHUNK_LINE;
        break;
      case 'close':
        this.state = BODY_CLOSE;
        break;
      default:
        this.state = HEAD;
    }
  }

  /** A body of nothing ends with its head; a 1xx is followed at once by onEnd. */
  private afterHead(body: BodyFraming): void {
    if (body.kind === 'none' || (body.kind === 'length' && body.length === 0)) this.end(null);
  }

  private end(trailers: HeaderList | null): void {
    this.state = this.upgradeAfter ? UPGRADED : HEAD;
    // An idle keep-alive connection should not hold on to room for the largest head it ever saw.
    if (this.buf.length > 4096) this.buf = new Uint8Array(0);
    if (this.offsets.length > 256) this.offsets = new Int32Array(64);
    this.emptyLines = 0;
    this.resetMessage();
    this.callbacks.onEnd(trailers);
  }

  // ---- chunked bodies ----

  /** chunk-size [ chunk-ext ] CRLF (RFC 9112 §7.1), possibly cut by the end of the input. */
  private chunkLine(bytes: Uint8Array, pos: number): number {
    const len = bytes.length;
    const lf = bytes.indexOf(LF, pos);
    if (this.bufLen === 0 && lf >= 0) {
      this.chunkSize(bytes, pos, lf);
      return lf + 1;
    }
    let stop = lf < 0 ? len : lf + 1;
    // One byte past the limit is enough to refuse.
    const room = this.limits.maxChunkLine + 2 - this.bufLen;
    if (stop - pos > room) stop = pos + Math.max(room, 1);
    this.keep(bytes, pos, stop);
    if (stop === lf + 1) {
      const n = this.bufLen;
      this.bufLen = 0;
      this.chunkSize(this.buf, 0, n - 1);
    } else if (this.bufLen - (this.buf[this.bufLen - 1] === CR ? 1 : 0) > this.limits.maxChunkLine) {
      throw tooLongChunkLine(this.limits.maxChunkLine);
    }
    return stop;
  }

  private chunkSize(src: Uint8Array, p: number, lf: number): void {
    const hasCr = lf > p && src[lf - 1] === CR;
    const e = hasCr ? lf - 1 : lf;
    if (e - p > this.limits.maxChunkLine) throw tooLongChunkLine(this.limits.maxChunkLine);
    if (!hasCr) throw lineError(src, p, e, 'ERR_HTTP_BAD_CHUNK', 'a chunk-size line ends in LF without CR');
    let k = p;
    let size = 0;
    while (k < e && HEX[src[k]!]! >= 0) {
      size = size * 16 + HEX[src[k]!]!;
      if (size > Number.MAX_SAFE_INTEGER) throw new HttpError('ERR_HTTP_BAD_CHUNK', 'chunk size overflows');
      k++;
    }
    if (k === p) throw lineError(src, p, e, 'ERR_HTTP_BAD_CHUNK', 'chunk size is not hexadecimal');
    const digits = k;
    if (k < e && !chunkExtensions(src, k, e)) throw lineError(src, p, e, 'ERR_HTTP_BAD_CHUNK', 'bad chunk extension');
    this.metaBytes += e - digits;
    if (this.metaBytes > this.limits.maxHeaderBytes) throw new HttpError('ERR_HTTP_BAD_CHUNK', `chunk extensions and head over ${this.limits.maxHeaderBytes} bytes`);
    if (size > this.limits.maxBodyBytes - this.bodyBytes) throw tooLargeBody(this.limits.maxBodyBytes);
    this.bodyBytes += size;
    if (size === 0) {
      this.state = TRAILERS;
      this.resetScan(false);
    } else {
      this.remaining = size;
      this.state = CHUNK_DATA;
    }
  }

  // ---- bookkeeping ----

  /** Appends src[from, to) to the buffer, growing it; callers have bounded the total by the limits. */
  private keep(src: Uint8Array, from: number, to: number): void {
    const need = this.bufLen + (to - from);
    if (need > this.buf.length) {
      const grown = new Uint8Array(Math.max(need, this.buf.length * 2, 256));
      grown.set(this.buf.subarray(0, this.bufLen));
      this.buf = grown;
    }
    this.buf.set(src.subarray(from, to), this.bufLen);
    this.bufLen = need;
  }

  private resetScan(startLine: boolean): void {
    this.lineStart = 0;
    this.scanned = 0;
    this.fieldCount = 0;
    this.inStartLine = startLine;
    this.methodScanned = 0;
  }

  private resetMessage(): void {
    this.resetScan(true);
    this.metaBytes = 0;
    this.metaFields = 0;
    this.status = 0;
    this.minor = 1;
    this.contentLength = -1;
    this.te = false;
    this.teChunked = false;
    this.teChunkedLast = false;
    this.connClose = false;
    this.connKeepAlive = false;
    this.connUpgrade = false;
    this.hasUpgrade = false;
    this.hosts = 0;
    this.expectContinue = false;
    this.upgradeAfter = false;
    this.remaining = 0;
    this.bodyBytes = 0;
  }
}

/**
 * The error for a bad line; a CR inside it is reported as ERR_HTTP_BARE_CR
 * whatever else is wrong, so the code does not depend on which check ran first.
 */
function lineError(src: Uint8Array, p: number, e: number, code: HttpErrorCode, message: string): HttpError {
  const cr = src.indexOf(CR, p);
  if (cr >= 0 && cr < e) return new HttpError('ERR_HTTP_BARE_CR', 'CR not followed by LF');
  return new HttpError(code, message);
}

function tooLargeHead(max: number): HttpError {
  return new HttpError('ERR_HTTP_HEADERS_TOO_LARGE', `head over ${max} bytes`);
}

function tooLargeBody(max: number): HttpError {
  return new HttpError('ERR_HTTP_BODY_TOO_LARGE', `body over ${max} bytes`);
}

function tooLongChunkLine(max: number): HttpError {
  return new HttpError('ERR_HTTP_BAD_CHUNK', `chunk-size line over ${max} bytes`);
}

/**
 * *( BWS ";" BWS ext-name [ BWS "=" BWS ext-value ] ) from src[k] to e (RFC 9112 §7.1.1);
 * the value a token or quoted-string.
 */
function chunkExtensions(src: Uint8Array, k: number, e: number): boolean {
  while (k < e) {
    while (k < e && isWs(src[k])) k++;
    if (k === e || src[k] !== SEMI) return false;
    k = parameter(src, k + 1, e);
    if (k < 0) return false;
  }
  return true;
}

/**
 * After a ";": OWS name [ OWS "=" OWS ( token / quoted-string ) ], the shape
 * of chunk extensions and transfer-coding parameters. Returns where it ends
 * (before any whitespace that follows), or -1.
 */
function parameter(src: Uint8Array, k: number, e: number): number {
  while (k < e && isWs(src[k])) k++;
  const name = k;
  while (k < e && TCHAR[src[k]!]) k++;
  if (k === name) return -1;
  let j = k;
  while (j < e && isWs(src[j])) j++;
  if (j === e || src[j] !== EQUALS) return k;
  j++;
  while (j < e && isWs(src[j])) j++;
  if (src[j] === DQUOTE && j < e) {
    for (j++; j < e; j++) {
      const b = src[j]!;
      if (b === DQUOTE) return j + 1;
      if (b === BACKSLASH) {
        j++;
        if (j === e || !FIELD[src[j]!]) return -1;
      } else if (!FIELD[b]) return -1;
    }
    return -1;
  }
  const value = j;
  while (j < e && TCHAR[src[j]!]) j++;
  return j === value ? -1 : j;
}
