import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../../dist/main.js', import.meta.url));
const data = fileURLToPath(new URL('../../../../../shared/data/', import.meta.url));
const haveData = existsSync(data);
if (!haveData && process.env.CI === 'true') throw new Error(`real test data not found at ${data} (CI=true)`);
const run = (args: string[]) =>
  spawnSync(process.execPath, [cli, ...args], {
    encoding: 'utf8',
    env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '3' },
  });

describe.skipIf(!haveData)('stellar-emu ingest / split / inspect (built CLI)', () => {
  test('ingest the ATLAS12 samples, inspect, re-split; --strict and empty input exit non-zero', async () => {
    const root = await mkdtemp(join(tmpdir(), 'cli-ingest-'));
    const out = join(root, 'a12');
    const r = run([
      'ingest',
      'atmospheres',
      join(data, 'atlas12-samples'),
      '--out',
      out,
      '--split',
      '90/10',
      '--seed',
      '0',
      '--json',
    ]);
    expect(r.status, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary.ingested).toBe(3);
    expect(summary.rejected).toEqual([]);

    const insp = run(['inspect', out]);
    expect(insp.status, insp.stderr).toBe(0);
    expect(insp.stdout).toMatch(/atmospheres dataset, schema v1, 3 rows/);
    expect(insp.stdout).toMatch(/layers: 80 x 3/);
    expect(insp.stdout).toMatch(/split: 90\/10 seed 0/);

    const deck = run(['inspect', join(data, 'atlas12-samples/at12_aaaaa_t04000g5.00.atm')]);
    expect(deck.status, deck.stderr).toBe(0);
    expect(deck.stdout).toMatch(
      /Teff 4000 K {2}log g 5 .*\[Fe\/H\] -2\.255 {2}\[a\/Fe\] -0\.200 \(asplund2009\) {2}80 layers/,
    );

    const sp = run(['split', out, '--out', join(root, 'a12s'), '--scheme', '70/15/15', '--seed', '4']);
    expect(sp.status, sp.stderr).toBe(0);
    expect(sp.stdout).toMatch(/wrote 3 rows .*70\/15\/15, seed 4/);

    const bad = join(root, 'bad.dat');
    await writeFile(bad, 'not a deck\n');
    const strict = run([
      'ingest',
      'atmospheres',
      join(data, 'atlas12-samples'),
      bad,
      '--out',
      join(root, 's'),
      '--strict',
    ]);
    expect(strict.status).toBe(2);
    expect(strict.stdout).toMatch(/bad\.dat:1: expected a TEFF card/);
    const lenient = run([
      'ingest',
      'atmospheres',
      join(data, 'atlas12-samples'),
      bad,
      '--out',
      join(root, 'l'),
    ]);
    expect(lenient.status).toBe(0);
    const nothing = run(['ingest', 'atmospheres', bad, '--out', join(root, 'n')]);
    expect(nothing.status).toBe(1);
    expect(nothing.stderr).toMatch(/nothing was ingested/);
  });
});
