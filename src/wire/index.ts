/**
 * protostack/wire: the pure codecs over bytes, one module per protocol.
 * Parsers return a value or a drop reason and never throw on bad input.
 * DNS and HTTP messages are namespaces of their own (`dns`, `http`).
 */
export * from './address.js';
export * from './checksum.js';
export * from './fragment.js';
export * from './icmp.js';
export * from './ip-address.js';
export * from './ipv4.js';
export * from './tcp.js';
export * from './udp.js';
export * as dns from './dns/index.js';
export * as http from './http/index.js';
