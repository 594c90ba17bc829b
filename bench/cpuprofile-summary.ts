/**
 * Self time by function from a V8 .cpuprofile (`node --cpu-prof`, or
 * bench/http-profile.ts), not part of `npm run bench`:
 *
 *   node dist/bench/cpuprofile-summary.js PROFILE [top=40]
 *
 * Prints the functions with the most self time (name, file:line, % of all
 * samples), then self time summed by file, so the cost of the project's own
 * files (dist/src/...) stands beside node internals, undici and (program),
 * (garbage collector) and (idle).
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

const [file, topArg = '40'] = process.argv.slice(2);
if (!file) {
  console.error('usage: node dist/bench/cpuprofile-summary.js PROFILE [top]');
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));

// Self time per node: the time delta after each sample goes to the node sampled.
const selfTime = new Map<number, number>();
if (profile.samples && profile.timeDeltas) {
  const { samples, timeDeltas } = profile;
  for (let i = 0; i < samples.length; i++) {
    const dt = timeDeltas[i + 1] ?? 0;
    selfTime.set(samples[i]!, (selfTime.get(samples[i]!) ?? 0) + dt);
  }
} else {
  for (const n of profile.nodes) selfTime.set(n.id, n.hitCount ?? 0);
}
const total = [...selfTime.values()].reduce((a, b) => a + b, 0);

const shortUrl = (url: string) => url.replace(/^file:\/\/.*?\/(dist\/|node_modules\/)/, '$1').replace(/^node:/, 'node:');
const byFunction = new Map<string, number>();
const byFile = new Map<string, number>();
for (const [id, t] of selfTime) {
  const n = byId.get(id)!;
  const { functionName, url, lineNumber } = n.callFrame;
  const where = url ? `${shortUrl(url)}:${lineNumber + 1}` : '';
  const key = `${functionName || '(anonymous)'}  ${where}`;
  byFunction.set(key, (byFunction.get(key) ?? 0) + t);
  const fileKey = url ? shortUrl(url) : functionName;
  byFile.set(fileKey, (byFile.get(fileKey) ?? 0) + t);
}

const pct = (t: number) => `${((100 * t) / total).toFixed(1).padStart(5)}%`;
console.log(`${file}: ${(total / 1000).toFixed(0)} ms sampled`);
console.log('\nself time by function:');
for (const [k, t] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, Number(topArg))) console.log(`  ${pct(t)}  ${k}`);
console.log('\nself time by file:');
for (const [k, t] of [...byFile].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(`  ${pct(t)}  ${k}`);
