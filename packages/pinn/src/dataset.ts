// Atmosphere datasets (grid-io Parquet) as PINN inputs: models per split, in compact float64 arrays.
import { canonicalSplitName, openDataset, sha256Hex, type DatasetManifest } from '@stellar-emu/grid-io';
import type { AtmosphereLike } from './atmosphere.js';

/** An atmosphere read from a dataset: labels, depth arrays (cgs, surface first) and its row id. */
export interface DatasetAtmosphere extends AtmosphereLike {
  id: string;
  split: string | null;
  rhox: Float64Array;
  temperature: Float64Array;
  pressure: Float64Array;
  xne: Float64Array;
  abross: Float64Array;
  accrad: Float64Array;
  tauRosseland: Float64Array;
}

const DEPTH_COLUMNS = [
  ['rhox', 'rhox'],
  ['temperature', 'temperature'],
  ['pressure', 'pressure'],
  ['xne', 'xne'],
  ['abross', 'abross'],
  ['accrad', 'accrad'],
  ['tauRosseland', 'tau_rosseland'],
] as const;

const COLUMNS = [
  'id',
  'teff_k',
  'logg',
  'feh',
  'afe',
  'n_layers',
  'split',
  ...DEPTH_COLUMNS.map(([, c]) => c),
];

/**
 * Content hash of a dataset: sha256 of its manifest without `createdAt` (row count, files,
 * input hashes, statistics and split counts all enter). Stored in model.json and in the
 * training config, so a run cannot resume on a different dataset.
 */
export function datasetHash(manifest: DatasetManifest): string {
  const { createdAt: _createdAt, ...rest } = manifest;
  return sha256Hex(JSON.stringify(rest));
}

/**
 * Stream an atmosphere dataset once (one Parquet row group in memory at a time) and keep the
 * models of the requested splits as float64 arrays: 7 depth arrays x 8 bytes per layer, i.e.
 * about 56 B per depth point (ATLAS9: 6,890 models x <= 72 layers -> <= 28 MB).
 * Rows with a null split are skipped when `splits` is given. Split names are grid-io's
 * (`TRAIN_SPLIT`, `VAL_SPLIT`; an old spelling is read as its name), and so are the map's keys.
 */
export async function readAtmosphereSplits(
  datasetDir: string,
  splits: string[] | null,
): Promise<{ manifest: DatasetManifest; hash: string; models: Map<string, DatasetAtmosphere[]> }> {
  const ds = await openDataset(datasetDir);
  if (ds.manifest.kind !== 'atmospheres')
    throw new Error(
      `${datasetDir}: is a '${ds.manifest.kind}' dataset, the PINN needs an atmosphere dataset`,
    );
  const models = new Map<string, DatasetAtmosphere[]>();
  const wanted = splits?.map(canonicalSplitName) ?? null;
  for (const s of wanted ?? []) models.set(s, []);
  for await (const rows of ds.iterateRows({ columns: COLUMNS, ...(wanted ? { split: wanted } : {}) })) {
    for (const r of rows) {
      const split = (r.split as string | null) ?? null;
      const n = r.n_layers as number;
      const m: DatasetAtmosphere = {
        id: r.id as string,
        split,
        teffK: r.teff_k as number,
        logg: r.logg as number,
        feh: r.feh as number,
        afe: r.afe as number,
        nLayers: n,
      } as DatasetAtmosphere;
      for (const [field, col] of DEPTH_COLUMNS) {
        const arr = Float64Array.from(r[col] as ArrayLike<number>);
        if (arr.length !== n)
          throw new Error(
            `${datasetDir}: row ${m.id}: column ${col} has ${arr.length} layers, n_layers is ${n}`,
          );
        m[field] = arr;
      }
      const key = wanted ? (split as string) : (split ?? '');
      if (!models.has(key)) models.set(key, []);
      models.get(key)!.push(m);
    }
  }
  return { manifest: ds.manifest, hash: datasetHash(ds.manifest), models };
}
