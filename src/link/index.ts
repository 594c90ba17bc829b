/**
 * protostack/link: the simulated network (a virtual clock, seeded links, a
 * network in one object), device decorators (faults, pcap capture) and pcap
 * files, with the Clock, Device
 * and RandomSource contracts a stack runs on. Writing a capture to a file is
 * Node's (writePcapFile, exported from the package root).
 */
export { VirtualClock, type RunOptions } from './clock.js';
export { WallClock } from './wall-clock.js';
export { FrameReader, TunError, type TunErrorCode } from './tun.js';
export { Link, LinkDevice, type MediumStats } from './link.js';
export { SimulatedLink, SimulatedPort, type LinkStats } from './simulated-link.js';
export { FaultyDevice, emptyFaultStats, type FaultDirection, type FaultStats, type FaultyDeviceOptions } from './faults.js';
export { PcapDevice, type CaptureDirection } from './capture.js';
export { Network } from './network.js';
export { LINKTYPE_RAW, PcapError, PcapWriter, parsePcap, type PcapFile, type PcapRecord, type PcapWriterOptions } from './pcap.js';
export { CryptoRandom, Random } from './random.js';
export { DEFAULT_FAULTS, DEFAULT_LINK, DEFAULT_MEDIUM, type Clock, type Device, type FaultParams, type LinkParams, type MediumParams, type PacketSink, type RandomSource } from './types.js';
