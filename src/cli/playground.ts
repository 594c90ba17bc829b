/**
 * `protostack playground [--out FILE.html]`: one self-contained page in which
 * protostack's own code (dist/playground/bundle.js: the user stack on the
 * simulated network, the DNS server and resolver, the HTTP client and server)
 * runs `demo --stack user` in the browser. Mermaid is inlined as in the HTML
 * report, so the page needs no network. The settings also come from the URL
 * (?loss=0.1&seed=7&objects=3&http=1.1&latency=2&autorun=1); a seed gives the
 * same packets as the CLI's run with the same settings.
 */
import { readFileSync } from 'node:fs';
import { mermaidBundle, scriptSafe } from '../trace/html.js';
import { MAX_LOSS } from './demo-user.js';
import { parseArgs, parseCommand, usageError } from './args.js';
import { writeReport } from './report.js';
import { PLAYGROUND_SCRIPT } from './playground-page.js';

export const PLAYGROUND_USAGE = `Usage: protostack playground [--out FILE.html]
  --out FILE  write the page there (default playground.html); open it in a browser, no network needed
The page runs demo --stack user in the browser: set loss, seed, objects, HTTP version and latency,
press Run, and get the sequence diagram with packets, the counts and the pcap. The URL takes the
same settings: FILE.html?loss=0.1&seed=7&objects=3&http=1.1&latency=2&autorun=1
`;

/** Where the build step (scripts/build-playground.mjs) writes the browser bundle, beside dist/src. */
const BUNDLE = new URL('../../playground/bundle.js', import.meta.url);

export async function playgroundCommand(args: string[]): Promise<number> {
  const parsed = parseCommand('playground', PLAYGROUND_USAGE, () => parseArgs({ args, allowPositionals: false, strict: true, options: { help: { type: 'boolean', short: 'h' }, out: { type: 'string' } } }));
  if (typeof parsed === 'number') return parsed;
  const out = parsed.values.out ?? 'playground.html';
  if (out === '') return usageError('playground', '--out wants a file name');
  let bundle: string;
  let mermaid: string;
  try {
    bundle = readFileSync(BUNDLE, 'utf8');
    mermaid = mermaidBundle().source;
  } catch (e) {
    process.stderr.write(`protostack playground: the page's code is missing (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); build it with \`npm run build\` (needs the devDependency esbuild)\n`);
    return 1;
  }
  return (await writeReport('playground', out, renderPlayground(bundle, mermaid), 'the playground page')) ? 0 : 1;
}

export function renderPlayground(bundle: string, mermaid: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; style-src 'unsafe-inline'; img-src data: blob:; font-src data:">
<title>protostack playground</title>
<style>
body { font: 14px system-ui, sans-serif; margin: 1rem; }
#controls label { margin-right: 1rem; }
#controls input { width: 5rem; }
#summary { margin: 0.5rem 0; font-family: monospace; white-space: pre-wrap; }
#diagram { overflow: auto; max-width: 100%; border: 1px solid #ccc; min-height: 4rem; }
#diagram svg { max-width: none; }
</style>
</head>
<body>
<h1>protostack playground</h1>
<p>The seed's flow (gethostbyname, connect, write, read, close) on protostack's own TCP/IP, three hosts on a simulated link, running in this page. A seed replays the run exactly, packet for packet, as <code>protostack demo --stack user</code> with the same settings.</p>
<form id="controls" onsubmit="return false">
<label>loss <input data-testid="loss" id="loss" type="number" min="0" max="${MAX_LOSS}" step="0.01" value="0"></label>
<label>seed <input data-testid="seed" id="seed" type="number" min="0" max="4294967295" step="1" value="1"></label>
<label>objects <input data-testid="objects" id="objects" type="number" min="1" max="100" step="1" value="1"></label>
<label>HTTP <select data-testid="http" id="http"><option>1.0</option><option>1.1</option></select></label>
<label>latency ms <input data-testid="latency" id="latency" type="number" min="0" max="1000" step="0.1" value="2"></label>
<button data-testid="run" id="run" type="button">Run</button>
<button data-testid="download-pcap" id="download-pcap" type="button" disabled>Download pcap</button>
</form>
<div data-testid="summary" id="summary">Press Run.</div>
<div data-testid="diagram" id="diagram"></div>
<script>${scriptSafe(mermaid)}</script>
<script>${scriptSafe(bundle)}</script>
<script>${scriptSafe(PLAYGROUND_SCRIPT)}</script>
</body>
</html>
`;
}
