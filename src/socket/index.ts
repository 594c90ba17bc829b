/**
 * protostack/socket: the socket library (descriptors, calls, waits,
 * timeouts, traces) over any ProtocolStack, and the library a caller gets by
 * default (the OS's stack under Node; none in a browser).
 */
export { SocketLibrary, type CallOptions, type LibraryOptions, type RecvResult, type ShutdownHow, type SocketType } from './library.js';
export { SocketError, isErrorCode, type ErrorCode, type ErrorContext } from './errors.js';
export { DEFAULT_OPTIONS, type SocketOptions } from './options.js';
export { defaultLibrary } from '#default-library';
export * from '../stack/types.js';
