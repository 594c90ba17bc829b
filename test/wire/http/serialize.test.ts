import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HttpError, type HttpErrorCode } from '../../../src/wire/http/errors.js';
import { HttpParser } from '../../../src/wire/http/parser.js';
import {
  chunk,
  chunkSizeLine,
  connectionCloses,
  isContentLength,
  LAST_CHUNK,
  lastChunk,
  reasonFor,
  sendFraming,
  serializeRequestHead,
  serializeResponseHead,
  statusLine,
  STATUS_REASONS,
} from '../../../src/wire/http/serialize.js';
import type { HeaderList, MessageHead } from '../../../src/wire/http/types.js';

const text = (b: Uint8Array) => Buffer.from(b).toString('latin1');

function throwsCode(fn: () => unknown, code: HttpErrorCode, label?: string): void {
  assert.throws(fn, (err: unknown) => err instanceof HttpError && err.code === code, label);
}

/** Parses whole messages out of `parts`. */
function parse(kind: 'request' | 'response', parts: Uint8Array[], methods: string[] = []) {
  const out: { head: MessageHead; body: string; trailers: HeaderList | null }[] = [];
  const p = new HttpParser(kind, {
    onHead: (head) => void out.push({ head, body: '', trailers: null }),
    onBody: (b) => void (out[out.length - 1]!.body += text(b)),
    onEnd: (t) => void (out[out.length - 1]!.trailers = t),
  });
  for (const m of methods) p.expect(m);
  for (const part of parts) assert.equal(p.execute(part), part.length);
  assert.equal(p.idle, true);
  return out;
}

test('a request head is written as RFC 9112 says, and parses back to the same values', () => {
  const headers: HeaderList = [
    ['Host', 'example.com:8080'],
    ['User-Agent', 'protostack/0.1 (+tabs\there)'],
    ['X-Latin', 'caf\xe9'],
    ['X-Empty', ''],
  ];
  const head = serializeRequestHead('PATCH', '/a/b?c=d%20e#f', headers);
  assert.equal(
    text(head),
    'PATCH /a/b?c=d%20e#f HTTP/1.1\r\nHost: example.com:8080\r\nUser-Agent: protostack/0.1 (+tabs\there)\r\nX-Latin: caf\xe9\r\nX-Empty: \r\n\r\n',
  );
  const [m] = parse('request', [head]);
  assert.ok(m && m.head.kind === 'request');
  assert.equal(m.head.method, 'PATCH');
  assert.equal(m.head.target, '/a/b?c=d%20e#f');
  assert.equal(m.head.minor, 1);
  assert.deepEqual(m.head.headers, headers);
  assert.equal(text(serializeRequestHead('GET', '/', [], 0)), 'GET / HTTP/1.0\r\n\r\n');
});

test('a response head takes its reason from the table when none is given', () => {
  assert.equal(text(serializeResponseHead(404, '', [['Content-Length', '0']])), 'HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
  assert.equal(text(serializeResponseHead(200, 'Fine', [], 0)), 'HTTP/1.0 200 Fine\r\n\r\n');
  // No reason known: the space before it stays (RFC 9112 §4).
  assert.equal(text(serializeResponseHead(599, '', [])), 'HTTP/1.1 599 \r\n\r\n');
  assert.equal(STATUS_REASONS[413], 'Content Too Large');
  assert.equal(STATUS_REASONS[431], 'Request Header Fields Too Large');
  const [m] = parse('response', [serializeResponseHead(451, '', [['Content-Length', '0'], ['Link', '<https://x>; rel="blocked-by"']])]);
  assert.ok(m && m.head.kind === 'response');
  assert.equal(m.head.status, 451);
  assert.equal(m.head.reason, 'Unavailable For Legal Reasons');
  assert.deepEqual(m.head.headers, [
    ['Content-Length', '0'],
    ['Link', '<https://x>; rel="blocked-by"'],
  ]);
});

test('chunked bodies: chunks and trailers parse back', () => {
  const body = [Uint8Array.from([0x61, 0x62, 0x63]), new Uint8Array(0), new Uint8Array(300).fill(0x7a)];
  assert.deepEqual(chunk(new Uint8Array(0)), []);
  const parts = [serializeRequestHead('POST', '/up', [['Host', 'h'], ['Transfer-Encoding', 'chunked']]), ...body.flatMap(chunk), lastChunk([['X-Sum', '42']])];
  assert.equal(text(chunk(body[2]!)[0]!), '12c\r\n');
  assert.equal(chunk(body[0]!)[1], body[0], 'the data itself, not a copy');
  const [m] = parse('request', parts);
  assert.equal(m!.body, `abc${'z'.repeat(300)}`);
  assert.deepEqual(m!.trailers, [['X-Sum', '42']]);
  assert.equal(text(lastChunk()), '0\r\n\r\n');
  assert.equal(text(lastChunk([])), '0\r\n\r\n');
  const [n] = parse('response', [serializeResponseHead(200, '', [['Transfer-Encoding', 'chunked']]), ...chunk(body[0]!), lastChunk()]);
  assert.equal(n!.body, 'abc');
  assert.equal(n!.trailers, null);
});

test('injection attempts throw instead of writing', () => {
  // response splitting: a value that ends the head and starts a new message
  throwsCode(() => serializeResponseHead(302, '', [['Location', '/x\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK']]), 'ERR_HTTP_BAD_HEADER_VALUE');
  throwsCode(() => serializeRequestHead('GET', '/', [['X', 'a\nb']]), 'ERR_HTTP_BAD_HEADER_VALUE');
  throwsCode(() => serializeRequestHead('GET', '/', [['X', 'a\rb']]), 'ERR_HTTP_BAD_HEADER_VALUE');
  throwsCode(() => serializeRequestHead('GET', '/', [['X', 'a\0b']]), 'ERR_HTTP_BAD_HEADER_VALUE');
  throwsCode(() => serializeRequestHead('GET', '/', [['X', 'a\x7f']]), 'ERR_HTTP_BAD_HEADER_VALUE');
  throwsCode(() => serializeRequestHead('GET', '/', [['X', '\u2028']]), 'ERR_HTTP_BAD_HEADER_VALUE');
  throwsCode(() => serializeRequestHead('GET', '/', [['X', '€']]), 'ERR_HTTP_BAD_HEADER_VALUE');
  throwsCode(() => serializeRequestHead('GET', '/', [['X\r\nY', 'v']]), 'ERR_HTTP_BAD_HEADER_NAME');
  throwsCode(() => serializeRequestHead('GET', '/', [['X:Y', 'v']]), 'ERR_HTTP_BAD_HEADER_NAME');
  throwsCode(() => serializeRequestHead('GET', '/', [['X Y', 'v']]), 'ERR_HTTP_BAD_HEADER_NAME');
  throwsCode(() => serializeRequestHead('GET', '/', [['', 'v']]), 'ERR_HTTP_BAD_HEADER_NAME');
  // request smuggling through the start line
  throwsCode(() => serializeRequestHead('GET', '/ HTTP/1.1\r\nHost: evil\r\n\r\nGET /admin', []), 'ERR_HTTP_BAD_TARGET');
  throwsCode(() => serializeRequestHead('GET', '/a b', []), 'ERR_HTTP_BAD_TARGET');
  throwsCode(() => serializeRequestHead('GET', '/a\tb', []), 'ERR_HTTP_BAD_TARGET');
  throwsCode(() => serializeRequestHead('GET', '/caf\xe9', []), 'ERR_HTTP_BAD_TARGET');
  throwsCode(() => serializeRequestHead('GET', '', []), 'ERR_HTTP_BAD_TARGET');
  throwsCode(() => serializeRequestHead('GET /x', '/', []), 'ERR_HTTP_BAD_METHOD');
  throwsCode(() => serializeRequestHead('', '/', []), 'ERR_HTTP_BAD_METHOD');
  throwsCode(() => serializeRequestHead('G\r\nET', '/', []), 'ERR_HTTP_BAD_METHOD');
  throwsCode(() => serializeResponseHead(200, 'OK\r\nSet-Cookie: a=b', []), 'ERR_HTTP_BAD_STATUS');
  throwsCode(() => serializeResponseHead(99, '', []), 'ERR_HTTP_BAD_STATUS');
  throwsCode(() => serializeResponseHead(1000, '', []), 'ERR_HTTP_BAD_STATUS');
  throwsCode(() => serializeResponseHead(200.5, '', []), 'ERR_HTTP_BAD_STATUS');
  throwsCode(() => serializeRequestHead('GET', '/', [], 2), 'ERR_HTTP_BAD_VERSION');
  throwsCode(() => lastChunk([['X-T', 'a\r\nb']]), 'ERR_HTTP_BAD_HEADER_VALUE');
  throwsCode(() => lastChunk([['X T', 'a']]), 'ERR_HTTP_BAD_HEADER_NAME');
});

test('whatever the serializers accept, the parser accepts', () => {
  // every tchar in a method and a name, every allowed byte in a value
  const tchars = "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  let value = '\t';
  for (let c = 0x20; c <= 0xff; c++) if (c !== 0x7f) value += String.fromCharCode(c);
  value += '!'; // the parser trims whitespace at the ends
  let target = '';
  for (let c = 0x21; c < 0x7f; c++) target += String.fromCharCode(c);
  const head = serializeRequestHead(tchars, target, [
    ['Host', 'h'],
    [tchars, value.trimStart()],
  ]);
  const [m] = parse('request', [head]);
  assert.ok(m && m.head.kind === 'request');
  assert.equal(m.head.method, tchars);
  assert.equal(m.head.target, target);
  assert.deepEqual(m.head.headers[1], [tchars, value.trimStart()]);
});

test('the text pieces a string-built head uses: status lines, chunk size lines, the last chunk', () => {
  assert.equal(statusLine(200, undefined), 'HTTP/1.1 200 OK\r\n');
  assert.equal(statusLine(404, undefined), 'HTTP/1.1 404 Not Found\r\n');
  assert.equal(statusLine(299, undefined), 'HTTP/1.1 299 \r\n', 'no standard reason: the SP stays');
  assert.equal(statusLine(200, 'Fine'), 'HTTP/1.1 200 Fine\r\n');
  assert.equal(reasonFor(503), 'Service Unavailable');
  assert.equal(chunkSizeLine(300), '12c\r\n');
  assert.equal(text(chunk(new Uint8Array(300))[0]!), chunkSizeLine(300), 'one size line for both writers');
  assert.equal(text(LAST_CHUNK), text(lastChunk()));
  const head = new TextEncoder().encode(`${statusLine(404, undefined)}Content-Length: 0\r\n\r\n`);
  const [m] = parse('response', [head]);
  assert.ok(m && m.head.kind === 'response');
  assert.equal(m.head.status, 404);
  assert.equal(m.head.reason, 'Not Found');
});

test('how a sender frames a body, and the Content-Length and Connection values it writes', () => {
  assert.equal(sendFraming(false, false, 1), 'none');
  assert.equal(sendFraming(false, true, 0), 'none');
  assert.equal(sendFraming(true, true, 1), 'length');
  assert.equal(sendFraming(true, true, 0), 'length');
  assert.equal(sendFraming(true, false, 1), 'chunked');
  assert.equal(sendFraming(true, false, 0), 'close');
  for (const ok of ['0', '42', '999999999999999']) assert.equal(isContentLength(ok), true, ok);
  for (const bad of ['', '-1', '1.5', ' 1', '1,1', '0x10', '1000000000000000']) assert.equal(isContentLength(bad), false, bad);
  for (const yes of ['close', 'Close', 'keep-alive, close', 'close,upgrade', ' close ']) assert.equal(connectionCloses(yes), true, yes);
  for (const no of ['keep-alive', 'closed', 'x-close', 'upgrade']) assert.equal(connectionCloses(no), false, no);
});
