// Synchronous decoding of one row group's fixed-length flux lists from a Parquet file into a Float32Array.
import { readSync } from 'node:fs';
import type { ColumnChunk, FileMetaData, SchemaTree } from 'hyparquet';
import { parquetHeader, readColumn } from 'hyparquet/src/column.js';
import { DEFAULT_PARSERS } from 'hyparquet/src/convert.js';
import { decompressPage } from 'hyparquet/src/datapage.js';
import { parquetSchema } from 'hyparquet/src/metadata.js';
import { getTreePath } from 'hyparquet/src/schema.js';

/** Which decoder handled a chunk (the fast path skips hyparquet's list assembly). */
export type FluxDecodePath = 'fast' | 'generic';

/** A Parquet file opened for synchronous flux reads. */
export interface FluxFile {
  fd: number;
  path: string;
  metadata: FileMetaData;
  schema: SchemaTree;
}

/** Prepare a file descriptor and footer (read once, asynchronously, elsewhere) for sync reads. */
export function fluxFile(fd: number, path: string, metadata: FileMetaData): FluxFile {
  return { fd, path, metadata, schema: parquetSchema(metadata) };
}

function readBytes(fd: number, start: number, length: number): Buffer {
  const buf = Buffer.allocUnsafe(length);
  let got = 0;
  while (got < length) {
    const n = readSync(fd, buf, got, length - got, start + got);
    if (n === 0) throw new Error(`unexpected end of file at byte ${start + got}`);
    got += n;
  }
  return buf;
}

function chunkOf(file: FluxFile, rowGroup: number, column: string): ColumnChunk {
  const rg = file.metadata.row_groups[rowGroup];
  if (!rg) throw new RangeError(`${file.path}: no row group ${rowGroup}`);
  const chunk = rg.columns.find((c) => c.meta_data?.path_in_schema[0] === column);
  if (!chunk?.meta_data) throw new Error(`${file.path}: row group ${rowGroup} has no column "${column}"`);
  return chunk;
}

/**
 * Decode the list column `column` of row group `rowGroup`, every list of length `nPixels`, into a
 * row-major Float32Array [numRows * nPixels]. Standard 3-level LISTs with required elements and
 * PLAIN FLOAT/DOUBLE values (what grid-io writes) take a fast path that skips the repetition and
 * definition levels; anything else goes through hyparquet's generic (slower) column reader.
 * Every list must have exactly `nPixels` values (checked from the value counts).
 */
export function decodeFluxRowGroup(file: FluxFile, rowGroup: number, column: string, nPixels: number): { flux: Float32Array; path: FluxDecodePath } {
  const chunk = chunkOf(file, rowGroup, column);
  const md = chunk.meta_data!;
  const numRows = Number(file.metadata.row_groups[rowGroup].num_rows);
  const schemaPath = getTreePath(file.schema, md.path_in_schema);
  const start = Number(md.dictionary_page_offset ?? md.data_page_offset);
  const bytes = readBytes(file.fd, start, Number(md.total_compressed_size));
  const levelsSimple =
    schemaPath.length === 4 &&
    schemaPath[1].element.repetition_type === 'REQUIRED' &&
    schemaPath[2].element.repetition_type === 'REPEATED' &&
    schemaPath[3].element.repetition_type === 'REQUIRED';
  const fast = levelsSimple && (md.type === 'FLOAT' || md.type === 'DOUBLE') && !md.dictionary_page_offset;
  const out = new Float32Array(numRows * nPixels);
  if (fast) {
    const done = decodeFast(bytes, md.type as 'FLOAT' | 'DOUBLE', md.codec, out);
    if (done !== null) {
      if (done !== out.length) throw new Error(`${file.path}: row group ${rowGroup} column ${column} has ${done} values, expected ${numRows} lists of ${nPixels}`);
      return { flux: out, path: 'fast' };
    }
  }
  const decoder = {
    pathInSchema: md.path_in_schema,
    element: schemaPath[schemaPath.length - 1].element,
    schemaPath,
    type: md.type,
    codec: md.codec,
    parsers: DEFAULT_PARSERS,
  };
  const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const { data } = readColumn({ view: new DataView(ab), offset: 0 }, { groupStart: 0, selectStart: 0, selectEnd: numRows, groupRows: numRows }, decoder);
  let row = 0;
  for (const part of data) {
    for (const list of part as unknown as ArrayLike<number | null>[]) {
      if (!list || list.length !== nPixels) throw new Error(`${file.path}: row group ${rowGroup} row ${row}: ${column} has ${list?.length ?? 0} values, expected ${nPixels}`);
      const o = row * nPixels;
      for (let j = 0; j < nPixels; j++) out[o + j] = list[j] ?? NaN;
      row++;
    }
  }
  if (row !== numRows) throw new Error(`${file.path}: row group ${rowGroup}: decoded ${row} rows of ${column}, expected ${numRows}`);
  return { flux: out, path: 'generic' };
}

/** Fast path: PLAIN pages; returns the number of values written, or null if a page needs the generic reader. */
function decodeFast(bytes: Buffer, type: 'FLOAT' | 'DOUBLE', codec: Parameters<typeof decompressPage>[2], out: Float32Array): number | null {
  const reader = { view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), offset: 0 };
  let written = 0;
  const width = type === 'FLOAT' ? 4 : 8;
  while (reader.offset < bytes.byteLength - 1) {
    const header = parquetHeader(reader);
    const body = bytes.subarray(reader.offset, reader.offset + header.compressed_page_size);
    reader.offset += header.compressed_page_size;
    let values: Uint8Array;
    let count: number;
    if (header.type === 'DATA_PAGE_V2') {
      const h = header.data_page_header_v2!;
      if (h.encoding !== 'PLAIN' || h.num_nulls !== 0) return null;
      const skip = h.repetition_levels_byte_length + h.definition_levels_byte_length;
      const payload = body.subarray(skip);
      values = h.is_compressed === false ? payload : decompressPage(payload, header.uncompressed_page_size - skip, codec, undefined);
      count = h.num_values;
    } else if (header.type === 'DATA_PAGE') {
      const h = header.data_page_header!;
      if (h.encoding !== 'PLAIN') return null;
      const page = decompressPage(body, header.uncompressed_page_size, codec, undefined);
      const view = new DataView(page.buffer, page.byteOffset, page.byteLength);
      // v1: repetition then definition levels, each as a 4-byte length and RLE data
      let o = 0;
      for (let k = 0; k < 2; k++) o += 4 + view.getUint32(o, true);
      values = page.subarray(o);
      count = h.num_values;
    } else {
      return null;
    }
    if (values.byteLength < count * width) return null;
    if (written + count > out.length) return written + count;
    if (type === 'FLOAT') {
      if (values.byteOffset % 4 === 0) out.set(new Float32Array(values.buffer, values.byteOffset, count), written);
      else out.set(new Float32Array(Uint8Array.from(values.subarray(0, count * 4)).buffer), written);
    } else {
      const d = values.byteOffset % 8 === 0 ? new Float64Array(values.buffer, values.byteOffset, count) : new Float64Array(Uint8Array.from(values.subarray(0, count * 8)).buffer);
      out.set(d, written);
    }
    written += count;
  }
  return written;
}
