// Kurucz-a1 architecture: sizes, presets and the physics-loss options.
import { ATMOSPHERE_QUANTITIES } from '@stellar-emu/grid-io';
import type { Activation } from '@stellar-emu/nn-core';

/** Label order of the model input (physical units: K, dex(cgs), dex, dex). */
export const LABEL_NAMES = ['teffK', 'logg', 'feh', 'afe'] as const;
export type LabelName = (typeof LABEL_NAMES)[number];

/** Column indices of the quantities the physics loss uses; the output order is grid-io's ATMOSPHERE_QUANTITIES. */
export const Q_PRESSURE = ATMOSPHERE_QUANTITIES.indexOf('pressure');
export const Q_ABROSS = ATMOSPHERE_QUANTITIES.indexOf('abross');
export const Q_ACCRAD = ATMOSPHERE_QUANTITIES.indexOf('accrad');

/** Network sizes. */
export interface PinnArchitecture {
  /** Hidden widths of the stellar-parameter encoder (paper: [512]). */
  labelEncoder: number[];
  /** Hidden widths of the log-tau encoder (paper: [512]). */
  tauEncoder: number[];
  /** Widths of the MLP after concatenation (paper: [1024, 512, 256]); a linear layer to 6 follows. */
  mlp: number[];
  activation: Activation;
  /** LayerNorm after each hidden layer of the MLP (paper: false). */
  layerNorm: boolean;
}

/** Presets: `paper` has exactly the published sizes; `small` is for CPU tests and demos. */
export const PRESETS: Record<'paper' | 'small', PinnArchitecture> = {
  paper: {
    labelEncoder: [512],
    tauEncoder: [512],
    mlp: [1024, 512, 256],
    activation: 'gelu',
    layerNorm: false,
  },
  small: { labelEncoder: [64], tauEncoder: [64], mlp: [128, 64, 32], activation: 'gelu', layerNorm: false },
};

/** Physics-loss options (hydrostatic equilibrium in log form). */
export interface PhysicsOptions {
  /** Weight of the physics term: loss = (1 - alpha) MSE + alpha physics. 0 is the paper's MLP baseline. */
  alpha: number;
  /**
   * Include the radiative acceleration, d ln P / d ln tau = tau (g - ACCRAD) / (P kappa)
   * (default true). false is the paper's form with g alone.
   */
  includeAccrad: boolean;
  /** Exclude this many outermost layers (from the surface) of each model from the physics term. */
  maskOuterLayers: number;
  /** Exclude this many innermost layers of each model from the physics term. */
  maskInnerLayers: number;
}

export const DEFAULT_PHYSICS: PhysicsOptions = {
  alpha: 0.03,
  includeAccrad: true,
  maskOuterLayers: 2,
  maskInnerLayers: 2,
};

/** Number of MLP FLOPs per depth point (multiply-add = 2), for benchmarks. */
export function flopsPerPoint(a: PinnArchitecture): { labelPart: number; tauPart: number; rest: number } {
  const chain = (nIn: number, widths: number[]) => {
    let f = 0;
    let n = nIn;
    for (const w of widths) {
      f += 2 * n * w;
      n = w;
    }
    return { f, n };
  };
  const le = chain(4, a.labelEncoder);
  const te = chain(1, a.tauEncoder);
  const h1 = a.mlp[0];
  const rest = chain(h1, [...a.mlp.slice(1), 6]);
  return { labelPart: le.f + 2 * le.n * h1, tauPart: te.f + 2 * te.n * h1, rest: rest.f };
}
