import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HttpError, type HttpErrorCode } from '../../../src/wire/http/errors.js';
import { HttpParser } from '../../../src/wire/http/parser.js';
import type { HeaderList, HttpLimits, MessageHead, RequestHead, ResponseHead } from '../../../src/wire/http/types.js';

const bytes = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const text = (b: Uint8Array) => Buffer.from(b).toString('latin1');

interface Message {
  head: MessageHead;
  body: string;
  trailers: HeaderList | null | undefined; // undefined: the message has not ended
}

interface Outcome {
  messages: Message[];
  /** Bytes execute() consumed in all. */
  consumed: number;
  error?: HttpErrorCode;
}

interface Options {
  methods?: string[];
  limits?: Partial<HttpLimits>;
  finish?: boolean;
}

/** Feeds `input` in the pieces given, the way a connection would, and records what came out. */
function feed(kind: 'request' | 'response', pieces: Uint8Array[], options: Options = {}): Outcome {
  const messages: Message[] = [];
  const current = () => messages[messages.length - 1]!;
  const parser = new HttpParser(
    kind,
    {
      onHead: (head) => void messages.push({ head, body: '', trailers: undefined }),
      onBody: (chunk) => void (current().body += text(chunk)),
      onEnd: (trailers) => void (current().trailers = trailers),
    },
    options.limits,
  );
  for (const m of options.methods ?? []) parser.expect(m);
  let consumed = 0;
  try {
    for (const piece of pieces) consumed += parser.execute(piece);
    if (options.finish) parser.finish();
  } catch (err) {
    if (!(err instanceof HttpError)) throw err;
    return { messages, consumed, error: err.code };
  }
  return { messages, consumed };
}

const whole = (s: string) => [bytes(s)];
const oneByOne = (s: string) => Array.from(bytes(s), (b) => Uint8Array.of(b));
const splitAt = (s: string, at: number) => [bytes(s.slice(0, at)), bytes(s.slice(at))];

function req(fields: Partial<RequestHead>): RequestHead {
  return { kind: 'request', method: 'GET', target: '/', minor: 1, headers: [], body: { kind: 'none' }, keepAlive: true, expectContinue: false, upgrade: false, ...fields };
}
function res(fields: Partial<ResponseHead>): ResponseHead {
  return { kind: 'response', status: 200, reason: 'OK', minor: 1, headers: [], body: { kind: 'none' }, keepAlive: true, upgrade: false, ...fields };
}
const msg = (head: MessageHead, body = '', trailers: HeaderList | null | undefined = null): Message => ({ head, body, trailers });

interface ValidCase extends Options {
  name: string;
  kind: 'request' | 'response';
  input: string;
  messages: Message[];
  /** Bytes left for the caller after an upgrade. */
  leftover?: string;
}

const H = [['Host', 'a.example']] as HeaderList;

const valid: ValidCase[] = [
  {
    name: 'GET',
    kind: 'request',
    input: 'GET /index.html?q=1 HTTP/1.1\r\nHost: a.example\r\nAccept: */*\r\n\r\n',
    messages: [msg(req({ target: '/index.html?q=1', headers: [...H, ['Accept', '*/*']] }))],
  },
  {
    name: 'POST with Content-Length',
    kind: 'request',
    input: 'POST /form HTTP/1.1\r\nHost: a.example\r\nContent-Length: 11\r\n\r\nhello world',
    messages: [msg(req({ method: 'POST', target: '/form', headers: [...H, ['Content-Length', '11']], body: { kind: 'length', length: 11 } }), 'hello world')],
  },
  {
    name: 'POST with Content-Length: 0',
    kind: 'request',
    input: 'POST / HTTP/1.1\r\nHost: a.example\r\nContent-Length: 0\r\n\r\n',
    messages: [msg(req({ method: 'POST', headers: [...H, ['Content-Length', '0']], body: { kind: 'length', length: 0 } }))],
  },
  {
    name: 'chunked with extensions and trailers',
    kind: 'request',
    input:
      'PUT /up HTTP/1.1\r\nHost: a.example\r\nTransfer-Encoding: gzip, chunked\r\n\r\n' +
      '5;name=value;flag\r\nhello\r\n' +
      '1 ; q="a \\"quoted\\" ;x"\r\n \r\n' +
      '00000006\r\nworld!\r\n' +
      'A\r\n0123456789\r\n' +
      '0;last\r\nX-Checksum: abc\r\nX-Empty:\r\n\r\n',
    messages: [
      msg(
        req({ method: 'PUT', target: '/up', headers: [...H, ['Transfer-Encoding', 'gzip, chunked']], body: { kind: 'chunked' } }),
        'hello world!0123456789',
        [
          ['X-Checksum', 'abc'],
          ['X-Empty', ''],
        ],
      ),
    ],
  },
  {
    name: 'chunked without trailers',
    kind: 'response',
    input: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n',
    messages: [msg(res({ headers: [['Transfer-Encoding', 'chunked']], body: { kind: 'chunked' } }), 'abc', null)],
  },
  {
    name: 'HTTP/1.0 response read until close',
    kind: 'response',
    input: 'HTTP/1.0 200 OK\r\nServer: old\r\n\r\nall of this\r\nuntil the end',
    finish: true,
    messages: [msg(res({ minor: 0, headers: [['Server', 'old']], body: { kind: 'close' }, keepAlive: false }), 'all of this\r\nuntil the end')],
  },
  {
    name: 'HTTP/1.1 response without length reads until close too',
    kind: 'response',
    input: 'HTTP/1.1 200 OK\r\nConnection: keep-alive\r\n\r\nbody',
    finish: true,
    messages: [msg(res({ headers: [['Connection', 'keep-alive']], body: { kind: 'close' }, keepAlive: false }), 'body')],
  },
  {
    name: 'HEAD response with Content-Length has no body',
    kind: 'response',
    methods: ['HEAD', 'GET'],
    input: 'HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok',
    messages: [
      msg(res({ headers: [['Content-Length', '1234']] })),
      msg(res({ headers: [['Content-Length', '2']], body: { kind: 'length', length: 2 } }), 'ok'),
    ],
  },
  {
    name: '204 and 304 have no body',
    kind: 'response',
    methods: ['DELETE', 'GET', 'GET'],
    input:
      'HTTP/1.1 204 No Content\r\n\r\n' +
      'HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\nETag: "x"\r\n\r\n' +
      'HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n!',
    messages: [
      msg(res({ status: 204, reason: 'No Content' })),
      msg(res({ status: 304, reason: 'Not Modified', headers: [['Content-Length', '99'], ['ETag', '"x"']] })),
      msg(res({ headers: [['Content-Length', '1']], body: { kind: 'length', length: 1 } }), '!'),
    ],
  },
  {
    name: '100 Continue then 200, one method',
    kind: 'response',
    methods: ['HEAD'],
    input: 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n',
    messages: [
      msg(res({ status: 100, reason: 'Continue' })),
      msg(res({ status: 103, reason: 'Early Hints', headers: [['Link', '</s.css>']] })),
      msg(res({ headers: [['Content-Length', '5']] })),
    ],
  },
  {
    name: '101 upgrade leaves the rest',
    kind: 'response',
    input: 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x05hello',
    messages: [msg(res({ status: 101, reason: 'Switching Protocols', headers: [['Upgrade', 'websocket'], ['Connection', 'Upgrade']], upgrade: true }))],
    leftover: '\x81\x05hello',
  },
  {
    name: 'upgrade request leaves the rest',
    kind: 'request',
    input: 'GET /chat HTTP/1.1\r\nHost: a.example\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n\r\n\x81\x85',
    messages: [msg(req({ target: '/chat', headers: [...H, ['Connection', 'keep-alive, Upgrade'], ['Upgrade', 'websocket']], upgrade: true }))],
    leftover: '\x81\x85',
  },
  {
    name: 'upgrade request with a body: the body first',
    kind: 'request',
    input: 'POST /h2c HTTP/1.1\r\nHost: a.example\r\nConnection: Upgrade\r\nUpgrade: h2c\r\nContent-Length: 3\r\n\r\nabcPRI * HTTP/2.0',
    messages: [
      msg(
        req({ method: 'POST', target: '/h2c', headers: [...H, ['Connection', 'Upgrade'], ['Upgrade', 'h2c'], ['Content-Length', '3']], body: { kind: 'length', length: 3 }, upgrade: true }),
        'abc',
      ),
    ],
    leftover: 'PRI * HTTP/2.0',
  },
  {
    name: 'Upgrade without Connection: upgrade is not one',
    kind: 'request',
    input: 'GET / HTTP/1.1\r\nHost: a.example\r\nUpgrade: websocket\r\n\r\n',
    messages: [msg(req({ headers: [...H, ['Upgrade', 'websocket']] }))],
  },
  {
    name: 'CONNECT request',
    kind: 'request',
    input: 'CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\n\r\n\x16\x03\x01',
    messages: [msg(req({ method: 'CONNECT', target: 'a.example:443', headers: [['Host', 'a.example:443']], upgrade: true }))],
    leftover: '\x16\x03\x01',
  },
  {
    name: '200 to CONNECT is a tunnel, its framing fields ignored',
    kind: 'response',
    methods: ['CONNECT'],
    input: 'HTTP/1.1 200 Connection established\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n\x16\x03\x03',
    messages: [msg(res({ reason: 'Connection established', headers: [['Content-Length', '5'], ['Transfer-Encoding', 'chunked']], upgrade: true }))],
    leftover: '\x16\x03\x03',
  },
  {
    name: '407 to CONNECT is an ordinary response',
    kind: 'response',
    methods: ['CONNECT'],
    input: 'HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 2\r\n\r\nno',
    messages: [msg(res({ status: 407, reason: 'Proxy Authentication Required', headers: [['Content-Length', '2']], body: { kind: 'length', length: 2 } }), 'no')],
  },
  {
    name: 'pipelined requests in one buffer',
    kind: 'request',
    input:
      'GET /1 HTTP/1.1\r\nHost: a.example\r\n\r\n' +
      'POST /2 HTTP/1.1\r\nHost: a.example\r\nContent-Length: 4\r\n\r\nbody' +
      'POST /3 HTTP/1.1\r\nHost: a.example\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nxy\r\n0\r\n\r\n' +
      'GET /4 HTTP/1.1\r\nHost: a.example\r\nConnection: close\r\n\r\n',
    messages: [
      msg(req({ target: '/1', headers: H })),
      msg(req({ method: 'POST', target: '/2', headers: [...H, ['Content-Length', '4']], body: { kind: 'length', length: 4 } }), 'body'),
      msg(req({ method: 'POST', target: '/3', headers: [...H, ['Transfer-Encoding', 'chunked']], body: { kind: 'chunked' } }), 'xy'),
      msg(req({ target: '/4', headers: [...H, ['Connection', 'close']], keepAlive: false })),
    ],
  },
  {
    name: 'keep-alive: HTTP/1.0 only when asked, close always wins',
    kind: 'request',
    input:
      'GET /a HTTP/1.0\r\n\r\n' +
      'GET /b HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n' +
      'GET /c HTTP/1.1\r\nHost: a.example\r\nConnection: keep-alive, CLOSE\r\n\r\n' +
      'GET /d HTTP/1.1\r\nHost: a.example\r\nConnection: TE\r\nConnection: close\r\n\r\n',
    messages: [
      msg(req({ target: '/a', minor: 0, keepAlive: false })),
      msg(req({ target: '/b', minor: 0, headers: [['Connection', 'Keep-Alive']] })),
      msg(req({ target: '/c', headers: [...H, ['Connection', 'keep-alive, CLOSE']], keepAlive: false })),
      msg(req({ target: '/d', headers: [...H, ['Connection', 'TE'], ['Connection', 'close']], keepAlive: false })),
    ],
  },
  {
    name: 'keep-alive in responses',
    kind: 'response',
    methods: ['GET', 'GET', 'GET'],
    input:
      'HTTP/1.0 200 OK\r\nContent-Length: 1\r\nConnection: keep-alive\r\n\r\na' +
      'HTTP/1.1 200 OK\r\nContent-Length: 1\r\nConnection: close\r\n\r\nb' +
      'HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nc',
    messages: [
      msg(res({ minor: 0, headers: [['Content-Length', '1'], ['Connection', 'keep-alive']], body: { kind: 'length', length: 1 } }), 'a'),
      msg(res({ headers: [['Content-Length', '1'], ['Connection', 'close']], body: { kind: 'length', length: 1 }, keepAlive: false }), 'b'),
      msg(res({ minor: 0, headers: [['Content-Length', '1']], body: { kind: 'length', length: 1 }, keepAlive: false }), 'c'),
    ],
  },
  {
    name: 'empty lines before a request line are skipped',
    kind: 'request',
    input: '\r\n\r\nGET / HTTP/1.1\r\nHost: a.example\r\n\r\n\r\nGET /2 HTTP/1.1\r\nHost: a.example\r\n\r\n',
    messages: [msg(req({ headers: H })), msg(req({ target: '/2', headers: H }))],
  },
  {
    name: 'Expect: 100-continue',
    kind: 'request',
    input: 'PUT /f HTTP/1.1\r\nHost: a.example\r\nExpect: 100-Continue\r\nContent-Length: 2\r\n\r\nok',
    messages: [
      msg(req({ method: 'PUT', target: '/f', headers: [...H, ['Expect', '100-Continue'], ['Content-Length', '2']], body: { kind: 'length', length: 2 }, expectContinue: true }), 'ok'),
    ],
  },
  {
    name: 'values: OWS trimmed, obs-text kept, empty allowed, names as sent',
    kind: 'request',
    input: 'OPTIONS * HTTP/1.1\r\nhOsT:a.example\r\nX-Pad: \t spaced  out \t\r\nX-Latin: caf\xe9 \xff\r\nX-None:\r\nX-Quote: "a,b"; q=0.5\r\n\r\n',
    messages: [
      msg(
        req({
          method: 'OPTIONS',
          target: '*',
          headers: [
            ['hOsT', 'a.example'],
            ['X-Pad', 'spaced  out'],
            ['X-Latin', 'caf\xe9 \xff'],
            ['X-None', ''],
            ['X-Quote', '"a,b"; q=0.5'],
          ],
        }),
      ),
    ],
  },
  {
    name: 'absolute-form target and a custom method',
    kind: 'request',
    input: 'M-SEARCH http://a.example:8080/p?x=%20 HTTP/1.1\r\nHost: a.example:8080\r\n\r\n',
    messages: [msg(req({ method: 'M-SEARCH', target: 'http://a.example:8080/p?x=%20', headers: [['Host', 'a.example:8080']] }))],
  },
  {
    name: 'HTTP/1.0 request needs no Host; HTTP/1.2 reads as 1.1',
    kind: 'request',
    input: 'GET / HTTP/1.0\r\n\r\nGET / HTTP/1.2\r\nHost: [::1]:80\r\n\r\n',
    messages: [msg(req({ minor: 0, keepAlive: false })), msg(req({ headers: [['Host', '[::1]:80']] }))],
  },
  {
    name: 'status lines: no reason, no space after the status, odd reasons',
    kind: 'response',
    methods: ['GET', 'GET', 'GET'],
    input:
      'HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n' +
      'HTTP/1.1 599\r\nContent-Length: 0\r\n\r\n' +
      'HTTP/1.9 404 Not\tFound \xe9\r\nContent-Length: 0\r\n\r\n',
    messages: [
      msg(res({ reason: '', headers: [['Content-Length', '0']], body: { kind: 'length', length: 0 } })),
      msg(res({ status: 599, reason: '', headers: [['Content-Length', '0']], body: { kind: 'length', length: 0 } })),
      msg(res({ status: 404, reason: 'Not\tFound \xe9', headers: [['Content-Length', '0']], body: { kind: 'length', length: 0 } })),
    ],
  },
  {
    name: 'repeated and listed identical Content-Length are one',
    kind: 'request',
    input: 'POST / HTTP/1.1\r\nHost: a.example\r\nContent-Length: 3, 3\r\nContent-Length: 3\r\n\r\nabc',
    messages: [
      msg(req({ method: 'POST', headers: [...H, ['Content-Length', '3, 3'], ['Content-Length', '3']], body: { kind: 'length', length: 3 } }), 'abc'),
    ],
  },
  {
    name: 'response whose last coding is not chunked reads until close',
    kind: 'response',
    input: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n\x1f\x8b raw',
    finish: true,
    messages: [msg(res({ headers: [['Transfer-Encoding', 'chunked, gzip']], body: { kind: 'close' }, keepAlive: false }), '\x1f\x8b raw')],
  },
  {
    name: 'Transfer-Encoding over two fields',
    kind: 'response',
    input: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip;level=9\r\ntransfer-encoding: Chunked\r\n\r\n1\r\nz\r\n0\r\n\r\n',
    messages: [msg(res({ headers: [['Transfer-Encoding', 'gzip;level=9'], ['transfer-encoding', 'Chunked']], body: { kind: 'chunked' } }), 'z')],
  },
  {
    name: 'a response with no method queued is read as one to GET',
    kind: 'response',
    input: 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc',
    messages: [msg(res({ headers: [['Content-Length', '3']], body: { kind: 'length', length: 3 } }), 'abc')],
  },
];

function assertSame(actual: Outcome, expected: Outcome, label: string): void {
  assert.deepEqual(actual, expected, label);
}

for (const c of valid) {
  test(`valid ${c.kind}: ${c.name}`, () => {
    const options: Options = { methods: c.methods, finish: c.finish, limits: c.limits };
    const reference = feed(c.kind, whole(c.input), options);
    assert.equal(reference.error, undefined, `unexpected ${reference.error}`);
    assert.deepEqual(reference.messages, c.messages);
    assert.equal(c.input.slice(reference.consumed), c.leftover ?? '', 'bytes left after an upgrade');
    assertSame(feed(c.kind, oneByOne(c.input), options), reference, 'one byte at a time');
    for (let at = 1; at < c.input.length; at++) assertSame(feed(c.kind, splitAt(c.input, at), options), reference, `split at ${at}`);
  });
}

interface BadCase extends Options {
  name: string;
  kind: 'request' | 'response';
  input: string;
  code: HttpErrorCode;
}

const GET = 'GET / HTTP/1.1\r\nHost: a\r\n';
const POST = 'POST / HTTP/1.1\r\nHost: a\r\n';
const CHUNKED = `${POST}Transfer-Encoding: chunked\r\n\r\n`;
const OK = 'HTTP/1.1 200 OK\r\n';

const malformed: BadCase[] = [
  // smuggling: framing that two parsers could read differently
  { name: 'Content-Length and Transfer-Encoding', kind: 'request', input: `${POST}Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n`, code: 'ERR_HTTP_TE_AND_CL' },
  { name: 'Transfer-Encoding then Content-Length', kind: 'request', input: `${POST}Transfer-Encoding: chunked\r\nContent-Length: 0\r\n\r\n`, code: 'ERR_HTTP_TE_AND_CL' },
  { name: 'CL and TE in a response', kind: 'response', input: `${OK}Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n`, code: 'ERR_HTTP_TE_AND_CL' },
  { name: 'two different Content-Lengths', kind: 'request', input: `${POST}Content-Length: 3\r\nContent-Length: 4\r\n\r\n`, code: 'ERR_HTTP_BAD_CONTENT_LENGTH' },
  { name: 'a list of different Content-Lengths', kind: 'request', input: `${POST}Content-Length: 3, 4\r\n\r\n`, code: 'ERR_HTTP_BAD_CONTENT_LENGTH' },
  { name: 'Content-Length with a plus', kind: 'request', input: `${POST}Content-Length: +3\r\n\r\n`, code: 'ERR_HTTP_BAD_CONTENT_LENGTH' },
  { name: 'Content-Length with a minus', kind: 'request', input: `${POST}Content-Length: -1\r\n\r\n`, code: 'ERR_HTTP_BAD_CONTENT_LENGTH' },
  { name: 'Content-Length with a space inside', kind: 'request', input: `${POST}Content-Length: 1 2\r\n\r\n`, code: 'ERR_HTTP_BAD_CONTENT_LENGTH' },
  { name: 'Content-Length in hex', kind: 'request', input: `${POST}Content-Length: 0x10\r\n\r\n`, code: 'ERR_HTTP_BAD_CONTENT_LENGTH' },
  { name: 'Content-Length empty', kind: 'request', input: `${POST}Content-Length:\r\n\r\n`, code: 'ERR_HTTP_BAD_CONTENT_LENGTH' },
  { name: 'Content-Length trailing comma', kind: 'request', input: `${POST}Content-Length: 3,\r\n\r\n`, code: 'ERR_HTTP_BAD_CONTENT_LENGTH' },
  { name: 'Content-Length over 2^53-1', kind: 'request', input: `${POST}Content-Length: 9007199254740992\r\n\r\n`, code: 'ERR_HTTP_BAD_CONTENT_LENGTH' },
  { name: 'Content-Length bad in a 304 still', kind: 'response', methods: ['GET'], input: 'HTTP/1.1 304 Not Modified\r\nContent-Length: x\r\n\r\n', code: 'ERR_HTTP_BAD_CONTENT_LENGTH' },
  { name: 'chunked, chunked', kind: 'request', input: `${POST}Transfer-Encoding: chunked, chunked\r\n\r\n`, code: 'ERR_HTTP_BAD_TRANSFER_ENCODING' },
  { name: 'chunked twice over two fields', kind: 'response', input: `${OK}Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip, chunked\r\n\r\n`, code: 'ERR_HTTP_BAD_TRANSFER_ENCODING' },
  { name: 'gzip as the last coding of a request', kind: 'request', input: `${POST}Transfer-Encoding: gzip\r\n\r\n`, code: 'ERR_HTTP_BAD_TRANSFER_ENCODING' },
  { name: 'chunked then gzip in a request', kind: 'request', input: `${POST}Transfer-Encoding: chunked, gzip\r\n\r\n`, code: 'ERR_HTTP_BAD_TRANSFER_ENCODING' },
  { name: 'chunked with a parameter', kind: 'request', input: `${POST}Transfer-Encoding: chunked;q=1\r\n\r\n`, code: 'ERR_HTTP_BAD_TRANSFER_ENCODING' },
  { name: 'an empty transfer coding', kind: 'request', input: `${POST}Transfer-Encoding: , chunked\r\n\r\n`, code: 'ERR_HTTP_BAD_TRANSFER_ENCODING' },
  { name: 'Transfer-Encoding empty', kind: 'request', input: `${POST}Transfer-Encoding:\r\n\r\n`, code: 'ERR_HTTP_BAD_TRANSFER_ENCODING' },
  { name: 'a quoted transfer coding', kind: 'request', input: `${POST}Transfer-Encoding: "chunked"\r\n\r\n`, code: 'ERR_HTTP_BAD_TRANSFER_ENCODING' },
  { name: 'HTTP/1.0 request with Transfer-Encoding', kind: 'request', input: 'POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', code: 'ERR_HTTP_BAD_TRANSFER_ENCODING' },
  { name: 'HTTP/1.0 response with Transfer-Encoding', kind: 'response', input: 'HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n', code: 'ERR_HTTP_BAD_TRANSFER_ENCODING' },
  // field lines
  { name: 'obs-fold', kind: 'request', input: `${GET}X-A: 1\r\n  continued\r\n\r\n`, code: 'ERR_HTTP_OBS_FOLD' },
  { name: 'whitespace before the first field', kind: 'request', input: 'GET / HTTP/1.1\r\n Host: a\r\n\r\n', code: 'ERR_HTTP_OBS_FOLD' },
  { name: 'tab fold in a response', kind: 'response', input: `${OK}X-A: 1\r\n\tmore\r\n\r\n`, code: 'ERR_HTTP_OBS_FOLD' },
  { name: 'space before colon', kind: 'request', input: `${POST}Content-Length : 3\r\n\r\nabc`, code: 'ERR_HTTP_SPACE_BEFORE_COLON' },
  { name: 'tab before colon', kind: 'response', input: `${OK}Transfer-Encoding\t: chunked\r\n\r\n`, code: 'ERR_HTTP_SPACE_BEFORE_COLON' },
  { name: 'space inside a name', kind: 'request', input: `${GET}X Y: 1\r\n\r\n`, code: 'ERR_HTTP_BAD_HEADER_NAME' },
  { name: 'no colon', kind: 'request', input: `${GET}NoColon\r\n\r\n`, code: 'ERR_HTTP_BAD_HEADER_NAME' },
  { name: 'empty name', kind: 'request', input: `${GET}: value\r\n\r\n`, code: 'ERR_HTTP_BAD_HEADER_NAME' },
  { name: 'non-token name', kind: 'request', input: `${GET}X(1): v\r\n\r\n`, code: 'ERR_HTTP_BAD_HEADER_NAME' },
  { name: 'obs-text in a name', kind: 'request', input: `${GET}X\xe9: v\r\n\r\n`, code: 'ERR_HTTP_BAD_HEADER_NAME' },
  { name: 'NUL in a value', kind: 'request', input: `${GET}X-A: a\x00b\r\n\r\n`, code: 'ERR_HTTP_BAD_HEADER_VALUE' },
  { name: 'DEL in a value', kind: 'request', input: `${GET}X-A: a\x7fb\r\n\r\n`, code: 'ERR_HTTP_BAD_HEADER_VALUE' },
  { name: 'control in a value', kind: 'response', input: `${OK}X-A: \x1b[31m\r\n\r\n`, code: 'ERR_HTTP_BAD_HEADER_VALUE' },
  { name: 'bare CR in a value', kind: 'request', input: `${GET}X-A: a\rb\r\n\r\n`, code: 'ERR_HTTP_BARE_CR' },
  { name: 'bare CR ending a field line', kind: 'request', input: `${GET}X-A: a\rX-B: b\r\n\r\n`, code: 'ERR_HTTP_BARE_CR' },
  { name: 'bare CR in the request line', kind: 'request', input: 'GET /\r HTTP/1.1\r\nHost: a\r\n\r\n', code: 'ERR_HTTP_BARE_CR' },
  { name: 'bare CR in a name wins over the bad name', kind: 'request', input: `${GET}X\rY: v\r\n\r\n`, code: 'ERR_HTTP_BARE_CR' },
  { name: 'bare CR in a chunk-size line', kind: 'request', input: `${CHUNKED}1\r;x\r\na\r\n0\r\n\r\n`, code: 'ERR_HTTP_BARE_CR' },
  { name: 'bare LF ending the request line', kind: 'request', input: 'GET / HTTP/1.1\nHost: a\r\n\r\n', code: 'ERR_HTTP_BAD_START_LINE' },
  { name: 'bare LF ending a field line', kind: 'request', input: `${GET}X-A: 1\n\r\n`, code: 'ERR_HTTP_BAD_HEADER_VALUE' },
  { name: 'bare LF as the empty line', kind: 'request', input: `${GET}\n`, code: 'ERR_HTTP_BAD_HEADER_VALUE' },
  { name: 'bare LF before a request line', kind: 'request', input: '\nGET / HTTP/1.1\r\nHost: a\r\n\r\n', code: 'ERR_HTTP_BAD_START_LINE' },
  { name: 'all bare LF', kind: 'response', input: 'HTTP/1.1 200 OK\nContent-Length: 0\n\n', code: 'ERR_HTTP_BAD_START_LINE' },
  // request line
  { name: 'too many empty lines first', kind: 'request', input: '\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n', code: 'ERR_HTTP_BAD_START_LINE' },
  { name: 'empty line before a status line', kind: 'response', input: `\r\n${OK}\r\n`, code: 'ERR_HTTP_BAD_VERSION' },
  { name: 'method with a bad character', kind: 'request', input: 'G(ET / HTTP/1.1\r\nHost: a\r\n\r\n', code: 'ERR_HTTP_BAD_METHOD' },
  { name: 'TLS to an HTTP port', kind: 'request', input: '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03', code: 'ERR_HTTP_BAD_METHOD' },
  // The method is judged as it arrives: garbage that starts with a tchar is refused before any line end.
  { name: 'garbage after a letter, no line end yet', kind: 'request', input: 'gJ\x84s\x7f\x8d\x13A', code: 'ERR_HTTP_BAD_METHOD' },
  { name: 'a tab inside the method, no line end yet', kind: 'request', input: 'GE\tT /', code: 'ERR_HTTP_BAD_START_LINE' },
  { name: 'a bad method byte wins over a bare CR after it', kind: 'request', input: 'G\x84\r / HTTP/1.1\r\nHost: a\r\n\r\n', code: 'ERR_HTTP_BAD_METHOD' },
  { name: 'a bad method byte after empty lines', kind: 'request', input: '\r\n\r\nGE(', code: 'ERR_HTTP_BAD_METHOD' },
  { name: 'two spaces after the method', kind: 'request', input: 'GET  / HTTP/1.1\r\nHost: a\r\n\r\n', code: 'ERR_HTTP_BAD_START_LINE' },
  { name: 'two spaces before the version', kind: 'request', input: 'GET /  HTTP/1.1\r\nHost: a\r\n\r\n', code: 'ERR_HTTP_BAD_START_LINE' },
  { name: 'tab as a separator', kind: 'request', input: 'GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n', code: 'ERR_HTTP_BAD_START_LINE' },
  { name: 'leading space', kind: 'request', input: ' GET / HTTP/1.1\r\nHost: a\r\n\r\n', code: 'ERR_HTTP_BAD_START_LINE' },
  { name: 'trailing space', kind: 'request', input: 'GET / HTTP/1.1 \r\nHost: a\r\n\r\n', code: 'ERR_HTTP_BAD_START_LINE' },
  { name: 'HTTP/0.9 request', kind: 'request', input: 'GET /\r\n\r\n', code: 'ERR_HTTP_BAD_START_LINE' },
  { name: 'control character in the target', kind: 'request', input: 'GET /a\x01b HTTP/1.1\r\nHost: a\r\n\r\n', code: 'ERR_HTTP_BAD_TARGET' },
  { name: 'tab in the target', kind: 'request', input: 'GET /a\tb HTTP/1.1\r\nHost: a\r\n\r\n', code: 'ERR_HTTP_BAD_TARGET' },
  { name: 'non-ASCII target', kind: 'request', input: 'GET /caf\xe9 HTTP/1.1\r\nHost: a\r\n\r\n', code: 'ERR_HTTP_BAD_TARGET' },
  { name: 'HTTP/2.0', kind: 'request', input: 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', code: 'ERR_HTTP_BAD_VERSION' },
  { name: 'lowercase version', kind: 'request', input: 'GET / http/1.1\r\nHost: a\r\n\r\n', code: 'ERR_HTTP_BAD_VERSION' },
  { name: 'version with two digits', kind: 'request', input: 'GET / HTTP/1.10\r\nHost: a\r\n\r\n', code: 'ERR_HTTP_BAD_VERSION' },
  { name: 'version 0.9', kind: 'request', input: 'GET / HTTP/0.9\r\n\r\n', code: 'ERR_HTTP_BAD_VERSION' },
  // Host
  { name: 'HTTP/1.1 without Host', kind: 'request', input: 'GET / HTTP/1.1\r\nAccept: */*\r\n\r\n', code: 'ERR_HTTP_MISSING_HOST' },
  { name: 'two Hosts', kind: 'request', input: 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', code: 'ERR_HTTP_MISSING_HOST' },
  { name: 'two Hosts in HTTP/1.0', kind: 'request', input: 'GET / HTTP/1.0\r\nHost: a\r\nhost: a\r\n\r\n', code: 'ERR_HTTP_MISSING_HOST' },
  { name: 'Host with a space', kind: 'request', input: 'GET / HTTP/1.1\r\nHost: a b\r\n\r\n', code: 'ERR_HTTP_MISSING_HOST' },
  { name: 'Host with userinfo', kind: 'request', input: 'GET / HTTP/1.1\r\nHost: user@a\r\n\r\n', code: 'ERR_HTTP_MISSING_HOST' },
  // status line
  { name: 'garbage for a status line', kind: 'response', input: 'hello there\r\n\r\n', code: 'ERR_HTTP_BAD_VERSION' },
  { name: 'HTTP/2.0 status line', kind: 'response', input: 'HTTP/2.0 200 OK\r\n\r\n', code: 'ERR_HTTP_BAD_VERSION' },
  { name: 'two-digit status', kind: 'response', input: 'HTTP/1.1 20 OK\r\n\r\n', code: 'ERR_HTTP_BAD_STATUS' },
  { name: 'four-digit status', kind: 'response', input: 'HTTP/1.1 2000 OK\r\n\r\n', code: 'ERR_HTTP_BAD_STATUS' },
  { name: 'status below 100', kind: 'response', input: 'HTTP/1.1 099 Low\r\n\r\n', code: 'ERR_HTTP_BAD_STATUS' },
  { name: 'no status', kind: 'response', input: 'HTTP/1.1\r\n\r\n', code: 'ERR_HTTP_BAD_STATUS' },
  { name: 'two spaces before the status', kind: 'response', input: 'HTTP/1.1  200 OK\r\n\r\n', code: 'ERR_HTTP_BAD_START_LINE' },
  { name: 'control in the reason', kind: 'response', input: 'HTTP/1.1 200 O\x00K\r\n\r\n', code: 'ERR_HTTP_BAD_STATUS' },
  // chunks
  { name: 'chunk size 0x10', kind: 'request', input: `${CHUNKED}0x10\r\n`, code: 'ERR_HTTP_BAD_CHUNK' },
  { name: 'chunk size -1', kind: 'request', input: `${CHUNKED}-1\r\n`, code: 'ERR_HTTP_BAD_CHUNK' },
  { name: 'chunk size +1', kind: 'request', input: `${CHUNKED}+1\r\nx\r\n0\r\n\r\n`, code: 'ERR_HTTP_BAD_CHUNK' },
  { name: 'chunk size overflow', kind: 'request', input: `${CHUNKED}ffffffffffffffffff\r\n`, code: 'ERR_HTTP_BAD_CHUNK' },
  { name: 'chunk size 2^53', kind: 'request', input: `${CHUNKED}20000000000000\r\n`, code: 'ERR_HTTP_BAD_CHUNK' },
  { name: 'empty chunk size', kind: 'request', input: `${CHUNKED}\r\n`, code: 'ERR_HTTP_BAD_CHUNK' },
  { name: 'space after the chunk size', kind: 'request', input: `${CHUNKED}1 \r\nx\r\n0\r\n\r\n`, code: 'ERR_HTTP_BAD_CHUNK' },
  { name: 'space inside the chunk size', kind: 'request', input: `${CHUNKED}1 0\r\n`, code: 'ERR_HTTP_BAD_CHUNK' },
  { name: 'chunk extension without a name', kind: 'request', input: `${CHUNKED}1;\r\nx\r\n0\r\n\r\n`, code: 'ERR_HTTP_BAD_CHUNK' },
  { name: 'chunk extension with an empty value', kind: 'request', input: `${CHUNKED}1;a=\r\nx\r\n0\r\n\r\n`, code: 'ERR_HTTP_BAD_CHUNK' },
  { name: 'chunk extension with an unclosed quote', kind: 'request', input: `${CHUNKED}1;a="x\r\nx\r\n0\r\n\r\n`, code: 'ERR_HTTP_BAD_CHUNK' },
  { name: 'chunk extension with a control character', kind: 'request', input: `${CHUNKED}1;a="\x01"\r\nx\r\n0\r\n\r\n`, code: 'ERR_HTTP_BAD_CHUNK' },
  { name: 'bare LF after the chunk size', kind: 'request', input: `${CHUNKED}1\nx\r\n0\r\n\r\n`, code: 'ERR_HTTP_BAD_CHUNK' },
  { name: 'missing CRLF after chunk data', kind: 'request', input: `${CHUNKED}3\r\nabcd\r\n0\r\n\r\n`, code: 'ERR_HTTP_BAD_CHUNK' },
  { name: 'LF alone after chunk data', kind: 'request', input: `${CHUNKED}3\r\nabc\n0\r\n\r\n`, code: 'ERR_HTTP_BAD_CHUNK' },
  { name: 'CR alone after chunk data', kind: 'request', input: `${CHUNKED}3\r\nabc\r0\r\n\r\n`, code: 'ERR_HTTP_BAD_CHUNK' },
  { name: 'chunk-size line over maxChunkLine', kind: 'request', limits: { maxChunkLine: 16 }, input: `${CHUNKED}1;${'a'.repeat(16)}\r\n`, code: 'ERR_HTTP_BAD_CHUNK' },
  { name: 'obs-fold in trailers', kind: 'request', input: `${CHUNKED}0\r\nX-T: 1\r\n folded\r\n\r\n`, code: 'ERR_HTTP_OBS_FOLD' },
  { name: 'NUL in a trailer', kind: 'request', input: `${CHUNKED}0\r\nX-T: \x00\r\n\r\n`, code: 'ERR_HTTP_BAD_HEADER_VALUE' },
  // limits
  { name: 'head over maxHeaderBytes', kind: 'request', input: `${GET}X-Big: ${'x'.repeat(16 * 1024)}\r\n\r\n`, code: 'ERR_HTTP_HEADERS_TOO_LARGE' },
  { name: 'head with no end', kind: 'response', input: `${OK}${'X-A: 1\r\n'.repeat(3000)}`, code: 'ERR_HTTP_HEADERS_TOO_LARGE' },
  { name: 'long request line', kind: 'request', input: `GET /${'a'.repeat(8 * 1024)} HTTP/1.1\r\nHost: a\r\n\r\n`, code: 'ERR_HTTP_URI_TOO_LONG' },
  { name: 'long status line', kind: 'response', input: `HTTP/1.1 200 ${'a'.repeat(8 * 1024)}\r\n\r\n`, code: 'ERR_HTTP_HEADERS_TOO_LARGE' },
  { name: '2001 header fields', kind: 'request', limits: { maxHeaderBytes: 1 << 20 }, input: `${GET}${'X: 1\r\n'.repeat(2000)}\r\n`, code: 'ERR_HTTP_HEADERS_TOO_LARGE' },
  { name: 'trailers count with the head', kind: 'request', limits: { maxHeaders: 3 }, input: `${CHUNKED}0\r\nA: 1\r\nB: 2\r\n\r\n`, code: 'ERR_HTTP_HEADERS_TOO_LARGE' },
  { name: 'Content-Length over maxBodyBytes', kind: 'request', limits: { maxBodyBytes: 10 }, input: `${POST}Content-Length: 11\r\n\r\n`, code: 'ERR_HTTP_BODY_TOO_LARGE' },
  { name: 'chunks over maxBodyBytes', kind: 'request', limits: { maxBodyBytes: 10 }, input: `${CHUNKED}5\r\n12345\r\n6\r\n`, code: 'ERR_HTTP_BODY_TOO_LARGE' },
  { name: 'body to close over maxBodyBytes', kind: 'response', limits: { maxBodyBytes: 10 }, input: `${OK}\r\n${'x'.repeat(11)}`, code: 'ERR_HTTP_BODY_TOO_LARGE' },
  {
    name: 'chunk extensions count with the head',
    kind: 'request',
    limits: { maxHeaderBytes: 200 },
    input: `${CHUNKED}${'1;ext=0123456789\r\nx\r\n'.repeat(20)}0\r\n\r\n`,
    code: 'ERR_HTTP_BAD_CHUNK',
  },
  // the end of the stream
  { name: 'close inside a head', kind: 'request', finish: true, input: 'GET / HTTP/1.1\r\nHost: a\r\n', code: 'ERR_HTTP_INCOMPLETE' },
  { name: 'close inside a length body', kind: 'request', finish: true, input: `${POST}Content-Length: 5\r\n\r\nabc`, code: 'ERR_HTTP_INCOMPLETE' },
  { name: 'close inside a chunk', kind: 'request', finish: true, input: `${CHUNKED}5\r\nabc`, code: 'ERR_HTTP_INCOMPLETE' },
  { name: 'close inside trailers', kind: 'response', finish: true, input: `${OK}Transfer-Encoding: chunked\r\n\r\n0\r\nX: 1\r\n`, code: 'ERR_HTTP_INCOMPLETE' },
  { name: 'close after a lone CR', kind: 'request', finish: true, input: '\r', code: 'ERR_HTTP_INCOMPLETE' },
];

for (const c of malformed) {
  test(`malformed ${c.kind}: ${c.name} → ${c.code}`, () => {
    const options: Options = { methods: c.methods, limits: c.limits, finish: c.finish };
    assert.equal(feed(c.kind, whole(c.input), options).error, c.code, 'fed whole');
    if (c.input.length <= 20_000) assert.equal(feed(c.kind, oneByOne(c.input), options).error, c.code, 'fed one byte at a time');
  });
}

test('an error is final: every later call throws the same error, until reset()', () => {
  const p = new HttpParser('request', { onHead() {}, onBody() {}, onEnd() {} });
  let first: unknown;
  assert.throws(
    () => p.execute(bytes('GET / HTTP/1.1\r\nHost: a\r\nX : y\r\n\r\n')),
    (err) => ((first = err), err instanceof HttpError && err.code === 'ERR_HTTP_SPACE_BEFORE_COLON'),
  );
  assert.throws(() => p.execute(bytes('GET / HTTP/1.1\r\nHost: a\r\n\r\n')), (err) => err === first);
  assert.throws(() => p.finish(), (err) => err === first);
  assert.equal(p.idle, false);
  p.reset();
  assert.equal(p.execute(bytes('GET / HTTP/1.1\r\nHost: a\r\n\r\n')), 27);
});

test('limits hold exactly at their boundary', () => {
  const head = (line: string) => `${line}\r\nHost: a\r\n\r\n`;
  const line = `GET /${'a'.repeat(95)} HTTP/1.1`; // 109 bytes
  assert.equal(feed('request', whole(head(line)), { limits: { maxStartLine: 109 } }).error, undefined);
  assert.equal(feed('request', oneByOne(head(line)), { limits: { maxStartLine: 109 } }).error, undefined);
  assert.equal(feed('request', whole(head(line)), { limits: { maxStartLine: 108 } }).error, 'ERR_HTTP_URI_TOO_LONG');
  const full = head(line); // every byte of the head, the last CRLF included, counts
  for (const pieces of [whole(full), oneByOne(full)]) {
    assert.equal(feed('request', pieces, { limits: { maxHeaderBytes: full.length } }).error, undefined);
    assert.equal(feed('request', pieces, { limits: { maxHeaderBytes: full.length - 1 } }).error, 'ERR_HTTP_HEADERS_TOO_LARGE');
  }
  const fields = (n: number) => `GET / HTTP/1.1\r\nHost: a\r\n${'X: 1\r\n'.repeat(n - 1)}\r\n`;
  assert.equal(feed('request', whole(fields(2000)), { limits: { maxHeaderBytes: 1 << 20 } }).error, undefined);
  assert.equal(feed('request', whole(fields(2001)), { limits: { maxHeaderBytes: 1 << 20 } }).error, 'ERR_HTTP_HEADERS_TOO_LARGE');
  const post = (n: number) => `POST / HTTP/1.1\r\nHost: a\r\nContent-Length: ${n}\r\n\r\n${'x'.repeat(n)}`;
  assert.equal(feed('request', whole(post(10)), { limits: { maxBodyBytes: 10 } }).error, undefined);
  const chunkLine = `1;${'e'.repeat(14)}`; // 16 bytes
  const chunked = `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n${chunkLine}\r\nx\r\n0\r\n\r\n`;
  assert.equal(feed('request', oneByOne(chunked), { limits: { maxChunkLine: 16 } }).error, undefined);
  assert.equal(feed('request', oneByOne(chunked), { limits: { maxChunkLine: 15 } }).error, 'ERR_HTTP_BAD_CHUNK');
});

test('Content-Length over maxBodyBytes is refused before onHead', () => {
  const out = feed('request', whole('PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 1000000\r\n\r\n'), { limits: { maxBodyBytes: 1000 } });
  assert.equal(out.error, 'ERR_HTTP_BODY_TOO_LARGE');
  assert.equal(out.messages.length, 0);
});

test('a large body arrives as views of the input, in one piece per execute', () => {
  const body = new Uint8Array(1 << 20).fill(0x61);
  const head = bytes(`POST / HTTP/1.1\r\nHost: a\r\nContent-Length: ${body.length}\r\n\r\n`);
  const input = new Uint8Array(head.length + body.length);
  input.set(head);
  input.set(body, head.length);
  const pieces: Uint8Array[] = [];
  const p = new HttpParser('request', { onHead() {}, onBody: (b) => void pieces.push(b), onEnd() {} });
  assert.equal(p.execute(input), input.length);
  assert.equal(pieces.length, 1);
  assert.equal(pieces[0]!.buffer, input.buffer, 'not copied');
  assert.equal(pieces[0]!.length, body.length);
});

test('finish(): completes a body read until close, no-op between messages, stopped after', () => {
  const ends: (HeaderList | null)[] = [];
  const p = new HttpParser('response', { onHead() {}, onBody() {}, onEnd: (t) => void ends.push(t) });
  p.finish(); // nothing yet
  assert.equal(p.idle, true);
  p.execute(bytes('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'));
  p.finish(); // between messages
  assert.equal(ends.length, 1);
  const q = new HttpParser('response', { onHead() {}, onBody() {}, onEnd: (t) => void ends.push(t) });
  q.execute(bytes('HTTP/1.0 200 OK\r\n\r\npartial'));
  assert.equal(q.idle, false);
  q.finish();
  assert.equal(ends.length, 2);
  assert.equal(q.idle, true);
  q.finish(); // again: still nothing to do
  assert.equal(ends.length, 2);
  assert.throws(() => q.execute(bytes('more')), (err) => err instanceof HttpError && err.code === 'ERR_HTTP_UNEXPECTED_DATA');
});

test('idle is false from the first byte of a message to its end', () => {
  const p = new HttpParser('request', { onHead() {}, onBody() {}, onEnd() {} });
  const input = 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nok';
  assert.equal(p.idle, true);
  for (let i = 0; i < input.length; i++) {
    p.execute(bytes(input[i]!));
    assert.equal(p.idle, i === input.length - 1, `after byte ${i}`);
  }
});

test('after an upgrade the parser stops until reset(); a declined upgrade goes on as HTTP', () => {
  const heads: MessageHead[] = [];
  const p = new HttpParser('request', { onHead: (h) => void heads.push(h), onBody() {}, onEnd() {} });
  const first = 'GET /ws HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n';
  const input = bytes(`${first}GET /next HTTP/1.1\r\nHost: a\r\n\r\n`);
  const used = p.execute(input);
  assert.equal(used, first.length);
  assert.equal(p.execute(input.subarray(used)), 0, 'stopped');
  assert.equal(p.idle, true);
  p.finish(); // no-op
  p.reset();
  assert.equal(p.execute(input.subarray(used)), input.length - used);
  assert.deepEqual(
    heads.map((h) => (h.kind === 'request' ? [h.target, h.upgrade] : null)),
    [
      ['/ws', true],
      ['/next', false],
    ],
  );
});

test('expect(): pipelined methods are matched to responses in order, 1xx do not consume one', () => {
  const heads: MessageHead[] = [];
  const bodies: string[] = [];
  const p = new HttpParser('response', { onHead: (h) => void heads.push(h), onBody: (b) => void bodies.push(text(b)), onEnd() {} });
  p.expect('GET');
  p.expect('HEAD');
  p.expect('GET');
  p.execute(
    bytes(
      'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na' +
        'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n' +
        'HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nc',
    ),
  );
  assert.deepEqual(bodies, ['a', 'c']);
  assert.equal(heads.length, 5);
  assert.throws(() => new HttpParser('request', { onHead() {}, onBody() {}, onEnd() {} }).expect('GET'), TypeError);
});
