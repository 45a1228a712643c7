// The real producers on a tiny run, through the metrics contract: pinn's evaluatePinnModel (evaluatePinnStep),
// cvae's evaluateCvae (evaluateCvaeStep), param-nn's validateEmulatorOnDataset (validateCvaeStep) and the
// report's assembly (generateReportStep), each file parsed with @stellar-emu/metrics, the report rendered from it.
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  cvaeSectionSchema,
  METRICS_SCHEMA_VERSION,
  pinnSectionSchema,
  reportMetricsSchema,
  runMetricsSchema,
  SPECTRUM_LABELS,
} from '@stellar-emu/metrics';
import { METRICS_INPUT_FILE, readRunMetrics } from '@stellar-emu/report';
import { runDemo, type DemoResult } from './demo.js';

/**
 * Keys of `input` that the parse dropped (dotted paths, array elements as `*`): what the producer
 * wrote beside the contract. A contract field written under a drifted name shows up here.
 */
function droppedKeys(input: unknown, parsed: unknown, path = '', out = new Set<string>()): Set<string> {
  if (Array.isArray(input) && Array.isArray(parsed)) {
    input.forEach((v, i) => droppedKeys(v, parsed[i], `${path}*.`, out));
  } else if (input && parsed && typeof input === 'object' && typeof parsed === 'object') {
    for (const [k, v] of Object.entries(input)) {
      if (!(k in parsed)) out.add(`${path}${k}`);
      else droppedKeys(v, (parsed as Record<string, unknown>)[k], `${path}${k}.`, out);
    }
  }
  return out;
}

const json = async (path: string): Promise<unknown> => JSON.parse(await readFile(path, 'utf8'));

let artifacts: string;
let run: DemoResult;

beforeAll(async () => {
  artifacts = await mkdtemp(join(tmpdir(), 'se-producers-'));
  run = await runDemo({ artifacts, seed: 3, size: 'tiny', runId: 'producers' });
}, 900_000);

afterAll(async () => {
  if (artifacts) await rm(artifacts, { recursive: true, force: true });
});

test("evaluatePinnModel's file is the contract's pinn section and its documented provenance, nothing else", async () => {
  const file = await json(run.metrics.pinn.path);
  const r = pinnSectionSchema.safeParse(file);
  expect(r.success, JSON.stringify(r.error?.issues.slice(0, 5))).toBe(true);
  const pinn = r.data!;
  expect(pinn.split).toBe('val');
  // Every optional part of the section is there (a drifted name would leave it out silently).
  expect(pinn.hydrostatic?.curves.map((c) => c.model)).toEqual(['grid', 'pinn', 'baseline']);
  expect(pinn.hydrostaticResiduals?.map((c) => c.model)).toEqual(['grid', 'pinn', 'baseline']);
  expect(pinn.labelError?.medianPercent).toHaveLength(pinn.nModels);
  expect(Object.keys(pinn.summary.medianPercent).sort()).toEqual([
    'abross',
    'accrad',
    'pressure',
    'rhox',
    'temperature',
    'xne',
  ]);
  expect([...droppedKeys(file, pinn)].sort()).toEqual([
    'baseline',
    'dataset',
    'hydrostaticGravity',
    'hydrostaticMask',
    'hydrostaticUndefined',
    'model',
    'summary.medianHydrostaticResidual',
    'summary.medianHydrostaticResidualBaseline',
    'summary.medianHydrostaticResidualGrid',
  ]);
});

test("the worker's cvae file (evaluateCvae through cvaeReportSection) is the contract's cvae section and evaluateCvae's other metrics", async () => {
  const file = await json(run.metrics.cvae.path);
  const r = cvaeSectionSchema.safeParse(file);
  expect(r.success, JSON.stringify(r.error?.issues.slice(0, 5))).toBe(true);
  const cvae = r.data!;
  expect(cvae.split).toBe('test');
  expect(cvae.examples!.length).toBeGreaterThan(0);
  expect(Object.keys(cvae.residuals!.labels)).toEqual([...SPECTRUM_LABELS]);
  expect(cvae.training?.history).toHaveLength(run.models.cvae.epochsDone);
  expect(cvae.speed?.cvaeSpectraPerSecond).toBeGreaterThan(0);
  expect([...droppedKeys(file, cvae)].sort()).toEqual([
    'generation',
    'nSpectra',
    'perLabel',
    'seconds',
    'teffLoggMap',
    'z',
  ]);
});

test("param-nn's recovery metrics are a whole RunMetrics of this contract version, with only paramNn beside it", async () => {
  const file = await json(run.metrics.recovery.path);
  expect((file as { schemaVersion: unknown }).schemaVersion).toBe(METRICS_SCHEMA_VERSION);
  const r = runMetricsSchema.safeParse(file);
  expect(r.success, JSON.stringify(r.error?.issues.slice(0, 5))).toBe(true);
  const m = r.data!;
  expect(m.recovery!.rmse.map((x) => x.label)).toEqual([...SPECTRUM_LABELS]);
  expect(m.recovery!.scatter!.map((x) => x.label)).toEqual([...SPECTRUM_LABELS]);
  for (const row of m.recovery!.rmse)
    for (const s of ['train', 'val', 'test', 'generated'] as const)
      expect(Number.isFinite(row[s]), `${row.label} ${s}`).toBe(true);
  expect(Object.keys(m.thresholds.recovery!.factors!)).toEqual([...SPECTRUM_LABELS]);
  expect([...droppedKeys(file, m)]).toEqual(['paramNn']);
});

test("generateReportStep stores the run's metrics in the contract and renders every figure of the sections from them", async () => {
  const stored = await readRunMetrics(artifacts, run.runId);
  expect(stored.schemaVersion).toBe(METRICS_SCHEMA_VERSION);
  expect(
    Object.keys(stored)
      .filter((k) => k !== 'schemaVersion' && k !== 'run' && k !== 'thresholds')
      .sort(),
  ).toEqual(['cvae', 'pinn', 'recovery']);
  // What was stored is what the producers wrote, through the contract (nothing lost on the way but the extra keys).
  expect(stored.pinn).toEqual(pinnSectionSchema.parse(await json(run.metrics.pinn.path)));
  expect(stored.cvae).toEqual(cvaeSectionSchema.parse(await json(run.metrics.cvae.path)));
  expect(stored.recovery).toEqual(runMetricsSchema.parse(await json(run.metrics.recovery.path)).recovery);
  expect(droppedKeys(await json(join(artifacts, 'runs', run.runId, METRICS_INPUT_FILE)), stored).size).toBe(
    0,
  );

  const dir = run.report.dir;
  expect(existsSync(join(dir, 'index.html'))).toBe(true);
  const report = reportMetricsSchema.parse(await json(join(dir, 'metrics.json')));
  expect(report.report.figures.map((f) => f.id).sort()).toEqual([
    'cvae-residual-heatmap',
    'cvae-residual-labels',
    'cvae-residual-planes',
    'cvae-spectra',
    'cvae-training',
    'pinn-depth-error',
    'pinn-hydrostatic',
    'pinn-hydrostatic-residuals',
    'pinn-label-error',
    'recovery-scatter',
  ]);
  for (const f of report.report.figures) {
    const svg = await readFile(join(dir, f.svg), 'utf8');
    expect(svg, f.id).toMatch(/<path|<rect|<circle/);
    expect((await readFile(join(dir, f.png))).subarray(1, 4).toString(), f.id).toBe('PNG');
  }
  expect(report.checks.map((c) => c.name)).toContain('cvae.medianResidual');
  expect(
    report.checks.filter((c) => c.name.startsWith('recovery.')).map((c) => c.name.slice('recovery.'.length)),
  ).toEqual([...SPECTRUM_LABELS]);
  expect(await readFile(join(dir, 'index.html'), 'utf8')).toContain(
    `metrics contract v${METRICS_SCHEMA_VERSION}`,
  );
});
