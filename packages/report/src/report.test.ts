import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  METRICS_INPUT_FILE,
  generateReportFromRun,
  readRunMetrics,
  writeReport,
  writeRunMetrics,
} from './report.js';
import { escapeHtml, formatNumber } from './html.js';
import { reportMetricsSchema } from '@stellar-emu/metrics';
import { buildSampleMetrics } from '../test/sample/sample-metrics.js';

/** Axis titles (with physical units) that each figure must show. */
const EXPECTED_AXES: Record<string, string[]> = {
  'pinn-depth-error': [
    'log τ_Ross',
    'relative error (%)',
    'T (K)',
    'P (dyn cm⁻²)',
    'RHOX (g cm⁻²)',
    'ABROSS (cm² g⁻¹)',
    'XNE (cm⁻³)',
    'ACCRAD (cm s⁻²)',
  ],
  'pinn-hydrostatic': ['g/κ (dyn cm⁻²)', 'dP/dτ (dyn cm⁻²)', '(dex)', 'Teff = 4500 K'],
  'pinn-hydrostatic-residuals': [
    'log dP/dτ − log g/κ (dex)',
    'fraction of layers',
    'PINN',
    'grid',
    'MLP baseline',
  ],
  'pinn-label-error': ['Teff (K)', 'log g (dex', '[Fe/H] (dex)', '[α/Fe] (dex)', 'median relative error (%)'],
  'pinn-spectra-distribution': [
    'per-model median |ΔF| (normalized flux)',
    'per-model 95th percentile |ΔF| (normalized flux)',
    'fraction of models (cumulative)',
    'PINN (α = 0.03)',
    'MLP baseline (α = 0)',
  ],
  'pinn-spectra-labels': [
    'Teff (K)',
    'log g (dex',
    'per-model median |ΔF|',
    '(normalized flux)',
    'PINN (α = 0.03)',
  ],
  'pinn-spectra-example': [
    'wavelength (air) (Å)',
    'normalized flux',
    'emulated − true',
    '4855–4870 Å',
    '5165–5180 Å',
    'true deck (ATLAS9)',
    'MLP baseline (α = 0)',
  ],
  'pinn-spectra-sun': [
    'wavelength (air) (Å)',
    'normalized flux',
    'synth. − obs.',
    'emulated − true',
    'observed Sun',
    'true deck (ATLAS9)',
    'PINN (α = 0.03)',
    'Mg b',
    'H-beta wings',
  ],
  'cvae-spectra': ['wavelength (Å)', 'normalized flux', 'generated (CVAE)'],
  'cvae-training': [
    'epoch',
    'KL term (nats)',
    'validation: reconstruction (early stopping)',
    'RMS reconstruction error (normalized flux)',
  ],
  'cvae-residual-heatmap': ['Teff (K)', 'log g (dex', 'median residual'],
  'cvae-residual-planes': ['[M/H] (dex)', 'v sin i (km s⁻¹)', 'log10 R', 'v_mic (km s⁻¹)', 'median residual'],
  'cvae-residual-labels': [
    'Teff (K)',
    'v sin i (km s⁻¹)',
    '[M/H] (dex)',
    'v_mic (km s⁻¹)',
    'R = λ/Δλ',
    'normalized flux',
  ],
  'recovery-scatter': [
    'true Teff (K)',
    'predicted Teff (K)',
    'predicted log g (dex',
    'true v sin i (km s⁻¹)',
  ],
};

const decode = (s: string) =>
  s
    .replace(/&amp;/g, '&')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'");

let artifacts: string;
beforeAll(async () => {
  artifacts = await mkdtemp(join(tmpdir(), 'report-run-'));
});
afterAll(async () => {
  await rm(artifacts, { recursive: true, force: true });
});

test('a tiny run: stored metrics → report with every figure (SVG + PNG), checks and metrics.json', async () => {
  const metrics = buildSampleMetrics({ seed: 3, size: 'tiny', runId: 'tiny-run' });
  const stored = await writeRunMetrics(artifacts, 'tiny-run', metrics);
  expect(stored).toBe(join(artifacts, 'runs', 'tiny-run', METRICS_INPUT_FILE));
  expect(await readRunMetrics(artifacts, 'tiny-run')).toEqual(metrics);

  const r = await generateReportFromRun(artifacts, 'tiny-run');
  expect(r.outDir).toBe(join(artifacts, 'runs', 'tiny-run', 'report'));
  expect(r.figures.map((f) => f.id).sort()).toEqual(Object.keys(EXPECTED_AXES).sort());
  for (const f of r.figures) {
    const svg = decode(await readFile(f.svg, 'utf8'));
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.match(/<path/g)?.length ?? 0, f.id).toBeGreaterThan(10);
    for (const title of EXPECTED_AXES[f.id]) expect(svg, `${f.id}: ${title}`).toContain(title);
    const png = await readFile(f.png);
    expect(png.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
    expect(png.readUInt32BE(16), 'PNG width').toBeGreaterThan(600);
    expect((await stat(f.png)).size).toBeGreaterThan(20_000);
  }

  const out = reportMetricsSchema.parse(JSON.parse(await readFile(r.metricsJson, 'utf8')));
  expect(out.checks).toEqual(r.checks);
  expect(out.pass).toBe(out.checks.every((c) => c.pass));
  expect(out.checks.map((c) => c.name)).toEqual(
    expect.arrayContaining([
      'pinn.medianPercent.temperature',
      'pinn.hydrostaticMedianAbsDex',
      'cvae.medianResidual',
      'cvae.p95Residual',
      'recovery.teffK',
      'recovery.resolution',
      'pinnSpectra.medianAbsDeltaF',
      'pinnSpectra.p95AbsDeltaF',
      'pinnSpectra.sunResidualRatio',
    ]),
  );
  for (const c of out.checks) expect(c.pass).toBe(c.value !== null && c.value <= c.limit);
  expect(out.report.figures).toHaveLength(14);

  const html = await readFile(r.indexHtml, 'utf8');
  // Self-contained: no scripts, no external resources, every figure inline.
  expect(html).not.toMatch(/<script|<link[^>]+href="(?!data:)|src="(?!data:)|url\((?!#)/i);
  expect(html).not.toMatch(/(src|href)="https?:/i);
  for (const id of Object.keys(EXPECTED_AXES))
    expect(html).toMatch(new RegExp(`<figure[^>]+data-figure="${id}"[^]*?<svg`));
  for (const c of out.checks) expect(html).toContain(c.name);
  expect(html).toContain(`data-pass="${out.pass}"`);
  // Ids stay unique once several SVGs are inlined.
  const ids = [...html.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]);
  expect(new Set(ids).size).toBe(ids.length);
  expect(html).toContain('RMSE per label (Table 3)');
  // The emulated-atmosphere spectra: a section after the PINN's, its figures inside it, the numbers and the verdict.
  const ps = metrics.pinnSpectra!;
  const section = html.match(/<section id="pinn-spectra">[^]*?<\/section>/)?.[0] ?? '';
  expect(section).toContain('<h2>Spectra from emulated atmospheres (Kurucz-a1 Fig. 5)</h2>');
  expect(html.indexOf('<section id="pinn"')).toBeLessThan(html.indexOf('<section id="pinn-spectra"'));
  expect(html.indexOf('<section id="pinn-spectra"')).toBeLessThan(html.indexOf('<section id="cvae"'));
  for (const id of [
    'pinn-spectra-distribution',
    'pinn-spectra-labels',
    'pinn-spectra-example',
    'pinn-spectra-sun',
  ])
    expect(section).toContain(`data-figure="${id}"`);
  expect(section).toContain(formatNumber(ps.summary.pinn.medianOfMedians));
  expect(section).toContain(formatNumber(ps.summary.baseline!.p95OfP95));
  expect(section).toContain(formatNumber(ps.sun!.residuals.pinnVsTrue.median));
  expect(section).toContain(escapeHtml(ps.settings.linelist));
  const helps = ps.summary.pinn.medianOfMedians! < ps.summary.baseline!.medianOfMedians!;
  expect(section).toContain(
    helps ? 'The physics loss helps the spectra' : 'The physics loss does not help the spectra',
  );
  expect(html).toContain(metrics.run.datasetHashes['spectra-test']);
});

test('sections render only when their metrics exist; a threshold without metrics fails', async () => {
  const metrics = buildSampleMetrics({
    seed: 4,
    size: 'tiny',
    sections: { pinn: false, pinnSpectra: false, recovery: false },
  });
  const out = join(artifacts, 'cvae-only');
  const r = await writeReport({
    metrics: {
      ...metrics,
      thresholds: { ...metrics.thresholds, pinn: { medianPercent: { temperature: 1 } }, pinnSpectra: {} },
    },
    outDir: out,
  });
  expect(r.figures.map((f) => f.id)).toEqual([
    'cvae-training',
    'cvae-spectra',
    'cvae-residual-heatmap',
    'cvae-residual-planes',
    'cvae-residual-labels',
  ]);
  const html = await readFile(r.indexHtml, 'utf8');
  expect(html).not.toContain('id="pinn"');
  expect(html).not.toContain('id="recovery"');
  expect(html).not.toContain('id="pinn-spectra"');
  expect(html).toContain('Not in this run: PINN, spectra from emulated atmospheres, parameter recovery');
  expect(r.checks.find((c) => c.name === 'pinn.medianPercent.temperature')).toMatchObject({
    value: null,
    pass: false,
  });
  // Thresholds of the emulated-atmosphere spectra without the section: both fail with no value (defaults as limits).
  expect(r.checks.filter((c) => c.name.startsWith('pinnSpectra.'))).toEqual([
    expect.objectContaining({ name: 'pinnSpectra.medianAbsDeltaF', value: null, limit: 0.0015, pass: false }),
    expect.objectContaining({ name: 'pinnSpectra.p95AbsDeltaF', value: null, limit: 0.01, pass: false }),
  ]);
  expect(r.pass).toBe(false);

  // Regenerating into the same directory drops figures that no longer exist.
  const noCvae = { ...metrics, cvae: { summary: metrics.cvae!.summary } };
  const again = await writeReport({ metrics: noCvae, outDir: out });
  expect(again.figures).toEqual([]);
  await expect(stat(join(out, 'figures', 'cvae-spectra.svg'))).rejects.toThrow();
});

test('a run without metrics, or with invalid metrics, is reported clearly', async () => {
  await expect(generateReportFromRun(artifacts, 'nope')).rejects.toThrow(/no stored metrics for run 'nope'/);
  await expect(generateReportFromRun(artifacts, '../x')).rejects.toThrow(/run id/);
  await writeRunMetrics(
    artifacts,
    'broken',
    buildSampleMetrics({
      seed: 1,
      size: 'tiny',
      sections: { pinn: false, pinnSpectra: false, cvae: false, recovery: false },
    }),
  );
  const path = join(artifacts, 'runs', 'broken', METRICS_INPUT_FILE);
  const json = JSON.parse(await readFile(path, 'utf8'));
  delete json.run.backend;
  await writeFile(path, JSON.stringify(json));
  await expect(generateReportFromRun(artifacts, 'broken')).rejects.toThrow(/run\.backend/);
});
