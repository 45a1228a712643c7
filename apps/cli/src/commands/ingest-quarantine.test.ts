// The ingest commands are honest about rejects: every rejected row or model is printed, the exit
// code says whether anything (or everything) was ingested, and a failed ingest leaves the folder alone.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDataset } from '@stellar-emu/grid-io';
import { runIngest, runIngestSpectra } from './ingest.js';

const fort7 = (from: number, to: number, h: number) => {
  const rows: string[] = [];
  for (let i = 0; from + i * h <= to + 1e-9; i++)
    rows.push(
      `${(from + i * h).toFixed(4)} ${(1 - 0.6 * Math.exp(-(((from + i * h - 5002.5) / 0.08) ** 2))).toExponential(8)}`,
    );
  return `${rows.join('\n')}\n`;
};
const HEADER = 'file,teff_k,logg,vsini_kms,mh,vmic_kms,resolution';

let root = '';
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'cli-quarantine-'));
  await mkdir(join(root, 'in'));
  await writeFile(join(root, 'in', 'a.txt'), fort7(4999.5, 5010.5, 0.013));
  await writeFile(join(root, 'in', 'secret.txt'), 'password=hunter2\n');
  await writeFile(join(root, 'outside.txt'), fort7(4999.5, 5010.5, 0.013));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const base = { grid: '5000,0.05,200', quiet: true };

test('ingest spectra prints every rejected row and the quarantine report; --strict exits 2; --allow-outside reads files outside the table folder', async () => {
  const labels = join(root, 'in', 'labels.csv');
  await writeFile(
    labels,
    `${HEADER}\na.txt,5800,4.4,2,0,1,50000\nnope.txt,6200,4.1,10,-0.5,1.5,20000\n../outside.txt,5800,4.4,2,0,1,50000\nsecret.txt,5800,4.4,2,0,1,50000\n`,
  );
  let text = '';
  const out = join(root, 'ds');
  const r = await runIngestSpectra({ ...base, labels, out }, (s) => void (text += s), null);
  expect(r.code).toBe(0);
  expect(r.result!.ingested).toBe(1);
  expect(text).toMatch(/^ingested 1 spectrum from .*labels\.csv into .*ds in /);
  expect(text).toContain(`rejected 3 (report: ${join(out, '_quarantine.json')}):`);
  expect(text).toContain(`labels.csv:3: spectrum file 'nope.txt' not found`);
  expect(text).toContain(`labels.csv:4: spectrum file '../outside.txt'`);
  expect(text).toMatch(/labels\.csv:5: .*secret\.txt:1: /);
  expect(text).not.toContain('hunter2');
  const q = JSON.parse(await readFile(join(out, '_quarantine.json'), 'utf8'));
  expect(q.rejected.map((e: { line: number }) => e.line)).toEqual([3, 4, 5]);
  expect((await openDataset(out)).numRows).toBe(1);

  let json = '';
  const strict = await runIngestSpectra(
    { ...base, labels, out: join(root, 'ds-strict'), strict: true, json: true },
    (s) => void (json += s),
    null,
  );
  expect(strict.code).toBe(2);
  expect(JSON.parse(json).rejected).toHaveLength(3);

  const outside = await runIngestSpectra(
    { ...base, labels, out: join(root, 'ds-outside'), allowOutside: true },
    () => {},
    null,
  );
  expect(outside.code).toBe(0);
  expect(outside.result!.ingested).toBe(2);
  expect(outside.result!.rejected.map((e) => e.line)).toEqual([3, 5]);
});

test('nothing good: exit code 1, every reason printed, an existing dataset at --out left as it was', async () => {
  const good = join(root, 'in', 'good.csv');
  await writeFile(good, `${HEADER}\na.txt,5800,4.4,2,0,1,50000\n`);
  const out = join(root, 'ds-kept');
  expect((await runIngestSpectra({ ...base, labels: good, out }, () => {}, null)).code).toBe(0);
  const before = await readFile(join(out, 'data.parquet'));

  const bad = join(root, 'in', 'bad.csv');
  await writeFile(bad, `${HEADER}\nnope.txt,6200,4.1,10,-0.5,1.5,20000\nsecret.txt,5800,4.4,2,0,1,50000\n`);
  let text = '';
  const r = await runIngestSpectra({ ...base, labels: bad, out }, (s) => void (text += s), null);
  expect(r).toEqual({ code: 1, result: null });
  expect(text).toContain(`ingested nothing; ${out} was left unchanged`);
  expect(text).toContain(`bad.csv:2: spectrum file 'nope.txt' not found`);
  expect(text).toMatch(/bad\.csv:3: .*secret\.txt:1: expected 2 numbers \(wavelength, flux\), found 1\n/);
  expect(await readFile(join(out, 'data.parquet'))).toEqual(before);
  expect((await openDataset(out)).numRows).toBe(1);

  const deck = join(root, 'bad.dat');
  await writeFile(deck, 'not a deck\n');
  let atm = '';
  const a = await runIngest([deck], { out: join(root, 'atm') }, (s) => void (atm += s));
  expect(a).toEqual({ code: 1, result: null });
  expect(atm).toMatch(/rejected 1:\n {2}.*bad\.dat:1: expected a TEFF card/);
  expect(existsSync(join(root, 'atm'))).toBe(false);
});
