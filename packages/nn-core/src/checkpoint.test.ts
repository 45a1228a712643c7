import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CheckpointError,
  decodeCheckpoint,
  encodeCheckpoint,
  readCheckpoint,
  writeCheckpoint,
  type StoredTensor,
} from './checkpoint.js';

const tensors = new Map<string, StoredTensor>([
  ['param/a.W', { shape: [2, 3], data: new Float32Array([1, 2, 3, 4, 5, -6.5]) }],
  ['opt/a.W/m', { shape: [3], data: new Float32Array([0.1, Number.NaN, -0]) }],
  ['counts', { shape: [2], data: new Int32Array([7, -8]) }],
  ['f64', { shape: [1], data: new Float64Array([Math.PI]) }],
]);

test('round trip keeps every tensor bit for bit and the metadata', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ckpt-'));
  const path = join(dir, 'x.safetensors');
  await writeCheckpoint(path, tensors, 'training', { epoch: 3, nested: { a: [1, 2] }, text: 'é' });
  expect(readdirSync(dir)).toEqual(['x.safetensors']); // no temp file left behind
  const ck = await readCheckpoint(path);
  expect(ck.kind).toBe('training');
  expect(ck.state).toEqual({ epoch: 3, nested: { a: [1, 2] }, text: 'é' });
  for (const [k, t] of tensors) {
    const got = ck.tensors.get(k)!;
    expect(got.shape).toEqual(t.shape);
    expect(Buffer.from(got.data.buffer)).toEqual(Buffer.from((t.data as Float32Array).buffer));
  }
  const bytes = readFileSync(path);
  const headerLen = Number(bytes.readBigUInt64LE(0));
  expect((8 + headerLen) % 8).toBe(0);
});

test('a flipped bit in the data, a changed header or a truncated file is a clear error', () => {
  const bytes = encodeCheckpoint(tensors, 'training', { epoch: 1 });
  const flipped = Buffer.from(bytes);
  flipped[flipped.length - 3] ^= 0x10;
  expect(() => decodeCheckpoint(flipped, 'f')).toThrow(/checkpoint f: checksum mismatch .*corrupt/);
  const header = Buffer.from(bytes.toString('latin1').replace('"epoch\\":1', '"epoch\\":2'), 'latin1');
  expect(header.length).toBe(bytes.length);
  expect(() => decodeCheckpoint(header, 'h')).toThrow(/checksum mismatch/);
  expect(() => decodeCheckpoint(bytes.subarray(0, 200), 't')).toThrow(CheckpointError);
  expect(() =>
    decodeCheckpoint(
      Buffer.from('hello world, not a checkpoint at all, definitely not one: ' + 'x'.repeat(80)),
      'n',
    ),
  ).toThrow(/truncated or not a checkpoint|not a stellar-emu checkpoint/);
});

test('lazy tensors are read once each, in file order, and the streamed file is byte for byte the in-memory encoding', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ckpt-lazy-'));
  const path = join(dir, 'x.safetensors');
  const calls: string[] = [];
  const lazy = new Map<string, StoredTensor>(
    [...tensors].map(([k, t]) => [
      k,
      {
        dtype: t.data instanceof Float64Array ? 'F64' : t.data instanceof Int32Array ? 'I32' : 'F32',
        shape: t.shape,
        data: () => {
          calls.push(k);
          return t.data as Float32Array;
        },
      },
    ]),
  );
  await writeCheckpoint(path, lazy, 'training', { epoch: 2 });
  expect(calls).toEqual([...tensors.keys()]);
  expect(readFileSync(path)).toEqual(encodeCheckpoint(tensors, 'training', { epoch: 2 }));
});

test('a tensor that fails while streaming leaves the earlier file and no temporary file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ckpt-fail-'));
  const path = join(dir, 'x.safetensors');
  await writeCheckpoint(path, tensors, 'training', { epoch: 1 });
  const before = readFileSync(path);
  const bad = new Map<string, StoredTensor>([
    ...tensors,
    ['late', { shape: [4], data: () => new Float32Array(3) }], // 3 values for 4 elements
  ]);
  await expect(writeCheckpoint(path, bad, 'training', { epoch: 2 })).rejects.toThrow(
    /tensor 'late': shape \[4\] has 4 elements, data has 3/,
  );
  expect(readdirSync(dir)).toEqual(['x.safetensors']);
  expect(readFileSync(path)).toEqual(before);
});

test('reading from disk verifies every byte, with or without the tensors', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ckpt-disk-'));
  const good = join(dir, 'good.safetensors');
  await writeCheckpoint(good, tensors, 'training', { epoch: 5 });
  const bytes = readFileSync(good);
  const light = await readCheckpoint(good, { tensors: false });
  expect(light.state).toEqual({ epoch: 5 });
  expect(light.tensors.size).toBe(0);
  for (const [at, name] of [
    [bytes.length - 3, 'last tensor'],
    [bytes.length - 40, 'earlier tensor'],
  ] as const) {
    const flipped = Buffer.from(bytes);
    flipped[at] ^= 0x01;
    const p = join(dir, `flipped-${at}.safetensors`);
    writeFileSync(p, flipped);
    for (const t of [true, false])
      await expect(readCheckpoint(p, { tensors: t }), `${name}, tensors ${t}`).rejects.toThrow(
        /checksum mismatch .*corrupt/,
      );
  }
  const cut = join(dir, 'cut.safetensors');
  writeFileSync(cut, bytes.subarray(0, bytes.length - 5));
  await expect(readCheckpoint(cut)).rejects.toThrow(/truncated/);
  await expect(readCheckpoint(cut, { tensors: false })).rejects.toThrow(/truncated/);
});

// The atomic write and the sweep of interrupted writes' leftovers are grid-io's (writeFileAtomic, removeStaleTempFiles): tested there.

test('a missing file is a clear error', async () => {
  await expect(readCheckpoint('/nonexistent/ckpt.safetensors')).rejects.toThrow(
    /checkpoint \/nonexistent\/ckpt.safetensors: file not found/,
  );
});

const python = spawnSync('python3', ['-c', 'import json,struct'], { encoding: 'utf8' }).status === 0;
test.skipIf(!python)(
  'python reads it with json + struct only (safetensors layout) and verifies the checksum',
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ckpt-py-'));
    const path = join(dir, 'x.safetensors');
    await writeCheckpoint(path, tensors, 'model', { hello: 'world' });
    const script = `
import json, struct, hashlib, sys
b = open(sys.argv[1], 'rb').read()
n = struct.unpack('<Q', b[:8])[0]
h = json.loads(b[8:8+n])
meta = h.pop('__metadata__')
z = bytearray(b); z[35:99] = b'0'*64
assert hashlib.sha256(z).hexdigest() == meta['sha256']
t = h['param/a.W']; s, e = t['data_offsets']
print(json.dumps({'kind': meta['kind'], 'state': json.loads(meta['state']), 'W': list(struct.unpack('<6f', b[8+n+s:8+n+e])), 'shape': t['shape']}))
`;
    writeFileSync(join(dir, 'read.py'), script);
    const r = spawnSync('python3', [join(dir, 'read.py'), path], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      kind: 'model',
      state: { hello: 'world' },
      W: [1, 2, 3, 4, 5, -6.5],
      shape: [2, 3],
    });
  },
);
