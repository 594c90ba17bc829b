/** `protostack resolve` against dnsmasq: dig's layout, the server used and the query time. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { startDnsmasq, type Dnsmasq } from '../dns/peers.js';

const run = promisify(execFile);
const main = new URL('../../src/cli/main.js', import.meta.url).pathname;
let server: Dnsmasq;
before(async () => {
  server = await startDnsmasq();
});
after(() => server.stop());

test('resolve prints the answer like dig, with the server and query time', async () => {
  const { stdout } = await run('node', [main, 'resolve', 'alias.example.test', 'A', `@127.0.0.1:${server.port}`]);
  assert.match(stdout, /status: NOERROR/);
  assert.match(stdout, /;; ANSWER SECTION:\nalias\.example\.test\.\t60\tIN\tCNAME\twww\.example\.test\.\nwww\.example\.test\.\t60\tIN\tA\t192\.0\.2\.10/);
  assert.match(stdout, new RegExp(`;; SERVER: 127\\.0\\.0\\.1:${server.port} \\(UDP\\)`));
  assert.match(stdout, /;; Query time: \d+ msec/);
});

test('resolve --short, --tcp, NXDOMAIN status and a bad type', async () => {
  const short = await run('node', [main, 'resolve', 'txt.example.test', 'TXT', `@127.0.0.1:${server.port}`, '--short']);
  assert.equal(short.stdout, '"hello world" "second string"\n');
  const tcp = await run('node', [main, 'resolve', 'www.example.test', 'AAAA', `@127.0.0.1:${server.port}`, '--tcp']);
  assert.match(tcp.stdout, /\(TCP\)/);
  assert.match(tcp.stdout, /2001:db8::10/);
  const nx = await run('node', [main, 'resolve', 'nope.example.test', `@127.0.0.1:${server.port}`]);
  assert.match(nx.stdout, /status: NXDOMAIN/);
  await assert.rejects(run('node', [main, 'resolve', 'x.test', 'BOGUS']), (e: any) => e.code === 2 && /unknown type BOGUS/.test(e.stderr));
});
