/**
 * Records the bytes every SocketLibrary moves (write/read, sendto/recvfrom),
 * tagged with the library's label and the descriptor, so a test can compare
 * what one side sent with what the other received, byte for byte. Trace events
 * carry only counts; this is the test's own view of the data, not a mock: the
 * calls run unchanged.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { SocketLibrary } from '../../src/socket/library.js';

export interface Moved {
  who: string;
  call: 'write' | 'read' | 'sendto' | 'recvfrom';
  fd: number;
  data: Buffer;
}

/** Starts recording; `stop()` puts the library's methods back. Keep the runs small: every byte is kept. */
export function tapBytes(): { moved: Moved[]; stop(): void } {
  const proto = SocketLibrary.prototype;
  const original = { write: proto.write, read: proto.read, sendto: proto.sendto, recvfrom: proto.recvfrom };
  const moved: Moved[] = [];
  proto.write = async function (this: SocketLibrary, fd, data, length, options) {
    const copy = Buffer.from(data.subarray(0, length ?? data.length));
    const n = await original.write.call(this, fd, data, length, options);
    moved.push({ who: this.label, call: 'write', fd, data: copy.subarray(0, n) });
    return n;
  };
  proto.read = async function (this: SocketLibrary, fd, buffer, length, options) {
    const n = await original.read.call(this, fd, buffer, length, options);
    moved.push({ who: this.label, call: 'read', fd, data: Buffer.from(buffer.subarray(0, n)) });
    return n;
  };
  proto.sendto = async function (this: SocketLibrary, fd, data, address, port, options) {
    const copy = Buffer.from(data);
    const n = await original.sendto.call(this, fd, data, address, port, options);
    moved.push({ who: this.label, call: 'sendto', fd, data: copy.subarray(0, n) });
    return n;
  };
  proto.recvfrom = async function (this: SocketLibrary, fd, buffer, options) {
    const result = await original.recvfrom.call(this, fd, buffer, options);
    moved.push({ who: this.label, call: 'recvfrom', fd, data: Buffer.from(buffer.subarray(0, result.bytes)) });
    return result;
  };
  return { moved, stop: () => Object.assign(proto, original) };
}

/** SHA-256 of everything `who` moved with `call` (on `fd`, if given), in order, and how many bytes that was. */
export function digest(moved: readonly Moved[], who: string, call: Moved['call'], fd?: number): { bytes: number; sha256: string } {
  const hash = createHash('sha256');
  let bytes = 0;
  for (const m of moved) {
    if (m.who !== who || m.call !== call || (fd !== undefined && m.fd !== fd)) continue;
    hash.update(m.data);
    bytes += m.data.length;
  }
  return { bytes, sha256: hash.digest('hex') };
}

/**
 * The demo's exchanges, byte for byte: the DNS server received exactly the client's query and
 * the client exactly its answer; the web server read exactly what the client wrote on `clientFd`
 * and the client read exactly what the server wrote on `serverFd`. Returns the byte counts, for
 * the caller to hold against the trace.
 */
export function assertDemoBytes(moved: readonly Moved[], clientFd: number, serverFd: number): { query: number; answer: number; request: number; response: number } {
  const query = digest(moved, 'client', 'sendto');
  assert.deepEqual(digest(moved, 'dns-server', 'recvfrom'), query, 'the DNS server received exactly the bytes the client sent');
  const answer = digest(moved, 'dns-server', 'sendto');
  assert.deepEqual(digest(moved, 'client', 'recvfrom'), answer, 'and the client exactly the bytes it answered');
  const request = digest(moved, 'client', 'write', clientFd);
  assert.deepEqual(digest(moved, 'web-server', 'read', serverFd), request, 'the web server read exactly the bytes the client wrote');
  const response = digest(moved, 'web-server', 'write', serverFd);
  assert.deepEqual(digest(moved, 'client', 'read', clientFd), response, 'the client read exactly the bytes the web server wrote');
  return { query: query.bytes, answer: answer.bytes, request: request.bytes, response: response.bytes };
}
