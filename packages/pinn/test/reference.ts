// Float64 reference implementation of the PinnNetwork forward pass (for finite-difference tests).
import type { PinnNetwork } from '../src/model.js';

/** erf in double precision: Taylor series for |x| < 3, continued fraction for erfc beyond. */
export function erf64(x: number): number {
  const ax = Math.abs(x);
  if (ax < 3) {
    let term = ax;
    let sum = ax;
    for (let n = 1; n < 200; n++) {
      term *= (-ax * ax) / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc(x) = exp(-x^2)/sqrt(pi) * 1/(x + 1/2/(x + 1/(x + 3/2/(x + ...)))) (Lentz would be nicer; fixed depth is enough here)
  let f = ax;
  for (let k = 60; k >= 1; k--) f = ax + k / 2 / f;
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
  return Math.sign(x) * (1 - erfc);
}

function gelu64(x: number): number {
  return 0.5 * x * (1 + erf64(x / Math.SQRT2));
}

type Weights = Map<string, { shape: number[]; data: Float32Array }>;

function dense(w: Weights, name: string, x: number[], act: boolean): number[] {
  const W = w.get(`${name}.W`)!;
  const b = w.get(`${name}.b`)!;
  const [nIn, nOut] = W.shape;
  const out = new Array<number>(nOut);
  for (let j = 0; j < nOut; j++) {
    let s = b.data[j];
    for (let i = 0; i < nIn; i++) s += x[i] * W.data[i * nOut + j];
    out[j] = act ? gelu64(s) : s;
  }
  return out;
}

/** Float64 forward of a GELU PinnNetwork without LayerNorm, from its own weights. */
export function forward64(net: PinnNetwork, labelsN: number[], logTauN: number): number[] {
  const w = net.params.snapshot();
  let hL = labelsN;
  net.arch.labelEncoder.forEach((_, i) => (hL = dense(w, `labelEncoder.${i}`, hL, true)));
  let hT = [logTauN];
  net.arch.tauEncoder.forEach((_, i) => (hT = dense(w, `tauEncoder.${i}`, hT, true)));
  const WL = w.get('mlp.0.Wlabel')!;
  const WT = w.get('mlp.0.Wtau')!;
  const b = w.get('mlp.0.b')!;
  const h1 = b.data.length;
  let h = new Array<number>(h1);
  for (let j = 0; j < h1; j++) {
    let s = b.data[j];
    for (let i = 0; i < hL.length; i++) s += hL[i] * WL.data[i * h1 + j];
    for (let i = 0; i < hT.length; i++) s += hT[i] * WT.data[i * h1 + j];
    h[j] = gelu64(s);
  }
  const nHead = net.arch.mlp.length; // widths mlp[1..] then 6
  for (let i = 0; i < nHead; i++) h = dense(w, `head.${i}`, h, i < nHead - 1);
  return h;
}
