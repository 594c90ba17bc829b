/**
 * IPv4 fragmentation (RFC 791 §2.3 and §3.2): each fragment but the last
 * carries a multiple of 8 payload bytes and More Fragments; options whose
 * "copied" bit is set go in every fragment, the others in the first only.
 */
import { emitIpv4, ipv4HeaderLength, type Ipv4Header } from './ipv4.js';

/** Every IPv4 link carries 68 bytes unfragmented (RFC 791): a 60-byte header and 8 bytes of data. */
export const MIN_MTU = 68;

/**
 * Splits one datagram into packets of at most `mtu` bytes (one packet if it
 * fits). A header that is itself a fragment is split further, as a router
 * does: offsets add up and the last piece keeps its More Fragments flag.
 * Throws RangeError if `mtu` < 68, or if Don't Fragment is set and it does
 * not fit (the caller answers EMSGSIZE or ICMP fragmentation-needed).
 */
export function fragmentIpv4(header: Omit<Ipv4Header, 'totalLength'>, payload: Uint8Array, mtu: number): Uint8Array[] {
  if (!(mtu >= MIN_MTU)) throw new RangeError(`fragmentIpv4: an MTU is at least ${MIN_MTU} bytes, not ${mtu}`);
  const size = ipv4HeaderLength(header) + payload.length;
  if (size <= mtu) return [emitIpv4(header, payload)];
  if (header.dontFragment) throw new RangeError(`fragmentIpv4: ${size} bytes with Don't Fragment set exceed the MTU of ${mtu}`);
  const later = { ...header, options: copiedOptions(header.options) };
  const packets: Uint8Array[] = [];
  for (let at = 0; at < payload.length; ) {
    const h = at === 0 ? header : later;
    const room = Math.floor((mtu - ipv4HeaderLength(h)) / 8) * 8;
    const end = Math.min(at + room, payload.length);
    const moreFragments = end < payload.length || header.moreFragments;
    packets.push(emitIpv4({ ...h, fragmentOffset: header.fragmentOffset + at, moreFragments }, payload.subarray(at, end)));
    at = end;
  }
  return packets;
}

/** The options later fragments carry: those with the copied bit (0x80), padded with End of Options to 4 bytes. */
function copiedOptions(options: Uint8Array): Uint8Array {
  const kept: number[] = [];
  for (let i = 0; i < options.length; ) {
    const type = options[i]!;
    if (type === 0) break;
    if (type === 1) {
      i++;
      continue;
    }
    const length = options[i + 1] ?? 0;
    if (length < 2 || i + length > options.length) break;
    if (type & 0x80) kept.push(...options.subarray(i, i + length));
    i += length;
  }
  const out = new Uint8Array((kept.length + 3) & ~3);
  out.set(kept);
  return out;
}
