import { readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { realDataDir } from '../testing/real-data.js';
import { deckMetallicity, logEpsilon } from './abundances.js';
import { DeckParseError } from './errors.js';
import { parseDeckResults, parseDecks, readDeckResults, readDecks } from './read-deck.js';
import { deckToAtmosphereModel } from './to-model.js';

const data = realDataDir();
const atlas9 = data ? join(data, 'atlas9-kurucz1993') : '';
const atlas12 = data ? join(data, 'atlas12-samples') : '';

/** A small valid two-layer deck for the bad-input tests. */
function miniDeck(
  rows = [
    ' 1.0E-03  4000.0 1.0E+01 1.0E+10 1.0E-02 1.0E-01 2.0E+05',
    ' 2.0E-03  4100.0 2.0E+01 2.0E+10 2.0E-02 1.0E-01 2.0E+05',
  ],
  n = 2,
): string {
  return [
    'TEFF   4000.  GRAVITY 4.00000 LTE',
    'TITLE test',
    'ABUNDANCE SCALE   1.00000 ABUNDANCE CHANGE 1 0.91100 2 0.08900',
    ` READ DECK6 ${n} RHOX,T,P,XNE,ABROSS,ACCRAD,VTURB`.trim(),
    ...rows,
    'PRADK 1.0E-01',
    'BEGIN                    ITERATION  15 COMPLETED',
    '',
  ].join('\n');
}

describe.skipIf(!data)('Kurucz deck reader on the real ATLAS9 grid', () => {
  test('every file matches index.csv: models per file, order, TEFF line, Teff, log g, [M/H], layers', async () => {
    const index = readFileSync(join(atlas9, 'index.csv'), 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split(','));
    const byFile = new Map<string, string[][]>();
    for (const r of index) byFile.set(r[0], [...(byFile.get(r[0]) ?? []), r]);
    expect(index.length).toBe(6890);
    const files = readdirSync(atlas9)
      .filter((f) => f.endsWith('.dat.gz'))
      .sort();
    expect(files.length).toBe(17);
    let total = 0;
    for (const f of files) {
      const expected = byFile.get(f)!;
      const got = [];
      for await (const d of readDecks(join(atlas9, f))) {
        const met = deckMetallicity(d);
        got.push([
          f,
          String(d.indexInFile),
          String(d.line),
          d.teffK,
          d.logg,
          met.mh,
          d.nLayers,
          met.feh,
          met.afe,
          met.scaledSolar,
        ] as const);
      }
      expect(got.length, f).toBe(expected.length);
      got.forEach((g, i) => {
        const e = expected[i];
        expect([g[1], g[2]], `${f} model ${i}`).toEqual([e[1], e[2]]);
        expect(g[3]).toBe(Number(e[3]));
        expect(g[4]).toBe(Number(e[4]));
        // index.csv took [M/H] from the TITLE bracket; one ap00 model has another title ("None"):
        // there the file name (ap00 = +0.0) states it.
        const mhExpected =
          e[5] === 'None' ? ((f.startsWith('am') ? -1 : 1) * Number(f.slice(2, 4))) / 10 : Number(e[5]);
        expect(Math.abs(g[5] - mhExpected), `${f}:${g[2]} [M/H]`).toBeLessThan(1e-4);
        expect(g[6]).toBe(Number(e[6]));
        // scaled solar: the ABUNDANCE CHANGE cards confirm [Fe/H] = [M/H], [alpha/Fe] = 0
        expect(g[9]).toBe(true);
        expect(g[7]).toBe(g[5]);
        expect(g[8]).toBe(0);
      });
      total += got.length;
    }
    expect(total).toBe(6890);
  });
});

describe.skipIf(!data)('Kurucz deck reader on the ATLAS12 samples', () => {
  test('80 layers, 9 columns, [Fe/H] and [alpha/Fe] against Asplund et al. 2009', async () => {
    const expected: Record<string, { teff: number; logg: number; feh: number; afe: number; vturb: number }> =
      {
        'at12_aaaaa_t04000g5.00.atm': { teff: 4000, logg: 5, feh: -2.2545, afe: -0.2, vturb: 1.5 },
        'at12_aaaaa_t08250g4.00.atm': { teff: 8250, logg: 4, feh: -0.2542, afe: 0.2, vturb: 0.5 },
        'at12_aaaaa_t44000g4.50.atm': { teff: 44000, logg: 4.5, feh: -2.2545, afe: 0.2, vturb: 0.5 },
      };
    for (const f of readdirSync(atlas12).sort()) {
      const decks = [];
      for await (const d of readDecks(join(atlas12, f))) decks.push(d);
      expect(decks.length).toBe(1);
      const d = decks[0];
      expect(d.nLayers).toBe(80);
      expect(d.columnNames).toEqual([
        'RHOX',
        'T',
        'P',
        'XNE',
        'ABROSS',
        'ACCRAD',
        'VTURB',
        'FLXCNV',
        'VCONV',
      ]);
      expect(d.abundanceTable?.length).toBe(99);
      expect(d.iterations).toBe(30);
      expect(d.pradk).toBeGreaterThan(0);
      const met = deckMetallicity(d);
      expect(met.reference.name).toBe('asplund2009');
      const e = expected[f];
      expect(d.teffK).toBe(e.teff);
      expect(d.logg).toBe(e.logg);
      expect(met.feh).toBeCloseTo(e.feh, 3);
      expect(met.afe).toBeCloseTo(e.afe, 3);
      const m = deckToAtmosphereModel(d);
      expect(m.vturbKms).toBe(e.vturb);
      expect(m.tauRosseland.length).toBe(80);
    }
  });

  test('the hard-coded solar references agree with atomic/abundances/solar_abundances.csv', async () => {
    const { SOLAR_ASPLUND_2009, SOLAR_CASTELLI_KURUCZ_GS98 } = await import('./abundances.js');
    const lines = readFileSync(join(data!, 'atomic/abundances/solar_abundances.csv'), 'utf8').split(/\r?\n/);
    const rows = lines.filter((l) => /^\d/.test(l)).map((l) => l.split(','));
    const header = lines.find((l) => l.startsWith('Z,'))!.split(',');
    const col = (name: string) => header.indexOf(name);
    for (const z of [8, 12, 14, 20, 22, 26]) {
      const r = rows.find((x) => Number(x[0]) === z)!;
      expect(SOLAR_ASPLUND_2009.logEps[z]).toBeCloseTo(Number(r[col('asplund2009')]), 6);
      expect(SOLAR_CASTELLI_KURUCZ_GS98.logEps[z]).toBeCloseTo(Number(r[col('atlas9_ksun_gs98')]), 6);
    }
  });

  test('Castelli-Kurucz solar model ksun.mod (10 named columns) is solar against GS98', async () => {
    const decks = [];
    for await (const d of readDecks(join(data!, 'atomic/atmosphere/ksun.mod'))) decks.push(d);
    expect(decks[0].nLayers).toBe(72);
    expect(decks[0].columnNames.slice(7)).toEqual(['FLXCNV', 'VCONV', 'VELSND']);
    const met = deckMetallicity(decks[0]);
    expect(met.reference.name).toBe('castelli-kurucz-gs98');
    expect(Math.abs(met.feh)).toBeLessThan(0.01);
    expect(logEpsilon(decks[0], 26)).toBeCloseTo(7.496, 2);
  });
});

describe('Kurucz deck reader: bad input is rejected with file, line and what was expected', () => {
  test('a valid mini deck parses', () => {
    const [d] = parseDecks(miniDeck(), 'mini.dat');
    expect(d.nLayers).toBe(2);
    expect(d.columns[1]).toEqual([4000, 4100]);
    expect(d.pradk).toBe(0.1);
  });

  test('missing depth row (truncated model) names the line and the counts', () => {
    const text = miniDeck(undefined, 3);
    const res = parseDeckResults(text, 'am10k2.dat.gz');
    expect(res.length).toBe(1);
    expect(res[0].ok).toBe(false);
    const err = (res[0] as { error: DeckParseError }).error;
    expect(err).toBeInstanceOf(DeckParseError);
    expect(err.code).toBe('truncated');
    expect(err.message).toBe('am10k2.dat.gz:7: expected 3 depth rows, found 2');
  });

  test('file cut in the middle of the rows', () => {
    const text = miniDeck().split('\n').slice(0, 5).join('\n');
    expect(() => parseDecks(text, 'cut.dat')).toThrow(
      /^cut\.dat:6: expected 2 depth rows, found 1 \(end of file\)$/,
    );
  });

  test('a row with too few numbers', () => {
    const text = miniDeck([
      ' 1.0E-03  4000.0 1.0E+01 1.0E+10 1.0E-02 1.0E-01 2.0E+05',
      ' 2.0E-03  4100.0 2.0E+01 2.0E+10 2.0E-02 1.0E-01',
    ]);
    expect(() => parseDecks(text, 'few.dat')).toThrow(
      /^few\.dat:6: expected 7 numbers in depth row 2, found 6$/,
    );
  });

  test('NaN and Inf are rejected', () => {
    expect(() =>
      parseDecks(
        miniDeck([
          ' 1.0E-03  NaN 1.0E+01 1.0E+10 1.0E-02 1.0E-01 2.0E+05',
          ' 2.0E-03  4100.0 2.0E+01 2.0E+10 2.0E-02 1.0E-01 2.0E+05',
        ]),
        'nan.dat',
      ),
    ).toThrow(/nan\.dat:5: expected finite numbers in depth row 1, found "NaN"/);
    expect(() =>
      parseDecks(
        miniDeck([
          ' 1.0E-03  4000.0 Infinity 1.0E+10 1.0E-02 1.0E-01 2.0E+05',
          ' 2.0E-03  4100.0 2.0E+01 2.0E+10 2.0E-02 1.0E-01 2.0E+05',
        ]),
        'inf.dat',
      ),
    ).toThrow(/inf\.dat:5: .*"Infinity"/);
    expect(() =>
      parseDecks(
        miniDeck([
          ' 1.0E-03  4000.0 1.0E+01 1.0E+10 1.0E-02 1.0E-01 2.0E+05',
          ' 2.0E-03  4100.0 2.0E+01 2.0E+10 2.0E-02 1.0E-01 ********',
        ]),
        'ovf.dat',
      ),
    ).toThrow(/ovf\.dat:6: expected numbers in depth row 2, found "\*\*\*\*\*\*\*\*"/);
  });

  test('a negative value in a positive-definite column', () => {
    expect(() =>
      parseDecks(
        miniDeck([
          ' 1.0E-03  4000.0 1.0E+01 1.0E+10 1.0E-02 1.0E-01 2.0E+05',
          ' 2.0E-03  4100.0 -2.0E+01 2.0E+10 2.0E-02 1.0E-01 2.0E+05',
        ]),
        'neg.dat',
      ),
    ).toThrow(/^neg\.dat:6: expected P > 0 in depth row 2, found -2\.0E\+01$/);
  });

  test('a file that is not a deck, and an empty file', () => {
    expect(() => parseDecks('hello world\n1 2 3\n', 'notes.txt')).toThrow(
      /^notes\.txt:1: expected a TEFF card, found "hello world": not a Kurucz deck$/,
    );
    expect(() => parseDecks('', 'empty.dat')).toThrow(/^empty\.dat: empty file/);
  });

  test('one bad model in a grid file does not lose the next ones', () => {
    const bad = miniDeck([
      ' 1.0E-03  4000.0 1.0E+01 1.0E+10 1.0E-02 1.0E-01 2.0E+05',
      ' 2.0E-03  NaN 2.0E+01 2.0E+10 2.0E-02 1.0E-01 2.0E+05',
    ]);
    const res = parseDeckResults(miniDeck() + bad + miniDeck(), 'grid.dat');
    expect(res.map((r) => r.ok)).toEqual([true, false, true]);
    expect((res[2] as { ok: true; deck: { line: number } }).deck.line).toBe(17);
  });

  test('gzip is detected from the bytes; a truncated gzip file is rejected', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'deck-'));
    const gz = gzipSync(Buffer.from(miniDeck() + miniDeck()));
    await writeFile(join(dir, 'ok.dat'), gz);
    const decks = [];
    let sha = '';
    for await (const d of readDecks(join(dir, 'ok.dat'), { onSha256: (h) => (sha = h) })) decks.push(d);
    expect(decks.length).toBe(2);
    expect(sha).toMatch(/^[0-9a-f]{64}$/);
    await writeFile(join(dir, 'cut.dat.gz'), gz.subarray(0, gz.length - 20));
    const res = [];
    for await (const r of readDeckResults(join(dir, 'cut.dat.gz'))) res.push(r);
    const errs = res.filter((r) => !r.ok).map((r) => (r as { error: DeckParseError }).error);
    expect(errs.length).toBeGreaterThan(0);
    expect(errs[0].message).toMatch(new RegExp(`^${basename('cut.dat.gz').replace('.', '\\.')}`));
  });
});
