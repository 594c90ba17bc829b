/**
 * protostack/trace: the renderers (text timeline, Mermaid, JSON, HAR, HTML),
 * and the events and sinks they read, which every layer records into.
 */
export { TraceLog, TraceTee, type CallEvent, type DnsEvent, type HttpEvent, type TraceEvent, type TraceSink } from '../trace-events.js';
export { renderTimeline, type TimelineOptions } from './text.js';
export { renderMermaid, type MermaidOptions } from './mermaid.js';
export { parseTraceJson, renderJson, TRACE_JSON_VERSION, type TraceDocument } from './json.js';
export { renderHar, type HarLog, type HarOptions } from './har.js';
export { renderHtml, type HtmlOptions } from './html.js';
