// Streams of spectra in row blocks: in memory, generated on the fly, or read from a grid-io dataset.

/** A block of spectra, row-major. */
export interface SpectrumBlock {
  /** Number of spectra in the block. */
  rows: number;
  /** Continuum-normalized flux (dimensionless), row-major [rows, numPixels]. */
  flux: Float32Array;
  /** Labels in physical units, row-major [rows, numLabels] (absent when the source has none). */
  labels?: Float64Array;
}

/**
 * A re-readable stream of spectra on one wavelength grid. Each call of `blocks` is one full
 * pass, in the same order every time, in blocks of at most `maxRows` spectra; the consumer
 * may not keep a block after asking for the next one (sources may reuse buffers).
 */
export interface SpectrumSource {
  /** Pixels per spectrum. */
  readonly numPixels: number;
  /** Spectra per pass. */
  readonly numSpectra: number;
  /** Label names of `SpectrumBlock.labels` columns (empty when the source has no labels). */
  readonly labelNames: readonly string[];
  blocks(maxRows: number): AsyncIterable<SpectrumBlock>;
}

/** Spectra (and optional labels) already in memory as row-major arrays. */
export function matrixSource(
  flux: Float32Array,
  numPixels: number,
  labels?: { names: readonly string[]; values: Float64Array },
): SpectrumSource {
  if (flux.length % numPixels !== 0)
    throw new Error(`matrixSource: ${flux.length} values are not a multiple of ${numPixels} pixels`);
  const numSpectra = flux.length / numPixels;
  const nl = labels?.names.length ?? 0;
  if (labels && labels.values.length !== numSpectra * nl)
    throw new Error(
      `matrixSource: ${labels.values.length} label values for ${numSpectra} spectra x ${nl} labels`,
    );
  return {
    numPixels,
    numSpectra,
    labelNames: labels?.names ?? [],
    async *blocks(maxRows: number) {
      const step = Math.max(1, Math.floor(maxRows));
      for (let r = 0; r < numSpectra; r += step) {
        const rows = Math.min(step, numSpectra - r);
        yield {
          rows,
          flux: flux.subarray(r * numPixels, (r + rows) * numPixels),
          ...(labels ? { labels: labels.values.subarray(r * nl, (r + rows) * nl) } : {}),
        };
      }
    },
  };
}

/**
 * Spectra computed on the fly: `fill(start, rows, flux, labels)` writes spectra start..start+rows-1
 * into the given buffers (flux [rows, numPixels], labels [rows, labelNames.length]). It must be
 * deterministic in the spectrum index, so that every pass sees the same data. Never holds more
 * than one block: this is how data larger than memory is streamed.
 */
export function functionSource(opts: {
  numSpectra: number;
  numPixels: number;
  labelNames?: readonly string[];
  fill: (start: number, rows: number, flux: Float32Array, labels: Float64Array) => void | Promise<void>;
}): SpectrumSource {
  const labelNames = opts.labelNames ?? [];
  return {
    numPixels: opts.numPixels,
    numSpectra: opts.numSpectra,
    labelNames,
    async *blocks(maxRows: number) {
      const step = Math.max(1, Math.floor(maxRows));
      // One buffer per pass, reused for every block (consumers may not keep a block).
      const fluxBuf = new Float32Array(Math.min(step, opts.numSpectra) * opts.numPixels);
      const labelBuf = new Float64Array(Math.min(step, opts.numSpectra) * labelNames.length);
      for (let r = 0; r < opts.numSpectra; r += step) {
        const rows = Math.min(step, opts.numSpectra - r);
        const flux = fluxBuf.subarray(0, rows * opts.numPixels);
        const labels = labelBuf.subarray(0, rows * labelNames.length);
        flux.fill(0);
        labels.fill(0);
        await opts.fill(r, rows, flux, labels);
        yield { rows, flux, ...(labelNames.length ? { labels } : {}) };
      }
    },
  };
}

/** Collect a whole source into memory (for small sets: test and generated spectra). */
export async function collectSource(
  source: SpectrumSource,
  maxRows = 1024,
): Promise<{ flux: Float32Array; labels: Float64Array; rows: number }> {
  const flux = new Float32Array(source.numSpectra * source.numPixels);
  const nl = source.labelNames.length;
  const labels = new Float64Array(source.numSpectra * nl);
  let r = 0;
  for await (const b of source.blocks(maxRows)) {
    if (r + b.rows > source.numSpectra)
      throw new Error(`collectSource: the source yielded more than its ${source.numSpectra} spectra`);
    flux.set(b.flux, r * source.numPixels);
    if (b.labels) labels.set(b.labels, r * nl);
    r += b.rows;
  }
  if (r !== source.numSpectra)
    throw new Error(`collectSource: the source yielded ${r} spectra, expected ${source.numSpectra}`);
  return { flux, labels, rows: r };
}

/** Apply `fn` to every block of a source (e.g. smoothing or shifting spectra) without holding the pass. */
export function mapSource(
  source: SpectrumSource,
  fn: (block: SpectrumBlock) => SpectrumBlock,
): SpectrumSource {
  return {
    numPixels: source.numPixels,
    numSpectra: source.numSpectra,
    labelNames: source.labelNames,
    async *blocks(maxRows: number) {
      for await (const b of source.blocks(maxRows)) yield fn(b);
    },
  };
}
