/**
 * request(): one HTTP exchange through an agent, with redirects (RFC 9110
 * §15.4), timeouts and AbortSignal. The answer carries the status, the
 * headers, a streamed body and how long each step took.
 */
import { HttpError } from '../wire/http/errors.js';
import type { HeaderList } from '../wire/http/types.js';
import { Agent, DEFAULTS } from './agent.js';
import type { ResponseBody } from './body.js';
import { abortError, type Dispatch, type RawResponse, type RequestBody, type Timings } from './connection.js';

export type HeadersInit = HeaderList | Record<string, string | string[]> | Iterable<[string, string]>;

export interface RequestOptions {
  method?: string;
  headers?: HeadersInit;
  body?: string | Uint8Array | AsyncIterable<Uint8Array> | null;
  signal?: AbortSignal;
  /** Follow this many redirects (0, the default, returns the 3xx itself). */
  maxRedirects?: number;
  /** '1.0' sends HTTP/1.0: a connection per request, as in the seed. */
  version?: '1.0' | '1.1';
  headersTimeout?: number;
  bodyTimeout?: number;
  agent?: Agent;
  /** Told each request head as it is dispatched and each response head as it arrives, every redirect hop included (`get -v`). */
  onRequest?: (head: { method: string; target: string; version: '1.0' | '1.1'; headers: HeaderList; body: RequestBody }) => void;
  onResponse?: (head: { status: number; reason: string; version: '1.0' | '1.1'; headers: HeaderList }) => void;
}

export interface Response {
  statusCode: number;
  statusText: string;
  /** Lower-case names; repeated fields as arrays (set-cookie) or joined with ", ". */
  headers: Record<string, string | string[]>;
  rawHeaders: HeaderList;
  body: ResponseBody;
  /** The final URL, after redirects. */
  url: string;
  redirects: string[];
  httpVersion: '1.0' | '1.1';
  reused: boolean;
  timings: Timings;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
let defaultAgent: Agent | null = null;

export function getGlobalAgent(): Agent {
  return (defaultAgent ??= new Agent());
}

export function setGlobalAgent(agent: Agent): void {
  defaultAgent = agent;
}

export async function request(url: string | URL, options: RequestOptions = {}): Promise<Response> {
  const agent = options.agent ?? getGlobalAgent();
  let current = toUrl(url);
  let method = (options.method ?? 'GET').toUpperCase();
  let headers = toHeaderList(options.headers);
  let body: RequestBody = typeof options.body === 'string' ? Buffer.from(options.body) : (options.body ?? null);
  const maxRedirects = options.maxRedirects ?? 0;
  const redirects: string[] = [];
  for (;;) {
    const raw = await exchange(agent, current, method, headers, body, options);
    options.onResponse?.({ status: raw.status, reason: raw.reason, version: raw.minor === 0 ? '1.0' : '1.1', headers: raw.headers });
    const location = REDIRECTS.has(raw.status) ? headerOf(raw.headers, 'location') : undefined;
    if (!location || redirects.length >= maxRedirects) {
      if (location && maxRedirects > 0) {
        raw.body.cancel();
        throw new HttpError('ERR_HTTP_TOO_MANY_REDIRECTS', `more than ${maxRedirects} redirects, the last to ${location}`);
      }
      return response(raw, current, redirects);
    }
    await raw.body.dump();
    const next = new URL(location, current);
    if (next.protocol !== 'http:' && next.protocol !== 'https:') throw new HttpError('ERR_HTTP_BAD_URL', `redirect to unsupported scheme ${next.protocol}`);
    // 303, and 301/302 after POST, turn into GET without a body (RFC 9110 §15.4.2-4, as browsers do); 307/308 keep both.
    if (raw.status === 303 ? method !== 'HEAD' : (raw.status === 301 || raw.status === 302) && method === 'POST') {
      method = 'GET';
      body = null;
      headers = headers.filter(([n]) => !/^(content-(length|type|encoding|language|location)|transfer-encoding)$/i.test(n));
    } else if (body !== null && !(body instanceof Uint8Array)) {
      throw new HttpError('ERR_HTTP_ABORTED', `cannot follow a ${raw.status} redirect: the streamed request body cannot be sent again`);
    }
    // Credentials do not follow a redirect to another origin (as the Fetch standard says for Authorization).
    if (next.origin !== current.origin) headers = headers.filter(([n]) => !/^(authorization|cookie|proxy-authorization)$/i.test(n));
    redirects.push(next.href);
    current = next;
  }
}

function exchange(agent: Agent, url: URL, method: string, headers: HeaderList, body: RequestBody, options: RequestOptions): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const withHost = headerOf(headers, 'host') === undefined ? [['Host', url.host] as [string, string], ...headers] : headers;
    const d: Dispatch = {
      method,
      target: `${url.pathname || '/'}${url.search}`,
      headers: withHost,
      body,
      minor: options.version === '1.0' ? 0 : 1,
      headersTimeout: options.headersTimeout ?? agent.options.headersTimeout ?? DEFAULTS.headersTimeout,
      bodyTimeout: options.bodyTimeout ?? agent.options.bodyTimeout ?? DEFAULTS.bodyTimeout,
      signal: options.signal,
      resolve,
      reject,
      retried: false,
      answered: false,
      sentAt: 0,
      writtenAt: 0,
    };
    if (options.signal?.aborted) return reject(abortError(options.signal, 'before it started'));
    options.onRequest?.({ method, target: d.target, version: options.version ?? '1.1', headers: withHost, body });
    agent.dispatch(url, d);
  });
}

function response(raw: RawResponse, url: URL, redirects: string[]): Response {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of raw.headers) {
    const key = name.toLowerCase();
    const had = headers[key];
    if (had === undefined) headers[key] = key === 'set-cookie' ? [value] : value;
    else if (Array.isArray(had)) had.push(value);
    else headers[key] = `${had}, ${value}`;
  }
  return {
    statusCode: raw.status,
    statusText: raw.reason,
    headers,
    rawHeaders: raw.headers,
    body: raw.body,
    url: url.href,
    redirects,
    httpVersion: raw.minor === 0 ? '1.0' : '1.1',
    reused: raw.reused,
    timings: raw.timings,
  };
}

function toUrl(url: string | URL): URL {
  let u: URL;
  try {
    u = typeof url === 'string' ? new URL(url) : url;
  } catch {
    throw new HttpError('ERR_HTTP_BAD_URL', `not a URL: ${String(url)}`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new HttpError('ERR_HTTP_BAD_URL', `unsupported scheme ${u.protocol}`);
  return u;
}

export function toHeaderList(init: HeadersInit | undefined): HeaderList {
  if (!init) return [];
  if (Array.isArray(init)) return init.map(([n, v]) => [n, String(v)]);
  if (Symbol.iterator in (init as object)) return [...(init as Iterable<[string, string]>)].map(([n, v]) => [n, v]);
  const out: HeaderList = [];
  for (const [name, value] of Object.entries(init as Record<string, string | string[]>)) {
    if (Array.isArray(value)) for (const v of value) out.push([name, v]);
    else if (value !== undefined) out.push([name, String(value)]);
  }
  return out;
}

function headerOf(headers: HeaderList, name: string): string | undefined {
  for (const [n, v] of headers) if (n.toLowerCase() === name) return v;
  return undefined;
}
