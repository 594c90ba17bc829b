/**
 * One client side of bench/http.ts on its own, for a CPU profile of the
 * client process (not part of `npm run bench`):
 *
 *   node dist/bench/http-profile.js 'ours fetch' / 5 /tmp/ours-fetch.cpuprofile
 *   node dist/bench/cpuprofile-summary.js /tmp/ours-fetch.cpuprofile
 *
 * Arguments: the side's name as bench/http.ts prints it ('ours request',
 * 'ours request, pipelining 10', 'ours fetch', 'undici request', ...), the
 * path ('/' for 12 bytes, '/64k'), seconds to measure (default 5), and where to
 * write the profile (default: none). It starts the same node:http target
 * child, warms up for 2 s, then profiles only the measured part (through
 * node:inspector), printing requests/s and CPU µs per request on both ends.
 */
import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { KEEP_ALIVE_MS, SIDES, clientSide, inFlightFor, load, startServerChild, type Sample, type SideName } from './http.js';

const [sideArg = 'ours request', path = '/', secondsArg = '5', out] = process.argv.slice(2);
const side = sideArg as SideName;
if (!SIDES.includes(side)) {
  console.error(`no side "${side}"; there are: ${SIDES.join(', ')}`);
  process.exit(2);
}
const seconds = Number(secondsArg);
const PER_RUN = 2000;

const target = await startServerChild('node', KEEP_ALIVE_MS);
const client = clientSide(side, target.port);
const one = client.one(path);

async function runFor(ms: number): Promise<Sample[]> {
  const samples: Sample[] = [];
  const t0 = performance.now();
  while (performance.now() - t0 < ms) samples.push(await load(PER_RUN, inFlightFor(side), target.child.pid!, one));
  return samples;
}

await runFor(2000);
const session = new Session();
if (out) {
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 100 });
  await session.post('Profiler.start');
}
const samples = await runFor(seconds * 1000);
if (out) {
  const { profile } = await session.post('Profiler.stop');
  await writeFile(out, JSON.stringify(profile));
  session.disconnect();
}
const mean = (f: (s: Sample) => number) => samples.reduce((a, s) => a + f(s), 0) / samples.length;
console.log(`${side} ${path}: ${Math.round(mean((s) => s.rate))} req/s, client CPU ${mean((s) => s.client).toFixed(1)} µs/request, server CPU ${mean((s) => s.server).toFixed(1)} µs/request (${samples.length} runs of ${PER_RUN})`);
await client.close();
target.child.kill();
