// Browser test: headless Chromium (Debian package, via playwright-core) opens the generated report.
import { accessSync, constants } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium, type BrowserContext } from 'playwright-core';
import { writeReport, type ReportResult } from './report.js';
import { buildSampleMetrics } from './sample/sample-metrics.js';

const CHROMIUM = process.env.STELLAR_EMU_CHROMIUM || '/usr/bin/chromium';
/** Test artifacts (git-ignored): the report and its screenshot. */
const ARTIFACTS = fileURLToPath(new URL('../../../test-output/report/', import.meta.url));

/** Flags for this machine: no background network traffic (the network is closed), no sandbox as root. */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

function chromiumAvailable(): boolean {
  try {
    accessSync(CHROMIUM, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

const available = chromiumAvailable();
const inCi = process.env.CI === 'true' || process.env.CI === '1';
if (!available && !inCi) {
  process.stderr.write(
    `[report browser test] skipped: no Chromium at ${CHROMIUM} (node tools/setup-browser.mjs installs it; under CI=true this test fails instead)\n`,
  );
}

describe.skipIf(!available && !inCi)('report in headless Chromium', () => {
  let report: ReportResult;
  let context: BrowserContext;
  let profile: string;

  beforeAll(async () => {
    if (!available)
      throw new Error(
        `CI: headless Chromium is required for the browser test but ${CHROMIUM} is missing (run node tools/setup-browser.mjs)`,
      );
    await mkdir(ARTIFACTS, { recursive: true });
    report = await writeReport({
      metrics: buildSampleMetrics({ seed: 7, size: 'tiny', runId: 'browser-test' }),
      outDir: join(ARTIFACTS, 'tiny-run'),
    });
    profile = await mkdtemp(join(tmpdir(), 'stellar-emu-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1280, height: 900 },
    });
  });

  afterAll(async () => {
    await context?.close();
    if (profile) await rm(profile, { recursive: true, force: true });
  });

  test('opens without console errors or network requests, shows every figure, saves a screenshot', async () => {
    const page = await context.newPage();
    const problems: string[] = [];
    const requests: string[] = [];
    page.on('console', (msg) => {
      if (msg.type() === 'error' || msg.type() === 'warning')
        problems.push(`console.${msg.type()}: ${msg.text()}`);
    });
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    page.on('requestfailed', (req) =>
      problems.push(`request failed: ${req.url()} ${req.failure()?.errorText ?? ''}`),
    );
    page.on('request', (req) => requests.push(req.url()));

    const url = pathToFileURL(report.indexHtml).href;
    const response = await page.goto(url, { waitUntil: 'load' });
    expect(response?.ok() ?? true).toBe(true);
    await expect(page.title()).resolves.toContain('browser-test');

    // Every figure: present, laid out with a real size, with drawn marks and axis titles.
    const figures = await page.$$eval('figure[data-figure]', (els) =>
      els.map((el) => {
        const svg = el.querySelector('svg');
        const box = svg?.getBoundingClientRect();
        return {
          id: el.getAttribute('data-figure'),
          width: box?.width ?? 0,
          height: box?.height ?? 0,
          marks: svg ? svg.querySelectorAll('path, rect, line').length : 0,
          text: svg?.textContent ?? '',
        };
      }),
    );
    expect(figures.map((f) => f.id).sort()).toEqual(report.figures.map((f) => f.id).sort());
    expect(figures).toHaveLength(10);
    for (const f of figures) {
      expect(f.width, f.id!).toBeGreaterThan(300);
      expect(f.height, f.id!).toBeGreaterThan(150);
      expect(f.marks, f.id!).toBeGreaterThan(10);
      expect(f.text, f.id!).toMatch(/\((K|%|dex|Å|dyn cm⁻²|km s⁻¹|dex, g in cm s⁻²|normalized flux)\)/);
    }
    // The verdict and the RMSE table are visible.
    await expect(page.locator('#overall-verdict').isVisible()).resolves.toBe(true);
    await expect(page.locator('table.rmse tbody tr').count()).resolves.toBe(6);

    const screenshot = join(ARTIFACTS, 'screenshot.png');
    await page.screenshot({ path: screenshot, fullPage: true });
    const top = join(ARTIFACTS, 'screenshot-top.png');
    await page.screenshot({ path: top });

    expect(problems).toEqual([]);
    // Only the report itself was loaded: no network, no other file.
    expect(requests).toEqual([url]);
  });
});
