/** protostack/http: the HTTP/1.1 client (agent, request, fetch) and server, on the socket library. */
export { Agent, type AgentOptions } from './agent.js';
export { getGlobalAgent, request, setGlobalAgent, type RequestOptions, type Response } from './client.js';
export { fetch, type FetchInit } from './fetch.js';
export { serve, type CloseOptions, type Handler, type HttpServer, type HttpServerStats, type ServeOptions, type ServerRequest, type ServerResponse } from './server/index.js';
export { StaticRootError, staticFiles, type StaticOptions } from './static.js';
export { HttpError, type HttpErrorCode } from '../wire/http/errors.js';
