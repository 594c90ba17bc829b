/**
 * `protostack demo`: a server and a client on loopback exchanging one
 * message through the socket library, then both sides' calls as a timeline.
 * The client does the seed's steps in the seed's order: socket, connect,
 * write, read until the end, close; the server closes first, as web servers
 * usually do.
 */
import { SocketLibrary } from '../socket/library.js';
import { KernelStack } from '../stack/kernel/stack.js';
import type { ProtocolStack } from '../stack/types.js';
import { TraceLog } from '../trace/events.js';
import { renderTimeline } from '../trace/text.js';

export interface DemoResult {
  request: string;
  response: string;
  trace: TraceLog;
}

const REQUEST = 'GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n';
const RESPONSE_BODY = 'Hello from the other side of the socket library.\n';

export async function runDemo(stack: ProtocolStack = new KernelStack(), host = '127.0.0.1'): Promise<DemoResult> {
  const trace = new TraceLog();
  const server = new SocketLibrary(stack, { label: 'server', trace });
  const client = new SocketLibrary(stack, { label: 'client', trace });

  const listener = await server.socket('tcp');
  await server.bind(listener, host, 0);
  await server.listen(listener, 16);
  const { port } = await server.getsockname(listener);

  const served = (async () => {
    const fd = await server.accept(listener);
    const request = await readUntil(server, fd, (text) => text.includes('\r\n\r\n'));
    const response = `HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(RESPONSE_BODY)}\r\n\r\n${RESPONSE_BODY}`;
    await server.write(fd, Buffer.from(response));
    await server.close(fd);
    await server.close(listener);
    return request;
  })();

  const fd = await client.socket('tcp');
  await client.connect(fd, host, port);
  await client.write(fd, Buffer.from(REQUEST));
  const response = await readUntil(client, fd, () => false);
  await client.close(fd);
  const request = await served;
  return { request, response, trace };
}

/** Reads until `done` says so or the peer closes. */
async function readUntil(lib: SocketLibrary, fd: number, done: (text: string) => boolean): Promise<string> {
  const buffer = new Uint8Array(4096);
  let text = '';
  for (;;) {
    const n = await lib.read(fd, buffer);
    if (n === 0) return text;
    text += Buffer.from(buffer.subarray(0, n)).toString('latin1');
    if (done(text)) return text;
  }
}

export function formatDemo(result: DemoResult): string {
  const show = (s: string) => s.replace(/\r\n/g, '\\r\\n\n    ').trimEnd();
  return [
    'protostack demo: a client and a server on loopback, talking through the socket library over the kernel stack.',
    '',
    `  client wrote ${Buffer.byteLength(result.request, 'latin1')} bytes:`,
    `    ${show(result.request)}`,
    `  client read ${Buffer.byteLength(result.response, 'latin1')} bytes:`,
    `    ${show(result.response)}`,
    '',
    'Every socket call on both sides, in the order it began; "waited" is how long control stayed in the socket library:',
    '',
    renderTimeline(result.trace.events),
  ].join('\n');
}
