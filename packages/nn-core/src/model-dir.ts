// Model artifacts, one helper for every model: a model directory (weights file + metadata JSON,
// written as one unit, read back through the model's zod schema with the weights' sha256
// verified), or a single checkpoint file whose state is the metadata (the recovery network).
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sha256File, writeDirectoryAtomic } from '@stellar-emu/grid-io';
import type { z } from 'zod';
import {
  CheckpointError,
  readCheckpoint,
  writeCheckpoint,
  type DecodedCheckpoint,
  type StoredTensor,
} from './checkpoint.js';

/**
 * The problems of a failed zod parse, `<field.path>: <message>` joined by '; ' (`(root)` for the
 * value itself), each with the value found when it is a short primitive.
 */
export function schemaProblems(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const at = issue.path.length ? issue.path.map(String).join('.') : '(root)';
      const input = (issue as { input?: unknown }).input;
      const shown =
        input === null || ['string', 'number', 'boolean'].includes(typeof input)
          ? JSON.stringify(input)
          : undefined;
      const found =
        issue.code !== 'invalid_type' && shown !== undefined && shown.length <= 80 ? ` (found ${shown})` : '';
      return `${at}: ${issue.message}${found}`;
    })
    .join('; ');
}

/** `schema`'s output for `value`, or the problems ({@link schemaProblems}) when it does not fit. */
function check<T>(
  schema: z.ZodType<T>,
  value: unknown,
): { ok: true; value: T } | { ok: false; problems: string } {
  const r = schema.safeParse(value, { reportInput: true });
  return r.success ? { ok: true, value: r.data } : { ok: false, problems: schemaProblems(r.error) };
}

/** How a model package lays out its model directory: file names, metadata schema and errors. */
export interface ModelDirFormat<M> {
  /** The metadata file inside the directory (`model.json`). */
  metaFile: string;
  /** zod schema of the metadata; readers get its output (defaults for fields older directories lack). */
  schema: z.ZodType<M>;
  /** The weights file the metadata names, and the sha256 of it that it records (null: none, as in directories written before one was). */
  weightsOf: (meta: M) => { file: string; sha256: string | null };
  /** The model package's error for directory `dir`; `detail` names the file, and the field for metadata problems. */
  error: (dir: string, detail: string) => Error;
  /** The error for a missing weights file (default: {@link error} with `<file>: <detail>`). */
  weightsError?: (weightsPath: string, detail: string) => Error;
  /** What to tell a user whose `dir` does not exist, or holds no metadata file (what it should be, how to make one). */
  hints: { missingDir: string; missingMeta: string };
}

/** What {@link writeModelDir} writes: the weights (by the model's own writer) and the metadata naming them. */
export interface ModelDirContents<M> {
  /** File name of the weights inside the directory. */
  weightsFile: string;
  /** Write the weights to `path` (inside the staging folder). */
  writeWeights: (path: string) => Promise<void>;
  /** The metadata, given the weights file and its sha256 (to record). Written as 2-space indented JSON plus a newline. */
  meta: (weights: { file: string; sha256: string }) => M;
}

/**
 * Write a model directory as one unit: the weights and then the metadata go into a staging
 * folder beside `dir` (with the rest of `dir` — checkpoints/ — hard-linked in), which then
 * replaces `dir` (grid-io `writeDirectoryAtomic`). The metadata is checked against the format's
 * schema first (as JSON, the way a reader sees it), so a directory that would not load is never
 * written. A failure at any point leaves the previous model (weights and metadata matching each
 * other) and the checkpoints as they were. Returns the metadata written.
 */
export async function writeModelDir<M>(
  dir: string,
  format: ModelDirFormat<M>,
  contents: ModelDirContents<M>,
): Promise<M> {
  return writeDirectoryAtomic(dir, async (stage) => {
    const weightsPath = join(stage, contents.weightsFile);
    await contents.writeWeights(weightsPath);
    const meta = contents.meta({ file: contents.weightsFile, sha256: await sha256File(weightsPath) });
    const text = `${JSON.stringify(meta, null, 2)}\n`;
    const checked = check(format.schema, JSON.parse(text));
    if (!checked.ok) throw format.error(dir, `${format.metaFile} would not be readable: ${checked.problems}`);
    await writeFile(join(stage, format.metaFile), text);
    return meta;
  });
}

/** Validate a parsed metadata object of directory `dir`; a value that does not fit gives the format's error naming the file and each failing field. */
export function parseModelMeta<M>(format: ModelDirFormat<M>, value: unknown, dir: string): M {
  const checked = check(format.schema, value);
  if (!checked.ok) throw format.error(dir, `${format.metaFile}: ${checked.problems}`);
  return checked.value;
}

/** A model directory read by {@link readModelDir}. */
export interface ModelDirRead<M> {
  /** The metadata (the schema's output). */
  meta: M;
  /** Path of the weights file the metadata names (verified against its recorded sha256, when one is recorded). */
  weightsPath: string;
}

/**
 * Read a model directory's metadata through the format's schema and verify the weights file it
 * names against the sha256 it records. Errors (the format's, naming the directory): `dir` missing
 * or not a directory, no metadata file, metadata that is not JSON or does not fit the schema
 * (naming each failing field), a missing weights file, weights whose sha256 differs from the
 * recorded one. Reading the weights themselves is the model's.
 */
export async function readModelDir<M>(dir: string, format: ModelDirFormat<M>): Promise<ModelDirRead<M>> {
  const code = (err: unknown) => (err as NodeJS.ErrnoException).code ?? (err as Error).message;
  let isDir: boolean;
  try {
    isDir = (await stat(dir)).isDirectory();
  } catch (err) {
    const missing = code(err) === 'ENOENT' || code(err) === 'ENOTDIR';
    throw format.error(
      dir,
      missing
        ? `does not exist: no ${format.metaFile} (${format.hints.missingDir})`
        : `cannot be read (${code(err)})`,
    );
  }
  if (!isDir) throw format.error(dir, 'is not a directory');
  let text: string;
  try {
    text = await readFile(join(dir, format.metaFile), 'utf8');
  } catch (err) {
    if (code(err) === 'ENOENT')
      throw format.error(dir, `has no ${format.metaFile} (${format.hints.missingMeta})`);
    throw format.error(dir, `cannot read ${format.metaFile} (${code(err)})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw format.error(
      dir,
      `${format.metaFile} is not valid JSON (${(err as Error).message}): the file is corrupt`,
    );
  }
  const meta = parseModelMeta(format, json, dir);
  const weights = format.weightsOf(meta);
  const weightsPath = join(dir, weights.file);
  let actual: string | null = null;
  try {
    if (weights.sha256 === null) await stat(weightsPath);
    else actual = await sha256File(weightsPath);
  } catch (err) {
    const detail =
      code(err) === 'ENOENT'
        ? 'file not found (the model directory is incomplete)'
        : `cannot be read (${code(err)})`;
    throw format.weightsError
      ? format.weightsError(weightsPath, detail)
      : format.error(dir, `${weights.file}: ${detail}`);
  }
  if (weights.sha256 !== null && actual !== weights.sha256)
    throw format.error(
      dir,
      `${weights.file} does not match ${format.metaFile} (checksum mismatch: sha256 ${actual!.slice(0, 12)}…, recorded ${weights.sha256.slice(0, 12)}…): corrupt or replaced`,
    );
  return { meta, weightsPath };
}

/** A model stored as one checkpoint file whose state is its metadata: the file's kind and the state's zod schema. */
export interface ModelFileFormat<S> {
  kind: string;
  schema: z.ZodType<S>;
}

/**
 * Write a single-file model atomically: the tensors with `state` as the checkpoint state (the
 * checkpoint's own sha256 covers both). The state is checked against the format's schema first
 * (as JSON, the way a reader sees it); one that does not fit is a CheckpointError naming each field.
 */
export async function writeModelFile<S>(
  path: string,
  format: ModelFileFormat<S>,
  tensors: Map<string, StoredTensor>,
  state: S,
): Promise<void> {
  const checked = check(format.schema, JSON.parse(JSON.stringify(state)));
  if (!checked.ok)
    throw new CheckpointError(path, `model metadata would not be readable: ${checked.problems}`);
  await writeCheckpoint(path, tensors, format.kind, state);
}

/**
 * Read and verify a single-file model: a missing, corrupt or foreign file (another kind), or a
 * state that does not fit the schema (naming each failing field), is a CheckpointError.
 */
export async function readModelFile<S>(
  path: string,
  format: ModelFileFormat<S>,
): Promise<{ state: S; tensors: DecodedCheckpoint['tensors'] }> {
  const ck = await readCheckpoint(path);
  if (ck.kind !== format.kind)
    throw new CheckpointError(path, `is a '${ck.kind}' file, not a ${format.kind} model`);
  const checked = check(format.schema, ck.state);
  if (!checked.ok)
    throw new CheckpointError(
      path,
      `model metadata (checkpoint state) does not fit ${format.kind}: ${checked.problems}`,
    );
  return { state: checked.value, tensors: ck.tensors };
}
