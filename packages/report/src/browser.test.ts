// Browser test: headless Chromium (Debian package, via playwright-core) opens the generated report.
import { accessSync, constants } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium, type BrowserContext } from 'playwright-core';
import { writeReport, type ReportResult } from './report.js';
import { buildSampleMetrics } from '../test/sample/sample-metrics.js';

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
    expect(figures).toHaveLength(14);
    for (const f of figures) {
      expect(f.width, f.id!).toBeGreaterThan(300);
      expect(f.height, f.id!).toBeGreaterThan(150);
      expect(f.marks, f.id!).toBeGreaterThan(10);
      expect(f.text, f.id!).toMatch(/\((K|%|dex|Å|dyn cm⁻²|km s⁻¹|dex, g in cm s⁻²|normalized flux)\)/);
    }
    // Every data mark lies inside the axes of its view (its plot area, up to a pixel of stroke; a
    // point by its centre): no line, bar, rule or point drawn beyond an explicit or clamped domain.
    const outside = await page.$$eval('figure[data-figure]', (els) =>
      els.flatMap((el) => {
        const id = el.getAttribute('data-figure');
        const problems: string[] = [];
        // (The spec's TypeScript has no DOM lib: elements are typed as `el` is, boxes structurally.)
        type Box = {
          left: number;
          right: number;
          top: number;
          bottom: number;
          width: number;
          height: number;
        };
        const plotArea = (mark: typeof el): Box | null => {
          // The nearest enclosing group item (view, facet cell or series group) with a non-empty background.
          for (let g = mark.parentElement; g; g = g.parentElement) {
            const bg = g.querySelector(':scope > path.background');
            const r = bg?.getBoundingClientRect();
            if (r && r.width > 1 && r.height > 1) return r;
          }
          return null;
        };
        for (const mark of el.querySelectorAll('svg g.role-mark')) {
          const area = plotArea(mark);
          if (!area) {
            problems.push(`${id}: a ${mark.getAttribute('class')} outside any view`);
            continue;
          }
          const tol = 1.5;
          const symbol = mark.classList.contains('mark-symbol');
          for (const item of mark.querySelectorAll(
            ':scope > path, :scope > line, :scope > rect, :scope > circle',
          )) {
            const r = item.getBoundingClientRect();
            if (r.width === 0 && r.height === 0 && !symbol) continue;
            const [x0, x1, y0, y1] = symbol
              ? [r.x + r.width / 2, r.x + r.width / 2, r.y + r.height / 2, r.y + r.height / 2]
              : [r.left, r.right, r.top, r.bottom];
            if (
              x0 < area.left - tol ||
              x1 > area.right + tol ||
              y0 < area.top - tol ||
              y1 > area.bottom + tol
            )
              problems.push(
                `${id}: ${mark.getAttribute('class')} item at x ${x0.toFixed(1)}–${x1.toFixed(1)}, y ${y0.toFixed(1)}–${y1.toFixed(1)} outside its axes x ${area.left.toFixed(1)}–${area.right.toFixed(1)}, y ${area.top.toFixed(1)}–${area.bottom.toFixed(1)} (${item.getAttribute('aria-label') ?? ''})`,
              );
          }
        }
        return problems.slice(0, 5);
      }),
    );
    expect(outside).toEqual([]);

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
