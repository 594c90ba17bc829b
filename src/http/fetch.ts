/**
 * fetch(): the WHATWG shape over request(), returning the Response class
 * Node 20 already has, with the body streamed from the connection.
 */
import nodeStream from 'node:stream';
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
  const headersInit = init.headers ?? (input instanceof Request ? input.headers : undefined);
  if (headersInit !== undefined) new Headers(headersInit).forEach((value, name) => headers.push([name, value]));
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
  const nullBody = NULL_BODY.has(res.statusCode) || method === 'HEAD';
  if (nullBody) void res.body.dump().catch(() => {});
  // The raw field list goes straight to the Response's own Headers (one validation pass, no intermediate Headers).
  return new FetchResponse(nullBody ? null : res.body, { status: res.statusCode, statusText: res.statusText, headers: res.rawHeaders }, res.url, res.redirects.length > 0);
}

const SOURCE = Symbol('source');
const STREAM = Symbol('stream');
const USED = Symbol('used');
const URL_ = Symbol('url');
const REDIRECTED = Symbol('redirected');
const utf8 = new TextDecoder();
/** node:stream's isDisturbed, which also answers for web streams (the test Node's Response uses for bodyUsed). */
const isDisturbed = (nodeStream as unknown as { isDisturbed(s: unknown): boolean }).isDisturbed;

/**
 * Node's own Response, with the body kept as the connection's ResponseBody
 * until someone asks for it as a stream: `arrayBuffer()`, `text()`, `json()`
 * and `blob()` read it directly, without a ReadableStream per response (on
 * Node 20 every ReadableStream is made transferable at construction, which
 * alone costs several µs). `body`, `formData()` and `clone()` make the stream.
 * The members are set on the prototype below: TypeScript declares them as
 * properties of Response, so a class cannot override them.
 */
class FetchResponse extends Response {
  [SOURCE]: ResponseBody | null;
  [STREAM]: ReadableStream<Uint8Array> | null = null;
  [USED] = false;
  [URL_]: string;
  [REDIRECTED]: boolean;

  constructor(source: ResponseBody | null, init: ResponseInit & { headers: [string, string][] }, url: string, redirected: boolean) {
    super(null, init);
    this[SOURCE] = source;
    this[URL_] = url;
    this[REDIRECTED] = redirected;
  }
}

function streamOf(r: FetchResponse): ReadableStream<Uint8Array> | null {
  if (!r[SOURCE]) return null;
  return (r[STREAM] ??= toStream(r[SOURCE]));
}

async function take(r: FetchResponse): Promise<Uint8Array> {
  if (r[STREAM]) return new Uint8Array(await new Response(r[STREAM]).arrayBuffer());
  if (!r[SOURCE]) return new Uint8Array(0); // a null body is never used (Fetch standard)
  if (r[USED]) throw new TypeError('Body is unusable: Body has already been read');
  r[USED] = true;
  return r[SOURCE].bytes();
}

const getter = <T>(get: (r: FetchResponse) => T): PropertyDescriptor => ({ get(this: FetchResponse) { return get(this); }, configurable: true });
const method = (value: (this: FetchResponse, ...args: never[]) => unknown): PropertyDescriptor => ({ value, writable: true, configurable: true });

Object.defineProperties(FetchResponse.prototype, {
  body: getter(streamOf),
  bodyUsed: getter((r) => r[USED] || (r[STREAM] !== null && isDisturbed(r[STREAM]))),
  url: getter((r) => r[URL_]),
  redirected: getter((r) => r[REDIRECTED]),
  arrayBuffer: method(async function (this: FetchResponse) {
    const b = await take(this);
    if (b.byteOffset === 0 && b.byteLength === b.buffer.byteLength) return b.buffer;
    return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
  }),
  text: method(async function (this: FetchResponse) {
    return utf8.decode(await take(this));
  }),
  json: method(async function (this: FetchResponse) {
    return JSON.parse(utf8.decode(await take(this)));
  }),
  blob: method(async function (this: FetchResponse) {
    return new Blob([await take(this)], { type: this.headers.get('content-type') ?? '' });
  }),
  formData: method(async function (this: FetchResponse) {
    if (this[USED]) throw new TypeError('Body is unusable: Body has already been read');
    return new Response(streamOf(this), { headers: this.headers }).formData();
  }),
  clone: method(function (this: FetchResponse) {
    const s = this[STREAM];
    if (this[USED] || (s && (isDisturbed(s) || s.locked))) throw new TypeError('Response.clone: Body has already been consumed.');
    const stream = streamOf(this);
    let other: ReadableStream<Uint8Array> | null = null;
    if (stream) [this[STREAM], other] = stream.tee();
    const copy = new Response(other, { status: this.status, statusText: this.statusText, headers: this.headers });
    Object.defineProperty(copy, 'url', { value: this[URL_] });
    Object.defineProperty(copy, 'redirected', { value: this[REDIRECTED] });
    return copy;
  }),
});

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
