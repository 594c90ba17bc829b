/**
 * Classic libpcap capture files (the format tcpdump and Wireshark read):
 * a 24-byte global header, then a 16-byte header per record. Link type 101
 * (LINKTYPE_RAW) because the simulated link carries bare IPv4 packets.
 * Timestamps come from virtual time, so a seeded run gives the same bytes.
 * Writing to a file is the Node adapter's (pcap-file-node.ts); this is bytes only.
 */
import { ProtostackError } from '../errors.js';
import type { PacketSink } from './types.js';

const MAGIC = 0xa1b2c3d4;
const MAGIC_NANO = 0xa1b23c4d;
export const LINKTYPE_RAW = 101;
const GLOBAL_HEADER = 24;
const RECORD_HEADER = 16;

export interface PcapWriterOptions {
  /** Bytes kept per packet; longer packets are truncated (orig_len stays true). */
  snaplen?: number;
  /** Memory bound for the whole capture; once a record would pass it, recording stops. */
  maxBytes?: number;
}

export class PcapWriter implements PacketSink {
  readonly snaplen: number;
  readonly maxBytes: number;
  /** Packets not recorded because maxBytes was reached. */
  dropped = 0;
  private chunks: Uint8Array[] = [];
  private size: number;
  private full = false;

  constructor(options: PcapWriterOptions = {}) {
    this.snaplen = options.snaplen ?? 65535;
    this.maxBytes = options.maxBytes ?? 256 * 1024 * 1024;
    const header = new Uint8Array(GLOBAL_HEADER);
    const view = new DataView(header.buffer);
    view.setUint32(0, MAGIC, true);
    view.setUint16(4, 2, true);
    view.setUint16(6, 4, true);
    // thiszone and sigfigs stay 0.
    view.setUint32(16, this.snaplen, true);
    view.setUint32(20, LINKTYPE_RAW, true);
    this.chunks.push(header);
    this.size = GLOBAL_HEADER;
  }

  packet(timeMs: number, bytes: Uint8Array): void {
    const kept = Math.min(bytes.length, this.snaplen);
    if (this.full || this.size + RECORD_HEADER + kept > this.maxBytes) {
      this.full = true;
      this.dropped++;
      return;
    }
    const record = new Uint8Array(RECORD_HEADER + kept);
    const view = new DataView(record.buffer);
    const micros = Math.round(Math.max(0, timeMs) * 1000);
    view.setUint32(0, Math.floor(micros / 1_000_000), true);
    view.setUint32(4, micros % 1_000_000, true);
    view.setUint32(8, kept, true);
    view.setUint32(12, bytes.length, true);
    // Copied now: the link's bytes belong to the receiver once delivered.
    record.set(bytes.subarray(0, kept), RECORD_HEADER);
    this.chunks.push(record);
    this.size += record.length;
  }

  /** The whole file so far. */
  bytes(): Uint8Array {
    const out = new Uint8Array(this.size);
    let at = 0;
    for (const chunk of this.chunks) {
      out.set(chunk, at);
      at += chunk.length;
    }
    return out;
  }

  /** The file so far as its pieces, in order, without copying them (writePcapFile writes them one by one). */
  pieces(): readonly Uint8Array[] {
    return this.chunks;
  }
}

export class PcapError extends ProtostackError<'ERR_PCAP_FORMAT'> {
  override readonly name = 'PcapError';
  constructor(message: string) {
    super('ERR_PCAP_FORMAT', message);
  }
}

export interface PcapRecord {
  timeMs: number;
  data: Uint8Array;
  /** The packet's length on the wire; more than data.length if it was truncated. */
  originalLength: number;
}

export interface PcapFile {
  linkType: number;
  snaplen: number;
  records: PcapRecord[];
}

/** Reads a classic pcap file (either byte order, micro- or nanosecond stamps). Throws PcapError on bad input. */
export function parsePcap(bytes: Uint8Array): PcapFile {
  if (bytes.length < GLOBAL_HEADER) throw new PcapError(`pcap: ${bytes.length} bytes is shorter than the 24-byte file header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let little: boolean;
  const magic = view.getUint32(0, true);
  if (magic === MAGIC || magic === MAGIC_NANO) little = true;
  else if (view.getUint32(0, false) === MAGIC || view.getUint32(0, false) === MAGIC_NANO) little = false;
  else throw new PcapError(`pcap: bad magic 0x${magic.toString(16)}`);
  const nano = view.getUint32(0, little) === MAGIC_NANO;
  const major = view.getUint16(4, little);
  if (major !== 2) throw new PcapError(`pcap: unsupported version ${major}.${view.getUint16(6, little)}`);
  const snaplen = view.getUint32(16, little);
  const linkType = view.getUint32(20, little) & 0x0fffffff;
  const records: PcapRecord[] = [];
  let at = GLOBAL_HEADER;
  while (at < bytes.length) {
    if (bytes.length - at < RECORD_HEADER) throw new PcapError(`pcap: record ${records.length + 1} header truncated at byte ${at}`);
    const sec = view.getUint32(at, little);
    const frac = view.getUint32(at + 4, little);
    const included = view.getUint32(at + 8, little);
    const original = view.getUint32(at + 12, little);
    if (frac >= (nano ? 1e9 : 1e6)) throw new PcapError(`pcap: record ${records.length + 1} has a sub-second field of ${frac}`);
    if (included > original || (snaplen > 0 && included > Math.max(snaplen, 65535)))
      throw new PcapError(`pcap: record ${records.length + 1} claims ${included} captured bytes of ${original}`);
    at += RECORD_HEADER;
    if (bytes.length - at < included) throw new PcapError(`pcap: record ${records.length + 1} data truncated at byte ${at}`);
    records.push({ timeMs: sec * 1000 + frac / (nano ? 1e6 : 1e3), data: bytes.slice(at, at + included), originalLength: original });
    at += included;
  }
  return { linkType, snaplen, records };
}
