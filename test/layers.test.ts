/**
 * The import rule of docs/ARCHITECTURE.md, checked on every import in src/:
 * folders are layers, imports only run down, no file imports itself back
 * through others, and the portable core names no node: module outside the
 * files that say they are its Node adapters.
 *
 * Every import is read from the TypeScript syntax tree (comments and strings
 * cannot fool it), including `import type`, `export … from` and `import()`.
 * Type-only imports count for the layer rule (a type is a dependency too) but
 * not for cycles: they are erased, so they cannot change the order in which
 * modules load. `#name` imports are resolved through package.json's
 * "imports", every condition's target counted (the Node one and the browser one).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * The layers from the bottom up. A file may import files of its own layer and
 * of layers below; layers on one rung (the two stacks) may not import each
 * other. `files` are single modules, `dirs` whole folders; the first match wins.
 */
const LAYERS: { name: string; rung: number; files?: string[]; dirs?: string[] }[] = [
  // The vocabulary every layer speaks: the coded error base class, and the trace events and sinks every layer records into.
  { name: 'base', rung: 0, files: ['src/errors.ts', 'src/trace-events.ts'] },
  { name: 'wire', rung: 1, dirs: ['src/wire/'] },
  { name: 'link', rung: 2, dirs: ['src/link/'] },
  // The seam (types.ts), the errors stacks raise, and what both stacks share.
  { name: 'stack', rung: 3, files: ['src/stack/types.ts', 'src/stack/errors.ts', 'src/stack/datagram-queue.ts'] },
  { name: 'stack/kernel', rung: 4, dirs: ['src/stack/kernel/'] },
  { name: 'stack/user', rung: 4, dirs: ['src/stack/user/'] },
  { name: 'socket', rung: 5, dirs: ['src/socket/'] },
  { name: 'dns', rung: 6, dirs: ['src/dns/'] },
  // A test harness for the user stack in particular: it drives the socket library over a
  // UserStack and reads its TCBs, so it stands beside dns, above both, and names the stack.
  { name: 'packetdrill', rung: 6, dirs: ['src/packetdrill/'] },
  { name: 'http', rung: 7, dirs: ['src/http/'] },
  { name: 'trace', rung: 8, dirs: ['src/trace/'] },
  { name: 'cli', rung: 9, dirs: ['src/cli/'] },
  // The package's entry points: they only gather what is below.
  { name: 'entry', rung: 10, files: ['src/index.ts'] },
];

/**
 * Above the seam nothing names a concrete stack: from src/stack/ the layers
 * above import only the seam and its errors, and one module picks the OS's
 * stack as the default (a Node adapter; the browser's build gets its twin).
 */
const ABOVE_SEAM = ['socket', 'dns', 'http', 'trace'];
const SEAM = ['src/stack/types.ts', 'src/stack/errors.ts'];
const DEFAULT_LIBRARY = ['src/socket/default-node.ts'];

/** The portable core: no node: import here, except in a Node adapter. */
const PORTABLE = ['base', 'wire', 'link', 'stack', 'stack/user', 'socket'];
/** A Node adapter says so in its name: `node-duplex.ts`, `pcap-file-node.ts`. */
const isNodeAdapter = (file: string) => /(^|\/)node-[^/]*\.ts$|-node\.ts$/.test(file);

export interface Import {
  from: string;
  line: number;
  specifier: string;
  /** The src/ files it names; empty for node: and package imports. */
  targets: string[];
  typeOnly: boolean;
}

export function layerOf(file: string): { name: string; rung: number } {
  for (const layer of LAYERS) {
    if (layer.files?.includes(file) || layer.dirs?.some((d) => file.startsWith(d))) return layer;
  }
  throw new Error(`${file} belongs to no layer: name it in test/layers.test.ts`);
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    const path = posix.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sourceFiles(path));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push(path);
  }
  return out.sort();
}

/** package.json "imports": `#name` → every condition's target, as a source file. */
function packageImports(): Map<string, string[]> {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { imports?: Record<string, string | Record<string, string>> };
  const map = new Map<string, string[]>();
  for (const [name, target] of Object.entries(pkg.imports ?? {})) {
    const paths = typeof target === 'string' ? [target] : Object.values(target);
    map.set(name, [...new Set(paths.filter((p) => p.endsWith('.js')).map((p) => p.replace(/^\.\/dist\//, '').replace(/\.js$/, '.ts')))]);
  }
  return map;
}

function resolve(from: string, specifier: string, hashes: Map<string, string[]>): string[] {
  if (specifier.startsWith('#')) {
    const targets = hashes.get(specifier);
    if (!targets) throw new Error(`${from}: ${specifier} is not in package.json "imports"`);
    return targets;
  }
  if (!specifier.startsWith('.')) return [];
  return [posix.join(posix.dirname(from), specifier).replace(/\.js$/, '.ts')];
}

/** Every import of one file, read from its syntax tree. */
export function importsOf(file: string, text: string, hashes: Map<string, string[]>): Import[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found: Import[] = [];
  const add = (node: ts.Node, literal: ts.Expression | undefined, typeOnly: boolean) => {
    if (!literal || !ts.isStringLiteralLike(literal)) return;
    const line = source.getLineAndCharacterOfPosition(node.getStart()).line + 1;
    found.push({ from: file, line, specifier: literal.text, targets: resolve(file, literal.text, hashes), typeOnly });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) {
      const clause = node.importClause;
      const named = clause?.namedBindings && ts.isNamedImports(clause.namedBindings) ? clause.namedBindings.elements : undefined;
      const allTypes = !!clause && (clause.isTypeOnly || (!clause.name && !!named && named.length > 0 && named.every((e) => e.isTypeOnly)));
      add(node, node.moduleSpecifier, allTypes);
    } else if (ts.isExportDeclaration(node)) {
      const named = node.exportClause && ts.isNamedExports(node.exportClause) ? node.exportClause.elements : undefined;
      add(node, node.moduleSpecifier, node.isTypeOnly || (!!named && named.length > 0 && named.every((e) => e.isTypeOnly)));
    } else if (ts.isImportTypeNode(node)) {
      const arg = node.argument;
      if (ts.isLiteralTypeNode(arg)) add(node, arg.literal as ts.Expression, true);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      add(node, node.arguments[0], false);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

export function allImports(): { files: string[]; imports: Import[] } {
  const hashes = packageImports();
  const files = sourceFiles('src');
  const imports = files.flatMap((f) => importsOf(f, readFileSync(join(ROOT, f), 'utf8'), hashes));
  return { files, imports };
}

/** Imports that run up a layer, or sideways between layers on one rung. */
export function upwardImports(imports: readonly Import[]): string[] {
  const out: string[] = [];
  for (const i of imports) {
    const from = layerOf(i.from);
    for (const target of i.targets) {
      const to = layerOf(target);
      if (to.name !== from.name && to.rung >= from.rung) out.push(`${i.from}:${i.line} (${from.name}) imports ${i.specifier} (${to.name})`);
    }
  }
  return out;
}

/** node: imports in the portable core outside its Node adapters. */
export function nodeImportsInCore(imports: readonly Import[]): string[] {
  return imports
    .filter((i) => i.specifier.startsWith('node:') && PORTABLE.includes(layerOf(i.from).name) && !isNodeAdapter(i.from))
    .map((i) => `${i.from}:${i.line} imports ${i.specifier}`);
}

/** Imports of a concrete stack from above the seam, outside the default-library module. */
export function concreteStackImports(imports: readonly Import[]): string[] {
  return imports.flatMap((i) =>
    ABOVE_SEAM.includes(layerOf(i.from).name) && !DEFAULT_LIBRARY.includes(i.from)
      ? i.targets.filter((t) => t.startsWith('src/stack/') && !SEAM.includes(t)).map((t) => `${i.from}:${i.line} imports ${t}`)
      : [],
  );
}

/** Each cycle of value imports once, as the files around it (Tarjan's strongly connected components). */
export function importCycles(files: readonly string[], imports: readonly Import[]): string[][] {
  const edges = new Map<string, Set<string>>(files.map((f) => [f, new Set()]));
  for (const i of imports) if (!i.typeOnly) for (const t of i.targets) edges.get(i.from)?.add(t);
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  let next = 0;
  const connect = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!index.has(w)) {
        connect(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || edges.get(v)!.has(v)) cycles.push(component.sort());
    }
  };
  for (const f of files) if (!index.has(f)) connect(f);
  return cycles;
}

const { files, imports } = allImports();

test('the checker reads every kind of import, and only imports', () => {
  const text = [
    "import a from './a.js';",
    "import type { B } from './b.js';",
    "import { type C, type D } from './c.js';",
    "export { e } from './e.js';",
    "export type { F } from './f.js';",
    "const g = await import('./g.js');",
    "let h: import('node:fs').Stats;",
    "// import x from './not-an-import.js';",
    "const s = \"import y from './nor-this.js'\";",
  ].join('\n');
  const found = importsOf('src/socket/x.ts', text, new Map());
  assert.deepEqual(
    found.map((i) => [i.specifier, i.typeOnly, i.targets[0]]),
    [
      ['./a.js', false, 'src/socket/a.ts'],
      ['./b.js', true, 'src/socket/b.ts'],
      ['./c.js', true, 'src/socket/c.ts'],
      ['./e.js', false, 'src/socket/e.ts'],
      ['./f.js', true, 'src/socket/f.ts'],
      ['./g.js', false, 'src/socket/g.ts'],
      ['node:fs', true, undefined],
    ],
  );
});

test('the checker finds an upward import, a sideways one, a cycle, a concrete stack above the seam and a node: import in the core', () => {
  const fake = (from: string, to: string, typeOnly = false): Import => ({ from, line: 1, specifier: to, targets: to.startsWith('node:') ? [] : [to], typeOnly });
  assert.deepEqual(upwardImports([fake('src/stack/user/ip.ts', 'src/socket/errors.ts'), fake('src/socket/library.ts', 'src/wire/ip.ts')]), [
    'src/stack/user/ip.ts:1 (stack/user) imports src/socket/errors.ts (socket)',
  ]);
  assert.equal(upwardImports([fake('src/stack/user/ip.ts', 'src/stack/kernel/stack.ts')]).length, 1, 'the two stacks may not import each other');
  const ring = [fake('src/wire/a.ts', 'src/wire/b.ts'), fake('src/wire/b.ts', 'src/wire/c.ts'), fake('src/wire/c.ts', 'src/wire/a.ts')];
  assert.deepEqual(importCycles(['src/wire/a.ts', 'src/wire/b.ts', 'src/wire/c.ts'], ring), [['src/wire/a.ts', 'src/wire/b.ts', 'src/wire/c.ts']]);
  const typeRing = [fake('src/wire/a.ts', 'src/wire/b.ts'), fake('src/wire/b.ts', 'src/wire/a.ts', true)];
  assert.deepEqual(importCycles(['src/wire/a.ts', 'src/wire/b.ts'], typeRing), [], 'a type-only import closes no cycle');
  assert.equal(nodeImportsInCore([fake('src/link/pcap.ts', 'node:fs'), fake('src/link/pcap-file-node.ts', 'node:fs'), fake('src/http/static.ts', 'node:fs')]).length, 1);
  assert.equal(concreteStackImports([fake('src/http/agent.ts', 'src/stack/kernel/stack.ts'), fake('src/socket/default-node.ts', 'src/stack/kernel/stack.ts'), fake('src/dns/resolver.ts', 'src/stack/types.ts')]).length, 1);
  assert.ok(isNodeAdapter('src/socket/node-duplex.ts') && isNodeAdapter('src/socket/default-node.ts') && !isNodeAdapter('src/socket/nodes.ts'));
});

test('every file in src/ belongs to a layer', () => {
  assert.ok(files.length > 100, `only ${files.length} files found`);
  for (const f of files) assert.doesNotThrow(() => layerOf(f), f);
});

test('every relative import names a file that exists', () => {
  const known = new Set(files);
  const missing = imports.flatMap((i) => i.targets.filter((t) => !known.has(t)).map((t) => `${i.from}:${i.line} → ${t}`));
  assert.deepEqual(missing, []);
});

test('imports only run down the layers', () => {
  assert.deepEqual(upwardImports(imports), []);
});

test('above the seam, only the default-library module names a concrete stack', () => {
  assert.deepEqual(concreteStackImports(imports), []);
});

test("each #import of package.json is a Node adapter with a browser twin", () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { imports: Record<string, Record<string, string>> };
  assert.ok(Object.keys(pkg.imports).length > 0);
  for (const [name, target] of Object.entries(pkg.imports)) {
    assert.deepEqual(Object.keys(target), ['browser', 'default'], name);
    assert.ok(isNodeAdapter(target.default!.replace(/^\.\/dist\//, '').replace(/\.js$/, '.ts')), `${name}: ${target.default} is named as a Node adapter`);
    assert.match(target.browser!, /-browser\.js$/, name);
  }
});

test('no import cycles between files', () => {
  assert.deepEqual(importCycles(files, imports), []);
});

test('the portable core imports node: only in its Node adapters', () => {
  assert.deepEqual(nodeImportsInCore(imports), []);
});
