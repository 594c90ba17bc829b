/**
 * HAR 1.2 (http://www.softwareishard.com/blog/har-12-spec/) from a trace's
 * HTTP events, for browsers' developer tools and HAR viewers.
 *
 * The conventions followed: -1 for a timing that did not apply (blocked and
 * ssl are not measured; dns and connect are -1 on a reused connection), send,
 * wait and receive always non-negative, `time` the sum of the timings that
 * are not -1 (ssl, were it known, is inside connect and not added again),
 * -1 for a size that is unknown (the request head's), URLs without their
 * fragment, entries sorted by startedDateTime.
 */
import { createRequire } from 'node:module';
import type { HttpEvent, TraceEvent } from '../trace-events.js';

export interface HarNameValue {
  name: string;
  value: string;
  comment?: string;
}

export interface HarCookie {
  name: string;
  value: string;
  path?: string;
  domain?: string;
  expires?: string;
  httpOnly?: boolean;
  secure?: boolean;
  comment?: string;
}

export interface HarRequest {
  method: string;
  url: string;
  httpVersion: string;
  cookies: HarCookie[];
  headers: HarNameValue[];
  queryString: HarNameValue[];
  headersSize: number;
  bodySize: number;
  comment?: string;
}

export interface HarResponse {
  status: number;
  statusText: string;
  httpVersion: string;
  cookies: HarCookie[];
  headers: HarNameValue[];
  content: { size: number; compression?: number; mimeType: string; text?: string; encoding?: string; comment?: string };
  redirectURL: string;
  headersSize: number;
  bodySize: number;
  comment?: string;
}

export interface HarTimings {
  blocked: number;
  dns: number;
  connect: number;
  send: number;
  wait: number;
  receive: number;
  ssl: number;
  comment?: string;
}

export interface HarEntry {
  pageref?: string;
  startedDateTime: string;
  time: number;
  request: HarRequest;
  response: HarResponse;
  cache: Record<string, never>;
  timings: HarTimings;
  serverIPAddress?: string;
  connection?: string;
  comment?: string;
}

export interface HarPage {
  startedDateTime: string;
  id: string;
  title: string;
  pageTimings: { onContentLoad: number; onLoad: number; comment?: string };
  comment?: string;
}

export interface HarCreator {
  name: string;
  version: string;
  comment?: string;
}

/** A whole HAR file: `{ log: { version: '1.2', creator, pages?, entries } }`. */
export interface HarLog {
  log: {
    version: '1.2';
    creator: HarCreator;
    pages?: HarPage[];
    entries: HarEntry[];
    comment?: string;
  };
}

export interface HarOptions {
  /** Defaults to protostack and its version. */
  creator?: HarCreator;
  /** The wall-clock time (ms since the epoch) of time 0 on the stack's clock; defaults to `performance.timeOrigin`, right for the kernel stack. */
  wallClockAt0?: number;
  /** Group the entries under one page. */
  page?: { id?: string; title: string };
}

export function renderHar(events: readonly TraceEvent[], options: HarOptions = {}): HarLog {
  const at0 = options.wallClockAt0 ?? performance.timeOrigin;
  const https = events.filter((e): e is HttpEvent => e.kind === 'http').sort((a, b) => a.start - b.start || a.seq - b.seq);
  const pageId = options.page ? (options.page.id ?? 'page_1') : undefined;
  const entries = https.map((h) => entry(h, at0, pageId));
  const log: HarLog['log'] = { version: '1.2', creator: options.creator ?? defaultCreator(), entries: [] };
  if (options.page) {
    const first = https[0];
    log.pages = [
      {
        startedDateTime: isoTime(at0 + (first ? first.start : 0)),
        id: pageId!,
        title: options.page.title,
        pageTimings: { onContentLoad: -1, onLoad: -1 },
      },
    ];
  }
  // Keys in the spec's order: version, creator, pages, entries.
  return { log: { version: log.version, creator: log.creator, ...(log.pages ? { pages: log.pages } : {}), entries } };
}

function entry(h: HttpEvent, at0: number, pageref: string | undefined): HarEntry {
  const started = at0 + h.start;
  const timings: HarTimings = {
    blocked: -1,
    dns: optional(h.timings.dns),
    connect: optional(h.timings.connect),
    send: required(h.timings.send),
    wait: required(h.timings.wait),
    receive: required(h.timings.receive),
    ssl: -1,
  };
  const micros = [timings.blocked, timings.dns, timings.connect, timings.send, timings.wait, timings.receive]
    .filter((t) => t >= 0)
    .reduce((sum, t) => sum + Math.round(t * 1000), 0);
  const httpVersion = `HTTP/${h.httpVersion}`;
  const url = withoutFragment(h.url);
  const e: HarEntry = {
    ...(pageref !== undefined ? { pageref } : {}),
    startedDateTime: isoTime(started),
    time: micros / 1000,
    request: {
      method: h.method,
      url,
      httpVersion,
      cookies: requestCookies(h.requestHeaders),
      headers: h.requestHeaders.map(([name, value]) => ({ name, value })),
      queryString: queryOf(url),
      // The request head's size is not in the trace.
      headersSize: -1,
      bodySize: size(h.requestBodySize),
    },
    response: {
      status: h.status,
      statusText: h.statusText,
      httpVersion,
      cookies: responseCookies(h.responseHeaders, started),
      headers: h.responseHeaders.map(([name, value]) => ({ name, value })),
      content: { size: Math.max(0, size(h.responseBodySize)), mimeType: header(h.responseHeaders, 'content-type') ?? 'x-unknown' },
      redirectURL: header(h.responseHeaders, 'location') ?? '',
      headersSize: size(h.responseHeadSize),
      bodySize: size(h.responseBodySize),
    },
    cache: {},
    timings,
  };
  if (h.serverAddress) e.serverIPAddress = h.serverAddress.replace(/^\[(.*)\]$/, '$1');
  if (h.connection) e.connection = h.connection;
  return e;
}

/** A phase that may not have happened: -1, or ms rounded to the microsecond. */
function optional(ms: number): number {
  return Number.isFinite(ms) && ms >= 0 ? round(ms) : -1;
}

/** A phase that always happens: never negative. */
function required(ms: number): number {
  return Number.isFinite(ms) && ms > 0 ? round(ms) : 0;
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

function size(n: number | undefined): number {
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 ? n : -1;
}

/** ISO 8601 with milliseconds and a zone, as HAR asks. */
function isoTime(ms: number): string {
  return new Date(Math.round(ms)).toISOString();
}

function withoutFragment(url: string): string {
  try {
    const u = new URL(url);
    u.hash = '';
    return u.href;
  } catch {
    const hash = url.indexOf('#');
    return hash < 0 ? url : url.slice(0, hash);
  }
}

function queryOf(url: string): HarNameValue[] {
  try {
    return [...new URL(url).searchParams].map(([name, value]) => ({ name, value }));
  } catch {
    return [];
  }
}

function header(headers: readonly [string, string][], name: string): string | undefined {
  return headers.find(([n]) => n.toLowerCase() === name)?.[1];
}

function requestCookies(headers: readonly [string, string][]): HarCookie[] {
  const out: HarCookie[] = [];
  for (const [name, value] of headers) {
    if (name.toLowerCase() !== 'cookie') continue;
    for (const pair of value.split(';')) {
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      out.push({ name: pair.slice(0, eq).trim(), value: pair.slice(eq + 1).trim() });
    }
  }
  return out;
}

function responseCookies(headers: readonly [string, string][], started: number): HarCookie[] {
  const out: HarCookie[] = [];
  for (const [name, value] of headers) {
    if (name.toLowerCase() !== 'set-cookie') continue;
    const [pair = '', ...attributes] = value.split(';');
    const eq = pair.indexOf('=');
    if (eq <= 0) continue;
    const cookie: HarCookie = { name: pair.slice(0, eq).trim(), value: pair.slice(eq + 1).trim() };
    for (const attribute of attributes) {
      const [rawKey = '', ...rest] = attribute.split('=');
      const key = rawKey.trim().toLowerCase();
      const v = rest.join('=').trim();
      if (key === 'path') cookie.path = v;
      else if (key === 'domain') cookie.domain = v;
      else if (key === 'httponly') cookie.httpOnly = true;
      else if (key === 'secure') cookie.secure = true;
      else if (key === 'expires' && cookie.expires === undefined && !Number.isNaN(Date.parse(v))) cookie.expires = new Date(Date.parse(v)).toISOString();
      else if (key === 'max-age' && /^-?\d+$/.test(v)) cookie.expires = isoTime(started + Number(v) * 1000);
    }
    out.push(cookie);
  }
  return out;
}

let creator: HarCreator | undefined;

function defaultCreator(): HarCreator {
  if (!creator) {
    let version = '0.0.0';
    try {
      // dist/src/trace/har.js → the package's own package.json.
      const pkg = createRequire(import.meta.url)('../../../package.json') as { name?: string; version?: string };
      if (pkg.name === 'protostack' && typeof pkg.version === 'string') version = pkg.version;
    } catch {
      // not laid out as a package
    }
    creator = { name: 'protostack', version };
  }
  return { ...creator };
}
