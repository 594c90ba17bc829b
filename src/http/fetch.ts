/**
 * fetch(): the WHATWG shape over request(), returning the Response class
 * Node 20 already has, with the body streamed from the connection.
 */
import { HttpError } from '../wire/http/errors.js';
import type { Agent } from './agent.js';
import type { ResponseBody } from './body.js';
import { request, type RequestOptions } from './client.js';

type HeadersArg = ConstructorParameters<typeof Headers>[0];

export interface FetchInit {
  method?: string;
  headers?: HeadersArg;
  body?: string | Uint8Array | ArrayBuffer | URLSearchParams | ReadableStream<Uint8Array> | null;
  redirect?: 'follow' | 'manual' | 'error';
  signal?: AbortSignal | null;
  /** protostack's own: the agent (and so the socket library and stack) to use. */
  agent?: Agent;
}

/** Statuses whose Response must have a null body (Fetch standard). */
const NULL_BODY = new Set([101, 103, 204, 205, 304]);

export async function fetch(input: string | URL | Request, init: FetchInit = {}): Promise<globalThis.Response> {
  const url = typeof input === 'object' && 'url' in input && !(input instanceof URL) ? input.url : String(input);
  const method = (init.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
  const headers: [string, string][] = [];
  new Headers(init.headers ?? (input instanceof Request ? input.headers : undefined)).forEach((value, name) => headers.push([name, value]));
  const options: RequestOptions = { method, headers, maxRedirects: init.redirect === 'manual' ? 0 : 20 };
  if (init.signal) options.signal = init.signal;
  if (init.agent) options.agent = init.agent;
  const body = init.body ?? null;
  if (body !== null) {
    if (method === 'GET' || method === 'HEAD') throw new TypeError('a GET or HEAD request cannot have a body');
    if (typeof body === 'string') setDefault(headers, 'content-type', 'text/plain;charset=UTF-8');
    if (body instanceof URLSearchParams) setDefault(headers, 'content-type', 'application/x-www-form-urlencoded;charset=UTF-8');
    options.body = toBody(body);
  }
  let res;
  try {
    res = await request(url, options);
  } catch (e) {
    if (e instanceof HttpError && e.code === 'ERR_HTTP_TOO_MANY_REDIRECTS' && init.redirect !== 'error') throw new TypeError('fetch failed: redirect count exceeded', { cause: e });
    throw new TypeError(`fetch failed: ${(e as Error).message}`, { cause: e });
  }
  if (init.redirect === 'error' && res.redirects.length > 0) {
    res.body.cancel();
    throw new TypeError('fetch failed: redirect mode is "error"');
  }
  const responseHeaders = new Headers();
  for (const [name, value] of res.rawHeaders) responseHeaders.append(name, value);
  const nullBody = NULL_BODY.has(res.statusCode) || method === 'HEAD';
  if (nullBody) void res.body.dump().catch(() => {});
  const response = new Response(nullBody ? null : toStream(res.body), { status: res.statusCode, statusText: res.statusText, headers: responseHeaders });
  Object.defineProperty(response, 'url', { value: res.url });
  Object.defineProperty(response, 'redirected', { value: res.redirects.length > 0 });
  return response;
}

function setDefault(headers: [string, string][], name: string, value: string): void {
  if (!headers.some(([n]) => n === name)) headers.push([name, value]);
}

function toBody(body: NonNullable<FetchInit['body']>): Uint8Array | AsyncIterable<Uint8Array> | string {
  if (typeof body === 'string') return body;
  if (body instanceof Uint8Array) return body;
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  if (body instanceof URLSearchParams) return body.toString();
  const reader = (body as ReadableStream<Uint8Array>).getReader();
  return {
    async *[Symbol.asyncIterator]() {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        yield value;
      }
    },
  };
}

function toStream(body: ResponseBody): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const chunk = await body.next();
        if (chunk === null) controller.close();
        else controller.enqueue(chunk);
      } catch (e) {
        controller.error(e);
      }
    },
    cancel(reason) {
      body.cancel(reason);
    },
  });
}
