/**
 * `protostack packetdrill` run as a user runs it, on scripts written for
 * these tests (test/fixtures/packetdrill): one line per script, the counts,
 * exit 0 / 1 / 2, -v's packet and call lines, --markdown's table, and usage
 * mistakes as one line with exit 2.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertOneLineError, cli } from './run.js';

const EXAMPLES = 'test/fixtures/packetdrill/examples';
const FAILING = 'test/fixtures/packetdrill/failing';

test('protostack packetdrill DIR: PASS and SKIP lines in name order, the counts, exit 0', async () => {
  const r = await cli(['packetdrill', EXAMPLES]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `SKIP ${EXAMPLES}/cork.pkt: setsockopt TCP_CORK\nPASS ${EXAMPLES}/server-write.pkt\n1 passed, 0 failed, 1 skipped\n`);
  assert.equal(r.stderr, '');
});

test('a failing script: FAIL path:LINE expected … got …, exit 1; one that cannot be parsed: ERROR path:LINE, exit 2', async () => {
  const fail = await cli(['packetdrill', `${FAILING}/early-fin.pkt`]);
  assert.equal(fail.code, 1);
  assert.equal(
    fail.stdout,
    `FAIL ${FAILING}/early-fin.pkt:10 expected > F. 1:1(0) ack 1 at 0.200 got > P. 1:101(100) ack 1 at 0.200 (flags, length differ)\n0 passed, 1 failed, 0 skipped\n`,
  );
  const both = await cli(['packetdrill', FAILING]);
  assert.equal(both.code, 2);
  assert.match(both.stdout, /^ERROR test\/fixtures\/packetdrill\/failing\/bad-line\.pkt:3 parse error: TCP options of 5 bytes: not padded to a multiple of 4$/m);
  assert.match(both.stdout, /^0 passed, 1 failed, 0 skipped, 1 errors$/m);
});

test('-v prints every packet and call with its virtual time before the result', async () => {
  const r = await cli(['packetdrill', '-v', `${EXAMPLES}/server-write.pkt`]);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.split('\n');
  for (const want of [
    '  0.100 < S 0:0(0) win 32792 <mss 1000,sackOK,nop,nop,nop,wscale 7>',
    '  0.100 > S. 0:0(0) ack 1 win 65535 <mss 1460,nop,nop,sackOK,nop,wscale 8>',
    '  0.200 accept(3, ..., ...) = 4',
    '  0.200 > . 1:1001(1000) ack 1 win 2109',
    '  0.200 > P. 1001:2001(1000) ack 1 win 2109',
    '  0.250 close(4) = 0',
  ])
    assert.ok(lines.includes(want), `missing ${want} in\n${r.stdout}`);
  assert.equal(lines[lines.length - 3], `PASS ${EXAMPLES}/server-write.pkt`);
});

test('--markdown prints the table docs/CONFORMANCE.md holds, scripts named under the directory given', async () => {
  const r = await cli(['packetdrill', '--markdown', 'test/fixtures/packetdrill']);
  assert.equal(r.code, 2);
  assert.match(r.stdout, /^\| script \| result \| line \| expected \/ reason \| got \|$/m);
  assert.match(r.stdout, /^\| `examples\/server-write\.pkt` \| PASS \| \| \| \|$/m);
  assert.match(r.stdout, /^\| `failing\/early-fin\.pkt` \| FAIL \| 10 \| `> F\. 1:1\(0\) ack 1 at 0\.200` \| `> P\. 1:101\(100\) ack 1 at 0\.200 \(flags, length differ\)` \|$/m);
});

test('usage mistakes: one line, exit 2', async () => {
  assertOneLineError(await cli(['packetdrill']), 2, 'packetdrill', /no script or directory given/);
  assertOneLineError(await cli(['packetdrill', '--frob', EXAMPLES]), 2, 'packetdrill', /unknown option '--frob'/);
  assertOneLineError(await cli(['packetdrill', '--seed', 'x', EXAMPLES]), 2, 'packetdrill', /--seed wants a whole number/);
  assertOneLineError(await cli(['packetdrill', 'no/such/dir']), 2, 'packetdrill', /no\/such\/dir: cannot read: ENOENT/);
  assertOneLineError(await cli(['packetdrill', 'docs']), 2, 'packetdrill', /no \*\.pkt scripts under docs/);
});
