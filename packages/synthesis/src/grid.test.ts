// Grid bookkeeping: label sampling, content keys, the synthesis window, the row store and label tables.
import { mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CVAE_LABEL_RANGES } from '@stellar-emu/grid-io';
import { SPEED_OF_LIGHT_KM_S } from '@stellar-emu/numerics';
import {
  intrinsicKey,
  readSpectrumLabelTable,
  RowStore,
  rowKey,
  sampleSpectrumRows,
  synthesisWindow,
  type RowKeyContext,
} from './grid.js';

const ctx: RowKeyContext = {
  settings: {
    grid: { startAngstrom: 5000, stepAngstrom: 0.05, n: 400 },
    linelist: '/x/lines.vald',
    medium: 'air',
    vmacKms: 0,
    maxVsiniKms: 300,
    minResolution: 1000,
  },
  linelistSha256: 'a'.repeat(64),
  atmosphereSha256: 'b'.repeat(64),
  pysmeVersion: '1.2.0',
};

describe('sampleSpectrumRows', () => {
  const covers = (l: { teffK: number; logg: number }) => !(l.teffK > 9000 && l.logg < 3);
  it('is seeded, stays in the box, shares one intrinsic spectrum per group and redraws uncovered labels', () => {
    const a = sampleSpectrumRows({ n: 103, seed: 4, perAtmosphere: 5, box: CVAE_LABEL_RANGES, covers });
    const b = sampleSpectrumRows({ n: 103, seed: 4, perAtmosphere: 5, box: CVAE_LABEL_RANGES, covers });
    expect(a).toEqual(b);
    expect(a.rows.length).toBe(103);
    expect(a.redraws).toBeGreaterThan(0);
    for (const r of a.rows) {
      for (const [k, v] of Object.entries(r)) {
        const box = CVAE_LABEL_RANGES[k as keyof typeof CVAE_LABEL_RANGES];
        expect(v).toBeGreaterThanOrEqual(box.min);
        expect(v).toBeLessThan(box.max);
      }
      expect(covers(r)).toBe(true);
    }
    const intrinsic = new Set(a.rows.map((r) => intrinsicKey(r, ctx)));
    expect(intrinsic.size).toBe(21); // ceil(103 / 5)
    expect(new Set(a.rows.map((r) => rowKey(r, ctx))).size).toBe(103);
    const c = sampleSpectrumRows({ n: 103, seed: 5, perAtmosphere: 5, box: CVAE_LABEL_RANGES, covers });
    expect(c.rows[0]).not.toEqual(a.rows[0]);
  });
});

describe('row keys', () => {
  const row = { teffK: 5800, logg: 4.4, mh: 0, vmicKms: 1, vsiniKms: 5, resolution: 50_000 };
  it('change with the labels, the line list, the atmosphere source, the PySME version and the grid, not with the line list path', () => {
    const k = rowKey(row, ctx);
    expect(rowKey({ ...row, vsiniKms: 6 }, ctx)).not.toBe(k);
    expect(intrinsicKey({ ...row, vsiniKms: 6 }, ctx)).toBe(intrinsicKey(row, ctx));
    expect(rowKey(row, { ...ctx, linelistSha256: 'c'.repeat(64) })).not.toBe(k);
    expect(rowKey(row, { ...ctx, atmosphereSha256: 'c'.repeat(64) })).not.toBe(k);
    expect(rowKey(row, { ...ctx, pysmeVersion: '1.2.1' })).not.toBe(k);
    expect(
      rowKey(row, { ...ctx, settings: { ...ctx.settings, grid: { ...ctx.settings.grid, n: 401 } } }),
    ).not.toBe(k);
    expect(rowKey(row, { ...ctx, settings: { ...ctx.settings, linelist: '/elsewhere/lines.vald' } })).toBe(k);
  });
});

describe('synthesisWindow', () => {
  it('widens the grid by v sin i + 6 sigma of the instrument + 6 vmac + 5 km/s, plus 1 Å', () => {
    const c = SPEED_OF_LIGHT_KM_S;
    const w = synthesisWindow({
      grid: { startAngstrom: 5000, stepAngstrom: 0.05, n: 401 },
      maxVsiniKms: 100,
      minResolution: 10_000,
      vmacKms: 2,
    });
    const margin = 100 + (6 * c) / (10_000 * 2 * Math.sqrt(2 * Math.LN2)) + 12 + 5;
    expect(w.wminAngstrom).toBeCloseTo(5000 * (1 - margin / c) - 1, 9);
    expect(w.wmaxAngstrom).toBeCloseTo(5020 * (1 + margin / c) + 1, 9);
  });
});

describe('RowStore', () => {
  it('writes rows atomically, reads them back, logs every computation and cleans only old temporary files', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rowstore-'));
    const s = new RowStore(dir);
    expect((await s.keys()).size).toBe(0);
    const flux = Float32Array.from({ length: 50 }, (_, i) => 1 - i / 100);
    await s.write('k1', flux, 'host:1');
    await s.write(
      'k2',
      flux.map((v) => v / 2),
      'host:2',
    );
    expect([...(await s.keys())].sort()).toEqual(['k1', 'k2']);
    expect(Array.from(await s.read('k2', 50))).toEqual(Array.from(flux.map((v) => v / 2)));
    await expect(s.read('k1', 49)).rejects.toThrow(/200 bytes of flux, expected 196 \(49 pixels\)/);
    expect(await s.computedLog()).toEqual([
      { key: 'k1', who: 'host:1' },
      { key: 'k2', who: 'host:2' },
    ]);
    // A worker killed between the rename and the log line: the row is finished, its line lost;
    // the log still names who computed it, from the row file.
    await s.write('k0', flux, 'host:3');
    const logPath = join(dir, 'computed.log');
    await writeFile(logPath, (await readFile(logPath, 'utf8')).replace('k0 host:3\n', ''));
    expect(await s.computedLog()).toEqual([
      { key: 'k1', who: 'host:1' },
      { key: 'k2', who: 'host:2' },
      { key: 'k0', who: 'host:3' },
    ]);
    await writeFile(join(dir, 'rows', 'bad.f32'), 'xy');
    await expect(s.read('bad', 1)).rejects.toThrow(/bad\.f32: 2 bytes, not a row file/);
    await rm(join(dir, 'rows', 'bad.f32'));
    const old = join(dir, 'rows', 'k3.f32.tmp-999-x');
    const young = join(dir, 'rows', 'k4.f32.tmp-998-y');
    await writeFile(old, 'partial');
    await writeFile(young, 'partial');
    const hourAgo = new Date(Date.now() - 3_600_000);
    await utimes(old, hourAgo, hourAgo);
    expect(await s.cleanTemporary()).toBe(1);
    expect(existsSync(old)).toBe(false);
    expect(existsSync(young)).toBe(true);
    expect((await s.keys()).has('k3')).toBe(false);
  });
});

describe('readSpectrumLabelTable', () => {
  it('reads the six labels by their accepted names and names the line of a bad value', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'labels-'));
    const good = join(dir, 'good.csv');
    await writeFile(
      good,
      '# a comment\nteff,logg,mh,vmic,vsini,resolution\n5800,4.4,0.0,1.0,2,115000\n6500,4.0,-0.5,1.5,30,50000\n',
    );
    const t = await readSpectrumLabelTable(good);
    expect(t.rows).toEqual([
      { teffK: 5800, logg: 4.4, mh: 0, vmicKms: 1, vsiniKms: 2, resolution: 115000 },
      { teffK: 6500, logg: 4, mh: -0.5, vmicKms: 1.5, vsiniKms: 30, resolution: 50000 },
    ]);
    expect(t.lines).toEqual([3, 4]);
    const bad = join(dir, 'bad.csv');
    await writeFile(
      bad,
      'teff,logg,mh,vmic,vsini,resolution\n5800,4.4,0.0,1.0,2,115000\n6500,4.0,-0.5,1.5,-3,50000\n',
    );
    await expect(readSpectrumLabelTable(bad)).rejects.toThrow(
      /bad\.csv:3: column vsini_kms: expected a number >= 0, found '-3'/,
    );
    const missing = join(dir, 'missing.csv');
    await writeFile(missing, 'teff,logg,mh,vmic,vsini\n5800,4.4,0.0,1.0,2\n');
    await expect(readSpectrumLabelTable(missing)).rejects.toThrow(
      /missing\.csv:1: missing label column resolution/,
    );
  });
});
