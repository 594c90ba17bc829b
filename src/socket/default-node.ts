/**
 * The socket library a caller gets when it passes none (an HTTP Agent, an
 * HTTP server, a Resolver): one over the operating system's stack. This is
 * the only module above the stack seam that names a concrete stack; the
 * resolver, the HTTP client and the server import it as `#default-library`
 * (package.json "imports"), and a browser build gets default-browser.ts,
 * which has no OS stack to offer.
 */
import { KernelStack } from '../stack/kernel/stack.js';
import { SocketLibrary } from './library.js';

/** A new library over the kernel's stack, its traces labelled `label`. */
export function defaultLibrary(label: string): SocketLibrary {
  return new SocketLibrary(new KernelStack(), { label });
}
