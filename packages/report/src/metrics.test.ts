import { ATMOSPHERE_QUANTITIES, DEFAULT_RECOVERY_FACTORS } from '@stellar-emu/grid-io';
import { median, quantile, rmse } from '@stellar-emu/numerics';
import { cvaeMarginals, evaluateChecks, recoveryFactorOf } from './checks.js';
import { buildFigures } from './figures.js';
import { physicsLossVerdict, renderHtml } from './html.js';
import {
  DEFAULT_PINN_SPECTRA_MEDIAN_ABS_DELTA_F,
  DEFAULT_PINN_SPECTRA_P95_ABS_DELTA_F,
  DEFAULT_PINN_SUN_RESIDUAL_FACTOR,
  METRICS_SCHEMA_VERSION,
  SPECTRUM_LABELS,
  parseRunMetrics,
  runMetricsSchema,
  type RunMetricsInput,
} from '@stellar-emu/metrics';
import { buildSampleMetrics } from '../test/sample/sample-metrics.js';

const sample = buildSampleMetrics({ seed: 11, size: 'tiny', runId: 'unit' });

test('sample metrics satisfy the contract, are deterministic per seed and survive a JSON round trip', () => {
  expect(sample.schemaVersion).toBe(METRICS_SCHEMA_VERSION);
  expect(sample.pinn?.depthError.map((d) => d.quantity).sort()).toEqual([...ATMOSPHERE_QUANTITIES].sort());
  expect(sample.recovery?.rmse.map((r) => r.label)).toEqual([...SPECTRUM_LABELS]);
  const again = buildSampleMetrics({ seed: 11, size: 'tiny', runId: 'unit' });
  expect(again.pinn).toEqual(sample.pinn);
  expect(again.cvae).toEqual(sample.cvae);
  expect(again.recovery).toEqual(sample.recovery);
  expect(buildSampleMetrics({ seed: 12, size: 'tiny' }).cvae?.summary).not.toEqual(sample.cvae?.summary);
  expect(parseRunMetrics(JSON.parse(JSON.stringify(sample)))).toEqual(sample);
});

test('sample summaries are computed from the sample arrays', () => {
  const c = sample.cvae!;
  expect(c.summary.median).toBeCloseTo(median(c.residuals!.meanAbsResidual), 5);
  expect(c.summary.p95).toBeCloseTo(quantile(c.residuals!.meanAbsResidual, 0.95), 5);
  for (const s of sample.recovery!.scatter!) {
    const row = sample.recovery!.rmse.find((r) => r.label === s.label)!;
    expect(rmse(s.test.true, s.test.predicted)).toBeCloseTo(row.test, 3 - Math.ceil(Math.log10(row.test)));
  }
  // Physics-informed vs baseline: the PINN's hydrostatic residual is much smaller.
  const absMedian = (m: string) =>
    median(sample.pinn!.hydrostaticResiduals!.find((r) => r.model === m)!.residualDex.map(Math.abs));
  expect(absMedian('pinn')).toBeLessThan(absMedian('baseline') / 2);
  // Temperature is the easiest quantity, as for the real emulators.
  const s = sample.pinn!.summary.medianPercent;
  expect(s.temperature!).toBeLessThan(s.pressure!);
});

test('contract violations name the offending path', () => {
  const bad = structuredClone(sample) as unknown as RunMetricsInput;
  bad.pinn!.depthError[0].p84Percent = bad.pinn!.depthError[0].p84Percent.slice(1);
  expect(() => parseRunMetrics(bad, 'run x')).toThrow(
    /run x does not match.*\n\s+pinn\.depthError\.0\.p84Percent: length/,
  );
  expect(runMetricsSchema.safeParse({ ...sample, schemaVersion: 2 }).success).toBe(false);
  const nan = structuredClone(sample) as unknown as RunMetricsInput;
  nan.cvae!.summary.median = Number.NaN;
  expect(() => parseRunMetrics(nan)).toThrow(/cvae\.summary\.median/);
});

test('checks: one per threshold, missing metrics fail, recovery verdict with the default factor', () => {
  const base = { schemaVersion: 1, run: sample.run } as const;
  const m = parseRunMetrics({
    ...base,
    thresholds: { pinn: { medianPercent: { temperature: 0.5, xne: 0.1 } }, cvae: { medianResidual: 0.01 } },
    pinn: { ...sample.pinn!, summary: { medianPercent: { temperature: 0.3, xne: 2 } } },
    recovery: {
      rmse: [
        { label: 'teffK', train: 50, validation: 60, test: 100, generated: 119 },
        { label: 'logg', train: null, validation: null, test: 0.1, generated: 0.13 },
      ],
    },
  });
  const checks = evaluateChecks(m);
  expect(checks.map((c) => [c.name, c.value, c.limit, c.pass])).toEqual([
    ['pinn.medianPercent.temperature', 0.3, 0.5, true],
    ['pinn.medianPercent.xne', 2, 0.1, false],
    ['cvae.medianResidual', null, 0.01, false],
    ['recovery.teffK', 119, 120, true],
    ['recovery.logg', 0.13, expect.closeTo(0.12, 12), false],
  ]);
  expect(checks.find((c) => c.name === 'cvae.medianResidual')?.detail).toMatch(/missing/);
  expect(evaluateChecks(parseRunMetrics({ ...base }))).toEqual([]);
});

test("Fig. 6: each marginal panel's binned curve lies inside its own label's range (R on a log axis without 0)", () => {
  const c = sample.cvae!;
  const marginals = cvaeMarginals(c);
  expect(marginals.map((m) => m.label)).toEqual([...SPECTRUM_LABELS]);
  const fig = buildFigures(sample).find((f) => f.id === 'cvae-residual-labels')!;
  const panels = (
    fig.spec as unknown as {
      concat: {
        layer: {
          data: { values: Record<string, number>[] };
          encoding: { x: { scale: { type?: string; domain: number[] } } };
        }[];
      }[];
    }
  ).concat;
  expect(panels).toHaveLength(SPECTRUM_LABELS.length);
  marginals.forEach((m, i) => {
    const xs = c.residuals!.labels[m.label];
    const lo = Math.min(...xs);
    const hi = Math.max(...xs);
    expect(m.scale).toBe(m.label === 'resolution' ? 'log' : 'linear');
    expect(m.edges[0]).toBeCloseTo(lo, 6);
    expect(m.edges.at(-1)!).toBeCloseTo(hi, 6);
    expect(m.count.reduce((a, b) => a + b, 0) + m.excluded).toBe(xs.length);
    for (const x of m.center) {
      expect(x).toBeGreaterThan(lo);
      expect(x).toBeLessThan(hi);
    }
    // The drawn curve: the same bins, inside the panel's x domain (its own label's range).
    const curve = panels[i].layer[2].data.values;
    const domain = panels[i].layer[0].encoding.x.scale.domain;
    expect(domain).toEqual([lo, hi]);
    expect(curve.length).toBe(m.count.filter((n) => n > 0).length);
    for (const p of curve) {
      expect(p.x).toBeGreaterThanOrEqual(domain[0]);
      expect(p.x).toBeLessThanOrEqual(domain[1]);
    }
    if (m.label === 'resolution') {
      expect(panels[i].layer[0].encoding.x.scale.type).toBe('log');
      expect(domain[0]).toBeGreaterThan(0);
    }
  });
});

test('recovery factors: one home (grid-io), per label, overridable by one factor or per label', () => {
  const t = (recovery?: { factor?: number; factors?: Record<string, number> }) =>
    parseRunMetrics({ ...JSON.parse(JSON.stringify(sample)), thresholds: { recovery } }).thresholds;
  expect(recoveryFactorOf(t(undefined), 'teffK')).toBe(DEFAULT_RECOVERY_FACTORS.teffK);
  expect(recoveryFactorOf(t(undefined), 'vsiniKms')).toBe(1.5);
  expect(recoveryFactorOf(t({ factor: 2 }), 'logg')).toBe(2);
  expect(recoveryFactorOf(t({ factors: { logg: 1.1 } }), 'logg')).toBe(1.1);
  expect(recoveryFactorOf(t({ factors: { logg: 1.1 } }), 'resolution')).toBe(1.5);
  const checks = evaluateChecks(parseRunMetrics({ ...JSON.parse(JSON.stringify(sample)), thresholds: {} }));
  for (const row of sample.recovery!.rmse) {
    const c = checks.find((x) => x.name === `recovery.${row.label}`)!;
    expect(c.limit).toBeCloseTo(DEFAULT_RECOVERY_FACTORS[row.label] * row.test, 12);
  }
});

// ---------------------------------------------------------------------------------------------
// Spectra from emulated atmospheres (Kurucz-a1 Fig. 5)

test('pinnSpectra sample: deterministic, summaries and the example computed from the models, the Sun on one grid', () => {
  const ps = sample.pinnSpectra!;
  const again = buildSampleMetrics({ seed: 11, size: 'tiny', runId: 'unit' }).pinnSpectra!;
  expect({ ...again, engineSeconds: 0 }).toEqual({ ...ps, engineSeconds: 0 });
  expect(ps.models).toHaveLength(40);
  for (const m of ps.models) {
    expect(m.teffK).toBeGreaterThanOrEqual(ps.sample.teffRangeK[0]);
    expect(m.teffK).toBeLessThanOrEqual(ps.sample.teffRangeK[1]);
  }
  const col = (k: 'pinn' | 'baseline', s: 'median' | 'p95') => ps.models.map((m) => m[k]![s]);
  // Summaries are stored to 6 significant digits.
  const rel = (a: number | null, b: number) =>
    expect(Math.abs(a! / b - 1), `${a} vs ${b}`).toBeLessThan(1e-5);
  rel(ps.summary.pinn.medianOfMedians, median(col('pinn', 'median')));
  rel(ps.summary.pinn.medianOfP95, median(col('pinn', 'p95')));
  rel(ps.summary.pinn.p95OfP95, quantile(col('pinn', 'p95'), 0.95));
  rel(ps.summary.baseline!.medianOfMedians, median(col('baseline', 'median')));
  rel(ps.summary.baseline!.p95OfP95, quantile(col('baseline', 'p95'), 0.95));
  // The example: the model with the median per-model median |ΔF|, its stored spectra give that median.
  const ex = ps.example;
  const row = ps.models.find((m) => m.id === ex.id)!;
  const below = ps.models.filter((m) => m.pinn!.median < row.pinn!.median).length;
  expect(below).toBe(Math.floor((ps.models.length - 1) / 2));
  expect(median(ex.pinn.map((f, i) => Math.abs(f - ex.true[i])))).toBeCloseTo(row.pinn!.median, 5);
  const pixelsPerWindow = ps.settings.windows.map(([a, b]) => Math.round((b - a) / ps.settings.stepAngstrom));
  expect(ex.wavelengthAngstrom).toHaveLength(pixelsPerWindow.reduce((a, b) => a + b, 0));
  // The Sun: residual statistics from the stored arrays (detector gap left out).
  const sun = ps.sun!;
  expect(sun.observed.some((o) => o === null)).toBe(true);
  const absMedian = (a: (number | null)[], b: number[]) =>
    median(a.flatMap((x, i) => (x === null ? [] : [Math.abs(x - b[i])])));
  expect(sun.residuals.trueVsObserved.median).toBeCloseTo(absMedian(sun.observed, sun.true), 6);
  expect(sun.residuals.pinnVsTrue.median).toBeCloseTo(absMedian(sun.pinn, sun.true), 6);
});

test('pinnSpectra contract: arrays of the example or of the Sun with mismatched lengths are rejected, by path', () => {
  const bad = structuredClone(sample) as unknown as RunMetricsInput;
  bad.pinnSpectra!.example.pinn = bad.pinnSpectra!.example.pinn.slice(1);
  expect(() => parseRunMetrics(bad, 'run x')).toThrow(
    /\n\s+pinnSpectra\.example\.pinn: length \d+ differs from wavelengthAngstrom/,
  );
  const badTrue = structuredClone(sample) as unknown as RunMetricsInput;
  badTrue.pinnSpectra!.example.true.push(1);
  expect(() => parseRunMetrics(badTrue)).toThrow(/pinnSpectra\.example\.true: length/);
  const badSun = structuredClone(sample) as unknown as RunMetricsInput;
  badSun.pinnSpectra!.sun!.pinn = badSun.pinnSpectra!.sun!.pinn.slice(0, 10);
  expect(() => parseRunMetrics(badSun)).toThrow(/pinnSpectra\.sun\.pinn: length 10 differs from observed/);
  const nan = structuredClone(sample) as unknown as RunMetricsInput;
  nan.pinnSpectra!.models[3].pinn!.median = Number.NaN;
  expect(() => parseRunMetrics(nan)).toThrow(/pinnSpectra\.models\.3\.pinn\.median/);
});

test('pinnSpectra checks: values from the metrics, limits from the thresholds or the defaults, missing section fails', () => {
  const ps = sample.pinnSpectra!;
  const sun = ps.sun!;
  // Independently of the stored statistics: the Sun's ratio from the spectra themselves.
  const absMedian = (synth: number[]) =>
    median(sun.observed.flatMap((o, i) => (o === null ? [] : [Math.abs(o - synth[i])])));
  const ratio = absMedian(sun.pinn) / absMedian(sun.true);
  const named = (checks: ReturnType<typeof evaluateChecks>) =>
    Object.fromEntries(checks.filter((c) => c.name.startsWith('pinnSpectra.')).map((c) => [c.name, c]));

  const withSample = named(evaluateChecks(sample));
  expect(Object.keys(withSample)).toEqual([
    'pinnSpectra.medianAbsDeltaF',
    'pinnSpectra.p95AbsDeltaF',
    'pinnSpectra.sunResidualRatio',
  ]);
  // The value is the section's summary, which is the median over the models (to its 6 stored digits).
  const rel = (a: number | null, b: number) =>
    expect(Math.abs(a! / b - 1), `${a} vs ${b}`).toBeLessThan(1e-5);
  expect(withSample['pinnSpectra.medianAbsDeltaF']).toMatchObject({
    value: ps.summary.pinn.medianOfMedians,
    limit: DEFAULT_PINN_SPECTRA_MEDIAN_ABS_DELTA_F,
    unit: 'normalized flux',
  });
  rel(withSample['pinnSpectra.medianAbsDeltaF'].value, median(ps.models.map((m) => m.pinn!.median)));
  expect(withSample['pinnSpectra.p95AbsDeltaF'].value).toBe(ps.summary.pinn.medianOfP95);
  rel(withSample['pinnSpectra.p95AbsDeltaF'].value, median(ps.models.map((m) => m.pinn!.p95)));
  expect(withSample['pinnSpectra.p95AbsDeltaF'].limit).toBe(DEFAULT_PINN_SPECTRA_P95_ABS_DELTA_F);
  const r = withSample['pinnSpectra.sunResidualRatio'];
  expect(r.value).toBeCloseTo(ratio, 6);
  expect(r).toMatchObject({ limit: DEFAULT_PINN_SUN_RESIDUAL_FACTOR, unit: 'ratio', pass: r.value! <= 1.1 });

  // No thresholds at all: the checks still run with the defaults when the section exists.
  const json = JSON.parse(JSON.stringify(sample));
  const noThresholds = named(evaluateChecks(parseRunMetrics({ ...json, thresholds: {} })));
  expect(noThresholds['pinnSpectra.medianAbsDeltaF'].limit).toBe(0.0015);
  expect(noThresholds['pinnSpectra.sunResidualRatio'].limit).toBe(1.1);

  // Given limits; a Sun residual worse than the true deck's by more than the factor fails.
  const worse = structuredClone(json);
  worse.pinnSpectra.sun.residuals.pinnVsObserved.median = 1.5 * sun.residuals.trueVsObserved.median;
  const strict = named(
    evaluateChecks(
      parseRunMetrics({
        ...worse,
        thresholds: { pinnSpectra: { medianAbsDeltaF: 1e-9, p95AbsDeltaF: 1, sunResidualFactor: 1.2 } },
      }),
    ),
  );
  expect(strict['pinnSpectra.medianAbsDeltaF']).toMatchObject({ limit: 1e-9, pass: false });
  expect(strict['pinnSpectra.p95AbsDeltaF']).toMatchObject({ limit: 1, pass: true });
  expect(strict['pinnSpectra.sunResidualRatio'].value).toBeCloseTo(1.5, 12);
  expect(strict['pinnSpectra.sunResidualRatio']).toMatchObject({ limit: 1.2, pass: false });

  // No Sun: no ratio check. Thresholds without the section: null values that fail.
  const noSun = structuredClone(json);
  delete noSun.pinnSpectra.sun;
  expect(Object.keys(named(evaluateChecks(parseRunMetrics(noSun))))).toEqual([
    'pinnSpectra.medianAbsDeltaF',
    'pinnSpectra.p95AbsDeltaF',
  ]);
  const missing = named(
    evaluateChecks(parseRunMetrics({ ...json, pinnSpectra: undefined, thresholds: { pinnSpectra: {} } })),
  );
  expect(Object.values(missing).map((c) => [c.name, c.value, c.pass, c.detail])).toEqual([
    ['pinnSpectra.medianAbsDeltaF', null, false, 'metric missing from the run'],
    ['pinnSpectra.p95AbsDeltaF', null, false, 'metric missing from the run'],
  ]);
});

test('pinnSpectra figures: produced for the sample after the PINN figures, log axes without 0, one panel per window and zoom', () => {
  const figures = buildFigures(sample);
  const ids = figures.map((f) => f.id);
  expect(ids.filter((id) => id.startsWith('pinn-spectra'))).toEqual([
    'pinn-spectra-distribution',
    'pinn-spectra-labels',
    'pinn-spectra-example',
    'pinn-spectra-sun',
  ]);
  expect(ids.indexOf('pinn-spectra-distribution')).toBe(ids.indexOf('pinn-label-error') + 1);
  for (const f of figures.filter((x) => x.id.startsWith('pinn-spectra')))
    expect(f.section).toBe('pinnSpectra');
  const ps = sample.pinnSpectra!;
  const byId = (id: string) => figures.find((f) => f.id === id)!.spec as unknown as Record<string, never>;

  type Layer = { data: { values: Record<string, number | string>[] } };
  const dist = byId('pinn-spectra-distribution') as unknown as { hconcat: { layer: Layer[] }[] };
  expect(dist.hconcat).toHaveLength(2);
  dist.hconcat.forEach((panel, i) => {
    const values = panel.layer[0].data.values.map((v) => v.value as number);
    expect(values.length).toBe(2 * (ps.models.length + 1));
    for (const v of values) expect(v).toBeGreaterThan(0);
    expect(panel.layer[1].data.values[0].limit).toBe(i === 0 ? 0.0015 : 0.01);
  });
  const labels = byId('pinn-spectra-labels') as unknown as { data: Layer['data']; hconcat: unknown[] };
  expect(labels.hconcat).toHaveLength(2);
  for (const v of labels.data.values) expect(v.median as number).toBeGreaterThan(0);

  const example = byId('pinn-spectra-example') as unknown as { concat: { vconcat: Layer[] }[] };
  expect(example.concat).toHaveLength(ps.settings.windows.length);
  // Every pixel of the example in exactly one window panel: true, PINN and baseline flux per pixel.
  const fluxRows = example.concat.reduce((n, p) => n + p.vconcat[0].data.values.length, 0);
  expect(fluxRows).toBe(3 * ps.example.wavelengthAngstrom.length);
  const sun = byId('pinn-spectra-sun') as unknown as {
    vconcat: [{ vconcat: unknown[] }, { concat: unknown[] }];
  };
  expect(sun.vconcat[0].vconcat).toHaveLength(3);
  expect(sun.vconcat[1].concat).toHaveLength(ps.sun!.zooms.length);

  // A zero |ΔF| (identical spectra) is drawn at the smallest positive value, never at 0 on a log axis.
  const zero = structuredClone(sample);
  zero.pinnSpectra!.models[0].pinn!.median = 0;
  const d0 = buildFigures(zero).find((f) => f.id === 'pinn-spectra-distribution')!;
  const v0 = (d0.spec as unknown as typeof dist).hconcat[0].layer[0].data.values.map(
    (v) => v.value as number,
  );
  expect(Math.min(...v0)).toBeGreaterThan(0);
  expect(d0.caption).toMatch(/1 zero values drawn at the smallest positive one/);

  // Without the Sun and the baseline: no Sun figure, no baseline in the legends or the verdict.
  const lean = structuredClone(sample);
  delete lean.pinnSpectra!.sun;
  lean.pinnSpectra!.baselineAlpha = null;
  lean.pinnSpectra!.summary.baseline = null;
  lean.pinnSpectra!.example.baseline = null;
  for (const m of lean.pinnSpectra!.models) m.baseline = null;
  const leanFigures = buildFigures(lean).filter((f) => f.section === 'pinnSpectra');
  expect(leanFigures.map((f) => f.id)).toEqual([
    'pinn-spectra-distribution',
    'pinn-spectra-labels',
    'pinn-spectra-example',
  ]);
  for (const f of leanFigures) expect(JSON.stringify(f.spec)).not.toContain('baseline');
  expect(physicsLossVerdict(lean.pinnSpectra!)).toMatch(/No α = 0 baseline/);
});

test('physics-loss verdict: computed from the PINN and baseline medians of per-model medians', () => {
  const ps = structuredClone(sample.pinnSpectra!);
  ps.summary.pinn.medianOfMedians = 0.001;
  ps.summary.baseline!.medianOfMedians = 0.002;
  expect(physicsLossVerdict(ps)).toBe(
    "The physics loss helps the spectra: the PINN's median per-model median |ΔF| is 0.001 against the baseline's 0.002 (2 × smaller).",
  );
  ps.summary.pinn.medianOfMedians = 0.003;
  expect(physicsLossVerdict(ps)).toMatch(
    /^The physics loss does not help the spectra: .* 0\.003 against the baseline's 0\.002 \(1\.5 × larger\)\.$/,
  );
  ps.summary.pinn.medianOfMedians = 0.002;
  expect(physicsLossVerdict(ps)).toMatch(/makes no difference/);
});

test('pinnSpectra with failed atmospheres: they count as models (the curves end at the usable fraction), are named in the captions and text, and a median that falls on them fails its check', () => {
  const failed = structuredClone(sample);
  const ps = failed.pinnSpectra!;
  const n = ps.models.length;
  for (const m of ps.models.slice(0, 3)) m.pinn = null;
  ps.summary.pinn.failed = 3;
  ps.failures = ps.models
    .slice(0, 3)
    .map((m) => ({ ...m, emulator: 'pinn' as const, reason: 'RHOX does not increase inwards (layer 61)' }));
  const parsed = parseRunMetrics(failed);
  const dist = buildFigures(parsed).find((f) => f.id === 'pinn-spectra-distribution')!;
  type Row = { model: string; fraction: number };
  const rows = (dist.spec as unknown as { hconcat: { layer: { data: { values: Row[] } }[] }[] }).hconcat[0]
    .layer[0].data.values;
  const pinnRows = rows.filter((r) => r.model.startsWith('PINN'));
  expect(Math.max(...pinnRows.map((r) => r.fraction))).toBeCloseTo((n - 3) / n, 12);
  expect(Math.max(...rows.filter((r) => !r.model.startsWith('PINN')).map((r) => r.fraction))).toBe(1);
  expect(dist.caption).toMatch(/3 PINN and 0 baseline atmospheres could not be synthesized/);
  // A median that falls on the failures is null: the check fails, it is never dropped.
  const most = structuredClone(failed);
  most.pinnSpectra!.summary.pinn.medianOfMedians = null;
  const c = evaluateChecks(parseRunMetrics(most)).find((x) => x.name === 'pinnSpectra.medianAbsDeltaF')!;
  expect(c.value).toBeNull();
  expect(c.pass).toBe(false);
});

test('pinnSpectra with rebuilt deep column masses: the models stay in every statistic and the text says which layers changed and by how much', () => {
  const fixed = structuredClone(sample);
  const ps = fixed.pinnSpectra!;
  ps.rhoxRepairs = ps.models.slice(0, 2).map((m, k) => ({
    ...m,
    emulator: 'pinn' as const,
    layers: k === 0 ? [68] : [66, 67],
    maxRelativeChange: k === 0 ? 0.004 : 0.012,
  }));
  const parsed = parseRunMetrics(fixed);
  expect(parsed.pinnSpectra!.rhoxRepairs).toHaveLength(2);
  const html = renderHtml(parsed, [], evaluateChecks(parsed), true, '2026-12-03T00:00:00Z');
  expect(html).toContain('rebuilt from the tau scale');
  expect(html).toMatch(/PINN: 2 models, 3 layers from layer 66 down, RHOX changed by at most 1\.2 %/);
  // The Sun's emulated atmosphere counts too.
  fixed.pinnSpectra!.sun!.rhoxRepairs = [{ emulator: 'baseline', layers: [70, 71], maxRelativeChange: 0.02 }];
  expect(renderHtml(parseRunMetrics(fixed), [], [], true, 'x')).toMatch(
    /baseline: 1 model \(the Sun among them\), 2 layers from layer 70 down, RHOX changed by at most 2 %/,
  );
  // Older metrics without the field parse to an empty list (nothing said).
  const old = structuredClone(sample);
  delete (old.pinnSpectra as { rhoxRepairs?: unknown }).rhoxRepairs;
  expect(parseRunMetrics(old).pinnSpectra!.rhoxRepairs).toEqual([]);
  expect(renderHtml(parseRunMetrics(old), [], [], true, 'x')).not.toContain('rebuilt from the tau scale');
});
