/**
 * The packetdrill parser on small scripts written here, one construct at a
 * time: options, the init and cleanup commands, every kind of event time,
 * TCP packets with their flags, numbers and options, system calls with
 * structs, flags and errno, code blocks and comments; and the typed error,
 * naming the file and the line, for lines it cannot read.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PacketdrillError, type Action, type Event, type Expr } from '../../src/packetdrill/ast.js';
import { parseScript } from '../../src/packetdrill/parser.js';

function events(text: string): Event[] {
  return parseScript(text, 'test.pkt').events;
}

function one(text: string): Action {
  const [e] = events(text);
  return e!.action;
}

function packet(text: string) {
  const a = one(text);
  assert.equal(a.kind, 'packet');
  return a.kind === 'packet' ? a.packet : assert.fail();
}

function syscall(text: string) {
  const a = one(text);
  assert.equal(a.kind, 'syscall');
  return a.kind === 'syscall' ? a.call : assert.fail();
}

function parseError(text: string): PacketdrillError {
  try {
    parseScript(text, 'bad.pkt');
  } catch (e) {
    assert.ok(e instanceof PacketdrillError, String(e));
    assert.equal(e.code, 'ERR_PACKETDRILL_PARSE');
    return e;
  }
  assert.fail('expected a parse error');
}

test('options at the head, with and without values; an init command before the first event and a cleanup command after the last', () => {
  const s = parseScript('--tolerance_usecs=10000\n--ip_version=ipv4\n--verbose\n`../common/defaults.sh\nsysctl -q net.ipv4.tcp_sack=1`\n0 close(3) = 0\n`/tmp/restore.sh`\n', 'x.pkt');
  assert.deepEqual(
    s.options.map((o) => [o.name, o.value, o.line]),
    [
      ['tolerance_usecs', '10000', 1],
      ['ip_version', 'ipv4', 2],
      ['verbose', null, 3],
    ],
  );
  assert.deepEqual(s.init, { text: '../common/defaults.sh\nsysctl -q net.ipv4.tcp_sack=1', line: 4 });
  assert.equal(s.events.length, 1);
  assert.equal(s.events[0]!.line, 6);
  assert.deepEqual(s.cleanup, { text: '/tmp/restore.sh', line: 7 });
});

test('event times: absolute, relative, any, absolute and relative ranges, in microseconds', () => {
  const times = events('0 close(3) = 0\n0.250 close(3) = 0\n+.1 close(3) = 0\n+0 close(3) = 0\n* close(3) = 0\n1.5~2 close(3) = 0\n+.3~+.303 close(3) = 0\n').map((e) => e.time);
  assert.deepEqual(times, [
    { kind: 'absolute', usecs: 0 },
    { kind: 'absolute', usecs: 250_000 },
    { kind: 'relative', usecs: 100_000 },
    { kind: 'relative', usecs: 0 },
    { kind: 'any' },
    { kind: 'absolute-range', usecs: 1_500_000, endUsecs: 2_000_000 },
    { kind: 'relative-range', usecs: 300_000, endUsecs: 303_000 },
  ]);
});

test('a blocking call: +0...0.100 and +.1...0.200 give the end time as written', () => {
  const [a, b, c] = events('+0...0.100 read(4, ..., 2000) = 2000\n+.1...0.200 accept(3, ..., ...) = 4\n+0...0.000 read(4, ..., 10) = 10\n');
  assert.equal(a!.action.kind === 'syscall' && a!.action.call.end?.usecs, 100_000);
  assert.deepEqual(b!.time, { kind: 'relative', usecs: 100_000 });
  assert.equal(b!.action.kind === 'syscall' && b!.action.call.end?.usecs, 200_000);
  assert.equal(c!.action.kind === 'syscall' && c!.action.call.end?.usecs, 0);
  assert.equal(syscall('0 read(4, ..., 10) = 10').end, null, 'no ... means the call must not block');
});

test('inbound and outbound TCP packets: flags, relative seq:end(len), ack, win, urg', () => {
  assert.deepEqual(packet('0 < S 0:0(0) win 32792'), { direction: '<', flags: 'S', ipInfo: null, seq: 0, end: 0, length: 0, ack: null, window: 32792, urgent: null, options: null });
  const p = packet('0 > P. 1:1001(1000) ack 1 win 257 urg 3');
  assert.deepEqual([p.direction, p.flags, p.seq, p.end, p.length, p.ack, p.window, p.urgent], ['>', 'P.', 1, 1001, 1000, 1, 257, 3]);
  for (const flags of ['S.', '.', 'F.', 'FP.', 'R', 'R.', 'SEW', 'SE.', 'E.']) assert.equal(packet(`0 > ${flags} 0:0(0)`).flags, flags);
  assert.equal(packet('0 < - 1:1001(1000) win 20000').flags, '-', 'no flags at all');
  assert.equal(packet('0 < [ect0] . 1:1(0) ack 1 win 320').ipInfo, 'ect0');
});

test('TCP options in the order written, nop and eol kept; <...> means "any options"', () => {
  const p = packet('0 < S 0:0(0) win 1 <mss 1000,sackOK,TS val 100 ecr 0,nop,wscale 7>');
  assert.deepEqual(p.options, [{ kind: 'mss', value: 1000 }, { kind: 'sackOK' }, { kind: 'TS', val: 100, ecr: 0 }, { kind: 'nop' }, { kind: 'wscale', value: 7 }]);
  assert.deepEqual(packet('0 < . 1:1(0) ack 1 win 1 <sack 1001:2001 3001:4001,nop,nop>').options, [
    {
      kind: 'sack',
      blocks: [
        [1001, 2001],
        [3001, 4001],
      ],
    },
    { kind: 'nop' },
    { kind: 'nop' },
  ]);
  assert.deepEqual(packet('0 < . 1:1(0) ack 1 win 1 <nop,nop,eol,eol>').options, [{ kind: 'nop' }, { kind: 'nop' }, { kind: 'eol' }, { kind: 'eol' }]);
  assert.equal(packet('0 > S 0:0(0) <...>').options, 'any');
  assert.deepEqual(packet('0 > S 0:0(0) <mss 1460,FO,nop,nop>').options![1], { kind: 'unsupported', name: 'TCP Fast Open option' });
  assert.deepEqual(packet('0 < S. 0:0(0) ack 1 win 1 <FO abcd1234,nop,nop>').options![0], { kind: 'unsupported', name: 'TCP Fast Open option' });
});

test('system calls: ..., numbers, symbols, [values], flag unions, NULL, the result with errno and its note', () => {
  const s = syscall('0 setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0');
  assert.equal(s.name, 'setsockopt');
  assert.deepEqual(s.args, [
    { kind: 'int', value: 3, text: '3' },
    { kind: 'word', name: 'SOL_SOCKET' },
    { kind: 'word', name: 'SO_REUSEADDR' },
    { kind: 'list', items: [{ kind: 'int', value: 1, text: '1' }] },
    { kind: 'int', value: 4, text: '4' },
  ]);
  assert.deepEqual(s.result, { kind: 'int', value: 0, text: '0' });
  const c = syscall('0 connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)');
  assert.deepEqual(c.args.slice(1), [{ kind: 'ellipsis' }, { kind: 'ellipsis' }]);
  assert.deepEqual(c.result, { kind: 'neg', value: { kind: 'int', value: 1, text: '1' } });
  assert.equal(c.errno, 'EINPROGRESS');
  assert.equal(c.note, 'Operation now in progress');
  const f = syscall('0 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0');
  assert.deepEqual(f.args[2], { kind: 'or', left: { kind: 'word', name: 'O_RDWR' }, right: { kind: 'word', name: 'O_NONBLOCK' } });
  assert.deepEqual(syscall('0 write(4, NULL, 1000) = -1 EFAULT (Bad address)').args[1], { kind: 'word', name: 'NULL' });
  assert.deepEqual(syscall('0 getsockopt(4, SOL_TCP, TCP_MAXSEG, [1100], [4]) = 0').args[4], { kind: 'list', items: [{ kind: 'int', value: 4, text: '4' }] });
  assert.equal(syscall('0 write(4, ..., 1000) = -1 EPIPE (Broken pipe)').errno, 'EPIPE');
  assert.equal(syscall('0 setsockopt(4, SOL_TCP, TCP_USER_TIMEOUT, [0x10], 4) = 0').args[3]!.kind, 'list');
});

test('struct literals over several lines: sendmsg with msg_name(...)=..., msg_iov(N)=[{..., len}, ...], msg_flags', () => {
  const [e] = events('+0 sendmsg(4, {msg_name(...)=...,\n      msg_iov(2)=[{..., 100}, {..., 0}],\n      msg_flags=0}, MSG_MORE) = 100\n+0 close(4) = 0\n');
  assert.equal(e!.line, 1);
  assert.equal(e!.text, '+0 sendmsg(4, {msg_name(...)=..., msg_iov(2)=[{..., 100}, {..., 0}], msg_flags=0}, MSG_MORE) = 100');
  const call = e!.action.kind === 'syscall' ? e!.action.call : assert.fail();
  const msg = call.args[1] as Extract<Expr, { kind: 'struct' }>;
  assert.equal(msg.kind, 'struct');
  assert.deepEqual(msg.items[0], { kind: 'bind', target: { kind: 'call', name: 'msg_name', args: [{ kind: 'ellipsis' }] }, value: { kind: 'ellipsis' } });
  assert.deepEqual(msg.items[1], {
    kind: 'bind',
    target: { kind: 'call', name: 'msg_iov', args: [{ kind: 'int', value: 2, text: '2' }] },
    value: {
      kind: 'list',
      items: [
        { kind: 'struct', items: [{ kind: 'ellipsis' }, { kind: 'int', value: 100, text: '100' }] },
        { kind: 'struct', items: [{ kind: 'ellipsis' }, { kind: 'int', value: 0, text: '0' }] },
      ],
    },
  });
  assert.deepEqual(msg.items[2], { kind: 'bind', target: { kind: 'word', name: 'msg_flags' }, value: { kind: 'int', value: 0, text: '0' } });
  assert.deepEqual(call.args[2], { kind: 'word', name: 'MSG_MORE' });
});

test('code blocks (one line or several), commands as events, comments of both kinds', () => {
  const [a, b, c] = events('/* a\n block */ 0 %{ assert tcpi_snd_cwnd == 10, tcpi_snd_cwnd }%   // trailing\n+0 %{\nx = 1\nassert x == 1\n}%\n+0 `tc qdisc add dev tun0 root pfifo`\n');
  assert.deepEqual(a!.action, { kind: 'code', text: ' assert tcpi_snd_cwnd == 10, tcpi_snd_cwnd ' });
  assert.equal(a!.line, 2);
  assert.deepEqual(b!.action, { kind: 'code', text: '\nx = 1\nassert x == 1\n' });
  assert.equal(b!.line, 3);
  assert.deepEqual(c!.action, { kind: 'command', text: 'tc qdisc add dev tun0 root pfifo' });
  assert.equal(c!.line, 7);
});

test('UDP and ICMP packet lines are read past and kept as unsupported, not a parse error', () => {
  assert.deepEqual(one('0 < udp (100)\n'), { kind: 'unsupported', what: 'UDP packets' });
});

test('lines it cannot read: a PacketdrillError with the file and the line, never anything else', () => {
  const cases: Array<[string, number, RegExp]> = [
    ['0 close(3) = 0\n+0 < S 0:0(0) win\n', 2, /expected the window/],
    ['0 close(3) = 0\n\n+0 < S 0:0(0)\n', 3, /inbound packet must say its window/],
    ['0 > S 0:0(0) <mss 1460,frob 3>\n', 1, /unknown TCP option 'frob'/],
    ['0 > S 0:0(0) <mss 1460,nop>\n', 1, /not padded to a multiple of 4/],
    ['0 > Q 0:0(0)\n', 1, /expected TCP flags/],
    ['0 > S 0:5(3)\n', 1, /length is not end − start/],
    ['0 close(3 = 0\n', 1, /expected '\)', found '='/],
    ['0 close(3)\n+1 close(4) = 0\n', 2, /expected '='/],
    ['+.3~.303 close(3) = 0\n', 1, /both relative/],
    ['0.5~0.2 close(3) = 0\n', 1, /ends before it starts/],
    ['0 close(3) = 0\n--tolerance_usecs=5\n', 2, /option --tolerance_usecs=5 after the first event/],
    ['0 close(3) = 0\n+0 `unterminated\n', 2, /never ends/],
    ['0 close(3) = 0 $\n', 1, /unexpected character/],
    ['0 frobnicate\n', 1, /expected a packet, a system call/],
    ['// nothing but a comment\n', 1, /no events/],
    ['0 < S 0:0(0) win 70000\n', 1, /does not fit 16 bits/],
  ];
  for (const [text, line, reason] of cases) {
    const e = parseError(text);
    assert.equal(e.line, line, `${JSON.stringify(text)}: ${e.message}`);
    assert.equal(e.file, 'bad.pkt');
    assert.match(e.reason, reason);
    assert.ok(e.message.startsWith(`bad.pkt:${line}: `), e.message);
  }
});
