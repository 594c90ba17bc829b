/**
 * Interim (1xx) responses (RFC 9110 §15.2): a request stays pending until
 * its final response, and every failure after a 100 Continue or a 103 Early
 * Hints rejects it with a typed error. The servers are raw node:net peers on
 * loopback that send a 1xx and then close, reset, send garbage or go silent.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import net from 'node:net';
import { test } from 'node:test';
import { request } from '../../src/http/client.js';
import { fetch } from '../../src/http/fetch.js';
import { HttpError } from '../../src/wire/http/errors.js';
import { agent, rawServer, within } from './scripted.js';

/** A raw server that answers a request's first bytes with `first`, then does `then`. */
function interimServer(first: string, then: (socket: net.Socket) => void): Promise<string> {
  return rawServer((socket, index) => {
    if (index > 0) return;
    socket.write(first);
    // A moment later, so the 1xx is parsed before what follows it.
    setTimeout(() => then(socket), 20);
  });
}

const INTERIM: Record<string, string> = {
  '100 Continue': 'HTTP/1.1 100 Continue\r\n\r\n',
  '103 Early Hints': 'HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload; as=style\r\n\r\n',
};

const AFTER: Record<string, { then: (s: net.Socket) => void; code: RegExp }> = {
  close: { then: (s) => s.end(), code: /^ERR_HTTP_SOCKET$/ },
  reset: { then: (s) => s.resetAndDestroy(), code: /^ERR_HTTP_SOCKET$/ },
  garbage: { then: (s) => s.write('\x00\x01\x02 this is not HTTP\r\n\r\n'), code: /^ERR_HTTP_BAD_/ },
  // Silence: the headers timeout (short here) runs from the request, the 1xx does not restart it.
  silence: { then: () => {}, code: /^ERR_HTTP_HEADERS_TIMEOUT$/ },
};

for (const [name, interim] of Object.entries(INTERIM)) {
  for (const [what, { then, code }] of Object.entries(AFTER)) {
    test(`${name}, then ${what}: request() rejects with a typed error`, async () => {
      const url = await interimServer(interim, then);
      const t0 = performance.now();
      await assert.rejects(within(request(url, { agent: agent(), headersTimeout: 400 }), 3000), (e: unknown) => {
        assert.ok(e instanceof HttpError, `not an HttpError: ${String(e)}`);
        assert.match(e.code, code);
        return true;
      });
      if (what === 'silence') assert.ok(performance.now() - t0 < 1500, 'the headers timeout counts from the request');
    });

    test(`${name}, then ${what}: fetch() rejects with a TypeError caused by the typed error`, async () => {
      const url = await interimServer(interim, then);
      const a = agent({ headersTimeout: 400 });
      await assert.rejects(within(fetch(url, { agent: a }), 3000), (e: unknown) => {
        assert.ok(e instanceof TypeError, `not a TypeError: ${String(e)}`);
        assert.ok(e.cause instanceof HttpError);
        assert.match(e.cause.code, code);
        return true;
      });
    });
  }
}

test('100 Continue, then the final response: the request resolves with the final status', async () => {
  const url = await interimServer(INTERIM['100 Continue']!, (s) => s.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok'));
  const res = await within(request(url, { agent: agent() }), 3000);
  assert.equal(res.statusCode, 200);
  assert.equal(await res.body.text(), 'ok');
});

test('several 1xx, then the final response: still one answer, the final one', async () => {
  const url = await interimServer(INTERIM['103 Early Hints']! + INTERIM['103 Early Hints']!, (s) => s.end('HTTP/1.1 204 No Content\r\n\r\n'));
  const res = await within(request(url, { agent: agent() }), 3000);
  assert.equal(res.statusCode, 204);
});

test('protostack get: a 100 Continue then a close exits non-zero with the error on stderr', async () => {
  const url = await interimServer(INTERIM['100 Continue']!, (s) => s.end());
  const main = new URL('../../src/cli/main.js', import.meta.url).pathname;
  const env = { ...process.env, http_proxy: '', HTTP_PROXY: '' };
  const result = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    execFile('node', [main, 'get', url], { env, timeout: 10_000 }, (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? -1) : 0, stdout, stderr }));
  });
  assert.equal(result.code, 56, `exit code ${result.code}, stdout ${JSON.stringify(result.stdout)}`);
  assert.match(result.stderr, /^protostack get: 127\.0\.0\.1 port \d+ closed the connection after an interim \(1xx\) response, before the final one\n$/);
});
