import { evaluateChecks } from './checks.js';
import {
  METRICS_SCHEMA_VERSION,
  PINN_QUANTITIES,
  SPECTRUM_LABELS,
  parseRunMetrics,
  runMetricsSchema,
  type RunMetricsInput,
} from './metrics-schema.js';
import { buildSampleMetrics } from './sample/sample-metrics.js';
import { median, quantile, rmse } from './stats.js';

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
