// The synth activities called directly: a grid from a trained PINN's atmospheres (pinn:<model-dir>),
// and the checks that refuse bad inputs before any synthesis.
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDataset, readFluxRowGroup } from '@stellar-emu/grid-io';
import { realDataDir } from '@stellar-emu/grid-io/testing';
import { pysmeAvailable, RowStore } from '@stellar-emu/synthesis';
import type { SmeSpectraSettings, TrainSettings } from '@stellar-emu/workflows';
import { splitSyntheticAtmospheres } from '../../test/datasets.js';
import {
  assembleSpectrumGrid,
  closeSynthesisEngine,
  planSpectrumGrid,
  synthesizeSpectrumBatch,
} from './synth.js';
import { trainChunk } from './train.js';

const data = realDataDir();
const run = data !== null && (pysmeAvailable() || process.env.CI === 'true');

describe.skipIf(!run)('synth activities', () => {
  afterAll(async () => closeSynthesisEngine());
  const linelist = () => join(data!, 'atomic/linelists/korg_vald_solar_threshold01/linelist.vald');
  const base = (over: Partial<SmeSpectraSettings>): SmeSpectraSettings => ({
    n: 4,
    seed: 2,
    perAtmosphere: 2,
    linelist: linelist(),
    grid: join(data!, 'atlas9-kurucz1993'),
    window: [5000, 5010],
    stepAngstrom: 0.05,
    medium: 'air',
    vmacKms: 0,
    batchSize: 4,
    ...over,
  });

  test('a grid from a trained PINN emulator (pinn:<model-dir>): its atmospheres through PySME, the source and its hash in the provenance', async () => {
    const { artifacts, dataset } = await splitSyntheticAtmospheres('se-synth-pinn-');
    const settings: TrainSettings = {
      preset: 'small',
      epochs: 2,
      seed: 3,
      alpha: 0,
      epochsPerChunk: 2,
      checkpointEverySteps: 0,
      batchSize: 256,
    };
    const trained = await trainChunk({ model: 'pinn', dataset, settings, artifacts, untilEpoch: 2 });
    expect(trained.done).toBe(true);
    expect(existsSync(join(trained.modelDir, 'model.json'))).toBe(true);
    // Solar-type labels inside the synthetic training box.
    const source = base({
      grid: `pinn:${trained.modelDir}`,
      box: {
        teffK: { min: 5500, max: 6000 },
        logg: { min: 4.2, max: 4.5 },
        mh: { min: -0.2, max: 0.2 },
        vsiniKms: { min: 0, max: 10 },
        resolution: { min: 40_000, max: 60_000 },
      },
    });
    const plan = await planSpectrumGrid({ source, artifacts });
    expect(plan.rows).toBe(4);
    expect(plan.intrinsic).toBe(2);
    const batch = await synthesizeSpectrumBatch({ dir: plan.dir, start: 0, end: 4 });
    expect(batch.intrinsicCalls).toBe(2);
    expect(batch.done).toBe(4);
    const out = await assembleSpectrumGrid({ dir: plan.dir, artifacts });
    const ds = await openDataset(out.result.path);
    const notes = ds.manifest.notes as {
      synthesis: { atmospheres: { kind: string; description: string; sha256: string } };
    };
    expect(notes.synthesis.atmospheres.kind).toBe('pinn');
    expect(notes.synthesis.atmospheres.description).toBe(`pinn:${trained.modelDir}`);
    expect(notes.synthesis.atmospheres.sha256).toMatch(/^[0-9a-f]{64}$/);
    const g = await readFluxRowGroup(ds, 0);
    expect(g.rows).toBe(4);
    for (const v of g.flux) expect(Number.isFinite(v)).toBe(true);
    // A second call finds every row finished: nothing is computed again.
    const again = await synthesizeSpectrumBatch({ dir: plan.dir, start: 0, end: 4 });
    expect(again).toMatchObject({ done: 4, reused: 4, intrinsicCalls: 0 });
    expect((await new RowStore(plan.dir).computedLog()).length).toBe(4);
  }, 600_000);

  test('bad inputs are refused before any synthesis, naming the file or the row', async () => {
    const artifacts = await mkdtemp(join(tmpdir(), 'se-synth-bad-'));
    const notVald = join(data!, 'atomic/solar_spectrum/sun_harps_ganymede_4440-5410_air.csv');
    await expect(planSpectrumGrid({ source: base({ linelist: notVald }), artifacts })).rejects.toThrow(
      /sun_harps_ganymede_4440-5410_air\.csv: not a readable VALD line list/,
    );
    // The VALD list covers 3000–9000 Å: a window beyond it is refused with both ranges.
    await expect(planSpectrumGrid({ source: base({ window: [9500, 9520] }), artifacts })).rejects.toThrow(
      /the line list covers 3000\.\d+–8997\.\d+ Å \(vac\); the synthesis needs 94\d\d\.\d+–95\d\d\.\d+ Å \(air, window plus broadening margin\)/,
    );
    const labels = join(artifacts, 'labels.csv');
    const { writeFile } = await import('node:fs/promises');
    await writeFile(
      labels,
      'teff,logg,mh,vmic,vsini,resolution\n5800,4.4,0,1,2,50000\n30000,2.0,0,1,2,50000\n',
    );
    await expect(planSpectrumGrid({ source: base({ n: undefined, labels }), artifacts })).rejects.toThrow(
      /labels\.csv:3: Teff 30000 K, log g 2, \[M\/H\] 0 lies outside the atmosphere grid .*no extrapolation/,
    );
    await expect(
      planSpectrumGrid({ source: base({ grid: join(artifacts, 'nowhere') }), artifacts }),
    ).rejects.toThrow(/nowhere: not a usable ATLAS grid/);
  }, 300_000);
});
