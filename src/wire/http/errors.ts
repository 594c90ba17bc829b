/**
 * One error class for HTTP, with stable codes in the style of undici's
 * UND_ERR_*: what was wrong with a message (the parser and serializers) or
 * with an exchange (the client and server).
 */
import { ProtostackError } from '../../errors.js';

export type HttpErrorCode =
  // a malformed message (RFC 9110/9112); the server answers 400 unless noted
  | 'ERR_HTTP_BAD_START_LINE'
  | 'ERR_HTTP_BAD_METHOD'
  | 'ERR_HTTP_BAD_TARGET'
  | 'ERR_HTTP_BAD_VERSION'
  | 'ERR_HTTP_BAD_STATUS'
  | 'ERR_HTTP_BAD_HEADER_NAME'
  | 'ERR_HTTP_BAD_HEADER_VALUE'
  | 'ERR_HTTP_SPACE_BEFORE_COLON'
  | 'ERR_HTTP_OBS_FOLD'
  | 'ERR_HTTP_BARE_CR'
  | 'ERR_HTTP_BAD_CONTENT_LENGTH'
  | 'ERR_HTTP_TE_AND_CL'
  | 'ERR_HTTP_BAD_TRANSFER_ENCODING'
  | 'ERR_HTTP_BAD_CHUNK'
  | 'ERR_HTTP_MISSING_HOST'
  | 'ERR_HTTP_URI_TOO_LONG' // 414
  | 'ERR_HTTP_HEADERS_TOO_LARGE' // 431
  | 'ERR_HTTP_BODY_TOO_LARGE' // 413
  | 'ERR_HTTP_INCOMPLETE' // the stream ended inside a message
  | 'ERR_HTTP_UNEXPECTED_DATA' // bytes where no message was expected
  // an exchange that failed (client and server)
  | 'ERR_HTTP_BAD_URL'
  | 'ERR_HTTP_CONNECT_TIMEOUT'
  | 'ERR_HTTP_HEADERS_TIMEOUT'
  | 'ERR_HTTP_BODY_TIMEOUT'
  | 'ERR_HTTP_WRITE_TIMEOUT' // the peer took no request bytes within the socket's writeTimeout
  | 'ERR_HTTP_ABORTED'
  | 'ERR_HTTP_SOCKET' // the connection failed or closed under a request
  | 'ERR_HTTP_TOO_MANY_REDIRECTS'
  | 'ERR_HTTP_PROXY'
  | 'ERR_HTTP_CLOSED'; // the client or server was closed

export class HttpError extends ProtostackError<HttpErrorCode> {
  override readonly name = 'HttpError';
  constructor(code: HttpErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, `${code}: ${message}`, options);
  }
}

/** The status a server answers a parse error with (RFC 9110 §15.5, RFC 6585 §5). */
export function statusForError(code: HttpErrorCode): number {
  switch (code) {
    case 'ERR_HTTP_URI_TOO_LONG':
      return 414;
    case 'ERR_HTTP_HEADERS_TOO_LARGE':
      return 431;
    case 'ERR_HTTP_BODY_TOO_LARGE':
      return 413;
    case 'ERR_HTTP_BAD_VERSION':
      return 505;
    default:
      return 400;
  }
}
