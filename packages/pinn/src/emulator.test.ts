import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend, tf } from '@stellar-emu/nn-core';
import { assertAllClose } from '@stellar-emu/numerics/testing';
import { DEFAULT_PHYSICS, PRESETS } from './config.js';
import { PinnEmulator } from './emulator.js';
import { computeNormalization, ExtrapolationError } from './normalization.js';
import { hydrostaticFamily } from '../test/synthetic.js';
import { forward64 } from '../test/reference.js';

let emu: PinnEmulator;
beforeAll(async () => {
  await initBackend({ force: 'cpu', quiet: true });
  emu = new PinnEmulator(PRESETS.small, computeNormalization(hydrostaticFamily(50, 2)), DEFAULT_PHYSICS, 4);
});

const labels = [
  { teffK: 5000, logg: 4.4, feh: 0, afe: 0.1 },
  { teffK: 6500, logg: 3.5, feh: -0.5, afe: 0.3 },
  { teffK: 7500, logg: 4.0, feh: 0.2, afe: 0.05 },
];

test('the tau cache gives the same atmospheres as the full forward pass, and does not leak', () => {
  const a = emu.predictNormalized(labels, emu.defaultTauGrid(), { useTauCache: true, batchSize: 2 });
  const b = emu.predictNormalized(labels, emu.defaultTauGrid(), { useTauCache: false });
  assertAllClose(a, b, { rtol: 1e-5, atol: 1e-5 });
  const before = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) emu.predictAtmosphere(labels);
  expect(tf.memory().numTensors).toBe(before);
  const [p] = emu.predictAtmosphere([labels[0]]);
  expect(p.nLayers).toBe(emu.norm.defaultLogTauGrid.length);
  expect(p.pressure.every((x) => x > 0)).toBe(true);
});

test('labels outside the training range are an error unless extrapolation is allowed', () => {
  const hot = { teffK: 20000, logg: 4, feh: 0, afe: 0 };
  expect(() => emu.predictAtmosphere([hot])).toThrow(ExtrapolationError);
  expect(() => emu.predictAtmosphere([hot])).toThrow(
    /teffK = 20000 is outside the training range .*allow-extrapolation/,
  );
  expect(() => emu.predictAtmosphere([{ ...labels[0], logg: NaN }])).toThrow(/not a finite number/);
  expect(emu.predictAtmosphere([hot], { allowExtrapolation: true })).toHaveLength(1);
});

test('save and load round-trip the predictions exactly; corrupt and missing files are clear errors', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pinn-'));
  const path = join(dir, 'model.safetensors');
  await emu.save(path, { note: 'test' });
  const { emulator: back, info } = await PinnEmulator.load(path);
  expect(info).toEqual({ note: 'test' });
  expect(Array.from(back.predictNormalized(labels, emu.defaultTauGrid()))).toEqual(
    Array.from(emu.predictNormalized(labels, emu.defaultTauGrid())),
  );
  back.dispose();
  const bytes = readFileSync(path);
  bytes[bytes.length - 100] ^= 1;
  writeFileSync(path, bytes);
  await expect(PinnEmulator.load(path)).rejects.toThrow(/checksum mismatch.*corrupt/);
  await expect(PinnEmulator.load(join(dir, 'nope.safetensors'))).rejects.toThrow(/file not found/);
});

test('the inference path (folded GELU, fused matMuls) matches the float64 reference forward pass, with and without the tau cache', () => {
  const grid = emu.defaultTauGrid();
  const labelsN = emu.normalizeLabels(labels);
  const tauN = emu.normalizeLogTau(grid);
  const expected: number[] = [];
  for (let j = 0; j < labels.length; j++)
    for (let d = 0; d < grid.length; d++)
      expected.push(...forward64(emu.net, Array.from(labelsN.subarray(j * 4, j * 4 + 4)), tauN[d]));
  for (const useTauCache of [true, false]) {
    emu.clearTauCache();
    assertAllClose(emu.predictNormalized(labels, grid, { useTauCache, batchSize: 2 }), expected, {
      rtol: 1e-4,
      atol: 2e-5,
      label: `tau cache ${useTauCache}`,
    });
  }
  // Each model on its own tau grid: the same numbers as a prediction on that grid.
  const own = emu.predictOnTauGrids([
    { labels: labels[0], tau: grid },
    { labels: labels[1], tau: grid.slice(5, 30) },
  ]);
  const [a, b] = emu.predictAtmosphere([labels[0], labels[1]], { tauGrid: grid });
  assertAllClose(own[0].pressure, a.pressure, { rtol: 1e-5 });
  assertAllClose(own[1].temperature, b.temperature.slice(5, 30), { rtol: 1e-5 });
});

test('pressureLogSlope (tangent) matches central differences of the predicted pressure', () => {
  const grid = emu.defaultTauGrid().slice(10, 50);
  const { pressure, dlnPdlnTau } = emu.pressureLogSlope(labels[0], grid);
  const h = 1e-3;
  const up = emu.predictAtmosphere([labels[0]], { tauGrid: grid.map((t) => t * Math.exp(h)) })[0].pressure;
  const dn = emu.predictAtmosphere([labels[0]], { tauGrid: grid.map((t) => t * Math.exp(-h)) })[0].pressure;
  const fd = up.map((p, i) => (Math.log(p) - Math.log(dn[i])) / (2 * h));
  assertAllClose(dlnPdlnTau, fd, { rtol: 2e-2, atol: 2e-3 });
  assertAllClose(pressure, emu.predictAtmosphere([labels[0]], { tauGrid: grid })[0].pressure, { rtol: 1e-4 });
});
