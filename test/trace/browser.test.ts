/**
 * The HTML report in a real browser: Debian's Chromium, headless, driven by
 * playwright-core (which never downloads a browser). The page must draw its
 * diagram with the inlined Mermaid, offline, with no errors; a screenshot is
 * kept in artifacts/ for people to look at.
 *
 * CI installs Chromium (apt-get install -y chromium); without it this fails
 * and says so.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { SocketLibrary } from '../../src/socket/library.js';
import { KernelStack } from '../../src/stack/kernel/stack.js';
import { Resolver } from '../../src/dns/resolver.js';
import { serveDns } from '../../src/dns/server.js';
import { parseZone } from '../../src/dns/zone-file.js';
import { exchangeOn } from '../../src/http/exchange.js';
import { TraceLog, type CallEvent, type DnsEvent, type TraceEvent } from '../../src/trace-events.js';
import { mermaidBundle, renderHtml } from '../../src/trace/html.js';
import { renderMermaid } from '../../src/trace/mermaid.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = fileURLToPath(new URL('../../../artifacts/', import.meta.url));
const LOOPBACK = '127.0.0.1';

/**
 * The seed's whole flow on loopback: a lookup over UDP (the project's resolver asking its DNS
 * server), then socket, connect, write, read, close with a web server. The resolver and the
 * exchange record their own DNS and HTTP events.
 */
async function seedTrace(): Promise<{ events: TraceEvent[]; webPort: number; dnsPort: number }> {
  const trace = new TraceLog();
  const lib = (label: string) => new SocketLibrary(new KernelStack(), { label, trace });
  const client = lib('client');
  const server = lib('server');
  const zone = parseZone('$ORIGIN example.test.\n$TTL 300\n@ IN SOA ns1 hostmaster 1 7200 900 1209600 300\n@ IN NS ns1\nns1 IN A 127.0.0.1\nwww IN A 127.0.0.1\n');
  const dns = await serveDns(lib('dns-server'), [zone], { address: LOOPBACK, port: 0 });

  const lfd = await server.socket('tcp');
  await server.bind(lfd, LOOPBACK, 0);
  await server.listen(lfd, 16);
  const webPort = (await server.getsockname(lfd)).port;
  const body = 'x'.repeat(10_000);
  const served = (async () => {
    const fd = await server.accept(lfd);
    await server.read(fd, new Uint8Array(4096));
    await server.write(fd, Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`));
    await server.close(fd);
    await server.close(lfd);
  })();

  const t0 = client.stack.now();
  const resolver = new Resolver({ lib: client, trace, servers: [`${LOOPBACK}:${dns.port}`], resolvConf: false, hosts: false, cache: false, timeout: 2000 });
  const address = await resolver.gethostbyname('www.example.test');
  await resolver.close();
  const t1 = client.stack.now();
  const fd = await client.socket('tcp');
  await client.connect(fd, address, webPort);
  const local = await client.getsockname(fd);
  const connection = { sink: trace, who: client.label, stack: client.stack.name, fd, serverAddress: address, connection: `${local.address}:${local.port}`, dns: t1 - t0, connect: client.stack.now() - t1 };
  const buf = new Uint8Array(4096);
  await exchangeOn(client, fd, { method: 'GET', url: `http://www.example.test:${webPort}/`, headers: [['Host', `www.example.test:${webPort}`]], version: '1.1' }, { buffer: buf, trace: connection, start: t0 });
  while ((await client.read(fd, buf)) > 0);
  await client.close(fd);
  await served;
  await dns.close();
  return { events: trace.events, webPort, dnsPort: dns.port };
}

/** A trace made to break things: keywords as names, Mermaid and HTML syntax in every string. */
function hostileTrace(): TraceEvent[] {
  const events: TraceEvent[] = [];
  const call = (who: string, e: Partial<CallEvent> & { call: string; fd: number }) =>
    events.push({ kind: 'call', seq: events.length, who, stack: 'kernel', start: events.length, waited: 0, ...e });
  call('end', { call: 'socket', fd: 3, result: 3, note: 'tcp' });
  call('end', { call: 'connect', fd: 3, address: '::1', port: 8080, error: 'ECONNREFUSED' });
  call('x;y#z%%{init: {"theme":"dark"}}%%', { call: 'socket', fd: 3, result: 3, note: '<img src=x onerror=alert(1)>' });
  call('<script>alert(1)</script>', { call: 'nowrap:', fd: 3, result: 'style:#fff;' });
  // Hand-built on purpose: no client would record these names and texts.
  events.push({
    kind: 'http', seq: events.length, who: 'end', stack: 'kernel', fd: 3, method: 'GET', url: 'http://[::1]:8080/a;b?c=<d>&e="f"#g;h', httpVersion: '1.1',
    requestHeaders: [], requestBodySize: 0, status: 404, statusText: 'Not <Found>; classDef x', responseHeaders: [], responseBodySize: 0,
    responseHeadSize: 0, start: 10, timings: { dns: -1, connect: -1, send: 0, wait: 1, receive: 0 },
  });
  return events;
}

interface Watched {
  page: Page;
  problems: string[];
  requests: string[];
}

async function open(browser: Browser, html: string, dir: string, name: string): Promise<Watched> {
  const file = join(dir, name);
  writeFileSync(file, html);
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const problems: string[] = [];
  const requests: string[] = [];
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`console error: ${msg.text()}`);
  });
  page.on('dialog', (d) => {
    problems.push(`dialog: ${d.message()}`);
    void d.dismiss();
  });
  page.on('request', (r) => {
    if (!r.url().startsWith('file:') && !r.url().startsWith('data:')) requests.push(r.url());
  });
  await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
  await page.waitForSelector('#diagram[data-rendered="ok"] svg, #diagram[data-rendered="error"]', { timeout: 20_000 });
  return { page, problems, requests };
}

/** A full-page screenshot, the viewport widened to the whole diagram so every lane shows. */
async function screenshot(page: Page, path: string): Promise<void> {
  const width = await page.locator('#diagram').evaluate((el) => Math.ceil(el.scrollWidth));
  await page.setViewportSize({ width: Math.min(Math.max(1400, width + 80), 3000), height: 900 });
  await page.screenshot({ path, fullPage: true });
}

test('the HTML report draws its diagram offline in headless Chromium', { timeout: 60_000 }, async () => {
  assert.ok(
    existsSync(CHROMIUM),
    `Chromium is not installed at ${CHROMIUM}. Install Debian's package (apt-get install -y chromium); this test never downloads a browser.`,
  );
  const { events, webPort, dnsPort } = await seedTrace();
  const html = renderHtml(events, { title: 'protostack: the seed, traced' });
  const dir = mkdtempSync(join(tmpdir(), 'protostack-report-'));
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const report = await open(browser, html, dir, 'report.html');
    const box = report.page.locator('#diagram');
    assert.equal(await box.getAttribute('data-error'), null);
    assert.equal(await box.getAttribute('data-rendered'), 'ok');
    assert.deepEqual(report.problems, []);
    assert.deepEqual(report.requests, [], 'the page fetches nothing');

    // The drawing has the real participants and calls; Mermaid's #58; came out as ':'.
    const drawn = (await report.page.locator('#diagram svg').textContent()) ?? '';
    assert.match(drawn, new RegExp(`server \\(web server on 127\\.0\\.0\\.1:${webPort}\\)`));
    assert.match(drawn, new RegExp(`dns-server \\(tcp 127\\.0\\.0\\.1:${dnsPort}; udp 127\\.0\\.0\\.1:${dnsPort}\\)`));
    assert.match(drawn, new RegExp(`connect\\(fd 3, 127\\.0\\.0\\.1, ${webPort}\\)`));
    assert.match(drawn, /OK \(accept\(fd 3\) → fd 4, from 127\.0\.0\.1:\d+\)/);
    const query = events.find((e): e is DnsEvent => e.kind === 'dns' && e.phase === 'query')!;
    assert.ok(drawn.includes(`gethostbyname request: sendto(fd 3, ${query.size} B, 127.0.0.1, ${dnsPort})`), drawn);
    assert.match(drawn, /read\(fd 3, buffer 4096 B\) → \d+ B/);
    assert.equal(await report.page.locator('#diagram svg .messageText').count() > 15, true);
    assert.match((await report.page.locator('#timeline').textContent()) ?? '', /client\s+connect\(fd 3, 127\.0\.0\.1:\d+\)\s+= ok/);
    assert.equal(await report.page.locator('#http tbody tr').count(), 1);
    assert.match((await report.page.locator('#http tbody tr').textContent()) ?? '', new RegExp(`GET.*www\\.example\\.test:${webPort}/.*200`), 'the row is the exchange the client recorded');

    mkdirSync(ARTIFACTS, { recursive: true });
    const shot = join(ARTIFACTS, 'trace-report.png');
    await screenshot(report.page, shot);
    assert.ok(statSync(shot).size > 10_000);
    writeFileSync(join(ARTIFACTS, 'trace-report.html'), html);
    writeFileSync(join(ARTIFACTS, 'trace-report.mmd'), renderMermaid(events));

    // Hostile names and texts are drawn as text: no script runs, no directive applies, nothing breaks.
    const hostile = await open(browser, renderHtml(hostileTrace(), { title: '<b>title</b> "quoted" & #35; ;' }), dir, 'hostile.html');
    const hbox = hostile.page.locator('#diagram');
    assert.equal(await hbox.getAttribute('data-error'), null);
    assert.equal(await hbox.getAttribute('data-rendered'), 'ok');
    assert.deepEqual(hostile.problems, []);
    assert.deepEqual(hostile.requests, []);
    const text = (await hostile.page.locator('#diagram svg').textContent()) ?? '';
    assert.ok(text.includes('x;y#z%%{init: {"theme":"dark"}}%%'), text);
    assert.ok(text.includes('socket(<img src=x onerror=alert(1)>) → fd 3'), text);
    assert.ok(text.includes('nowrap:(fd 3) → style:#fff;'), text);
    assert.ok(text.includes('HTTP GET http://[::1]:8080/a;b?c=<d>&e="f"#g;h → 404 Not <Found>; classDef x'), text);
    assert.ok(text.includes('connect(fd 3, ::1, 8080)'), text);
    assert.equal(await hostile.page.locator('#diagram img, #diagram script').count(), 0);
    assert.equal(await hostile.page.title(), '<b>title</b> "quoted" & #35; ;');
    await screenshot(hostile.page, join(ARTIFACTS, 'trace-report-hostile.png'));
  } finally {
    await browser.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the report inlines the Mermaid browser bundle and nothing that would end its script early', () => {
  const { path, source } = mermaidBundle();
  assert.match(path, /mermaid[\\/]dist[\\/]mermaid\.min\.js$/);
  const html = renderHtml([]);
  assert.ok(html.length > source.length);
  assert.equal((html.match(/<\/script/gi) ?? []).length, 2, 'only the two script elements end');
  assert.doesNotMatch(html, /<!--/);
  assert.match(html, /Content-Security-Policy" content="default-src 'none'/);
  assert.match(html, /No HTTP exchanges in this trace\./);
});
