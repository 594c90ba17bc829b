/**
 * The runner judging small scripts written here: a pass, a TSO superpacket
 * matched by several segments, and each way a script can fail shown failing
 * on purpose (wrong flag, wrong ack, a missing packet, an unexpected extra
 * packet, a packet too early, a packet too late, a wrong result, a blocking
 * call returning early or never, a call that blocks when it should not, an
 * assertion on TCP_INFO), then skips that name the feature, and the
 * timestamp and non-blocking mappings.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseScript } from '../../src/packetdrill/parser.js';
import { runScript, type Verdict } from '../../src/packetdrill/runner.js';

/** A passive open, lines 1-7; the handshake's RTT is 100 ms. */
const SERVER = `0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 bind(3, ..., ...) = 0
+0 listen(3, 1) = 0
+0 < S 0:0(0) win 32792 <mss 1000,nop,wscale 7>
+0 > S. 0:0(0) ack 1 <mss 1460,nop,wscale 8>
+.1 < . 1:1(0) ack 1 win 257
+0 accept(3, ..., ...) = 4
`;

async function run(body: string, head = SERVER): Promise<Verdict> {
  return runScript(parseScript(head + body, 'mine.pkt'));
}

async function fails(body: string, line: number, expected: RegExp, got: RegExp, head = SERVER): Promise<void> {
  const v = await run(body, head);
  assert.equal(v.status, 'fail', JSON.stringify(v));
  if (v.status !== 'fail') return;
  assert.equal(v.line, line, JSON.stringify(v));
  assert.match(v.expected, expected);
  assert.match(v.got, got);
}

test('a script that holds passes: handshake, data, its ACK, a FIN each way', async () => {
  const v = await run(`+0 write(4, ..., 1000) = 1000
+0 > P. 1:1001(1000) ack 1
+.1 < . 1:1(0) ack 1001 win 257
+0 close(4) = 0
+0 > F. 1001:1001(0) ack 1
+.1 < F. 1:1(0) ack 1002 win 257
+0 > . 1002:1002(0) ack 2
`);
  assert.deepEqual(v, { status: 'pass' });
});

test('a TSO superpacket (> P. 1:3001(3000)) is matched by three 1000-byte segments', async () => {
  assert.deepEqual(await run('+0 write(4, ..., 3000) = 3000\n+0 > P. 1:3001(3000) ack 1\n'), { status: 'pass' });
  // …but not by segments that fall short of it.
  await fails('+0 write(4, ..., 3000) = 3000\n+0 > P. 1:4001(4000) ack 1\n', 9, /^> P\. 1:4001\(4000\) ack 1 at 0\.100$/, /^> P\. 1:3001\(3000\) ack 1 \(3 segments\) at 0\.100 \(length differ\)$/);
});

test('FAIL: a wrong flag (P. where . was expected)', async () => {
  await fails('+0 write(4, ..., 1000) = 1000\n+0 > . 1:1001(1000) ack 1\n', 9, /^> \. 1:1001\(1000\) ack 1 at 0\.100$/, /^> P\. 1:1001\(1000\) ack 1 at 0\.100 \(flags differ\)$/);
});

test('FAIL: a wrong ack', async () => {
  await fails('+0 write(4, ..., 1000) = 1000\n+0 > P. 1:1001(1000) ack 2\n', 9, /ack 2 at 0\.100$/, /^> P\. 1:1001\(1000\) ack 1 at 0\.100 \(ack differ\)$/);
});

test('FAIL: a missing packet: nothing is sent', async () => {
  await fails('+.1 > F. 1:1(0) ack 1\n', 8, /^> F\. 1:1\(0\) ack 1 at 0\.200$/, /^nothing by 10\.204$/);
});

test('FAIL: an unexpected extra packet, sent before the one expected', async () => {
  await fails('+0 write(4, ..., 1000) = 1000\n+.1 close(4) = 0\n+0 > F. 1001:1001(0) ack 1\n', 10, /^> F\. 1001:1001\(0\) ack 1 at 0\.200$/, /^an unexpected > P\. 1:1001\(1000\) ack 1 at 0\.100 \(flags, seq, length differ\)$/);
});

test('FAIL: a packet too early', async () => {
  await fails('+0 write(4, ..., 1000) = 1000\n+.05 > P. 1:1001(1000) ack 1\n', 9, /at 0\.150$/, /^it at 0\.100, 50 ms early \(tolerance 4 ms\)$/);
});

test('FAIL: a packet too late (a retransmission expected long before the RTO)', async () => {
  await fails('+0 write(4, ..., 1000) = 1000\n+0 > P. 1:1001(1000) ack 1\n+.1 > P. 1:1001(1000) ack 1\n', 10, /at 0\.200$/, /^it at [\d.]+, \d+ ms late \(tolerance 4 ms\)$/);
});

test('the tolerance is the script\'s: --tolerance_usecs=60000 lets a packet 50 ms early pass', async () => {
  assert.deepEqual(await run('+0 write(4, ..., 1000) = 1000\n+.05 > P. 1:1001(1000) ack 1\n', `--tolerance_usecs=60000\n${SERVER}`), { status: 'pass' });
});

test('FAIL: a call with another result, or another errno', async () => {
  await fails('+0 write(4, ..., 1000) = 999\n', 8, /^write\(4, \.\.\., 1000\) = 999$/, /^write\(\.\.\.\) = 1000$/);
  await fails('+0 shutdown(4, SHUT_WR) = 0\n+0 write(4, ..., 10) = -1 EAGAIN (Resource temporarily unavailable)\n', 9, /EAGAIN/, /^write\(\.\.\.\) = -1 EPIPE$/);
});

test('FAIL: a blocking call returning before its end time, or still blocked after it', async () => {
  await fails('+0...0.300 read(4, ..., 1000) = 1000\n+.1 < P. 1:1001(1000) ack 1 win 257\n', 8, /^read\(4, \.\.\., 1000\) = 1000 to return at 0\.400$/, /^it returned at 0\.200, 200 ms early$/);
  await fails('+0...0.100 read(4, ..., 1000) = 1000\n+.3 < P. 1:1001(1000) ack 1 win 257\n', 8, /to return at 0\.200$/, /^it still blocked at 0\.20\d+$/);
  // …and one that returns on time passes while later lines run.
  assert.deepEqual(await run('+0...0.100 read(4, ..., 1000) = 1000\n+.1 < P. 1:1001(1000) ack 1 win 257\n'), { status: 'pass' });
});

test('FAIL: a call that should not block, blocking', async () => {
  await fails('+0 read(4, ..., 1000) = 1000\n', 8, /^read\(4, \.\.\., 1000\) = 1000 to return at once$/, /^it still blocked at 0\.104$/);
});

test('FAIL: an assertion on TCP_INFO, with the value read', async () => {
  await fails('+0 %{ assert tcpi_snd_cwnd == 99, tcpi_snd_cwnd }%\n', 8, /^assert tcpi_snd_cwnd == 99$/, /^tcpi_snd_cwnd = 10$/);
  assert.deepEqual(await run('+0 %{ assert tcpi_snd_cwnd == 10 and tcpi_snd_mss == 1000 and tcpi_ca_state == TCP_CA_Open }%\n'), { status: 'pass' });
});

test('SKIP names the feature: a socket option, a flag, a sysctl, a TCP_INFO field, an ECN packet, a NULL buffer', async () => {
  const cases: Array<[string, string, RegExp]> = [
    ['+0 setsockopt(4, SOL_TCP, TCP_CORK, [1], 4) = 0\n', SERVER, /^setsockopt TCP_CORK$/],
    ['+0 send(4, ..., 10, MSG_MORE) = 10\n', SERVER, /^MSG_MORE$/],
    ['+0 %{ assert tcpi_reord_seen == 0 }%\n', SERVER, /^TCP_INFO field tcpi_reord_seen/],
    ['+0 < [ect0] . 1:1(0) ack 1 win 257\n', SERVER, /^ECN/],
    ['+0 write(4, NULL, 10) = -1 EFAULT (Bad address)\n', SERVER, /NULL buffer/],
    ['+0 poll([{fd=4, events=POLLIN}], 1, 0) = 0\n', SERVER, /^system call poll$/],
    ['+0...0.100 send(4, ..., 10, MSG_MORE) = 10\n', SERVER, /^MSG_MORE$/],
    ['', `\`sysctl -q net.ipv4.tcp_ecn=1\`\n${SERVER}`, /^ECN \(sysctl tcp_ecn=1\)$/],
    ['', `--ip_version=ipv6\n${SERVER}`, /ipv6/],
  ];
  for (const [body, head, feature] of cases) {
    const v = await run(body, head);
    assert.equal(v.status, 'skip', `${body || head}: ${JSON.stringify(v)}`);
    if (v.status === 'skip') assert.match(v.feature, feature);
  }
});

test('timestamps: the first TS val defines the mapping; TS ecr must echo the peer exactly; --tcp_ts_tick_usecs checks TS val', async () => {
  const head = `--tcp_ts_tick_usecs=1000
0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 bind(3, ..., ...) = 0
+0 listen(3, 1) = 0
+0 < S 0:0(0) win 20000 <mss 1000,sackOK,TS val 100 ecr 0>
+0 > S. 0:0(0) ack 1 <mss 1460,sackOK,TS val 100 ecr 100>
+.1 < . 1:1(0) ack 1 win 20000 <nop,nop,TS val 200 ecr 100>
+0 accept(3, ..., ...) = 4
`;
  assert.deepEqual(await run('+.5 write(4, ..., 10) = 10\n+0 > P. 1:11(10) ack 1 <nop,nop,TS val 700 ecr 200>\n', head), { status: 'pass' });
  await fails('+.5 write(4, ..., 10) = 10\n+0 > P. 1:11(10) ack 1 <nop,nop,TS val 900 ecr 200>\n', 10, /TS val 900/, /TS val 700 ecr 200> at 0\.600 \(TS val differ\)$/, head);
  await fails('+.5 write(4, ..., 10) = 10\n+0 > P. 1:11(10) ack 1 <nop,nop,TS val 700 ecr 201>\n', 10, /ecr 201/, /\(options differ\)$/, head);
});

test('O_NONBLOCK: connect answers EINPROGRESS and the handshake goes on; read answers EAGAIN', async () => {
  const v = await run(
    `0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0
+0 fcntl(3, F_GETFL) = 0x802
+0 connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)
+0 > S 0:0(0) <mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 8>
+.1 < S. 0:0(0) ack 1 win 5792 <mss 1460,nop,wscale 2>
+0 > . 1:1(0) ack 1
+0 read(3, ..., 100) = -1 EAGAIN (Resource temporarily unavailable)
+0 write(3, ..., 100) = 100
+0 > P. 1:101(100) ack 1
`,
    '',
  );
  assert.deepEqual(v, { status: 'pass' });
});

test('script descriptors are the script\'s: socket() = 5 names the socket 5 whatever the library returned', async () => {
  assert.deepEqual(await run('0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 5\n+0 bind(5, ..., ...) = 0\n+0 listen(5, 1) = 0\n+0 close(5) = 0\n', ''), { status: 'pass' });
});
