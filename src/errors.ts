/**
 * The one base class of protostack's errors. Every error a layer raises on
 * purpose is a ProtostackError with a stable `code`, in the style of undici's
 * UND_ERR_* and Node's ERR_*: a caller tells failures apart by `code` (along
 * the `cause` chain when one layer wraps another's), never by the message.
 * Each layer has its own subclass and vocabulary: SocketError (POSIX codes,
 * src/stack/errors.ts), DnsError (ERR_DNS_*), HttpError (ERR_HTTP_*).
 */
export class ProtostackError<Code extends string = string> extends Error {
  override readonly name: string = 'ProtostackError';
  readonly code: Code;

  constructor(code: Code, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

