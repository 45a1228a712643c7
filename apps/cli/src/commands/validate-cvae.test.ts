import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import {
  syntheticSpectra,
  writeSpectrumDataset,
  type SpectrumGrid,
  type SpectrumRecord,
} from '@stellar-emu/grid-io';
import { registerCommands } from './index.js';

/** A 400-pixel window around Hβ keeps the test fast. */
const GRID: SpectrumGrid = { startAngstrom: 4840, stepAngstrom: 0.05, n: 400 };

let printed = '';

async function run(args: string[]): Promise<number> {
  // The whole registry, so that `validate cvae` is tested beside the parent `validate --config`.
  const program = new Command('stellar-emu').exitOverride();
  registerCommands(program);
  const before = process.exitCode;
  process.exitCode = 0;
  const write = process.stdout.write.bind(process.stdout);
  printed = '';
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    printed += String(chunk);
    return (write as (...a: unknown[]) => boolean)(chunk, ...rest);
  }) as typeof process.stdout.write;
  try {
    await program.parseAsync(['node', 'stellar-emu', ...args]);
    return Number(process.exitCode ?? 0);
  } finally {
    process.stdout.write = write;
    process.exitCode = before;
  }
}

describe('stellar-emu validate cvae --generated', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cli-validate-cvae-'));
    await writeSpectrumDataset(syntheticSpectra({ n: 900, seed: 5, grid: GRID }), join(dir, 'data'), {
      split: { scheme: '70/15/15', seed: 1 },
    });
    // A faithful "emulator": the same generator at other labels.
    await writeSpectrumDataset(syntheticSpectra({ n: 300, seed: 6, grid: GRID }), join(dir, 'good'));
    // A broken one: the same spectra with every label set moved to the next spectrum.
    const recs: SpectrumRecord[] = [...syntheticSpectra({ n: 300, seed: 6, grid: GRID })];
    await writeSpectrumDataset(
      recs.map((r, i) => ({ ...r, labels: recs[(i + 1) % recs.length].labels })),
      join(dir, 'bad'),
    );
  }, 120_000);
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const common = [
    '--preset',
    'small',
    '--epochs',
    '40',
    '--batch-size',
    '256',
    '--lr',
    '3e-3',
    '--components',
    '15',
    '--memory-mib',
    '16',
  ];

  it('writes metrics.json with the four-row RMSE table and exits 0 when every verdict passes', async () => {
    const out = join(dir, 'out-good');
    const code = await run([
      'validate',
      'cvae',
      '--data',
      join(dir, 'data'),
      '--generated',
      join(dir, 'good'),
      '--out',
      out,
      ...common,
      '--json',
    ]);
    const m = JSON.parse(await readFile(join(out, 'metrics.json'), 'utf8'));
    expect(m.schemaVersion).toBe(1);
    expect(m.recovery.rmse).toHaveLength(6);
    for (const row of m.recovery.rmse)
      for (const s of ['train', 'val', 'test', 'generated']) expect(Number.isFinite(row[s])).toBe(true);
    expect(m.paramNn.pass).toBe(m.paramNn.verdicts.every((v: { pass: boolean }) => v.pass));
    expect(m.paramNn.rows.generated).toBe(300);
    expect(code).toBe(m.paramNn.pass ? 0 : 2);
    // --json reached the sub-command (the parent `validate` has a --json of its own).
    expect(printed).toMatch(/"verdicts"/);
    // Labels the 400-pixel window constrains must pass for a faithful emulator.
    for (const label of ['teffK', 'logg', 'mh'])
      expect(m.paramNn.verdicts.find((v: { label: string }) => v.label === label).pass).toBe(true);
  });

  it('exits 2 when the generated spectra do not match their labels', async () => {
    const out = join(dir, 'out-bad');
    const code = await run([
      'validate',
      'cvae',
      '--data',
      join(dir, 'data'),
      '--generated',
      join(dir, 'bad'),
      '--out',
      out,
      ...common,
    ]);
    expect(code).toBe(2);
    const m = JSON.parse(await readFile(join(out, 'metrics.json'), 'utf8'));
    expect(m.paramNn.pass).toBe(false);
    expect(m.paramNn.verdicts.find((v: { label: string }) => v.label === 'teffK').pass).toBe(false);
  });

  it('needs exactly one of --model and --generated', async () => {
    await expect(
      run(['validate', 'cvae', '--data', join(dir, 'data'), '--out', join(dir, 'x')]),
    ).rejects.toThrow(/exactly one of --model/);
  });
});
