/**
 * The IP seam: what TCP, UDP and ICMP need from the network layer, without
 * knowing its version. Addresses are bytes (4 for IPv4, 16 for IPv6); the
 * IPv4 layer (ipv4.ts) implements this, and an IPv6 layer would be a second
 * implementation in its own file. The pseudo-header sum (wire/checksum.ts)
 * and TCP's connection keys take either length.
 */

export interface IpInterface {
  device: import('../../link/types.js').Device;
  address: string;
  prefixLength: number;
}

/** The fields of a received packet's header that every version has. */
export interface IpHeader {
  src: Uint8Array;
  dst: Uint8Array;
  protocol: number;
  ttl: number;
}

export interface IpPacket<H extends IpHeader = IpHeader> {
  header: H;
  payload: Uint8Array;
  /** The whole packet as received (after reassembly: a rebuilt one), for ICMP errors to quote. */
  raw: Uint8Array;
}

export type ProtocolHandler = (packet: IpPacket) => void;

/** Where a packet to some destination leaves from. Shared between calls: do not modify. */
export interface Route {
  source: Uint8Array;
  sourceAddress: string;
  /** The largest packet, header included, the route carries. */
  mtu: number;
  /** Bytes of IP header in front of the transport's (what to subtract from mtu for an MSS). */
  headerBytes: number;
}

export interface IpLayer {
  /** The host's own addresses, as text. */
  readonly addresses: readonly string[];
  /** Installs the handler for one transport protocol number (next header, in IPv6). */
  register(protocol: number, handler: ProtocolHandler): void;
  /** One of our own addresses, or loopback. */
  isLocal(address: Uint8Array): boolean;
  isBroadcast(address: Uint8Array): boolean;
  /** Where a packet to `dst` would leave from, or null when nothing reaches it. */
  route(dst: Uint8Array): Route | null;
  /** Bytes a transport leaves free at the front of a packet for `dst`, for sendBuilt to write the IP header into. */
  headroom(dst: Uint8Array): number;
  /** Sends a transport payload (copied behind a header). */
  send(protocol: number, src: Uint8Array, dst: Uint8Array, payload: Uint8Array): void;
  /** Sends a packet built with headroom(dst) free bytes at the front; the header is written there in place. */
  sendBuilt(protocol: number, src: Uint8Array, dst: Uint8Array, packet: Uint8Array, options?: { dontFragment?: boolean }): void;
}
