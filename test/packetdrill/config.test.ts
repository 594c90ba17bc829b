/**
 * Shell commands read as configuration: defaults.sh's sysctls onto TcpConfig
 * and the socket defaults, sysctls in their several spellings, and a skip
 * that names the sysctl or command the stack cannot honour.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyCommand, baseConfig } from '../../src/packetdrill/config.js';

test("defaults.sh maps onto Linux's values: buffers 540000/262144 with a 15 MiB maximum, timestamps, SACK, 5 SYN retries, cookies", () => {
  const c = baseConfig();
  assert.equal(applyCommand('../common/defaults.sh', c, true), null);
  assert.equal(c.recvBufferSize, 540_000);
  assert.equal(c.sendBufferSize, 262_144);
  assert.equal(c.maxRecvBuffer, 15 * 1024 * 1024);
  assert.deepEqual(c.tcp, { timestamps: true, sack: true, synRetries: 5, synAckRetries: 5, synCookies: 1, congestionControl: 'cubic' });
  // What the stack lacks but every script assumes is noted, so a difference shows as a FAIL.
  for (const a of ['tcp_recovery=1', 'tcp_early_retrans=4', 'tcp_dsack=1', 'tcp_frto=2']) assert.ok(c.assumed.includes(a), a);
});

test('sysctl lines: -q/-e flags, dotted or slashed names, several assignments, quoted values, set_sysctls.py with /proc paths and \\ continuations', () => {
  const c = baseConfig();
  const text = '../../common/defaults.sh\nsysctl -q net.ipv4.tcp_timestamps=0 net/ipv4/tcp_sack=0\nsysctl -e -q net.ipv4.tcp_min_tso_segs=2\n../common/set_sysctls.py /proc/sys/net/ipv4/tcp_syn_retries=3 \\\n   /proc/sys/net/ipv4/tcp_rmem="4096 87380 6291456"\n';
  assert.equal(applyCommand(text, c, true), null);
  assert.equal(c.tcp.timestamps, false);
  assert.equal(c.tcp.sack, false);
  assert.equal(c.tcp.synRetries, 3);
  assert.equal(c.recvBufferSize, 87_380);
  assert.equal(c.maxRecvBuffer, 6_291_456);
});

test('values the stack already behaves as are accepted: TLP off, tso/gso off, a pfifo qdisc, the restore script, reno', () => {
  const c = baseConfig();
  const text = 'sysctl -q net.ipv4.tcp_early_retrans=0\nethtool -K tun0 tso off gso off\ntc qdisc add dev tun0 root pfifo\nip tcp_metrics flush all > /dev/null 2>&1\n/tmp/sysctl_restore_${PPID}.sh\nsysctl -q net.ipv4.tcp_congestion_control=reno  # plain\n';
  assert.equal(applyCommand(text, c, true), null);
  assert.equal(c.tcp.congestionControl, 'newreno');
});

test('what the stack cannot honour is a skip that names it', () => {
  const cases: Array<[string, boolean, RegExp]> = [
    ['sysctl -q net.ipv4.tcp_ecn=2', true, /^ECN \(sysctl tcp_ecn=2\)$/],
    ['../common/set_sysctls.py /proc/sys/net/ipv4/tcp_slow_start_after_idle=1', true, /slow start after idle.*tcp_slow_start_after_idle=1/],
    ['sysctl -q net.ipv4.tcp_congestion_control=bbr', true, /congestion control bbr/],
    ['sysctl -q net.ipv4.tcp_frobnicate=1', true, /^sysctl tcp_frobnicate=1$/],
    ['sysctl -q net.core.rmem_max=1', true, /^sysctl net\.core\.rmem_max$/],
    ['tc qdisc replace dev tun0 root pfifo limit 0', true, /drops every packet/],
    ['tc qdisc replace dev tun0 root fq', true, /fq qdisc pacing/],
    ['echo 0 > /sys/module/tcp_cubic/parameters/hystart_detect', true, /CUBIC parameter hystart_detect=0/],
    ['rm -rf /', true, /^shell command `rm -rf \/`$/],
  ];
  for (const [text, outbound, reason] of cases) assert.match(applyCommand(text, baseConfig(), outbound) ?? 'accepted', reason, text);
  // fq only moves when data leaves: a script that checks no outgoing data does not depend on it.
  assert.equal(applyCommand('tc qdisc replace dev tun0 root fq', baseConfig(), false), null);
  // Linux's default hystart_detect is the CUBIC every script assumes.
  assert.equal(applyCommand('echo 3 > /sys/module/tcp_cubic/parameters/hystart_detect', baseConfig(), true), null);
});
