/** `protostack get` against nginx, as a user would run it. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { startNginx, type Peer } from '../http/peers.js';

const run = promisify(execFile);
const main = new URL('../../src/cli/main.js', import.meta.url).pathname;
let nginx: Peer;
before(async () => {
  nginx = await startNginx({ 'hello.txt': 'hello, world\n', 'data.bin': Buffer.alloc(200_000, 7) });
});
after(() => nginx.stop());
const env = { ...process.env, http_proxy: '', HTTP_PROXY: '' };

test('get prints the body; -v shows the heads and every socket call', async () => {
  const { stdout, stderr } = await run('node', [main, 'get', '-v', `http://127.0.0.1:${nginx.port}/hello.txt`], { env });
  assert.equal(stdout, 'hello, world\n');
  assert.match(stderr, /^> GET \/hello\.txt HTTP\/1\.1$/m);
  assert.match(stderr, /^< HTTP\/1\.1 200 OK$/m);
  assert.match(stderr, /socket\(tcp\)\s+= fd \d+/);
  assert.match(stderr, new RegExp(`connect\\(fd \\d+, 127\\.0\\.0\\.1:${nginx.port}\\)\\s+= ok`));
  assert.match(stderr, /write\(fd \d+, \d+ B\)/);
  assert.match(stderr, /read\(fd \d+, \d+ B\)\s+= \d+ B/);
});

test('get -o FILE, -w timings, --http1.0, -L, -X/-d', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'get-'));
  const out = join(dir, 'data.bin');
  const { stdout } = await run('node', [main, 'get', '-o', out, '-w', '%{http_code} %{size_download} %{time_namelookup} %{time_connect} %{time_starttransfer} %{time_total}\\n', `http://127.0.0.1:${nginx.port}/data.bin`], { env });
  assert.ok(readFileSync(out).equals(Buffer.alloc(200_000, 7)));
  const [code, size, ...times] = stdout.trim().split(' ');
  assert.equal(code, '200');
  assert.equal(size, '200000');
  const [lookup, connect, first, total] = times.map(Number);
  assert.ok(lookup! >= 0 && connect! >= lookup! && first! >= connect! && total! >= first!, stdout);
  const old = await run('node', [main, 'get', '-I', '--http1.0', `http://127.0.0.1:${nginx.port}/hello.txt`], { env });
  assert.match(old.stdout, /^HTTP\/1\.1 200 OK$/m, 'nginx answers 1.0 requests with a 1.1 status line');
  assert.match(old.stdout, /^Connection: close$/m);
  const followed = await run('node', [main, 'get', '-L', `http://127.0.0.1:${nginx.port}/r301`], { env });
  assert.equal(followed.stdout, 'hello, world\n');
  const posted = await run('node', [main, 'get', '-X', 'PUT', '-d', 'abcdef', `http://127.0.0.1:${nginx.port}/echo-method`], { env });
  assert.equal(posted.stdout, 'PUT 6\n');
});

test('get fails clearly on a refused connection and on bad arguments', async () => {
  await assert.rejects(run('node', [main, 'get', 'http://127.0.0.1:1/'], { env }), (e: any) => e.code === 7 && /cannot connect to 127\.0\.0\.1 port 1: connection refused/.test(e.stderr));
  await assert.rejects(run('node', [main, 'get', '-H', 'nocolon', 'http://127.0.0.1:1/'], { env }), (e: any) => e.code === 2);
});
