import { DEFAULT_PHYSICS } from './config.js';
import { pointSource } from './data.js';
import { computeNormalization } from './normalization.js';
import { hydrostaticFamily } from '../test/synthetic.js';

test('pointSource refuses a model whose targets cannot be log10-normalized (no silent NaN), naming the model', () => {
  const models = hydrostaticFamily(6, 1);
  const norm = computeNormalization(models.slice(0, 4));
  // Good models give finite normalized columns.
  const ok = pointSource(models.slice(4), norm, DEFAULT_PHYSICS);
  expect(ok.numExamples).toBe(models[4].nLayers + models[5].nLayers);
  const bad = { ...models[5], accrad: Array.from(models[5].accrad, (v, i) => (i === 7 ? 0 : v)) };
  expect(() => pointSource([models[4], bad], norm, DEFAULT_PHYSICS)).toThrow(
    /accrad\[7\] = 0 is not a positive finite number \(model Teff/,
  );
  const nan = {
    ...models[5],
    pressure: Array.from(models[5].pressure, (v, i) => (i === 3 ? Number.NaN : v)),
  };
  expect(() => pointSource([nan], norm, DEFAULT_PHYSICS)).toThrow(/pressure\[3\] = NaN/);
});
