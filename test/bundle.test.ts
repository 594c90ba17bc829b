/**
 * The portable core bundles for a browser: esbuild, with platform 'browser',
 * bundles the package's user-stack entry (protostack/user: the stack and the
 * simulated network), the socket library (protostack/socket), DNS
 * (protostack/dns) and the HTTP server, and no node: import may be reached on
 * the way. The `#duplex`, `#default-library` and `#read-file` imports resolve
 * to their browser twins through package.json's "browser" conditions.
 *
 * The HTTP client is not in it yet: it reaches node:tls (https) and
 * node:stream (fetch's Response), which the control case below shows.
 */
import assert from 'node:assert/strict';
import { dirname, join, relative } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

const PORTABLE_ENTRY = [
  "export * from 'protostack/user';",
  "export * from 'protostack/socket';",
  "export * from 'protostack/dns';",
  "export { serve } from './dist/src/http/server/index.js';",
].join('\n');

/** Bundles `entry` for the browser; every node: import reached, as "importer → module". */
async function bundle(entry: string): Promise<{ reached: string[]; inputs: string[]; size: number }> {
  const reached: string[] = [];
  const noNode: Plugin = {
    name: 'no-node',
    setup(b) {
      b.onResolve({ filter: /^node:/ }, (args) => {
        reached.push(`${relative(ROOT, args.importer)} → ${args.path}`);
        return { path: args.path, external: true };
      });
    },
  };
  const result = await build({
    stdin: { contents: entry, resolveDir: ROOT, sourcefile: 'entry.js' },
    absWorkingDir: ROOT,
    bundle: true,
    write: false,
    platform: 'browser',
    format: 'esm',
    metafile: true,
    logLevel: 'silent',
    plugins: [noNode],
  });
  return { reached, inputs: Object.keys(result.metafile.inputs), size: result.outputFiles[0]!.contents.length };
}

test('the user stack, the simulated network, the socket library, DNS and the HTTP server bundle for a browser with no node: import', async () => {
  const { reached, inputs, size } = await bundle(PORTABLE_ENTRY);
  assert.deepEqual(reached, []);
  for (const file of ['dist/src/stack/user/stack.js', 'dist/src/link/network.js', 'dist/src/socket/library.js', 'dist/src/dns/resolver.js', 'dist/src/dns/server.js', 'dist/src/http/server/index.js'])
    assert.ok(inputs.includes(file), `${file} is in the bundle`);
  for (const twin of ['dist/src/socket/duplex-browser.js', 'dist/src/socket/default-browser.js', 'dist/src/dns/read-file-browser.js'])
    assert.ok(inputs.includes(twin), `the browser's ${twin}`);
  assert.ok(!inputs.some((f) => f.includes('/stack/kernel/') || f.endsWith('-node.js')), `no Node adapter: ${inputs.filter((f) => f.includes('kernel') || f.endsWith('-node.js'))}`);
  assert.ok(size > 50_000, `a real bundle, ${size} bytes`);
});

test('the check sees node: imports where they are: the kernel stack and the HTTP client', async () => {
  assert.ok((await bundle("export * from 'protostack/kernel';")).reached.some((r) => r.endsWith('→ node:net')));
  const http = (await bundle("export * from 'protostack/http';")).reached;
  assert.ok(http.some((r) => r.startsWith('dist/src/http/agent.js') && r.endsWith('→ node:tls')), http.join('\n'));
});

test("the browser twins fail with typed errors, not a crash: no OS stack, no Node streams, no files", async () => {
  const { defaultLibrary } = await import('../src/socket/default-browser.js');
  const { openDuplex } = await import('../src/socket/duplex-browser.js');
  const { readTextFile } = await import('../src/dns/read-file-browser.js');
  const { SocketLibrary } = await import('../src/socket/library.js');
  const { ProtostackError } = await import('../src/errors.js');
  assert.throws(() => defaultLibrary('resolver'), { name: 'SocketError', code: 'EOPNOTSUPP', message: /resolver: no OS stack in a browser; pass `lib`/ });
  const lib = null as unknown as InstanceType<typeof SocketLibrary>;
  assert.throws(() => openDuplex(lib, 3, 1024), { code: 'EOPNOTSUPP', call: 'toDuplex', fd: 3 });
  await assert.rejects(readTextFile('/etc/resolv.conf'), (e: unknown) => e instanceof ProtostackError && e.code === 'ENOENT');
});
