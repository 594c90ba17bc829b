/**
 * protostack's TCP through a Linux TUN interface, against Linux's own TCP over
 * a veth pair, in the same run: bulk transfer each way (Gbit/s) and
 * requests/s of `serve` under wrk, `serve --tun` beside the same server on
 * the kernel stack. Needs root (namespaces) and /dev/net/tun, like the TUN
 * tests; without them it says why and reports nothing. The namespaces come
 * from the tests' helper (test/link/netns.ts), so both make them the same way.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LINUX, Netns, netnsUnavailable, PROTOSTACK, TUN } from '../test/link/netns.js';
import { median, row, type Row } from './common.js';

const MAIN = join(import.meta.dirname, '..', 'src', 'cli', 'main.js');
const BULK = 200 * 1024 * 1024;
const ROUNDS = 3;
/** A node:http server on Linux's side sending BULK bytes of zeros, so the sender costs little. */
const SENDER = `const b=Buffer.alloc(1<<20);require('http').createServer((q,r)=>{r.writeHead(200,{'content-length':${BULK}});let n=${BULK >> 20};const go=()=>{while(n>0){n--;if(!r.write(b))return r.once('drain',go)}r.end()};go()}).listen(8000,process.argv[1])`;

function gbps(bytes: number, ms: number): number {
  return (bytes * 8) / (ms / 1000) / 1e9;
}

async function timed(fn: () => Promise<void>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

function ok(r: { code: number; stdout: string; stderr: string }, what: string): string {
  if (r.code !== 0) throw new Error(`${what}: exit ${r.code}: ${r.stderr}`);
  return r.stdout;
}

/** Bytes/s curl reports for a download of url, inside ns. */
async function curlSpeed(ns: Netns, url: string): Promise<number> {
  return Number(ok(await ns.exec('curl', ['-sS', '--max-time', '120', '-o', '/dev/null', '-w', '%{speed_download}', url], 150_000), 'curl'));
}

async function wrkRate(ns: Netns, url: string): Promise<number> {
  const out = ok(await ns.exec('wrk', ['-t', '1', '-c', '8', '-d', '5s', url], 30_000), 'wrk');
  return Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 0);
}

export async function run(): Promise<Row[]> {
  const why = netnsUnavailable();
  if (why !== null) {
    console.log(`tun: skipped: ${why}`);
    return [];
  }
  const dir = mkdtempSync(join(tmpdir(), 'protostack-bench-tun-'));
  writeFileSync(join(dir, 'bulk.bin'), Buffer.alloc(BULK));
  writeFileSync(join(dir, 'small.txt'), 'hello\n');
  const ns = await Netns.create();
  const peer = await Netns.create();
  try {
    // Linux ↔ Linux: a veth pair from ns (10.88.0.1) to peer (10.88.0.2).
    ok(await ns.ip('link', 'add', 'vb0', 'type', 'veth', 'peer', 'name', 'vb1', 'netns', peer.name), 'veth');
    ok(await ns.ip('addr', 'add', '10.88.0.1/24', 'dev', 'vb0'), 'addr');
    ok(await peer.ip('addr', 'add', '10.88.0.2/24', 'dev', 'vb1'), 'addr');
    ok(await ns.ip('link', 'set', 'vb0', 'up'), 'up');
    ok(await peer.ip('link', 'set', 'vb1', 'up'), 'up');
    ns.start('node', ['-e', SENDER, LINUX]);
    peer.start('node', ['-e', SENDER, '10.88.0.2']);
    await ns.waitForPort(8000);
    await peer.waitForPort(8000);

    const tunFlags = ['--tun', TUN, '--address', `${PROTOSTACK}/24`];
    const server = ns.start('node', [MAIN, 'serve', dir, '--port', '80', '--quiet', ...tunFlags]);
    await ns.waitFor(server, /serving/);
    const out: number[] = [];
    const into: number[] = [];
    const veth: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      out.push(((await curlSpeed(ns, `http://${PROTOSTACK}/bulk.bin`)) * 8) / 1e9);
      veth.push(((await curlSpeed(ns, 'http://10.88.0.2:8000/')) * 8) / 1e9);
    }
    const rateTun = await wrkRate(ns, `http://${PROTOSTACK}/small.txt`);
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
    // Linux → protostack: `get --tun` from the node:http sender; the time includes starting node and attaching (a fraction of a second).
    for (let i = 0; i < ROUNDS; i++) {
      const ms = await timed(async () => void ok(await ns.exec('node', [MAIN, 'get', `http://${LINUX}:8000/`, '-o', '/dev/null', ...tunFlags], 150_000), 'get --tun'));
      into.push(gbps(BULK, ms));
    }
    // The same server on the kernel stack, in the same namespace.
    const kernel = ns.start('node', [MAIN, 'serve', dir, '--port', '8080', '--quiet', '--host', LINUX]);
    await ns.waitFor(kernel, /serving/);
    const rateKernel = await wrkRate(ns, `http://${LINUX}:8080/small.txt`);
    const vethMedian = median(veth);
    return [
      row('200 MiB protostack → Linux through TUN vs Linux → Linux over veth', median(out), vethMedian, 'Gbit/s'),
      row('200 MiB Linux → protostack through TUN vs Linux → Linux over veth', median(into), vethMedian, 'Gbit/s'),
      row('serve --tun vs serve on the kernel stack, wrk -c8 small file', rateTun, rateKernel, 'req/s'),
    ];
  } finally {
    await peer.destroy();
    await ns.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}
