/**
 * The limits of `protostack serve` and `protostack dns-serve` as flags: in
 * --help, checked (a bad value is a usage error, exit 2), and in effect on a
 * running server (loopback, real clients: raw sockets and dig).
 */
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { decodeMessage, encodeMessage } from '../../src/wire/dns/message.js';
import { emptyMessage, TYPE } from '../../src/wire/dns/types.js';

const run = promisify(execFile);
const main = new URL('../../src/cli/main.js', import.meta.url).pathname;
const ZONE = new URL('../../../test/fixtures/example.test.zone', import.meta.url).pathname;

async function exitOf(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [main, ...args]);
    return { code: 0, stdout, stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, stdout: x.stdout, stderr: x.stderr };
  }
}

/** Starts the command and resolves with the port its banner names. */
async function start(args: string[], banner: RegExp): Promise<{ child: ChildProcess; port: number; stop(): Promise<number | null> }> {
  const child = spawn(process.execPath, [main, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d));
  child.stderr!.on('data', (d: Buffer) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  for (let i = 0; i < 100 && !banner.test(out); i++) await new Promise((r) => setTimeout(r, 50));
  const m = banner.exec(out);
  if (!m) {
    child.kill('SIGKILL');
    throw new Error(`no banner: ${out}`);
  }
  return {
    child,
    port: Number(m[1]),
    stop: async () => {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** A connection that sends nothing; resolves with how long until the server closed it (or `wait` if it did not). */
function silent(port: number, wait: number): Promise<{ closed: boolean; ms: number }> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const s = net.connect(port, '127.0.0.1');
    const done = (closed: boolean) => {
      clearTimeout(timer);
      s.destroy();
      resolve({ closed, ms: performance.now() - t0 });
    };
    const timer = setTimeout(() => done(false), wait);
    s.on('end', () => done(true));
    s.on('error', () => done(true));
  });
}

test('serve --help and dns-serve --help list the limits', async () => {
  const serve = await exitOf(['serve', '--help']);
  for (const flag of ['--max-connections', '--first-byte-timeout', '--headers-timeout', '--request-timeout', '--keep-alive-timeout']) assert.ok(serve.stdout.includes(flag), `serve --help lacks ${flag}`);
  const dns = await exitOf(['dns-serve', '--help']);
  for (const flag of ['--max-tcp', '--idle-timeout', '--udp-size', '--rate-limit']) assert.ok(dns.stdout.includes(flag), `dns-serve --help lacks ${flag}`);
});

test('bad limits are usage errors (exit 2) that name the flag', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'serve-flags-'));
  for (const [args, flag] of [
    [['serve', dir, '--max-connections', '0'], '--max-connections'],
    [['serve', dir, '--headers-timeout', 'soon'], '--headers-timeout'],
    [['serve', dir, '--first-byte-timeout', '-1'], '--first-byte-timeout'],
    [['serve', dir, '--keep-alive-timeout', '1e9'], '--keep-alive-timeout'],
    [['dns-serve', ZONE, '--udp-size', '100'], '--udp-size'],
    [['dns-serve', ZONE, '--max-tcp', '1.5'], '--max-tcp'],
    [['dns-serve', ZONE, '--idle-timeout', '0'], '--idle-timeout'],
    [['dns-serve', ZONE, '--rate-limit', 'many'], '--rate-limit'],
  ] as const) {
    const r = await exitOf([...args]);
    assert.equal(r.code, 2, `${args.join(' ')}: exit ${r.code} ${r.stderr}`);
    assert.ok(r.stderr.includes(flag), r.stderr);
  }
});

test('serve --first-byte-timeout closes a silent connection; --max-connections sheds the longest idle for a newcomer', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'serve-flags-'));
  writeFileSync(join(dir, 'a.txt'), 'hello\n');
  const s = await start(['serve', dir, '--port', '0', '--first-byte-timeout', '0.3'], /on http:\/\/127\.0\.0\.1:(\d+)\//);
  try {
    const r = await silent(s.port, 3000);
    assert.ok(r.closed && r.ms >= 250 && r.ms < 1500, `closed: ${r.closed} after ${r.ms.toFixed(0)} ms`);
  } finally {
    assert.equal(await s.stop(), 0);
  }
  const capped = await start(['serve', dir, '--port', '0', '--max-connections', '2', '--first-byte-timeout', '20'], /on http:\/\/127\.0\.0\.1:(\d+)\//);
  try {
    const first = silent(capped.port, 3000);
    await new Promise((r) => setTimeout(r, 100));
    const second = silent(capped.port, 1000);
    await new Promise((r) => setTimeout(r, 100));
    const { stdout } = await run('curl', ['-sS', '--max-time', '2', `http://127.0.0.1:${capped.port}/a.txt`]);
    assert.equal(stdout, 'hello\n');
    const [a, b] = await Promise.all([first, second]);
    assert.ok(a.closed && a.ms < 1000, `the oldest silent connection was closed after ${a.ms.toFixed(0)} ms`);
    assert.equal(b.closed, false);
  } finally {
    assert.equal(await capped.stop(), 0);
  }
});

test('dns-serve --udp-size and --rate-limit take effect', async () => {
  const s = await start(['dns-serve', ZONE, '--port', '0', '--udp-size', '512', '--rate-limit', '5'], /on 127\.0\.0\.1:(\d+) udp\+tcp/);
  try {
    const { stdout } = await run('dig', ['@127.0.0.1', '-p', String(s.port), '+time=2', '+tries=1', '+bufsize=4096', '+ignore', 'big.example.test', 'A']);
    assert.match(stdout, /;; flags:[a-z ]* tc[ ;]/, 'the 60-record answer does not fit 512 bytes');
    assert.match(stdout, /udp: 512/);
    // A burst of 20 queries from one socket: 5 answered fully (less the one dig used), the rest dropped or slipped.
    const sock = dgram.createSocket('udp4');
    const replies: Buffer[] = [];
    sock.on('message', (m) => replies.push(m));
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
    for (let i = 0; i < 20; i++) sock.send(encodeMessage(emptyMessage({ id: i, questions: [{ name: 'www.example.test', type: TYPE.A, class: 1 }] })), s.port, '127.0.0.1');
    await new Promise((r) => setTimeout(r, 500));
    sock.close();
    const full = replies.map((r) => decodeMessage(r)).filter((m) => !m.tc);
    assert.ok(full.length >= 3 && full.length <= 6, `${full.length} full answers`);
  } finally {
    assert.equal(await s.stop(), 0);
  }
});
