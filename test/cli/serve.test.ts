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
