/**
 * What the client's timeouts measure. The headers timeout is a total from
 * when the request was sent to its final response head (1xx heads and
 * dripped bytes do not extend it); the body timeout bounds each wait for
 * body bytes, as undici's bodyTimeout; the keep-alive idle timeout applies
 * only while nothing is in flight; an AbortSignal bounds everything. Raw
 * node:net servers on loopback play the slow and the malicious.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, test } from 'node:test';
import { request } from '../../src/http/client.js';
import { HttpError } from '../../src/wire/http/errors.js';
import { kernelLibrary } from '../helpers.js';
import { agent, rawServer, within } from './scripted.js';

/** Writes `text` one byte every `gap` ms while the socket is open. */
function drip(socket: net.Socket, text: string, gap: number): void {
  let i = 0;
  const timer = setInterval(() => {
    if (socket.destroyed || i >= text.length) return clearInterval(timer);
    socket.write(text[i++]!);
  }, gap);
  socket.once('close', () => clearInterval(timer));
}

const OK = (body: string) => `HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
const HEAD = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok';

/** Asserts an HttpError with `code` whose message names `limit`, and returns how long the call took. */
async function rejectsWith(p: Promise<unknown>, code: string, limit: RegExp, bound: number): Promise<number> {
  const t0 = performance.now();
  await assert.rejects(within(p, bound), (e: unknown) => {
    assert.ok(e instanceof HttpError, `not an HttpError: ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.match(e.message, limit);
    return true;
  });
  return performance.now() - t0;
}

// The slow cases run side by side, so the file takes about as long as the slowest.
describe('slow servers', { concurrency: true }, () => {
  test('a server that answers after 6 s: the request succeeds with the default timeouts', async () => {
    const url = await rawServer((socket) => setTimeout(() => socket.write(OK('late')), 6000));
    const res = await within(request(url, { agent: agent() }), 10_000);
    assert.equal(await res.body.text(), 'late');
  });

  test('a head dripped one byte every 2 s times out at the configured total, not per byte', async () => {
    const url = await rawServer((socket) => drip(socket, HEAD, 2000));
    const ms = await rejectsWith(request(url, { agent: agent(), headersTimeout: 3000 }), 'ERR_HTTP_HEADERS_TIMEOUT', /headersTimeout/, 8000);
    assert.ok(ms >= 2900 && ms < 4500, `timed out after ${ms.toFixed(0)} ms`);
  });

  test('1xx heads without end: the headers timeout still ends the wait', async () => {
    const url = await rawServer((socket) => {
      const timer = setInterval(() => socket.destroyed || socket.write('HTTP/1.1 103 Early Hints\r\n\r\n'), 100);
      socket.once('close', () => clearInterval(timer));
    });
    const ms = await rejectsWith(request(url, { agent: agent(), headersTimeout: 800 }), 'ERR_HTTP_HEADERS_TIMEOUT', /headersTimeout/, 5000);
    assert.ok(ms >= 750 && ms < 2000, `timed out after ${ms.toFixed(0)} ms`);
  });

  test('a kept-alive connection reused after an idle while: the keep-alive timeout does not apply to the request on it', async () => {
    const url = await rawServer((socket, index) => {
      if (index === 0) socket.write(OK('first'));
      else setTimeout(() => socket.write(OK('second')), 1500);
    });
    const a = agent({ keepAliveTimeout: 1000 });
    assert.equal(await (await request(url, { agent: a })).body.text(), 'first');
    await new Promise((r) => setTimeout(r, 300));
    const res = await within(request(url, { agent: a }), 5000);
    assert.equal(res.reused, true);
    assert.equal(await res.body.text(), 'second');
  });

  test('a body dripped a byte every 100 ms under a 400 ms body timeout arrives whole (the body timeout is between bytes)', async () => {
    const url = await rawServer((socket) => {
      socket.write('HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n');
      drip(socket, 'hello, world', 100);
    });
    const res = await request(url, { agent: agent(), bodyTimeout: 400 });
    assert.equal(await within(res.body.text(), 5000), 'hello, world');
  });

  test('a body that stops: ERR_HTTP_BODY_TIMEOUT after the body timeout, naming it', async () => {
    const url = await rawServer((socket) => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\nhello'));
    const res = await request(url, { agent: agent(), bodyTimeout: 300 });
    const ms = await rejectsWith(res.body.text(), 'ERR_HTTP_BODY_TIMEOUT', /bodyTimeout/, 3000);
    assert.ok(ms >= 250 && ms < 1500, `timed out after ${ms.toFixed(0)} ms`);
  });

  test('an idle connection is closed after the keep-alive timeout, and only when idle', async () => {
    const url = await rawServer((socket) => setTimeout(() => socket.write(OK('slow')), 700));
    const a = agent({ keepAliveTimeout: 200 });
    const res = await within(request(url, { agent: a }), 5000);
    assert.equal(await res.body.text(), 'slow', 'a request in flight longer than the keep-alive timeout is not cut');
    assert.equal(a.stats.connections, 1);
    await new Promise((r) => setTimeout(r, 600));
    assert.equal(a.stats.connections, 0, 'the idle connection was closed');
  });

  test('a pipelined request waits for the one before it without its own headers clock running out', async () => {
    const url = await rawServer((socket, index) => {
      // One chunk may carry both pipelined requests: the first answered after 600 ms, the second 600 ms
      // later, 1200 ms after it was sent, yet within 1000 ms of its turn.
      if (index === 0) return void socket.write(OK('warm'));
      if (index > 1) return;
      setTimeout(() => socket.write(OK('a')), 600);
      setTimeout(() => socket.write(OK('b')), 1200);
    });
    const a = agent({ pipelining: 2, connections: 1 });
    await (await request(url, { agent: a })).body.dump();
    const [x, y] = await within(Promise.all([request(url, { agent: a, headersTimeout: 1000 }), request(url, { agent: a, headersTimeout: 1000 })]), 5000);
    assert.equal(await x.body.text(), 'a');
    assert.equal(await y.body.text(), 'b');
  });
});

test('a server that stops reading the request body: ERR_HTTP_WRITE_TIMEOUT after the socket write timeout, naming it', async () => {
  // Accepts and never reads: the kernel's buffers fill and the write waits.
  const server = net.createServer((socket) => {
    socket.pause();
    socket.on('error', () => {});
    setTimeout(() => socket.destroy(), 5000);
  });
  server.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const port = (server.address() as net.AddressInfo).port;
  const lib = kernelLibrary('write-timeout', { defaults: { writeTimeout: 300 } });
  const a = agent({ lib });
  try {
    const ms = await rejectsWith(request(`http://127.0.0.1:${port}/`, { agent: a, method: 'PUT', body: new Uint8Array(64 * 1024 * 1024) }), 'ERR_HTTP_WRITE_TIMEOUT', /writeTimeout/, 5000);
    assert.ok(ms < 3000, `after ${ms.toFixed(0)} ms`);
  } finally {
    server.close();
  }
});

describe('an AbortSignal bounds the whole request', { concurrency: true }, () => {
  test('against a dripped head (as get -m does): aborted on time, with a message that says it timed out', async () => {
    const url = await rawServer((socket) => drip(socket, HEAD, 200));
    const ms = await rejectsWith(request(url, { agent: agent(), signal: AbortSignal.timeout(500) }), 'ERR_HTTP_ABORTED', /timed out/, 3000);
    assert.ok(ms < 1500, `aborted after ${ms.toFixed(0)} ms`);
  });

  test('while waiting in the pool for a busy connection', async () => {
    const url = await rawServer((socket) => setTimeout(() => socket.destroyed || socket.write(OK('x')), 3000));
    const a = agent({ connections: 1 });
    const first = request(url, { agent: a }).catch((e: unknown) => e);
    const ms = await rejectsWith(request(url, { agent: a, signal: AbortSignal.timeout(300) }), 'ERR_HTTP_ABORTED', /timed out/, 2500);
    assert.ok(ms < 1000, `aborted after ${ms.toFixed(0)} ms`);
    await a.close();
    await first;
  });

  test('after a 1xx, while the final head is awaited', async () => {
    const url = await rawServer((socket) => socket.write('HTTP/1.1 100 Continue\r\n\r\n'));
    const ms = await rejectsWith(request(url, { agent: agent(), signal: AbortSignal.timeout(300) }), 'ERR_HTTP_ABORTED', /timed out/, 3000);
    assert.ok(ms < 1500, `aborted after ${ms.toFixed(0)} ms`);
  });
});
