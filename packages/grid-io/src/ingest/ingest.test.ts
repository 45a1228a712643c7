import { copyFile, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { openDataset } from '../dataset/read.js';
import { realDataDir } from '../testing/real-data.js';
import { ingestAtmospheres } from './ingest.js';

const data = realDataDir();

describe.skipIf(!data)('ingest of the real grids', () => {
  test('the whole ATLAS9 grid: 6,890 models; per-file counts, parameters and lines equal index.csv', async () => {
    const dir = join(await mkdtemp(join(tmpdir(), 'ingest-')), 'atlas9');
    const grid = join(data!, 'atlas9-kurucz1993');
    const files = [
      'am01k2',
      'am02k2',
      'am03k2',
      'am05k2',
      'am10k2',
      'am20k2',
      'am25k2',
      'am30k2',
      'am35k2',
      'am40k2',
      'am45k2',
      'am50k2',
      'ap00k2',
      'ap01k2',
      'ap03k2',
      'ap05k2',
      'ap10k2',
    ].map((f) => join(grid, `${f}.dat.gz`));
    const res = await ingestAtmospheres(files, dir, { split: { scheme: '90/10', seed: 0 } });
    expect(res.rejected).toEqual([]);
    expect(res.ingested).toBe(6890);
    expect(res.manifest.rowCount).toBe(6890);
    expect(res.manifest.layerCounts).toEqual({ 64: 3161, 72: 3729 });
    expect(res.manifest.inputs.length).toBe(17);
    expect((res.manifest.splitCounts.train ?? 0) + (res.manifest.splitCounts.val ?? 0)).toBe(6890);

    const index = readFileSync(join(grid, 'index.csv'), 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split(','));
    const ds = await openDataset(dir);
    let k = 0;
    for await (const batch of ds.iterateRows({
      columns: ['source', 'line', 'teff_k', 'logg', 'mh', 'n_layers'],
    })) {
      for (const r of batch) {
        const e = index[k++];
        expect([basename(r.source as string), r.line, r.teff_k, r.logg, r.n_layers]).toEqual([
          e[0],
          Number(e[2]),
          Number(e[3]),
          Number(e[4]),
          Number(e[6]),
        ]);
        if (e[5] !== 'None') expect(Math.abs((r.mh as number) - Number(e[5]))).toBeLessThan(1e-4);
      }
    }
    expect(k).toBe(6890);
    for (const f of res.files)
      expect(f.models, f.file).toBe(index.filter((e) => e[0] === basename(f.file)).length);
  });

  test('the three ATLAS12 samples ingest with 80 layers and their [Fe/H], [alpha/Fe]', async () => {
    const dir = join(await mkdtemp(join(tmpdir(), 'ingest-')), 'atlas12');
    const res = await ingestAtmospheres([join(data!, 'atlas12-samples')], dir);
    expect(res.ingested).toBe(3);
    expect(res.manifest.layerCounts).toEqual({ 80: 3 });
    const ds = await openDataset(dir);
    const rows = (await ds.readRowGroup(0, ['teff_k', 'feh', 'afe', 'n_layers'])).map((r) => [
      r.teff_k,
      Number((r.feh as number).toFixed(3)),
      Number((r.afe as number).toFixed(3)),
      r.n_layers,
    ]);
    expect(rows).toEqual([
      [4000, -2.255, -0.2, 80],
      [8250, -0.254, 0.2, 80],
      [44000, -2.255, 0.2, 80],
    ]);
  });

  test('bad files and models are quarantined with their reasons; the good models are written', async () => {
    const root = await mkdtemp(join(tmpdir(), 'ingest-bad-'));
    const inDir = join(root, 'in');
    await mkdir(inDir);
    await mkdir(join(root, 'empty'));
    const good = join(data!, 'atlas12-samples/at12_aaaaa_t08250g4.00.atm');
    await copyFile(good, join(inDir, 'a_good.atm'));
    const text = await readFile(good, 'latin1');
    const lines = text.split('\n');
    await writeFile(join(inDir, 'b_truncated.atm'), lines.slice(0, 100).join('\n'));
    await writeFile(
      join(inDir, 'c_nan.atm'),
      lines.map((l, i) => (i === 60 ? l.replace(/^(\s*\S+\s+)\S+/, '$1NaN') : l)).join('\n'),
    );
    await writeFile(join(inDir, 'd_notadeck.dat'), 'this is not a model atmosphere\n');
    const res = await ingestAtmospheres(
      [inDir, join(root, 'empty'), join(root, 'missing.dat')],
      join(root, 'out'),
    );
    expect(res.ingested).toBe(1);
    const reasons = res.rejected.map((r) => `${basename(r.file)} ${r.code}`).sort();
    expect(reasons).toEqual(
      [
        'b_truncated.atm truncated',
        'c_nan.atm non-finite',
        'd_notadeck.dat not-a-deck',
        'empty io',
        'missing.dat io',
      ]
        .sort()
        .map((s) => (s === 'empty io' ? 'empty empty-input' : s))
        .sort(),
    );
    const q = JSON.parse(await readFile(res.quarantinePath, 'utf8'));
    expect(q.rejected.find((r: { file: string }) => r.file.endsWith('b_truncated.atm')).reason).toMatch(
      /b_truncated\.atm:101: expected 80 depth rows, found 55 \(end of file\)/,
    );
    expect(q.rejected.find((r: { file: string }) => r.file.endsWith('c_nan.atm')).reason).toMatch(
      /c_nan\.atm:61: expected finite numbers in depth row 16, found "NaN"/,
    );
    expect((await openDataset(join(root, 'out'))).numRows).toBe(1);
  });
});
