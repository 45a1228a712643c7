// writeDirectoryAtomic with several writers of one folder at once (two pipelines writing the same content-keyed step).
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { removeStaleTempFiles, writeDirectoryAtomic, writeFileAtomic } from './atomic-dir.js';

let root = '';
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'atomic-dir-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A writer that fills the stage with `files` files of its own tag, yielding to the event loop between files. */
const writer = (tag: string, files: number) => async (stage: string) => {
  for (let i = 0; i < files; i++) {
    await writeFile(join(stage, `f${i}.txt`), `${tag}:${i}\n`);
    await new Promise((r) => setImmediate(r));
  }
  return tag;
};

describe('writeDirectoryAtomic, concurrent writers', () => {
  it('all succeed on a folder that did not exist; it then holds one writer’s complete version and no staging folders', async () => {
    for (let round = 0; round < 5; round++) {
      const dir = join(root, `new-${round}`);
      const tags = ['a', 'b', 'c', 'd'].map((t) => `${t}${round}`);
      const results = await Promise.all(tags.map((t) => writeDirectoryAtomic(dir, writer(t, 6))));
      expect(results).toEqual(tags);
      const names = (await readdir(dir)).sort();
      expect(names).toEqual(['f0.txt', 'f1.txt', 'f2.txt', 'f3.txt', 'f4.txt', 'f5.txt']);
      const owners = new Set(
        await Promise.all(names.map(async (n) => (await readFile(join(dir, n), 'utf8')).split(':')[0])),
      );
      expect(owners.size).toBe(1);
      expect((await readdir(root)).filter((n) => n.startsWith(`.new-${round}.`))).toEqual([]);
    }
  });

  it('all succeed on an existing folder too', async () => {
    const dir = join(root, 'old');
    await writeDirectoryAtomic(dir, writer('first', 3));
    await Promise.all(['x', 'y', 'z'].map((t) => writeDirectoryAtomic(dir, writer(t, 3))));
    const owners = new Set(
      await Promise.all(
        (await readdir(dir)).map(async (n) => (await readFile(join(dir, n), 'utf8')).split(':')[0]),
      ),
    );
    expect(owners.size).toBe(1);
    expect([...owners][0]).not.toBe('first');
    expect((await readdir(root)).filter((n) => n.startsWith('.old.'))).toEqual([]);
  });
});

describe('removeStaleTempFiles', () => {
  it('removes the temporary files and staging folders of dead writers only', async () => {
    const { spawnSync } = await import('node:child_process');
    const { mkdir } = await import('node:fs/promises');
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
    const dir = join(root, 'stale');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, `.tmp-${dead}-0123abcd`), 'half');
    await writeFile(join(dir, `.tmp-${process.pid}-4567abcd`), 'being written');
    await mkdir(join(dir, `.dataset.tmp-${dead}-89abcdef`));
    await writeFile(join(dir, 'step.json'), '{}');
    const removed = await removeStaleTempFiles(dir);
    expect(removed.sort()).toEqual([`.dataset.tmp-${dead}-89abcdef`, `.tmp-${dead}-0123abcd`].sort());
    expect((await readdir(dir)).sort()).toEqual([`.tmp-${process.pid}-4567abcd`, 'step.json'].sort());
  });

  it('with includeLive, removes the leftovers of every writer (a checkpoint folder when a run starts), also the `.<name>.tmp-<pid>-<ms>` of earlier versions', async () => {
    const { mkdir } = await import('node:fs/promises');
    const dir = join(root, 'all');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'model.json'), '{}');
    await writeFile(join(dir, '.model.json.tmp-123-1700000000000'), 'partial');
    await writeFile(join(dir, '.ckpt-0000000004.safetensors.tmp-9-1'), 'partial');
    await writeFile(join(dir, `.tmp-${process.pid}-4567abcd`), 'being written');
    await writeFile(join(dir, 'notes.tmp-1-2'), 'kept: not a temporary file name');
    expect((await removeStaleTempFiles(dir, { includeLive: true })).sort()).toEqual(
      [
        '.ckpt-0000000004.safetensors.tmp-9-1',
        '.model.json.tmp-123-1700000000000',
        `.tmp-${process.pid}-4567abcd`,
      ].sort(),
    );
    expect((await readdir(dir)).sort()).toEqual(['model.json', 'notes.tmp-1-2']);
  });
});

describe('writeFileAtomic', () => {
  it('a failed write leaves the old file as it was and no temporary file', async () => {
    const dir = await mkdtemp(join(root, 'atomic-'));
    const path = join(dir, 'model.json');
    await writeFileAtomic(path, 'old version\n');
    // A write that fails half-way (here: data the file handle cannot write).
    await expect(writeFileAtomic(path, 42 as unknown as string)).rejects.toThrow();
    expect(await readFile(path, 'utf8')).toBe('old version\n');
    expect(await readdir(dir)).toEqual(['model.json']);
  });
});
