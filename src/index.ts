/**
 * protostack: a socket library you can see through, over the OS stack or its own.
 * Everything, for Node. Each layer is also its own entry point
 * (protostack/socket, protostack/user, protostack/kernel, protostack/dns,
 * protostack/http, protostack/trace, protostack/link, protostack/wire).
 */
export { ProtostackError } from './errors.js';
export * from './socket/index.js';
export * from './stack/kernel/index.js';
export * from './stack/user/index.js';
export { writePcapFile } from './link/pcap-file-node.js';
export { TunDevice, type TunOptions, type TunStats } from './link/tun-node.js';
export * from './dns/index.js';
export * from './http/index.js';
export type { Response as HttpResponse } from './http/index.js';
export * from './trace/index.js';
export { parseScript, runScript, PacketdrillError, resultLine, summaryLine, markdownTable, type Script as PacketdrillScript, type Verdict as PacketdrillVerdict } from './packetdrill/index.js';
export { findScripts, runFile as runPacketdrillFile, type ScriptResult as PacketdrillResult } from './packetdrill/node.js';
