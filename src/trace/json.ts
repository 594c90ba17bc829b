/**
 * A trace as JSON: `{ "version": 1, "meta": {...}, "events": [...] }`,
 * pretty-printed, with every event's keys in one fixed order (the order of
 * the event interfaces), so two traces of the same run diff line by line.
 * Fields that are undefined are left out; `parseTraceJson` reads it back.
 */
import type { TraceEvent } from '../trace-events.js';

export const TRACE_JSON_VERSION = 1;

export interface TraceDocument {
  version: typeof TRACE_JSON_VERSION;
  meta: Record<string, unknown>;
  events: TraceEvent[];
}

/** Keys in the order of `CallEvent`, `HttpEvent` and `DnsEvent`; anything else follows, sorted. */
const CALL_KEYS = ['kind', 'seq', 'who', 'stack', 'call', 'fd', 'start', 'waited', 'address', 'port', 'local', 'length', 'result', 'error', 'note'];
const HTTP_KEYS = [
  'kind', 'seq', 'who', 'stack', 'fd', 'method', 'url', 'httpVersion', 'requestHeaders', 'requestBodySize', 'status', 'statusText',
  'responseHeaders', 'responseBodySize', 'responseHeadSize', 'start', 'timings', 'serverAddress', 'connection', 'reused',
];
const DNS_KEYS = [
  'kind', 'seq', 'who', 'stack', 'phase', 'fd', 'transport', 'server', 'id', 'name', 'type', 'start', 'size', 'elapsed', 'rcode', 'truncated', 'answers', 'error',
];
const KINDS = new Set(['call', 'http', 'dns']);
const TIMING_KEYS = ['dns', 'connect', 'send', 'wait', 'receive'];

export function renderJson(events: readonly TraceEvent[], meta: Readonly<Record<string, unknown>> = {}): string {
  const doc = { version: TRACE_JSON_VERSION, meta: sortKeys(meta) as Record<string, unknown>, events: events.map(orderEvent) };
  return JSON.stringify(doc, null, 2) + '\n';
}

/** Reads a document written by `renderJson`, checking its shape. */
export function parseTraceJson(json: string): TraceDocument {
  const doc = JSON.parse(json) as Partial<TraceDocument> | null;
  if (!doc || typeof doc !== 'object') throw new TypeError('trace JSON: not an object');
  if (doc.version !== TRACE_JSON_VERSION) throw new TypeError(`trace JSON: version ${String(doc.version)} is not ${TRACE_JSON_VERSION}`);
  if (!Array.isArray(doc.events)) throw new TypeError('trace JSON: events is not an array');
  for (const [i, e] of doc.events.entries()) {
    if (!e || typeof e !== 'object' || !KINDS.has(e.kind)) throw new TypeError(`trace JSON: event ${i} has no kind 'call', 'http' or 'dns'`);
    if (typeof e.who !== 'string' || typeof e.start !== 'number' || typeof e.seq !== 'number') throw new TypeError(`trace JSON: event ${i} lacks who, seq or start`);
  }
  const meta = doc.meta && typeof doc.meta === 'object' && !Array.isArray(doc.meta) ? doc.meta : {};
  return { version: TRACE_JSON_VERSION, meta, events: doc.events };
}

function orderEvent(e: TraceEvent): Record<string, unknown> {
  const out = ordered(e as unknown as Record<string, unknown>, e.kind === 'http' ? HTTP_KEYS : e.kind === 'dns' ? DNS_KEYS : CALL_KEYS);
  if (e.kind === 'http') out.timings = ordered(e.timings, TIMING_KEYS);
  return out;
}

function ordered(obj: Readonly<Record<string, unknown>>, keys: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of keys) if (obj[k] !== undefined) out[k] = obj[k];
  for (const k of Object.keys(obj).sort()) if (!(k in out) && obj[k] !== undefined) out[k] = obj[k];
  return out;
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort()) out[k] = sortKeys((value as Record<string, unknown>)[k]);
    return out;
  }
  return value;
}
