/**
 * TunDevice against Linux's own TCP/IP: a UserStack in this process attached,
 * through the helper, to a TUN interface in a network namespace the test
 * makes (test/link/netns.ts). Linux pings it, refuses it, is refused by it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FrameReader, TunError, writeFrame } from '../../src/link/tun.js';
import { TunDevice } from '../../src/link/tun-node.js';
import { WallClock } from '../../src/link/wall-clock.js';
import { SocketLibrary } from '../../src/socket/library.js';
import { UserStack } from '../../src/stack/user/stack.js';
import { LINUX, Netns, needNetns, PROTOSTACK, TUN } from './netns.js';

test('FrameReader: frames cut anywhere across chunks come out whole, in order', () => {
  const packets = [new Uint8Array(0), new Uint8Array([1]), new Uint8Array(300).fill(7), new Uint8Array(65535).fill(9)];
  const stream = new Uint8Array(packets.reduce((n, p) => n + 2 + p.length, 0));
  let at = 0;
  for (const p of packets) at = writeFrame(stream, at, p);
  for (const cut of [1, 2, 3, 301, 4096]) {
    const got: Uint8Array[] = [];
    const reader = new FrameReader((f) => got.push(f.slice()));
    for (let i = 0; i < stream.length; i += cut) reader.push(stream.subarray(i, i + cut));
    assert.deepEqual(got, packets, `chunks of ${cut} bytes`);
  }
});

test('TunDevice.open: a bad name or MTU is ERR_TUN_ARGUMENT before anything runs', async () => {
  await assert.rejects(TunDevice.open('a/b'), (e: TunError) => e instanceof TunError && e.code === 'ERR_TUN_ARGUMENT');
  await assert.rejects(TunDevice.open('x'.repeat(16)), (e: TunError) => e.code === 'ERR_TUN_ARGUMENT');
  await assert.rejects(TunDevice.open('tun9', { mtu: 40 }), (e: TunError) => e.code === 'ERR_TUN_ARGUMENT');
});

test('TunDevice.open: each way it can fail is a TunError whose message names the fix', async (t) => {
  if (!needNetns(t)) return;
  const ns = await Netns.create();
  try {
    const open = (name: string, extra: string[] = []) => TunDevice.open(name, { wrapper: [...ns.wrapper, ...extra], timeoutMs: 20_000 });
    await assert.rejects(open('nosuch0'), (e: TunError) => {
      assert.equal(e.code, 'ERR_TUN_NO_INTERFACE');
      assert.match(e.message, /ip tuntap add nosuch0 mode tun user \S+/);
      return true;
    });
    // Not a TUN: a TAP interface exists, but TUNSETIFF with IFF_TUN will not attach to it.
    await ns.ip('tuntap', 'add', 'pstap0', 'mode', 'tap');
    await assert.rejects(open('pstap0'), (e: TunError) => e.code === 'ERR_TUN_NOT_TUN' && /pstap0 is not a TUN/.test(e.message));
    // Another user's interface: the helper run as nobody may not attach to one made for root.
    // (An interface made with no user at all is anyone's: Linux checks the owner only when one is set.)
    await ns.ip('tuntap', 'add', 'psroot0', 'mode', 'tun', 'user', 'root');
    await assert.rejects(open('psroot0', ['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups']), (e: TunError) => {
      assert.equal(e.code, 'ERR_TUN_PERMISSION', e.message);
      assert.match(e.message, /ip tuntap add psroot0 mode tun user/);
      return true;
    });
    // In use: a second attach to a single-queue interface is refused.
    const first = await open(TUN);
    try {
      await assert.rejects(open(TUN), (e: TunError) => e.code === 'ERR_TUN_BUSY');
    } finally {
      await first.close();
    }
    // Closed, it left nothing running, and the interface is free again.
    assert.throws(() => process.kill(first.pid!, 0), /ESRCH/);
    const again = await open(TUN);
    await again.close();
  } finally {
    await ns.destroy();
  }
});

interface Attached {
  ns: Netns;
  device: TunDevice;
  stack: UserStack;
  lib: SocketLibrary;
  close(): Promise<void>;
}

async function attach(): Promise<Attached> {
  const ns = await Netns.create();
  const device = await TunDevice.open(TUN, { wrapper: ns.wrapper });
  const stack = new UserStack({ clock: new WallClock(), interfaces: [{ device, address: PROTOSTACK, prefixLength: 24 }] });
  const lib = new SocketLibrary(stack, { label: 'test' });
  return {
    ns,
    device,
    stack,
    lib,
    close: async () => {
      await lib.closeAll();
      await device.close();
      await ns.destroy();
    },
  };
}

test('ICMP echo both ways: Linux pings the user stack, the user stack pings Linux', async (t) => {
  if (!needNetns(t)) return;
  const a = await attach();
  try {
    const ping = await a.ns.exec('ping', ['-c', '3', '-i', '0.2', '-W', '2', '-s', '1000', PROTOSTACK]);
    assert.equal(ping.code, 0, ping.stdout + ping.stderr);
    assert.match(ping.stdout, /3 packets transmitted, 3 received/);
    assert.equal(a.stack.counters.get('icmp.echo'), 3);
    const rtt = await a.stack.ping(LINUX, 2000);
    assert.ok(rtt >= 0 && rtt < 2000, `rtt ${rtt}`);
  } finally {
    await a.close();
  }
});

test('IPv6 packets from Linux are counted and dropped, never handed to the IPv4 stack', async (t) => {
  if (!needNetns(t)) return;
  const a = await attach();
  try {
    await a.ns.ip('-6', 'addr', 'add', 'fd77::1/64', 'dev', TUN, 'nodad');
    await a.ns.exec('ping', ['-6', '-c', '1', '-W', '1', 'fd77::2']);
    assert.ok(a.device.stats.ipv6Dropped >= 1, `ipv6Dropped ${a.device.stats.ipv6Dropped}`);
    assert.equal(a.stack.counters.get('ipv4.bad-version') ?? 0, 0);
  } finally {
    await a.close();
  }
});

test('a connect to a closed Linux port is ECONNREFUSED (Linux answers RST)', async (t) => {
  if (!needNetns(t)) return;
  const a = await attach();
  try {
    const fd = await a.lib.socket('tcp');
    await assert.rejects(a.lib.connect(fd, LINUX, 9, { timeout: 5000 }), (e: Error & { code?: string }) => e.code === 'ECONNREFUSED');
  } finally {
    await a.close();
  }
});

test("Linux's ICMP port unreachable reaches the UDP socket that sent to the closed port, and only it", async (t) => {
  if (!needNetns(t)) return;
  const a = await attach();
  try {
    const connected = await a.lib.socket('udp');
    await a.lib.connect(connected, LINUX, 9);
    const bystander = await a.lib.socket('udp');
    await a.lib.bind(bystander, PROTOSTACK, 0);
    await a.lib.write(connected, new Uint8Array([1, 2, 3]));
    await assert.rejects(a.lib.read(connected, new Uint8Array(16), undefined, { timeout: 5000 }), (e: Error & { code?: string }) => e.code === 'ECONNREFUSED');
    assert.equal(await a.lib.readable(bystander), 0);
    assert.ok((a.stack.counters.get('icmp.error-in') ?? 0) >= 1);
  } finally {
    await a.close();
  }
});

test("a connect from Linux to a closed user-stack port gets the user stack's RST", async (t) => {
  if (!needNetns(t)) return;
  const a = await attach();
  try {
    const curl = await a.ns.exec('curl', ['-sS', '--max-time', '5', `http://${PROTOSTACK}:81/`]);
    assert.equal(curl.code, 7, curl.stderr);
    assert.match(curl.stderr, /Connection refused|Couldn't connect/);
  } finally {
    await a.close();
  }
});
