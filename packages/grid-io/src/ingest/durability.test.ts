// A failed write never destroys what was there: ingests and dataset writes into a folder holding a
// good dataset leave it byte-identical and readable; a damaged gzip keeps the models read before the damage.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';
import { recoverDirectory } from '../dataset/atomic-dir.js';
import { MANIFEST_FILE } from '../dataset/manifest.js';
import { openDataset, rowToAtmosphereModel } from '../dataset/read.js';
import { writeAtmosphereDataset, writeSpectrumDataset } from '../dataset/write.js';
import { atmosphereModelToDeck, formatDeck } from '../kurucz/write-deck.js';
import { syntheticAtmospheres } from '../synth/atmosphere.js';
import { syntheticSpectra } from '../synth/spectrum.js';
import type { AtmosphereModel, SpectrumRecord } from '../types.js';
import { IngestError, ingestAtmospheres } from './ingest.js';
import { ingestSpectra } from './spectra.js';

let root = '';
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'durability-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** sha256 of every file under `dir`, by relative path. */
async function fileHashes(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else
        out[relative(dir, p)] = createHash('sha256')
          .update(await readFile(p))
          .digest('hex');
    }
  };
  await walk(dir);
  return out;
}

/** Rows of a dataset as JSON (every column). */
async function rowsOf(dir: string): Promise<string[]> {
  const ds = await openDataset(dir);
  const rows: string[] = [];
  for await (const batch of ds.iterateRows()) for (const r of batch) rows.push(JSON.stringify(r));
  return rows;
}

/** Staging or backup folders of atomic writes left beside `dir`. */
async function leftovers(dir: string): Promise<string[]> {
  const name = dir.split('/').pop()!;
  return (await readdir(join(dir, '..'))).filter((n) => n.startsWith(`.${name}.`));
}

const GRID = { startAngstrom: 5000, stepAngstrom: 0.05, n: 200 };
const fort7 = (from: number, to: number, h: number) => {
  const rows: string[] = [];
  for (let i = 0; from + i * h <= to + 1e-9; i++)
    rows.push(
      `${(from + i * h).toFixed(4)} ${(1 - 0.5 * Math.exp(-(((from + i * h - 5004) / 0.1) ** 2))).toFixed(8)}`,
    );
  return `${rows.join('\n')}\n`;
};
const HEADER = 'file,teff_k,logg,vsini_kms,mh,vmic_kms,resolution';

describe('a failed write leaves the previous dataset byte-identical and readable', () => {
  test('spectra: an ingest whose label table points only at bad files (damaged, not a spectrum, missing, outside the folder)', async () => {
    const dir = join(root, 'spectra-in');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'good.txt'), fort7(4999, 5011, 0.02));
    await writeFile(join(dir, 'notes.txt'), 'my private notes, not a spectrum\n');
    await writeFile(join(dir, 'cut.txt.gz'), gzipSync(fort7(4999, 5011, 0.02)).subarray(0, 200));
    await writeFile(join(root, 'outside.txt'), fort7(4999, 5011, 0.02));
    await writeFile(
      join(dir, 'good.csv'),
      `${HEADER}\ngood.txt,5800,4.4,2,0,1,50000\ngood.txt,6000,4.0,2,0,1,50000\n`,
    );
    const out = join(root, 'spectra-ds');
    const first = await ingestSpectra({ labels: join(dir, 'good.csv'), out, grid: GRID });
    expect(first.ingested).toBe(2);
    const before = await fileHashes(out);
    expect(Object.keys(before).sort()).toEqual([MANIFEST_FILE, 'data.parquet', '_quarantine.json'].sort());
    const rowsBefore = await rowsOf(out);

    // One row, its file exists but is not a spectrum: the read fails only while the dataset is written.
    await writeFile(join(dir, 'one-bad.csv'), `${HEADER}\nnotes.txt,5800,4.4,2,0,1,50000\n`);
    await expect(ingestSpectra({ labels: join(dir, 'one-bad.csv'), out, grid: GRID })).rejects.toThrow(
      IngestError,
    );
    expect(await fileHashes(out)).toEqual(before);
    expect(await rowsOf(out)).toEqual(rowsBefore);

    await writeFile(
      join(dir, 'bad.csv'),
      `${HEADER}\nnotes.txt,5800,4.4,2,0,1,50000\ncut.txt.gz,5800,4.4,2,0,1,50000\nmissing.txt,5800,4.4,2,0,1,50000\n../outside.txt,5800,4.4,2,0,1,50000\ngood.txt,5800,abc,2,0,1,50000\n`,
    );
    const err = await ingestSpectra({ labels: join(dir, 'bad.csv'), out, grid: GRID }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(IngestError);
    expect((err as IngestError).rejected.map((r) => [r.line, r.code])).toEqual([
      [2, 'unreadable'],
      [3, 'unreadable'],
      [4, 'not-found'],
      [5, 'outside'],
      [6, 'label'],
    ]);
    expect((err as Error).message).toMatch(/left unchanged/);
    // The message never quotes the file it could not read.
    expect((err as Error).message).not.toContain('private');
    expect(await fileHashes(out)).toEqual(before);
    expect(await rowsOf(out)).toEqual(rowsBefore);
    expect(await leftovers(out)).toEqual([]);
  });

  test('atmospheres: an ingest of an all-bad deck file', async () => {
    const decks = join(root, 'decks');
    await mkdir(decks, { recursive: true });
    const models = [...syntheticAtmospheres({ n: 4, seed: 9, nLayers: 12 })];
    await writeFile(
      join(decks, 'good.dat'),
      models.map((m) => formatDeck(atmosphereModelToDeck(m))).join(''),
    );
    await writeFile(
      join(decks, 'bad.dat'),
      'TEFF   5000.  GRAVITY 4.00000 LTE\nREAD DECK6 72 RHOX,T,P,XNE,ABROSS,ACCRAD,VTURB\n 1.0E-03 nonsense\n',
    );
    const out = join(root, 'atm-ds');
    const first = await ingestAtmospheres([join(decks, 'good.dat')], out);
    expect(first.ingested).toBe(4);
    const before = await fileHashes(out);
    const rowsBefore = await rowsOf(out);

    const err = await ingestAtmospheres([join(decks, 'bad.dat')], out).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IngestError);
    expect((err as IngestError).rejected).toHaveLength(1);
    expect((err as Error).message).toContain('bad.dat:3: expected numbers in depth row 1');
    expect(await fileHashes(out)).toEqual(before);
    expect(await rowsOf(out)).toEqual(rowsBefore);
    expect((await openDataset(out)).numRows).toBe(4);
    expect(await leftovers(out)).toEqual([]);
  });

  test('a writer whose input fails half-way (after whole row groups were written) and a bad record mid-stream', async () => {
    const out = join(root, 'half');
    await writeSpectrumDataset(syntheticSpectra({ n: 6, seed: 1, grid: GRID }), out, { rowGroupSize: 2 });
    const before = await fileHashes(out);
    async function* failing(): AsyncGenerator<SpectrumRecord> {
      let k = 0;
      for (const r of syntheticSpectra({ n: 20, seed: 2, grid: GRID })) {
        if (k++ === 9) throw new Error('the synthesis crashed');
        yield r;
      }
    }
    await expect(writeSpectrumDataset(failing(), out, { rowGroupSize: 2 })).rejects.toThrow(
      'the synthesis crashed',
    );
    expect(await fileHashes(out)).toEqual(before);
    const [a, b] = [...syntheticSpectra({ n: 2, seed: 3, grid: GRID })];
    await expect(writeSpectrumDataset([a, { ...b, labels: { teffK: 1 } }], out)).rejects.toThrow(
      /labels .* differ/,
    );
    expect(await fileHashes(out)).toEqual(before);
    expect((await openDataset(out)).numRows).toBe(6);

    const atm = join(root, 'half-atm');
    await writeAtmosphereDataset(syntheticAtmospheres({ n: 3, seed: 1, nLayers: 10 }), atm);
    const atmBefore = await fileHashes(atm);
    const bad: AtmosphereModel[] = [...syntheticAtmospheres({ n: 2, seed: 4, nLayers: 10 })];
    bad[1] = { ...bad[1], rhox: bad[1].rhox.slice(0, 5) };
    await expect(writeAtmosphereDataset(bad, atm)).rejects.toThrow(
      /rhox has 5 layers, expected nLayers = 10/,
    );
    expect(await fileHashes(atm)).toEqual(atmBefore);
    expect(await leftovers(out)).toEqual([]);
    expect(await leftovers(atm)).toEqual([]);
  });

  test('a successful rewrite replaces the dataset as a whole: stale dataset files go, unrelated files of the folder stay', async () => {
    const out = join(root, 'rewrite');
    await writeAtmosphereDataset(syntheticAtmospheres({ n: 3, seed: 1, nLayers: 10 }), out);
    await writeFile(join(out, 'README.txt'), 'my notes\n');
    await writeFile(join(out, '_quarantine.json'), '{"stale": true}\n');
    await writeFile(join(out, 'manifest.json'), '{"an older manifest": true}\n');
    await writeAtmosphereDataset(syntheticAtmospheres({ n: 5, seed: 2, nLayers: 10 }), out);
    expect((await readdir(out)).sort()).toEqual([MANIFEST_FILE, 'README.txt', 'data.parquet'].sort());
    expect(await readFile(join(out, 'README.txt'), 'utf8')).toBe('my notes\n');
    const ds = await openDataset(out);
    expect(ds.numRows).toBe(5);
    const rows = await rowsOf(out);
    expect(rows.map((r) => rowToAtmosphereModel(JSON.parse(r)).id)).toEqual(
      [...syntheticAtmospheres({ n: 5, seed: 2, nLayers: 10 })].map((m) => m.id),
    );
  });

  test('a crash between the two renames of the swap: readers and the next write put the previous version back', async () => {
    const out = join(root, 'crashed');
    await writeSpectrumDataset(syntheticSpectra({ n: 3, seed: 5, grid: GRID }), out);
    const before = await fileHashes(out);
    // What the crash leaves: the previous version aside, a complete staging folder, no `out`.
    await rename(out, join(root, '.crashed.old-999999999-abcd'));
    await mkdir(join(root, '.crashed.tmp-999999999-abcd'));
    expect(existsSync(out)).toBe(false);
    expect((await openDataset(out)).numRows).toBe(3);
    expect(await fileHashes(out)).toEqual(before);
    expect(await leftovers(out)).toEqual([]);
    await rename(out, join(root, '.crashed.old-999999999-abce'));
    await recoverDirectory(out);
    expect(await fileHashes(out)).toEqual(before);
  });
});

describe('a damaged gzip deck file keeps the complete models read before the damage', () => {
  const models = [...syntheticAtmospheres({ n: 3, seed: 21, nLayers: 12 })];
  const text = models.map((m) => formatDeck(atmosphereModelToDeck(m))).join('');
  const gz = gzipSync(Buffer.from(text, 'latin1'));

  test('cut before the gzip trailer: all three models are kept, the damage is quarantined', async () => {
    const dir = join(root, 'gz-trailer');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'grid.dat.gz'), gz.subarray(0, gz.length - 8));
    const r = await ingestAtmospheres([join(dir, 'grid.dat.gz')], join(dir, 'ds'));
    expect(r.ingested).toBe(3);
    expect(r.rejected.map((e) => e.code)).toEqual(['truncated']);
    expect(r.manifest.notes).toMatchObject({ rejected: 1 });
    expect(r.rejected[0].reason).toMatch(
      /gzip stream is damaged or truncated .*after line \d+; the complete models before it were kept/,
    );
    const got = (await rowsOf(join(dir, 'ds'))).map((row) => rowToAtmosphereModel(JSON.parse(row)));
    expect(got.map((m) => [m.teffK, m.logg, m.nLayers])).toEqual(models.map((m) => [m.teffK, m.logg, 12]));
    // Its models are in the dataset, so the damaged file is listed among the inputs.
    expect(r.manifest.inputs.map((i) => i.path)).toEqual([join(dir, 'grid.dat.gz')]);
  });

  test('cut inside the third model: the first two are kept, the third and the damage are quarantined', async () => {
    const dir = join(root, 'gz-middle');
    await mkdir(dir, { recursive: true });
    // Compress the first two models and half the third in one stream, then drop its end.
    const cut = text.length - Math.floor(formatDeck(atmosphereModelToDeck(models[2])).length / 2);
    const partial = gzipSync(Buffer.from(text, 'latin1'), { level: 1 });
    const total = partial.length;
    const bytes = partial.subarray(0, Math.floor((total * cut) / text.length));
    await writeFile(join(dir, 'grid.dat.gz'), bytes);
    const r = await ingestAtmospheres([join(dir, 'grid.dat.gz')], join(dir, 'ds'));
    expect(r.ingested).toBe(2);
    expect(r.rejected.map((e) => e.code)).toEqual(['truncated', 'truncated']);
    expect(r.rejected[0].reason).toMatch(
      /expected 12 depth rows, found \d+ \(the damaged end of the stream\)|expected a READ DECK6 card/,
    );
    const got = (await rowsOf(join(dir, 'ds'))).map((row) => rowToAtmosphereModel(JSON.parse(row)));
    expect(got.map((m) => m.teffK)).toEqual(models.slice(0, 2).map((m) => m.teffK));
  });
});
