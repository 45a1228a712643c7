// The grid-level deck values recorded at ingest, against the real ATLAS9 file they come from.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { median, SPEED_OF_LIGHT_CM_S, STEFAN_BOLTZMANN_ERG_CM2_S_K4 } from '@stellar-emu/numerics';
import { ingestAtmospheres } from '../ingest/ingest.js';
import { realDataDir } from '../testing/real-data.js';
import { type DeckDefaults, estimatePradk } from './deck-defaults.js';
import type { KuruczDeck } from './deck.js';
import { readDecks } from './read-deck.js';
import { KURUCZ_1993_SOLAR_ABUNDANCE_CHANGE } from './write-deck.js';

const data = realDataDir();

describe('estimatePradk', () => {
  it('is the Eddington (2/3) σT⁴/c without a grid, and interpolates the grid ratio linearly in Teff', () => {
    const sigmaOverC = STEFAN_BOLTZMANN_ERG_CM2_S_K4 / SPEED_OF_LIGHT_CM_S;
    expect(estimatePradk(5000) / (sigmaOverC * 5000 ** 4)).toBeCloseTo(2 / 3, 12);
    const d = { pradkRatio: { teffK: [4000, 6000], ratio: [0.7, 0.9] } };
    expect(estimatePradk(5000, d) / (sigmaOverC * 5000 ** 4)).toBeCloseTo(0.8, 12);
    expect(estimatePradk(3000, d) / (sigmaOverC * 3000 ** 4)).toBeCloseTo(0.7, 12);
    expect(estimatePradk(9000, d) / (sigmaOverC * 9000 ** 4)).toBeCloseTo(0.9, 12);
  });
});

describe.skipIf(!data)('real data: deck defaults of the ATLAS9 [M/H] = 0 grid', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'deck-defaults-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('records the grid’s own mix (Anders & Grevesse 1989, as its headers say) and a PRADK ratio that reproduces its PRADK cards', async () => {
    const file = join(data!, 'atlas9-kurucz1993', 'ap00k2.dat.gz');
    const res = await ingestAtmospheres([file], join(dir, 'ap00'));
    const d = res.manifest.notes!.deckDefaults as DeckDefaults;
    expect(d.decks).toBe(res.ingested);
    expect(d.abundanceDiffering).toBe(0);
    expect(d.abundanceFrom).toMatch(/ap00k2\.dat\.gz:\d+$/);
    // the first deck's ABUNDANCE CHANGE cards, read independently
    const decks: KuruczDeck[] = [];
    for await (const k of readDecks(file)) decks.push(k);
    expect(d.abundanceChange).toEqual(
      Array.from({ length: 99 }, (_, i) => decks[0].abundanceChange.get(i + 1)),
    );
    expect(d.abundanceChange).toEqual([...KURUCZ_1993_SOLAR_ABUNDANCE_CHANGE]);
    // PRADK from the recorded ratio against every deck's own PRADK card
    const rel = decks.map((k) => Math.abs(estimatePradk(k.teffK, d) / k.pradk! - 1));
    expect(median(rel)).toBeLessThan(0.02);
    expect(Math.max(...rel)).toBeLessThan(0.4);
  });
});
