/**
 * The authoritative server on real loopback sockets: Debian's dig asks it
 * over UDP and TCP, and raw datagrams through the socket library check that
 * nothing a client sends can stop it answering.
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn } from 'node:child_process';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { serveDns, type DnsServer, type DnsServerOptions } from '../../src/dns/server.js';
import { loadZone } from '../../src/dns/zone-file.js';
import type { Zone } from '../../src/dns/zone.js';
import type { SocketLibrary } from '../../src/socket/library.js';
import { decodeMessage, encodeMessage, frameTcp } from '../../src/wire/dns/message.js';
import { emptyMessage, OPCODE, RCODE, TYPE, type DnsMessage } from '../../src/wire/dns/types.js';
import { dial, kernelLibrary, LOOPBACK, readExactly } from '../helpers.js';
import { randomBytesFrom, xorshift } from '../prng.js';

const run = promisify(execFile);
const FIXTURE = new URL('../../../test/fixtures/example.test.zone', import.meta.url).pathname;
const SOA = 'example.test. 300 IN SOA ns1.example.test. hostmaster.example.test. 2024010101 7200 900 1209600 300';
const BIG = Array.from({ length: 60 }, (_, i) => `big.example.test. 3600 IN A 10.0.0.${i + 1}`);

const lib = kernelLibrary('dns-server');
const client = kernelLibrary('dns-client');
let zone: Zone;
let server: DnsServer;

before(async () => {
  try {
    execFileSync('dig', ['-v'], { stdio: 'ignore' });
  } catch {
    throw new Error('dig is not installed: these tests query the server with it (Debian: apt-get install bind9-dnsutils; CI installs it)');
  }
  zone = await loadZone(FIXTURE);
  server = await serveDns(lib, [zone], { address: LOOPBACK, port: 0 });
});

const extraServers: DnsServer[] = [];

after(async () => {
  await server?.close();
  for (const s of extraServers) await s.close();
  await client.closeAll();
});

// ---- dig ----

interface Dig {
  status: string;
  flags: string[];
  answer: string[];
  authority: string[];
  additional: string[];
  text: string;
}

/** Runs dig against the server and reads its default output: the header, the flags, each section's records. */
async function dig(...args: string[]): Promise<Dig> {
  const { stdout } = await run('dig', [`@${LOOPBACK}`, '-p', String(server.port), '+time=2', '+tries=1', ...args]);
  const section = (title: string) => {
    const at = stdout.indexOf(`;; ${title} SECTION:\n`);
    if (at < 0) return [];
    const body = stdout.slice(at).split('\n').slice(1);
    return body.slice(0, body.indexOf('')).map((line) => line.split(/\s+/).join(' '));
  };
  const status = /status: (\w+)/.exec(stdout);
  const flags = /;; flags:([a-z ]*);/.exec(stdout);
  assert.ok(status && flags, `dig printed no header:\n${stdout}`);
  return { status: status[1]!, flags: flags[1]!.trim().split(' ').sort(), answer: section('ANSWER'), authority: section('AUTHORITY'), additional: section('ADDITIONAL'), text: stdout };
}

test('dig: A, authoritative, EDNS echoed with our UDP size', async () => {
  const r = await dig('www.example.test', 'A');
  assert.equal(r.status, 'NOERROR');
  assert.deepEqual(r.flags, ['aa', 'qr', 'rd']);
  assert.deepEqual(r.answer, ['www.example.test. 300 IN A 192.0.2.80']);
  assert.deepEqual(r.authority, []);
  assert.match(r.text, /EDNS: version: 0, flags:; udp: 1232/);
});

test('dig: AAAA, and the owner spelt as asked', async () => {
  assert.deepEqual((await dig('www.example.test', 'AAAA')).answer, ['www.example.test. 300 IN AAAA 2001:db8::80']);
  assert.deepEqual((await dig('WwW.ExAmPlE.tEsT', 'A')).answer, ['WwW.ExAmPlE.tEsT. 300 IN A 192.0.2.80']);
});

test('dig: MX, with the in-zone exchange in additional', async () => {
  const r = await dig('example.test', 'MX');
  assert.deepEqual(r.answer, ['example.test. 3600 IN MX 10 mail.example.test.', 'example.test. 3600 IN MX 20 mail.example.net.']);
  assert.deepEqual(r.additional, ['mail.example.test. 3600 IN A 192.0.2.25']);
});

test('dig: TXT with several strings, quotes and a semicolon', async () => {
  assert.deepEqual((await dig('txt.example.test', 'TXT')).answer, ['txt.example.test. 3600 IN TXT "hello world" "with \\"quotes\\"; and a semicolon"']);
});

test('dig: CNAME followed inside the zone; SRV with its target', async () => {
  assert.deepEqual((await dig('alias.example.test', 'A')).answer, ['alias.example.test. 3600 IN CNAME www.example.test.', 'www.example.test. 300 IN A 192.0.2.80']);
  const srv = await dig('_sip._tcp.example.test', 'SRV');
  assert.deepEqual(srv.answer, ['_sip._tcp.example.test. 3600 IN SRV 10 60 5060 sip.example.test.']);
  assert.deepEqual(srv.additional, ['sip.example.test. 3600 IN A 192.0.2.60']);
});

test('dig: NXDOMAIN and NODATA carry the SOA in authority', async () => {
  const nx = await dig('nope.example.test', 'A');
  assert.equal(nx.status, 'NXDOMAIN');
  assert.deepEqual(nx.flags, ['aa', 'qr', 'rd']);
  assert.deepEqual(nx.answer, []);
  assert.deepEqual(nx.authority, [SOA]);
  const nodata = await dig('www.example.test', 'MX');
  assert.equal(nodata.status, 'NOERROR');
  assert.deepEqual([nodata.answer, nodata.authority], [[], [SOA]]);
  const ent = await dig('a.b.example.test', 'A');
  assert.deepEqual([ent.status, ent.authority], ['NOERROR', [SOA]], 'an empty non-terminal is NODATA');
});

test('dig +tcp: the same answer over TCP', async () => {
  const before = server.stats.tcpConnections;
  const r = await dig('+tcp', 'www.example.test', 'AAAA');
  assert.deepEqual(r.answer, ['www.example.test. 300 IN AAAA 2001:db8::80']);
  assert.equal(server.stats.tcpConnections, before + 1);
});

test('dig: an answer over 512 bytes sets TC without EDNS; dig then retries over TCP and gets all 60', async () => {
  const cut = await dig('+noedns', '+ignore', 'big.example.test', 'A');
  assert.deepEqual(cut.flags, ['aa', 'qr', 'rd', 'tc']);
  assert.deepEqual(cut.answer, [], 'the RRset is dropped whole, not cut in the middle');
  const full = await dig('+noedns', 'big.example.test', 'A');
  assert.match(full.text, /Truncated, retrying in TCP mode/);
  assert.deepEqual(full.answer.sort(), [...BIG].sort());
  assert.equal(full.flags.includes('tc'), false);
});

test('dig: with EDNS the big answer fits in one datagram, unless the client asks for less', async () => {
  const r = await dig('+bufsize=1232', 'big.example.test', 'A');
  assert.doesNotMatch(r.text, /Truncated/);
  assert.equal(r.answer.length, 60);
  const small = await dig('+bufsize=600', '+ignore', 'big.example.test', 'A');
  assert.ok(small.flags.includes('tc'));
});

test('dig +norec: RD is copied, so it is off in the answer', async () => {
  const r = await dig('+norec', 'www.example.test', 'A');
  assert.deepEqual(r.flags, ['aa', 'qr']);
  assert.deepEqual(r.answer, ['www.example.test. 300 IN A 192.0.2.80']);
});

test('dig: a name in no zone is REFUSED, with no records and AA off', async () => {
  const r = await dig('www.example.org', 'A');
  assert.equal(r.status, 'REFUSED');
  assert.deepEqual(r.flags, ['qr', 'rd']);
  assert.deepEqual([r.answer, r.authority], [[], []]);
});

test('dig: below a delegation, a referral with glue and AA off', async () => {
  const r = await dig('+norec', 'host.sub.example.test', 'A');
  assert.equal(r.status, 'NOERROR');
  assert.deepEqual(r.flags, ['qr']);
  assert.deepEqual(r.authority, ['sub.example.test. 3600 IN NS ns.sub.example.test.']);
  assert.deepEqual(r.additional, ['ns.sub.example.test. 3600 IN A 192.0.2.100']);
});

test('dig: a wildcard answers under the name asked', async () => {
  assert.deepEqual((await dig('anything.wild.example.test', 'A')).answer, ['anything.wild.example.test. 3600 IN A 192.0.2.42']);
});

test('dig: EDNS version 1 gets BADVERS; opcode STATUS gets NOTIMP', async () => {
  const badvers = await dig('+edns=1', '+noednsneg', 'www.example.test', 'A');
  assert.equal(badvers.status, 'BADVERS');
  assert.match(badvers.text, /EDNS: version: 0,/);
  assert.equal((await dig('+opcode=status', 'www.example.test', 'A')).status, 'NOTIMP');
});

// ---- raw messages through the socket library ----

function query(name: string, type: number, fields: Partial<DnsMessage> = {}): DnsMessage {
  return emptyMessage({ id: 0x4242, questions: [{ name, type, class: 1 }], ...fields });
}

/** Sends one datagram and waits a little for the reply; null if none came. */
async function exchange(bytes: Uint8Array, wait = 300, port = server.port): Promise<Uint8Array | null> {
  const fd = await client.socket('udp');
  try {
    await client.sendto(fd, bytes, LOOPBACK, port);
    const buffer = new Uint8Array(65_536);
    try {
      const got = await client.recvfrom(fd, buffer, { timeout: wait });
      return buffer.slice(0, got.bytes);
    } catch (e: any) {
      if (e.code === 'ETIMEDOUT') return null;
      throw e;
    }
  } finally {
    await client.close(fd);
  }
}

async function ask(message: DnsMessage): Promise<DnsMessage> {
  const reply = await exchange(encodeMessage(message), 2000);
  assert.ok(reply, 'the server answered');
  return decodeMessage(reply);
}

/** A header: ID, flags and the four counts. */
function header(id: number, flags: number, qd: number, an = 0, ns = 0, ar = 0): number[] {
  return [id >> 8, id & 0xff, flags >> 8, flags & 0xff, 0, qd, 0, an, 0, ns, 0, ar];
}

async function stillAnswers(): Promise<void> {
  const reply = await ask(query('www.example.test', TYPE.A, { id: 7 }));
  assert.equal(reply.id, 7);
  assert.deepEqual(reply.answers.map((r) => r.data), ['192.0.2.80']);
}

test('fewer than 12 bytes, or a response, is dropped without a word', async () => {
  const dropped = server.stats.dropped;
  for (const bytes of [new Uint8Array(0), Uint8Array.of(0x12), new Uint8Array(11)]) assert.equal(await exchange(bytes), null);
  const response = encodeMessage(query('www.example.test', TYPE.A, { qr: true, aa: true }));
  assert.equal(await exchange(response), null);
  assert.equal(server.stats.dropped, dropped + 4);
  await stillAnswers();
});

test('a good header with a bad body gets FORMERR with the same ID and RD', async () => {
  const cases = [
    // A label that runs past the end.
    Uint8Array.from([...header(0xbeef, 0x0100, 1), 63, 0x61, 0x62]),
    // A compression pointer to itself.
    Uint8Array.from([...header(0xbeef, 0x0100, 1), 0xc0, 12, 0, 1, 0, 1]),
    // Counts that cannot fit in the bytes.
    Uint8Array.from([...header(0xbeef, 0x0100, 1, 0xffff), 0, 0, 1, 0, 1]),
    // A question cut off before its class.
    Uint8Array.from([...header(0xbeef, 0x0100, 1), 3, 0x77, 0x77, 0x77, 0, 0, 1]),
  ];
  for (const bytes of cases) {
    const reply = decodeMessage((await exchange(bytes, 2000))!);
    assert.deepEqual([reply.id, reply.qr, reply.rd, reply.rcode, reply.questions.length], [0xbeef, true, true, RCODE.FORMERR, 0]);
  }
  await stillAnswers();
});

test('not exactly one question is FORMERR; another opcode is NOTIMP; a zone transfer is REFUSED', async () => {
  assert.equal((await ask(emptyMessage({ id: 1 }))).rcode, RCODE.FORMERR);
  const two = query('www.example.test', TYPE.A, { questions: [{ name: 'www.example.test', type: TYPE.A, class: 1 }, { name: 'mail.example.test', type: TYPE.A, class: 1 }] });
  assert.equal((await ask(two)).rcode, RCODE.FORMERR);
  const update = await ask(query('example.test', TYPE.SOA, { opcode: OPCODE.UPDATE }));
  assert.deepEqual([update.rcode, update.opcode], [RCODE.NOTIMP, OPCODE.UPDATE]);
  assert.equal((await ask(query('example.test', 252))).rcode, RCODE.REFUSED);
  // Two hundred questions under another opcode: NOTIMP, without an echo that would not fit.
  const many = Uint8Array.from([...header(0x5151, OPCODE.STATUS << 11, 200), ...Array.from({ length: 200 }, () => [0, 0, 1, 0, 1]).flat()]);
  const notimp = decodeMessage((await exchange(many, 2000))!);
  assert.deepEqual([notimp.id, notimp.rcode, notimp.questions.length], [0x5151, RCODE.NOTIMP, 0]);
  assert.equal((await ask(query('www.example.test', TYPE.A, { questions: [{ name: 'www.example.test', type: TYPE.A, class: 3 }] }))).rcode, RCODE.REFUSED, 'class CH is not our zone');
});

test('a repeated question is answered from the kept bytes: its own ID, its own spelling, the same counts', () => {
  const first = server.respond(encodeMessage(query('WwW.Example.TEST', TYPE.A, { id: 0x1111 })), 'udp')!;
  const again = server.respond(encodeMessage(query('WwW.Example.TEST', TYPE.A, { id: 0x2222 })), 'udp')!;
  const other = server.respond(encodeMessage(query('www.example.test', TYPE.A, { id: 0x3333 })), 'udp')!;
  assert.deepEqual(again.subarray(2), first.subarray(2));
  assert.deepEqual([decodeMessage(first).id, decodeMessage(again).id, decodeMessage(other).id], [0x1111, 0x2222, 0x3333]);
  assert.equal(decodeMessage(again).questions[0]!.name, 'WwW.Example.TEST');
  assert.equal(decodeMessage(other).questions[0]!.name, 'www.example.test');
  // A kept truncated answer and a kept FORMERR still count each time; TCP keeps its own, untruncated.
  const { truncated, formErrors } = server.stats;
  for (let i = 0; i < 3; i++) {
    assert.equal(decodeMessage(server.respond(encodeMessage(query('big.example.test', TYPE.A, { id: i })), 'udp')!).tc, true);
    assert.equal(decodeMessage(server.respond(Uint8Array.from([...header(i, 0x0100, 1), 63, 0x61]), 'udp')!).rcode, RCODE.FORMERR);
  }
  assert.equal(decodeMessage(server.respond(encodeMessage(query('big.example.test', TYPE.A, { id: 9 })), 'tcp')!).answers.length, 60);
  assert.deepEqual([server.stats.truncated - truncated, server.stats.formErrors - formErrors], [3, 3]);
});

test('UDP sizes: 512 without EDNS, the client EDNS size up to ours, below 512 read as 512', async () => {
  const plain = await exchange(encodeMessage(query('big.example.test', TYPE.A)), 2000);
  assert.ok(plain!.length <= 512);
  assert.equal(decodeMessage(plain!).tc, true);
  const edns = { udpSize: 1232, version: 0, dnssecOk: true, options: [] };
  const big = await ask(query('big.example.test', TYPE.A, { edns }));
  assert.deepEqual([big.tc, big.answers.length, big.edns?.udpSize, big.edns?.dnssecOk], [false, 60, 1232, true]);
  const tiny = await exchange(encodeMessage(query('big.example.test', TYPE.A, { edns: { ...edns, udpSize: 100 } })), 2000);
  assert.ok(tiny!.length <= 512 && decodeMessage(tiny!).tc);
});

test('random datagrams (seeded): every one with a header and QR=0 is answered, the rest dropped, and the server goes on', async (t) => {
  const seed = 0x646e_7321;
  t.diagnostic(`seed ${seed}`);
  const rand = xorshift(seed);
  const fd = await client.socket('udp');
  const sent = new Map<number, number>();
  let eligible = 0;
  const queries = server.stats.queries;
  for (let i = 0; i < 300; i++) {
    const bytes = randomBytesFrom(rand, rand() % 300);
    if (bytes.length >= 2) bytes.writeUInt16BE(i, 0);
    // Half of them look like queries so that most reach the decoder.
    if (bytes.length >= 3 && i % 2 === 0) bytes[2] = bytes[2]! & 0x07;
    if (bytes.length >= 12 && (bytes[2]! & 0x80) === 0) {
      eligible++;
      sent.set(i, bytes.length);
    }
    await client.sendto(fd, bytes, LOOPBACK, server.port);
    // Client and server share one event loop, and a sendto the kernel takes at once does not
    // yield to it: unpaced, the burst overflows the server socket's kernel buffer (real UDP loss).
    if (i % 10 === 9) await new Promise((resolve) => setTimeout(resolve, 2));
  }
  const buffer = new Uint8Array(65_536);
  const answered = new Set<number>();
  for (;;) {
    let n: number;
    try {
      n = (await client.recvfrom(fd, buffer, { timeout: 500 })).bytes;
    } catch (e: any) {
      if (e.code === 'ETIMEDOUT') break;
      throw e;
    }
    const reply = decodeMessage(buffer.subarray(0, n));
    assert.equal(reply.qr, true);
    assert.ok(sent.has(reply.id), `a reply to ${reply.id}, which should have been dropped`);
    answered.add(reply.id);
  }
  await client.close(fd);
  assert.equal(answered.size, eligible);
  assert.equal(server.stats.queries, queries + 300);
  await stillAnswers();
});

// ---- TCP through the socket library ----

async function readReply(fd: number, lib_: SocketLibrary = client): Promise<DnsMessage> {
  const prefix = await readExactly(lib_, fd, 2);
  return decodeMessage(await readExactly(lib_, fd, prefix.readUInt16BE(0)));
}

test('TCP: pipelined queries in one write are answered in order on one connection', async () => {
  const fd = await dial(client, server.port);
  const asks = [query('www.example.test', TYPE.A, { id: 1 }), query('example.test', TYPE.MX, { id: 2 }), query('nope.example.test', TYPE.A, { id: 3 })];
  await client.write(fd, Buffer.concat(asks.map((m) => frameTcp(encodeMessage(m)))));
  const replies = [await readReply(fd), await readReply(fd), await readReply(fd)];
  assert.deepEqual(replies.map((r) => [r.id, r.rcode, r.answers.length]), [[1, RCODE.NOERROR, 1], [2, RCODE.NOERROR, 2], [3, RCODE.NXDOMAIN, 0]]);
  // A query dribbled a byte at a time, then garbage, then a good query: still in order.
  const slow = frameTcp(encodeMessage(query('mail.example.test', TYPE.A, { id: 4 })));
  for (const byte of slow) await client.write(fd, Uint8Array.of(byte));
  assert.deepEqual((await readReply(fd)).answers.map((r) => r.data), ['192.0.2.25']);
  await client.write(fd, Uint8Array.from([0, 5, 1, 2, 3, 4, 5, 0, 14, ...header(0xbeef, 0, 1), 9, 9]));
  await client.write(fd, frameTcp(encodeMessage(query('big.example.test', TYPE.A, { id: 5 }))));
  const formerr = await readReply(fd);
  assert.deepEqual([formerr.id, formerr.rcode], [0xbeef, RCODE.FORMERR]);
  const big = await readReply(fd);
  assert.deepEqual([big.id, big.tc, big.answers.length], [5, false, 60]);
  await client.close(fd);
});

/** A second server with its own library, to watch its descriptors and try its limits. */
async function ownServer(options: DnsServerOptions): Promise<{ lib: SocketLibrary; server: DnsServer }> {
  const own = kernelLibrary('dns-server-2');
  const s = await serveDns(own, [zone], { address: LOOPBACK, port: 0, ...options });
  // Closed by after() too, so a failing test cannot leave it holding the process open.
  extraServers.push(s);
  return { lib: own, server: s };
}

test('TCP: an idle connection is closed after the idle timeout', async () => {
  const { server: s } = await ownServer({ idleTimeout: 200 });
  const fd = await dial(client, s.port);
  const started = performance.now();
  assert.equal(await client.read(fd, new Uint8Array(10), undefined, { timeout: 5000 }), 0);
  const waited = performance.now() - started;
  assert.ok(waited >= 150 && waited < 2000, `closed after ${waited.toFixed(0)} ms`);
  await client.close(fd);
  // A byte now and then does not keep it open: each query must be whole in time.
  const dribble = await dial(client, s.port);
  const started2 = performance.now();
  let closed = false;
  for (let i = 0; i < 20 && !closed; i++) {
    try {
      await client.write(dribble, Uint8Array.of(0));
      closed = (await client.read(dribble, new Uint8Array(10), undefined, { timeout: 50 })) === 0;
    } catch (e: any) {
      if (e.code !== 'ETIMEDOUT') closed = true;
    }
  }
  assert.ok(closed, 'the dribbling client was cut off');
  assert.ok(performance.now() - started2 < 1000);
  await client.close(dribble);
  await s.close();
});

test('close() stops both loops and closes every descriptor, open connections included', async () => {
  const { lib: own, server: s } = await ownServer({});
  const idle = await dial(client, s.port);
  await client.write(idle, frameTcp(encodeMessage(query('www.example.test', TYPE.A, { id: 1 }))));
  assert.equal((await readReply(idle)).id, 1);
  assert.equal(own.openCount, 3, 'UDP, the listener and one connection');
  await s.close();
  assert.equal(own.openCount, 0);
  assert.equal(await client.read(idle, new Uint8Array(10)), 0, 'the connection was closed');
  await client.close(idle);
  assert.equal(await exchange(encodeMessage(query('www.example.test', TYPE.A)), 300, s.port), null);
  await s.close();
});

// ---- the command ----

test('protostack dns-serve: prints where it serves, answers dig, stops on SIGTERM', async () => {
  const script = `import(${JSON.stringify(new URL('../../src/cli/dns-serve.js', import.meta.url).href)}).then((m) => m.dnsServeCommand(${JSON.stringify([FIXTURE, '--port', '0'])})).then((code) => { process.exitCode = code; })`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    for (let i = 0; i < 100 && !out.includes('\n'); i++) await new Promise((r) => setTimeout(r, 50));
    const m = /^dns-serve: example\.test \(81 records\) on 127\.0\.0\.1:(\d+) udp\+tcp\n/.exec(out);
    assert.ok(m, `the first line says where: ${out}`);
    const { stdout } = await run('dig', ['@127.0.0.1', '-p', m[1]!, '+time=2', '+tries=1', '+short', 'www.example.test', 'A']);
    assert.equal(stdout, '192.0.2.80\n');
  } finally {
    child.kill('SIGTERM');
  }
  assert.equal(await exited, 0);
  assert.match(out, /SIGTERM: stopped after 1 queries, 1 responses/);
});

test('protostack dns-serve: a bad zone file exits 1 naming the file and line', async () => {
  const script = `import(${JSON.stringify(new URL('../../src/cli/dns-serve.js', import.meta.url).href)}).then((m) => m.dnsServeCommand(${JSON.stringify([FIXTURE + '.missing'])})).then((code) => { process.exitCode = code; })`;
  await assert.rejects(run(process.execPath, ['--input-type=module', '-e', script]), (e: any) => e.code === 1 && /protostack dns-serve: ERR_DNS_BAD_CONFIG: .*example\.test\.zone\.missing: ENOENT/.test(e.stderr));
});
