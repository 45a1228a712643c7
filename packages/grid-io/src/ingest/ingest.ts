// Ingest of Kurucz deck files into an atmosphere dataset, with a quarantine report of every rejected file or model.
import { readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DatasetManifest } from '../dataset/manifest.js';
import type { SplitScheme } from '../dataset/splits.js';
import { QUARANTINE_FILE, writeAtmosphereDatasetFiles, writeDatasetAtomic } from '../dataset/write.js';
import { DeckDefaultsCollector } from '../kurucz/deck-defaults.js';
import { readDeckResults } from '../kurucz/read-deck.js';
import { deckToAtmosphereModel } from '../kurucz/to-model.js';
import type { AtmosphereModel } from '../types.js';

/** One rejected file or model and why. */
export interface QuarantineEntry {
  file: string;
  /** 1-based line of the problem, 0 for a whole-file problem. */
  line: number;
  code: string;
  reason: string;
  /** The file the row names, when the entry is a row of a table (spectrum ingest: the spectrum file). */
  input?: string;
}

/**
 * An ingest that found nothing to write: every input (file, model or row) was rejected. The
 * output directory is left as it was — an existing dataset there stays readable and unchanged —
 * so the rejections are only here (and in the message), not in a quarantine report on disk.
 */
export class IngestError extends Error {
  override readonly name = 'IngestError';
  constructor(
    message: string,
    /** Every rejected input with its reason. */
    readonly rejected: QuarantineEntry[],
    /** Per-file outcome (atmosphere ingests). */
    readonly files: IngestFileReport[] = [],
  ) {
    super(message);
  }
}

/** Message of an ingest with nothing good: the count and the first reasons. */
export function nothingIngestedMessage(
  what: string,
  dir: string,
  rejected: QuarantineEntry[],
  shown = 10,
): string {
  if (rejected.length === 0)
    return `nothing to ingest: the inputs hold no ${what.split(' ')[0]}; ${dir} was left unchanged`;
  const lines = rejected.slice(0, shown).map((r) => `  ${r.reason}`);
  if (rejected.length > shown) lines.push(`  … and ${rejected.length - shown} more`);
  return `nothing to ingest: all ${rejected.length} ${what} rejected; ${dir} was left unchanged:\n${lines.join('\n')}`;
}

/** Per-input-file outcome of an ingest. */
export interface IngestFileReport {
  file: string;
  models: number;
  rejected: number;
  sha256: string | null;
}

/** Result of {@link ingestAtmospheres}. */
export interface IngestResult {
  manifest: DatasetManifest;
  ingested: number;
  rejected: QuarantineEntry[];
  files: IngestFileReport[];
  /** Path of the quarantine report (`<dir>/_quarantine.json`). */
  quarantinePath: string;
  seconds: number;
  /** Bytes of input files read (compressed size for gzip files). */
  inputBytes: number;
}

/** File names treated as decks when a directory is given. */
export const DECK_FILE_PATTERN = /\.(dat|atm|mod|krz|dat\.gz|atm\.gz|mod\.gz|gz)$/i;

/**
 * Read every deck of `inputs` (files, or directories whose deck files are taken in name order)
 * and stream the good models into an atmosphere dataset at `dir`. A bad file or model is
 * quarantined with its reason and ingest goes on; the report is written to
 * `<dir>/_quarantine.json`. Each file is read once (its sha256 is computed on the way). The
 * grid's solar abundance mix and PRADK ratio go to the manifest's `notes.deckDefaults`
 * ({@link DeckDefaultsCollector}), for the decks exported from emulators trained on it.
 *
 * The dataset directory is replaced as a whole, only when complete ({@link writeDatasetAtomic}):
 * when no model at all is good an {@link IngestError} is thrown, and on that or any other error
 * an existing dataset at `dir` is left readable and byte-identical.
 */
export async function ingestAtmospheres(
  inputs: string[],
  dir: string,
  opts: {
    split?: { scheme: SplitScheme; seed: number };
    onModel?: (m: AtmosphereModel) => void;
    notes?: Record<string, unknown>;
  } = {},
): Promise<IngestResult> {
  const t0 = performance.now();
  const rejected: QuarantineEntry[] = [];
  const files: IngestFileReport[] = [];
  const hashes: { path: string; sha256: string }[] = [];
  const paths: string[] = [];
  let inputBytes = 0;
  for (const p of inputs) {
    let st;
    try {
      st = await stat(p);
    } catch (err) {
      rejected.push({
        file: p,
        line: 0,
        code: 'io',
        reason: `${p}: cannot read (${(err as Error).message})`,
      });
      continue;
    }
    if (st.isDirectory()) {
      const names = (await readdir(p)).filter((n) => DECK_FILE_PATTERN.test(n)).sort();
      if (names.length === 0)
        rejected.push({
          file: p,
          line: 0,
          code: 'empty-input',
          reason: `${p}: empty directory: no deck files (*.dat, *.dat.gz, *.atm, *.mod)`,
        });
      for (const n of names) paths.push(join(p, n));
    } else {
      paths.push(p);
    }
  }
  let ingested = 0;
  const defaults = new DeckDefaultsCollector();
  async function* models(): AsyncGenerator<AtmosphereModel> {
    for (const path of paths) {
      const report: IngestFileReport = { file: path, models: 0, rejected: 0, sha256: null };
      files.push(report);
      try {
        inputBytes += (await stat(path)).size;
      } catch {
        /* reported by the reader */
      }
      for await (const r of readDeckResults(path, { label: path, onSha256: (h) => (report.sha256 = h) })) {
        if (!r.ok) {
          report.rejected++;
          rejected.push({ file: path, line: r.error.line, code: r.error.code, reason: r.error.message });
          continue;
        }
        const m = deckToAtmosphereModel(r.deck);
        defaults.add(r.deck, m.afe);
        report.models++;
        ingested++;
        opts.onModel?.(m);
        yield m;
      }
      if (report.sha256) hashes.push({ path, sha256: report.sha256 });
    }
  }
  // The manifest is built after the models are streamed: the count includes every reject.
  const notes: Record<string, unknown> = { ...opts.notes, rejected: 0 };
  async function* counted(): AsyncGenerator<AtmosphereModel> {
    yield* models();
    notes.rejected = rejected.length;
    notes.deckDefaults = defaults.result();
  }
  const manifest = await writeDatasetAtomic(dir, async (stage) => {
    const m = await writeAtmosphereDatasetFiles(counted(), stage, {
      split: opts.split,
      inputs: hashes,
      notes,
    });
    if (ingested === 0)
      throw new IngestError(nothingIngestedMessage('inputs were', dir, rejected), rejected, files);
    await writeFile(join(stage, QUARANTINE_FILE), `${JSON.stringify({ rejected, files }, null, 2)}\n`);
    return m;
  });
  const quarantinePath = join(dir, QUARANTINE_FILE);
  return {
    manifest,
    ingested,
    rejected,
    files,
    quarantinePath,
    seconds: (performance.now() - t0) / 1000,
    inputBytes,
  };
}
