/** `protostack demo`: options, then the trace in the form asked for. */
import { writeFile } from 'node:fs/promises';
import { renderHar } from '../trace/har.js';
import { renderHtml } from '../trace/html.js';
import { renderJson } from '../trace/json.js';
import { renderMermaid } from '../trace/mermaid.js';
import { renderTimeline } from '../trace/text.js';
import { formatSummary, runDemo } from './demo.js';
import { parseArgs } from 'node:util';
import { parseCommand } from './args.js';

export const DEMO_USAGE = `Usage: protostack demo [--objects N] [--http 1.0|1.1] [--url URL]
  --objects N     fetch N objects (a page and N-1 pictures); default 1
  --http 1.0|1.1  1.0: a connect…close cycle per object (default, as in the seed);
                  1.1: one connection kept for all of them
  --url URL       the same flow against any http:// server (the system's resolver config applies)
  --mermaid       print the trace as a Mermaid sequenceDiagram, like the seed's
  --json          print the trace as JSON
  --har FILE      write the HTTP exchanges as HAR 1.2 (dns/connect/send/wait/receive timings)
  --html FILE     write one self-contained page with the diagram and the timeline (works offline)
`;

export async function demoCommand(args: string[]): Promise<number> {
  const parsed = parseCommand('demo', DEMO_USAGE, () =>
    parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        help: { type: 'boolean', short: 'h' },
        objects: { type: 'string' },
        http: { type: 'string' },
        url: { type: 'string' },
        mermaid: { type: 'boolean' },
        json: { type: 'boolean' },
        har: { type: 'string' },
        html: { type: 'string' },
      },
    }),
  );
  if (typeof parsed === 'number') return parsed;
  const { values } = parsed;
  const objects = values.objects === undefined ? 1 : Number(values.objects);
  if (!Number.isInteger(objects) || objects < 1 || objects > 1000) {
    process.stderr.write(`protostack demo: --objects wants a whole number from 1 to 1000\n`);
    return 2;
  }
  const http = values.http ?? '1.0';
  if (http !== '1.0' && http !== '1.1') {
    process.stderr.write(`protostack demo: --http is 1.0 or 1.1\n`);
    return 2;
  }
  const result = await runDemo({ objects, http, ...(values.url ? { url: values.url } : {}) });
  const events = result.trace.events;
  const title = `protostack demo: ${objects} object${objects === 1 ? '' : 's'} over HTTP/${http}`;
  if (values.har) await writeFile(values.har, JSON.stringify(renderHar(events, { creator: { name: 'protostack', version: '0.1.0' } }), null, 2));
  if (values.html) await writeFile(values.html, renderHtml(events, { title }));
  if (values.mermaid) {
    process.stdout.write(renderMermaid(events, { title }));
    return 0;
  }
  if (values.json) {
    process.stdout.write(renderJson(events, { command: 'demo', objects, http }));
    return 0;
  }
  process.stdout.write(
    [
      `protostack demo: the seed's flow${values.url ? ` against ${values.url}` : ' on loopback'}, through the socket library over the kernel stack.`,
      '',
      formatSummary(result.summary),
      '',
      'Every socket call of every side, in the order it began; "waited" is how long control stayed in the socket library:',
      '',
      renderTimeline(result.trace.events),
    ].join('\n'),
  );
  return 0;
}
