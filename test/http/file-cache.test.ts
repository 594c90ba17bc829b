/**
 * The in-memory file cache of staticFiles (src/http/file-cache.ts): a kept
 * file is answered only while it is still the same file at the same real
 * path. Each case serves a file (so it is kept), changes the disk under it,
 * and asks again.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, renameSync, rmSync, statSync, symlinkSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { FileCache } from '../../src/http/file-cache.js';
import { serve, type HttpServer } from '../../src/http/server/index.js';
import { staticFiles } from '../../src/http/static.js';

let base: string;
let root: string;
let server: HttpServer;

before(async () => {
  base = mkdtempSync(join(tmpdir(), 'file-cache-test-'));
  root = join(base, 'www');
  mkdirSync(root);
  mkdirSync(join(root, 'real-dir'));
  mkdirSync(join(base, 'outside-dir'));
  writeFileSync(join(base, 'secret.txt'), 'TOP SECRET');
  writeFileSync(join(base, 'outside-dir', 'f.txt'), 'OUTSIDE');
  server = await serve(staticFiles(root));
});

after(async () => {
  await server?.close({ timeout: 1000 });
  if (base) rmSync(base, { recursive: true, force: true });
});

/** GET over a fresh connection: status and body. */
function get(target: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(server.port, '127.0.0.1', () => sock.write(`GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`));
    const parts: Buffer[] = [];
    sock.setTimeout(5000, () => sock.destroy(new Error('timeout')));
    sock.on('data', (d) => parts.push(d));
    sock.on('error', reject);
    sock.on('end', () => {
      const text = Buffer.concat(parts).toString();
      const end = text.indexOf('\r\n\r\n');
      resolve({ status: Number(text.split(' ')[1]), body: text.slice(end + 4) });
    });
  });
}

/** Serves the file twice (the second time from memory) and checks both. */
async function warm(target: string, body: string): Promise<void> {
  for (let i = 0; i < 2; i++) assert.deepEqual(await get(target), { status: 200, body });
}

const LATER = new Date('2030-01-01T00:00:00Z');

test('a file modified in place (same size) is served anew', async () => {
  writeFileSync(join(root, 'mod.txt'), 'version-1');
  await warm('/mod.txt', 'version-1');
  writeFileSync(join(root, 'mod.txt'), 'version-2');
  utimesSync(join(root, 'mod.txt'), LATER, LATER);
  assert.deepEqual(await get('/mod.txt'), { status: 200, body: 'version-2' });
});

test('a file replaced by a rename over it is served anew', async () => {
  writeFileSync(join(root, 'swap.txt'), 'old');
  await warm('/swap.txt', 'old');
  writeFileSync(join(root, '.swap.tmp'), 'new');
  renameSync(join(root, '.swap.tmp'), join(root, 'swap.txt'));
  assert.deepEqual(await get('/swap.txt'), { status: 200, body: 'new' });
});

test('a deleted file is 404; one made unreadable is no longer answered from memory', async () => {
  writeFileSync(join(root, 'gone.txt'), 'here');
  await warm('/gone.txt', 'here');
  unlinkSync(join(root, 'gone.txt'));
  assert.equal((await get('/gone.txt')).status, 404);
  writeFileSync(join(root, 'locked.txt'), 'open');
  await warm('/locked.txt', 'open');
  chmodSync(join(root, 'locked.txt'), 0o000);
  const r = await get('/locked.txt');
  // root may still read a mode-000 file; anyone else gets 404. Either way it was checked again, not kept.
  assert.ok(process.getuid?.() === 0 ? r.status === 200 : r.status === 404, `status ${r.status}`);
});

test('a symlink swapped to point outside the root is refused, not answered from memory', async () => {
  writeFileSync(join(root, 'inside.txt'), 'inside');
  symlinkSync(join(root, 'inside.txt'), join(root, 'link.txt'));
  await warm('/link.txt', 'inside');
  unlinkSync(join(root, 'link.txt'));
  symlinkSync(join(base, 'secret.txt'), join(root, 'link.txt'));
  const r = await get('/link.txt');
  assert.equal(r.status, 404);
  assert.doesNotMatch(r.body, /SECRET/);
});

test('a directory symlink on the path swapped to outside the root is refused', async () => {
  writeFileSync(join(root, 'real-dir', 'f.txt'), 'in the root');
  symlinkSync(join(root, 'real-dir'), join(root, 'd'));
  await warm('/d/f.txt', 'in the root');
  unlinkSync(join(root, 'd'));
  symlinkSync(join(base, 'outside-dir'), join(root, 'd'));
  const r = await get('/d/f.txt');
  assert.equal(r.status, 404);
  assert.doesNotMatch(r.body, /OUTSIDE/);
});

test('an index file behind a directory URL is checked the same way', async () => {
  mkdirSync(join(root, 'site'));
  writeFileSync(join(root, 'site', 'index.html'), 'first');
  await warm('/site/', 'first');
  unlinkSync(join(root, 'site', 'index.html'));
  assert.equal((await get('/site/')).status, 404);
});

test('FileCache: a hit needs the same real path and stat; bounds on entries and bytes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'file-cache-unit-'));
  try {
    const cache = new FileCache({ entries: 2, fileBytes: 8, totalBytes: 12 });
    const entryFor = (name: string, text: string) => {
      const file = join(dir, name);
      writeFileSync(file, text);
      const s = statSync(file);
      return { joined: file, real: file, dev: s.dev, ino: s.ino, size: s.size, mtimeMs: s.mtimeMs, ctimeMs: s.ctimeMs, etag: 'e', lastModified: 'l', type: 't', data: Buffer.from(text) };
    };
    cache.put('/a', entryFor('a', 'aaaa'));
    assert.equal(cache.get('/a')?.data.toString(), 'aaaa');
    assert.equal(cache.hits, 1);
    assert.equal(cache.wants(9), false, 'over fileBytes');
    cache.put('/b', entryFor('b', 'bbbbbb'));
    cache.put('/c', entryFor('c', 'cccccc'));
    // 4 + 6 + 6 > 12 and 3 > 2 entries: the oldest went.
    assert.deepEqual([cache.size, cache.get('/a'), cache.get('/c')?.data.toString()], [2, undefined, 'cccccc']);
    unlinkSync(join(dir, 'c'));
    assert.equal(cache.get('/c'), undefined);
    assert.equal(cache.stale, 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});


