// Data activities: synthesise, ingest or adopt a dataset; split it; fingerprint inputs.
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import {
  DECK_FILE_PATTERN,
  IngestError,
  ingestAtmospheres,
  readManifest,
  resplitDataset,
  SPECTRUM_DEFAULT_GRID,
  syntheticAtmospheres,
  syntheticSpectra,
  writeAtmosphereDataset,
  sha256File,
  writeFileAtomic,
  writeSpectrumDataset,
  type SpectrumGrid,
} from '@stellar-emu/grid-io';
import type {
  DataSource,
  DatasetRef,
  FingerprintInput,
  PrepareDatasetInput,
  SplitDatasetInput,
  StepOutcome,
} from '@stellar-emu/workflows';
import { hashPath, LocalArtifactStore, stepKey } from '../artifacts/store.js';
import { heartbeatPump } from './heartbeat.js';

/** Bumped when a generator's output changes, so cached synthetic datasets are not reused. */
export const GENERATOR_VERSION = 1;

/** A bad input that retrying cannot fix: fails the step at once with a clear message. */
export function inputError(message: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(message, 'InputError');
}

/**
 * The wavelength window of a synthetic spectra source: the full default grid, or `pixels`
 * pixels of it centred on H-beta (4861.3 Å) — a smaller demo that keeps the strongest line.
 */
export function syntheticGrid(pixels?: number): SpectrumGrid {
  const full = SPECTRUM_DEFAULT_GRID;
  if (pixels === undefined || pixels >= full.n) return full;
  const centre = Math.round((4861.3 - full.startAngstrom) / full.stepAngstrom);
  const first = Math.min(Math.max(0, centre - Math.floor(pixels / 2)), full.n - pixels);
  return {
    startAngstrom: +(full.startAngstrom + first * full.stepAngstrom).toFixed(4),
    stepAngstrom: full.stepAngstrom,
    n: pixels,
  };
}

async function datasetRef(path: string, kind: DatasetRef['kind']): Promise<DatasetRef> {
  const manifest = await readManifest(path);
  if (manifest.kind !== kind) throw inputError(`${path}: a ${manifest.kind} dataset, expected ${kind}`);
  return { path, sha256: await hashPath(path), rows: manifest.rowCount, kind, synthetic: manifest.synthetic };
}

async function deckFiles(grid: string): Promise<string[]> {
  let info;
  try {
    info = await stat(grid);
  } catch {
    throw inputError(`${grid}: no such file or directory`);
  }
  if (info.isFile()) return [resolve(grid)];
  const names = (await readdir(grid)).filter((n) => DECK_FILE_PATTERN.test(n)).sort();
  if (names.length === 0)
    throw inputError(`${grid}: empty directory: no deck files (*.dat, *.dat.gz, *.atm, *.mod)`);
  return names.map((n) => resolve(grid, n));
}

/** Content fingerprint of a data source: file hashes of a grid, the recipe of synthetic data. */
export async function fingerprintSource(source: DataSource): Promise<string> {
  if ('synthetic' in source)
    return stepKey('synthetic', { ...source.synthetic, generator: GENERATOR_VERSION }, {});
  if ('dataset' in source) return hashPath(resolve(source.dataset));
  if ('sme' in source) {
    const grid: Record<string, string> = {};
    for (const f of await deckFiles(source.sme.grid)) grid[f.split('/').pop()!] = await sha256File(f);
    const inputs: Record<string, string> = {
      linelist: await sha256File(resolve(source.sme.linelist)),
      grid: stepKey('grid', {}, grid),
    };
    if (source.sme.labels) inputs.labels = await sha256File(resolve(source.sme.labels));
    return stepKey('sme', source.sme, inputs);
  }
  const files = await deckFiles(source.grid);
  const hashes: Record<string, string> = {};
  for (const f of files) hashes[f.split('/').pop()!] = await sha256File(f);
  return stepKey('grid', {}, hashes);
}

/** Synthesise, ingest or adopt a dataset; skipped when the same inputs were already prepared. */
export async function prepareDatasetStep(input: PrepareDatasetInput): Promise<StepOutcome<DatasetRef>> {
  const { kind, source } = input;
  if ('dataset' in source) {
    const path = resolve(source.dataset);
    const ref = await datasetRef(path, kind);
    return { skipped: true, key: stepKey('adopt', { path }, { dataset: ref.sha256 }), result: ref };
  }
  if ('sme' in source) {
    throw inputError(
      'PySME spectra are synthesized by the synthesizeGrid workflow on the synth queue, not by prepareDatasetStep',
    );
  }
  if ('grid' in source && kind !== 'atmospheres') {
    throw inputError(
      `spectra from a grid folder are not supported; give { dataset: <grid-io spectrum dataset> } or { synthetic: ... }`,
    );
  }
  const store = new LocalArtifactStore(input.artifacts);
  const step = 'synthetic' in source ? `synth-${kind}` : 'ingest-atmospheres';
  const key = stepKey(
    step,
    { source: 'synthetic' in source ? source.synthetic : { grid: resolve(source.grid) } },
    { inputs: await fingerprintSource(source) },
  );
  const hb = heartbeatPump();
  return store
    .once(
      step,
      key,
      (done) => ({ skipped: true, key, result: done.summary.dataset as DatasetRef }),
      async () => {
        const dir = join(await store.stepDir(step, key), 'dataset');
        try {
          let rows = 0;
          if ('synthetic' in source) {
            const { n, seed, pixels } = source.synthetic;
            const progress = <T>(items: Iterable<T>): Iterable<T> => ({
              *[Symbol.iterator]() {
                for (const item of items) {
                  yield item;
                  rows++;
                  hb.update({ step, done: rows, total: n });
                }
              },
            });
            if (kind === 'atmospheres') {
              await writeAtmosphereDataset(progress(syntheticAtmospheres({ n, seed })), dir, {
                notes: { generator: GENERATOR_VERSION },
              });
            } else {
              await writeSpectrumDataset(
                progress(syntheticSpectra({ n, seed, grid: syntheticGrid(pixels) })),
                dir,
                { notes: { generator: GENERATOR_VERSION } },
              );
            }
          } else {
            const files = await deckFiles(source.grid);
            try {
              await ingestAtmospheres(files, dir, { onModel: () => hb.update({ step, done: ++rows }) });
            } catch (err) {
              // Every deck rejected: nothing was written, retrying cannot help.
              if (err instanceof IngestError)
                throw inputError(
                  `${source.grid}: nothing ingested; ${err.rejected.length} rejected: ${err.rejected
                    .slice(0, 3)
                    .map((r) => r.reason)
                    .join('; ')}`,
                );
              throw err;
            }
          }
        } finally {
          hb.stop();
        }
        const ref = await datasetRef(dir, kind);
        await store.recordCompleted({
          step,
          key,
          outputs: { dataset: { path: dir, sha256: ref.sha256 } },
          summary: { dataset: ref },
          completedAt: new Date().toISOString(),
        });
        return { skipped: false, key, result: ref };
      },
      () => hb.update({ step, waiting: 'the same step is running in another pipeline' }),
    )
    .finally(() => hb.stop());
}

/** Assign the split column by hash of each row's id and a seed; skipped when already done. */
export async function splitDatasetStep(input: SplitDatasetInput): Promise<StepOutcome<DatasetRef>> {
  const store = new LocalArtifactStore(input.artifacts);
  const key = stepKey('split', { scheme: input.scheme, seed: input.seed }, { dataset: input.dataset.sha256 });
  return store.once<StepOutcome<DatasetRef>>(
    'split',
    key,
    (done) => ({ skipped: true, key, result: done.summary.dataset as DatasetRef }),
    async () => {
      const dir = join(await store.stepDir('split', key), 'dataset');
      await resplitDataset(input.dataset.path, dir, { scheme: input.scheme, seed: input.seed });
      const ref = await datasetRef(dir, input.dataset.kind);
      await store.recordCompleted({
        step: 'split',
        key,
        outputs: { dataset: { path: dir, sha256: ref.sha256 } },
        summary: { dataset: ref },
        completedAt: new Date().toISOString(),
      });
      return { skipped: false, key, result: ref };
    },
  );
}

/** Content hash of a data source's inputs. */
export async function inputFingerprint(input: FingerprintInput): Promise<string> {
  return fingerprintSource(input.source);
}

function fingerprintFile(artifacts: string, name: string): string {
  if (!/^[A-Za-z0-9._-]+$/.test(name))
    throw inputError(`schedule name '${name}' may only hold letters, digits, '.', '_' and '-'`);
  return join(resolve(artifacts), 'schedules', name, 'trained-fingerprint.json');
}

/** The input fingerprint the named schedule last trained on, or null. */
export async function readTrainedFingerprint(input: {
  artifacts: string;
  name: string;
}): Promise<string | null> {
  try {
    const j = JSON.parse(await readFile(fingerprintFile(input.artifacts, input.name), 'utf8')) as {
      fingerprint?: string;
    };
    return typeof j.fingerprint === 'string' ? j.fingerprint : null;
  } catch {
    return null;
  }
}

/** Remember the fingerprint a completed scheduled run trained on. */
export async function writeTrainedFingerprint(input: {
  artifacts: string;
  name: string;
  fingerprint: string;
  runId: string;
}): Promise<void> {
  const body = { fingerprint: input.fingerprint, runId: input.runId, at: new Date().toISOString() };
  await writeFileAtomic(fingerprintFile(input.artifacts, input.name), `${JSON.stringify(body, null, 2)}\n`);
}
