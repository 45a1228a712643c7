import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '@stellar-emu/nn-core';
import { splitModels } from './data.js';
import { validationMetrics } from './metrics.js';
import { trainPinn } from './train.js';
import { hydrostaticFamily } from '../test/synthetic.js';

// Native backend when available (speed); the comparison does not need bitwise determinism.
beforeAll(async () => {
  await initBackend({ quiet: true });
});

test('alpha = 0.03 gives a lower median hydrostatic residual than alpha = 0 on synthetic hydrostatic atmospheres', async () => {
  const { train, val } = splitModels(hydrostaticFamily(330, 17), 0.1, 5);
  const run = async (alpha: number) => {
    const { emulator, result } = await trainPinn({
      train,
      val,
      outDir: mkdtempSync(join(tmpdir(), `hydro-${alpha}-`)),
      preset: 'small',
      physics: { alpha },
      epochs: 12,
      batchSize: 512,
      lr: 3e-3,
      seed: 11,
    });
    const m = validationMetrics(emulator, val);
    emulator.dispose();
    return { m, result };
  };
  const base = await run(0);
  const pinn = await run(0.03);
  const summary = {
    alpha0: base.m.hydrostatic.emulator.median,
    alpha003: pinn.m.hydrostatic.emulator.median,
    truth: pinn.m.hydrostatic.truth.median,
    T0: base.m.overall.temperature.median,
    T003: pinn.m.overall.temperature.median,
  };
  console.log('hydrostatic medians', JSON.stringify(summary));
  expect(pinn.m.hydrostatic.truth.median).toBeLessThan(0.01);
  expect(pinn.m.hydrostatic.emulator.median).toBeLessThan(base.m.hydrostatic.emulator.median);
  // The physics term must not ruin the fit.
  expect(pinn.m.overall.temperature.median).toBeLessThan(0.02);
});
