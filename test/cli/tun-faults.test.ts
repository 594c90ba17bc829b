/**
 * Faults on protostack's side of a TUN (`--loss --reorder --duplicate`, the
 * link layer's FaultyDevice around the TunDevice, in both directions): a
 * 20 MiB transfer each way is byte-exact, Linux's TCP retransmitted what the
 * faults took (`ss -ti` on the connection), and no connection was reset
 * (the namespace's own TCP counters). 20 MiB from Linux to protostack (the
 * issue says 50; recovery shows within the first megabytes already), but only
 * 4 MiB from protostack to Linux: protostack's own sender recovers slowly from
 * 5% loss against Linux (some 2 Mbit/s; 20 MiB took 95 s here), a finding
 * for the congestion-control work, and the suite has to stay fast.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { LINUX, Netns, needNetns, PROTOSTACK, TUN } from '../link/netns.js';
import { MAIN } from './run.js';

const LARGE = 20 * 1024 * 1024;
const SMALL = 4 * 1024 * 1024;
const FAULTS = ['--loss', '0.05', '--reorder', '0.05', '--duplicate', '0.05', '--seed', '7'];
const TUN_FLAGS = ['--tun', TUN, '--address', `${PROTOSTACK}/24`, '--gateway', LINUX, ...FAULTS];
let dir = '';
let largeSha = '';
let smallSha = '';

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'protostack-tun-faults-'));
  const large = Buffer.alloc(LARGE);
  for (let at = 0, i = 0; at < LARGE; at += 32, i++) createHash('sha256').update(`f${i}`).digest().copy(large, at);
  writeFileSync(join(dir, 'large.bin'), large);
  largeSha = createHash('sha256').update(large).digest('hex');
  writeFileSync(join(dir, 'small.bin'), large.subarray(0, SMALL));
  smallSha = createHash('sha256').update(large.subarray(0, SMALL)).digest('hex');
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** The namespace's TCP counters from /proc/net/snmp (per namespace), by name. */
async function tcpCounters(ns: Netns): Promise<Record<string, number>> {
  const snmp = (await ns.exec('cat', ['/proc/net/snmp'])).stdout.split('\n').filter((l) => l.startsWith('Tcp:'));
  const names = snmp[0]!.split(/\s+/).slice(1);
  const values = snmp[1]!.split(/\s+/).slice(1).map(Number);
  return Object.fromEntries(names.map((n, i) => [n, values[i]!]));
}

/** The largest total of retransmissions `ss -ti` showed on connections matching `filter` while `running` lasts. */
async function watchRetrans(ns: Netns, filter: string[], running: () => boolean): Promise<{ retrans: number; seen: string }> {
  let retrans = 0;
  let seen = '';
  for (let i = 0; i < 1200 && running(); i++) {
    const info = (await ns.exec('ss', ['-tinH', ...filter])).stdout;
    const m = /retrans:\d+\/(\d+)/.exec(info);
    if (m) retrans = Math.max(retrans, Number(m[1]));
    if (info.trim() !== '') seen = info;
    await new Promise((r) => setTimeout(r, 100));
  }
  return { retrans, seen };
}

test('under 5% loss, reordering and duplication on the TUN, 20 MiB in and 4 MiB out are byte-exact; Linux retransmitted, nothing was reset', async (t) => {
  if (!needNetns(t)) return;
  const ns = await Netns.create();
  try {
    // Linux → protostack: get --tun from Python's http.server; Linux's TCP is the sender, so its ss shows the retransmissions.
    ns.start('python3', ['-m', 'http.server', '8000', '--bind', LINUX], { cwd: dir });
    await ns.waitForPort(8000);
    const out = join(dir, `got-${ns.name}.bin`);
    const get = ns.start('node', [MAIN, 'get', `http://${LINUX}:8000/large.bin`, '-o', out, ...TUN_FLAGS]);
    const exited = new Promise<number | null>((resolve) => get.once('exit', (code) => resolve(code)));
    const watched = await watchRetrans(ns, ['sport', '= :8000'], () => get.exitCode === null);
    assert.equal(await exited, 0, get.output());
    assert.equal(createHash('sha256').update(readFileSync(out)).digest('hex'), largeSha);
    rmSync(out);
    assert.ok(watched.retrans > 0, `Linux retransmitted to protostack: ss -ti showed ${watched.seen}`);

    // protostack → Linux: curl from serve --tun; the faults drop Linux's ACKs and protostack's data alike.
    const server = ns.start('node', [MAIN, 'serve', dir, '--port', '80', ...TUN_FLAGS]);
    await ns.waitFor(server, /serving .* on http:\/\/10\.77\.0\.2:80/);
    const down = await ns.exec('bash', ['-c', `curl -sS --max-time 120 http://${PROTOSTACK}/small.bin | sha256sum`], 150_000);
    assert.equal(down.code, 0, down.stderr);
    assert.equal(down.stdout.split(' ')[0], smallSha);

    const tcp = await tcpCounters(ns);
    assert.equal(tcp['EstabResets'], 0, 'no established connection was reset');
    assert.equal(tcp['AttemptFails'], 0, 'no connection attempt failed');
    assert.ok(tcp['RetransSegs']! > 0, 'the namespace counts retransmitted segments');
  } finally {
    await ns.destroy();
  }
});

test('fault flags: bad values are usage errors; without --tun they say so', async () => {
  const { cli } = await import('./run.js');
  const bad = await cli(['serve', '.', '--tun', TUN, '--address', `${PROTOSTACK}/24`, '--loss', '0.9']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--loss wants a probability from 0 to 0\.5, not '0\.9'/);
  const delay = await cli(['get', 'http://10.77.0.1/', '--tun', TUN, '--address', `${PROTOSTACK}/24`, '--delay', 'soon']);
  assert.equal(delay.code, 2);
  assert.match(delay.stderr, /--delay wants whole milliseconds/);
  const alone = await cli(['resolve', 'x.test', '--reorder', '0.1']);
  assert.equal(alone.code, 2);
  assert.match(alone.stderr, /--reorder needs --tun/);
});
