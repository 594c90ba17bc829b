/** protostack: a socket library you can see through, over the OS stack or its own. */
export { SocketLibrary, type SocketType, type ShutdownHow, type CallOptions, type RecvResult, type LibraryOptions } from './socket/library.js';
export { SocketError, type ErrorCode } from './socket/errors.js';
export { DEFAULT_OPTIONS, type SocketOptions } from './socket/options.js';
export { KernelStack } from './stack/kernel/stack.js';
export type * from './stack/types.js';
export { TraceLog, TraceTee, type TraceEvent, type CallEvent, type TraceSink } from './trace/events.js';
export { renderTimeline } from './trace/text.js';
