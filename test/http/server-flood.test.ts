/**
 * The server under a flood of silent connections (issue 12, point 3): 5,000
 * loopback connections that never send a byte, re-opened (up to 1,000 a
 * second) as the server closes them, while ordinary clients must still be
 * answered within 1 s each. The server and the flood need about 5,000 descriptors each, so
 * both run in child processes of their own (this same file, with
 * PROTOSTACK_FLOOD=1 for the server and its probes, =attacker for the flood),
 * started under a raised `ulimit -n`; the server's child prints the figures
 * as JSON.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { serve, type HttpServerStats } from '../../src/http/server/index.js';

interface FloodResult {
  silent: number;
  cap: number;
  /** Silent connections open when each probe started. */
  openAtProbe: number[];
  /** Milliseconds from connect to the whole response, per probe; -1 for a failure. */
  probes: number[];
  errors: string[];
  reconnects: number;
  stats: HttpServerStats;
}

const GOAL = 5000;
const PROBES = 20;
/** Closed silent connections re-opened per second, at most. */
const REOPEN_RATE = 1000;

// ---- the parent: the test ----

if (process.env.PROTOSTACK_FLOOD === undefined) {
  test(`${GOAL} silent connections, re-opened as they are closed: ordinary clients are still served within 1 s`, { timeout: 120_000 }, async (t) => {
    const result = await runChild();
    const sorted = [...result.probes].sort((a, b) => a - b);
    t.diagnostic(`probes (ms): ${result.probes.map((ms) => ms.toFixed(0)).join(" ")}`);
    t.diagnostic(`probes: median ${sorted[sorted.length >> 1]!.toFixed(1)} ms, max ${sorted[sorted.length - 1]!.toFixed(1)} ms; silent connections open at each probe: ${Math.min(...result.openAtProbe)}-${Math.max(...result.openAtProbe)}; ${result.reconnects} reconnects; server: ${result.stats.connections} accepted, ${result.stats.shed} shed, ${result.stats.open} open`);
    if (result.silent < GOAL) t.diagnostic(`the descriptor limit allowed only ${result.silent} silent connections (cap ${result.cap})`);
    assert.ok(result.silent > result.cap, `the flood (${result.silent}) must exceed the cap (${result.cap})`);
    // The server is kept full: each probe finds every slot but its own held by a silent connection.
    assert.ok(Math.min(...result.openAtProbe) >= result.cap - 1, `silent connections open during the probes: ${result.openAtProbe.join(', ')}`);
    assert.ok(result.reconnects >= PROBES * 50, `the flood was renewed: ${result.reconnects} re-opened`);
    const slow = result.probes.filter((ms) => ms < 0 || ms > 1000);
    assert.deepEqual(slow, [], `probes (ms): ${result.probes.map((ms) => ms.toFixed(0)).join(', ')}; errors: ${result.errors.join('; ')}`);
    assert.ok(result.stats.shed > 0, 'idle connections were shed to make room');
    assert.ok(result.stats.open <= result.cap, `open ${result.stats.open} > cap ${result.cap}`);
  });
} else if (process.env.PROTOSTACK_FLOOD === 'attacker') {
  void attacker(Number(process.argv[2]), Number(process.argv[3]));
} else {
  void child().then(
    (r) => process.stdout.write(`${JSON.stringify(r)}\n`),
    (e: unknown) => {
      process.stderr.write(`flood child failed: ${(e as Error).stack}\n`);
      process.exitCode = 1;
    },
  );
}

function runChild(): Promise<FloodResult> {
  const self = fileURLToPath(import.meta.url);
  // Raise the soft descriptor limit as far as allowed; the child scales down if it stays too low.
  const script = 'ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$0" "$1"';
  return new Promise((resolve, reject) => {
    const c = spawn('sh', ['-c', script, process.execPath, self], { env: { ...process.env, PROTOSTACK_FLOOD: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    c.stdout.on('data', (d: Buffer) => (out += d));
    c.stderr.on('data', (d: Buffer) => (err += d));
    const timer = setTimeout(() => c.kill('SIGKILL'), 100_000);
    c.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`the flood child exited ${code}: ${err}`));
      resolve(JSON.parse(out.trim().split('\n').pop()!) as FloodResult);
    });
  });
}

// ---- the children: the server with the probes, and the flood in a process of its own ----

function softFdLimit(): number {
  const m = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
  return !m || m[1] === 'unlimited' ? Infinity : Number(m[1]);
}

async function child(): Promise<FloodResult> {
  // The server's side costs a descriptor per silent connection, plus a margin (the flood has its own process).
  const silent = Math.min(GOAL, softFdLimit() - 300);
  const cap = silent >= GOAL ? 4096 : Math.floor(silent * 0.8);
  const server = await serve((_req, res) => void res.end('ok'), cap === 4096 ? {} : { maxConnections: cap });
  const flood = spawn(process.execPath, [fileURLToPath(import.meta.url), String(server.port), String(silent)], {
    env: { ...process.env, PROTOSTACK_FLOOD: 'attacker' },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines: string[] = [];
  let waiting: (() => void) | null = null;
  let buffered = '';
  flood.stdout.on('data', (d: Buffer) => {
    buffered += d;
    for (let i = buffered.indexOf('\n'); i >= 0; i = buffered.indexOf('\n')) {
      lines.push(buffered.slice(0, i));
      buffered = buffered.slice(i + 1);
      waiting?.();
    }
  });
  /** The flood's next report: how many silent connections it has open now. */
  const ask = async (): Promise<{ open: number; reconnects: number }> => {
    const before = lines.length;
    flood.stdin.write('?\n');
    const deadline = Date.now() + 30_000;
    while (lines.length === before) {
      if (Date.now() > deadline || flood.exitCode !== null) throw new Error('the flood process does not answer');
      await new Promise<void>((r) => {
        waiting = r;
        setTimeout(r, 200);
      });
    }
    return JSON.parse(lines[lines.length - 1]!) as { open: number; reconnects: number };
  };
  const errors: string[] = [];
  try {
    // The first report comes once every silent connection is open.
    let report = await ask();
    // Let the server take them all in (each of them accepted, the excess shed) before measuring.
    for (let i = 0; i < 600 && server.stats.connections < silent; i++) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 200));
    const probes: number[] = [];
    const openAtProbe: number[] = [];
    for (let i = 0; i < PROBES; i++) {
      report = await ask();
      openAtProbe.push(report.open);
      try {
        probes.push(await probe(server.port));
      } catch (e) {
        probes.push(-1);
        errors.push((e as Error).message);
      }
      // Meanwhile the flood takes back the slots the server freed.
      await new Promise((r) => setTimeout(r, 100));
    }
    return { silent, cap, openAtProbe, probes, errors, reconnects: report.reconnects, stats: { ...server.stats } };
  } finally {
    flood.kill('SIGKILL');
    await server.close({ graceful: false });
  }
}

/**
 * The flood: `count` silent connections, each opened again when the server closes it, up to
 * REOPEN_RATE a second (faster is a connect flood, which costs any server CPU per connection
 * and is another attack); reports on each line of stdin.
 */
async function attacker(port: number, count: number): Promise<void> {
  const sockets = new Set<net.Socket>();
  let reconnects = 0;
  let owed = 0;
  const pacer = setInterval(() => {
    const n = Math.min(owed, REOPEN_RATE / 100);
    owed -= n;
    reconnects += n;
    for (let i = 0; i < n; i++) void open();
  }, 10);
  pacer.unref();
  const open = (): Promise<void> =>
    new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.on('error', () => {});
      s.once('connect', () => {
        sockets.add(s);
        resolve();
      });
      s.once('close', () => {
        sockets.delete(s);
        resolve();
        owed++;
      });
    });
  for (let i = 0; i < count; i += 250) await Promise.all(Array.from({ length: Math.min(250, count - i) }, open));
  process.stdin.on('data', () => process.stdout.write(`${JSON.stringify({ open: sockets.size, reconnects })}\n`));
  // The parent kills it; if the parent dies first, the closed stdin ends it.
  process.stdin.on('end', () => process.exit(0));
}

/** One ordinary request on a fresh connection; milliseconds to the whole response, rejecting after 3 s. */
function probe(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const s = net.connect(port, '127.0.0.1');
    let data = '';
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error('no answer within 3 s'));
    }, 3000);
    s.on('connect', () => s.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
    s.on('data', (d: Buffer) => (data += d.toString('latin1')));
    s.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    s.on('end', () => {
      clearTimeout(timer);
      s.destroy();
      if (/^HTTP\/1\.1 200 /.test(data) && data.endsWith('ok')) resolve(performance.now() - t0);
      else reject(new Error(`bad answer ${JSON.stringify(data.slice(0, 80))}`));
    });
  });
}
