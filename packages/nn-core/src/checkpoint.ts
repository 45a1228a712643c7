// Checkpoint files: safetensors layout with a self-verifying sha256, written atomically.
import { createHash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import { sha256Hex, writeFileAtomic } from '@stellar-emu/grid-io';

/**
 * Checkpoint format (`*.safetensors`, readable by Python's `safetensors` package):
 *
 *   bytes 0..8      header length N, unsigned 64-bit little-endian
 *   bytes 8..8+N    UTF-8 JSON header, space-padded to a multiple of 8 bytes:
 *                   {"__metadata__": {"sha256": "<64 hex>", "format": "stellar-emu/1",
 *                                     "kind": "...", "state": "<JSON text>"},
 *                    "<tensor name>": {"dtype": "F32", "shape": [...], "data_offsets": [b, e]}, ...}
 *   bytes 8+N..     raw little-endian tensor data; offsets are relative to this point
 *
 * `__metadata__` is the first key and `sha256` its first entry, so the checksum sits at a fixed
 * byte offset (27..91). It is the sha256 of the whole file with those 64 characters replaced by
 * ASCII '0'. All metadata values are strings, as the safetensors specification requires.
 */
export const CHECKPOINT_FORMAT = 'stellar-emu/1';
const SHA_PREFIX = '{"__metadata__":{"sha256":"';
const SHA_OFFSET = 8 + SHA_PREFIX.length;
const ZERO_SHA = '0'.repeat(64);

/** Supported tensor dtypes (safetensors names). */
export type TensorDtype = 'F32' | 'F64' | 'I32';

/** Tensor data on the host. */
export type TensorData = Float32Array | Float64Array | Int32Array;

/**
 * One tensor to store: dtype, shape and its data — the values, or a function that returns them.
 * A function is called once, when the tensor's bytes are written, and its result is dropped
 * right after: {@link writeCheckpoint} then holds one tensor at a time in host memory (a model's
 * variables are read one by one, not all copied out first).
 */
export interface StoredTensor {
  dtype?: TensorDtype;
  shape: number[];
  data: TensorData | (() => TensorData);
}

/** Error for a missing, truncated, corrupt or incompatible checkpoint. */
export class CheckpointError extends Error {
  constructor(
    readonly path: string,
    /** What is wrong, without the `checkpoint <path>: ` prefix. */
    readonly detail: string,
  ) {
    super(`checkpoint ${path}: ${detail}`);
    this.name = 'CheckpointError';
  }
}

const DTYPE_OF_ARRAY: [new (...a: any[]) => TensorData, TensorDtype][] = [
  [Float64Array, 'F64'],
  [Int32Array, 'I32'],
  [Float32Array, 'F32'],
];
const BYTES: Record<TensorDtype, number> = { F32: 4, F64: 8, I32: 4 };

function dtypeOfArray(data: TensorData): TensorDtype {
  for (const [C, d] of DTYPE_OF_ARRAY) if (data instanceof C) return d;
  return 'F32';
}

/** The tensor's values as bytes, checked against its shape and dtype. */
function tensorBytes(name: string, t: StoredTensor, dtype: TensorDtype): Buffer {
  const data = typeof t.data === 'function' ? t.data() : t.data;
  const n = t.shape.reduce((a, b) => a * b, 1);
  if (n !== data.length)
    throw new Error(`tensor '${name}': shape [${t.shape}] has ${n} elements, data has ${data.length}`);
  if (dtypeOfArray(data) !== dtype)
    throw new Error(`tensor '${name}': declared ${dtype}, data is ${dtypeOfArray(data)}`);
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/**
 * The file's layout before any tensor is read: the length prefix and the header (with the
 * checksum zeroed), and each tensor's name, dtype and byte length in file order. Shapes and
 * dtypes are known without the data (a lazy tensor without `dtype` is F32).
 */
function planCheckpoint(
  tensors: Map<string, StoredTensor>,
  kind: string,
  state: unknown,
): { head: Buffer; entries: { name: string; dtype: TensorDtype; t: StoredTensor }[] } {
  const header: Record<string, unknown> = {
    __metadata__: { sha256: ZERO_SHA, format: CHECKPOINT_FORMAT, kind, state: JSON.stringify(state) },
  };
  let offset = 0;
  const entries: { name: string; dtype: TensorDtype; t: StoredTensor }[] = [];
  for (const [name, t] of tensors) {
    if (name === '__metadata__') throw new Error('tensor name __metadata__ is reserved');
    const dtype = t.dtype ?? (typeof t.data === 'function' ? 'F32' : dtypeOfArray(t.data));
    const bytes = t.shape.reduce((a, b) => a * b, 1) * BYTES[dtype];
    header[name] = { dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    entries.push({ name, dtype, t });
    offset += bytes;
  }
  let json = JSON.stringify(header);
  const pad = (8 - ((Buffer.byteLength(json) + 8) % 8)) % 8;
  json += ' '.repeat(pad);
  const headerBytes = Buffer.from(json, 'utf8');
  const lenBytes = Buffer.alloc(8);
  lenBytes.writeBigUInt64LE(BigInt(headerBytes.length));
  return { head: Buffer.concat([lenBytes, headerBytes]), entries };
}

/** Serialize tensors and metadata (`kind` plus a JSON-able `state`) to checkpoint bytes in memory (small checkpoints, tests; files: {@link writeCheckpoint}). */
export function encodeCheckpoint(tensors: Map<string, StoredTensor>, kind: string, state: unknown): Buffer {
  const { head, entries } = planCheckpoint(tensors, kind, state);
  const file = Buffer.concat([head, ...entries.map((e) => tensorBytes(e.name, e.t, e.dtype))]);
  file.write(sha256Hex(file), SHA_OFFSET, 'ascii');
  return file;
}

/** A decoded checkpoint. */
export interface DecodedCheckpoint {
  kind: string;
  state: any;
  tensors: Map<string, { dtype: TensorDtype; shape: number[]; data: TensorData }>;
}

interface ParsedHeader {
  meta: { kind: string; state: string; format: string };
  /** Tensors sorted by their offset in the data section. */
  tensors: { name: string; dtype: TensorDtype; shape: number[]; begin: number; end: number }[];
  /** Byte offset of the data section in the file. */
  dataStart: number;
  /** The stored checksum. */
  stored: string;
}

/** Bytes before any header field, the smallest checkpoint there is. */
const FIXED_BYTES = 8 + SHA_PREFIX.length + 64;

/**
 * The header length stored in the first 8 bytes of `prefix` (at least {@link FIXED_BYTES} of a
 * file of `fileSize` bytes), checked against the file size.
 */
function headerLength(prefix: Buffer, fileSize: number, path: string): number {
  if (fileSize < FIXED_BYTES) throw new CheckpointError(path, `file is truncated (${fileSize} bytes)`);
  const headerLen = Number(prefix.readBigUInt64LE(0));
  if (headerLen > fileSize - 8)
    throw new CheckpointError(
      path,
      `header length ${headerLen} exceeds the file size (${fileSize} bytes): truncated or not a checkpoint`,
    );
  return headerLen;
}

/**
 * Check the fixed prefix and parse the header of a checkpoint of `fileSize` bytes whose first
 * bytes are `prefix` (at least the length field, the sha256 entry and the header, when the file
 * has them). The checksum is not checked here.
 */
function parseHeader(prefix: Buffer, fileSize: number, path: string): ParsedHeader {
  const headerLen = headerLength(prefix, fileSize, path);
  if (prefix.toString('utf8', 8, SHA_OFFSET) !== SHA_PREFIX)
    throw new CheckpointError(
      path,
      'not a stellar-emu checkpoint (header does not start with __metadata__.sha256)',
    );
  const stored = prefix.toString('ascii', SHA_OFFSET, SHA_OFFSET + 64);
  let header: Record<string, any>;
  try {
    header = JSON.parse(prefix.toString('utf8', 8, 8 + headerLen));
  } catch (err) {
    throw new CheckpointError(path, `header is not valid JSON: ${(err as Error).message}`);
  }
  const meta = header.__metadata__;
  const dataStart = 8 + headerLen;
  const tensors: ParsedHeader['tensors'] = [];
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const [begin, end] = info.data_offsets as [number, number];
    const dtype = info.dtype as TensorDtype;
    if (!(dtype in BYTES)) throw new CheckpointError(path, `tensor '${name}' has unsupported dtype ${dtype}`);
    if (!(begin >= 0 && end >= begin && dataStart + end <= fileSize && (end - begin) % BYTES[dtype] === 0))
      throw new CheckpointError(
        path,
        `tensor '${name}' spans bytes [${begin}, ${end}) of a ${fileSize - dataStart}-byte data section: truncated or corrupt`,
      );
    tensors.push({ name, dtype, shape: info.shape, begin, end });
  }
  tensors.sort((a, b) => a.begin - b.begin);
  return { meta, tensors, dataStart, stored };
}

/** The stored and the computed checksum must agree, and the format must be this one; else a CheckpointError. */
function checkVerified(h: ParsedHeader, actual: string, path: string): void {
  if (actual !== h.stored)
    throw new CheckpointError(
      path,
      `checksum mismatch (stored ${h.stored.slice(0, 12)}…, computed ${actual.slice(0, 12)}…): the file is corrupt`,
    );
  if (h.meta.format !== CHECKPOINT_FORMAT)
    throw new CheckpointError(path, `format '${h.meta.format}' is not '${CHECKPOINT_FORMAT}'`);
}

function typedArrayOf(
  dtype: TensorDtype,
  buffer: ArrayBuffer,
  byteOffset: number,
  bytes: number,
): TensorData {
  const n = bytes / BYTES[dtype];
  return dtype === 'F64'
    ? new Float64Array(buffer, byteOffset, n)
    : dtype === 'I32'
      ? new Int32Array(buffer, byteOffset, n)
      : new Float32Array(buffer, byteOffset, n);
}

/** Parse and verify checkpoint bytes; throws CheckpointError on any inconsistency. */
export function decodeCheckpoint(file: Buffer, path = '<buffer>'): DecodedCheckpoint {
  const h = parseHeader(file, file.length, path);
  // the checksum covers the file with its own 64 characters read as '0': hash around them, no copy
  const actual = createHash('sha256')
    .update(file.subarray(0, SHA_OFFSET))
    .update(ZERO_SHA)
    .update(file.subarray(SHA_OFFSET + 64))
    .digest('hex');
  checkVerified(h, actual, path);
  const tensors: DecodedCheckpoint['tensors'] = new Map();
  for (const t of h.tensors) {
    const src = file.subarray(h.dataStart + t.begin, h.dataStart + t.end);
    // a view when aligned, else a copy (typed arrays need alignment)
    const data =
      src.byteOffset % BYTES[t.dtype] === 0
        ? typedArrayOf(t.dtype, src.buffer as ArrayBuffer, src.byteOffset, src.length)
        : typedArrayOf(t.dtype, new Uint8Array(src).buffer, 0, src.length);
    tensors.set(t.name, { dtype: t.dtype, shape: t.shape, data });
  }
  return { kind: h.meta.kind, state: JSON.parse(h.meta.state), tensors };
}

/**
 * Encode and atomically write a checkpoint (grid-io `writeFileAtomic`), streamed: the header
 * first, then one tensor at a time (a lazy tensor's data is read just before its bytes are
 * written and dropped after), then the checksum into its place in the header. Host memory is
 * one tensor, not the file. A failure leaves any earlier file at `path` as it was.
 */
export async function writeCheckpoint(
  path: string,
  tensors: Map<string, StoredTensor>,
  kind: string,
  state: unknown,
): Promise<void> {
  const { head, entries } = planCheckpoint(tensors, kind, state);
  await writeFileAtomic(path, async (fh) => {
    const hash = createHash('sha256').update(head);
    await writeAll(fh, head, 0);
    let at = head.length;
    for (const e of entries) {
      const bytes = tensorBytes(e.name, e.t, e.dtype);
      hash.update(bytes);
      await writeAll(fh, bytes, at);
      at += bytes.length;
    }
    await writeAll(fh, Buffer.from(hash.digest('hex'), 'ascii'), SHA_OFFSET);
  });
}

/** Write all of `buf` at `position` (in pieces of at most 1 GiB: one write call is limited to 2 GiB). */
async function writeAll(fh: FileHandle, buf: Uint8Array, position: number): Promise<void> {
  const PIECE = 2 ** 30;
  for (let off = 0; off < buf.length;) {
    const { bytesWritten } = await fh.write(buf, off, Math.min(PIECE, buf.length - off), position + off);
    off += bytesWritten;
  }
}

/** Read exactly `length` bytes at `position` into `buf` from `offset`; false when the file ends first. */
async function readExactly(
  fh: FileHandle,
  buf: Uint8Array,
  offset: number,
  length: number,
  position: number,
): Promise<boolean> {
  const PIECE = 2 ** 30;
  let done = 0;
  while (done < length) {
    const { bytesRead } = await fh.read(buf, offset + done, Math.min(PIECE, length - done), position + done);
    if (bytesRead === 0) return false;
    done += bytesRead;
  }
  return true;
}

/** Options of {@link readCheckpoint}. */
export interface ReadCheckpointOptions {
  /**
   * Read the tensors (default true). With false, the whole file is still verified (streamed
   * through the checksum in pieces of a few MiB) but `tensors` is empty: for callers that need
   * only the kind and the state.
   */
  tensors?: boolean;
}

/**
 * Read and verify a checkpoint, streamed: the header, then each tensor straight into its own
 * typed array (no copy of the whole file; files above 2 GiB read as well), every byte through
 * the checksum. A missing, truncated or corrupt file gives a CheckpointError.
 */
export async function readCheckpoint(
  path: string,
  opts: ReadCheckpointOptions = {},
): Promise<DecodedCheckpoint> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CheckpointError(
      path,
      code === 'ENOENT' ? 'file not found' : `cannot be read (${code ?? (err as Error).message})`,
    );
  }
  try {
    const size = (await fh.stat()).size;
    const fixed = Buffer.alloc(Math.min(size, FIXED_BYTES));
    await readExactly(fh, fixed, 0, fixed.length, 0);
    const headerLen = headerLength(fixed, size, path);
    const prefix = Buffer.alloc(Math.max(8 + headerLen, fixed.length));
    await readExactly(fh, prefix, 0, prefix.length, 0);
    const h = parseHeader(prefix, size, path);
    const hash = createHash('sha256')
      .update(prefix.subarray(0, SHA_OFFSET))
      .update(ZERO_SHA)
      .update(prefix.subarray(SHA_OFFSET + 64, h.dataStart));
    const tensors: DecodedCheckpoint['tensors'] = new Map();
    const scratch = Buffer.alloc(Math.min(8 * 2 ** 20, Math.max(1, size - h.dataStart)));
    // every byte from the data start to the end, in file order: tensors (kept when asked) and any gaps
    const hashSpan = async (from: number, to: number) => {
      for (let at = from; at < to; at += scratch.length) {
        const n = Math.min(scratch.length, to - at);
        if (!(await readExactly(fh, scratch, 0, n, at)))
          throw new CheckpointError(path, `file is truncated (ends before byte ${to})`);
        hash.update(scratch.subarray(0, n));
      }
    };
    let at = h.dataStart;
    for (const t of h.tensors) {
      const from = h.dataStart + t.begin;
      if (from > at) await hashSpan(at, from);
      const to = h.dataStart + t.end;
      if (opts.tensors === false) await hashSpan(Math.max(at, from), to);
      else {
        const bytes = t.end - t.begin;
        const data = typedArrayOf(t.dtype, new ArrayBuffer(bytes), 0, bytes);
        const view = new Uint8Array(data.buffer);
        if (!(await readExactly(fh, view, 0, bytes, from)))
          throw new CheckpointError(path, `file is truncated (tensor '${t.name}' ends past the end)`);
        hash.update(view);
        tensors.set(t.name, { dtype: t.dtype, shape: t.shape, data });
      }
      at = Math.max(at, to);
    }
    if (at < size) await hashSpan(at, size);
    checkVerified(h, hash.digest('hex'), path);
    return { kind: h.meta.kind, state: JSON.parse(h.meta.state), tensors };
  } finally {
    await fh.close();
  }
}
