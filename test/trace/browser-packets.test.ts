/**
 * The diagram with packets in a real browser (Debian's Chromium, headless,
 * through playwright-core): the report of `demo --stack user` draws the
 * packets layer with no error, offline, shows every host at 1400 px, and
 * its toggle redraws the calls-only layer. Screenshots are kept in
 * artifacts/ and, for the README, docs/img/.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { runUserDemo } from '../../src/cli/demo-user.js';
import { renderHtml } from '../../src/trace/html.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = fileURLToPath(new URL('../../../artifacts/', import.meta.url));

test('the report with packets draws in headless Chromium: every host at 1400 px, a retransmission drawn, the toggle redraws', { timeout: 90_000 }, async () => {
  assert.ok(existsSync(CHROMIUM), `Chromium is not installed at ${CHROMIUM} (apt-get install -y chromium)`);
  const r = await runUserDemo({ loss: 0.1, seed: 1 });
  const html = renderHtml(r.trace.events, { title: 'protostack demo --stack user --loss 0.1 --seed 1', packets: true });
  const dir = mkdtempSync(join(tmpdir(), 'protostack-packets-'));
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
  try {
    const file = join(dir, 'report.html');
    writeFileSync(file, html);
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const problems: string[] = [];
    const requests: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
    page.on('request', (q) => !q.url().startsWith('file:') && !q.url().startsWith('data:') && requests.push(q.url()));
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
    await page.waitForSelector('#diagram[data-rendered="ok"] svg, #diagram[data-rendered="error"]', { timeout: 30_000 });
    assert.equal(await page.locator('#diagram').getAttribute('data-error'), null);
    assert.equal(await page.locator('#diagram').getAttribute('data-rendered'), 'ok');
    assert.deepEqual(problems, []);
    assert.deepEqual(requests, []);
    const drawn = (await page.locator('#diagram svg').textContent()) ?? '';
    for (const host of ['client 10.0.0.10', 'dns-server 10.0.0.53', 'web-server 10.0.0.80']) assert.ok(drawn.includes(host), host);
    assert.match(drawn, /S 0:0\(0\) win/);
    assert.match(drawn, /\(retransmission\)/);
    // Fitted to the window: every participant's box lies inside the 1400 px viewport.
    const boxes = await page.locator('#diagram svg rect.actor').evaluateAll((els) => els.map((e) => e.getBoundingClientRect().right));
    assert.ok(boxes.length >= 3 && boxes.every((right) => right <= 1400), `actor boxes end at ${boxes.join(', ')}`);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'trace-packets.png'), fullPage: false });

    await page.locator('#layers button[data-layer="calls"]').click();
    await page.waitForSelector('#diagram[data-layer="calls"][data-rendered="ok"] svg', { timeout: 30_000 });
    const calls = (await page.locator('#diagram svg').textContent()) ?? '';
    assert.match(calls, /connect\(fd 3, 10\.0\.0\.80, 80\)/);
    assert.doesNotMatch(calls, /S 0:0\(0\)/);
    assert.deepEqual(problems, []);
  } finally {
    await browser.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
