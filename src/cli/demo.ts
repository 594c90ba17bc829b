/**
 * `protostack demo`: the seed's whole flow, live, offline. The project's own
 * DNS server and web server start on loopback; then the client does what the
 * seed describes, through the socket library and nothing else:
 * gethostbyname (a UDP query to that DNS server), socket, connect, write the
 * HTTP request, read until the response is complete, close. Both servers are
 * traced too, so one trace holds every call on every side.
 */
import { parseZone } from '../dns/zone-file.js';
import { serveDns } from '../dns/server.js';
import { Resolver } from '../dns/resolver.js';
import { serve } from '../http/server/index.js';
import { SocketLibrary } from '../socket/library.js';
import type { ProtocolStack } from '../stack/types.js';
import { exchangeOn } from '../http/exchange.js';
import type { ConnectionTrace } from '../http/trace.js';
import { TraceLog } from '../trace-events.js';
import type { HeaderList } from '../wire/http/types.js';

export interface DemoOptions {
  /** Objects to fetch: with HTTP/1.0 a connect…close cycle each, with 1.1 one connection for all. */
  objects?: number;
  http?: '1.0' | '1.1';
  /** Run the same flow against any HTTP server instead of the embedded ones (the system's resolver config applies). */
  url?: string;
  /** One stack for all three sides, every side on 127.0.0.1 (the CLI passes the kernel's; this module stays portable, so a browser can bundle it). */
  stack?: ProtocolStack;
  /** Each side on its own stack and address instead (a simulated network); the zone's A records point at the web host. */
  hosts?: DemoHosts;
  /** Random integers for the resolver's query IDs and source ports; seeded, a simulated run replays exactly. Default node:crypto's. */
  randomInt?: (min: number, max: number) => number;
  /** Wall-clock ms at time 0 of the stacks' clock: the web server's Date header is told from it, so a run on virtual time replays byte for byte. Default: the server's own (the wall). */
  wallClockAt0?: number;
  /** The resolver's wait per try and rounds over the server (glibc's defaults, 5000 ms and 2, if unset). */
  resolverTimeout?: number;
  resolverAttempts?: number;
  /** Record into this log (the user demo's packet taps share it); a new one by default. */
  trace?: TraceLog;
}

/** One side of the demo: its stack, its address, and for the servers the port (0: any free one). */
export interface DemoHost {
  stack: ProtocolStack;
  address: string;
  port?: number;
}

export interface DemoHosts {
  client: DemoHost;
  dns: DemoHost;
  web: DemoHost;
}

export interface DemoSummary {
  host: string;
  address: string;
  http: '1.0' | '1.1';
  objects: number;
  connections: number;
  /** Request/response exchanges: one per object. */
  roundTrips: number;
  socketCalls: number;
  bytesSent: number;
  bytesReceived: number;
  statuses: number[];
}

export interface DemoResult {
  trace: TraceLog;
  summary: DemoSummary;
}

const NAME = 'www.example.test';
/** The demo's zone: ns is the DNS host, www the web host. */
function zone(ns: string, www: string): string {
  return `$ORIGIN example.test.
$TTL 300
@    IN SOA ns.example.test. admin.example.test. 1 3600 600 86400 300
@    IN NS  ns.example.test.
ns   IN A   ${ns}
www  IN A   ${www}
`;
}

/** The web server's objects: a page and the pictures it would pull in. */
function object(path: string): { type: string; body: string } {
  if (path === '/') return { type: 'text/html; charset=utf-8', body: '<!doctype html><title>protostack</title><h1>Hello from the other side of the socket library</h1>\n' };
  return { type: 'text/plain; charset=utf-8', body: `object ${path}\n` };
}

export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const objects = Math.max(1, Math.floor(options.objects ?? 1));
  const http = options.http ?? '1.0';
  const stack = options.stack;
  if (!options.hosts && !stack) throw new TypeError('runDemo needs a stack or hosts');
  const hosts = options.hosts ?? loopbackHosts(stack!);
  const trace = options.trace ?? new TraceLog();
  const client = new SocketLibrary(hosts.client.stack, { label: 'client', trace });
  const closers: (() => Promise<void>)[] = [];
  const tuning = {
    ...(options.randomInt ? { randomInt: options.randomInt } : {}),
    ...(options.resolverTimeout !== undefined ? { timeout: options.resolverTimeout } : {}),
    ...(options.resolverAttempts !== undefined ? { attempts: options.resolverAttempts } : {}),
  };
  try {
    let host: string;
    let port: number;
    let paths: string[];
    let resolver: Resolver;
    if (options.url) {
      const u = new URL(options.url);
      if (u.protocol !== 'http:') throw new Error('demo --url speaks plain http:// only');
      host = u.hostname;
      port = Number(u.port) || 80;
      paths = Array.from({ length: objects }, () => `${u.pathname}${u.search}`);
      resolver = new Resolver({ lib: client, cache: false, trace, ...tuning });
    } else {
      const dnsLib = new SocketLibrary(hosts.dns.stack, { label: 'dns-server', trace });
      const dns = await serveDns(dnsLib, [parseZone(zone(hosts.dns.address, hosts.web.address))], { address: hosts.dns.address, port: hosts.dns.port ?? 0 });
      closers.push(() => dns.close());
      const webLib = new SocketLibrary(hosts.web.stack, { label: 'web-server', trace });
      const at0 = options.wallClockAt0;
      const web = await serve(
        (req, res) => {
          const o = object(req.url);
          res.setHeader('content-type', o.type);
          if (at0 !== undefined) res.setHeader('Date', new Date(at0 + Math.floor(webLib.stack.now())).toUTCString());
          return res.end(o.body);
        },
        { lib: webLib, host: hosts.web.address, port: hosts.web.port ?? 0 },
      );
      closers.push(() => web.close());
      host = NAME;
      port = web.port;
      paths = ['/', ...Array.from({ length: objects - 1 }, (_, i) => `/picture-${i + 1}.png`)];
      resolver = new Resolver({ lib: client, servers: [`${hosts.dns.address}:${dns.port}`], hosts: false, resolvConf: false, cache: false, trace, ...tuning });
    }
    const summary = await clientFlow(client, trace, resolver, host, port, paths, http);
    return { trace, summary };
  } finally {
    for (const close of closers.reverse()) await close().catch(() => {});
    await client.closeAll();
  }
}

/** The seed's setting: the client and both servers on one stack, on loopback. */
function loopbackHosts(stack: ProtocolStack): DemoHosts {
  return { client: { stack, address: '127.0.0.1' }, dns: { stack, address: '127.0.0.1' }, web: { stack, address: '127.0.0.1' } };
}

/**
 * The seed's client side: gethostbyname, then socket → connect → write → read… → close. The
 * resolver records its question and answer, and each exchange records its HttpEvent, into the
 * trace themselves (src/dns/trace.ts, src/http/trace.ts).
 */
async function clientFlow(lib: SocketLibrary, trace: TraceLog, resolver: Resolver, host: string, port: number, paths: string[], http: '1.0' | '1.1'): Promise<DemoSummary> {
  const tLookup = lib.stack.now();
  const address = await resolver.gethostbyname(host);
  const lookupMs = lib.stack.now() - tLookup;
  const summary: DemoSummary = { host, address, http, objects: paths.length, connections: 0, roundTrips: 0, socketCalls: 0, bytesSent: 0, bytesReceived: 0, statuses: [] };
  const buffer = new Uint8Array(16 * 1024);
  let fd = -1;
  let connection: ConnectionTrace | null = null;
  for (let i = 0; i < paths.length; i++) {
    const start = lib.stack.now();
    const reused = fd >= 0;
    if (fd < 0) {
      fd = await lib.socket('tcp');
      await lib.connect(fd, address, port);
      const me = await lib.getsockname(fd);
      const connectMs = lib.stack.now() - start;
      connection = { sink: trace, who: lib.label, stack: lib.stack.name, fd, serverAddress: address, connection: `${me.address}:${me.port}`, dns: i === 0 ? lookupMs : -1, connect: connectMs };
      summary.connections++;
    }
    const last = i === paths.length - 1;
    const headers: HeaderList = [['Host', port === 80 ? host : `${host}:${port}`], ['User-Agent', 'protostack-demo']];
    // HTTP/1.1 keeps the pipe for every object and asks the server to close after the last one.
    if (http === '1.1' && last) headers.push(['connection', 'close']);
    const response = await exchangeOn(lib, fd, { method: 'GET', url: `http://${headers[0]![1]}${paths[i]}`, headers, version: http }, { buffer, trace: connection, reused, start });
    summary.bytesSent += response.sent;
    summary.bytesReceived += response.received;
    summary.roundTrips++;
    summary.statuses.push(response.head.status);
    if (!(http === '1.1' && !last && response.head.keepAlive)) {
      // The server closes first, as web servers usually do: read until it has, then close ours.
      while ((await lib.read(fd, buffer)) > 0);
      await lib.close(fd);
      fd = -1;
    }
  }
  summary.socketCalls = trace.events.filter((e) => e.kind === 'call' && e.who === lib.label).length;
  return summary;
}

export function formatSummary(s: DemoSummary): string {
  const per = s.http === '1.0' ? 'a connect…close cycle per object' : 'one connection kept for every object';
  return [
    `  gethostbyname("${s.host}") = ${s.address}`,
    `  ${s.objects} object${s.objects === 1 ? '' : 's'} over HTTP/${s.http} (${per}): ${s.connections} connection${s.connections === 1 ? '' : 's'}, ${s.roundTrips} round trip${s.roundTrips === 1 ? '' : 's'}, status ${[...new Set(s.statuses)].join('/')}`,
    `  the client made ${s.socketCalls} socket calls, wrote ${s.bytesSent} B and read ${s.bytesReceived} B`,
  ].join('\n');
}
