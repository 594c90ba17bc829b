/** package.json's subpath exports: each entry loads by the package's name, has its types, and offers what it says. */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { exports: Record<string, { types: string; default: string }> };

/** A few names each entry must offer. */
const EXPECTED: Record<string, string[]> = {
  '.': ['SocketLibrary', 'KernelStack', 'UserStack', 'Network', 'Resolver', 'serve', 'fetch', 'renderTimeline', 'ProtostackError', 'writePcapFile', 'TunDevice'],
  './wire': ['parseTcp', 'emitIpv4', 'hostPort', 'dns', 'http'],
  './link': ['Network', 'VirtualClock', 'PcapWriter', 'CryptoRandom'],
  './user': ['UserStack', 'DEFAULT_TCP', 'Network', 'VirtualClock', 'SocketError'],
  './kernel': ['KernelStack', 'WOULD_BLOCK'],
  './socket': ['SocketLibrary', 'SocketError', 'DEFAULT_OPTIONS', 'defaultLibrary'],
  './dns': ['Resolver', 'serveDns', 'parseZone', 'DnsError'],
  './http': ['Agent', 'request', 'fetch', 'serve', 'HttpError'],
  './trace': ['TraceLog', 'renderTimeline', 'renderMermaid', 'renderHar', 'renderHtml', 'renderJson'],
  './packetdrill': ['parseScript', 'runScript', 'PacketdrillError'],
};

test('every subpath export loads by name, with its types, and offers its names', async () => {
  assert.deepEqual(Object.keys(pkg.exports).sort(), Object.keys(EXPECTED).sort());
  for (const [subpath, entry] of Object.entries(pkg.exports)) {
    assert.ok(existsSync(join(ROOT, entry.types)), `${subpath}: ${entry.types}`);
    const name = subpath === '.' ? 'protostack' : `protostack/${subpath.slice(2)}`;
    const module = (await import(name)) as Record<string, unknown>;
    for (const key of EXPECTED[subpath]!) assert.ok(key in module, `${name} exports ${key}`);
  }
});

test('the default library is the OS stack under Node', async () => {
  const { defaultLibrary } = (await import('protostack/socket')) as typeof import('../src/socket/index.js');
  const lib = defaultLibrary('test');
  assert.equal(lib.stack.name, 'kernel');
  await lib.closeAll();
});
