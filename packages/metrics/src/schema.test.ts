import {
  METRICS_SCHEMA_VERSION,
  parseRunMetrics,
  pinnSectionSchema,
  recoverySectionSchema,
  runMetricsSchema,
  type RunMetricsInput,
} from './index.js';

const run: RunMetricsInput['run'] = {
  id: 'contract',
  createdAt: '2024-01-01T00:00:00Z',
  gitCommit: null,
  backend: 'cpu',
  config: {},
  datasetHashes: {},
  durationsSeconds: {},
  machine: { cpus: 1, memoryBytes: 1, nodeVersion: 'v20' },
};

test('a run without sections is valid at this version and no other; defaults are filled in', () => {
  const m = parseRunMetrics({ schemaVersion: METRICS_SCHEMA_VERSION, run });
  expect(m.thresholds).toEqual({});
  expect(runMetricsSchema.safeParse({ schemaVersion: METRICS_SCHEMA_VERSION + 1, run }).success).toBe(false);
  expect(() =>
    parseRunMetrics({ schemaVersion: METRICS_SCHEMA_VERSION, run: { ...run, id: 'a b' } }, 'run x'),
  ).toThrow(/run x does not match the metrics contract v1:\n\s+run\.id:/);
});

test('section schemas: split names canonical, the old `validation` read as `val`, unknown keys dropped, lengths checked', () => {
  const pinn = pinnSectionSchema.parse({
    split: 'validation',
    nModels: 2,
    depthError: [
      {
        quantity: 'temperature',
        logTau: [0, 1],
        medianPercent: [1, 2],
        p16Percent: [0.5, 1],
        p84Percent: [2, 3],
      },
    ],
    summary: { medianPercent: { temperature: 1.5 } },
    provenance: 'dropped',
  });
  expect(pinn.split).toBe('val');
  expect('provenance' in pinn).toBe(false);
  expect(
    pinnSectionSchema.safeParse({ ...pinn, depthError: [{ ...pinn.depthError[0], p84Percent: [1] }] })
      .success,
  ).toBe(false);
  const rec = recoverySectionSchema.parse({
    rmse: [{ label: 'teffK', train: 1, validation: 2, test: 3, generated: 4 }],
  });
  expect(rec.rmse[0]).toEqual({ label: 'teffK', train: 1, val: 2, test: 3, generated: 4 });
  expect(
    recoverySectionSchema.safeParse({ rmse: [{ label: 'teffK', train: 1, test: 3, generated: 4 }] }).success,
  ).toBe(false);
});
