/**
 * Static files (issue 17): `protostack serve DIR` beside the servers a user
 * would pick instead, all on 127.0.0.1, in the same run:
 *   - ours: `protostack serve DIR --quiet` (1 worker) and `--workers 2`;
 *   - http-server (the npm package, a devDependency), `-s` (no log);
 *   - nginx (Debian) with `worker_processes 1` and `2`, `access_log off`,
 *     `sendfile on` (Debian's default), started from a temporary config.
 * The same two files for all: 1,400 bytes of text and 10 MiB of random bytes.
 * `wrk -t1 -c50 -dSECONDS` per run; the sides take turns, the order rotating
 * each round, and the figure is each side's median. The machine is shared
 * and noisy: ratios from the same rounds move much less than the rates.
 *
 * Needs wrk and nginx (Debian: wrk, nginx). Knobs: BENCH_STATIC_SECONDS (3 per
 * run), BENCH_STATIC_ROUNDS (5).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, row, type Row } from './common.js';

const SECONDS = Number(process.env.BENCH_STATIC_SECONDS ?? 3);
const ROUNDS = Number(process.env.BENCH_STATIC_ROUNDS ?? 5);
const HOST = '127.0.0.1';
const CONNECTIONS = 50;
const SMALL = 'small.txt';
const BIG = 'big.bin';
const MAIN = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const HTTP_SERVER = fileURLToPath(new URL('../../node_modules/http-server/bin/http-server', import.meta.url));
const NGINX = ['/usr/sbin/nginx', 'nginx'].find((p) => spawnSync(p, ['-v'], { stdio: 'ignore' }).error === undefined);

type Side = 'ours' | 'ours-2' | 'http-server' | 'nginx' | 'nginx-2';

async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, HOST);
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  server.close();
  return port;
}

/** Waits until something accepts connections on the port (bounded). */
async function listening(port: number, child: ChildProcess, what: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`${what} exited (${child.exitCode}) before it listened`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, HOST, () => (s.destroy(), resolve(true)));
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not listen on ${port}`);
}

async function start(side: Side, dir: string, tmp: string): Promise<{ port: number; child: ChildProcess }> {
  const port = await freePort();
  let child: ChildProcess;
  if (side === 'ours' || side === 'ours-2') {
    const workers = side === 'ours-2' ? ['--workers', '2'] : [];
    child = spawn(process.execPath, [MAIN, 'serve', dir, '--port', String(port), '--quiet', ...workers], { stdio: 'ignore' });
  } else if (side === 'http-server') {
    child = spawn(process.execPath, [HTTP_SERVER, dir, '-p', String(port), '-a', HOST, '-s'], { stdio: 'ignore' });
  } else {
    const prefix = path.join(tmp, side);
    const conf = path.join(tmp, `${side}.conf`);
    writeFileSync(
      conf,
      `daemon off; worker_processes ${side === 'nginx-2' ? 2 : 1}; pid ${prefix}.pid; error_log ${prefix}.err;
events { worker_connections 1024; }
http {
  access_log off; sendfile on; default_type application/octet-stream;
  client_body_temp_path ${prefix}-body; proxy_temp_path ${prefix}-proxy; fastcgi_temp_path ${prefix}-fcgi;
  uwsgi_temp_path ${prefix}-uwsgi; scgi_temp_path ${prefix}-scgi;
  server { listen ${HOST}:${port}; root ${dir}; }
}
`,
    );
    child = spawn(NGINX!, ['-c', conf, '-p', tmp], { stdio: 'ignore' });
  }
  await listening(port, child, side);
  return { port, child };
}

interface WrkResult {
  rps: number;
  bytesPerSecond: number;
  errors: string;
}

function bytes(text: string): number {
  const m = /([\d.]+)([KMG]?)B/.exec(text);
  if (!m) return NaN;
  return Number(m[1]) * ({ '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 } as Record<string, number>)[m[2]!]!;
}

async function wrk(port: number, file: string, seconds: number): Promise<WrkResult> {
  const args = ['-t1', `-c${CONNECTIONS}`, `-d${seconds}s`, `http://${HOST}:${port}/${file}`];
  const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout!.on('data', (d: Buffer) => (text += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (text += d.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(text);
  const transfer = /Transfer\/sec:\s+(\S+)/.exec(text);
  if (code !== 0 || !rps || !transfer) throw new Error(`wrk ${args.join(' ')} exited ${code}:\n${text}`);
  const errors = [/Socket errors:.*/.exec(text)?.[0], /Non-2xx or 3xx responses: \d+/.exec(text)?.[0]].filter(Boolean).join('; ');
  return { rps: Number(rps[1]), bytesPerSecond: bytes(transfer[1]!), errors: errors || 'no errors' };
}

/** Every side in turn, the order rotating each round, after one short warm-up run each. */
async function rounds(sides: Side[], ports: Map<Side, number>, file: string): Promise<Record<string, WrkResult[]>> {
  const out: Record<string, WrkResult[]> = Object.fromEntries(sides.map((s) => [s, []]));
  for (const side of sides) await wrk(ports.get(side)!, file, 1);
  for (let i = 0; i < ROUNDS; i++) {
    for (let j = 0; j < sides.length; j++) {
      const side = sides[(i + j) % sides.length]!;
      const r = await wrk(ports.get(side)!, file, SECONDS);
      out[side]!.push(r);
      const figure = file === BIG ? `${(r.bytesPerSecond / 1024 ** 3).toFixed(2)} GiB/s` : `${Math.round(r.rps)} req/s`;
      console.log(`  ${file} ${side.padEnd(11)}: ${figure}; ${r.errors}`);
    }
  }
  return out;
}

export async function run(): Promise<Row[]> {
  if (spawnSync('wrk', ['--version'], { stdio: 'ignore' }).error) throw new Error('bench/static: wrk is not installed: apt-get install wrk');
  if (!NGINX) throw new Error('bench/static: nginx is not installed: apt-get install nginx');
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'bench-static-'));
  // nginx started as root serves as an unprivileged user: the files must be readable by anyone.
  chmodSync(tmp, 0o755);
  const dir = path.join(tmp, 'www');
  spawnSync('mkdir', ['-p', dir]);
  chmodSync(dir, 0o755);
  const text = 'protostack static-file benchmark line, the same bytes for every server.\n';
  writeFileSync(path.join(dir, SMALL), text.repeat(Math.ceil(1400 / text.length)).slice(0, 1400));
  const big = Buffer.alloc(10 * 1024 * 1024);
  for (let i = 0; i < big.length; i += 4) big.writeUInt32LE((Math.imul(i, 2654435761) ^ 0x9e3779b9) >>> 0, i);
  writeFileSync(path.join(dir, BIG), big);
  const sides: Side[] = ['ours', 'http-server', 'nginx', 'ours-2', 'nginx-2'];
  const children: ChildProcess[] = [];
  try {
    const ports = new Map<Side, number>();
    for (const side of sides) {
      const { port, child } = await start(side, dir, tmp);
      children.push(child);
      ports.set(side, port);
    }
    console.log(`  wrk -t1 -c${CONNECTIONS} -d${SECONDS}s, ${ROUNDS} rounds, order rotating; medians`);
    const small = await rounds(sides, ports, SMALL);
    const bigRuns = await rounds(['ours', 'nginx', 'http-server'], ports, BIG);
    const rps = (s: Side) => median(small[s]!.map((r) => r.rps));
    const bps = (s: Side) => median(bigRuns[s]!.map((r) => r.bytesPerSecond)) / 1024 ** 2;
    // Ratios per round too: each compares two runs minutes apart at most, so they drift less than the rates.
    const perRound = (a: Side, b: Side, runs = small, f = (r: WrkResult) => r.rps) =>
      runs[a]!.map((r, i) => (f(r) / f(runs[b]![i]!)).toFixed(2)).join(', ');
    console.log(`  per-round ratios: ours/http-server ${perRound('ours', 'http-server')}; ours/nginx ${perRound('ours', 'nginx')}; ours-2/nginx-2 ${perRound('ours-2', 'nginx-2')}; big ours/nginx ${perRound('ours', 'nginx', bigRuns, (r) => r.bytesPerSecond)}`);
    const label = `1.4 KB file, wrk -t1 -c${CONNECTIONS}`;
    return [
      row(`static ${label}: serve vs http-server`, rps('ours'), rps('http-server'), 'req/s'),
      row(`static ${label}: serve vs nginx, 1 worker each`, rps('ours'), rps('nginx'), 'req/s'),
      row(`static ${label}: serve vs nginx, 2 workers each`, rps('ours-2'), rps('nginx-2'), 'req/s'),
      row(`(static ${label}: serve 2 workers vs 1)`, rps('ours-2'), rps('ours'), 'req/s'),
      row(`static 10 MiB file, wrk -t1 -c${CONNECTIONS}: serve vs nginx, 1 worker each`, bps('ours'), bps('nginx'), 'MiB/s'),
      row(`static 10 MiB file: serve vs http-server`, bps('ours'), bps('http-server'), 'MiB/s'),
    ];
  } finally {
    for (const child of children) child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 500));
    rmSync(tmp, { recursive: true, force: true });
  }
}
