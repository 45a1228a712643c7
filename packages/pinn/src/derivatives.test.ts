import { initBackend, tf } from '@stellar-emu/nn-core';
import { ATMOSPHERE_QUANTITIES, hydrostaticResidual, type HydrostaticOptions } from '@stellar-emu/grid-io';
import { Rng } from '@stellar-emu/numerics';
import { assertAllClose } from '@stellar-emu/numerics/testing';
import { PRESETS, DEFAULT_PHYSICS } from './config.js';
import { PinnEmulator } from './emulator.js';
import { computeNormalization } from './normalization.js';
import { hydrostaticResidualTensor } from './physics.js';
import { erf64, forward64 } from '../test/reference.js';
import { hydrostaticFamily } from '../test/synthetic.js';

const arch = { ...PRESETS.small, labelEncoder: [24], tauEncoder: [24], mlp: [32, 24, 16] };
let emu: PinnEmulator;

beforeAll(async () => {
  await initBackend({ force: 'cpu', quiet: true });
  emu = new PinnEmulator(arch, computeNormalization(hydrostaticFamily(40, 1)), DEFAULT_PHYSICS, 3);
});

test('float64 reference: erf and the forward pass agree with tfjs', () => {
  expect(erf64(0.5)).toBeCloseTo(0.5204998778130465, 14);
  expect(erf64(-3.5)).toBeCloseTo(-0.9999992569016276, 14);
  const rng = new Rng(5);
  const pts = Array.from({ length: 6 }, () => ({
    l: [rng.normal(), rng.normal(), rng.normal(), rng.normal()],
    t: 2 * rng.normal(),
  }));
  const y = tf.tidy(() =>
    emu.net.forward(tf.tensor2d(pts.map((p) => p.l)), tf.tensor2d(pts.map((p) => [p.t]))),
  );
  const ref = pts.flatMap((p) => forward64(emu.net, p.l, p.t));
  assertAllClose(y.dataSync(), ref, { rtol: 1e-5, atol: 1e-5, label: 'tf forward vs float64' });
  y.dispose();
});

test('d(outputs)/d(log tau) by tangent propagation matches float64 central differences of the network itself', () => {
  const rng = new Rng(9);
  const pts = Array.from({ length: 8 }, () => ({
    l: [rng.normal(), rng.normal(), rng.normal(), rng.normal()],
    t: -2 + 4 * rng.uniform(),
  }));
  const dy = tf.tidy(
    () =>
      emu.net.forwardWithTauTangent(tf.tensor2d(pts.map((p) => p.l)), tf.tensor2d(pts.map((p) => [p.t])))
        .dyDlogTauN,
  );
  const h = 1e-5;
  const fd = pts.flatMap((p) => {
    const a = forward64(emu.net, p.l, p.t + h);
    const b = forward64(emu.net, p.l, p.t - h);
    return a.map((v, k) => (v - b[k]) / (2 * h));
  });
  const scale = Math.max(...fd.map(Math.abs));
  assertAllClose(dy.dataSync(), fd, { rtol: 1e-4, atol: 1e-5 * scale, label: 'tau tangent vs FD' });
  dy.dispose();
});

test('the physics residual uses d ln P / d ln tau = FD of the network in physical units', () => {
  // Compare the residual built from the tangent with one built from float64 FD of ln P in ln tau.
  const norm = emu.norm;
  const l = [0.3, -0.2, 0.1, 0.5];
  const tN = 0.4;
  const r = tf.tidy(() => {
    const L = tf.tensor2d([l]);
    const T = tf.tensor2d([[tN]]);
    const { y, dyDlogTauN } = emu.net.forwardWithTauTangent(L, T);
    return hydrostaticResidualTensor(norm, L, T, y, dyDlogTauN, true);
  });
  const lnP = (t: number) => Math.LN10 * (norm.outMean[2] + norm.outStd[2] * forward64(emu.net, l, t)[2]);
  const h = 1e-5;
  const D = (lnP(tN + h) - lnP(tN - h)) / (2 * h) / (Math.LN10 * norm.logTauStd); // d/d lnTau
  const y = forward64(emu.net, l, tN).map((v, k) => 10 ** (norm.outMean[k] + norm.outStd[k] * v));
  const tau = 10 ** (norm.logTauMean + norm.logTauStd * tN);
  const g = 10 ** (norm.labelMean[1] + norm.labelStd[1] * l[1]);
  const R = (tau * Math.max(g - y[5], 0.01 * g)) / (y[2] * y[4]);
  const expected = (2 * (D - R)) / (Math.abs(D) + R);
  assertAllClose(r.dataSync(), [expected], { rtol: 1e-3, atol: 1e-5, label: 'physics residual' });
  r.dispose();
});

test('gradients of the physics loss with respect to the weights are finite and nonzero (first-order autodiff only)', () => {
  const vars = emu.net.params.names().map((n) => emu.net.params.get(n));
  const rng = new Rng(2);
  const n = 16;
  const batch = {
    labels: tf.tensor2d(
      Array.from({ length: n * 4 }, () => rng.normal()),
      [n, 4],
    ),
    logTau: tf.tensor2d(
      Array.from({ length: n }, () => rng.normal()),
      [n, 1],
    ),
    y: tf.zeros([n, 6]),
    pmask: tf.ones([n, 1]),
  };
  const { value, grads } = tf.variableGrads(() => emu.loss(batch).parts!.physics, vars);
  const norms = Object.values(grads).map((g) => tf.tidy(() => tf.norm(g).dataSync()[0]));
  expect(norms.every(Number.isFinite)).toBe(true);
  expect(norms.filter((x) => x > 0).length).toBe(norms.length);
  tf.dispose([value, ...Object.values(grads), ...Object.values(batch)]);
});

test('label gradients (physical units) match float64 central differences of the network', () => {
  const labels = [
    { teffK: 5500, logg: 4.2, feh: -0.3, afe: 0.2 },
    { teffK: 7100, logg: 3.4, feh: 0.2, afe: 0.1 },
  ];
  const tauGrid = [1e-4, 1e-2, 1, 10];
  const { jacobian } = emu.labelGradients(labels, { tauGrid });
  const norm = emu.norm;
  const phys = (l: number[], tau: number) => {
    const lN = [Math.log10(l[0]), l[1], l[2], l[3]].map((v, i) => (v - norm.labelMean[i]) / norm.labelStd[i]);
    const tN = (Math.log10(tau) - norm.logTauMean) / norm.logTauStd;
    return forward64(emu.net, lN, tN).map((v, k) => 10 ** (norm.outMean[k] + norm.outStd[k] * v));
  };
  const fd: number[] = [];
  labels.forEach((lab) => {
    const base = [lab.teffK, lab.logg, lab.feh, lab.afe];
    tauGrid.forEach((tau) => {
      const rows: number[][] = ATMOSPHERE_QUANTITIES.map(() => []);
      for (let i = 0; i < 4; i++) {
        const h = i === 0 ? 1e-3 : 1e-6;
        const up = [...base];
        const dn = [...base];
        up[i] += h;
        dn[i] -= h;
        const a = phys(up, tau);
        const b = phys(dn, tau);
        a.forEach((v, k) => rows[k].push((v - b[k]) / (2 * h)));
      }
      rows.forEach((r) => fd.push(...r));
    });
  });
  // Compare per quantity scale: relative to |Q| (a derivative of log Q).
  const values = emu.predictAtmosphere(labels, { tauGrid, useTauCache: false });
  const scaleOf: number[] = [];
  values.forEach((v) =>
    tauGrid.forEach((_, d) =>
      ATMOSPHERE_QUANTITIES.forEach((q) =>
        scaleOf.push(...[0, 1, 2, 3].map((i) => Math.abs(v[q][d]) * (i === 0 ? 1e-3 : 1))),
      ),
    ),
  );
  const relJ = Array.from(jacobian, (v, i) => v / scaleOf[i]);
  const relFd = fd.map((v, i) => v / scaleOf[i]);
  assertAllClose(relJ, relFd, { rtol: 2e-3, atol: 2e-4, label: 'label Jacobian vs FD' });
});

test('the FD hydrostatic estimator is ~0 on an exactly hydrostatic model and sees a 10 % error', () => {
  const [m] = hydrostaticFamily(1, 4);
  // The convention of the validation metrics: |relative residual| of d ln P / d ln tau, g - ACCRAD.
  const opts: HydrostaticOptions = { scheme: 'ln-ln', gravity: 'g-accrad', output: 'abs-relative' };
  const tau = m.tauRosseland!;
  const r = hydrostaticResidual({ ...m, tauRosseland: tau }, opts).residual;
  expect(Math.max(...r.slice(2, m.nLayers - 2))).toBeLessThan(0.02);
  const wrong = hydrostaticResidual(
    { ...m, tauRosseland: tau, pressure: Array.from(m.pressure, (p) => p * 1.1) },
    opts,
  ).residual;
  expect(Math.min(...wrong.slice(2, m.nLayers - 2))).toBeGreaterThan(0.08);
});
