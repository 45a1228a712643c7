// Fixture for the activity tests: a split synthetic atmosphere dataset in a fresh artifact store.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DatasetRef } from '@stellar-emu/workflows';
import { prepareDatasetStep, splitDatasetStep } from '../src/activities/data.js';

/** `n` toy atmospheres (grid-io's generator, seed 5) split 90/10 (seed 0) in a new store named `prefix`. */
export async function splitSyntheticAtmospheres(
  prefix: string,
  n = 48,
): Promise<{ artifacts: string; dataset: DatasetRef }> {
  const artifacts = await mkdtemp(join(tmpdir(), prefix));
  const raw = await prepareDatasetStep({
    kind: 'atmospheres',
    source: { synthetic: { n, seed: 5 } },
    artifacts,
  });
  const split = await splitDatasetStep({ dataset: raw.result, scheme: '90/10', seed: 0, artifacts });
  return { artifacts, dataset: split.result };
}
