/**
 * The HTML report (`demo --html FILE`) in a window narrower than its diagram, in
 * Debian's headless Chromium: fitted to the window by default (nothing cut
 * off at the right), and at actual size on request, scrolling in a box no
 * taller than the window so its scroll bars are in view.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { cli } from '../cli/run.js';

const CHROMIUM = '/usr/bin/chromium';

test('a diagram wider than the window is fitted to it; "Actual size" scrolls it instead', { timeout: 60_000 }, async () => {
  assert.ok(existsSync(CHROMIUM), `Chromium is not installed at ${CHROMIUM} (apt-get install -y chromium; .ci/run installs it)`);
  // The report as a user makes it. Three objects over HTTP/1.1: labels and ports make a diagram some 1700 px wide.
  const dir = mkdtempSync(join(tmpdir(), 'protostack-fit-'));
  const file = join(dir, 'report.html');
  const made = await cli(['demo', '--objects', '3', '--http', '1.1', '--html', file]);
  assert.equal(made.code, 0, made.stderr);
  assert.equal(made.stderr, `protostack demo: wrote ${file} (HTML report)\n`);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
  try {
    const page = await browser.newPage({ viewport: { width: 900, height: 700 } });
    await page.goto(pathToFileURL(file).href);
    await page.waitForSelector('#diagram[data-rendered="ok"]', { timeout: 30_000 });
    // Runs in the page (a string: the compiler here knows no DOM).
    const measure = () =>
      page.evaluate<{ natural: number; drawn: number; boxWidth: number; scrollWidth: number; boxHeight: number; right: number; page: number }>(`(() => {
        const box = document.getElementById('diagram');
        const svg = box.querySelector('svg');
        return { natural: Number(svg.getAttribute('width')), drawn: svg.getBoundingClientRect().width, boxWidth: box.clientWidth, scrollWidth: box.scrollWidth,
          boxHeight: box.getBoundingClientRect().height, right: box.getBoundingClientRect().right, page: document.documentElement.clientWidth };
      })()`);
    const fitted = await measure();
    assert.ok(fitted.natural > 900, `the diagram is wider than the window (${fitted.natural} px)`);
    assert.ok(fitted.drawn <= fitted.boxWidth, `fitted: drawn ${fitted.drawn} px inside the box's ${fitted.boxWidth} px`);
    assert.ok(fitted.scrollWidth <= fitted.boxWidth + 1, 'nothing hidden to the right');
    assert.ok(fitted.right <= fitted.page, 'the box stays inside the window');
    await page.click('#zoom button[data-zoom="actual"]');
    const actual = await measure();
    assert.ok(Math.abs(actual.drawn - actual.natural) < 2, `actual size: ${actual.drawn} px for ${actual.natural}`);
    assert.ok(actual.scrollWidth > actual.boxWidth, 'the box scrolls sideways');
    assert.ok(actual.boxHeight <= 700, `the scrolling box fits the window's height (${actual.boxHeight} px), so its scroll bar is in view`);
    assert.equal(await page.getAttribute('#zoom button[data-zoom="actual"]', 'aria-pressed'), 'true');
    await page.click('#zoom button[data-zoom="fit"]');
    assert.ok((await measure()).drawn <= fitted.boxWidth);
  } finally {
    await browser.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
