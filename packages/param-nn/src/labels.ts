// Recovered labels: names and units, the training label box, and clipping with out-of-range flags.

/** The six spectrum labels recovered from a spectrum (same names as grid-io and the report). */
export const RECOVERY_LABELS = ['teffK', 'logg', 'vsiniKms', 'mh', 'vmicKms', 'resolution'] as const;

/** Physical unit of each known label (others: 'unknown'). */
export const LABEL_UNITS: Record<string, string> = {
  teffK: 'K',
  logg: 'dex',
  vsiniKms: 'km/s',
  mh: 'dex',
  vmicKms: 'km/s',
  resolution: 'dimensionless (λ/Δλ)',
};

/** A closed interval in a label's physical unit. */
export interface LabelRange {
  min: number;
  max: number;
}

/** Per-label [min, max] over row-major labels [rows, names.length]. */
export function labelRanges(
  labels: Float64Array,
  rows: number,
  names: readonly string[],
): Record<string, LabelRange> {
  const out: Record<string, LabelRange> = {};
  names.forEach((name, j) => {
    let min = Infinity;
    let max = -Infinity;
    for (let i = 0; i < rows; i++) {
      const v = labels[i * names.length + j];
      if (v < min) min = v;
      if (v > max) max = v;
    }
    if (!(Number.isFinite(min) && Number.isFinite(max)))
      throw new Error(`labelRanges: label ${name} has no finite values`);
    out[name] = { min, max };
  });
  return out;
}

/** Predictions in physical units after clipping, and what was clipped. */
export interface ClippedLabels {
  /** Row-major [rows, names.length], each value inside the training range of its label. */
  values: Float64Array;
  /** Row-major [rows, names.length]: 1 where the raw prediction was outside the training range (and was clipped). */
  outOfRange: Uint8Array;
  /** Raw (unclipped) network outputs in physical units, for diagnosis. */
  raw: Float64Array;
  /** Number of clipped values per label. */
  clippedCount: Record<string, number>;
}

/**
 * Clip raw predictions to the training range of each label and flag what was clipped: the
 * network never reports a label outside the box it was trained on (no silent extrapolation).
 */
export function clipToRanges(
  raw: Float64Array,
  rows: number,
  names: readonly string[],
  ranges: Record<string, LabelRange>,
): ClippedLabels {
  const nl = names.length;
  const values = new Float64Array(raw.length);
  const outOfRange = new Uint8Array(raw.length);
  const clippedCount: Record<string, number> = {};
  names.forEach((name, j) => {
    const r = ranges[name];
    if (!r) throw new Error(`clipToRanges: no training range for label ${name}`);
    let count = 0;
    for (let i = 0; i < rows; i++) {
      const v = raw[i * nl + j];
      let c = v;
      if (!(v >= r.min))
        c = r.min; // also catches NaN
      else if (v > r.max) c = r.max;
      if (c !== v) {
        outOfRange[i * nl + j] = 1;
        count++;
      }
      values[i * nl + j] = c;
    }
    clippedCount[name] = count;
  });
  return { values, outOfRange, raw, clippedCount };
}
