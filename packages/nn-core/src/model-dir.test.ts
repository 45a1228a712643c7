// The model-directory helper: one unit written, metadata read through a zod schema, weights verified by sha256; single-file models too.
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sha256File } from '@stellar-emu/grid-io';
import { z } from 'zod';
import { CheckpointError, writeCheckpoint, type StoredTensor } from './checkpoint.js';
import {
  readModelDir,
  readModelFile,
  writeModelDir,
  writeModelFile,
  type ModelDirFormat,
  type ModelFileFormat,
} from './model-dir.js';

let root = '';
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'model-dir-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

class ToyModelError extends Error {}

interface ToyMeta {
  kind: 'toy';
  weights: { file: string; sha256: string | null };
  widths: number[];
  /** Older directories lack it. */
  note: string;
}

const TOY: ModelDirFormat<ToyMeta> = {
  metaFile: 'model.json',
  schema: z.looseObject({
    kind: z.literal('toy'),
    weights: z.object({ file: z.string().min(1), sha256: z.string().nullable() }),
    widths: z.array(z.number().int().positive()),
    note: z.string().default('none'),
  }),
  weightsOf: (m) => m.weights,
  error: (dir, detail) => new ToyModelError(`toy model ${dir}: ${detail}`),
  hints: { missingDir: 'train one first', missingMeta: 'not a toy model directory' },
};

const tensors = new Map<string, StoredTensor>([['w', { shape: [3], data: new Float32Array([1, 2, 3]) }]]);

async function writeToy(dir: string, widths = [4, 2]): Promise<ToyMeta> {
  return writeModelDir<ToyMeta>(dir, TOY, {
    weightsFile: 'weights.safetensors',
    writeWeights: (path) => writeCheckpoint(path, tensors, 'toy-weights', {}),
    meta: (weights) => ({ kind: 'toy', weights, widths, note: 'written' }),
  });
}

describe('model directories', () => {
  it('writes weights and metadata (2-space JSON, the weights sha256 recorded) and reads them back', async () => {
    const dir = join(root, 'm');
    const meta = await writeToy(dir);
    expect((await readdir(dir)).sort()).toEqual(['model.json', 'weights.safetensors']);
    const text = await readFile(join(dir, 'model.json'), 'utf8');
    expect(text).toBe(`${JSON.stringify(meta, null, 2)}\n`);
    expect(meta.weights).toEqual({
      file: 'weights.safetensors',
      sha256: await sha256File(join(dir, 'weights.safetensors')),
    });
    const read = await readModelDir(dir, TOY);
    expect(read).toEqual({ meta, weightsPath: join(dir, 'weights.safetensors') });
  });

  it('reads older metadata: schema defaults for absent fields, no sha256 recorded (not verified), unknown fields kept', async () => {
    const dir = join(root, 'old');
    await writeToy(dir);
    const json = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8'));
    delete json.note;
    json.weights.sha256 = null;
    json.extra = { kept: true };
    await writeFile(join(dir, 'model.json'), JSON.stringify(json));
    await writeFile(join(dir, 'weights.safetensors'), 'anything: the weights reader checks them');
    const { meta } = await readModelDir(dir, TOY);
    expect(meta).toMatchObject({ note: 'none', extra: { kept: true } });
  });

  it('names the directory, the file and the failing field in every error', async () => {
    const dir = join(root, 'bad');
    await writeToy(dir);
    await expect(readModelDir(join(root, 'nope'), TOY)).rejects.toThrow(
      /^toy model .*nope: does not exist: no model\.json \(train one first\)$/,
    );
    await expect(readModelDir(join(dir, 'model.json'), TOY)).rejects.toThrow(
      /model\.json: is not a directory/,
    );
    const empty = await mkdtemp(join(root, 'empty-'));
    await expect(readModelDir(empty, TOY)).rejects.toThrow(
      /has no model\.json \(not a toy model directory\)/,
    );

    const good = await readFile(join(dir, 'model.json'), 'utf8');
    const weights = await readFile(join(dir, 'weights.safetensors'));
    const flipped = Buffer.from(weights);
    flipped[flipped.length - 1] ^= 1;
    await writeFile(join(dir, 'weights.safetensors'), flipped);
    await expect(readModelDir(dir, TOY)).rejects.toThrow(
      /weights\.safetensors does not match model\.json \(checksum mismatch: sha256 [0-9a-f]{12}…, recorded [0-9a-f]{12}…\): corrupt or replaced/,
    );
    await rm(join(dir, 'weights.safetensors'));
    await expect(readModelDir(dir, TOY)).rejects.toThrow(
      /weights\.safetensors: file not found \(the model directory is incomplete\)/,
    );
    await writeFile(join(dir, 'weights.safetensors'), weights);
    await expect(readModelDir(dir, TOY)).resolves.toBeTruthy();

    await writeFile(join(dir, 'model.json'), good.slice(0, 20));
    await expect(readModelDir(dir, TOY)).rejects.toThrow(
      /model\.json is not valid JSON \(.*\): the file is corrupt/,
    );
    await writeFile(
      join(dir, 'model.json'),
      good.replace('"toy"', '"other"').replace(/"widths": \[\s*4/, '"widths": [-4'),
    );
    const err = await readModelDir(dir, TOY).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ToyModelError);
    expect((err as Error).message).toMatch(
      /model\.json: kind: .*expected "toy" \(found "other"\); widths\.0: .*>0/,
    );
  });

  it('never writes metadata that would not load, and then leaves the previous directory as it was', async () => {
    const dir = join(root, 'keep');
    await writeToy(dir);
    const before = await readFile(join(dir, 'model.json'), 'utf8');
    await expect(writeToy(dir, [0])).rejects.toThrow(
      /toy model .*keep: model\.json would not be readable: widths\.0: /,
    );
    expect(await readFile(join(dir, 'model.json'), 'utf8')).toBe(before);
    expect((await readdir(root)).filter((n) => n.startsWith('.keep.'))).toEqual([]);
  });
});

describe('single-file models', () => {
  const FILE: ModelFileFormat<{ widths: number[]; info: Record<string, unknown> }> = {
    kind: 'toy/model',
    schema: z.looseObject({
      widths: z.array(z.number().int().positive()),
      info: z.record(z.string(), z.unknown()),
    }),
  };

  it('round trip; a foreign kind, a state that does not fit, or a state that would not fit is a CheckpointError naming the file and field', async () => {
    const path = join(root, 'toy.safetensors');
    await writeModelFile(path, FILE, tensors, { widths: [3], info: { a: 1 } });
    const { state, tensors: read } = await readModelFile(path, FILE);
    expect(state).toEqual({ widths: [3], info: { a: 1 } });
    expect(Array.from(read.get('w')!.data)).toEqual([1, 2, 3]);

    await expect(readModelFile(path, { ...FILE, kind: 'other' })).rejects.toThrow(
      /toy\.safetensors: is a 'toy\/model' file, not a other model/,
    );
    await writeCheckpoint(path, tensors, 'toy/model', { widths: ['x'], info: {} });
    const err = await readModelFile(path, FILE).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CheckpointError);
    expect((err as Error).message).toMatch(
      /toy\.safetensors: model metadata \(checkpoint state\) does not fit toy\/model: widths\.0: Invalid input: expected number, received string/,
    );
    await expect(writeModelFile(path, FILE, tensors, { widths: [1.5], info: {} })).rejects.toThrow(
      /model metadata would not be readable: widths\.0: /,
    );
  });
});
