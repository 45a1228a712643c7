import { DEFAULT_RECOVERY_FACTORS } from '@stellar-emu/grid-io';
import { cvaeMarginals, evaluateChecks, recoveryFactorOf } from './checks.js';
import { buildFigures } from './figures.js';
import {
  METRICS_SCHEMA_VERSION,
  PINN_QUANTITIES,
  SPECTRUM_LABELS,
  parseRunMetrics,
  runMetricsSchema,
  type RunMetricsInput,
} from './metrics-schema.js';
import { buildSampleMetrics } from './sample/sample-metrics.js';
import { binnedMarginal, median, quantile, rmse } from './stats.js';

const sample = buildSampleMetrics({ seed: 11, size: 'tiny', runId: 'unit' });

test('sample metrics satisfy the contract, are deterministic per seed and survive a JSON round trip', () => {
  expect(sample.schemaVersion).toBe(METRICS_SCHEMA_VERSION);
  expect(sample.pinn?.depthError.map((d) => d.quantity).sort()).toEqual([...PINN_QUANTITIES].sort());
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

test('binnedMarginal: equal-width bins on the label (log R), mean, sd (n − 1) and median per bin, against hand-computed values', () => {
  const lin = binnedMarginal([1, 2, 3, 4, Number.NaN], [1, 3, 5, 7, 9], 2);
  expect(lin.edges).toEqual([1, 2.5, 4]);
  expect(lin.center).toEqual([1.75, 3.25]);
  expect(lin.mean).toEqual([2, 6]);
  expect(lin.sd[0]).toBeCloseTo(Math.SQRT2, 12);
  expect(lin.median).toEqual([2, 6]);
  expect(lin.count).toEqual([2, 2]);
  expect(lin.excluded).toBe(1);
  // Log scale: 0 is left out; bins equal in log10 x; centres geometric.
  const log = binnedMarginal([0, 1000, 10_000, 100_000], [5, 1, 2, 4], 2, 'log');
  expect(log.excluded).toBe(1);
  expect(log.edges.map((e) => Math.log10(e))).toEqual([3, 4, 5].map((v) => expect.closeTo(v, 12)));
  expect(log.center[0]).toBeCloseTo(10 ** 3.5, 6);
  expect(log.mean).toEqual([1, 3]);
  expect(log.sd).toEqual([null, expect.closeTo(Math.SQRT2, 12)]);
});

test("Fig. 6: each marginal panel's binned curve lies inside its own label's range (R on a log axis without 0)", () => {
  const c = sample.cvae!;
  const marginals = cvaeMarginals(c);
  expect(marginals.map((m) => m.label)).toEqual([...SPECTRUM_LABELS]);
  const fig = buildFigures(sample).find((f) => f.id === 'cvae-residual-labels')!;
  const panels = (fig.spec as unknown as { concat: { layer: { data: { values: Record<string, number>[] }; encoding: { x: { scale: { type?: string; domain: number[] } } } }[] }[] }).concat;
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
