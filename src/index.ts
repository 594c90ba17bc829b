/** protostack: a socket library you can see through, over the OS stack or its own. */
export { SocketLibrary, type SocketType, type ShutdownHow, type CallOptions, type RecvResult, type LibraryOptions } from './socket/library.js';
export { SocketError, type ErrorCode } from './socket/errors.js';
export { DEFAULT_OPTIONS, type SocketOptions } from './socket/options.js';
export { KernelStack } from './stack/kernel/stack.js';
export type * from './stack/types.js';
export { TraceLog, TraceTee, type TraceEvent, type CallEvent, type TraceSink } from './trace/events.js';
export { renderTimeline } from './trace/text.js';
export { Resolver, type ResolverOptions, type Answer, type Address, type LookupOptions } from './dns/resolver.js';
export { serveDns, DnsServer } from './dns/server.js';
export { Zone, parseZone, loadZone } from './dns/zone.js';
export { DnsError, type DnsErrorCode } from './wire/dns/errors.js';
export { Agent, type AgentOptions } from './http/agent.js';
export { request, setGlobalAgent, getGlobalAgent, type RequestOptions, type Response as HttpResponse } from './http/client.js';
export { fetch, type FetchInit } from './http/fetch.js';
export { serve, type Handler, type ServeOptions, type HttpServer } from './http/server.js';
export { staticFiles } from './http/static.js';
export { HttpError, type HttpErrorCode } from './wire/http/errors.js';
