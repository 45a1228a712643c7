// A report is replaced as a whole: a write that fails half-way leaves the previous report intact.
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeReport } from './report.js';
import { buildSampleMetrics } from '../test/sample/sample-metrics.js';

async function fileHashes(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    const p = join(e.parentPath, e.name);
    out[p.slice(dir.length + 1)] = createHash('sha256')
      .update(await readFile(p))
      .digest('hex');
  }
  return out;
}

let root = '';
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'report-write-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

test('a report write that fails while rendering the figures leaves the previous report (figures, metrics.json, index.html) byte-identical; other files of the folder are kept', async () => {
  const out = join(root, 'report');
  const first = await writeReport({
    metrics: buildSampleMetrics({ seed: 1, size: 'tiny', runId: 'first' }),
    outDir: out,
  });
  expect(first.figures.length).toBeGreaterThan(0);
  await writeFile(join(out, 'notes.txt'), 'kept\n');
  const before = await fileHashes(out);
  expect(Object.keys(before)).toEqual(
    expect.arrayContaining(['index.html', 'metrics.json', 'notes.txt', `figures/${first.figures[0].id}.png`]),
  );

  // A PNG scale resvg refuses: the failure comes after the first figures were rendered.
  await expect(
    writeReport({
      metrics: buildSampleMetrics({ seed: 2, size: 'tiny', runId: 'second' }),
      outDir: out,
      pngScale: -1,
    }),
  ).rejects.toThrow();
  expect(await fileHashes(out)).toEqual(before);
  expect((await readdir(root)).sort()).toEqual(['report']);

  // A successful rewrite replaces the report files and keeps the others.
  const third = await writeReport({
    metrics: buildSampleMetrics({ seed: 3, size: 'tiny', runId: 'third' }),
    outDir: out,
  });
  expect(await readFile(join(out, 'notes.txt'), 'utf8')).toBe('kept\n');
  expect(JSON.parse(await readFile(third.metricsJson, 'utf8')).run.id).toBe('third');
  for (const f of third.figures)
    expect((await fileHashes(out))[`figures/${f.id}.svg`]).toMatch(/^[0-9a-f]{64}$/);
});
