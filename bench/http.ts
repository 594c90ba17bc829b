/**
 * HTTP (issue 5): the client and the server beside what a plain Node program
 * would use, all on 127.0.0.1, in the same run.
 *
 * 1. Client, shaped like undici's own benchmark: a bare node:http server in a
 *    child process (bench/http-serve-child.ts `node`), answering a 12-byte body
 *    at `/` and a 64 KiB body at `/64k`; 50 connections per client; each round
 *    runs a fixed number of requests with enough in flight to keep every
 *    connection busy (50, or 500 with pipelining 10). Each side runs in a
 *    process of its own (bench/http-client-child.ts), as undici's benchmark
 *    runs each client in a worker of its own; this process only waits while a
 *    side runs. Sides, rotated so each goes first in turn:
 *      - ours `request()` (Agent, connections 50, pipelining 1; `body.dump()`)
 *        and undici's `request` (undici.Agent, connections 50; `body.dump()`);
 *      - the same with pipelining 10 on both, 500 in flight;
 *      - ours `fetch` and undici's `fetch` (dispatcher: undici.Agent, connections
 *        50), both reading the body with `arrayBuffer()`;
 *      - node:http with `new http.Agent({ keepAlive: true, maxSockets: 50 })`,
 *        50 in flight, `res.resume()` to the end: the common baseline.
 *    Before measuring, every side is checked to get status 200 and the whole
 *    body; afterwards the target's own count must equal the requests made.
 * 2. Server: `wrk -t1 -c50 -d5s --latency` against serve() hello-world and a
 *    bare node:http hello-world, each in its own child process, alternating.
 *
 * Besides requests/s, every run records CPU time per request (user + system,
 * all threads, from process.cpuUsage for the client and /proc/PID/stat for the
 * server children): on this shared two-core machine it moves much less than
 * the rates do.
 *
 * Needs wrk (Debian: wrk). undici is a devDependency (7.x, Node >= 20.18.1).
 * Knobs: BENCH_ROUNDS (default 5, client rounds after 2 warm-ups),
 * BENCH_HTTP_REQUESTS (8000 small-body requests per side and round),
 * BENCH_HTTP_BIG_REQUESTS (2000 64 KiB requests per side and round),
 * BENCH_HTTP_SECONDS (5 per wrk run), BENCH_HTTP_SERVER_ROUNDS (3 wrk runs per server),
 * BENCH_HTTP_FLOORS=1 (also the two no-HTTP floor servers under wrk: +35 s).
 */
import { fork, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as undici from 'undici';
import { Agent } from '../src/http/agent.js';
import { request } from '../src/http/client.js';
import { fetch as oursFetch } from '../src/http/fetch.js';
import { median, row, type Row } from './common.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const SMALL_REQUESTS = Number(process.env.BENCH_HTTP_REQUESTS ?? 8000);
const BIG_REQUESTS = Number(process.env.BENCH_HTTP_BIG_REQUESTS ?? 2000);
const SERVER_SECONDS = Number(process.env.BENCH_HTTP_SECONDS ?? 5);
const SERVER_ROUNDS = Number(process.env.BENCH_HTTP_SERVER_ROUNDS ?? 3);
/** Also put the two floors (bench/http-serve-child.ts) under wrk: servers that do no HTTP, over node:net and over the socket library. */
const FLOORS = process.env.BENCH_HTTP_FLOORS === '1';

const HOST = '127.0.0.1';
const CONNECTIONS = 50;
const PIPELINING = 10;
/** Keep-alive for the client part: long enough that no side's connections expire while the others take their turn. */
export const KEEP_ALIVE_MS = 120_000;
const SMALL_LENGTH = 12;
const BIG_LENGTH = 64 * 1024;

// ---- children ----

/** A server child (bench/http-serve-child.ts) and the port it answers on. */
export interface ServerChild {
  port: number;
  child: ChildProcess;
  /** The requests the server has answered so far (asked with SIGUSR2). */
  served(): Promise<number>;
}

export async function startServerChild(which: 'ours' | 'node' | 'net-floor' | 'lib-floor', keepAliveMs?: number): Promise<ServerChild> {
  const script = fileURLToPath(new URL('./http-serve-child.js', import.meta.url));
  const args = [script, which, ...(keepAliveMs !== undefined ? [String(keepAliveMs)] : [])];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /port (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the ${which} server exited (${code}) before it listened: ${err.trim()}`)));
  });
  const served = async () => {
    out = '';
    child.kill('SIGUSR2');
    for (let i = 0; i < 200; i++) {
      const m = /served (\d+)/.exec(out);
      if (m) return Number(m[1]);
      await new Promise((r) => setTimeout(r, 10));
    }
    return NaN;
  };
  return { port, child, served };
}

function requireWrk(): void {
  const probe = spawnSync('wrk', ['--version'], { stdio: 'ignore' });
  if ((probe.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
    throw new Error('bench/http: wrk is not installed; the server benchmark needs it: apt-get install wrk');
  }
}

// ---- measuring ----

/** CPU seconds (user + system, all threads) a process has used so far, from /proc (10 ms ticks). */
export function cpuOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS;
}
const TICKS = 100;

/** One measured run of a client side. */
export interface Sample {
  /** Requests/s. */
  rate: number;
  /** CPU µs per request in this (the client's) process. */
  client: number;
  /** CPU µs per request in the target server's process. */
  server: number;
}

/** `total` requests, `inFlight` at a time (each worker starts the next when its last is done). */
export async function load(total: number, inFlight: number, serverPid: number, one: () => Promise<void>): Promise<Sample> {
  let started = 0;
  const cpu0 = process.cpuUsage();
  const server0 = cpuOf(serverPid);
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (started++ < total) await one();
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return { rate: total / seconds, client: (cpu.user + cpu.system) / total, server: ((cpuOf(serverPid) - server0) * 1e6) / total };
}

/** Each round runs every side once, starting one further along each time; `warmups` rounds are not kept. */
async function rotate<T>(rounds: number, sides: Record<string, () => Promise<T>>, warmups = 2): Promise<Record<string, T[]>> {
  const names = Object.keys(sides);
  const out: Record<string, T[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (let i = -warmups; i < rounds; i++) {
    const start = ((i % names.length) + names.length) % names.length;
    for (let j = 0; j < names.length; j++) {
      const name = names[(start + j) % names.length]!;
      const x = await sides[name]!();
      if (i >= 0) out[name]!.push(x);
    }
  }
  return out;
}

function fail(side: string, what: string): never {
  throw new Error(`bench/http: ${side} got ${what}`);
}

// ---- the client sides ----

export const SIDES = ['ours request', 'undici request', 'ours request, pipelining 10', 'undici request, pipelining 10', 'ours fetch', 'undici fetch', 'node:http'] as const;
export type SideName = (typeof SIDES)[number];

/** Requests in flight for a side: enough to keep all 50 connections busy (10 per connection when pipelining). */
export const inFlightFor = (side: SideName) => (side.includes('pipelining') ? CONNECTIONS * PIPELINING : CONNECTIONS);

/** One request, its body read to the end and let go. */
type One = () => Promise<void>;

/**
 * One client side, as its own process uses it (bench/http-client-child.ts):
 * its agent with 50 connections (kept open while the module runs), one
 * request to `path` as measured, one request returning the body's length
 * (for the checks), and close.
 */
export interface ClientSide {
  one(path: string): One;
  bodyLength(path: string): Promise<number>;
  close(): Promise<void>;
}

export function clientSide(side: SideName, port: number): ClientSide {
  const base = `http://${HOST}:${port}`;
  const ours = (pipelining: number) => new Agent({ connections: CONNECTIONS, pipelining, proxy: false, keepAliveTimeout: KEEP_ALIVE_MS });
  const theirs = (pipelining: number) => new undici.Agent({ connections: CONNECTIONS, pipelining, keepAliveTimeout: KEEP_ALIVE_MS });
  switch (side) {
    case 'ours request':
    case 'ours request, pipelining 10': {
      const agent = ours(side === 'ours request' ? 1 : PIPELINING);
      return {
        one: (path) => {
          const url = base + path;
          return async () => {
            const res = await request(url, { agent });
            if (res.statusCode !== 200) fail(side, `status ${res.statusCode}`);
            await res.body.dump();
          };
        },
        bodyLength: async (path) => (await (await request(base + path, { agent })).body.bytes()).length,
        close: () => agent.close(),
      };
    }
    case 'undici request':
    case 'undici request, pipelining 10': {
      const dispatcher = theirs(side === 'undici request' ? 1 : PIPELINING);
      return {
        one: (path) => {
          const url = base + path;
          return async () => {
            const res = await undici.request(url, { dispatcher });
            if (res.statusCode !== 200) fail(side, `status ${res.statusCode}`);
            await res.body.dump();
          };
        },
        bodyLength: async (path) => (await (await undici.request(base + path, { dispatcher })).body.arrayBuffer()).byteLength,
        close: () => dispatcher.close(),
      };
    }
    case 'ours fetch': {
      const agent = ours(1);
      return {
        one: (path) => {
          const url = base + path;
          return async () => {
            const res = await oursFetch(url, { agent });
            if (res.status !== 200) fail(side, `status ${res.status}`);
            await res.arrayBuffer();
          };
        },
        bodyLength: async (path) => (await (await oursFetch(base + path, { agent })).arrayBuffer()).byteLength,
        close: () => agent.close(),
      };
    }
    case 'undici fetch': {
      const dispatcher = theirs(1);
      return {
        one: (path) => {
          const url = base + path;
          return async () => {
            const res = await undici.fetch(url, { dispatcher });
            if (res.status !== 200) fail(side, `status ${res.status}`);
            await res.arrayBuffer();
          };
        },
        bodyLength: async (path) => (await (await undici.fetch(base + path, { dispatcher })).arrayBuffer()).byteLength,
        close: () => dispatcher.close(),
      };
    }
    case 'node:http': {
      const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });
      const get = (path: string, onBody: (res: http.IncomingMessage, done: () => void) => void) =>
        new Promise<void>((resolve, reject) => {
          http
            .get({ host: HOST, port, path, agent }, (res) => {
              if (res.statusCode !== 200) reject(new Error(`bench/http: node:http got status ${res.statusCode}`));
              res.on('error', reject);
              onBody(res, resolve);
            })
            .on('error', reject);
        });
      return {
        one: (path) => () =>
          get(path, (res, done) => {
            res.on('end', done);
            res.resume();
          }),
        bodyLength: async (path) => {
          let n = 0;
          await get(path, (res, done) => {
            res.on('data', (d: Buffer) => (n += d.length));
            res.on('end', done);
          });
          return n;
        },
        close: async () => agent.destroy(),
      };
    }
  }
}

/** A client side in its own process (bench/http-client-child.ts), driven over IPC. */
interface ClientChild {
  side: SideName;
  /** One measured run of `total` requests to `path`. */
  run(path: string, total: number): Promise<Sample>;
  /** Checks that the side gets status 200 and `length` body bytes from `path`. */
  check(path: string, length: number): Promise<void>;
  close(): Promise<void>;
}

async function startClientChild(side: SideName, target: ServerChild): Promise<ClientChild> {
  const script = fileURLToPath(new URL('./http-client-child.js', import.meta.url));
  const child = fork(script, [side, String(target.port), String(target.child.pid)], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let waiting: { resolve(v: unknown): void; reject(e: Error): void } | null = null;
  child.on('message', (m: { ok?: unknown; error?: string }) => {
    const w = waiting;
    waiting = null;
    if (m.error !== undefined) w?.reject(new Error(`bench/http: the "${side}" client: ${m.error}`));
    else w?.resolve(m.ok);
  });
  child.on('exit', (code) => waiting?.reject(new Error(`bench/http: the "${side}" client exited (${code})`)));
  const ask = <T>(message: object) =>
    new Promise<T>((resolve, reject) => {
      waiting = { resolve: resolve as (v: unknown) => void, reject };
      child.send(message);
    });
  return {
    side,
    run: (path, total) => ask<Sample>({ cmd: 'run', path, total }),
    check: (path, length) => ask<void>({ cmd: 'check', path, length }),
    close: async () => {
      await ask<void>({ cmd: 'close' });
      await once(child, 'exit');
    },
  };
}

function showCase(label: string, r: Record<string, Sample[]>): void {
  const base = median(r['node:http']!.map((x) => x.rate));
  const n = (x: number, w: number) => String(Math.round(x)).padStart(w);
  console.log(`  ${label}: requests/s per round | median, ratio to node:http | CPU µs per request (median): client, server`);
  for (const side of SIDES) {
    const xs = r[side]!;
    const rate = median(xs.map((x) => x.rate));
    const client = median(xs.map((x) => x.client));
    const server = median(xs.map((x) => x.server));
    console.log(`    ${side.padEnd(30)} ${xs.map((x) => n(x.rate, 6)).join(' ')} | ${n(rate, 6)} ${(rate / base).toFixed(2)} | ${client.toFixed(1).padStart(5)} ${server.toFixed(1).padStart(5)}`);
  }
}

function caseRows(label: string, samples: Record<string, Sample[]>): Row[] {
  const m = (side: string) => median(samples[side]!.map((x) => x.rate));
  return [
    row(`${label}: request() vs undici request`, m('ours request'), m('undici request'), 'req/s'),
    row(`${label}: request() pipelining 10 vs undici pipelining 10`, m('ours request, pipelining 10'), m('undici request, pipelining 10'), 'req/s'),
    row(`${label}: fetch vs undici fetch`, m('ours fetch'), m('undici fetch'), 'req/s'),
    row(`${label}: request() vs node:http`, m('ours request'), m('node:http'), 'req/s'),
    row(`${label}: request() pipelining 10 vs node:http`, m('ours request, pipelining 10'), m('node:http'), 'req/s'),
    row(`${label}: fetch vs node:http`, m('ours fetch'), m('node:http'), 'req/s'),
    row(`${label}: (undici request vs node:http)`, m('undici request'), m('node:http'), 'req/s'),
    row(`${label}: (undici pipelining 10 vs node:http)`, m('undici request, pipelining 10'), m('node:http'), 'req/s'),
    row(`${label}: (undici fetch vs node:http)`, m('undici fetch'), m('node:http'), 'req/s'),
  ];
}

async function clientPart(): Promise<Row[]> {
  const target = await startServerChild('node', KEEP_ALIVE_MS);
  const children: ClientChild[] = [];
  try {
    for (const side of SIDES) children.push(await startClientChild(side, target));
    for (const c of children) {
      await c.check('/', SMALL_LENGTH);
      await c.check('/64k', BIG_LENGTH);
    }
    const before = await target.served();
    const sides = (path: string, total: number) => Object.fromEntries(children.map((c) => [c.side, () => c.run(path, total)]));
    const small = await rotate(ROUNDS, sides('/', SMALL_REQUESTS));
    showCase(`${SMALL_LENGTH} B body, ${SMALL_REQUESTS} requests per side and round`, small);
    const big = await rotate(ROUNDS, sides('/64k', BIG_REQUESTS));
    showCase(`64 KiB body, ${BIG_REQUESTS} requests per side and round`, big);
    // Every request was answered by the server: no side skipped the network.
    const sent = (ROUNDS + 2) * SIDES.length * (SMALL_REQUESTS + BIG_REQUESTS);
    const seen = (await target.served()) - before;
    console.log(`  the target server answered ${seen} requests; the sides made ${sent}`);
    if (seen !== sent) throw new Error(`bench/http: the server answered ${seen} requests, the clients made ${sent}`);
    return [...caseRows(`${SMALL_LENGTH} B`, small), ...caseRows('64 KiB', big)];
  } finally {
    await Promise.all(children.map((c) => c.close().catch(() => {})));
    target.child.kill();
  }
}

// ---- the server part ----

interface WrkResult {
  rps: number;
  requests: number;
  bytesPerResponse: number;
  p50: string;
  p99: string;
  errors: string;
  /** The server process's CPU µs per request over the run. */
  cpu: number;
}

function bytes(text: string): number {
  const m = /([\d.]+)([KMG]?)B/.exec(text);
  if (!m) return NaN;
  return Number(m[1]) * ({ '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 } as Record<string, number>)[m[2]!]!;
}

async function wrk(port: number, pid: number, seconds: number): Promise<WrkResult> {
  const cpu0 = cpuOf(pid);
  const args = ['-t1', `-c${CONNECTIONS}`, `-d${seconds}s`, '--latency', `http://${HOST}:${port}/`];
  const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout!.on('data', (d: Buffer) => (text += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (text += d.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  const cpu = cpuOf(pid) - cpu0;
  const m = /Requests\/sec:\s+([\d.]+)/.exec(text);
  const total = /(\d+) requests in [\d.]+\w+, ([\d.]+[KMG]?B) read/.exec(text);
  if (code !== 0 || !m || !total) throw new Error(`wrk ${args.join(' ')} exited ${code}:\n${text}`);
  const errs = [/Socket errors:.*/.exec(text)?.[0], /Non-2xx or 3xx responses: \d+/.exec(text)?.[0]].filter(Boolean).join('; ');
  return {
    rps: Number(m[1]),
    requests: Number(total[1]),
    bytesPerResponse: bytes(total[2]!) / Number(total[1]),
    p50: /50%\s+(\S+)/.exec(text)?.[1] ?? '?',
    p99: /99%\s+(\S+)/.exec(text)?.[1] ?? '?',
    errors: errs || 'no errors',
    cpu: (cpu * 1e6) / Number(total[1]),
  };
}

type ServerKind = 'ours' | 'node' | 'net-floor' | 'lib-floor';
const SERVER_LABEL: Record<ServerKind, string> = { ours: 'serve()', node: 'node:http', 'net-floor': 'node:net floor', 'lib-floor': 'socket library floor' };

async function serverPart(): Promise<Row[]> {
  requireWrk();
  const kinds: ServerKind[] = ['ours', 'node', ...(FLOORS ? (['net-floor', 'lib-floor'] as const) : [])];
  const children: ChildProcess[] = [];
  try {
    const servers = new Map<ServerKind, ServerChild>();
    for (const kind of kinds) {
      const child = await startServerChild(kind);
      children.push(child.child);
      servers.set(kind, child);
    }
    for (const kind of kinds) await wrk(servers.get(kind)!.port, servers.get(kind)!.child.pid!, 2); // warm the JIT
    const runs = Object.fromEntries(kinds.map((k) => [k, [] as WrkResult[]])) as Record<ServerKind, WrkResult[]>;
    const width = Math.max(...kinds.map((k) => SERVER_LABEL[k].length));
    for (let i = 0; i < SERVER_ROUNDS; i++) {
      for (let j = 0; j < kinds.length; j++) {
        const kind = kinds[(i + j) % kinds.length]!;
        const { port, child } = servers.get(kind)!;
        const r = await wrk(port, child.pid!, SERVER_SECONDS);
        runs[kind].push(r);
        console.log(`  wrk ${SERVER_LABEL[kind].padEnd(width)}: ${Math.round(r.rps)} req/s, p50 ${r.p50}, p99 ${r.p99}, server CPU ${r.cpu.toFixed(1)} µs/request, ~${Math.round(r.bytesPerResponse)} B/response read; ${r.errors}`);
      }
    }
    const rps = (kind: ServerKind) => median(runs[kind].map((r) => r.rps));
    const cpu = (kind: ServerKind) => median(runs[kind].map((r) => r.cpu));
    console.log(`  server CPU per request, median: ${kinds.map((k) => `${SERVER_LABEL[k]} ${cpu(k).toFixed(1)} µs`).join(', ')}`);
    const wrkLabel = `wrk -t1 -c${CONNECTIONS} -d${SERVER_SECONDS}s`;
    const rows = [
      row(`server hello world: serve() vs node:http, ${wrkLabel}`, rps('ours'), rps('node'), 'req/s'),
      row('server hello world: serve() vs node:http, server CPU per request', cpu('ours'), cpu('node'), 'µs', true),
    ];
    for (const floor of kinds.filter((k) => k.endsWith('floor'))) {
      rows.push(row(`(server: ${SERVER_LABEL[floor]} vs node:http, ${wrkLabel})`, rps(floor), rps('node'), 'req/s'));
      rows.push(row(`(server: ${SERVER_LABEL[floor]} vs node:http, server CPU per request)`, cpu(floor), cpu('node'), 'µs', true));
    }
    return rows;
  } finally {
    for (const child of children) child.kill();
  }
}

export async function run(): Promise<Row[]> {
  requireWrk();
  const rows = await clientPart();
  rows.push(...(await serverPart()));
  return rows;
}
