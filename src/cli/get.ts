/**
 * `protostack get URL`: like curl, through the project's resolver, socket
 * library and HTTP client. -v shows every request and response head (each
 * redirect hop with -L) and every socket call. Failures are one line and
 * curl's exit code (get-exit.ts); -m bounds the whole transfer.
 */
import { readFile } from 'node:fs/promises';
import { Resolver } from '../dns/resolver.js';
import { Agent } from '../http/agent.js';
import { request, type Response } from '../http/client.js';
import { SocketLibrary } from '../socket/library.js';
import { KernelStack } from '../stack/kernel/stack.js';
import { FlagError } from './limits.js';
import { openTunStack, TUN_OPTIONS, TUN_USAGE, tunFailure, tunFlags, type TunStack } from './tun.js';
import { TraceLog } from '../trace-events.js';
import { renderHar } from '../trace/har.js';
import { renderHtml } from '../trace/html.js';
import { renderMermaid } from '../trace/mermaid.js';
import { renderTimeline } from '../trace/text.js';
import type { HeaderList } from '../wire/http/types.js';
import { parseArgs, parseCommand, usageError } from './args.js';
import { classify, EXIT, OutputError } from './get-exit.js';
import { FileSink, saveBody, StreamSink, writeOut, type Sink } from './get-output.js';
import { writeReport } from './report.js';

export const GET_USAGE = `Usage: protostack get URL [options]
  -v, --verbose        show each request and response head (every hop with -L) and every socket call
  -o, --output FILE    write the body to FILE instead of standard output
  -H, --header 'N: V'  add a request header (repeatable); it replaces a default of the same name
                       (User-Agent, Accept, Content-Type, Host); 'N:' with no value removes it (not Host)
  -X, --request METHOD use METHOD (default GET, or POST with -d)
  -d, --data DATA      send DATA as the request body (@FILE reads a file)
  -L, --location       follow redirects (at most --max-redirs, default 10)
  --max-redirs N       follow at most N redirects
  -I, --head           send HEAD and show the response head
  -f, --fail           an HTTP error (status 400 or above) prints no body and exits 22
  -w, --write-out FMT  print FMT after the transfer: %{http_code} %{time_namelookup}
                       %{time_connect} %{time_appconnect} %{time_starttransfer} %{time_total}
                       %{size_download} %{num_redirects} %{url_effective} %{http_version} (\\n for newline)
  --http1.0            speak HTTP/1.0: one connection per request, closed by the server
  -k, --insecure       do not verify the TLS certificate
  -m, --max-time SECS  give up on the whole transfer after SECS seconds (exit 28)
  --dns-servers LIST   ask these DNS servers (127.0.0.1:5353,...) instead of resolv.conf's
  --mermaid            with -v: draw the socket calls as a Mermaid sequenceDiagram
  --har FILE           write the exchange as HAR 1.2 (with -L, one entry per hop)
  --html FILE          write a self-contained page with the diagram and the timeline
Exit codes as curl's: 1 unsupported protocol, 3 malformed URL, 6 cannot resolve, 7 cannot connect,
8 not HTTP, 18 partial body, 22 HTTP error with -f, 23 cannot write, 28 timed out, 35 TLS handshake,
47 too many redirects, 52 empty reply, 56 connection reset, 60 untrusted certificate.
${TUN_USAGE}With --tun, name servers come from --dns-servers (resolv.conf's are usually on the host's loopback).
`;

const DEFAULT_HEADERS: HeaderList = [
  ['User-Agent', 'protostack'],
  ['Accept', '*/*'],
];

export async function getCommand(args: string[]): Promise<number> {
  const opened: TunStack[] = [];
  try {
    return await runGet(args, opened);
  } finally {
    for (const tun of opened) await tun.close();
  }
}

async function runGet(args: string[], opened: TunStack[]): Promise<number> {
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
        'max-redirs': { type: 'string' },
        head: { type: 'boolean', short: 'I' },
        fail: { type: 'boolean', short: 'f' },
        'write-out': { type: 'string', short: 'w' },
        'http1.0': { type: 'boolean' },
        insecure: { type: 'boolean', short: 'k' },
        'max-time': { type: 'string', short: 'm' },
        'dns-servers': { type: 'string' },
        mermaid: { type: 'boolean' },
        har: { type: 'string' },
        html: { type: 'string' },
        ...TUN_OPTIONS,
      },
    }),
  );
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  if (positionals.length === 0) return usageError('get', 'no URL given');
  if (positionals.length > 1) return usageError('get', `one URL at a time (got ${positionals.length})`);
  const target = parseUrl(positionals[0]!);
  if ('exit' in target) return fail(target.exit, target.message);
  const url = target.url;

  const headers = requestHeaders(values.header ?? []);
  if (typeof headers === 'string') return usageError('get', headers);
  const maxTime = values['max-time'] === undefined ? undefined : Number(values['max-time']);
  if (maxTime !== undefined && !(maxTime > 0 && Number.isFinite(maxTime))) return usageError('get', `-m wants seconds above 0, not '${values['max-time']}'`);
  const maxRedirs = values['max-redirs'] === undefined ? 10 : Number(values['max-redirs']);
  if (!Number.isInteger(maxRedirs) || maxRedirs < 0) return usageError('get', `--max-redirs wants a whole number, not '${values['max-redirs']}'`);
  const servers = values['dns-servers']?.split(',').map((s) => s.trim());
  if (servers?.some((s) => s === '')) return usageError('get', '--dns-servers wants a comma-separated list of addresses');

  let body: Uint8Array | undefined;
  if (values.data !== undefined) {
    if (values.data.startsWith('@')) {
      try {
        body = await readFile(values.data.slice(1));
      } catch (e) {
        return fail(EXIT.readError, `cannot read ${values.data.slice(1)}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      }
    } else body = Buffer.from(values.data);
    if (!headers.removed.has('content-type') && !headers.list.some(([n]) => n.toLowerCase() === 'content-type')) headers.list.push(['Content-Type', 'application/x-www-form-urlencoded']);
  }
  const method = values.request ?? (values.head ? 'HEAD' : body ? 'POST' : 'GET');
  const version = values['http1.0'] ? '1.0' : '1.1';

  const trace = values.verbose || values.mermaid || values.har || values.html ? new TraceLog() : null;
  let tun;
  try {
    tun = tunFlags(values);
  } catch (e) {
    if (e instanceof FlagError) return usageError('get', e.message);
    throw e;
  }
  if (!tun && values.pcap !== undefined) return usageError('get', '--pcap needs --tun');
  let stack: KernelStack | TunStack['stack'] = new KernelStack();
  if (tun) {
    try {
      const attached = await openTunStack(tun, 'get');
      opened.push(attached);
      stack = attached.stack;
    } catch (e) {
      const message = tunFailure(e);
      if (message === null) throw e;
      return fail(EXIT.cannotConnect, message);
    }
  }
  const lib = new SocketLibrary(stack, { label: 'get', trace });
  let resolver: Resolver | undefined;
  try {
    if (servers) resolver = new Resolver({ lib, servers, resolvConf: false, trace });
  } catch (e) {
    return usageError('get', `--dns-servers: ${(e as Error).message.replace(/^ERR_\w+: /, '')}`);
  }
  // The client and the resolver record their own HTTP and DNS events into the same trace as the socket calls.
  const agent = new Agent({ lib, trace, ...(resolver ? { resolver } : {}), ...(values.insecure ? { tls: { rejectUnauthorized: false } } : {}) });
  const stdout = new StreamSink(process.stdout, 'standard output');
  const file = values.output !== undefined && values.output !== '-' ? new FileSink(values.output) : null;
  const sink: Sink = file ?? stdout;
  // Heads go to stderr with -v (stdout is the body's), to stdout with -I alone, as curl does.
  const heads = values.verbose ? 'stderr' : values.head ? 'stdout' : null;
  const prefix = (mark: string) => (values.verbose ? `${mark} ` : '');
  const show = async (lines: string[], mark: string) => {
    const text = [...lines, ''].map((l) => `${prefix(mark)}${l}`.trimEnd()).join('\n') + '\n';
    if (heads === 'stderr') process.stderr.write(text);
    else if (heads === 'stdout') await stdout.write(text);
  };
  const showing: Promise<void>[] = [];

  const deadline = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    if (maxTime !== undefined)
      timer = setTimeout(() => {
        deadline.abort(new Error(`-m ${maxTime}`));
        resolve('timeout');
      }, maxTime * 1000);
  });

  const t0 = performance.now();
  const transfer = async (): Promise<number> => {
    const res: Response = await request(url, {
      method,
      headers: headers.list,
      ...(body ? { body } : {}),
      version,
      agent,
      maxRedirects: values.location ? maxRedirs : 0,
      signal: deadline.signal,
      onRequest: (h) => {
        if (!values.verbose) return;
        const lines = [`${h.method} ${h.target} HTTP/${h.version}`, ...h.headers.map(([n, v]) => `${n}: ${v}`)];
        if (h.body instanceof Uint8Array && !h.headers.some(([n]) => n.toLowerCase() === 'content-length')) lines.push(`Content-Length: ${h.body.length}`);
        showing.push(show(lines, '>'));
      },
      onResponse: (h) => {
        showing.push(show([`HTTP/${h.version} ${h.status} ${h.reason}`, ...h.headers.map(([n, v]) => `${n}: ${v}`)], '<'));
      },
    });
    await Promise.all(showing);
    const tHead = performance.now();
    let size = 0;
    if (values.fail && res.statusCode >= 400) {
      res.body.cancel();
      throw new HttpStatusError(res);
    }
    if (!values.head || values.verbose) {
      await file?.open();
      size = await saveBody(res, sink, file !== null && process.stderr.isTTY === true);
    } else await res.body.dump();
    await sink.close();
    const tEnd = performance.now();
    if (values['write-out']) {
      const w = writeOut(values['write-out'], res, size, t0, tHead, tEnd);
      for (const name of w.unknown) process.stderr.write(`protostack get: unknown -w variable '%{${name}}' (printed as nothing)\n`);
      await stdout.write(w.text);
    }
    return 0;
  };

  let failure: { exit: number; message: string | null } | null = null;
  const running = transfer();
  try {
    if ((await Promise.race([running, timedOut])) === 'timeout') {
      running.catch(() => {});
      failure = { exit: EXIT.timedOut, message: `timed out after ${maxTime} s` };
    }
  } catch (e) {
    if (e instanceof OutputError && e.closed) failure = { exit: EXIT.writeError, message: null };
    else if (e instanceof HttpStatusError) failure = { exit: EXIT.httpError, message: e.message };
    else if (deadline.signal.aborted) failure = { exit: EXIT.timedOut, message: `timed out after ${maxTime} s` };
    else failure = classify(e, url);
  } finally {
    clearTimeout(timer);
    await file?.close().catch(() => {});
  }
  if (deadline.signal.aborted) {
    // Whatever is still in flight (a TLS handshake, a lookup) is abandoned: the deadline bounds the whole command.
    await Promise.race([agent.close(), new Promise((resolve) => setTimeout(resolve, 100))]);
    setTimeout(() => process.exit(failure?.exit ?? 0), 100).unref();
  } else await agent.close();
  if (trace) {
    const done = trace.events.some((e) => e.kind === 'http');
    let written = true;
    if (done && values.har) written = (await writeReport('get', values.har, JSON.stringify(renderHar(trace.events, { creator: { name: 'protostack', version: '0.1.0' } }), null, 2), 'HAR 1.2')) && written;
    if (done && values.html) written = (await writeReport('get', values.html, renderHtml(trace.events, { title: `protostack get ${url.href}` }), 'HTML report')) && written;
    if (!written && !failure) failure = { exit: EXIT.writeError, message: null };
    if (values.mermaid) process.stderr.write(`\n${renderMermaid(trace.events)}`);
    if (values.verbose) process.stderr.write(`\nsocket calls:\n${renderTimeline(trace.events)}`);
  }
  if (!failure) return 0;
  return failure.message === null ? failure.exit : fail(failure.exit, failure.message);
}

/** -f: an HTTP status of 400 or more is a failure (curl's 22). */
class HttpStatusError extends Error {
  override readonly name = 'HttpStatusError';
  readonly code = 'ERR_HTTP_STATUS';
  constructor(res: Response) {
    super(`the server answered ${res.statusCode} ${res.statusText} for ${res.url}`);
  }
}

function fail(exit: number, message: string): number {
  process.stderr.write(`protostack get: ${message}\n`);
  return exit;
}

/** The URL as curl reads it: no scheme means http://; a malformed one is exit 3, another scheme exit 1. */
export function parseUrl(text: string): { url: URL } | { exit: number; message: string } {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `http://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    return { exit: EXIT.malformedUrl, message: `malformed URL '${text}'` };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { exit: EXIT.unsupportedProtocol, message: `protocol '${url.protocol.slice(0, -1)}' is not supported (http and https are)` };
  if (url.hostname === '') return { exit: EXIT.malformedUrl, message: `no host in URL '${text}'` };
  if (url.port === '0') return { exit: EXIT.malformedUrl, message: `port 0 in URL '${text}' (a port is 1 to 65535)` };
  return { url };
}

/** The defaults with each -H applied: a name replaces a default of the same name, 'Name:' removes it. */
function requestHeaders(given: string[]): { list: HeaderList; removed: Set<string> } | string {
  const list: HeaderList = DEFAULT_HEADERS.map(([n, v]) => [n, v]);
  const removed = new Set<string>();
  const defaults = new Set(list.map(([n]) => n.toLowerCase()));
  for (const h of given) {
    // curl's 'Name;' sends the header with an empty value.
    const empty = /^([^:;\s]+);$/.exec(h);
    const i = h.indexOf(':');
    if (!empty && i <= 0) return `bad header '${h}' (want 'Name: value', 'Name:' to remove one, or 'Name;' for an empty value)`;
    const name = canonical(empty ? empty[1]! : h.slice(0, i).trim());
    const value = empty ? '' : h.slice(i + 1).trim();
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) return `bad header name '${name}'`;
    const lower = name.toLowerCase();
    if (defaults.has(lower) || (!empty && value === '')) {
      for (let j = list.length - 1; j >= 0; j--) if (list[j]![0].toLowerCase() === lower) list.splice(j, 1);
      defaults.delete(lower);
    }
    if (!empty && value === '') {
      if (lower === 'host') return `the host header cannot be removed (HTTP/1.1 requires it); -H 'host: NAME' sets it`;
      removed.add(lower);
      continue;
    }
    list.push([name, value]);
  }
  return { list, removed };
}

/** One case for every name on the wire, the one the rest of protostack sends: "content-type" → "Content-Type" (as Go's net/http). */
function canonical(name: string): string {
  return name.toLowerCase().replace(/(^|-)([a-z])/g, (_, dash: string, c: string) => dash + c.toUpperCase());
}
