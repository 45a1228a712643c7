// Paths in a pipeline config file are relative to the file, wherever the command runs.
import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPipelineConfig } from './pipeline-client.js';

describe('loadPipelineConfig', () => {
  test('every path of the config (grid, PySME source, Sun, PINN spectra, artifacts) resolves against the file’s folder', async () => {
    const root = await mkdtemp(join(tmpdir(), 'cli-config-'));
    await mkdir(join(root, 'configs'));
    const file = join(root, 'configs', 'c.json');
    await writeFile(
      file,
      JSON.stringify({
        artifacts: '../store',
        atmospheres: { grid: '../data/atlas9' },
        pinn: {
          epochs: 1,
          spectra: {
            linelist: '../data/ll.vald',
            sun: { deck: '../data/ksun.mod', observed: '../data/sun.csv' },
          },
        },
        spectra: {
          sme: {
            n: 10,
            linelist: '../data/ll.vald',
            grid: 'pinn:../models/p',
            sun: { deck: '../data/ksun.mod', observed: '../data/sun.csv' },
          },
        },
        cvae: { epochs: 1 },
      }),
    );
    const c = await loadPipelineConfig(file);
    const d = (p: string) => join(root, p);
    expect(c.artifacts).toBe(d('store'));
    expect(c.atmospheres).toEqual({ grid: d('data/atlas9') });
    expect(c.pinn!.spectra!.linelist).toBe(d('data/ll.vald'));
    expect(c.pinn!.spectra!.sun).toMatchObject({ deck: d('data/ksun.mod'), observed: d('data/sun.csv') });
    expect(c.pinn!.spectra!.windows).toEqual([
      [4450, 4650],
      [5150, 5350],
    ]);
    const sme = (c.spectra as { sme: { linelist: string; grid: string; sun: { deck: string } } }).sme;
    expect(sme.linelist).toBe(d('data/ll.vald'));
    expect(sme.grid).toBe(`pinn:${d('models/p')}`);
    expect(sme.sun.deck).toBe(d('data/ksun.mod'));
  });
});
