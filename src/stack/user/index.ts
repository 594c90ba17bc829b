/**
 * protostack/user: protostack's own TCP/IPv4/UDP/ICMP stack, and the
 * simulated network it runs on, all portable (no node: module). Put a
 * SocketLibrary (protostack/socket) over a UserStack to make socket calls.
 */
export { UserStack, type UserStackOptions } from './stack.js';
export { DEFAULT_TCP, type TcpConfig } from './tcp/config.js';
export { Counters } from './counters.js';
export * from '../../link/index.js';
export * from '../types.js';
export { SocketError, type ErrorCode } from '../errors.js';
