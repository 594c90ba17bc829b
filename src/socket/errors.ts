/**
 * The socket library's errors: SocketError and its POSIX-style codes. The
 * class is defined beside the stack seam (src/stack/errors.ts), since the
 * stacks raise it too; the library completes it with the call's context.
 */
export { SocketError, isErrorCode, stackError, toSocketError, type ErrorCode, type ErrorContext } from '../stack/errors.js';
