/**
 * protostack/link: the simulated network (a virtual clock, seeded links with
 * faults, a network in one object) and pcap capture, with the Clock, Device
 * and RandomSource contracts a stack runs on. Writing a capture to a file is
 * Node's (writePcapFile, exported from the package root).
 */
export { VirtualClock, type RunOptions } from './clock.js';
export { WallClock } from './wall-clock.js';
export { FrameReader, TunError, type TunErrorCode } from './tun.js';
export { Link, LinkDevice, type LinkStats, type PacketSink } from './link.js';
export { Network } from './network.js';
export { LINKTYPE_RAW, PcapError, PcapWriter, parsePcap, type PcapFile, type PcapRecord, type PcapWriterOptions } from './pcap.js';
export { CryptoRandom, Random } from './random.js';
export { DEFAULT_LINK, type Clock, type Device, type LinkParams, type RandomSource } from './types.js';
