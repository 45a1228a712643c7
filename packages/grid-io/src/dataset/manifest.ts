// The _manifest.json beside every dataset (manifest.json in datasets written before): schema version, counts, label ranges, normalization statistics, input hashes; validated with zod.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';

/** Version of the on-disk dataset layout written by this package. */
export const DATASET_SCHEMA_VERSION = 1;

const quantityStats = z.object({
  transform: z.enum(['log10', 'linear']),
  count: z.number().int().nonnegative(),
  min: z.number(),
  max: z.number(),
  mean: z.number(),
  std: z.number().nonnegative(),
});

const columnSpec = z.object({
  name: z.string().min(1),
  kind: z.enum(['string', 'int32', 'double', 'float', 'boolean', 'list<double>', 'list<float>']),
  nullable: z.boolean().optional(),
});

/** zod schema of the dataset manifest. */
export const manifestSchema = z.object({
  schemaVersion: z.literal(DATASET_SCHEMA_VERSION),
  kind: z.enum(['atmospheres', 'spectra']),
  createdAt: z.string(),
  rowCount: z.number().int().nonnegative(),
  files: z
    .array(
      z.object({
        path: z.string().min(1),
        rowCount: z.number().int().nonnegative(),
        rowGroups: z.number().int().nonnegative(),
      }),
    )
    .min(1),
  columns: z.array(columnSpec).min(1),
  /** Label column names (atmospheres: teff_k, logg, mh, feh, afe, vturb_kms; spectra: from the records). */
  labels: z.array(z.string()),
  /** Spectra: record label key (camelCase) -> column name. */
  labelKeys: z.record(z.string(), z.string()).optional(),
  labelRanges: z.record(z.string(), z.object({ min: z.number(), max: z.number() })),
  /** Per quantity (depth quantities, tau and labels for atmospheres; labels for spectra). */
  normalization: z.record(z.string(), quantityStats),
  synthetic: z.boolean(),
  syntheticCount: z.number().int().nonnegative(),
  split: z.object({ scheme: z.enum(['90/10', '70/15/15']), seed: z.number().int() }).nullable(),
  splitCounts: z.record(z.string(), z.number().int().nonnegative()),
  inputs: z.array(z.object({ path: z.string(), sha256: z.string().regex(/^[0-9a-f]{64}$/) })),
  /** Atmospheres: number of models per layer count. */
  layerCounts: z.record(z.string(), z.number().int().nonnegative()).optional(),
  /** Spectra: pixels per spectrum (min/max) and number of NaN flux pixels. */
  pixels: z
    .object({ min: z.number().int(), max: z.number().int(), nanCount: z.number().int().nonnegative() })
    .optional(),
  /** Free-form provenance (e.g. the command that wrote the dataset). */
  notes: z.record(z.string(), z.unknown()).optional(),
});

/** Contents of the dataset manifest. */
export type DatasetManifest = z.infer<typeof manifestSchema>;
/** Statistics of one quantity as stored in the manifest. */
export type ManifestQuantityStats = z.infer<typeof quantityStats>;

/**
 * Name of the manifest file inside a dataset directory. The leading underscore makes Parquet
 * dataset readers skip it (pyarrow's discovery ignores names beginning with `_` or `.`, and so
 * do polars and Spark), so `pyarrow.parquet.read_table(<dataset dir>)` and
 * `pyarrow.dataset.dataset(<dataset dir>)` open the directory as a Parquet dataset.
 */
export const MANIFEST_FILE = '_manifest.json';

/** The manifest's name in datasets written before schema-version-1 datasets were renamed; still read. */
export const LEGACY_MANIFEST_FILE = 'manifest.json';

/**
 * Path of the manifest of dataset directory `dir`: `<dir>/_manifest.json`, else
 * `<dir>/manifest.json` when only that exists (a dataset written by an earlier version), else
 * `<dir>/_manifest.json` (where a new one goes). Every reader of a manifest goes through here.
 */
export function manifestPath(dir: string): string {
  const path = join(dir, MANIFEST_FILE);
  if (existsSync(path)) return path;
  const legacy = join(dir, LEGACY_MANIFEST_FILE);
  return existsSync(legacy) ? legacy : path;
}

/** Whether `dir` holds a dataset manifest under either name. */
export function hasManifest(dir: string): boolean {
  return existsSync(manifestPath(dir));
}

/** Validate a parsed manifest object; throws an Error naming `where` and every problem. */
export function parseManifest(value: unknown, where = MANIFEST_FILE): DatasetManifest {
  const r = manifestSchema.safeParse(value);
  if (!r.success) {
    const problems = r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new Error(`${where}: invalid dataset manifest (${problems})`);
  }
  return r.data;
}

/**
 * Read and validate the manifest of `dir` ({@link manifestPath}: `_manifest.json`, or
 * `manifest.json` of an older dataset); a missing, unparsable or invalid manifest is a clear error.
 */
export async function readManifest(dir: string): Promise<DatasetManifest> {
  const path = manifestPath(dir);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const hint =
      (err as NodeJS.ErrnoException).code === 'ENOENT'
        ? `: neither ${MANIFEST_FILE} nor ${LEGACY_MANIFEST_FILE} exists in ${dir}`
        : '';
    throw new Error(`${path}: cannot read dataset manifest (${(err as Error).message})${hint}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(`${path}: dataset manifest is not valid JSON (${(err as Error).message})`);
  }
  return parseManifest(json, path);
}
