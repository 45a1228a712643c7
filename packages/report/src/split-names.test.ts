// Split names in the metrics contract: one vocabulary (grid-io's 'val'), metrics files written with the old 'validation' still parse.
import { parseRunMetrics, RECOVERY_SETS } from '@stellar-emu/metrics';
import { buildSampleMetrics } from '../test/sample/sample-metrics.js';

const sample = buildSampleMetrics({ seed: 11, size: 'tiny', runId: 'unit' });

test("producers write 'val'; the recovery sets are grid-io's split names and the generated spectra", () => {
  expect(RECOVERY_SETS).toEqual(['train', 'val', 'test', 'generated']);
  expect(sample.pinn?.split).toBe('val');
  expect(sample.pinnSpectra?.sample.split).toBe('val');
  for (const row of sample.recovery!.rmse) {
    expect(Object.keys(row)).toEqual(['label', 'train', 'val', 'test', 'generated']);
    expect(Number.isFinite(row.val)).toBe(true);
  }
});

test("a metrics file written with 'validation' (recovery rows, pinn and pinnSpectra split names) parses, read as 'val'", () => {
  const old = JSON.parse(JSON.stringify(sample));
  old.recovery.rmse = old.recovery.rmse.map(({ val, ...r }: Record<string, unknown>) => ({
    label: r.label,
    train: r.train,
    validation: val,
    test: r.test,
    generated: r.generated,
  }));
  old.pinn.split = 'validation';
  old.pinnSpectra.sample.split = 'validation';
  old.cvae.split = 'validation';
  const m = parseRunMetrics(old);
  expect(m.recovery!.rmse).toEqual(sample.recovery!.rmse);
  expect(m.recovery!.rmse.every((r) => !('validation' in r))).toBe(true);
  expect(m.pinn!.split).toBe('val');
  expect(m.pinnSpectra!.sample.split).toBe('val');
  expect(m.cvae!.split).toBe('val');
  // a null validation RMSE stays null under either name; a row with neither is refused
  old.recovery.rmse[0].validation = null;
  expect(parseRunMetrics(old).recovery!.rmse[0].val).toBe(null);
  delete old.recovery.rmse[0].validation;
  expect(() => parseRunMetrics(old)).toThrow(/recovery\.rmse\.0\.val/);
  // without a split the pinn section defaults to the validation split
  delete old.pinn.split;
  old.recovery.rmse[0].val = 1;
  expect(parseRunMetrics(old).pinn!.split).toBe('val');
});
