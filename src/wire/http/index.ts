/** The HTTP/1.x wire codec: heads as values, the incremental parser, and the serializers. */

export * from './types.js';
export * from './errors.js';
export { HttpParser } from './parser.js';
export { serializeRequestHead, serializeResponseHead, chunk, lastChunk, STATUS_REASONS } from './serialize.js';
