// Checkpoint files: safetensors layout with a self-verifying sha256, written atomically.
import { readFile } from 'node:fs/promises';
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

/** One tensor to store: dtype, shape and its data. */
export interface StoredTensor {
  dtype?: TensorDtype;
  shape: number[];
  data: Float32Array | Float64Array | Int32Array;
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

function dtypeOf(t: StoredTensor): TensorDtype {
  if (t.dtype) return t.dtype;
  if (t.data instanceof Float64Array) return 'F64';
  if (t.data instanceof Int32Array) return 'I32';
  return 'F32';
}

/** Serialize tensors and metadata (`kind` plus a JSON-able `state`) to checkpoint bytes. */
export function encodeCheckpoint(tensors: Map<string, StoredTensor>, kind: string, state: unknown): Buffer {
  const header: Record<string, unknown> = {
    __metadata__: { sha256: ZERO_SHA, format: CHECKPOINT_FORMAT, kind, state: JSON.stringify(state) },
  };
  let offset = 0;
  const chunks: Buffer[] = [];
  for (const [name, t] of tensors) {
    if (name === '__metadata__') throw new Error('tensor name __metadata__ is reserved');
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (n !== t.data.length)
      throw new Error(`tensor '${name}': shape [${t.shape}] has ${n} elements, data has ${t.data.length}`);
    const bytes = Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    header[name] = { dtype: dtypeOf(t), shape: t.shape, data_offsets: [offset, offset + bytes.length] };
    chunks.push(bytes);
    offset += bytes.length;
  }
  let json = JSON.stringify(header);
  const pad = (8 - ((Buffer.byteLength(json) + 8) % 8)) % 8;
  json += ' '.repeat(pad);
  const headerBytes = Buffer.from(json, 'utf8');
  const lenBytes = Buffer.alloc(8);
  lenBytes.writeBigUInt64LE(BigInt(headerBytes.length));
  const file = Buffer.concat([lenBytes, headerBytes, ...chunks]);
  const sha = sha256Hex(file);
  file.write(sha, SHA_OFFSET, 'ascii');
  return file;
}

/** A decoded checkpoint. */
export interface DecodedCheckpoint {
  kind: string;
  state: any;
  tensors: Map<
    string,
    { dtype: TensorDtype; shape: number[]; data: Float32Array | Float64Array | Int32Array }
  >;
}

/** Parse and verify checkpoint bytes; throws CheckpointError on any inconsistency. */
export function decodeCheckpoint(file: Buffer, path = '<buffer>'): DecodedCheckpoint {
  if (file.length < 8 + SHA_PREFIX.length + 64)
    throw new CheckpointError(path, `file is truncated (${file.length} bytes)`);
  const headerLen = Number(file.readBigUInt64LE(0));
  if (headerLen > file.length - 8)
    throw new CheckpointError(
      path,
      `header length ${headerLen} exceeds the file size (${file.length} bytes): truncated or not a checkpoint`,
    );
  if (file.toString('utf8', 8, SHA_OFFSET) !== SHA_PREFIX)
    throw new CheckpointError(
      path,
      'not a stellar-emu checkpoint (header does not start with __metadata__.sha256)',
    );
  const stored = file.toString('ascii', SHA_OFFSET, SHA_OFFSET + 64);
  const copy = Buffer.from(file);
  copy.write(ZERO_SHA, SHA_OFFSET, 'ascii');
  const actual = sha256Hex(copy);
  if (actual !== stored)
    throw new CheckpointError(
      path,
      `checksum mismatch (stored ${stored.slice(0, 12)}…, computed ${actual.slice(0, 12)}…): the file is corrupt`,
    );
  let header: Record<string, any>;
  try {
    header = JSON.parse(file.toString('utf8', 8, 8 + headerLen));
  } catch (err) {
    throw new CheckpointError(path, `header is not valid JSON: ${(err as Error).message}`);
  }
  const meta = header.__metadata__;
  if (meta.format !== CHECKPOINT_FORMAT)
    throw new CheckpointError(path, `format '${meta.format}' is not '${CHECKPOINT_FORMAT}'`);
  const dataStart = 8 + headerLen;
  const tensors: DecodedCheckpoint['tensors'] = new Map();
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const [b, e] = info.data_offsets as [number, number];
    const bytes = file.subarray(dataStart + b, dataStart + e);
    const aligned = new Uint8Array(bytes).buffer; // copy: typed arrays need alignment
    const dtype = info.dtype as TensorDtype;
    const data =
      dtype === 'F64'
        ? new Float64Array(aligned)
        : dtype === 'I32'
          ? new Int32Array(aligned)
          : new Float32Array(aligned);
    tensors.set(name, { dtype, shape: info.shape, data });
  }
  return { kind: meta.kind, state: JSON.parse(meta.state), tensors };
}

/** Encode and atomically write a checkpoint (grid-io `writeFileAtomic`). */
export async function writeCheckpoint(
  path: string,
  tensors: Map<string, StoredTensor>,
  kind: string,
  state: unknown,
): Promise<void> {
  await writeFileAtomic(path, encodeCheckpoint(tensors, kind, state));
}

/** Read and verify a checkpoint; a missing or corrupt file gives a CheckpointError. */
export async function readCheckpoint(path: string): Promise<DecodedCheckpoint> {
  let file: Buffer;
  try {
    file = await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CheckpointError(
      path,
      code === 'ENOENT' ? 'file not found' : `cannot be read (${code ?? (err as Error).message})`,
    );
  }
  return decodeCheckpoint(file, path);
}
