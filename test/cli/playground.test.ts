/**
 * `protostack playground` writes one page that runs demo --stack user in
 * headless Chromium (Debian's, through playwright-core): with ?autorun=1 and
 * loss 0 and 0.1 the diagram with packets is drawn, the summary's packet and
 * retransmission counts are those the CLI prints for the same seed and loss,
 * the pcap download parses as a pcap, nothing is logged as an error and no
 * request leaves the page.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { parsePcap } from '../../src/link/pcap.js';
import { cli as runCli } from './run.js';

const CHROMIUM = '/usr/bin/chromium';

/** The CLI's own counts for a run: "N packets sent" on the link, the sum of the hosts' "R retransmitted". */
async function cliCounts(loss: number, seed: number): Promise<{ packets: number; retransmissions: number }> {
  const r = await runCli(['demo', '--stack', 'user', '--loss', String(loss), '--seed', String(seed), '--objects', '2', '--http', '1.1']);
  assert.equal(r.code, 0, r.stderr);
  const packets = Number(/: (\d+) packets sent, \d+ lost/.exec(r.stdout)?.[1]);
  const retransmissions = [...r.stdout.matchAll(/, (\d+) retransmitted$/gm)].reduce((n, m) => n + Number(m[1]), 0);
  assert.ok(packets > 0, r.stdout.slice(0, 2000));
  return { packets, retransmissions };
}

test('the playground page runs the flow in Chromium: same counts as the CLI, a diagram, a pcap, offline', { timeout: 120_000 }, async () => {
  assert.ok(existsSync(CHROMIUM), `Chromium is not installed at ${CHROMIUM} (apt-get install -y chromium)`);
  const dir = mkdtempSync(join(tmpdir(), 'protostack-playground-'));
  const file = join(dir, 'playground.html');
  const written = await runCli(['playground', '--out', file]);
  assert.equal(written.code, 0, written.stderr);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
  try {
    let sawRetransmission = false;
    for (const loss of [0, 0.1]) {
      const seed = 7;
      const expected = await cliCounts(loss, seed);
      const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1400, height: 900 } });
      const left: string[] = [];
      // Anything but the page itself (and the blob: of the download) is a request leaving the page: refuse it and note it.
      await context.route('**/*', (route) => {
        const url = route.request().url();
        if (url.startsWith('file:') || url.startsWith('data:') || url.startsWith('blob:')) return route.continue();
        left.push(url);
        return route.abort();
      });
      const page = await context.newPage();
      const problems: string[] = [];
      page.on('pageerror', (e) => problems.push(e.message));
      page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
      await page.goto(`${pathToFileURL(file).href}?loss=${loss}&seed=${seed}&objects=2&http=1.1&autorun=1`, { waitUntil: 'load' });
      await page.waitForSelector('[data-testid="diagram"][data-rendered]', { timeout: 60_000 });
      assert.equal(await page.getByTestId('diagram').getAttribute('data-rendered'), 'ok', await page.getByTestId('summary').textContent() ?? '');
      const drawn = (await page.locator('[data-testid="diagram"] svg').textContent()) ?? '';
      for (const host of ['client 10.0.0.10', 'dns-server 10.0.0.53', 'web-server 10.0.0.80']) assert.ok(drawn.includes(host), host);
      assert.match(drawn, /S 0:0\(0\) win/);
      assert.equal(await page.getByTestId('loss').inputValue(), String(loss));
      const summary = (await page.getByTestId('summary').textContent()) ?? '';
      assert.match(summary, new RegExp(`packets: ${expected.packets}, lost: \\d+, retransmissions: ${expected.retransmissions};`), `${summary} vs the CLI's ${JSON.stringify(expected)}`);
      if (expected.retransmissions > 0) {
        sawRetransmission = true;
        assert.match(drawn, /\(retransmission\)/);
      }

      const [download] = await Promise.all([page.waitForEvent('download', { timeout: 10_000 }), page.getByTestId('download-pcap').click()]);
      const saved = join(dir, `run-${loss}.pcap`);
      await download.saveAs(saved);
      const pcap = parsePcap(new Uint8Array(readFileSync(saved)));
      assert.equal(pcap.records.length, expected.packets);
      assert.deepEqual(problems, []);
      assert.deepEqual(left, []);
      await context.close();
    }
    assert.ok(sawRetransmission, 'loss 0.1 with seed 7 retransmits something, so the counts are compared where they differ from 0');
  } finally {
    await browser.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('playground: --out with no name is a usage error, --help prints the usage', async () => {
  const bad = await runCli(['playground', '--out', '']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--out wants a file name/);
  const help = await runCli(['playground', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /Usage: protostack playground \[--out FILE\.html\]/);
});
