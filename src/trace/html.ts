/**
 * One self-contained HTML page for a trace: the sequence diagram (drawn in
 * the page by the Mermaid library, which is inlined, so the page needs no
 * network), the text timeline, and a table of the HTTP exchanges with their
 * HAR timings. A Content-Security-Policy forbids the page any fetch at all.
 *
 * The diagram's container says how drawing went, for people and for tests:
 * `data-rendered="ok"`, or `data-rendered="error"` with `data-error`.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { HttpEvent, TraceEvent } from '../trace-events.js';
import { renderMermaid, type MermaidOptions } from './mermaid.js';
import { renderPacketMermaid } from './mermaid-packets.js';
import { renderTimeline } from './text.js';

export interface HtmlOptions {
  /** The page's title and heading. */
  title?: string;
  /** Passed on to the diagram: participant labels and order. */
  labels?: MermaidOptions['labels'];
  order?: MermaidOptions['order'];
  /** The trace holds packets: offer the diagram with them too (shown first), and a toggle between the two. */
  packets?: boolean;
  packetsNotShown?: number;
}

/** The browser bundle of Mermaid: one IIFE file that defines `window.mermaid`. */
export const MERMAID_BUNDLE = 'mermaid/dist/mermaid.min.js';

let bundle: { path: string; source: string } | null = null;

/** The Mermaid bundle's path and text, read once from node_modules. */
export function mermaidBundle(): { path: string; source: string } {
  if (!bundle) {
    const path = createRequire(import.meta.url).resolve(MERMAID_BUNDLE);
    bundle = { path, source: readFileSync(path, 'utf8') };
  }
  return bundle;
}

export function renderHtml(events: readonly TraceEvent[], options: HtmlOptions = {}): string {
  const title = options.title ?? 'protostack trace';
  const diagram = renderMermaid(events, { ...(options.labels ? { labels: options.labels } : {}), ...(options.order ? { order: options.order } : {}) });
  const withPackets = options.packets ? renderPacketMermaid(events, options.packetsNotShown ? { packetsNotShown: options.packetsNotShown } : {}) : null;
  const calls = events.filter((e) => e.kind === 'call').length;
  const https = events.filter((e): e is HttpEvent => e.kind === 'http').sort((a, b) => a.start - b.start || a.seq - b.seq);

  let script: string;
  let missing: string | null = null;
  try {
    script = scriptSafe(mermaidBundle().source);
  } catch (e) {
    missing = `the Mermaid library was not found (${MERMAID_BUNDLE}): ${(e as Error).message}`;
    script = '';
  }

  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; font-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="protostack">
<title>${esc(title)}</title>
<style>
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; margin: 1.5rem; color: #1b1f24; background: #fff; }
.narrow { max-width: 72rem; }
h1 { font-size: 1.5rem; margin: 0 0 .25rem; }
h2 { font-size: 1.15rem; margin: 2rem 0 .5rem; border-bottom: 1px solid #d0d7de; padding-bottom: .25rem; }
.summary { color: #57606a; margin: 0 0 1rem; }
#diagram { overflow: auto; max-height: 90vh; width: fit-content; max-width: 100%; box-sizing: border-box; border: 1px solid #d0d7de; border-radius: 6px; padding: .75rem; min-height: 3rem; background: #fff; }
#diagram[data-rendered="pending"]::before { content: "Drawing the diagram…"; color: #57606a; }
#diagram[data-rendered="error"] { border-color: #cf222e; }
#diagram .failure { color: #cf222e; white-space: pre-wrap; font-family: ui-monospace, "DejaVu Sans Mono", monospace; }
#diagram svg { max-width: none; height: auto; }
/* Fitted (the default): a diagram wider than the window is scaled down to its width; "actual size" scrolls instead. */
#diagram.fit { max-height: none; }
#diagram.fit svg { max-width: 100%; }
.zoom { margin: 0 0 .5rem; }
.zoom button { font: inherit; font-size: 13px; padding: .15rem .6rem; border: 1px solid #d0d7de; border-radius: 6px; background: #f6f8fa; cursor: pointer; }
.zoom button[aria-pressed="true"] { background: #ddf4ff; border-color: #54aeff; }
pre { font: 12.5px/1.4 ui-monospace, "DejaVu Sans Mono", "Liberation Mono", monospace; background: #f6f8fa; border: 1px solid #d0d7de; border-radius: 6px; padding: .75rem; overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: 13.5px; }
th, td { border: 1px solid #d0d7de; padding: .3rem .5rem; text-align: left; vertical-align: top; }
th { background: #f6f8fa; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.url { word-break: break-all; }
.bar { display: flex; height: .8rem; min-width: 8rem; background: #f6f8fa; }
.bar span { display: block; height: 100%; }
.dns { background: #1f883d; } .connect { background: #bf8700; } .send { background: #0969da; } .wait { background: #8250df; } .receive { background: #cf222e; }
.legend span { display: inline-block; width: .8rem; height: .8rem; margin: 0 .25rem 0 .75rem; vertical-align: middle; }
details { margin-top: .5rem; }
</style>
</head>
<body>
<h1>${esc(title)}</h1>
<p class="summary narrow">${calls} socket call${calls === 1 ? '' : 's'}, ${https.length} HTTP exchange${https.length === 1 ? '' : 's'}.${withPackets ? ' Calls and packets: arrows are packets between the hosts, notes the client\'s socket calls. Calls only:' : ''} Arrows are the calls of the side that began each exchange; notes are the answering side's calls.</p>

<h2>Sequence diagram</h2>
${withPackets ? '<p class="zoom" id="layers"><button type="button" data-layer="packets" aria-pressed="true">Calls and packets</button> <button type="button" data-layer="calls" aria-pressed="false">Calls only</button></p>\n' : ''}<p class="zoom" id="zoom"><button type="button" data-zoom="fit" aria-pressed="true">Fit to window</button> <button type="button" data-zoom="actual" aria-pressed="false">Actual size (scroll)</button></p>
<div id="diagram" class="fit"${withPackets ? ' data-layer="packets"' : ''} data-rendered="${missing ? 'error' : 'pending'}"${missing ? ` data-error="${esc(missing)}"` : ''}>${missing ? `<p class="failure">${esc(missing)}</p>` : ''}</div>
<details>
<summary>Mermaid source</summary>
<pre id="mermaid-source">${esc(withPackets ?? diagram)}</pre>${withPackets ? `\n<pre id="mermaid-calls" hidden>${esc(diagram)}</pre><pre id="mermaid-packets" hidden>${esc(withPackets)}</pre>` : ''}
</details>

<h2>Timeline</h2>
<pre id="timeline">${esc(renderTimeline(events, options.packetsNotShown ? { packetsNotShown: options.packetsNotShown } : {}))}</pre>

<h2>HTTP exchanges</h2>
${httpTable(https)}
${missing ? '' : `<script>${script}</script>
<script>
(function () {
  var box = document.getElementById('diagram');
  var source = document.getElementById('mermaid-source').textContent;
  function fail(error) {
    var message = String((error && error.message) || error);
    box.setAttribute('data-rendered', 'error');
    box.setAttribute('data-error', message);
    var p = document.createElement('p');
    p.className = 'failure';
    p.textContent = 'The diagram could not be drawn: ' + message;
    box.replaceChildren(p);
  }
  document.getElementById('zoom').addEventListener('click', function (event) {
    var mode = event.target.getAttribute && event.target.getAttribute('data-zoom');
    if (!mode) return;
    box.classList.toggle('fit', mode === 'fit');
    document.querySelectorAll('#zoom button').forEach(function (b) { b.setAttribute('aria-pressed', String(b.getAttribute('data-zoom') === mode)); });
  });
  var layers = document.getElementById('layers');
  var drawn = 0;
  function draw(text) {
    box.setAttribute('data-rendered', 'pending');
    mermaid.render('trace-diagram-' + (drawn++), text).then(function (result) {
      box.innerHTML = result.svg;
      box.setAttribute('data-rendered', 'ok');
    }, fail);
  }
  if (layers) layers.addEventListener('click', function (event) {
    var layer = event.target.getAttribute && event.target.getAttribute('data-layer');
    if (!layer) return;
    layers.querySelectorAll('button').forEach(function (b) { b.setAttribute('aria-pressed', String(b.getAttribute('data-layer') === layer)); });
    box.setAttribute('data-layer', layer);
    var text = document.getElementById('mermaid-' + layer).textContent;
    document.getElementById('mermaid-source').textContent = text;
    draw(text);
  });
  try {
    mermaid.initialize({ startOnLoad: false, securityLevel: 'strict', theme: 'default', maxTextSize: 1000000, sequence: { useMaxWidth: false, showSequenceNumbers: false, wrap: false, actorMargin: 40, messageMargin: 30, messageFontSize: 14, noteFontSize: 14, actorFontSize: 14 } });
    draw(source);
  } catch (error) {
    fail(error);
  }
})();
</script>`}
</body>
</html>
`;
}

function httpTable(https: readonly HttpEvent[]): string {
  if (https.length === 0) return '<p>No HTTP exchanges in this trace.</p>';
  const phases = ['dns', 'connect', 'send', 'wait', 'receive'] as const;
  const totals = https.map((h) => phases.reduce((sum, p) => sum + Math.max(0, h.timings[p]), 0));
  const longest = Math.max(...totals, 0.001);
  const rows = https.map((h, i) => {
    const cells = phases.map((p) => `<td class="num">${h.timings[p] >= 0 ? h.timings[p].toFixed(3) : '–'}</td>`).join('');
    const bar = phases
      .filter((p) => h.timings[p] > 0)
      .map((p) => `<span class="${p}" style="width:${((h.timings[p] / longest) * 100).toFixed(2)}%" title="${p} ${h.timings[p].toFixed(3)} ms"></span>`)
      .join('');
    return `<tr><td class="num">${i + 1}</td><td>${esc(h.method)}</td><td class="url">${esc(h.url)}</td><td class="num">${h.status} ${esc(h.statusText)}</td><td>${esc(h.who)}, fd ${h.fd}${h.connection ? ` (${esc(h.connection)})` : ''}</td><td>${esc(h.serverAddress ?? '')}</td>${cells}<td class="num">${totals[i]!.toFixed(3)}</td><td><div class="bar">${bar}</div></td></tr>`;
  });
  return `<table id="http">
<thead><tr><th>#</th><th>Method</th><th>URL</th><th>Status</th><th>Client</th><th>Server</th><th>DNS ms</th><th>Connect ms</th><th>Send ms</th><th>Wait ms</th><th>Receive ms</th><th>Total ms</th><th>Waterfall</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody>
</table>
<p class="legend">–: did not happen (a reused connection needs no lookup and no connect).${phases.map((p) => `<span class="${p}"></span>${p}`).join('')}</p>`;
}

/** Escapes text for HTML content and attribute values. */
export function esc(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * JavaScript safe inside <script>: no "</script" to end it early and no
 * "<!--" or "<script" to change how the HTML parser reads it. Each `<` so
 * escaped sits in a string, a regular expression or a comment, where \x3C
 * means the same.
 */
export function scriptSafe(source: string): string {
  return source.replace(/<(\/script|!--|script)/gi, '\\x3C$1');
}
