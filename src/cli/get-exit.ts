/**
 * What went wrong in `protostack get`, as one line and curl's exit code.
 * Errors are told apart by their codes along the `cause` chain (never by
 * where they were raised), so a new typed error from a lower layer falls into
 * its class by its code: anything named *TIMEOUT or ETIMEDOUT is a timeout
 * (28), any ERR_DNS_* a failed lookup (6), and so on.
 */

export interface Failure {
  /** curl's exit code for the same failure (curl(1), "EXIT CODES"). */
  exit: number;
  /** One line, without the "protostack get: " prefix. */
  message: string;
}

/** The exit codes `get` uses, named as curl's manual names them. */
export const EXIT = {
  unsupportedProtocol: 1,
  malformedUrl: 3,
  cannotResolve: 6,
  cannotConnect: 7,
  weirdReply: 8,
  partialFile: 18,
  httpError: 22,
  writeError: 23,
  readError: 26,
  timedOut: 28,
  tlsHandshake: 35,
  tooManyRedirects: 47,
  emptyReply: 52,
  sendError: 55,
  recvError: 56,
  badCertificate: 60,
} as const;

/** A failure writing the body (or the heads, or -w) where it was asked to go: curl's 23. */
export class OutputError extends Error {
  override readonly name = 'OutputError';
  readonly code = 'ERR_OUTPUT';
  constructor(
    message: string,
    /** The stream was closed by its reader (EPIPE): end quietly. */
    readonly closed = false,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

interface Coded {
  code?: unknown;
  message?: unknown;
  cause?: unknown;
  call?: unknown;
  library?: unknown;
}

/** The error and its causes, outermost first (bounded: a cause chain could loop). */
function chainOf(e: unknown): Coded[] {
  const out: Coded[] = [];
  for (let x = e as Coded | undefined; x && typeof x === 'object' && out.length < 16; x = x.cause as Coded | undefined) out.push(x);
  return out;
}

/** "ERR_HTTP_SOCKET: cannot connect: connect(...)" → "cannot connect: connect(...)". */
export function plain(message: string): string {
  return message.replace(/^(?:[A-Z][A-Z0-9_]+: )+/, '').split('\n')[0]!;
}

const PARSE_CODES = /^ERR_HTTP_(BAD_|SPACE_BEFORE_COLON|OBS_FOLD|BARE_CR|TE_AND_CL|MISSING_HOST|HEADERS_TOO_LARGE|URI_TOO_LONG|UNEXPECTED_DATA)/;
/** OpenSSL's answer when the bytes that came back were not TLS at all (a plain-HTTP port, most often). */
const NOT_TLS = /^ERR_SSL_(WRONG_VERSION_NUMBER|PACKET_LENGTH_TOO_LONG|UNKNOWN_PROTOCOL|RECORD_LAYER_FAILURE|HTTP_REQUEST)$/;
const CERTIFICATE = /CERT|SIGNATURE|ISSUER|ERR_TLS_CERT_ALTNAME_INVALID/;

/** The failure of a transfer to `url` (host and port are named in the messages). */
export function classify(error: unknown, url: URL): Failure {
  const chain = chainOf(error);
  const codes = chain.map((x) => (typeof x.code === 'string' ? x.code : '')).filter((c) => c !== '');
  const messageOf = (x: Coded | undefined) => plain(String(x?.message ?? error));
  const find = (test: (code: string) => boolean) => chain.find((x) => typeof x.code === 'string' && test(x.code));
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');

  if (error instanceof OutputError) return { exit: EXIT.writeError, message: error.message };
  const timeout = find((c) => c === 'ETIMEDOUT' || /TIMEOUT/.test(c));
  if (timeout) return { exit: EXIT.timedOut, message: `timed out: ${messageOf(timeout)}` };
  const dns = find((c) => c.startsWith('ERR_DNS_'));
  if (dns) return { exit: EXIT.cannotResolve, message: `cannot resolve ${host}: ${lookupReason(String(dns.code), messageOf(dns))}` };
  if (chain.some((x) => /the name has no addresses/.test(String(x.message)))) return { exit: EXIT.cannotResolve, message: `cannot resolve ${host}: it has no addresses` };
  const certificate = find((c) => CERTIFICATE.test(c));
  if (certificate) return { exit: EXIT.badCertificate, message: `the certificate of ${host} is not trusted: ${messageOf(certificate)} (-k skips the check)` };
  const tls = find((c) => /^ERR_SSL_|^ERR_TLS_/.test(c)) ?? chain.find((x) => x.library === 'SSL routines' || /secure TLS connection/.test(String(x.message)));
  if (tls) {
    if (NOT_TLS.test(String(tls.code))) return { exit: EXIT.tlsHandshake, message: `the server at ${host} port ${port} did not answer TLS (is it plain HTTP? try http://)` };
    return { exit: EXIT.tlsHandshake, message: `the TLS handshake with ${host} port ${port} failed: ${messageOf(tls)}` };
  }
  const refused = find((c) => c === 'ECONNREFUSED' || c === 'EHOSTUNREACH' || c === 'ENETUNREACH' || c === 'EADDRNOTAVAIL');
  const connect = refused ?? chain.find((x) => x.call === 'connect');
  if (connect) return { exit: EXIT.cannotConnect, message: `cannot connect to ${host} port ${port}: ${socketReason(messageOf(connect))}` };
  if (codes.includes('ERR_HTTP_TOO_MANY_REDIRECTS')) return { exit: EXIT.tooManyRedirects, message: `too many redirects: ${messageOf(find((c) => c === 'ERR_HTTP_TOO_MANY_REDIRECTS'))}` };
  const badUrl = find((c) => c === 'ERR_HTTP_BAD_URL');
  if (badUrl) return { exit: /scheme/.test(String(badUrl.message)) ? EXIT.unsupportedProtocol : EXIT.malformedUrl, message: messageOf(badUrl) };
  const parse = find((c) => PARSE_CODES.test(c));
  if (parse) return { exit: EXIT.weirdReply, message: `the answer is not valid HTTP: ${messageOf(parse)} (${String(parse.code)})` };
  if (codes.includes('ECONNRESET')) return { exit: EXIT.recvError, message: `the connection was reset by ${host} port ${port}` };
  if (codes.includes('EPIPE')) return { exit: EXIT.sendError, message: `${host} port ${port} closed the connection while the request was being sent` };
  if (chain.some((x) => /after an interim/.test(String(x.message)))) return { exit: EXIT.recvError, message: `${host} port ${port} closed the connection after an interim (1xx) response, before the final one` };
  if (chain.some((x) => /before answering/.test(String(x.message)))) return { exit: EXIT.emptyReply, message: `${host} port ${port} closed the connection without answering (empty reply)` };
  if (codes.includes('ERR_HTTP_INCOMPLETE') || chain.some((x) => /during the body/.test(String(x.message)))) return { exit: EXIT.partialFile, message: 'the connection closed before the whole body arrived' };
  if (codes.includes('ERR_HTTP_PROXY')) return { exit: EXIT.recvError, message: messageOf(find((c) => c === 'ERR_HTTP_PROXY')) };
  return { exit: 1, message: messageOf(chain[0]) };
}

function lookupReason(code: string, message: string): string {
  if (code === 'ERR_DNS_NXDOMAIN') return 'no such name (NXDOMAIN)';
  if (code === 'ERR_DNS_NODATA') return 'the name has no address records';
  return message;
}

/** "connect(fd 3, 127.0.0.1:1): ECONNREFUSED (connection refused)" → "connection refused (ECONNREFUSED)". */
function socketReason(message: string): string {
  const m = /\b(E[A-Z]+) \(([^)]+)\)/.exec(message);
  return m ? `${m[2]} (${m[1]})` : message;
}
