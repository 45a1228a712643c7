// Re-writing a dataset with a new split column (streamed row group by row group).
import type { DatasetManifest } from './manifest.js';
import { openDataset, rowToAtmosphereModel, rowToSpectrumRecord } from './read.js';
import type { SplitScheme } from './splits.js';
import { writeAtmosphereDataset, writeSpectrumDataset } from './write.js';

/**
 * Copy the dataset at `srcDir` to `dstDir` with the split column assigned by `scheme` and
 * `seed` (see `assignSplit`); rows, input hashes and notes are kept, statistics recomputed in
 * the same streaming pass. `srcDir` and `dstDir` must differ.
 */
export async function resplitDataset(
  srcDir: string,
  dstDir: string,
  split: { scheme: SplitScheme; seed: number },
): Promise<DatasetManifest> {
  const src = await openDataset(srcDir);
  const m = src.manifest;
  const opts = { split, inputs: m.inputs, notes: { ...m.notes, resplitFrom: srcDir } };
  if (m.kind === 'atmospheres') {
    async function* models() {
      for await (const batch of src.iterateRows()) for (const row of batch) yield rowToAtmosphereModel(row);
    }
    return writeAtmosphereDataset(models(), dstDir, opts);
  }
  async function* records() {
    for await (const batch of src.iterateRows()) for (const row of batch) yield rowToSpectrumRecord(row, m);
  }
  const fluxType = m.columns.find((c) => c.name === 'flux')?.kind === 'list<double>' ? 'double' : 'float';
  return writeSpectrumDataset(records(), dstDir, { ...opts, fluxType });
}
