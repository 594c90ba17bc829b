/** `protostack serve` as a user runs it: a directory without an index is listed, unless --no-listing. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { assertOneLineError, cli, MAIN } from './run.js';

const dir = mkdtempSync(join(tmpdir(), 'protostack-serve-'));
mkdirSync(join(dir, 'docs'));
writeFileSync(join(dir, 'notes <1>.txt'), 'a note\n');
after(() => rmSync(dir, { recursive: true, force: true }));

/** Starts `protostack serve DIR --port 0 ...extra`, runs `body` with its URL, then stops it with SIGINT. */
async function serving(extra: string[], body: (url: string) => Promise<void>): Promise<string> {
  const child = spawn(process.execPath, [MAIN, 'serve', dir, '--port', '0', ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    for (let i = 0; i < 100 && !/ on http:\/\/\S+\n/.test(out); i++) await new Promise((r) => setTimeout(r, 50));
    const url = / on (http:\/\/\S+)\n/.exec(out)?.[1];
    assert.ok(url, `no banner: ${out}`);
    await body(url);
    child.kill('SIGINT');
    assert.equal(await exited, 0);
    return out;
  } finally {
    child.kill('SIGKILL');
  }
}

test('serve lists a directory that has no index.html: an HTML page of escaped names, sizes and dates', async () => {
  const log = await serving([], async (url) => {
    const r = await cli(['get', '-f', url]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /<title>Index of \/<\/title>/);
    assert.match(r.stdout, /<a href="docs\/">docs\/<\/a>/);
    assert.match(r.stdout, /<a href="notes%20%3C1%3E\.txt">notes &#60;1&#62;\.txt<\/a><\/td><td class="n">7<\/td><td>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d<\/td>/);
  });
  assert.match(log, /^127\.0\.0\.1 GET \/ 200 \d+ B/m);
});

test('serve --no-listing answers 404 for a directory without an index', async () => {
  await serving(['--no-listing'], async (url) => {
    assertOneLineError(await cli(['get', '-f', url]), 22, 'get', /answered 404 Not Found/);
    assert.equal((await cli(['get', `${url}notes%20%3C1%3E.txt`])).stdout, 'a note\n', 'files are still served');
  });
});

test('serve of a directory that does not exist: one line, exit 1', async () => {
  assertOneLineError(await cli(['serve', join(dir, 'missing')]), 1, 'serve', /missing: ENOENT/);
});

/** `protostack serve --workers 2`: its output so far, the URL, and the worker pids from the banner. */
async function startWorkers(extra: string[] = []) {
  const child = spawn(process.execPath, [MAIN, 'serve', dir, '--port', '0', '--workers', '2', ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
  const state = { out: '' };
  child.stdout.on('data', (d) => (state.out += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const waitFor = async (re: RegExp) => {
    for (let i = 0; i < 200 && !re.test(state.out); i++) await new Promise((r) => setTimeout(r, 50));
    const m = re.exec(state.out);
    assert.ok(m, `waited for ${re}: ${state.out}`);
    return m;
  };
  const banner = await waitFor(/ on (http:\/\/\S+) with 2 workers \(pids (\d+), (\d+)\)\n/);
  return { child, state, exited, waitFor, url: banner[1]!, pids: [Number(banner[2]), Number(banner[3])] };
}

/** One request on a connection of its own. */
function fetchOnce(url: string): Promise<number> {
  return fetch(`${url}notes%20%3C1%3E.txt`, { headers: { connection: 'close' } }).then(async (r) => (await r.text(), r.status));
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

test('serve --workers 2: both workers answer, each log line names its pid, SIGTERM stops them all', async () => {
  const w = await startWorkers();
  try {
    // Batches of connections at once, until both pids have answered (bounded).
    for (let round = 0; round < 20; round++) {
      const statuses = await Promise.all(Array.from({ length: 20 }, () => fetchOnce(w.url)));
      assert.deepEqual(new Set(statuses), new Set([200]));
      await new Promise((r) => setTimeout(r, 150)); // the access log is written in batches
      if (w.pids.every((pid) => w.state.out.includes(`[${pid}] 127.0.0.1 GET`))) break;
    }
    for (const pid of w.pids) assert.match(w.state.out, new RegExp(`^\\[${pid}\\] 127\\.0\\.0\\.1 GET /notes%20%3C1%3E\\.txt 200 7 B`, 'm'));
    w.child.kill('SIGTERM');
    assert.equal(await w.exited, 0);
    assert.match(w.state.out, /serve: SIGTERM: all 2 workers stopped\n$/);
    for (const pid of w.pids) assert.match(w.state.out, new RegExp(`^\\[${pid}\\] serve: SIGTERM: stopped after \\d+ requests`, 'm'));
    for (const pid of w.pids) assert.equal(alive(pid), false, `worker ${pid} still running`);
  } finally {
    w.child.kill('SIGKILL');
    for (const pid of w.pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
  }
});

test('serve --workers 2: a killed worker is replaced and the server keeps answering', async () => {
  const w = await startWorkers(['--quiet']);
  let replacement = 0;
  try {
    process.kill(w.pids[0]!, 'SIGKILL');
    const m = await w.waitFor(new RegExp(`serve: worker ${w.pids[0]} exited \\(SIGKILL\\); started worker (\\d+)\\n`));
    replacement = Number(m[1]);
    for (let i = 0; i < 10; i++) assert.equal(await fetchOnce(w.url), 200);
    w.child.kill('SIGTERM');
    assert.equal(await w.exited, 0);
    assert.doesNotMatch(w.state.out, / GET /, '--quiet logs no requests');
    assert.equal(alive(replacement), false);
  } finally {
    w.child.kill('SIGKILL');
    for (const pid of [...w.pids, replacement]) if (pid && alive(pid)) process.kill(pid, 'SIGKILL');
  }
});

test('serve --workers: a bad count is a usage error', async () => {
  const r = await cli(['serve', dir, '--workers', '0']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--workers must be a whole number from 1 to 256 or 'auto', not '0'/);
});
