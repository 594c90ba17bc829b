/**
 * The benchmark runner: `npm run bench` runs every module, `npm run bench -- socket`
 * only those whose name contains "socket". Each module measures protostack
 * ("ours") beside an anchor in the same process and returns rows; this prints them.
 * To add a benchmark (DNS, HTTP, the user-space stack), write bench/<name>.ts
 * exporting `run(): Promise<Row[]>` and list it below.
 */
import os from 'node:os';
import type { BenchModule, Row } from './common.js';

const MODULES: { name: string; load: () => Promise<BenchModule> }[] = [
  { name: 'socket', load: () => import('./socket.js') },
  { name: 'dns', load: () => import('./dns.js') },
  { name: 'http', load: () => import('./http.js') },
  { name: 'static', load: () => import('./static.js') },
  { name: 'user', load: () => import('./user-stack.js') },
  { name: 'tun', load: () => import('./tun.js') },
];

function format(x: number): string {
  if (x >= 1000) return Math.round(x).toLocaleString('en-US');
  if (x >= 10) return x.toFixed(1);
  return x.toFixed(2);
}

function table(rows: (Row & { module: string })[]): string {
  const head = ['module', 'benchmark', 'ours', 'anchor', 'unit', 'ratio'];
  const body = rows.map((r) => [r.module, r.name, format(r.ours), format(r.anchor), r.unit, r.ratio.toFixed(2)]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i >= 2 && i !== 4 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

async function main(): Promise<void> {
  const filter = process.argv[2];
  const chosen = MODULES.filter((m) => !filter || m.name.includes(filter));
  if (chosen.length === 0) {
    console.error(`no benchmark matches "${filter}"; there are: ${MODULES.map((m) => m.name).join(', ')}`);
    process.exit(2);
  }
  console.log(`node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), ${os.platform()} ${os.release()}`);
  if (!(globalThis as { gc?: unknown }).gc) console.log('note: run with --expose-gc (npm run bench does) so garbage is collected between runs');
  const rows: (Row & { module: string })[] = [];
  for (const m of chosen) {
    const t0 = performance.now();
    const got = await (await m.load()).run();
    console.log(`${m.name}: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    rows.push(...got.map((r) => ({ ...r, module: m.name })));
  }
  console.log('\n' + table(rows));
  console.log('\nmedians of alternating rounds; ratio = ours relative to the anchor, 1.00 = parity, above 1 = ours better');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
