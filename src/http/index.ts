/** protostack/http: the HTTP/1.1 client (agent, request, fetch) and server, on the socket library. */
export { Agent, type AgentOptions } from './agent.js';
export { exchangeOn, type ExchangeOnOptions, type ExchangeRequest, type ExchangeResult } from './exchange.js';
export type { ConnectionTrace } from './trace.js';
export type { Session, SessionFactory, SessionOptions } from './session.js';
export { getGlobalAgent, request, setGlobalAgent, type RequestOptions, type Response } from './client.js';
export { fetch, type FetchInit } from './fetch.js';
export { serve, type CloseOptions, type Handler, type HttpServer, type HttpServerStats, type ServeOptions, type ServerRequest, type ServerResponse } from './server/index.js';
export { StaticRootError, staticFiles, type StaticOptions } from './static.js';
export { HttpError, type HttpErrorCode } from '../wire/http/errors.js';
