import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { assertAllClose } from '@stellar-emu/numerics/testing';
import { realDataDir } from '../testing/real-data.js';
import type { KuruczDeck } from './deck.js';
import { parseDecks, readDecks } from './read-deck.js';
import { deckToAtmosphereModel } from './to-model.js';
import { atmosphereModelToDeck, formatDeck, formatFortranE } from './write-deck.js';

const data = realDataDir();

/** Every number a deck carries, for exact comparison after a round trip. */
function numbersOf(d: KuruczDeck) {
  return {
    teffK: d.teffK,
    logg: d.logg,
    lteFlag: d.lteFlag,
    title: d.title,
    ifop: d.opacityIfop,
    convection: d.convection,
    turbulence: d.turbulence,
    scale: d.abundanceScale,
    change: [...d.abundanceChange.entries()],
    table: d.abundanceTable,
    names: d.columnNames,
    nLayers: d.nLayers,
    columns: d.columns,
    pradk: d.pradk,
    iterations: d.iterations,
  };
}

test('Fortran E formatting', () => {
  expect(formatFortranE(1.84979756e-2, 8)).toBe('1.84979756E-02');
  expect(formatFortranE(-2.5e5, 3)).toBe('-2.500E+05');
  expect(formatFortranE(0, 3)).toBe('0.000E+00');
});

describe.skipIf(!data)(
  'Kurucz deck writer: read -> write -> read gives the same numbers for every real file',
  () => {
    const files = data
      ? [
          ...readdirSync(join(data, 'atlas9-kurucz1993'))
            .filter((f) => f.endsWith('.dat.gz'))
            .map((f) => join(data, 'atlas9-kurucz1993', f)),
          ...readdirSync(join(data, 'atlas12-samples')).map((f) => join(data, 'atlas12-samples', f)),
          join(data, 'atomic/atmosphere/ksun.mod'),
        ]
      : [];
    test.each(files)('%s', async (path) => {
      let n = 0;
      let text = '';
      const originals: ReturnType<typeof numbersOf>[] = [];
      for await (const d of readDecks(path)) {
        text += formatDeck(d);
        originals.push(numbersOf(d));
        n++;
      }
      const back = parseDecks(text, 'roundtrip');
      expect(back.length).toBe(n);
      back.forEach((d, i) => expect(numbersOf(d), `model ${i}`).toEqual(originals[i]));
    });
  },
);

describe.skipIf(!data)('decks from AtmosphereModels (emulator export)', () => {
  test('model -> deck -> model keeps labels and depth quantities at the printed precision', async () => {
    for await (const d of readDecks(join(data!, 'atlas12-samples/at12_aaaaa_t08250g4.00.atm'))) {
      const m = deckToAtmosphereModel(d);
      const text = formatDeck(atmosphereModelToDeck(m));
      const back = deckToAtmosphereModel(parseDecks(text, 'export')[0]);
      expect(back.teffK).toBe(m.teffK);
      expect(back.logg).toBe(m.logg);
      expect(back.mh).toBeCloseTo(m.mh, 3);
      expect(back.vturbKms).toBe(m.vturbKms);
      assertAllClose(back.rhox, m.rhox, { rtol: 5e-9 });
      assertAllClose(back.temperature, m.temperature, { atol: 0.05 });
      for (const q of ['pressure', 'xne', 'abross', 'accrad'] as const)
        assertAllClose(back[q], m[q], { rtol: 5e-4, label: q });
      // the alpha enhancement is carried by the ABUNDANCE CHANGE cards
      expect(back.afe).toBeCloseTo(m.afe, 2);
    }
  });
});
