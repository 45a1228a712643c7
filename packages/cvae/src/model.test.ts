import { initBackend, tf } from '@stellar-emu/nn-core';
import { Rng } from '@stellar-emu/numerics';
import { CVAE_PRESETS, makeCvaeConfig } from './config.js';
import { SpectrumCvae } from './model.js';

beforeAll(async () => {
  await initBackend({ force: 'cpu', quiet: true });
});

test('presets: the paper network and N / labels from the dataset', () => {
  const paper = makeCvaeConfig('paper', {
    nPixels: 19000,
    labelColumns: ['teff_k', 'logg', 'vsini_kms', 'mh', 'vmic_kms', 'resolution'],
  });
  expect(paper.encoderWidths).toEqual([4000, 2000, 1000]);
  expect(paper.latentDim).toBe(100);
  expect(paper.decoderWidths).toEqual([1000, 2000, 4000]);
  expect(paper.batchSize).toBe(512);
  expect(paper.earlyStoppingPatience).toBe(50);
  const other = makeCvaeConfig('small', { nPixels: 321, labelColumns: ['a', 'b'] });
  expect(other.nPixels).toBe(321);
  expect(CVAE_PRESETS.small.latentDim).toBeLessThan(paper.latentDim);
  expect(() => makeCvaeConfig('small', { nPixels: 0, labelColumns: ['a'] })).toThrow(/nPixels/);
});

test('loss: per-pixel mean squared error plus beta x batch-mean summed KL, with linear warm-up', () => {
  const cfg = makeCvaeConfig(
    'custom',
    { nPixels: 7, labelColumns: ['a', 'b'] },
    { encoderWidths: [5], latentDim: 3, decoderWidths: [5], beta: 2, klWarmupSteps: 10 },
  );
  const model = new SpectrumCvae(cfg);
  expect(model.params.names()).toEqual([
    'enc.0.W',
    'enc.0.b',
    'mu.W',
    'mu.b',
    'logvar.W',
    'logvar.b',
    'dec.0.W',
    'dec.0.b',
    'dec.1.W',
    'dec.1.b',
  ]);
  const rng = new Rng(1);
  const b = 4;
  const flux = tf.tensor2d(
    Float32Array.from({ length: b * 7 }, () => 0.5 + 0.5 * rng.uniform()),
    [b, 7],
  );
  const labels = tf.tensor2d(
    Float32Array.from({ length: b * 2 }, () => 2 * rng.uniform() - 1),
    [b, 2],
  );
  const eps = tf.tensor2d(
    Float32Array.from({ length: b * 3 }, () => rng.normal()),
    [b, 3],
  );
  // reference computed on the host from the network's own pieces
  const y = model.scaleFlux(flux);
  const { mu, logvar } = model.encode(y, labels);
  const z = tf.add(mu, tf.mul(tf.exp(tf.mul(logvar, 0.5)), eps)) as tf.Tensor2D;
  const yHat = model.decode(z, labels).arraySync();
  const yv = y.arraySync();
  const muv = mu.arraySync();
  const lv = logvar.arraySync();
  let se = 0;
  let kl = 0;
  let klMu = 0;
  for (let i = 0; i < b; i++) {
    for (let p = 0; p < 7; p++) se += (yHat[i][p] - yv[i][p]) ** 2;
    for (let k = 0; k < 3; k++) {
      kl += 0.5 * (muv[i][k] ** 2 + Math.exp(lv[i][k]) - lv[i][k] - 1);
      klMu += 0.5 * muv[i][k] ** 2;
    }
  }
  const recon = se / (b * 7);
  kl /= b;
  klMu /= b;
  for (const step of [0, 5, 20]) {
    const r = model.loss({ flux, labels, eps }, step);
    const beta = 2 * Math.min(1, step / 10);
    expect(r.parts!.recon.dataSync()[0]).toBeCloseTo(recon, 6);
    expect(r.parts!.kl.dataSync()[0]).toBeCloseTo(kl, 5);
    expect(r.parts!.klMu.dataSync()[0]).toBeCloseTo(klMu, 5);
    expect(r.parts!.klVar.dataSync()[0]).toBeCloseTo(kl - klMu, 5);
    expect(r.total.dataSync()[0]).toBeCloseTo(recon + beta * kl, 5);
    tf.dispose([r.total, ...Object.values(r.parts!)]);
  }
  // validation (no eps): z = mu and total = reconstruction only
  const v = new SpectrumCvae({ ...cfg, validationLatent: 'mean' });
  v.params.restore(model.params.snapshot());
  const vl = v.loss({ flux, labels }, 20);
  v.dispose();
  const yMu = model.decode(mu, labels).arraySync();
  let seMu = 0;
  for (let i = 0; i < b; i++) for (let p = 0; p < 7; p++) seMu += (yMu[i][p] - yv[i][p]) ** 2;
  expect(vl.total.dataSync()[0]).toBeCloseTo(seMu / (b * 7), 6);
  const y0 = model.decode(tf.zeros([b, 3]), labels).arraySync();
  let se0 = 0;
  for (let i = 0; i < b; i++) for (let p = 0; p < 7; p++) se0 += (y0[i][p] - yv[i][p]) ** 2;
  expect(vl.parts!.reconPrior.dataSync()[0]).toBeCloseTo(se0 / (b * 7), 6);
  // default 'sample': the reconstruction term of training with the validation draw
  const vs = model.loss({ flux, labels, epsVal: eps }, 20);
  expect(vs.total.dataSync()[0]).toBeCloseTo(recon, 6);
  expect(() => model.loss({ flux, labels }, 20)).toThrow(/epsVal/);
  const zeroCfg = new SpectrumCvae({ ...cfg, validationLatent: 'zero' });
  zeroCfg.params.restore(model.params.snapshot());
  expect(zeroCfg.loss({ flux, labels }, 0).total.dataSync()[0]).toBeCloseTo(se0 / (b * 7), 6);
  zeroCfg.dispose();
  // flux scaling round trip and sigmoid range
  expect(Array.from(model.unscaleFlux(y).dataSync())).toEqual(
    Array.from(flux.dataSync()).map((x) => expect.closeTo(x, 6)),
  );
  for (const x of yHat.flat()) expect(x > 0 && x < 1).toBe(true);
  model.dispose();
});

test('log-variance head: B·tanh(raw / B), the identity near 0, never beyond ±B; null leaves it unbounded', () => {
  const cfg = makeCvaeConfig(
    'custom',
    { nPixels: 7, labelColumns: ['a'] },
    { encoderWidths: [5], latentDim: 3, decoderWidths: [5], logvarBound: 4 },
  );
  const bounded = new SpectrumCvae(cfg);
  const free = new SpectrumCvae({ ...cfg, logvarBound: null });
  const snap = bounded.params.snapshot();
  // A head bias far outside the bound, and one near 0 (where the bound must not change the value).
  const bias = Float32Array.from([50, -50, 0.01]);
  snap.set('logvar.b', { shape: [3], data: bias });
  snap.set('logvar.W', {
    shape: snap.get('logvar.W')!.shape,
    data: new Float32Array(snap.get('logvar.W')!.data.length),
  });
  bounded.params.restore(snap);
  free.params.restore(snap);
  const y = tf.ones([2, 7]) as tf.Tensor2D;
  const c = tf.zeros([2, 1]) as tf.Tensor2D;
  const lb = Array.from(bounded.encode(y, c).logvar.dataSync());
  const lf = Array.from(free.encode(y, c).logvar.dataSync());
  for (let i = 0; i < 2; i++) {
    expect(lf.slice(3 * i, 3 * i + 3)).toEqual(Array.from(bias).map((v) => expect.closeTo(v, 5)));
    expect(lb[3 * i]).toBeCloseTo(4 * Math.tanh(50 / 4), 5);
    expect(lb[3 * i + 1]).toBeCloseTo(-4 * Math.tanh(50 / 4), 5);
    expect(lb[3 * i + 2]).toBeCloseTo(4 * Math.tanh(0.01 / 4), 7);
    expect(Math.abs(lb[3 * i + 2] - 0.01)).toBeLessThan(1e-6);
  }
  expect(() => makeCvaeConfig('small', { nPixels: 7, labelColumns: ['a'] }, { logvarBound: 0 })).toThrow(
    /logvarBound/,
  );
  bounded.dispose();
  free.dispose();
});
