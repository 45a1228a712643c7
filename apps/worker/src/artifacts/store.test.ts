import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readdir, readFile, rename, writeFile, mkdir } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import {
  LEGACY_MANIFEST_FILE,
  MANIFEST_FILE,
  openDataset,
  readManifest,
  writeSpectrumDataset,
} from '@stellar-emu/grid-io';
import { canonicalJson, hashPath, LocalArtifactStore, stepKey } from './store.js';

describe('artifact store', () => {
  test('canonical JSON sorts keys at every depth and drops undefined', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 0, y: 1 }], c: undefined } })).toBe(
      '{"a":{"d":[1,{"y":1,"z":0}]},"b":1}',
    );
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

  test('a dataset directory hashes to its sorted listing, in either manifest layout, and reading it changes nothing', async () => {
    const root = await mkdtemp(join(tmpdir(), 'store-ds-'));
    const dir = join(root, 'ds');
    const flux = Array.from({ length: 40 }, (_, j) => 1 - 0.01 * j);
    const recs = Array.from({ length: 5 }, (_, i) => ({
      id: `s${i}`,
      source: 'test',
      line: i,
      labels: { teffK: 5000 + i },
      wavelengthStartAngstrom: 4450,
      wavelengthStepAngstrom: 0.05,
      flux,
      synthetic: true,
      split: null,
    }));
    await writeSpectrumDataset(recs, dir);
    const sha = (b: string | Buffer) => createHash('sha256').update(b).digest('hex');
    const listing = async (d: string) => {
      const names = (await readdir(d)).sort();
      let s = '';
      for (const n of names) s += `${n}\0${sha(await readFile(join(d, n)))}\n`;
      return { names, hash: sha(s) };
    };
    const fresh = await listing(dir);
    expect(fresh.names).toEqual([MANIFEST_FILE, 'data.parquet']);
    const before = await hashPath(dir);
    expect(before).toBe(fresh.hash);
    const legacy = join(root, 'legacy');
    await cp(dir, legacy, { recursive: true });
    await rename(join(legacy, MANIFEST_FILE), join(legacy, LEGACY_MANIFEST_FILE));
    const legacyBefore = await hashPath(legacy);
    expect(legacyBefore).toBe((await listing(legacy)).hash);
    for (const d of [dir, legacy]) {
      await readManifest(d);
      for await (const batch of (await openDataset(d)).iterateRows()) expect(batch.length).toBe(5);
    }
    expect(await hashPath(dir)).toBe(before);
    expect(await hashPath(legacy)).toBe(legacyBefore);
  });

  test('a completed step is found until one of its outputs changes', async () => {
    const store = new LocalArtifactStore(await mkdtemp(join(tmpdir(), 'store-')));
    const key = stepKey('ingest', { n: 3 }, {});
    const dir = await store.stepDir('ingest', key);
    const out = join(dir, 'data.txt');
    await writeFile(out, 'rows');
    expect(await store.findCompleted('ingest', key)).toBeNull();
    await store.recordCompleted({
      step: 'ingest',
      key,
      outputs: { data: { path: out, sha256: await hashPath(out) } },
      summary: { rows: 1 },
      completedAt: new Date().toISOString(),
    });
    expect((await store.findCompleted('ingest', key))?.summary).toEqual({ rows: 1 });
    expect(await store.findCompleted('ingest', stepKey('ingest', { n: 4 }, {}))).toBeNull();
    await writeFile(out, 'tampered');
    expect(await store.findCompleted('ingest', key)).toBeNull();
    await expect(store.runDir('../escape')).rejects.toThrow(/run id/);
  });

  test('once: concurrent callers of one step run it once and the others take its record; the lock of a dead holder is broken', async () => {
    const store = new LocalArtifactStore(await mkdtemp(join(tmpdir(), 'store-once-')));
    const key = stepKey('ingest', { n: 1 }, {});
    const dir = await store.stepDir('ingest', key);
    let runs = 0;
    let waits = 0;
    const run = async () => {
      runs++;
      expect(JSON.parse(await readFile(join(dir, '.lock'), 'utf8'))).toEqual({
        host: hostname(),
        pid: process.pid,
        token: expect.stringMatching(/^[0-9a-f]{16}$/),
      });
      await new Promise((r) => setTimeout(r, 300));
      const out = join(dir, 'data.txt');
      await writeFile(out, 'rows');
      await store.recordCompleted({
        step: 'ingest',
        key,
        outputs: { data: { path: out, sha256: await hashPath(out) } },
        summary: {},
        completedAt: new Date().toISOString(),
      });
      return 'ran';
    };
    const once = () =>
      store.once(
        'ingest',
        key,
        () => 'reused',
        run,
        () => void waits++,
      );
    expect((await Promise.all([once(), once()])).sort()).toEqual(['ran', 'reused']);
    expect(runs).toBe(1);
    expect(waits).toBeGreaterThan(0);
    expect(existsSync(join(dir, '.lock'))).toBe(false);
    expect(await once()).toBe('reused');

    // A worker killed while it held a step's lock: its process is gone, so the lock is broken at once.
    const key2 = stepKey('ingest', { n: 2 }, {});
    const dir2 = await store.stepDir('ingest', key2);
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
    await writeFile(join(dir2, '.lock'), `${JSON.stringify({ host: hostname(), pid: dead })}\n`);
    expect(
      await store.once(
        'ingest',
        key2,
        () => 'reused',
        async () => 'ran',
      ),
    ).toBe('ran');
    expect(existsSync(join(dir2, '.lock'))).toBe(false);
  });
});
