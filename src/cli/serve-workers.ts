/**
 * `protostack serve --workers N`: the primary process of a `node:cluster`.
 * It forks N workers, each running `serve` itself with the same arguments on
 * a listening socket cluster shares between them (the primary owns it and
 * hands connections out round-robin, cluster's default on Linux), so N event
 * loops answer on one address and port. The primary serves nothing itself.
 *
 * A worker that dies is forked again, at most `RESTARTS_PER_WINDOW` times in
 * `RESTART_WINDOW_MS` (a worker failing at start would otherwise spin); past
 * that the primary stops the others and exits 1. On SIGINT or SIGTERM the
 * primary passes SIGTERM to every worker, which closes gracefully, and waits
 * for all of them (SIGKILL after `STOP_TIMEOUT_MS`).
 */
import cluster, { type Worker } from 'node:cluster';
import os from 'node:os';

/** Marks a process forked by the primary below, so `serve` runs as a worker. */
export const WORKER_ENV = 'PROTOSTACK_SERVE_WORKER';
const RESTART_WINDOW_MS = 60_000;
const RESTARTS_PER_WINDOW = 10;
/** Longer than a worker's own graceful close (5 s). */
const STOP_TIMEOUT_MS = 8_000;

/** Whether this process is a worker forked by runPrimary. */
export function isServeWorker(): boolean {
  return cluster.isWorker && process.env[WORKER_ENV] === '1';
}

/** The number of workers for `--workers VALUE`: a whole number from 1 to 256, or `auto` for one per core; null if bad. */
export function workerCount(value: string | undefined): number | null {
  if (value === undefined) return 1;
  if (value === 'auto') return Math.max(1, os.availableParallelism());
  if (!/^\d{1,3}$/.test(value) || Number(value) < 1 || Number(value) > 256) return null;
  return Number(value);
}

/** Runs the primary until a signal stops it (exit 0) or workers keep dying (exit 1). */
export async function runPrimary(count: number, dir: string): Promise<number> {
  const out = (line: string) => process.stdout.write(line + '\n');
  let stopping = false;
  let failed = false;
  const restarts: number[] = [];
  const workers = new Set<Worker>();
  let announced = false;
  let listening = 0;
  /** Ends the wait below: a signal's name, or 'failure'. */
  let finish: (why: string) => void = () => {};

  const fork = () => {
    const worker = cluster.fork({ [WORKER_ENV]: '1' });
    workers.add(worker);
    worker.once('listening', (address) => {
      listening++;
      if (!announced && listening === count) {
        announced = true;
        const host = address.addressType === 6 ? `[${address.address}]` : address.address;
        out(`serving ${dir} on http://${host}:${address.port}/ with ${count} workers (pids ${[...workers].map((w) => w.process.pid).join(', ')})`);
      }
    });
    return worker;
  };

  const allExited = new Promise<void>((resolve) => {
    cluster.on('exit', (worker, code, signal) => {
      workers.delete(worker);
      if (!stopping) {
        const now = Date.now();
        while (restarts.length > 0 && now - restarts[0]! > RESTART_WINDOW_MS) restarts.shift();
        if (restarts.length >= RESTARTS_PER_WINDOW) {
          process.stderr.write(`protostack serve: workers died ${RESTARTS_PER_WINDOW} times within ${RESTART_WINDOW_MS / 1000} s; stopping\n`);
          failed = true;
          finish('failure');
        } else {
          restarts.push(now);
          const replacement = fork();
          out(`serve: worker ${worker.process.pid} exited (${signal ?? `code ${code}`}); started worker ${replacement.process.pid}`);
        }
      }
      if (stopping && workers.size === 0) resolve();
    });
  });

  let killTimer: ReturnType<typeof setTimeout> | null = null;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    for (const w of workers) w.process.kill('SIGTERM');
    killTimer = setTimeout(() => {
      for (const w of workers) w.process.kill('SIGKILL');
    }, STOP_TIMEOUT_MS);
    killTimer.unref();
  };

  const onInt = () => finish('SIGINT');
  const onTerm = () => finish('SIGTERM');
  const signal = await new Promise<string>((resolve) => {
    finish = resolve;
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
    for (let i = 0; i < count; i++) fork();
  });
  process.off('SIGINT', onInt);
  process.off('SIGTERM', onTerm);
  stop();
  if (workers.size > 0) await allExited;
  if (killTimer) clearTimeout(killTimer);
  out(`serve: ${signal}: all ${count} workers stopped`);
  return failed ? 1 : 0;
}
