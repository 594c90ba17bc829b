/** The protostack command as a user runs it. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);
const main = new URL('../../src/cli/main.js', import.meta.url).pathname;
const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8'));

test('--version prints the package version', async () => {
  const { stdout } = await run('node', [main, '--version']);
  assert.equal(stdout.trim(), pkg.version);
});

test('--help lists the commands', async () => {
  const { stdout } = await run('node', [main, '--help']);
  assert.match(stdout, /protostack demo/);
  assert.match(stdout, /--version/);
});

test('an unknown command exits 2 with help on stderr', async () => {
  await assert.rejects(run('node', [main, 'frobnicate']), (e: any) => e.code === 2 && /unknown command 'frobnicate'/.test(e.stderr));
});

test('demo prints both sides of the exchange in the seed order', async () => {
  const { stdout } = await run('node', [main, 'demo']);
  const lines = stdout.split('\n').filter((l) => /^\s*\+\d/.test(l));
  const calls = (who: string) => lines.filter((l) => l.includes(` ${who} `)).map((l) => l.match(/(socket|bind|listen|accept|connect|write|read|close)\(/)![1]);
  assert.deepEqual(calls('client'), ['socket', 'connect', 'write', 'read', 'read', 'close']);
  assert.deepEqual(calls('server'), ['socket', 'bind', 'listen', 'accept', 'read', 'write', 'close', 'close']);
  const written = Number(stdout.match(/client\s+write\(fd \d+, (\d+) B\)/)![1]);
  const read = Number(stdout.match(/server\s+read\(fd \d+, \d+ B\)\s+= (\d+) B/)![1]);
  assert.equal(read, written, 'the server read what the client wrote');
  assert.match(stdout, /read\(fd \d+, 4096 B\)\s+= 0 B \(end of stream\)/);
});
