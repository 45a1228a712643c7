// Test fixtures: small spectrum datasets whose flux is a smooth, known function of six labels.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeSpectrumDataset, type SpectrumRecord } from '@stellar-emu/grid-io';
import { Rng } from '@stellar-emu/numerics';

/** Label box of the toy spectra (units as in grid-io's CVAE labels). */
export const TOY_BOX = {
  teffK: [4000, 11000],
  logg: [2, 5],
  vsiniKms: [0, 300],
  mh: [-1.5, 1.5],
  vmicKms: [0, 4],
  resolution: [1000, 115000],
} as const;

/** Continuum-normalized toy flux: a few Gaussian lines whose depth and width follow the labels. */
export function toyFlux(labels: Record<string, number>, nPixels: number): number[] {
  const t = (labels.teffK - 4000) / 7000;
  const g = (labels.logg - 2) / 3;
  const w = 2 + labels.vsiniKms / 60 + labels.vmicKms / 2;
  const out = new Array<number>(nPixels).fill(1);
  for (let k = 0; k < 5; k++) {
    const centre = ((k + 0.5) / 5) * nPixels;
    const depth = 0.5 * (1 - 0.6 * t) * (1 + 0.2 * labels.mh) * (k % 2 ? 1 - 0.3 * g : 0.7 + 0.3 * g);
    for (let p = 0; p < nPixels; p++) out[p] -= depth * Math.exp(-0.5 * ((p - centre) / w) ** 2);
  }
  return out;
}

/** `n` toy records with uniform labels from `seed`. */
export function toyRecords(n: number, nPixels: number, seed: number): SpectrumRecord[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, (_, i) => {
    const labels: Record<string, number> = {};
    for (const [k, [lo, hi]] of Object.entries(TOY_BOX)) labels[k] = lo + (hi - lo) * rng.uniform();
    return {
      id: `toy-${seed}-${i}`,
      source: 'toy',
      line: 0,
      labels,
      wavelengthStartAngstrom: 5000,
      wavelengthStepAngstrom: 0.05,
      flux: toyFlux(labels, nPixels),
      synthetic: true,
      split: null,
    };
  });
}

/** A fresh temporary directory. */
export function tempDir(prefix = 'cvae-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Write a toy dataset (90/10 split by id) and return its directory. */
export async function writeToyDataset(opts: {
  n: number;
  nPixels: number;
  seed?: number;
  rowGroupSize?: number;
  fluxType?: 'float' | 'double';
}): Promise<string> {
  const dir = join(tempDir('cvae-ds-'), 'ds');
  await writeSpectrumDataset(toyRecords(opts.n, opts.nPixels, opts.seed ?? 1), dir, {
    split: { scheme: '90/10', seed: 0 },
    rowGroupSize: opts.rowGroupSize,
    fluxType: opts.fluxType,
  });
  return dir;
}
