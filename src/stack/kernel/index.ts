/** protostack/kernel: the operating system's TCP/IP behind the same seam, via node:net and node:dgram. */
export { KernelStack, type KernelStackOptions } from './stack.js';
export * from '../types.js';
export { SocketError, type ErrorCode } from '../errors.js';
