// Bundles the playground's code (dist/src/cli/playground-run.js: the user
// stack, the simulated network, DNS, HTTP, the Mermaid renderer) for the
// browser into dist/playground/bundle.js, which `protostack playground`
// inlines into its page. Runs after tsc in `npm test`, `npm run build` and
// `prepare`; esbuild is a devDependency, so an install without dev
// dependencies skips it (the command then says how to build it).
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
let esbuild;
try {
  esbuild = await import('esbuild');
} catch {
  console.warn('build-playground: esbuild is not installed (a devDependency); `protostack playground` needs dist/playground/bundle.js');
  process.exit(0);
}
const reached = [];
const noNode = {
  name: 'no-node',
  setup(b) {
    b.onResolve({ filter: /^node:/ }, (args) => {
      reached.push(`${args.importer} → ${args.path}`);
      return { path: args.path, external: true };
    });
  },
};
mkdirSync(join(ROOT, 'dist', 'playground'), { recursive: true });
await esbuild.build({
  entryPoints: [join(ROOT, 'dist', 'src', 'cli', 'playground-run.js')],
  absWorkingDir: ROOT,
  bundle: true,
  platform: 'browser',
  format: 'iife',
  globalName: 'protostackPlayground',
  outfile: join(ROOT, 'dist', 'playground', 'bundle.js'),
  logLevel: 'warning',
  // A browser has no Buffer: the subset protostack uses, from its browser twin.
  inject: [join(ROOT, 'dist', 'src', 'wire', 'buffer-browser.js')],
  plugins: [noNode],
});
if (reached.length > 0) {
  console.error(`build-playground: the browser bundle reaches node: imports:\n${reached.join('\n')}`);
  process.exit(1);
}
