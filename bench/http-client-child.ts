/**
 * One client side of bench/http.ts in a process of its own, driven over IPC
 * by the parent (which only waits while a side runs):
 *
 *   fork('dist/bench/http-client-child.js', [side, targetPort, targetPid])
 *
 * Messages: { cmd: 'check', path, length } (status 200 and `length` body
 * bytes, or an error), { cmd: 'run', path, total } (one measured run; answers
 * a Sample), { cmd: 'close' }. Each answer is { ok } or { error }.
 *
 * No garbage collection is forced between runs, unlike the runner's other
 * modules: after a forced `gc()` the next 2,000–4,000 requests of every
 * client took 2–4 times the CPU (node:http: 121, 56, 31, 29 µs per request
 * for four runs of 2,000 after a gc(); ours 47, 28, 19, 17), presumably while
 * compiled code and type feedback were rebuilt. With a gc() before each run
 * the module measured mostly that re-warming (about twice the steady CPU per
 * request for every client).
 *
 * Why a process per side: it is how undici's own benchmark isolates its
 * clients (cronometro runs each test in a worker thread of its own), and it
 * keeps one client's garbage and its training of shared code (node:net,
 * streams, events) away from the others. All seven sides in one process,
 * without forced gc(), cost 10–20% more CPU per request than alone.
 */
import { SIDES, clientSide, inFlightFor, load, type SideName } from './http.js';

const [sideArg, portArg, pidArg] = process.argv.slice(2);
const side = sideArg as SideName;
if (!SIDES.includes(side) || !portArg || !pidArg) {
  process.stderr.write(`usage: node dist/bench/http-client-child.js "${SIDES.join('"|"')}" PORT SERVER_PID\n`);
  process.exit(2);
}
const client = clientSide(side, Number(portArg));
const serverPid = Number(pidArg);

type Message = { cmd: 'check'; path: string; length: number } | { cmd: 'run'; path: string; total: number } | { cmd: 'close' };

process.on('message', (m: Message) => {
  void (async () => {
    try {
      if (m.cmd === 'check') {
        const n = await client.bodyLength(m.path);
        if (n !== m.length) throw new Error(`${n} body bytes from ${m.path}, expected ${m.length}`);
        process.send!({ ok: true });
      } else if (m.cmd === 'run') {
        process.send!({ ok: await load(m.total, inFlightFor(side), serverPid, client.one(m.path)) });
      } else {
        await client.close();
        process.send!({ ok: true }, () => process.exit(0));
      }
    } catch (e) {
      process.send!({ error: e instanceof Error ? e.message : String(e) });
    }
  })();
});
