// Decks exported from a PINN trained on the real ATLAS9 grid, read by PySME's own Kurucz reader beside the grid's true deck.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { KURUCZ_1993_SOLAR_ABUNDANCE_CHANGE, parseDecks } from '@stellar-emu/grid-io';
import { realDataDir, runPython, testPython } from '@stellar-emu/grid-io/testing';

const cli = fileURLToPath(new URL('../../dist/main.js', import.meta.url));
const run = (args: string[]) =>
  spawnSync(process.execPath, [cli, ...args], {
    encoding: 'utf8',
    env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '3' },
  });
const data = realDataDir();
const python = testPython();

/** What PySME's KrzFile makes of a deck file, with every Python warning it raised. */
const KRZ = `
import json, sys, warnings
from pysme.atmosphere.krzfile import KrzFile
out = []
for path in sys.argv[1:]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        a = KrzFile(path)
    out.append({"teff": a.teff, "logg": a.logg, "monh": a.monh, "vturb": a.vturb, "layers": len(a.rhox),
                "pattern": [float(x) for x in a.abund.get_pattern("sme", raw=True)],
                "warnings": [str(w.message) for w in caught]})
print("KRZ" + json.dumps(out))
`;

describe.skipIf(!data || !python)(
  'real data: decks a PINN trained on ATLAS9 exports, through PySME’s reader',
  () => {
    let root = '';
    let model = '';
    let trueDeck = '';
    beforeAll(async () => {
      root = await mkdtemp(join(tmpdir(), 'cli-pinn-deck-'));
      const grid = join(data!, 'atlas9-kurucz1993', 'ap00k2.dat.gz');
      const ds = join(root, 'ds');
      const i = run(['ingest', 'atmospheres', grid, '--out', ds, '--split', '90/10']);
      expect(i.status, i.stderr).toBe(0);
      model = join(root, 'model');
      const t = run([
        'train',
        'pinn',
        '--data',
        ds,
        '--out',
        model,
        '--preset',
        'small',
        '--epochs',
        '1',
        '--batch-size',
        '1024',
        '--seed',
        '1',
        '--no-progress',
        '--json',
      ]);
      expect(t.status, t.stderr).toBe(0);
      const deck = parseDecks(gunzipSync(readFileSync(grid)).toString('latin1'), grid).find(
        (d) => d.teffK === 5750 && d.logg === 4.5,
      )!;
      const text = gunzipSync(readFileSync(grid)).toString('latin1').split('\n');
      const start = deck.line - 1;
      const end = text.findIndex((l, k) => k > start && l.startsWith('BEGIN'));
      trueDeck = join(root, 'true-5750-4.5.dat');
      writeFileSync(trueDeck, `${text.slice(start, end + 1).join('\n')}\n`);
    }, 240_000);

    test('the training grid’s mix, PRADK, ITERATION and provenance; PySME reads them without a warning, with the true deck’s abundances', async () => {
      const weights = JSON.parse(readFileSync(join(model, 'model.json'), 'utf8')).weights.sha256 as string;
      const stars = [
        { name: 'sun', args: ['--teff', '5750', '--logg', '4.5', '--feh', '0', '--afe', '0'] },
        {
          name: 'offgrid',
          args: ['--teff', '5432', '--logg', '3.9', '--feh', '-0.25', '--afe', '0', '--allow-extrapolation'],
        },
      ];
      const files: string[] = [];
      for (const s of stars) {
        const out = join(root, `${s.name}.dat`);
        const r = run([
          'predict',
          'atmosphere',
          '--model',
          model,
          ...s.args,
          '--format',
          'kurucz',
          '--out',
          out,
        ]);
        expect(r.status, r.stderr).toBe(0);
        files.push(out);
        const text = readFileSync(out, 'utf8');
        const [d] = parseDecks(text, out);
        expect(d.title).toMatch(
          new RegExp(`^stellar-emu \\S+ PINN ${weights.slice(0, 12)} a/Fe \\+0\\.00 \\[`),
        );
        expect(d.pradk).toBeGreaterThan(0);
        expect(d.iterations).toBe(0);
        expect(text).toMatch(/\nPRADK \d\.\d+E[+-]\d\d\nBEGIN +ITERATION +0 COMPLETED\n$/);
        // the mix of the grid it learned (ap00k2: Anders & Grevesse 1989), not a hard-wired one
        expect(Array.from({ length: 99 }, (_, z) => d.abundanceChange.get(z + 1))).toEqual([
          ...KURUCZ_1993_SOLAR_ABUNDANCE_CHANGE,
        ]);
      }
      const out = await runPython(python!, ['-c', KRZ, trueDeck, ...files]);
      const [truth, sun, off] = JSON.parse(out.slice(out.lastIndexOf('KRZ') + 3)) as {
        teff: number;
        logg: number;
        monh: number;
        vturb: number;
        layers: number;
        pattern: number[];
        warnings: string[];
      }[];
      for (const a of [truth, sun, off]) expect(a.warnings).toEqual([]);
      expect(sun).toMatchObject({ teff: 5750, logg: 4.5, vturb: 2 });
      expect(Math.abs(sun.monh)).toBeLessThan(1e-9);
      expect(Math.abs(off.monh + 0.25)).toBeLessThan(1e-4);
      expect(sun.pattern.length).toBe(truth.pattern.length);
      sun.pattern.forEach((v, z) =>
        expect(Math.abs(v - truth.pattern[z]), `Z = ${z + 1}`).toBeLessThan(1e-6),
      );
    }, 120_000);
  },
);
