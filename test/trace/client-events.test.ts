/**
 * HAR and the HTML report from the events the HTTP client and the resolver really recorded:
 * real requests on 127.0.0.1 (a lookup through the project's DNS server, a first exchange on a
 * new connection, a second one reusing it), with nothing built by hand. The HAR must satisfy
 * the HAR 1.2 JSON schema and say what happened; the page must show the same exchanges.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { Resolver } from '../../src/dns/resolver.js';
import { serveDns } from '../../src/dns/server.js';
import { parseZone } from '../../src/dns/zone-file.js';
import { Agent } from '../../src/http/agent.js';
import { request } from '../../src/http/client.js';
import { serve } from '../../src/http/server/index.js';
import { SocketLibrary } from '../../src/socket/library.js';
import { KernelStack } from '../../src/stack/kernel/stack.js';
import { TraceLog, type HttpEvent, type TraceEvent } from '../../src/trace-events.js';
import { renderHar } from '../../src/trace/har.js';
import { renderHtml } from '../../src/trace/html.js';
import { renderMermaid } from '../../src/trace/mermaid.js';
import { harValidator } from './har-schema.js';

const ZONE = '$ORIGIN example.test.\n$TTL 300\n@ IN SOA ns1 hostmaster 1 7200 900 1209600 300\n@ IN NS ns1\nns1 IN A 127.0.0.1\nwww IN A 127.0.0.1\n';
const PAGE = 'a page\n';

let events: TraceEvent[];
let port: number;

before(async () => {
  const trace = new TraceLog();
  const lib = (label: string) => new SocketLibrary(new KernelStack(), { label, trace });
  const dns = await serveDns(lib('dns-server'), [parseZone(ZONE)], { address: '127.0.0.1', port: 0 });
  const web = await serve(
    (req, res) => {
      res.setHeader('Content-Type', 'text/plain; charset=utf-8');
      res.setHeader('Set-Cookie', 's=xyz; Path=/; HttpOnly');
      return res.end(req.url.startsWith('/page') ? PAGE : 'second\n');
    },
    { lib: lib('web-server') },
  );
  port = web.port;
  const client = lib('client');
  const resolver = new Resolver({ lib: client, trace, servers: [`127.0.0.1:${dns.port}`], resolvConf: false, hosts: false, cache: false, timeout: 2000 });
  const agent = new Agent({ lib: client, resolver, trace, connections: 1, proxy: false });
  try {
    const first = await request(`http://www.example.test:${port}/page?q=1#top`, { agent, headers: { Cookie: 'a=1; b=2' } });
    assert.equal(await first.body.text(), PAGE);
    const second = await request(`http://www.example.test:${port}/other`, { agent });
    assert.equal(await second.body.text(), 'second\n');
  } finally {
    await agent.close();
    await web.close();
    await dns.close();
  }
  events = trace.events;
});

test('the HAR of recorded exchanges satisfies the HAR 1.2 schema and says what happened', () => {
  const validate = harValidator();
  const wallClockAt0 = Date.UTC(2024, 0, 2, 3, 4, 5, 0);
  const har = renderHar(events, { creator: { name: 'protostack-test', version: '1.0.0' }, wallClockAt0, page: { title: 'client events' } });
  assert.equal(validate(har), true, JSON.stringify(validate.errors));
  const recorded = events.filter((e): e is HttpEvent => e.kind === 'http');
  assert.equal(har.log.entries.length, 2);
  const [first, second] = har.log.entries;

  assert.equal(first!.startedDateTime, new Date(Math.round(wallClockAt0 + recorded[0]!.start)).toISOString());
  assert.equal(first!.request.url, `http://www.example.test:${port}/page?q=1`, 'no fragment');
  assert.deepEqual(first!.request.queryString, [{ name: 'q', value: '1' }]);
  assert.deepEqual(first!.request.cookies, [{ name: 'a', value: '1' }, { name: 'b', value: '2' }]);
  assert.deepEqual(first!.request.headers[0], { name: 'Host', value: `www.example.test:${port}` }, 'the head as the client sent it');
  assert.equal(first!.request.bodySize, 0);
  assert.equal(first!.response.status, 200);
  assert.deepEqual(first!.response.cookies, [{ name: 's', value: 'xyz', path: '/', httpOnly: true }]);
  assert.deepEqual(first!.response.content, { size: PAGE.length, mimeType: 'text/plain; charset=utf-8' });
  assert.equal(first!.response.bodySize, PAGE.length);
  assert.ok(first!.response.headersSize > 40, 'the response head was measured');
  assert.equal(first!.serverIPAddress, '127.0.0.1');
  // The first exchange looked the name up and connected; the second reused the connection.
  assert.ok(first!.timings.dns >= 0 && first!.timings.connect >= 0);
  assert.equal(second!.timings.dns, -1);
  assert.equal(second!.timings.connect, -1);
  assert.equal(second!.connection, first!.connection);
  for (const e of [first!, second!]) {
    for (const k of ['send', 'wait', 'receive'] as const) assert.ok(e.timings[k] >= 0);
    const sum = [e.timings.dns, e.timings.connect, e.timings.send, e.timings.wait, e.timings.receive].filter((t) => t >= 0).reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(e.time - sum) < 1e-6, `time ${e.time} is the sum ${sum}`);
  }
  assert.ok(Date.parse(second!.startedDateTime) >= Date.parse(first!.startedDateTime));
});

test('the HTML report shows the recorded exchanges, and its diagram the recorded lookup', () => {
  const html = renderHtml(events, { title: 'client events' });
  const rows = [...html.matchAll(/<tr><td class="num">(\d+)<\/td><td>(\w+)<\/td><td class="url">([^<]*)<\/td><td class="num">(\d+) (\w+)<\/td><td>([^<]*)<\/td>/g)];
  assert.deepEqual(rows.map((m) => [m[1], m[2], m[3], m[4], m[5]]), [
    ['1', 'GET', `http://www.example.test:${port}/page?q=1#top`, '200', 'OK'],
    ['2', 'GET', `http://www.example.test:${port}/other`, '200', 'OK'],
  ]);
  const recorded = events.filter((e): e is HttpEvent => e.kind === 'http');
  assert.match(rows[0]![6]!, new RegExp(`^client, fd ${recorded[0]!.fd} \\(`), 'who carried it, on which descriptor');
  assert.match(html, /2 HTTP exchanges/);
  // The lookup is drawn as such because the resolver recorded its questions, and so are the exchanges.
  const diagram = renderMermaid(events);
  assert.equal((diagram.match(/client-->>dns_server: gethostbyname request: sendto/g) ?? []).length, 2, 'A and AAAA');
  assert.equal((diagram.match(/Note over client,web_server: HTTP GET/g) ?? []).length, 2);
  assert.ok(html.includes(`participant web_server as web-server (web server on 127.0.0.1#58;${port})`));
});
