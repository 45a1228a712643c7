// Point datasets: every (model, layer) of a set of atmospheres as a normalized training example.
import { MemoryBatchSource } from '@stellar-emu/nn-core';
import { ATMOSPHERE_QUANTITIES, standardize } from '@stellar-emu/grid-io';
import type { PhysicsOptions } from './config.js';
import { tauOf, type AtmosphereLike } from './atmosphere.js';
import { labelFeatures, type Normalization } from './normalization.js';

/**
 * Layer handling: the network is evaluated pointwise in (labels, log tau), so every layer of
 * every model is one example at its own tau. Models with 64, 72 or 80 layers need neither
 * resampling nor padding; the physics mask removes each model's outermost/innermost layers.
 * Columns: labels [4], logTau [1], y [6] (all normalized), pmask [1] (1 inside the physics mask).
 */
export function pointSource(
  models: AtmosphereLike[],
  norm: Normalization,
  physics: Pick<PhysicsOptions, 'maskOuterLayers' | 'maskInnerLayers'>,
): MemoryBatchSource {
  let n = 0;
  for (const m of models) n += m.nLayers;
  const labels = new Float32Array(n * 4);
  const logTau = new Float32Array(n);
  const y = new Float32Array(n * 6);
  const pmask = new Float32Array(n);
  let p = 0;
  for (const m of models) {
    const f = labelFeatures(m).map((v, i) => standardize(v, norm.labelMean[i], norm.labelStd[i]));
    const tau = tauOf(m);
    for (let i = 0; i < m.nLayers; i++, p++) {
      labels.set(f, p * 4);
      logTau[p] = standardize(Math.log10(tau[i]), norm.logTauMean, norm.logTauStd);
      ATMOSPHERE_QUANTITIES.forEach((q, k) => {
        const v = m[q][i];
        // log10 targets: a zero, negative or non-finite value would become NaN in the loss.
        if (!(v > 0) || !Number.isFinite(v))
          throw new Error(
            `${q}[${i}] = ${v} is not a positive finite number (model Teff ${m.teffK}, log g ${m.logg}, [Fe/H] ${m.feh}): log10 targets need positive values`,
          );
        y[p * 6 + k] = standardize(Math.log10(v), norm.outMean[k], norm.outStd[k]);
      });
      if (!(tau[i] > 0) || !Number.isFinite(tau[i]))
        throw new Error(
          `tau[${i}] = ${tau[i]} is not a positive finite number (model Teff ${m.teffK}, log g ${m.logg}, [Fe/H] ${m.feh})`,
        );
      pmask[p] = i >= physics.maskOuterLayers && i < m.nLayers - physics.maskInnerLayers ? 1 : 0;
    }
  }
  return new MemoryBatchSource({
    labels: { width: 4, data: labels },
    logTau: { width: 1, data: logTau },
    y: { width: 6, data: y },
    pmask: { width: 1, data: pmask },
  });
}
