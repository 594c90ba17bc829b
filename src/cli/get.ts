/**
 * `protostack get URL`: like curl, through the project's resolver, socket
 * library and HTTP client. -v shows the raw heads and every socket call.
 */
import { createWriteStream } from 'node:fs';
import { Agent } from '../http/agent.js';
import { request, type Response } from '../http/client.js';
import { SocketLibrary } from '../socket/library.js';
import { KernelStack } from '../stack/kernel/stack.js';
import { writeFile } from 'node:fs/promises';
import { TraceLog } from '../trace/events.js';
import { renderHar } from '../trace/har.js';
import { renderHtml } from '../trace/html.js';
import { renderMermaid } from '../trace/mermaid.js';
import { renderTimeline } from '../trace/text.js';
import { parseArgs } from 'node:util';
import { parseCommand } from './args.js';

export const GET_USAGE = `Usage: protostack get URL [options]
  -v, --verbose        show the request and response heads and every socket call
  -o, --output FILE    write the body to FILE instead of standard output
  -H, --header 'N: V'  add a request header (repeatable)
  -X, --request METHOD use METHOD (default GET, or POST with -d)
  -d, --data DATA      send DATA as the request body (@FILE reads a file)
  -L, --location       follow redirects (at most 10)
  -I, --head           send HEAD and show the response head
  -w, --write-out FMT  print FMT after the transfer: %{http_code} %{time_namelookup}
                       %{time_connect} %{time_appconnect} %{time_starttransfer} %{time_total}
                       %{size_download} %{num_redirects} %{url_effective} (\\n for newline)
  --http1.0            speak HTTP/1.0: one connection per request, closed by the server
  -k, --insecure       do not verify the TLS certificate
  -m, --max-time SECS  give up after SECS seconds
  --mermaid            with -v: draw the socket calls as a Mermaid sequenceDiagram
  --har FILE           write the exchange as HAR 1.2
  --html FILE          write a self-contained page with the diagram and the timeline
`;

export async function getCommand(args: string[]): Promise<number> {
  const parsed = parseCommand('get', GET_USAGE, () =>
    parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        help: { type: 'boolean', short: 'h' },
        verbose: { type: 'boolean', short: 'v' },
        output: { type: 'string', short: 'o' },
        header: { type: 'string', short: 'H', multiple: true },
        request: { type: 'string', short: 'X' },
        data: { type: 'string', short: 'd' },
        location: { type: 'boolean', short: 'L' },
        head: { type: 'boolean', short: 'I' },
        'write-out': { type: 'string', short: 'w' },
        'http1.0': { type: 'boolean' },
        insecure: { type: 'boolean', short: 'k' },
        'max-time': { type: 'string', short: 'm' },
        mermaid: { type: 'boolean' },
        har: { type: 'string' },
        html: { type: 'string' },
      },
    }),
  );
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  const [url] = positionals;
  if (!url || positionals.length > 1) {
    process.stderr.write(GET_USAGE);
    return 2;
  }
  const trace = values.verbose || values.mermaid || values.har || values.html ? new TraceLog() : null;
  const lib = new SocketLibrary(new KernelStack(), { label: 'get', trace });
  const agent = new Agent({ lib, ...(values.insecure ? { tls: { rejectUnauthorized: false } } : {}) });
  const headers: [string, string][] = [['user-agent', 'protostack'], ['accept', '*/*']];
  for (const h of values.header ?? []) {
    const i = h.indexOf(':');
    if (i <= 0) {
      process.stderr.write(`protostack get: bad header '${h}' (want 'Name: value')\n`);
      return 2;
    }
    headers.push([h.slice(0, i).trim(), h.slice(i + 1).trim()]);
  }
  let body: Uint8Array | undefined;
  if (values.data !== undefined) {
    body = values.data.startsWith('@') ? await import('node:fs/promises').then((fs) => fs.readFile(values.data!.slice(1))) : Buffer.from(values.data);
    if (!headers.some(([n]) => n.toLowerCase() === 'content-type')) headers.push(['content-type', 'application/x-www-form-urlencoded']);
  }
  const method = values.request ?? (values.head ? 'HEAD' : body ? 'POST' : 'GET');
  const version = values['http1.0'] ? '1.0' : '1.1';
  const signal = values['max-time'] ? AbortSignal.timeout(Number(values['max-time']) * 1000) : undefined;
  const t0 = performance.now();
  let res: Response;
  try {
    if (values.verbose) {
      const u = new URL(url);
      const lines = [`${method} ${u.pathname}${u.search} HTTP/${version}`, `Host: ${u.host}`, ...headers.map(([n, v]) => `${n}: ${v}`)];
      if (body) lines.push(`content-length: ${body.length}`);
      process.stderr.write(lines.map((l) => `> ${l}`).join('\n') + '\n>\n');
    }
    res = await request(url, { method, headers, ...(body ? { body } : {}), version, agent, maxRedirects: values.location ? 10 : 0, ...(signal ? { signal } : {}) });
    const tHead = performance.now();
    if (values.verbose || values.head) {
      const out = values.head && !values.verbose ? process.stdout : process.stderr;
      const prefix = values.verbose ? '< ' : '';
      out.write([`HTTP/${res.httpVersion} ${res.statusCode} ${res.statusText}`, ...res.rawHeaders.map(([n, v]) => `${n}: ${v}`)].map((l) => `${prefix}${l}`).join('\n') + `\n${prefix}\n`);
    }
    const size = await save(res, values.output, Number(res.headers['content-length'] ?? 0));
    const tEnd = performance.now();
    if (values['write-out']) process.stdout.write(writeOut(values['write-out'], res, size, t0, tHead, tEnd));
    if (trace) {
      const t = res.timings;
      trace.record({
        kind: 'http', seq: 0, who: lib.label, stack: lib.stack.name, fd: -1, method, url: res.url, httpVersion: version,
        requestHeaders: headers, requestBodySize: body?.length ?? 0, status: res.statusCode, statusText: res.statusText,
        responseHeaders: res.rawHeaders, responseBodySize: size, responseHeadSize: -1, start: lib.stack.now() - (tEnd - t0),
        timings: { dns: res.reused ? -1 : t.lookup, connect: res.reused ? -1 : t.connect + t.tls, send: 0, wait: t.firstByte, receive: tEnd - tHead },
      });
      if (values.har) await writeFile(values.har, JSON.stringify(renderHar(trace.events, { creator: { name: 'protostack', version: '0.1.0' } }), null, 2));
      if (values.html) await writeFile(values.html, renderHtml(trace.events, { title: `protostack get ${url}` }));
      if (values.mermaid) process.stderr.write(`\n${renderMermaid(trace.events)}`);
      if (values.verbose) process.stderr.write(`\nsocket calls:\n${renderTimeline(trace.events)}`);
    }
    return 0;
  } catch (e) {
    if (trace) process.stderr.write(`\nsocket calls:\n${renderTimeline(trace.events)}`);
    process.stderr.write(`protostack get: ${(e as Error).message}\n`);
    return 1;
  } finally {
    await agent.close();
  }
}

async function save(res: Response, output: string | undefined, expected: number): Promise<number> {
  const file = output ? createWriteStream(output) : null;
  const progress = file !== null && process.stderr.isTTY && expected > 1024 * 1024;
  let size = 0;
  for await (const chunk of res.body) {
    size += chunk.length;
    if (file) {
      if (!file.write(chunk)) await new Promise<void>((r) => file.once('drain', () => r()));
    } else process.stdout.write(chunk);
    if (progress) bar(size, expected);
  }
  if (progress) process.stderr.write('\n');
  if (file) await new Promise<void>((resolve, reject) => file.end((err?: Error | null) => (err ? reject(err) : resolve())));
  return size;
}

function bar(done: number, total: number): void {
  const width = 40;
  const filled = Math.min(width, Math.round((done / total) * width));
  process.stderr.write(`\r[${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${((done / total) * 100).toFixed(1)}%  ${(done / 1048576).toFixed(1)} MiB`);
}

function writeOut(format: string, res: Response, size: number, t0: number, tHead: number, tEnd: number): string {
  const t = res.timings;
  const s = (ms: number) => (ms / 1000).toFixed(6);
  const vars: Record<string, string> = {
    http_code: String(res.statusCode),
    time_namelookup: s(t.lookup),
    time_connect: s(t.lookup + t.connect),
    time_appconnect: s(t.tls ? t.lookup + t.connect + t.tls : 0),
    time_starttransfer: s(tHead - t0),
    time_total: s(tEnd - t0),
    size_download: String(size),
    num_redirects: String(res.redirects.length),
    url_effective: res.url,
  };
  return format.replace(/%\{(\w+)\}/g, (m, name: string) => vars[name] ?? m).replace(/\\n/g, '\n').replace(/\\t/g, '\t');
}
