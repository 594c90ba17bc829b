/**
 * `protostack resolve` as a user runs it, against the project's DNS server:
 * REFUSED and SERVFAIL printed in dig's layout with their status line (exit
 * 0, as dig), RFC 6761 names answered without a packet, @SERVER given by
 * name, and one-line errors under the subcommand's prefix.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { serveDns, type DnsServer } from '../../src/dns/server.js';
import { SocketLibrary } from '../../src/socket/library.js';
import { KernelStack } from '../../src/stack/kernel/stack.js';
import { loadZone, parseZone } from '../../src/dns/zone-file.js';
import { Zone } from '../../src/dns/zone.js';
import { TYPE, CLASS } from '../../src/wire/dns/types.js';
import { assertOneLineError, cli } from './run.js';

let server: DnsServer;
let at: string;

before(async () => {
  const example = await loadZone(new URL('../../../test/fixtures/example.test.zone', import.meta.url).pathname);
  // A zone built in code with a record the encoder refuses: the server answers SERVFAIL for it.
  const base = parseZone('$ORIGIN broken.test.\n$TTL 60\n@ IN SOA ns admin 1 3600 600 86400 60\n@ IN NS ns\nns IN A 127.0.0.1\n');
  const broken = new Zone([...base.records, { name: 'bad.broken.test', type: TYPE.A, class: CLASS.IN, ttl: 60, data: 'not-an-address' }]);
  server = await serveDns(new SocketLibrary(new KernelStack(), { label: 'dns-server' }), [example, broken], { address: '127.0.0.1', port: 0 });
  at = `@127.0.0.1:${server.port}`;
});
after(() => server.close());

const status = (stdout: string) => /^;; ->>HEADER<<- opcode: QUERY, status: (\w+), id: \d+$/m.exec(stdout)?.[1];

test('REFUSED and SERVFAIL are printed as dig prints them, header and status line included, exit 0', async () => {
  const refused = await cli(['resolve', 'www.elsewhere.org', at]);
  assert.equal(refused.code, 0, refused.stderr);
  assert.equal(refused.stderr, '');
  assert.equal(status(refused.stdout), 'REFUSED', refused.stdout);
  assert.match(refused.stdout, /^;; flags: qr rd; QUERY: 1, ANSWER: 0/m);
  assert.match(refused.stdout, /^;www\.elsewhere\.org\.\t\tIN\tA$/m);
  assert.match(refused.stdout, new RegExp(`^;; SERVER: 127\\.0\\.0\\.1:${server.port} \\(UDP\\)$`, 'm'));
  const failed = await cli(['resolve', 'bad.broken.test', at]);
  assert.equal(failed.code, 0, failed.stderr);
  assert.equal(status(failed.stdout), 'SERVFAIL', failed.stdout);
  const fine = await cli(['resolve', 'www.example.test', 'AAAA', at, '--short']);
  assert.equal(fine.stdout, '2001:db8::80\n');
});

test('localhost and .invalid are answered locally (RFC 6761): no packet reaches the server', async () => {
  const before = server.stats.queries;
  const local = await cli(['resolve', 'localhost', at]);
  assert.equal(local.code, 0, local.stderr);
  assert.equal(status(local.stdout), 'NOERROR');
  assert.match(local.stdout, /^localhost\.\t0\tIN\tA\t127\.0\.0\.1$/m);
  assert.match(local.stdout, /^;; SERVER: none, answered locally \(localhost is a special-use name, RFC 6761\)$/m);
  assert.equal((await cli(['resolve', 'host.localhost', 'AAAA', '--short', at])).stdout, '::1\n');
  const invalid = await cli(['resolve', 'nothing.invalid', at]);
  assert.equal(invalid.code, 0);
  assert.equal(status(invalid.stdout), 'NXDOMAIN');
  assert.equal(server.stats.queries, before, 'the server was never asked');
});

test('@SERVER may be a host name, looked up first as dig does', async () => {
  // localhost comes from the hosts file; where it also names ::1, that address is tried first and does not answer.
  const r = await cli(['resolve', 'www.example.test', `@localhost:${server.port}`, '--timeout', '500']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(status(r.stdout), 'NOERROR');
  assert.match(r.stdout, new RegExp(`^;; SERVER: 127\\.0\\.0\\.1:${server.port}\\(localhost\\) \\(UDP\\)$`, 'm'));
  assertOneLineError(await cli(['resolve', 'www.example.test', '@no-such-server.invalid']), 1, 'resolve', /cannot look up the server no-such-server\.invalid: .*does not exist/);
});

test('usage mistakes and failures are one line under "protostack resolve:"', async () => {
  assertOneLineError(await cli(['resolve']), 2, 'resolve', /no name given/);
  assertOneLineError(await cli(['resolve', 'www.example.test', '--timeout', 'abc', at]), 2, 'resolve', /--timeout wants milliseconds.*'abc'/);
  assertOneLineError(await cli(['resolve', 'www.example.test', '--timeout', '-5', at]), 2, 'resolve', /--timeout wants milliseconds.*'-5'/);
  assertOneLineError(await cli(['resolve', 'www.example.test', 'NOPE', at]), 2, 'resolve', /unknown type NOPE/);
  assertOneLineError(await cli(['resolve', '--port', '53', 'x.test']), 2, 'resolve', /unknown option '--port'/);
  // A server that never answers: dig's exit 9.
  const silent = await cli(['resolve', 'www.example.test', '@127.0.0.1:9', '--timeout', '200']);
  assert.equal(silent.code, 9);
  assert.match(silent.stdout, /^;; communications error to 127\.0\.0\.1:9: /m);
  assert.equal(silent.stderr, 'protostack resolve: no servers could be reached\n');
});
