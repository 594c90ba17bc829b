/**
 * The portable half of the TUN device: its error vocabulary and the framing
 * spoken with native/tun-helper.c over a pipe (each packet a 2-byte
 * big-endian length, then the bytes; an empty frame first means "attached").
 * Spawning the helper is Node's (tun-node.ts); this is bytes only.
 */
import { ProtostackError } from '../errors.js';

export type TunErrorCode =
  /** Not Linux: there is no /dev/net/tun. */
  | 'ERR_TUN_UNSUPPORTED'
  /** /dev/net/tun is missing (the tun module is not loaded, or a container was not given the device). */
  | 'ERR_TUN_NO_DEVICE'
  /** No interface of that name: the administrator creates it first. */
  | 'ERR_TUN_NO_INTERFACE'
  /** The device or the interface may not be opened by this user. */
  | 'ERR_TUN_PERMISSION'
  /** Another process is attached to the interface. */
  | 'ERR_TUN_BUSY'
  /** The interface exists but is not a TUN (a TAP, a veth, ...). */
  | 'ERR_TUN_NOT_TUN'
  /** No C compiler to build the helper with. */
  | 'ERR_TUN_NO_COMPILER'
  /** The helper did not build, did not answer, or ended on its own. */
  | 'ERR_TUN_HELPER'
  /** A bad argument: an interface name Linux would refuse, an MTU out of range. */
  | 'ERR_TUN_ARGUMENT';

export class TunError extends ProtostackError<TunErrorCode> {
  override readonly name = 'TunError';
}

/** The recipe that makes an interface this user may attach to; every "missing" error names it. */
export function tunRecipe(name: string, user: string): string {
  return `ip tuntap add ${name} mode tun user ${user} && ip addr add 10.77.0.1/24 dev ${name} && ip link set ${name} up`;
}

/** Linux's rule for interface names (dev_valid_name): 1-15 bytes, no '/', ':' or white space, not '.' or '..'. */
export function validInterfaceName(name: string): boolean {
  return /^[^\s/:]{1,15}$/.test(name) && name !== '.' && name !== '..' && new TextEncoder().encode(name).length <= 15;
}

/** Largest packet a frame carries (the 2-byte length). */
export const MAX_FRAME = 0xffff;

/** Appends one frame (length + bytes) into `out` at `at`; returns the new end. */
export function writeFrame(out: Uint8Array, at: number, packet: Uint8Array): number {
  out[at] = packet.length >>> 8;
  out[at + 1] = packet.length & 0xff;
  out.set(packet, at + 2);
  return at + 2 + packet.length;
}

/**
 * Splits a byte stream into frames. Chunks arrive cut anywhere; a frame that
 * lies whole inside one chunk is handed on as a view of it (no copy), and only
 * a frame cut across chunks is put together in a buffer of its own.
 */
export class FrameReader {
  private partial: Uint8Array | null = null;
  private partialAt = 0;
  /** The first byte of a length cut between chunks. */
  private lengthHigh = -1;

  constructor(private readonly onFrame: (frame: Uint8Array) => void) {}

  push(chunk: Uint8Array): void {
    let at = 0;
    if (this.lengthHigh >= 0) {
      if (chunk.length === 0) return;
      this.begin((this.lengthHigh << 8) | chunk[0]!);
      this.lengthHigh = -1;
      at = 1;
    }
    if (this.partial !== null) {
      const need = this.partial.length - this.partialAt;
      const take = Math.min(need, chunk.length - at);
      this.partial.set(chunk.subarray(at, at + take), this.partialAt);
      this.partialAt += take;
      at += take;
      if (this.partialAt < this.partial.length) return;
      const frame = this.partial;
      this.partial = null;
      this.onFrame(frame);
    }
    while (at < chunk.length) {
      if (chunk.length - at < 2) {
        this.lengthHigh = chunk[at]!;
        return;
      }
      const length = (chunk[at]! << 8) | chunk[at + 1]!;
      at += 2;
      if (chunk.length - at >= length) {
        this.onFrame(chunk.subarray(at, at + length));
        at += length;
        continue;
      }
      this.begin(length);
      const rest = chunk.subarray(at);
      this.partial!.set(rest, 0);
      this.partialAt = rest.length;
      return;
    }
  }

  private begin(length: number): void {
    if (length === 0) {
      this.onFrame(new Uint8Array(0));
      return;
    }
    this.partial = new Uint8Array(length);
    this.partialAt = 0;
  }
}
