// Streaming Parquet row-group writer on hyparquet-writer, with a fast path for LIST<float|double> columns.
import type { ColumnChunk, SchemaElement } from 'hyparquet';
import { endianness } from 'node:os';
import { fileWriter, ParquetWriter } from 'hyparquet-writer';
import { ByteWriter } from 'hyparquet-writer/src/bytewriter.js';
import { writeColumn } from 'hyparquet-writer/src/column.js';
import { writePageHeader } from 'hyparquet-writer/src/datapage.js';

const LITTLE_ENDIAN = endianness() === 'LE';
/** Longest RLE run written (its header, count << 1, must fit a 32-bit varint for every reader). */
const MAX_RUN = 2 ** 30;

/** Append an unsigned LEB128 varint. */
function pushVarInt(out: number[], value: number): void {
  while (value >= 0x80) {
    out.push((value % 0x80) | 0x80);
    value = Math.floor(value / 0x80);
  }
  out.push(value);
}

/** Append RLE runs (bit width 1: one value byte) of `count` copies of `value`. */
function pushRleRun(out: number[], value: 0 | 1, count: number): void {
  while (count > 0) {
    const n = Math.min(count, MAX_RUN);
    pushVarInt(out, n * 2);
    out.push(value);
    count -= n;
  }
}

/** Physical/logical type of one dataset column. */
export type ColumnKind = 'string' | 'int32' | 'double' | 'float' | 'boolean' | 'list<double>' | 'list<float>';

/** One column of a dataset file. */
export interface ColumnSpec {
  name: string;
  kind: ColumnKind;
  /** Allow nulls (flat columns only; list columns are required, their elements may be NaN). */
  nullable?: boolean;
}

function leafType(kind: ColumnKind): SchemaElement['type'] {
  switch (kind) {
    case 'string':
      return 'BYTE_ARRAY';
    case 'int32':
      return 'INT32';
    case 'double':
    case 'list<double>':
      return 'DOUBLE';
    case 'float':
    case 'list<float>':
      return 'FLOAT';
    case 'boolean':
      return 'BOOLEAN';
  }
}

/** The Parquet schema (standard 3-level LISTs, as pyarrow and DuckDB write them) for `columns`. */
export function parquetSchema(columns: readonly ColumnSpec[]): SchemaElement[] {
  const schema: SchemaElement[] = [{ name: 'root', num_children: columns.length }];
  for (const c of columns) {
    if (c.kind.startsWith('list<')) {
      schema.push({
        name: c.name,
        repetition_type: 'REQUIRED',
        converted_type: 'LIST',
        logical_type: { type: 'LIST' },
        num_children: 1,
      });
      schema.push({ name: 'list', repetition_type: 'REPEATED', num_children: 1 });
      schema.push({ name: 'element', type: leafType(c.kind), repetition_type: 'REQUIRED' });
    } else {
      const el: SchemaElement = {
        name: c.name,
        type: leafType(c.kind),
        repetition_type: c.nullable ? 'OPTIONAL' : 'REQUIRED',
      };
      if (c.kind === 'string') {
        el.converted_type = 'UTF8';
        el.logical_type = { type: 'STRING' };
      }
      schema.push(el);
    }
  }
  return schema;
}

/** Column values of one row group: flat columns as plain arrays, list columns as arrays of number arrays. */
export type RowGroupData = Record<string, unknown[]>;

/**
 * Writes a Parquet file one row group at a time: the caller holds one row group, never the
 * dataset. Flat columns go through hyparquet-writer's encoder (dictionary and statistics);
 * list columns are written directly as one standard DATA_PAGE_V2 per chunk: levels as a few
 * RLE runs per row (repetition 0 then n - 1 ones, definition all 1), values PLAIN from one
 * typed-array copy (NaN preserved). pyarrow, DuckDB and hyparquet read them as any LIST.
 */
export class ParquetStreamWriter {
  private readonly pw: ParquetWriter;
  private readonly schema: SchemaElement[];
  private readonly paths: SchemaElement[][];
  private readonly listCodec: 'SNAPPY' | 'UNCOMPRESSED';

  constructor(
    path: string,
    private readonly columns: readonly ColumnSpec[],
    opts: { kvMetadata?: { key: string; value: string }[]; listCodec?: 'SNAPPY' | 'UNCOMPRESSED' } = {},
  ) {
    this.listCodec = opts.listCodec ?? 'SNAPPY';
    this.schema = parquetSchema(columns);
    this.paths = [];
    let k = 1;
    for (const c of columns) {
      if (c.kind.startsWith('list<')) {
        this.paths.push([this.schema[0], this.schema[k], this.schema[k + 1], this.schema[k + 2]]);
        k += 3;
      } else {
        this.paths.push([this.schema[0], this.schema[k]]);
        k += 1;
      }
    }
    this.pw = new ParquetWriter({
      writer: fileWriter(path),
      schema: this.schema,
      codec: 'SNAPPY',
      kvMetadata: opts.kvMetadata,
      createdBy: 'stellar-emu grid-io (hyparquet-writer)',
    });
  }

  /** Append one row group; every column must have the same number of rows. */
  writeRowGroup(data: RowGroupData): void {
    const nRows = data[this.columns[0].name]?.length ?? 0;
    if (nRows === 0) return;
    const start = this.pw.writer.offset;
    const chunks: ColumnChunk[] = [];
    this.columns.forEach((c, j) => {
      const values = data[c.name];
      if (!values || values.length !== nRows)
        throw new Error(
          `parquet row group: column ${c.name} has ${values?.length ?? 0} rows, expected ${nRows}`,
        );
      const schemaPath = this.paths[j];
      const element = schemaPath[schemaPath.length - 1];
      if (c.kind.startsWith('list<')) {
        chunks.push(this.writeListChunk(c, values as ArrayLike<number>[], schemaPath));
        return;
      }
      const pageData = c.nullable
        ? {
            values: values as never[],
            definitionLevels: values.map((v) => (v === null || v === undefined ? 0 : 1)),
            repetitionLevels: [],
            maxDefinitionLevel: 1,
          }
        : { values: values as never[], definitionLevels: [], repetitionLevels: [], maxDefinitionLevel: 0 };
      const result = writeColumn({
        writer: this.pw.writer,
        column: {
          columnName: schemaPath
            .slice(1)
            .map((s) => s.name)
            .join('.'),
          element,
          schemaPath,
          codec: this.pw.codec,
          compressors: this.pw.compressors,
          stats: true,
          pageSize: 1 << 20,
          columnIndex: false,
          offsetIndex: true,
        },
        pageData,
      });
      chunks.push(result.chunk);
      this.pw.pendingIndexes.push(result);
    });
    let totalByteSize = 0n;
    for (const ch of chunks) totalByteSize += ch.meta_data?.total_uncompressed_size ?? 0n;
    this.pw.num_rows += BigInt(nRows);
    this.pw.row_groups.push({
      columns: chunks,
      total_byte_size: totalByteSize,
      num_rows: BigInt(nRows),
      total_compressed_size: BigInt(this.pw.writer.offset - start),
    });
    void this.pw.writer.flush?.();
  }

  /** One list column chunk: a single DATA_PAGE_V2, RLE levels, PLAIN values. */
  private writeListChunk(c: ColumnSpec, rows: ArrayLike<number>[], schemaPath: SchemaElement[]): ColumnChunk {
    const writer = this.pw.writer;
    const isFloat = c.kind === 'list<float>';
    const width = isFloat ? 4 : 8;
    let total = 0;
    const rep: number[] = [];
    for (const v of rows) {
      const n = v?.length ?? 0;
      if (n === 0) throw new Error(`parquet row group: empty list in column ${c.name}`);
      pushRleRun(rep, 0, 1);
      if (n > 1) pushRleRun(rep, 1, n - 1);
      total += n;
    }
    const def: number[] = [];
    pushRleRun(def, 1, total);
    const raw = new Uint8Array(total * width);
    const flat = isFloat ? new Float32Array(raw.buffer) : new Float64Array(raw.buffer);
    let o = 0;
    for (const v of rows) {
      flat.set(v, o);
      o += v.length;
    }
    if (!LITTLE_ENDIAN) {
      const view = new DataView(raw.buffer);
      for (let i = 0; i < total; i++) {
        if (isFloat) view.setFloat32(i * 4, flat[i], true);
        else view.setFloat64(i * 8, flat[i], true);
      }
    }
    const codec = this.listCodec;
    const data = codec === 'UNCOMPRESSED' ? raw : this.pw.compressors[codec]!(raw);
    const levels = Uint8Array.from([...rep, ...def]);
    const offsetStart = writer.offset;
    const header = new ByteWriter(64);
    writePageHeader(header, {
      type: 'DATA_PAGE_V2',
      uncompressed_page_size: levels.length + raw.length,
      compressed_page_size: levels.length + data.length,
      data_page_header_v2: {
        num_values: total,
        num_nulls: 0,
        num_rows: rows.length,
        encoding: 'PLAIN',
        definition_levels_byte_length: def.length,
        repetition_levels_byte_length: rep.length,
        is_compressed: codec !== 'UNCOMPRESSED',
      },
    });
    writer.appendBytes(header.getBytes());
    writer.appendBytes(levels);
    writer.appendBytes(data);
    return {
      meta_data: {
        type: leafType(c.kind)!,
        encodings: ['PLAIN', 'RLE'],
        path_in_schema: schemaPath.slice(1).map((s) => s.name),
        codec,
        num_values: BigInt(total),
        total_compressed_size: BigInt(writer.offset - offsetStart),
        total_uncompressed_size: BigInt(header.offset + levels.length + raw.length),
        data_page_offset: BigInt(offsetStart),
      },
      file_offset: BigInt(offsetStart),
    };
  }

  /** Write the footer and close the file. */
  async finish(): Promise<void> {
    await this.pw.finish();
  }
}
