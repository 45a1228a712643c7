// Label boxes of the two emulators and uniform sampling inside them.
import type { Rng } from '@stellar-emu/numerics';

/** A closed interval [min, max] in the label's physical unit. */
export interface LabelRange {
  readonly min: number;
  readonly max: number;
}

/**
 * Parameter box of the Kurucz-a1 atmosphere grid, used by the synthetic atmosphere generator:
 * Teff in K, log g in dex (cgs), [Fe/H] and [alpha/Fe] in dex.
 */
export const KURUCZ_A1_LABEL_RANGES = {
  teffK: { min: 2500, max: 50000 },
  logg: { min: -1, max: 5.5 },
  feh: { min: -4, max: 1.5 },
  afe: { min: -0.2, max: 0.6 },
} as const satisfies Record<string, LabelRange>;

/** Labels of one synthetic atmosphere (units as in {@link KURUCZ_A1_LABEL_RANGES}). */
export interface AtmosphereLabels {
  teffK: number;
  logg: number;
  feh: number;
  afe: number;
}

/**
 * The six CVAE labels and their ranges (the paper's box): Teff in K, log g in dex (cgs),
 * v sin i in km/s, [M/H] in dex, microturbulence in km/s, resolving power R = lambda/FWHM.
 */
export const CVAE_LABEL_RANGES = {
  teffK: { min: 4000, max: 11000 },
  logg: { min: 2, max: 5 },
  vsiniKms: { min: 0, max: 300 },
  mh: { min: -1.5, max: 1.5 },
  vmicKms: { min: 0, max: 4 },
  resolution: { min: 1000, max: 115000 },
} as const satisfies Record<string, LabelRange>;

/** Labels of one synthetic spectrum (units as in {@link CVAE_LABEL_RANGES}). */
export interface SpectrumLabels {
  teffK: number;
  logg: number;
  vsiniKms: number;
  mh: number;
  vmicKms: number;
  resolution: number;
}

/**
 * Draw each label independently and uniformly from its range (key order of `ranges` fixes
 * the order of draws, so the stream is reproducible).
 */
export function sampleLabels<K extends string>(rng: Rng, ranges: Record<K, LabelRange>): Record<K, number> {
  const out = {} as Record<K, number>;
  for (const key of Object.keys(ranges) as K[]) {
    const { min, max } = ranges[key];
    out[key] = rng.uniform(min, max);
  }
  return out;
}

/** Throw a clear error when a label is missing or not a finite number. */
export function assertFiniteLabels(
  where: string,
  labels: Record<string, unknown>,
  keys: readonly string[],
): void {
  for (const key of keys) {
    const v = labels[key];
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new Error(`${where}: label ${key} must be a finite number, got ${String(v)}`);
    }
  }
}

/**
 * Default verdict factors of parameter recovery (the CVAE paper's Table 3 test): a label passes
 * when the RMSE of its recovered values on emulated spectra is at most factor × the RMSE on the
 * test spectra. v sin i and R are 1.5: they are read from line widths, which a recovery network
 * on 25 principal components resolves coarsely, so their test RMSE is a noisier yardstick. This
 * is the one home of the factors: the pipeline config, `validate cvae`, the report's checks and
 * the CLI's exit code all resolve a label's factor with {@link recoveryFactor}.
 */
export const DEFAULT_RECOVERY_FACTORS: Readonly<Record<keyof SpectrumLabels, number>> = {
  teffK: 1.2,
  logg: 1.2,
  vsiniKms: 1.5,
  mh: 1.2,
  vmicKms: 1.2,
  resolution: 1.5,
};

/** Factor of a label that {@link DEFAULT_RECOVERY_FACTORS} does not name. */
export const DEFAULT_RECOVERY_FACTOR_OTHER = 1.2;

/** A recovery-factor setting: one factor for every label, or factors per label (others default). */
export type RecoveryFactorSetting = number | Readonly<Record<string, number>>;

/** The verdict factor of `label` under `setting` (defaults: {@link DEFAULT_RECOVERY_FACTORS}). */
export function recoveryFactor(label: string, setting?: RecoveryFactorSetting): number {
  const f =
    typeof setting === 'number'
      ? setting
      : (setting?.[label] ??
        (DEFAULT_RECOVERY_FACTORS as Record<string, number>)[label] ??
        DEFAULT_RECOVERY_FACTOR_OTHER);
  if (!(f > 0) || !Number.isFinite(f)) throw new Error(`recovery factor of ${label} must be > 0, got ${f}`);
  return f;
}

/** The factor of each label under `setting`. */
export function recoveryFactors(
  labels: readonly string[],
  setting?: RecoveryFactorSetting,
): Record<string, number> {
  return Object.fromEntries(labels.map((l) => [l, recoveryFactor(l, setting)]));
}
