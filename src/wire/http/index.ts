/** The HTTP/1.x wire codec: heads as values, the incremental parser, and the serializers. */

export * from './types.js';
export * from './errors.js';
export { HttpParser } from './parser.js';
export { isFieldValue, isToken } from './chars.js';
export {
  serializeRequestHead,
  serializeResponseHead,
  chunk,
  chunkSizeLine,
  lastChunk,
  LAST_CHUNK,
  CRLF_BYTES,
  statusLine,
  reasonFor,
  isContentLength,
  connectionCloses,
  sendFraming,
  type SendFraming,
  STATUS_REASONS,
} from './serialize.js';
