/** The HTTP/1.1 server: serve() and the shapes a handler sees (see server.ts for the whole story). */
export { serve } from './server.js';
export { ServerRequest } from './request.js';
export { ServerResponse } from './response.js';
export type { CloseOptions, Handler, HttpServer, HttpServerStats, ServeOptions } from './types.js';
