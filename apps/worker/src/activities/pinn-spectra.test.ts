// Kurucz-a1 end to end, the activities called directly on real ATLAS9 decks and a small trained PINN:
// the stored spectra against independent syntheses, the report contract, resumption and the cache.
import { mkdtemp, readFile, rm, symlink, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readDecks, type KuruczDeck } from '@stellar-emu/grid-io';
import { realDataDir } from '@stellar-emu/grid-io/testing';
import { initBackend } from '@stellar-emu/nn-core';
import { absDifferenceStats } from '@stellar-emu/numerics';
import { loadPinnModel } from '@stellar-emu/pinn';
import { pinnSpectraSectionSchema } from '@stellar-emu/report';
import {
  emulatedAtmosphere,
  pysmeAvailable,
  SmeEngine,
  trueDeck,
  windowWavelengths,
} from '@stellar-emu/synthesis';
import type { DatasetRef, ModelRef, PinnSpectraInput, TrainSettings } from '@stellar-emu/workflows';
import { prepareDatasetStep, splitDatasetStep } from './data.js';
import { assemblePinnSpectra, pinnSpectraBatch, pinnSunSpectra, planPinnSpectra } from './pinn-spectra.js';
import { closeSynthesisEngine } from './synth.js';
import { finishTraining, trainChunk } from './train.js';

const data = realDataDir();
const run = data !== null && (pysmeAvailable() || process.env.CI === 'true');

describe.skipIf(!run)('evaluatePinnSpectra activities (real decks, PySME)', () => {
  let artifacts: string;
  let dataset: DatasetRef;
  let model: ModelRef;
  let baseline: ModelRef;
  let engine: SmeEngine;
  const linelist = () => join(data!, 'atomic/linelists/korg_vald_solar_threshold01/linelist.vald');

  const train = async (alpha: number): Promise<ModelRef> => {
    const settings: TrainSettings = {
      preset: 'small',
      epochs: 2,
      seed: 3,
      alpha,
      epochsPerChunk: 2,
      checkpointEverySteps: 0,
      batchSize: 1024,
    };
    const base = { model: 'pinn' as const, dataset, settings, artifacts };
    const r = await trainChunk({ ...base, untilEpoch: 2 });
    expect(r.done).toBe(true);
    return finishTraining({ ...base, untilEpoch: 2, result: r });
  };

  beforeAll(async () => {
    artifacts = await mkdtemp(join(tmpdir(), 'se-pinn-spectra-'));
    // One metallicity of the Kurucz 1993 grid (about 480 real decks).
    const grid = join(artifacts, 'grid');
    await mkdir(grid);
    await symlink(join(data!, 'atlas9-kurucz1993', 'ap00k2.dat.gz'), join(grid, 'ap00k2.dat.gz'));
    const raw = await prepareDatasetStep({ kind: 'atmospheres', source: { grid }, artifacts });
    dataset = (await splitDatasetStep({ dataset: raw.result, scheme: '90/10', seed: 0, artifacts })).result;
    model = await train(0.03);
    baseline = await train(0);
    engine = await SmeEngine.start();
  }, 900_000);

  afterAll(async () => {
    await engine?.close();
    await closeSynthesisEngine();
  });

  const input = (): PinnSpectraInput => ({
    model,
    baseline,
    dataset,
    artifacts,
    settings: {
      linelist: linelist(),
      medium: 'air',
      windows: [
        [5160, 5175],
        [5180, 5190],
      ],
      stepAngstrom: 0.02,
      resolution: 50_000,
      vmicKms: 1,
      vsiniKms: 0,
      vmacKms: 0,
      models: 3,
      seed: 1,
      teffRangeK: [4500, 7000],
      batchSize: 2,
      sun: {
        deck: join(data!, 'atomic/atmosphere/ksun.mod'),
        observed: join(data!, 'atomic/solar_spectrum/sun_harps_ganymede_4440-5410_air.csv'),
        window: [5160, 5190],
        vmicKms: 1,
        vsiniKms: 1.6,
        vmacKms: 3.98,
        resolution: 115_000,
        zooms: [{ name: 'Mg b', fromAngstrom: 5165, toAngstrom: 5175 }],
      },
    },
  });

  test('spectra of three validation models: the true deck against PySME’s own synthesis, the PINN’s against the emulated atmosphere, |ΔF| from the stored spectra; the section passes the report contract', async () => {
    const plan = await planPinnSpectra(input());
    expect(plan.done).toBeNull();
    expect(plan.models).toBe(3);
    expect(plan.batches).toEqual([
      { start: 0, end: 2 },
      { start: 2, end: 3 },
    ]);
    const done = await Promise.all(plan.batches.map((b) => pinnSpectraBatch({ dir: plan.dir, ...b })));
    expect(done.reduce((s, d) => s + d.done, 0)).toBe(3);
    await pinnSunSpectra({ dir: plan.dir });
    const out = await assemblePinnSpectra({ dir: plan.dir, artifacts });
    const section = pinnSpectraSectionSchema.parse(JSON.parse(await readFile(out.result.path, 'utf8')));
    expect(section.models).toHaveLength(3);
    expect(section.alpha).toBe(0.03);
    expect(section.baselineAlpha).toBe(0);

    const wave = windowWavelengths(input().settings);
    const n = wave.length;
    expect(n).toBe(750 + 500);
    const planFile = JSON.parse(await readFile(join(plan.dir, 'plan.json'), 'utf8')) as {
      models: { file: string; line: number }[];
    };
    const { emulator } = await loadPinnModel(model.path);
    await initBackend({ quiet: true });
    for (let i = 0; i < 3; i++) {
      const buf = await readFile(join(plan.dir, 'models', `${String(i).padStart(5, '0')}.f32`));
      const flat = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
      expect(flat.length).toBe(3 * n);
      const [truth, pinn, base] = [0, 1, 2].map((k) => flat.subarray(k * n, (k + 1) * n));
      // |ΔF| in the section is that of the stored spectra.
      const m = section.models[i];
      expect(m.pinn!.median).toBeCloseTo(absDifferenceStats(pinn, truth).median, 12);
      expect(m.baseline!.p95).toBeCloseTo(absDifferenceStats(base, truth).p95, 12);
      // Real lines, continuum-normalized.
      expect(Math.min(...truth)).toBeLessThan(0.5);
      expect(Math.max(...truth)).toBeLessThan(1.01);
      let deck: KuruczDeck | undefined;
      for await (const d of readDecks(planFile.models[i].file))
        if (d.line === planFile.models[i].line) deck = d;
      expect(deck).toBeDefined();
      expect(deck!.teffK).toBe(m.teffK);
      const t = trueDeck(deck!, 0);
      // The true spectrum against PySME's own disk integration and instrument profile (an
      // independent implementation of the broadening), window by window.
      let off = 0;
      for (const w of input().settings.windows) {
        const k = Math.round((w[1] - w[0]) / 0.02);
        const direct = await engine.directSpectrum({
          atmosphere: t.atmosphere,
          labels: { teffK: t.labels.teffK, logg: t.labels.logg, mh: t.labels.feh, vmicKms: 1 },
          linelist: linelist(),
          medium: 'air',
          wminAngstrom: w[0] - 2,
          wmaxAngstrom: w[1] + 2,
          vsiniKms: 0,
          vmacKms: 0,
          resolution: 50_000,
          waveAngstrom: wave.subarray(off, off + k),
        });
        const d = absDifferenceStats(direct.flux, truth.subarray(off, off + k));
        expect(d.max).toBeLessThan(2e-3);
        off += k;
      }
      // The PINN's atmosphere: predicted on the deck's own tau grid, everything else the deck's.
      const atm = emulatedAtmosphere(
        t,
        (l, tau) => emulator.predictOnTauGrids([{ labels: l, tau }])[0],
        'pinn',
      );
      expect(Array.from(atm.abundancePattern)).toEqual(Array.from(t.atmosphere.abundancePattern));
      expect(atm.temperature).not.toEqual(t.atmosphere.temperature);
    }
    emulator.dispose();

    // Fig. 5: one continuum for all, so the true deck's residual is the engine check's.
    const sun = section.sun!;
    expect(sun.observed).toHaveLength(600);
    const obs = sun.observed.map((v) => (v === null ? Number.NaN : v));
    expect(sun.residuals.trueVsObserved.median).toBeCloseTo(absDifferenceStats(obs, sun.true).median, 4);
    expect(sun.residuals.pinnVsTrue.median).toBeCloseTo(absDifferenceStats(sun.pinn, sun.true).median, 4);
    expect(sun.residuals.trueVsObserved.median).toBeLessThan(0.05);
  }, 900_000);

  test('an identical evaluation is skipped; a lost model result is recomputed from the spectrum cache (no PySME call) to the same numbers', async () => {
    const again = await planPinnSpectra(input());
    expect(again.done).not.toBeNull();
    const before = JSON.parse(await readFile(again.done!.path, 'utf8')) as { models: { pinn: unknown }[] };
    // Lose model 1's result and the step record: the batch redoes only that model, from the cache.
    await rm(join(again.dir, 'models', '00001.json'));
    await rm(join(again.dir, 'step.json'));
    const plan = await planPinnSpectra(input());
    expect(plan.done).toBeNull();
    const r = await pinnSpectraBatch({ dir: plan.dir, start: 0, end: 2 });
    expect(r).toEqual({ done: 1, reused: 1, engineSeconds: 0 });
    const out = await assemblePinnSpectra({ dir: plan.dir, artifacts });
    const after = JSON.parse(await readFile(out.result.path, 'utf8')) as { models: { pinn: unknown }[] };
    expect(after.models[1].pinn).toEqual(before.models[1].pinn);
  }, 300_000);

  test('bad inputs are refused before any synthesis, naming what is wrong', async () => {
    const i = input();
    await expect(
      planPinnSpectra({ ...i, settings: { ...i.settings, linelist: join(artifacts, 'nope.vald') } }),
    ).rejects.toThrow(/nope\.vald: no such line list/);
    await expect(
      planPinnSpectra({ ...i, settings: { ...i.settings, teffRangeK: [100, 200] } }),
    ).rejects.toThrow(/no validation model with Teff in 100–200 K/);
  });
});
