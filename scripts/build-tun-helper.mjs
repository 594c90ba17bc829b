// npm install/prepare: build the TUN helper (native/tun-helper.c) with the system's C compiler, if it can.
// Never fails the install: without Linux or a compiler, protostack works and only TunDevice reports why it cannot.
import { existsSync } from 'node:fs';

const module = new URL('../dist/src/link/tun-helper-node.js', import.meta.url);
if (process.platform !== 'linux' || !existsSync(module)) process.exit(0);
try {
  const { tunHelper } = await import(module.href);
  await tunHelper();
} catch (e) {
  console.warn(`protostack: the TUN helper was not built (${e.message}); TunDevice will say so when it is used`);
}
