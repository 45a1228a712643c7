// Fast decoding of LIST<float>/LIST<double> column chunks (PLAIN values, RLE/bit-packed levels) into one typed array plus row offsets, with hyparquet as the fallback.
import { readSync } from 'node:fs';
import { endianness } from 'node:os';
import type { ColumnChunk, ColumnMetaData, CompressionCodec, FileMetaData, SchemaTree } from 'hyparquet';
import { parquetHeader, readColumn } from 'hyparquet/src/column.js';
import { DEFAULT_PARSERS } from 'hyparquet/src/convert.js';
import { decompressPage } from 'hyparquet/src/datapage.js';
import { parquetSchema } from 'hyparquet/src/metadata.js';
import { getTreePath } from 'hyparquet/src/schema.js';
import { parquetCompressors } from './codecs.js';

const LITTLE_ENDIAN = endianness() === 'LE';

/** A decoded list column chunk: every value in one typed array, row `i` is `values[offsets[i] .. offsets[i + 1])`. */
export interface ListChunk {
  values: Float32Array | Float64Array;
  /** numRows + 1 entries. */
  offsets: Int32Array;
}

/** Shape of a list column's schema path that {@link decodeListChunk} accepts. */
export interface ListLevels {
  maxRepetitionLevel: number;
  maxDefinitionLevel: number;
}

/** Repetition/definition level maxima of a column from its schema path (root first). */
export function listLevels(schemaPath: readonly SchemaTree[]): ListLevels {
  let rep = 0;
  let def = 0;
  for (const node of schemaPath.slice(1)) {
    if (node.element.repetition_type === 'REPEATED') rep++;
    if (node.element.repetition_type !== 'REQUIRED') def++;
  }
  return { maxRepetitionLevel: rep, maxDefinitionLevel: def };
}

function readVarInt(bytes: Uint8Array, pos: { o: number }): number {
  let result = 0;
  let shift = 0;
  for (;;) {
    const b = bytes[pos.o++];
    if (b === undefined) throw new RangeError('varint past the end of the level data');
    result += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) return result;
    shift += 7;
  }
}

/**
 * Walk an RLE/bit-packed hybrid run stream of `count` levels in `bytes[start, end)`, calling
 * `run(value, n)` for each run (bit-packed groups one value at a time, equal neighbours merged).
 * Returns false if the data end before `count` levels.
 */
function walkLevels(
  bytes: Uint8Array,
  start: number,
  end: number,
  bitWidth: number,
  count: number,
  run: (value: number, n: number) => void,
): boolean {
  const pos = { o: start };
  const width = (bitWidth + 7) >> 3;
  const mask = (1 << bitWidth) - 1;
  let seen = 0;
  let pendingValue = -1;
  let pendingCount = 0;
  const emit = (v: number, n: number) => {
    if (v === pendingValue) pendingCount += n;
    else {
      if (pendingCount) run(pendingValue, pendingCount);
      pendingValue = v;
      pendingCount = n;
    }
  };
  while (seen < count) {
    if (pos.o >= end) return false;
    const header = readVarInt(bytes, pos);
    if (header & 1) {
      const groups = Math.floor(header / 2);
      const nBytes = groups * bitWidth;
      if (pos.o + nBytes > end) return false;
      let n = Math.min(groups * 8, count - seen);
      let bitPos = 0;
      const base = pos.o;
      while (n-- > 0) {
        let v = 0;
        for (let b = 0; b < bitWidth; b++, bitPos++)
          v |= ((bytes[base + (bitPos >> 3)] >> (bitPos & 7)) & 1) << b;
        emit(v & mask, 1);
        seen++;
      }
      pos.o = base + nBytes;
    } else {
      const n = Math.min(Math.floor(header / 2), count - seen);
      let v = 0;
      for (let b = 0; b < width; b++) v |= bytes[pos.o++] << (8 * b);
      if (n > 0) emit(v, n);
      seen += n;
    }
  }
  if (pendingCount) run(pendingValue, pendingCount);
  return true;
}

/** Decompress a page with {@link parquetCompressors}; null for a codec none of them handles (LZO). */
function tryDecompress(bytes: Uint8Array, size: number, codec: CompressionCodec): Uint8Array | null {
  if (codec !== 'UNCOMPRESSED' && !parquetCompressors[codec]) return null;
  return decompressPage(bytes, size, codec, parquetCompressors);
}

function bitWidthOf(maxLevel: number): number {
  return maxLevel === 0 ? 0 : 32 - Math.clz32(maxLevel);
}

/**
 * Decode one column chunk (its bytes from the first page header to the end of the chunk) of a
 * one-level list of FLOAT or DOUBLE with no null or empty lists and no null elements: PLAIN
 * values in DATA_PAGE (v1) or DATA_PAGE_V2 pages, levels RLE/bit-packed hybrid, UNCOMPRESSED or
 * any codec of {@link parquetCompressors}. Returns null when the chunk needs the generic reader
 * (dictionary or other encodings, nulls, empty lists, nested lists, a big-endian host).
 */
export function decodeListChunk(
  bytes: Uint8Array,
  md: ColumnMetaData,
  levels: ListLevels,
  numRows: number,
): ListChunk | null {
  if (
    (md.type !== 'FLOAT' && md.type !== 'DOUBLE') ||
    levels.maxRepetitionLevel !== 1 ||
    md.dictionary_page_offset !== undefined ||
    !LITTLE_ENDIAN
  )
    return null;
  const width = md.type === 'FLOAT' ? 4 : 8;
  const total = Number(md.num_values);
  const values = md.type === 'FLOAT' ? new Float32Array(total) : new Float64Array(total);
  const out = new Uint8Array(values.buffer);
  const offsets = new Int32Array(numRows + 1);
  const repWidth = bitWidthOf(levels.maxRepetitionLevel);
  const defWidth = bitWidthOf(levels.maxDefinitionLevel);
  const maxDef = levels.maxDefinitionLevel;
  let row = 0;
  let written = 0;
  let ok = true;
  // level index k within the chunk = value index (no nulls): rep 0 starts a row
  let k = 0;
  const onRep = (v: number, n: number) => {
    if (v === 0) {
      if (row + n > numRows) {
        ok = false;
        return;
      }
      for (let i = 0; i < n; i++) offsets[row++] = k + i;
    } else if (v !== 1) ok = false;
    k += n;
  };
  const onDef = (v: number) => {
    if (v !== maxDef) ok = false;
  };
  const reader = { view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), offset: 0 };
  while (reader.offset < bytes.byteLength - 1) {
    const header = parquetHeader(reader);
    const bodyStart = reader.offset;
    const body = bytes.subarray(bodyStart, bodyStart + header.compressed_page_size);
    reader.offset += header.compressed_page_size;
    let page: Uint8Array;
    let repStart: number;
    let repEnd: number;
    let defStart: number;
    let defEnd: number;
    let valuesStart: number;
    let count: number;
    if (header.type === 'DATA_PAGE_V2') {
      const h = header.data_page_header_v2!;
      if (h.encoding !== 'PLAIN' || h.num_nulls !== 0) return null;
      count = h.num_values;
      const levelBytes = h.repetition_levels_byte_length + h.definition_levels_byte_length;
      const payload = body.subarray(levelBytes);
      const data =
        h.is_compressed === false
          ? payload
          : tryDecompress(payload, header.uncompressed_page_size - levelBytes, md.codec);
      if (!data) return null;
      repStart = 0;
      repEnd = h.repetition_levels_byte_length;
      defStart = repEnd;
      defEnd = levelBytes;
      page = body;
      if (data.byteLength < count * width) return null;
      if (
        !walkLevels(page, repStart, repEnd, repWidth, count, onRep) ||
        !walkLevels(page, defStart, defEnd, defWidth, count, onDef) ||
        !ok
      )
        return null;
      if (written + count > total) return null;
      out.set(data.subarray(0, count * width), written * width);
      written += count;
      continue;
    } else if (header.type === 'DATA_PAGE') {
      const h = header.data_page_header!;
      if (
        h.encoding !== 'PLAIN' ||
        h.repetition_level_encoding !== 'RLE' ||
        h.definition_level_encoding !== 'RLE'
      )
        return null;
      count = h.num_values;
      const p = tryDecompress(body, header.uncompressed_page_size, md.codec);
      if (!p) return null;
      page = p;
      const view = new DataView(page.buffer, page.byteOffset, page.byteLength);
      repStart = 4;
      repEnd = repStart + view.getUint32(0, true);
      if (defWidth > 0) {
        defStart = repEnd + 4;
        defEnd = defStart + view.getUint32(repEnd, true);
      } else {
        defStart = defEnd = repEnd;
      }
      valuesStart = defEnd;
    } else if (header.type === 'INDEX_PAGE') {
      continue;
    } else {
      return null;
    }
    if (page.byteLength - valuesStart < count * width) return null;
    if (
      !walkLevels(page, repStart, repEnd, repWidth, count, onRep) ||
      (defWidth > 0 && !walkLevels(page, defStart, defEnd, defWidth, count, onDef)) ||
      !ok
    )
      return null;
    if (written + count > total) return null;
    out.set(page.subarray(valuesStart, valuesStart + count * width), written * width);
    written += count;
  }
  if (written !== total || row !== numRows) return null;
  offsets[numRows] = written;
  return { values, offsets };
}

/** The chunk of top-level column `column` in row group `rowGroup`, which must have a single leaf. */
export function listColumnChunk(
  metadata: FileMetaData,
  rowGroup: number,
  column: string,
  where: string,
): ColumnChunk {
  const rg = metadata.row_groups[rowGroup];
  if (!rg) throw new RangeError(`${where}: no row group ${rowGroup}`);
  const chunks = rg.columns.filter((c) => c.meta_data?.path_in_schema[0] === column);
  if (chunks.length !== 1 || !chunks[0].meta_data)
    throw new Error(`${where}: row group ${rowGroup} has no single-leaf column "${column}"`);
  return chunks[0];
}

/** Byte range of a column chunk (dictionary page first if any). */
export function chunkRange(md: ColumnMetaData): { start: number; end: number } {
  const start = Number(md.dictionary_page_offset ?? md.data_page_offset);
  return { start, end: start + Number(md.total_compressed_size) };
}

/** Decode a list column chunk with hyparquet's generic reader (any encoding, nulls -> NaN). */
export function decodeListChunkGeneric(
  bytes: Uint8Array,
  md: ColumnMetaData,
  schemaPath: SchemaTree[],
  numRows: number,
  where: string,
): ListChunk {
  const decoder = {
    pathInSchema: md.path_in_schema,
    element: schemaPath[schemaPath.length - 1].element,
    schemaPath,
    type: md.type,
    codec: md.codec as CompressionCodec,
    parsers: DEFAULT_PARSERS,
    compressors: parquetCompressors,
  };
  // a copy: `bytes` may be a view into a larger (pooled) buffer
  const ab = new Uint8Array(bytes).buffer;
  const { data } = readColumn(
    { view: new DataView(ab), offset: 0 },
    { groupStart: 0, selectStart: 0, selectEnd: numRows, groupRows: numRows },
    decoder,
  );
  // readColumn nests each row once per optional/repeated level: flatten a row's values in order, null elements -> NaN
  const rows: number[][] = [];
  const flatten = (x: unknown, out: number[]) => {
    if (Array.isArray(x)) for (const y of x) flatten(y, out);
    else if (x !== undefined && x !== null && typeof x === 'object' && 'length' in x)
      for (const y of Array.from(x as ArrayLike<number>)) out.push(y);
    else out.push(x === null || x === undefined ? NaN : Number(x));
  };
  for (const part of data) {
    for (const row of part as unknown as unknown[]) {
      const out: number[] = [];
      if (row !== null && row !== undefined) flatten(row, out);
      rows.push(out);
    }
  }
  if (rows.length !== numRows)
    throw new Error(`${where}: decoded ${rows.length} rows of ${md.path_in_schema[0]}, expected ${numRows}`);
  const offsets = new Int32Array(numRows + 1);
  for (let i = 0; i < numRows; i++) offsets[i + 1] = offsets[i] + rows[i].length;
  const values =
    md.type === 'FLOAT' ? new Float32Array(offsets[numRows]) : new Float64Array(offsets[numRows]);
  rows.forEach((r, i) => values.set(r, offsets[i]));
  return { values, offsets };
}

/** Which decoder handled a chunk (the fast path skips hyparquet's level and list assembly). */
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

/**
 * Decode a list chunk from its raw bytes: the fast path when possible, else hyparquet. Every
 * list must have `nPixels` values (if given). Result as one row-major Float32Array.
 */
export function decodeFixedListChunk(
  bytes: Uint8Array,
  md: ColumnMetaData,
  schemaPath: SchemaTree[],
  numRows: number,
  nPixels: number | undefined,
  where: string,
): { flux: Float32Array; nPixels: number; path: FluxDecodePath } {
  let path: FluxDecodePath = 'fast';
  let chunk = decodeListChunk(bytes, md, listLevels(schemaPath), numRows);
  if (!chunk) {
    path = 'generic';
    chunk = decodeListChunkGeneric(bytes, md, schemaPath, numRows, where);
  }
  const { values, offsets } = chunk;
  const n = nPixels ?? (numRows ? offsets[1] - offsets[0] : 0);
  for (let i = 0; i < numRows; i++) {
    const len = offsets[i + 1] - offsets[i];
    if (len !== n)
      throw new Error(`${where} row ${i}: ${md.path_in_schema[0]} has ${len} values, expected ${n}`);
  }
  const flux = values instanceof Float32Array ? values : Float32Array.from(values);
  return { flux, nPixels: n, path };
}

/**
 * Synchronously decode the list column `column` of row group `rowGroup`, every list of length
 * `nPixels`, into a row-major Float32Array [numRows * nPixels]. Standard LISTs of PLAIN
 * FLOAT/DOUBLE values with RLE/bit-packed levels and no nulls take the fast path (levels walked
 * run by run, values copied in one block); anything else goes through hyparquet's generic reader.
 */
export function decodeFluxRowGroup(
  file: FluxFile,
  rowGroup: number,
  column: string,
  nPixels: number,
): { flux: Float32Array; path: FluxDecodePath } {
  const where = `${file.path}: row group ${rowGroup}`;
  const md = listColumnChunk(file.metadata, rowGroup, column, file.path).meta_data!;
  const numRows = Number(file.metadata.row_groups[rowGroup].num_rows);
  const { start, end } = chunkRange(md);
  const bytes = readBytes(file.fd, start, end - start);
  const { flux, path } = decodeFixedListChunk(
    bytes,
    md,
    getTreePath(file.schema, md.path_in_schema),
    numRows,
    nPixels,
    where,
  );
  return { flux, path };
}
