// Artifact store: datasets, checkpoints, models and reports live here; workflows carry only
// paths and content hashes. A local directory by default; the interface admits a shared
// file system or an object store later.
import {
  removeStaleTempFiles,
  sha256File,
  sha256Hex,
  withFileLock,
  writeFileAtomic,
} from '@stellar-emu/grid-io';
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';

/** One file or directory that a step produced, with its content hash. */
export interface ArtifactRef {
  /** Absolute path inside the store. */
  path: string;
  /** sha256 (hex) of the file, or of the sorted (relative path, file hash) list of a directory. */
  sha256: string;
}

/** What a completed step leaves behind: enough to skip it next time. */
export interface StepRecord {
  step: string;
  /** sha256 of the step name, its config and its inputs' hashes. */
  key: string;
  outputs: Record<string, ArtifactRef>;
  /** Small JSON summary (metrics, counts) — never bulk data. */
  summary: Record<string, unknown>;
  completedAt: string;
}

/** The store's interface: a step's working directory, and its completion record. */
export interface ArtifactStore {
  readonly root: string;
  /** Directory in which step `step` with key `key` writes its outputs (created on demand). */
  stepDir(step: string, key: string): Promise<string>;
  /** The completion record of a step, if it completed and its outputs are unchanged. */
  findCompleted(step: string, key: string): Promise<StepRecord | null>;
  /** Atomically record a completed step. */
  recordCompleted(record: StepRecord): Promise<void>;
  /**
   * Run a step once per key: `run` under the step's lock, unless the step completed — before or
   * while waiting for the lock (another pipeline doing the same step) — when `reuse` takes its
   * record instead.
   */
  once<T>(
    step: string,
    key: string,
    reuse: (done: StepRecord) => T,
    run: () => Promise<T>,
    onWait?: () => void,
  ): Promise<T>;
  /** Directory for a named run (metrics, reports). */
  runDir(runId: string): Promise<string>;
}

/** sha256 of a file (grid-io `sha256File`), or of a directory's files (sorted relative paths and their hashes). */
export async function hashPath(path: string): Promise<string> {
  const info = await stat(path);
  if (info.isFile()) return sha256File(path);
  const files: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const p = join(dir, entry.name);
      if (entry.isDirectory()) await walk(p);
      else if (entry.isFile() && !entry.name.startsWith('.tmp-')) files.push(p);
    }
  };
  await walk(path);
  files.sort();
  const hash = createHash('sha256');
  for (const f of files) hash.update(`${relative(path, f)}\0${await sha256File(f)}\n`);
  return hash.digest('hex');
}

/** Canonical JSON (sorted keys) so that equal configs hash equally. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** The key of a step: its name, config and input hashes. */
export function stepKey(step: string, config: unknown, inputHashes: Record<string, string>): string {
  return sha256Hex(canonicalJson({ step, config, inputHashes }));
}

/**
 * A step's lock, `<step dir>/.lock` (grid-io `withFileLock`): its holder touches it every 5 s
 * while the step runs; a lock untouched for 50 s, or whose process on this host is gone (a killed
 * worker), is broken. Waiters look again every 250–500 ms.
 */
const STEP_LOCK = { touchMs: 5_000, staleMs: 50_000, retryMs: [250, 500] } as const;

/** The default store: a directory tree `<root>/steps/<step>/<key>/`, `<root>/runs/<id>/`. */
export class LocalArtifactStore implements ArtifactStore {
  readonly root: string;
  constructor(root: string) {
    this.root = resolve(root);
  }

  async stepDir(step: string, key: string): Promise<string> {
    const dir = join(this.root, 'steps', step, key.slice(0, 16));
    await mkdir(dir, { recursive: true });
    // What a killed worker's interrupted writes left here (its pid is in the names; live writers keep theirs).
    await removeStaleTempFiles(dir);
    return dir;
  }

  async once<T>(
    step: string,
    key: string,
    reuse: (done: StepRecord) => T,
    run: () => Promise<T>,
    onWait?: () => void,
  ): Promise<T> {
    const first = await this.findCompleted(step, key);
    if (first) return reuse(first);
    const lock = join(await this.stepDir(step, key), '.lock');
    return withFileLock(
      lock,
      async () => {
        const done = await this.findCompleted(step, key);
        return done ? reuse(done) : await run();
      },
      { ...STEP_LOCK, onWait },
    );
  }

  async findCompleted(step: string, key: string): Promise<StepRecord | null> {
    const file = join(this.root, 'steps', step, key.slice(0, 16), 'step.json');
    let record: StepRecord;
    try {
      record = JSON.parse(await readFile(file, 'utf8')) as StepRecord;
    } catch {
      return null;
    }
    if (record.key !== key) return null;
    for (const ref of Object.values(record.outputs)) {
      try {
        if ((await hashPath(ref.path)) !== ref.sha256) return null;
      } catch {
        return null;
      }
    }
    return record;
  }

  async recordCompleted(record: StepRecord): Promise<void> {
    const file = join(this.root, 'steps', record.step, record.key.slice(0, 16), 'step.json');
    await writeFileAtomic(file, `${JSON.stringify(record, null, 2)}\n`);
  }

  async runDir(runId: string): Promise<string> {
    if (!/^[A-Za-z0-9._-]+$/.test(runId))
      throw new Error(`run id '${runId}' may only hold letters, digits, '.', '_' and '-'`);
    const dir = join(this.root, 'runs', runId);
    await mkdir(dir, { recursive: true });
    return dir;
  }

  /** Remove a step's outputs (used when a step is forced to re-run). */
  async invalidate(step: string, key: string): Promise<void> {
    await rm(join(this.root, 'steps', step, key.slice(0, 16)), { recursive: true, force: true });
  }
}
