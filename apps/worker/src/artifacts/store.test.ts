import { mkdtemp, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { canonicalJson, hashPath, LocalArtifactStore, stepKey } from './store.js';

describe('artifact store', () => {
  test('canonical JSON sorts keys at every depth and drops undefined', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 0, y: 1 }], c: undefined } })).toBe('{"a":{"d":[1,{"y":1,"z":0}]},"b":1}');
    expect(stepKey('s', { a: 1, b: 2 }, { x: 'h' })).toBe(stepKey('s', { b: 2, a: 1 }, { x: 'h' }));
    expect(stepKey('s', { a: 1 }, { x: 'h' })).not.toBe(stepKey('s', { a: 2 }, { x: 'h' }));
  });

  test('a file hashes to sha256 of its bytes; a directory to its sorted listing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'store-'));
    await writeFile(join(dir, 'b.txt'), 'bee');
    await mkdir(join(dir, 'sub'));
    await writeFile(join(dir, 'sub', 'a.txt'), 'ay');
    const sha = (s: string) => createHash('sha256').update(s).digest('hex');
    expect(await hashPath(join(dir, 'b.txt'))).toBe(sha('bee'));
    const expected = sha(`b.txt\0${sha('bee')}\nsub/a.txt\0${sha('ay')}\n`);
    expect(await hashPath(dir)).toBe(expected);
  });

  test('a completed step is found until one of its outputs changes', async () => {
    const store = new LocalArtifactStore(await mkdtemp(join(tmpdir(), 'store-')));
    const key = stepKey('ingest', { n: 3 }, {});
    const dir = await store.stepDir('ingest', key);
    const out = join(dir, 'data.txt');
    await writeFile(out, 'rows');
    expect(await store.findCompleted('ingest', key)).toBeNull();
    await store.recordCompleted({ step: 'ingest', key, outputs: { data: { path: out, sha256: await hashPath(out) } }, summary: { rows: 1 }, completedAt: new Date().toISOString() });
    expect((await store.findCompleted('ingest', key))?.summary).toEqual({ rows: 1 });
    expect(await store.findCompleted('ingest', stepKey('ingest', { n: 4 }, {}))).toBeNull();
    await writeFile(out, 'tampered');
    expect(await store.findCompleted('ingest', key)).toBeNull();
    await expect(store.runDir('../escape')).rejects.toThrow(/run id/);
  });
});
