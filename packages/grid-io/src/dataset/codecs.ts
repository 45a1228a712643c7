// The Parquet decompressors every grid-io reader passes to hyparquet: snappy, gzip, brotli, lz4, lz4_raw and zstd (hyparquet-compressors).
import type { Compressors } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';

/**
 * Decompressors for every codec pyarrow, polars, DuckDB and Spark write: SNAPPY (hysnappy, wasm;
 * about 3.5x hyparquet's built-in JavaScript snappy on float flux), GZIP, BROTLI, LZ4 (Hadoop
 * framing or raw), LZ4_RAW and ZSTD (polars' default). Pass as `compressors` to hyparquet.
 * LZO is not supported (no reader writes it by default).
 */
export const parquetCompressors: Compressors = compressors;
