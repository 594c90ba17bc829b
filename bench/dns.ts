/**
 * DNS (issue 4): the stub resolver and the authoritative server beside what a
 * plain Node program would use, all on 127.0.0.1, in the same run.
 *
 * 1. Uncached lookups against one dnsmasq: `Resolver` with `cache: false`
 *    (`resolve(name, 'A')`) against c-ares (`dns.promises.Resolver#resolve4`),
 *    one lookup at a time (mean latency) and 50 in flight (lookups/s).
 * 2. Cached lookups: the `Resolver`'s cache against `cacheable-lookup` (same
 *    name, same dnsmasq, both caches warm), and against `dns.lookup`, which
 *    has no cache and goes to getaddrinfo(3): asked for `localhost`, which it
 *    finds in /etc/hosts, beside ours answering from its cache and from its
 *    own hosts table.
 * 3. An authoritative server under dnsperf: `serveDns` over the kernel stack
 *    against a `dns2` server with the same data, each in a child process, and
 *    against BIND (`named -g -n 1`: one worker thread) loading the same zone
 *    file from a temporary config on a loopback port. The three take turns,
 *    the order rotating each round; the figures are medians.
 *
 * Needs dnsmasq (Debian: dnsmasq-base), dnsperf (Debian: dnsperf) and named
 * (Debian: bind9; without it the BIND row is left out with a note).
 * BENCH_DNS_SERVER_ONLY=1 runs part 3 alone.
 * Knobs: BENCH_ROUNDS (default 7, parts 1 and 2), BENCH_DNS_LOOKUPS (2000),
 * BENCH_DNS_CONCURRENCY (50), BENCH_DNS_CONCURRENT_LOOKUPS (5000 per round),
 * BENCH_DNS_CACHED_MS (200 per side and round), BENCH_DNS_SECONDS (5 per
 * dnsperf run), BENCH_DNS_SERVER_ROUNDS (3), BENCH_DNS_CLIENTS (4 dnsperf clients).
 */
import { existsSync } from 'node:fs';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import dns from 'node:dns';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import CacheableLookup from 'cacheable-lookup';
import { Resolver } from '../src/dns/resolver.js';
import { alternate, collect, median, row, type Row } from './common.js';
import { BENCH_ZONE } from './dns-zone.js';

/** Debian installs it in /usr/sbin, which is not on every PATH. */
const DNSMASQ = existsSync('/usr/sbin/dnsmasq') ? '/usr/sbin/dnsmasq' : 'dnsmasq';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const LOOKUPS = Number(process.env.BENCH_DNS_LOOKUPS ?? 2000);
const CONCURRENCY = Number(process.env.BENCH_DNS_CONCURRENCY ?? 50);
const CONCURRENT_LOOKUPS = Number(process.env.BENCH_DNS_CONCURRENT_LOOKUPS ?? 5000);
const CACHED_MS = Number(process.env.BENCH_DNS_CACHED_MS ?? 200);
const SERVER_SECONDS = Number(process.env.BENCH_DNS_SECONDS ?? 5);
const SERVER_ROUNDS = Number(process.env.BENCH_DNS_SERVER_ROUNDS ?? 3);
const DNSPERF_CLIENTS = Number(process.env.BENCH_DNS_CLIENTS ?? 4);
const SERVER_ONLY = process.env.BENCH_DNS_SERVER_ONLY === '1';
const NAMED = ['/usr/sbin/named', 'named'].find((p) => spawnSync(p, ['-v'], { stdio: 'ignore' }).error === undefined);

const HOST = '127.0.0.1';
const NAME = 'www.example.test';
const ADDRESS = '192.0.2.10';
/** One name per worker in the concurrent run, so ours does not fold identical questions in flight into one exchange. */
const workerName = (k: number) => `c${k}.example.test`;
/** What dnsperf asks, in turn: an A, an AAAA, an MX (with an additional), a name that does not exist. */
const SERVER_QUERIES = ['www.bench.test A', 'www.bench.test AAAA', 'bench.test MX', 'missing.bench.test A'];

// ---- peers ----

async function freePort(): Promise<number> {
  const server = net.createServer();
  server.listen(0, HOST);
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

interface Dnsmasq {
  port: number;
  /** dnsmasq's own count of queries it answered (from its SIGUSR1 statistics). */
  answered(): Promise<number>;
  stop(): void;
}

/** dnsmasq on a loopback port, as test/dns/peers.ts starts it, with a long local TTL so warm caches stay warm for the whole module. */
async function startDnsmasq(): Promise<Dnsmasq> {
  const zone = [
    '--local=/example.test/',
    '--local-ttl=600',
    `--host-record=${NAME},${ADDRESS},2001:db8::10`,
    ...Array.from({ length: CONCURRENCY }, (_, k) => `--host-record=${workerName(k)},192.0.2.${100 + (k % 100)}`),
  ];
  for (let tries = 0; tries < 5; tries++) {
    const port = await freePort();
    const child: ChildProcess = spawn(
      DNSMASQ,
      [
        '--keep-in-foreground',
        '--no-resolv',
        '--no-hosts',
        '--no-poll',
        '--conf-file=/dev/null',
        '--pid-file=',
        '--user=root',
        `--port=${port}`,
        `--listen-address=${HOST}`,
        '--bind-interfaces',
        '--log-facility=-',
        ...zone,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let text = '';
    const started = await new Promise<boolean>((resolve, reject) => {
      child.once('error', (e) => reject(new Error(`dnsmasq could not start (apt-get install dnsmasq-base): ${e.message}`)));
      child.stderr!.on('data', (d: Buffer) => {
        text += d.toString();
        if (text.includes('started')) resolve(true);
        if (text.includes('Address already in use')) resolve(false);
      });
      child.once('exit', () => resolve(false));
    });
    if (started) {
      const answered = async () => {
        text = '';
        child.kill('SIGUSR1');
        for (let i = 0; i < 100; i++) {
          const m = /queries answered locally (\d+)/.exec(text);
          if (m) return Number(m[1]);
          await new Promise((r) => setTimeout(r, 10));
        }
        return NaN;
      };
      return { port, answered, stop: () => child.kill() };
    }
    child.kill();
  }
  throw new Error('dnsmasq did not start on any port');
}

/** A server child (bench/dns-serve-child.ts) and the port it answers on. */
async function startServerChild(which: 'ours' | 'dns2'): Promise<{ port: number; child: ChildProcess }> {
  const script = fileURLToPath(new URL('./dns-serve-child.js', import.meta.url));
  const child = spawn(process.execPath, [script, which], { stdio: ['ignore', 'pipe', 'pipe'] });
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
  return { port, child };
}

/** BIND with one worker thread (`-n 1`), serving BENCH_ZONE from a config in `dir`, on a free loopback port. */
async function startNamed(dir: string): Promise<{ port: number; child: ChildProcess }> {
  const port = await freePort();
  await writeFile(path.join(dir, 'bench.test.zone'), BENCH_ZONE);
  const conf = path.join(dir, 'named.conf');
  await writeFile(
    conf,
    `options { directory "${dir}"; pid-file "${dir}/named.pid"; listen-on port ${port} { ${HOST}; }; listen-on-v6 { none; };
  recursion no; dnssec-validation no; };
controls { };
zone "bench.test" { type primary; file "${dir}/bench.test.zone"; };
`,
  );
  const child = spawn(NAMED!, ['-g', '-n', '1', '-c', conf, '-p', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  for (let i = 0; i < 50; i++) {
    if (child.exitCode !== null) break;
    const probe = spawnSync('dig', [`@${HOST}`, '-p', String(port), '+short', '+time=1', '+tries=1', 'www.bench.test', 'A'], { encoding: 'utf8' });
    if (probe.stdout?.trim() === '192.0.2.80') return { port, child };
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill();
  throw new Error(`named did not answer on ${port}: ${err.trim().split('\n').slice(-3).join('; ')}`);
}

function requireDnsperf(): void {
  const probe = spawnSync('dnsperf', ['-h'], { stdio: 'ignore' });
  if ((probe.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
    throw new Error('bench/dns: dnsperf is not installed; the server benchmark needs it: apt-get install dnsperf');
  }
}

interface DnsperfResult {
  qps: number;
  sent: number;
  lost: number;
  lostPercent: number;
  codes: string;
  sizes: string;
}

/** One dnsperf run against 127.0.0.1:port; at most 100 queries outstanding, a query counts as lost after 2 s. */
async function dnsperf(port: number, queryFile: string, seconds: number): Promise<DnsperfResult> {
  const args = ['-s', HOST, '-p', String(port), '-d', queryFile, '-l', String(seconds), '-c', String(DNSPERF_CLIENTS), '-q', '100', '-t', '2'];
  const child = spawn('dnsperf', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout!.on('data', (d: Buffer) => (text += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (text += d.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  const num = (re: RegExp) => {
    const m = re.exec(text);
    if (!m) throw new Error(`dnsperf ${args.join(' ')} exited ${code}; could not read ${re} from:\n${text}`);
    return Number(m[1]);
  };
  return {
    qps: num(/Queries per second:\s+([\d.]+)/),
    sent: num(/Queries sent:\s+(\d+)/),
    lost: num(/Queries lost:\s+(\d+)/),
    lostPercent: num(/Queries lost:\s+\d+ \(([\d.]+)%\)/),
    codes: /Response codes:\s+(.*)/.exec(text)?.[1]?.trim() ?? '?',
    sizes: /Average packet size:\s+(.*)/.exec(text)?.[1]?.trim() ?? '?',
  };
}

// ---- measuring ----

/** Mean latency in µs of `n` lookups, one after the other. */
async function sequential(n: number, lookup: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await lookup();
  return ((performance.now() - t0) * 1000) / n;
}

/** Lookups/s with `workers` lookups in flight, worker k asking for its own name. */
async function concurrent(total: number, workers: number, lookup: (name: string) => Promise<unknown>): Promise<number> {
  const each = Math.ceil(total / workers);
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: workers }, async (_, k) => {
      const name = workerName(k);
      for (let i = 0; i < each; i++) await lookup(name);
    }),
  );
  return (each * workers) / ((performance.now() - t0) / 1000);
}

/** Awaited calls per second, one after the other, for about `ms` milliseconds. */
async function rate(ms: number, op: () => Promise<unknown>): Promise<number> {
  let n = 0;
  const t0 = performance.now();
  let t = t0;
  do {
    for (let i = 0; i < 64; i++) await op();
    n += 64;
    t = performance.now();
  } while (t - t0 < ms);
  return n / ((t - t0) / 1000);
}

/** Like `alternate` for any number of sides: each round runs every side once, starting one further along each time. */
async function rotate(rounds: number, sides: Record<string, () => Promise<number>>, warmups = 2): Promise<Record<string, number[]>> {
  const names = Object.keys(sides);
  const out: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (let i = -warmups; i < rounds; i++) {
    const start = ((i % names.length) + names.length) % names.length;
    for (let j = 0; j < names.length; j++) {
      const name = names[(start + j) % names.length]!;
      collect();
      const x = await sides[name]!();
      if (i >= 0) out[name]!.push(x);
    }
  }
  return out;
}

function show(what: string, ours: number[], anchor: number[]): void {
  const list = (xs: number[]) => xs.map((x) => (x < 100 ? x.toFixed(1) : Math.round(x))).join(' ');
  console.log(`  ${what}: ours ${list(ours)} | anchor ${list(anchor)}`);
}

function expect(what: string, got: unknown, want: string): void {
  if (got !== want) throw new Error(`bench/dns: ${what} gave ${JSON.stringify(got)}, expected ${want}`);
}

// ---- the three parts ----

async function uncached(server: Dnsmasq): Promise<Row[]> {
  const servers = [`${HOST}:${server.port}`];
  const ours = new Resolver({ servers, resolvConf: false, hosts: false, cache: false });
  const cares = new dns.promises.Resolver();
  cares.setServers(servers);
  expect('ours resolve A', (await ours.resolve(NAME, 'A')).records[0]?.data, ADDRESS);
  expect('c-ares resolve4', (await cares.resolve4(NAME))[0], ADDRESS);

  const before = { dnsmasq: await server.answered(), ours: ours.queriesSent };
  let caresLookups = 0;
  const oursOne = () => ours.resolve(NAME, 'A');
  const caresOne = () => (caresLookups++, cares.resolve4(NAME));
  const seq = await alternate(ROUNDS, () => sequential(LOOKUPS, oursOne), () => sequential(LOOKUPS, caresOne));
  show(`uncached, sequential, mean µs`, seq.ours, seq.anchor);

  const oursNamed = (name: string) => ours.resolve(name, 'A');
  const caresNamed = (name: string) => (caresLookups++, cares.resolve4(name));
  const conc = await alternate(ROUNDS, () => concurrent(CONCURRENT_LOOKUPS, CONCURRENCY, oursNamed), () => concurrent(CONCURRENT_LOOKUPS, CONCURRENCY, caresNamed));
  show(`uncached, ${CONCURRENCY} in flight, lookups/s`, conc.ours, conc.anchor);

  // Neither side may have answered from a cache of its own: dnsmasq must have seen every lookup.
  const oursSent = ours.queriesSent - before.ours;
  const seen = (await server.answered()) - before.dnsmasq;
  console.log(`  dnsmasq answered ${seen} queries; ours sent ${oursSent}, c-ares was asked ${caresLookups} lookups (sum ${oursSent + caresLookups})`);
  await ours.close();

  return [
    row(`uncached A vs c-ares, sequential (mean latency)`, median(seq.ours), median(seq.anchor), 'µs', true),
    row(`uncached A vs c-ares, ${CONCURRENCY} in flight`, median(conc.ours), median(conc.anchor), 'lookups/s'),
  ];
}

async function cached(server: Dnsmasq): Promise<Row[]> {
  const servers = [`${HOST}:${server.port}`];
  // The cache side asks DNS (no hosts file), so its answer can only come from its cache.
  const ours = new Resolver({ servers, resolvConf: false, hosts: false });
  // The hosts side reads /etc/hosts once, at its first lookup, like the library's default.
  const oursHosts = new Resolver({ servers, resolvConf: false, hosts: '/etc/hosts' });
  const cacheable = new CacheableLookup();
  cacheable.servers = servers;

  // Warm every cache, and check every side answers what we think it does.
  expect('ours gethostbyname', await ours.gethostbyname(NAME), ADDRESS);
  expect('ours getaddrinfo', JSON.stringify((await ours.getaddrinfo(NAME)).map((a) => a.address).sort()), JSON.stringify(['192.0.2.10', '2001:db8::10']));
  expect('cacheable-lookup', (await cacheable.lookupAsync(NAME, { family: 4 })).address, ADDRESS);
  expect('ours hosts localhost', await oursHosts.gethostbyname('localhost'), '127.0.0.1');
  expect('dns.lookup localhost', (await dns.promises.lookup('localhost', { family: 4 })).address, '127.0.0.1');
  const sent = ours.queriesSent;

  const r = await rotate(ROUNDS, {
    oursA: () => rate(CACHED_MS, () => ours.gethostbyname(NAME)),
    cacheableA: () => rate(CACHED_MS, () => cacheable.lookupAsync(NAME, { family: 4 })),
    oursAllVerbatim: () => rate(CACHED_MS, () => ours.getaddrinfo(NAME, { order: 'verbatim' })),
    oursAllSorted: () => rate(CACHED_MS, () => ours.getaddrinfo(NAME)),
    cacheableAll: () => rate(CACHED_MS, () => cacheable.lookupAsync(NAME, { all: true })),
    oursHosts: () => rate(CACHED_MS, () => oursHosts.gethostbyname('localhost')),
    dnsLookup: () => rate(CACHED_MS, () => dns.promises.lookup('localhost', { family: 4 })),
  });
  show('cached A: gethostbyname | cacheable-lookup, ops/s', r.oursA!, r.cacheableA!);
  show('cached A+AAAA: getaddrinfo verbatim | cacheable-lookup all, ops/s', r.oursAllVerbatim!, r.cacheableAll!);
  show('cached A+AAAA: getaddrinfo RFC 6724 | cacheable-lookup all, ops/s', r.oursAllSorted!, r.cacheableAll!);
  show('localhost: ours hosts table | dns.lookup, ops/s', r.oursHosts!, r.dnsLookup!);
  if (ours.queriesSent !== sent) throw new Error(`bench/dns: the cached runs sent ${ours.queriesSent - sent} queries; the cache did not hold`);
  await ours.close();
  await oursHosts.close();

  const m = (k: string) => median(r[k]!);
  return [
    row('cached A: gethostbyname vs cacheable-lookup (family 4)', m('oursA'), m('cacheableA'), 'ops/s'),
    row('cached A+AAAA: getaddrinfo verbatim vs cacheable-lookup all', m('oursAllVerbatim'), m('cacheableAll'), 'ops/s'),
    row('cached A+AAAA: getaddrinfo RFC 6724 vs cacheable-lookup all', m('oursAllSorted'), m('cacheableAll'), 'ops/s'),
    row("cached A: gethostbyname vs dns.lookup('localhost')", m('oursA'), m('dnsLookup'), 'ops/s'),
    row("'localhost' from /etc/hosts: gethostbyname vs dns.lookup", m('oursHosts'), m('dnsLookup'), 'ops/s'),
  ];
}

async function authoritative(): Promise<Row[]> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'protostack-bench-dns-'));
  const queryFile = path.join(dir, 'queries.txt');
  await writeFile(queryFile, SERVER_QUERIES.join('\n') + '\n');
  const children: ChildProcess[] = [];
  try {
    const oursServer = await startServerChild('ours');
    children.push(oursServer.child);
    const dns2Server = await startServerChild('dns2');
    children.push(dns2Server.child);
    type Side = 'ours' | 'dns2' | 'BIND';
    const sides: [Side, number][] = [
      ['ours', oursServer.port],
      ['dns2', dns2Server.port],
    ];
    if (NAMED) {
      const named = await startNamed(dir);
      children.push(named.child);
      sides.push(['BIND', named.port]);
    } else console.log('  named (Debian: bind9) is not installed: no BIND row');
    // One second each to warm the JIT, then rotating measured runs.
    for (const [, port] of sides) await dnsperf(port, queryFile, 1);
    const runs: Record<Side, DnsperfResult[]> = { ours: [], dns2: [], BIND: [] };
    for (let i = 0; i < SERVER_ROUNDS; i++) {
      for (let j = 0; j < sides.length; j++) {
        const [side, port] = sides[(i + j) % sides.length]!;
        const result = await dnsperf(port, queryFile, SERVER_SECONDS);
        runs[side].push(result);
        console.log(`  dnsperf ${side}: ${Math.round(result.qps)} q/s, lost ${result.lost}/${result.sent} (${result.lostPercent}%); ${result.codes}; size ${result.sizes}`);
      }
    }
    const qps = (side: Side) => median(runs[side].map((r) => r.qps));
    const lost = (side: Side) => {
      const sent = runs[side].reduce((s, r) => s + r.sent, 0);
      const lostCount = runs[side].reduce((s, r) => s + r.lost, 0);
      return `${((100 * lostCount) / sent).toFixed(2)}%`;
    };
    const rows = [row(`authoritative server vs dns2, dnsperf (lost: ours ${lost('ours')}, dns2 ${lost('dns2')})`, qps('ours'), qps('dns2'), 'queries/s')];
    if (NAMED) rows.push(row(`authoritative server vs BIND named -n 1, dnsperf (lost: BIND ${lost('BIND')})`, qps('ours'), qps('BIND'), 'queries/s'));
    return rows;
  } finally {
    for (const child of children) child.kill();
    await rm(dir, { recursive: true, force: true });
  }
}

export async function run(): Promise<Row[]> {
  requireDnsperf();
  if (SERVER_ONLY) return authoritative();
  const server = await startDnsmasq();
  const rows: Row[] = [];
  try {
    rows.push(...(await uncached(server)));
    rows.push(...(await cached(server)));
  } finally {
    server.stop();
  }
  rows.push(...(await authoritative()));
  return rows;
}
