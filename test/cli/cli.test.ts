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

test('demo prints the seed flow: gethostbyname, then socket, connect, write, read, close', async () => {
  const { stdout } = await run('node', [main, 'demo']);
  assert.match(stdout, /gethostbyname\("www\.example\.test"\) = 127\.0\.0\.1/);
  assert.match(stdout, /1 object over HTTP\/1\.0 .*: 1 connection, 1 round trip, status 200/);
  const client = stdout.split('\n').filter((l) => /^\s*\+[\d.]+ ms\s+client\s/.test(l)).map((l) => l.match(/(\w+)\(/)![1]);
  assert.deepEqual(client, ['socket', 'bind', 'sendto', 'recvfrom', 'close', 'socket', 'connect', 'write', 'read', 'read', 'close']);
});
