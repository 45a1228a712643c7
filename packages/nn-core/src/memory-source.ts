// An in-memory BatchSource over named float32 columns (row-major, fixed width per column).
import { tf } from './backend.js';
import type { Batch, BatchSource } from './train.js';

/** One column: `width` float32 values per example. */
export interface Column {
  width: number;
  data: Float32Array;
}

/**
 * Random-access examples held in host memory as named float32 columns; `batch(indices)`
 * gathers the rows into [n, width] tensors. A `subset` view shares the data.
 */
export class MemoryBatchSource implements BatchSource {
  readonly numExamples: number;

  constructor(
    readonly columns: Record<string, Column>,
    private readonly rows?: Int32Array,
  ) {
    const first = Object.entries(columns)[0];
    if (!first) throw new Error('MemoryBatchSource needs at least one column');
    const total = first[1].data.length / first[1].width;
    for (const [k, c] of Object.entries(columns)) {
      if (c.data.length !== total * c.width)
        throw new Error(`column '${k}' has ${c.data.length / c.width} rows, expected ${total}`);
    }
    this.numExamples = rows ? rows.length : total;
  }

  /** A view on the examples `rows` (indices into this source). */
  subset(rows: Int32Array): MemoryBatchSource {
    const base = this.rows ? rows.map((r) => this.rows![r]) : rows;
    return new MemoryBatchSource(this.columns, base);
  }

  batch(indices: Int32Array): Batch {
    const out: Batch = {};
    for (const [k, c] of Object.entries(this.columns)) {
      const buf = new Float32Array(indices.length * c.width);
      for (let i = 0; i < indices.length; i++) {
        const r = this.rows ? this.rows[indices[i]] : indices[i];
        if (c.width === 1) buf[i] = c.data[r];
        else buf.set(c.data.subarray(r * c.width, (r + 1) * c.width), i * c.width);
      }
      out[k] = tf.tensor2d(buf, [indices.length, c.width]);
    }
    return out;
  }
}
