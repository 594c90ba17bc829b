/**
 * The errors of the socket calls and of the protocol stacks under them:
 * one class, SocketError, with POSIX-style codes. A stack raises it without
 * context (`stackError`); the socket library adds the call, the descriptor
 * and the address, as Go's net package does:
 * `connect(fd 4, 10.0.0.80:80): ECONNREFUSED (connection refused)`.
 * It sits at the stack level, beside the seam, because both sides of the seam
 * speak it; src/socket/errors.ts is the socket library's name for it.
 */
import { ProtostackError } from '../errors.js';

const DESCRIPTIONS = {
  EBADF: 'bad file descriptor',
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset by peer',
  ECONNABORTED: 'connection aborted',
  ETIMEDOUT: 'timed out',
  EADDRINUSE: 'address already in use',
  EADDRNOTAVAIL: 'address not available',
  ENOTCONN: 'socket is not connected',
  EISCONN: 'socket is already connected',
  EALREADY: 'operation already in progress',
  EPIPE: 'broken pipe',
  EINVAL: 'invalid argument',
  EMSGSIZE: 'message too long',
  EMFILE: 'too many open descriptors',
  EOPNOTSUPP: 'operation not supported on this socket',
  ENETUNREACH: 'network is unreachable',
  EHOSTUNREACH: 'no route to host',
  EACCES: 'permission denied',
  ECANCELED: 'operation canceled',
  EAFNOSUPPORT: 'address family not supported',
  ENOBUFS: 'no buffer space available',
  EIO: 'input/output error',
} as const;

export type ErrorCode = keyof typeof DESCRIPTIONS;

export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.prototype.hasOwnProperty.call(DESCRIPTIONS, code);
}

export interface ErrorContext {
  call?: string;
  fd?: number;
  address?: string;
  detail?: string;
}

export class SocketError extends ProtostackError<ErrorCode> {
  override readonly name = 'SocketError';
  readonly call: string | undefined;
  readonly fd: number | undefined;
  readonly address: string | undefined;
  readonly detail: string | undefined;

  constructor(code: ErrorCode, context: ErrorContext = {}, options?: { cause?: unknown }) {
    super(code, formatMessage(code, context), options);
    this.call = context.call;
    this.fd = context.fd;
    this.address = context.address;
    this.detail = context.detail;
  }

  /** The same error, told from the point of view of a socket call. */
  withContext(context: ErrorContext): SocketError {
    if (this.call !== undefined) return this;
    return new SocketError(this.code, { detail: this.detail, ...context }, { cause: this });
  }
}

function formatMessage(code: ErrorCode, ctx: ErrorContext): string {
  const where: string[] = [];
  if (ctx.fd !== undefined) where.push(`fd ${ctx.fd}`);
  if (ctx.address !== undefined) where.push(ctx.address);
  const head = ctx.call !== undefined ? `${ctx.call}(${where.join(', ')}): ` : '';
  const tail = ctx.detail ? `: ${ctx.detail}` : '';
  return `${head}${code} (${DESCRIPTIONS[code]})${tail}`;
}

/** Makes a context-free error, as a protocol stack raises it; the socket library adds the call. */
export function stackError(code: ErrorCode, detail?: string): SocketError {
  return new SocketError(code, detail ? { detail } : {});
}

/** Turns whatever a stack or Node threw into a SocketError with the call's context. */
export function toSocketError(err: unknown, context: ErrorContext): SocketError {
  if (err instanceof SocketError) return err.withContext(context);
  const code = (err as { code?: unknown } | null)?.code;
  const mapped: ErrorCode = isErrorCode(code) ? code : 'EIO';
  const detail = mapped === 'EIO' && err instanceof Error ? err.message : undefined;
  return new SocketError(mapped, { ...context, ...(detail ? { detail } : {}) }, { cause: err });
}
