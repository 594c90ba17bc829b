/** The DNS wire codec: messages, names and RDATA as values and bytes. */

export * from './types.js';
export * from './errors.js';
export {
  decodeName,
  nameToWire,
  wireToName,
  normalizeName,
  splitLabels,
  namesEqual,
  isSubdomain,
  NameCompressor,
} from './name.js';
export { decodeRdata, encodeRdata, isStructured } from './rdata.js';
export {
  decodeMessage,
  decodeHeader,
  encodeMessage,
  frameTcp,
  type DecodeLimits,
  type EncodeOptions,
  type DnsHeader,
} from './message.js';
