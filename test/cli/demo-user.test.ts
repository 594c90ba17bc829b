/**
 * `protostack demo --stack user`: the seed's flow across three simulated hosts
 * on protostack's own TCP/IP, the same calls in the same order as over the
 * kernel, replayable by seed, and a capture that tshark reads clean.
 */
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test, type TestContext } from 'node:test';
import { promisify } from 'node:util';
import { runUserDemo, USER_DEMO_ADDRESSES } from '../../src/cli/demo-user.js';
import { parsePcap } from '../../src/link/pcap.js';
import { renderJson } from '../../src/trace/json.js';
import type { CallEvent, HttpEvent } from '../../src/trace-events.js';
import { assertDemoBytes, tapBytes } from './bytes-tap.js';

const exec = promisify(execFile);
const main = new URL('../../src/cli/main.js', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'protostack-demo-user-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const calls = (events: readonly unknown[], who: string) =>
  (events as CallEvent[]).filter((e) => e.kind === 'call' && e.who === who && e.note !== 'closed while waiting').sort((a, b) => a.start - b.start || a.seq - b.seq);

const { client: CLIENT, dns: DNS, web: WEB } = USER_DEMO_ADDRESSES;

test('demo --stack user: the client and both servers make the seed calls in the seed order, each on its own host', async () => {
  const tap = tapBytes();
  const result = await runUserDemo({ objects: 1, http: '1.0' }).finally(() => tap.stop());
  const { trace, summary } = result;
  const client = calls(trace.events, 'client');
  assert.deepEqual(
    client.map((e) => e.call),
    ['socket', 'bind', 'sendto', 'recvfrom', 'close', 'socket', 'connect', 'write', 'read', 'read', 'close'],
    'gethostbyname over UDP, then socket → connect → write → read until the end → close',
  );
  const [udp, , query, answer] = client;
  assert.equal(udp!.note, 'udp');
  assert.equal(`${query!.address}:${query!.port}`, `${DNS}:53`, 'the query went to the DNS host');
  assert.equal(`${answer!.address}:${answer!.port}`, `${DNS}:53`);
  assert.equal(summary.address, WEB, "the zone's A record points at the web host");
  const dnsServer = calls(trace.events, 'dns-server');
  assert.deepEqual(dnsServer.slice(0, 5).map((e) => e.call), ['socket', 'bind', 'socket', 'bind', 'listen']);
  const served = dnsServer.find((e) => e.call === 'recvfrom')!;
  assert.equal(served.result, query!.result, 'the DNS server received as many bytes as the client sent');
  assert.equal(served.address, CLIENT, 'from the client host');
  assert.equal(dnsServer.find((e) => e.call === 'sendto')!.result, answer!.result, 'and sent as many as the client received');

  const web = calls(trace.events, 'web-server');
  assert.deepEqual(web.slice(0, 4).map((e) => e.call), ['socket', 'bind', 'listen', 'accept']);
  const connect = client.find((e) => e.call === 'connect')!;
  assert.equal(`${connect.address}:${connect.port}`, `${WEB}:80`);
  const accept = web.find((e) => e.call === 'accept')!;
  assert.equal(`${accept.address}:${accept.port}`, connect.local, 'the server accepted the client connection');
  assert.equal(accept.address, CLIENT);
  const conn = accept.result as number;
  const clientWrite = client.find((e) => e.call === 'write')!;
  assert.equal(web.find((e) => e.call === 'read' && e.fd === conn)!.result, clientWrite.result, 'what the client wrote is what the server read');
  const serverWrite = web.find((e) => e.call === 'write' && e.fd === conn)!;
  assert.equal(client.filter((e) => e.call === 'read')[0]!.result, serverWrite.result, 'what the server wrote is what the client read');
  assert.equal(client.filter((e) => e.call === 'read').at(-1)!.result, 0, 'the client read to the end of the stream');
  const moved = assertDemoBytes(tap.moved, clientWrite.fd, conn);
  assert.deepEqual(moved, { query: query!.result, answer: answer!.result, request: clientWrite.result, response: serverWrite.result }, 'and as many bytes as the trace says');
  const serverFin = web.find((e) => (e.call === 'shutdown' || e.call === 'close') && e.fd === conn)!;
  assert.ok(serverFin.start < client.at(-1)!.start, 'the server let go of the connection before the client closed');
  // Every call ran on the user-space stack, on virtual time: on a lossless link with 2 ms each way a round trip
  // is 4 ms plus the packets' serialisation at 100 Mbit/s (some microseconds).
  assert.ok((trace.events as CallEvent[]).every((e) => e.stack === 'user'));
  assert.ok(answer!.waited > 4 && answer!.waited < 4.05, `the DNS answer took one round trip (${answer!.waited} ms)`);
  assert.ok(connect.waited > 4 && connect.waited < 4.05, `the handshake one more (${connect.waited} ms)`);
  assert.deepEqual(summary.statuses, [200]);
  const http = trace.events.filter((e) => e.kind === 'http') as HttpEvent[];
  assert.equal(http.length, 1);
  assert.equal(http[0]!.url, 'http://www.example.test/', 'port 80: no port in the Host header');
  // The counters of each stack agree with the link: nothing lost, every packet sent arrived.
  assert.equal(result.linkStats.lost, 0);
  const out = result.hosts.reduce((n, h) => n + h.stack.counters.get('ipv4.out'), 0);
  const into = result.hosts.reduce((n, h) => n + h.stack.counters.get('ipv4.in'), 0);
  assert.equal(out, result.linkStats.sent);
  assert.equal(into, result.linkStats.delivered);
  assert.equal(parsePcap(result.capture.bytes()).records.length, result.linkStats.sent, 'the capture holds every packet');
  for (const h of result.hosts) assert.equal(h.stack.counters.get('tcp.retransmit') + h.stack.counters.get('tcp.syn-retransmit'), 0, `${h.who} retransmitted nothing`);
  // Every connection is closed or in TIME-WAIT: the teardown is in the capture too.
  for (const h of result.hosts) for (const s of h.stack.tcp.states()) assert.match(s, / TIME-WAIT$/);
});

test('HTTP/1.0 opens a connection per object; HTTP/1.1 keeps one for all, across the link', async () => {
  const old = await runUserDemo({ objects: 3, http: '1.0' });
  assert.equal(old.summary.connections, 3);
  assert.equal(calls(old.trace.events, 'web-server').filter((e) => e.call === 'accept').length, 3);
  const kept = await runUserDemo({ objects: 3, http: '1.1' });
  assert.equal(kept.summary.connections, 1);
  assert.equal(kept.summary.roundTrips, 3);
  assert.deepEqual(kept.summary.statuses, [200, 200, 200]);
  assert.equal(calls(kept.trace.events, 'client').filter((e) => e.call === 'write').length, 3);
  assert.ok(kept.flowMs < old.flowMs, `keeping the connection saves handshakes (${kept.flowMs} < ${old.flowMs} ms)`);
});

test('with 10% loss the demo still completes, for every seed tried, and the losses and retransmissions show', async () => {
  let lost = 0;
  let retransmitted = 0;
  for (let seed = 1; seed <= 12; seed++) {
    const r = await runUserDemo({ loss: 0.1, seed, objects: 2, http: '1.1' });
    assert.deepEqual(r.summary.statuses, [200, 200], `seed ${seed}`);
    assert.equal(r.summary.address, WEB);
    assert.equal(r.summary.bytesReceived, calls(r.trace.events, 'client').filter((e) => e.call === 'read').reduce((n, e) => n + (e.result as number), 0));
    lost += r.linkStats.lost;
    for (const h of r.hosts) retransmitted += h.stack.counters.get('tcp.retransmit') + h.stack.counters.get('tcp.syn-retransmit');
  }
  assert.ok(lost > 0, 'the link lost packets');
  assert.ok(retransmitted > 0, 'and TCP retransmitted');
});

test('a seed replays the run exactly: trace, counters and capture; another seed changes them', async () => {
  const a = await runUserDemo({ loss: 0.1, seed: 7 });
  const b = await runUserDemo({ loss: 0.1, seed: 7 });
  const c = await runUserDemo({ loss: 0.1, seed: 8 });
  assert.equal(renderJson(a.trace.events), renderJson(b.trace.events));
  assert.deepEqual(a.hosts.map((h) => h.stack.counters.snapshot()), b.hosts.map((h) => h.stack.counters.snapshot()));
  assert.deepEqual(a.capture.bytes(), b.capture.bytes());
  assert.notDeepEqual(a.capture.bytes(), c.capture.bytes());
});

function haveTshark(t: TestContext): boolean {
  const probe = spawnSync('tshark', ['-v'], { encoding: 'utf8' });
  if (!probe.error) return true;
  if (process.env.CI) throw probe.error;
  t.skip('tshark not installed');
  return false;
}

const FIELDS = [
  'frame.number', 'frame.protocols', 'ip.src', 'ip.dst', 'udp.srcport', 'udp.dstport', 'tcp.srcport', 'tcp.dstport', 'tcp.flags.syn', 'tcp.flags.ack',
  'dns.flags.response', 'dns.qry.name', 'dns.a', 'http.request.method', 'http.response.code',
  'ip.checksum.status', 'udp.checksum.status', 'tcp.checksum.status', '_ws.malformed', '_ws.expert.severity',
];

/** tshark's reading of a capture, one record of FIELDS per frame, every checksum verified. */
function tshark(file: string): Record<string, string>[] {
  const args = ['-r', file, '-o', 'ip.check_checksum:TRUE', '-o', 'udp.check_checksum:TRUE', '-o', 'tcp.check_checksum:TRUE', '-T', 'fields', '-E', 'separator=/t'];
  const result = spawnSync('tshark', [...args, ...FIELDS.flatMap((f) => ['-e', f])], { encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  return result.stdout
    .trim()
    .split('\n')
    .map((line) => Object.fromEntries(line.split('\t').map((value, i) => [FIELDS[i]!, value])));
}

/** tshark 4.0 prints booleans as 1/0, later versions as True/False. */
const on = (value: string | undefined) => value === '1' || value === 'True';
const off = (value: string | undefined) => value === '0' || value === 'False';

/** Expert severities: chat 0x200000, note 0x400000, warning 0x600000, error 0x800000. */
const severities = (frame: Record<string, string>) => (frame['_ws.expert.severity'] ?? '').split(',').filter(Boolean).map(Number);

test('protostack demo --stack user --loss 0.05 --pcap FILE: tshark reads it clean, with the DNS exchange on port 53 and the handshake to port 80', async (t) => {
  if (!haveTshark(t)) return;
  const file = join(dir, 'demo.pcap');
  const { stdout } = await exec('node', [main, 'demo', '--stack', 'user', '--loss', '0.05', '--pcap', file]);
  assert.match(stdout, /over protostack's user-space stack/);
  assert.match(stdout, new RegExp(`gethostbyname\\("www\\.example\\.test"\\) = ${WEB.replaceAll('.', '\\.')}`));
  assert.match(stdout, /1 object over HTTP\/1\.0 .*: 1 connection, 1 round trip, status 200/);
  assert.match(stdout, /loss 5%, seed 1\): \d+ packets sent, \d+ lost/);
  for (const who of ['client', 'dns-server', 'web-server']) assert.match(stdout, new RegExp(`^  ${who} 10\\.0\\.0\\.\\d+ +\\d+ packets? out, \\d+ in; UDP \\d+ out, \\d+ in; TCP \\d+ out, \\d+ in, \\d+ retransmitted$`, 'm'));
  const captured = Number(stdout.match(/(\d+) packets captured in /)![1]);
  const client = stdout.split('\n').filter((l) => /^\s*\+[\d.]+ ms\s+client\s+[^<>\s]/.test(l)).map((l) => l.match(/(\w+)\(/)![1]);
  assert.deepEqual(client, ['socket', 'bind', 'sendto', 'recvfrom', 'close', 'socket', 'connect', 'write', 'read', 'read', 'close']);

  const frames = tshark(file);
  assert.equal(frames.length, captured);
  for (const f of frames) {
    const n = f['frame.number'];
    assert.equal(f['ip.checksum.status'], '1', `frame ${n}: IPv4 checksum good`);
    assert.equal(f['udp.checksum.status'] || f['tcp.checksum.status'], '1', `frame ${n}: UDP/TCP checksum good`);
    assert.equal(f['_ws.malformed'], '', `frame ${n} malformed`);
    for (const s of severities(f)) assert.ok(s < 0x800000, `frame ${n}: expert error ${s.toString(16)}`);
  }
  const query = frames.find((f) => f['udp.dstport'] === '53' && off(f['dns.flags.response']))!;
  assert.ok(query, 'a DNS query to port 53');
  assert.deepEqual([query['ip.src'], query['ip.dst'], query['dns.qry.name']], [CLIENT, DNS, 'www.example.test']);
  const response = frames.find((f) => f['udp.srcport'] === '53' && on(f['dns.flags.response']))!;
  assert.ok(response, 'and its response');
  assert.deepEqual([response['ip.src'], response['ip.dst'], response['dns.a']], [DNS, CLIENT, WEB]);
  const syn = frames.findIndex((f) => f['tcp.dstport'] === '80' && on(f['tcp.flags.syn']) && off(f['tcp.flags.ack']));
  const synAck = frames.findIndex((f) => f['tcp.srcport'] === '80' && on(f['tcp.flags.syn']) && on(f['tcp.flags.ack']));
  const ack = frames.findIndex((f, i) => i > synAck && f['tcp.dstport'] === '80' && off(f['tcp.flags.syn']) && on(f['tcp.flags.ack']));
  assert.ok(syn >= 0 && synAck > syn && ack > synAck, `the three-way handshake to port 80 (${syn}, ${synAck}, ${ack})`);
  assert.deepEqual([frames[syn]!['ip.src'], frames[syn]!['ip.dst']], [CLIENT, WEB]);
  assert.ok(frames.indexOf(response) < syn, 'the lookup before the connection');
  assert.ok(frames.some((f) => f['http.request.method'] === 'GET'));
  assert.ok(frames.some((f) => f['http.response.code'] === '200'));
});

test('without loss tshark has no warning for any frame either, and reads every packet: DNS, then 3 GETs and 3 200s on one connection', async (t) => {
  if (!haveTshark(t)) return;
  const file = join(dir, 'clean.pcap');
  const { stdout } = await exec('node', [main, 'demo', '--stack', 'user', '--objects', '3', '--http', '1.1', '--pcap', file]);
  const captured = Number(stdout.match(/(\d+) packets captured in /)![1]);
  const frames = tshark(file);
  // An empty capture would give no frames (or one empty line): the count and the protocols rule it out.
  assert.ok(captured > 10, `${captured} packets captured`);
  assert.equal(frames.length, captured, 'tshark read every captured packet');
  for (const f of frames) {
    assert.equal(f['frame.number'], String(frames.indexOf(f) + 1));
    assert.match(f['frame.protocols']!, /^raw:ip:(udp:dns|tcp)(:|$)/, `frame ${f['frame.number']}: IPv4 carrying DNS over UDP, or TCP`);
    for (const s of severities(f)) assert.ok(s < 0x600000, `frame ${f['frame.number']}: expert severity ${s.toString(16)}`);
  }
  const count = (test: (f: Record<string, string>) => boolean) => frames.filter(test).length;
  assert.equal(count((f) => f['frame.protocols']!.includes(':dns')), 2, 'one DNS query and its response');
  assert.equal(count((f) => on(f['tcp.flags.syn']) && off(f['tcp.flags.ack'])), 1, 'one connection');
  assert.equal(count((f) => f['http.request.method'] === 'GET'), 3);
  assert.equal(count((f) => f['http.response.code'] === '200'), 3);
});

test('the CLI replays a seed to the byte: the same pcap and output; another seed a different pcap', async () => {
  const run = async (seed: string, name: string) => {
    const file = join(dir, name);
    const { stdout } = await exec('node', [main, 'demo', '--stack', 'user', '--loss', '0.1', '--seed', seed, '--pcap', file]);
    return { stdout: stdout.replaceAll(file, 'FILE'), pcap: readFileSync(file) };
  };
  const a = await run('42', 'a.pcap');
  const b = await run('42', 'b.pcap');
  const c = await run('43', 'c.pcap');
  assert.ok(a.pcap.length > 24);
  assert.ok(a.pcap.equals(b.pcap), 'same seed, byte-identical capture');
  assert.equal(a.stdout, b.stdout, 'and the same printout, virtual times included');
  assert.ok(!a.pcap.equals(c.pcap), 'another seed, another capture');
  assert.match(a.stdout, /seed 42\)/);
});

test('--json, --mermaid, --har and --html work over the user stack', async () => {
  const json = JSON.parse((await exec('node', [main, 'demo', '--stack', 'user', '--json', '--seed', '3'])).stdout);
  assert.equal(json.meta.stack, 'user');
  assert.equal(json.meta.seed, 3);
  assert.ok(json.meta.hosts.client.counters['ipv4.out'] > 0);
  assert.ok(json.events.some((e: CallEvent) => e.kind === 'call' && e.who === 'client' && e.call === 'connect' && e.address === WEB && e.port === 80));
  const mermaid = (await exec('node', [main, 'demo', '--stack', 'user', '--mermaid', '--no-packets'])).stdout;
  assert.match(mermaid, /^sequenceDiagram/);
  assert.match(mermaid, /client-->>web_server: connect\(fd 3, 10\.0\.0\.80, 80\)/);
  assert.match(mermaid, /gethostbyname request: sendto\(fd 3, 45 B, 10\.0\.0\.53, 53\)/);
  const har = join(dir, 'demo.har');
  const html = join(dir, 'demo.html');
  await exec('node', [main, 'demo', '--stack', 'user', '--har', har, '--html', html]);
  const log = JSON.parse(readFileSync(har, 'utf8')).log;
  assert.equal(log.entries.length, 1);
  assert.equal(log.entries[0].request.url, 'http://www.example.test/');
  assert.equal(log.entries[0].serverIPAddress, WEB);
  // Virtual time 0 is a fixed date, so the HAR replays too.
  assert.match(log.entries[0].startedDateTime, /^2025-01-01T00:00:00\./);
  assert.match(readFileSync(html, 'utf8'), /sequenceDiagram/);
  assert.match(readFileSync(html, 'utf8'), /data-layer="packets"/, 'the report offers the packets layer');

  // --packets is the user stack's default: hosts as participants, packets as arrows, calls as notes.
  const packets = (await exec('node', [main, 'demo', '--stack', 'user', '--mermaid'])).stdout;
  assert.match(packets, /participant h1 as client 10\.0\.0\.10/);
  assert.match(packets, /h1->>h3: S 0:0\(0\) win \d+/);
  assert.match(packets, /h3->>h1: S\. 0:0\(0\) ack 1 win/);
  assert.match(packets, /Note over h1: connect\(fd 3, 10\.0\.0\.80:80\) = ok/);
  const text = (await exec('node', [main, 'demo', '--stack', 'user'])).stdout;
  assert.match(text, /client +connect\(fd 3, 10\.0\.0\.80:80\) .*waited [\d.]+ ms\n.*client +> S 0:0\(0\).*\n.*client +< S\. 0:0\(0\) ack 1.*\n.*client +> \. ack 1 /);
  const none = (await exec('node', [main, 'demo', '--stack', 'user', '--no-packets'])).stdout;
  assert.doesNotMatch(none, /> S 0:0/);
});

test('protostack demo --stack user --corrupt 0.2: the page still arrives; the link counts corrupted packets and the receivers drop them by checksum', async () => {
  const { stdout } = await exec('node', [main, 'demo', '--stack', 'user', '--corrupt', '0.2', '--seed', '1', '--objects', '3', '--json']);
  const { meta } = JSON.parse(stdout) as { meta: { link: { corrupted: number }; hosts: Record<string, { counters: Record<string, number> }> } };
  assert.ok(meta.link.corrupted > 0, `corrupted: ${meta.link.corrupted}`);
  const drops = Object.values(meta.hosts)
    .flatMap((h) => Object.entries(h.counters))
    .filter(([name]) => name.endsWith('bad-checksum'))
    .reduce((n, [, count]) => n + count, 0);
  assert.ok(drops > 0, 'a receiver counted a checksum drop');
  const text = await exec('node', [main, 'demo', '--stack', 'user', '--corrupt', '0.2', '--seed', '1', '--objects', '3']);
  assert.match(text.stdout, /corruption 20%/);
  assert.match(text.stdout, /\d+ corrupted/);
});

test('bad options exit 2: --loss/--pcap/--seed without --stack user, --loss outside [0, 0.5], bad seeds and stacks', async () => {
  const cases: [string[], RegExp][] = [
    [['--loss', '0.1'], /--loss needs --stack user/],
    [['--pcap', join(dir, 'x.pcap')], /--pcap needs --stack user/],
    [['--seed', '3'], /--seed needs --stack user/],
    [['--stack', 'kernel', '--loss', '0'], /--loss needs --stack user/],
    [['--stack', 'user', '--loss', '0.51'], /--loss wants a probability from 0 to 0\.5/],
    [['--stack', 'user', '--loss', '1'], /--loss wants/],
    [['--stack', 'user', '--loss=-0.1'], /--loss wants/],
    [['--stack', 'user', '--loss', 'lots'], /--loss wants/],
    [['--stack', 'user', '--loss', ''], /--loss wants/],
    [['--stack', 'user', '--seed', '1.5'], /--seed wants/],
    [['--stack', 'user', '--seed=-1'], /--seed wants/],
    [['--stack', 'user', '--seed', '4294967296'], /--seed wants/],
    [['--stack', 'user', '--url', 'http://example.com/'], /--url needs --stack kernel/],
    [['--stack', 'bsd'], /--stack is kernel or user/],
    [['--stack', 'user', '--loss'], /--loss wants a value/],
    [['--corrupt', '0.1'], /--corrupt needs --stack user/],
    [['--stack', 'user', '--corrupt', '0.6'], /--corrupt wants a probability from 0 to 0\.5/],
    [['--stack', 'user', '--corrupt', 'some'], /--corrupt wants/],
  ];
  for (const [args, message] of cases) {
    await assert.rejects(exec('node', [main, 'demo', ...args]), (e: { code?: number; stderr?: string }) => {
      assert.equal(e.code, 2, `${args.join(' ')}: exit ${e.code}`);
      assert.match(e.stderr ?? '', message, args.join(' '));
      return true;
    });
  }
  // The edges of the range are fine.
  for (const loss of ['0', '0.5']) {
    const { stdout } = await exec('node', [main, 'demo', '--stack', 'user', '--loss', loss, '--seed', '2', '--json']);
    assert.equal(JSON.parse(stdout).meta.loss, Number(loss));
  }
});
