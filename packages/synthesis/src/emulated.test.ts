// The comparison's plumbing without PySME: windows, the emulated atmosphere, the spectrum cache.
import { mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDecks, rosselandTau } from '@stellar-emu/grid-io';
import {
  emulatedAtmosphere,
  monotoneColumnMass,
  SpectrumCache,
  trueDeck,
  UnphysicalAtmosphereError,
  windowGrid,
  windowWavelengths,
} from './emulated.js';
import { padToWindow } from './engine.js';

const DECK = `TEFF   5750.  GRAVITY 4.50000 LTE
TITLE SDSC GRID  [+0.2]   VTURB 2.0 KM/S    L/H 1.25
 OPACITY IFOP 1 1 1 1 1 1 1 1 1 1 1 1 1 0 1 0 0 0 0 0
 CONVECTION ON   1.25 TURBULENCE OFF  0.00  0.00  0.00  0.00
ABUNDANCE SCALE   1.58489 ABUNDANCE CHANGE 1 0.91100 2 0.08900
${Array.from({ length: 97 }, (_, k) => ` ABUNDANCE CHANGE ${k + 3} ${(-4 - k / 10).toFixed(2)}`).join('\n')}
READ DECK6  4 RHOX,T,P,XNE,ABROSS,ACCRAD,VTURB
 1.00000000E-03   4000.0 1.000E+01 1.000E+10 1.000E-02 1.000E-03 2.000E+05
 1.00000000E-02   4500.0 1.000E+02 1.000E+11 2.000E-02 1.000E-03 2.000E+05
 1.00000000E-01   5500.0 1.000E+03 1.000E+12 5.000E-02 1.000E-03 2.000E+05
 1.00000000E+00   8000.0 1.000E+04 1.000E+13 1.000E+00 1.000E-03 2.000E+05
PRADK 1.0000E-01
`;

describe('spectra of emulated atmospheres (no PySME)', () => {
  test('windows: pixel grids and their concatenated wavelengths; a window under 16 pixels is refused', () => {
    expect(windowGrid([4450, 4650], 0.02)).toEqual({ startAngstrom: 4450, stepAngstrom: 0.02, n: 10000 });
    const w = windowWavelengths({
      windows: [
        [5000, 5001],
        [6000, 6001],
      ],
      stepAngstrom: 0.05,
    });
    expect(w.length).toBe(40);
    expect(w[0]).toBe(5000);
    expect(w[19]).toBeCloseTo(5000.95, 9);
    expect(w[20]).toBe(6000);
    expect(() => windowGrid([5000, 5000.5], 0.05)).toThrow(/10 pixels; at least 16/);
  });

  test('the emulated atmosphere takes the depth structure from the emulator at the deck’s labels and tau, everything else from the deck', () => {
    const [deck] = parseDecks(DECK, 'deck.dat');
    const t = trueDeck(deck);
    expect(t.labels.teffK).toBe(5750);
    expect(t.labels.feh).toBeCloseTo(0.2, 5);
    expect(t.tauRosseland).toEqual(rosselandTau([1e-3, 1e-2, 1e-1, 1], [1e-2, 2e-2, 5e-2, 1]));
    let seen: { labels: unknown; tau: number[] } | null = null;
    const emu = (labels: unknown, tau: number[]) => {
      seen = { labels, tau };
      return {
        rhox: [2e-3, 2e-2, 2e-1, 2],
        temperature: [4100, 4600, 5600, 8100],
        pressure: [11, 110, 1100, 11000],
        xne: [1e10, 1e11, 1e12, 1e13],
      };
    };
    const atm = emulatedAtmosphere(t, emu, 'pinn:test');
    expect(seen!.labels).toEqual(t.labels);
    expect(seen!.tau).toEqual(t.tauRosseland);
    expect(Array.from(atm.temperature)).toEqual([4100, 4600, 5600, 8100]);
    expect(atm.abundancePattern).toEqual(t.atmosphere.abundancePattern);
    expect(atm.opacityIfop).toEqual(t.atmosphere.opacityIfop);
    expect(atm.source).toBe('pinn:test');
    const bad = () => ({
      rhox: [2e-3, 2e-2, 1e-2, 2],
      temperature: [1, 1, 1, 1],
      pressure: [1, 1, 1, 1],
      xne: [1, 1, 1, 1],
    });
    expect(() => emulatedAtmosphere(t, bad, 'pinn:test')).toThrow(UnphysicalAtmosphereError);
    expect(() => emulatedAtmosphere(t, bad, 'pinn:test')).toThrow(
      /deck\.dat:1: RHOX does not increase inwards \(layer 2/,
    );
    const nan = () => ({ ...emu(null, []), temperature: [4100, Number.NaN, 5600, 8100] });
    expect(() => emulatedAtmosphere(t, nan, 'pinn:test')).toThrow(/temperature\[1\] = NaN/);
  });

  test('a column mass that does not increase inwards is rebuilt from the tau scale in those layers only (the inverse of rosselandTau)', () => {
    const [deck] = parseDecks(DECK, 'deck.dat');
    const t = trueDeck(deck);
    const trueRhox = [1e-3, 1e-2, 1e-1, 1];
    const abross = [1e-2, 2e-2, 5e-2, 1];
    // The deck's own structure: nothing to repair.
    expect(monotoneColumnMass(trueRhox, t.tauRosseland, abross, 'x')).toEqual({
      rhox: trueRhox,
      repair: null,
    });
    // Layer 3 predicted below layer 2: rebuilt with dτ / (½(κ2 + κ3)) = the true increment (closed form).
    const predicted = [1e-3, 1e-2, 1e-1, 0.09];
    const { rhox, repair } = monotoneColumnMass(predicted, t.tauRosseland, abross, 'x');
    expect(rhox.slice(0, 3)).toEqual(predicted.slice(0, 3));
    expect(rhox[3]).toBeCloseTo(1, 12);
    expect(repair!.layers).toEqual([3]);
    expect(repair!.maxRelativeChange).toBeCloseTo(1 / 0.09 - 1, 10);
    // Two layers in a row (the second one is compared with the rebuilt first).
    const two = monotoneColumnMass([1e-3, 1e-2, 5e-3, 6e-3], t.tauRosseland, abross, 'x');
    expect(two.repair!.layers).toEqual([2, 3]);
    expect(two.rhox[2]).toBeCloseTo(0.1, 12);
    expect(two.rhox[3]).toBeCloseTo(1, 12);
    // Through emulatedAtmosphere: with the emulator's ABROSS the atmosphere is usable and says what changed.
    const emu = () => ({
      rhox: predicted,
      temperature: [4100, 4600, 5600, 8100],
      pressure: [11, 110, 1100, 11000],
      xne: [1e10, 1e11, 1e12, 1e13],
      abross,
    });
    const atm = emulatedAtmosphere(t, emu, 'pinn:test');
    expect(Array.from(atm.rhox)[3]).toBeCloseTo(1, 12);
    expect(atm.rhoxRepair!.layers).toEqual([3]);
    // A non-positive opacity cannot rebuild anything: still unusable, named.
    const noKappa = () => ({ ...emu(), abross: [1e-2, 2e-2, 5e-2, -1] });
    expect(() => emulatedAtmosphere(t, noKappa, 'pinn:test')).toThrow(/abross\[3\] = -1/);
    expect(() => monotoneColumnMass(predicted, [0, 1, 2, 2], abross, 'deck.dat:1')).toThrow(
      /deck\.dat:1: RHOX does not increase inwards \(layer 3.*cannot be rebuilt/,
    );
  });

  test('the spectrum cache: keyed by the atmosphere’s content and the context, written atomically, a truncated file is a miss', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'se-spectrum-cache-'));
    const [deck] = parseDecks(DECK, 'deck.dat');
    const t = trueDeck(deck);
    const labels = { teffK: 5750, logg: 4.5, mh: 0.2 };
    const cache = new SpectrumCache(dir, 'settings-a');
    const key = cache.key(t.atmosphere, labels);
    expect(key).toBe(new SpectrumCache(dir, 'settings-a').key(t.atmosphere, labels));
    expect(key).not.toBe(new SpectrumCache(dir, 'settings-b').key(t.atmosphere, labels));
    expect(key).not.toBe(cache.key({ ...t.atmosphere, temperature: [4000, 4500, 5500, 8001] }, labels));
    expect(key).not.toBe(cache.key(t.atmosphere, { ...labels, mh: 0.3 }));
    expect(await cache.get(key, 3)).toBeNull();
    await cache.put(key, new Float32Array([1, 0.5, 0.25]));
    expect(Array.from((await cache.get(key, 3))!)).toEqual([1, 0.5, 0.25]);
    expect(await cache.get(key, 4)).toBeNull();
    await writeFile(join(dir, `${key}.f32`), Buffer.alloc(5));
    expect(await cache.get(key, 3)).toBeNull();
    expect((await readdir(dir)).filter((f) => f.startsWith('.tmp'))).toEqual([]);
  });
});

describe('padToWindow (PySME grids that end short of a line-free edge)', () => {
  const si = (w: number[], ratioAtEdges = 1) => ({
    mu: new Float64Array([1, 0.5]),
    wavelengthAngstrom: new Float64Array(w),
    continuum: [
      new Float64Array(w.map((x) => 1 + 1e-3 * (x - 5000))),
      new Float64Array(w.map((x) => 0.8 + 1e-3 * (x - 5000))),
    ],
    intensity: [
      new Float64Array(
        w.map((x, i) => (1 + 1e-3 * (x - 5000)) * (i === 0 || i === w.length - 1 ? ratioAtEdges : 0.5)),
      ),
      new Float64Array(
        w.map((x, i) => (0.8 + 1e-3 * (x - 5000)) * (i === 0 || i === w.length - 1 ? ratioAtEdges : 0.5)),
      ),
    ],
  });
  test('a line-free edge is extended with the continuum, linear in wavelength, and said', () => {
    const r = padToWindow(si([5001, 5001.6, 5002, 5003]), 5000, 5005);
    expect(Array.from(r.wavelengthAngstrom)).toEqual([5000, 5001, 5001.6, 5002, 5003, 5005]);
    expect(r.continuum[0][0]).toBeCloseTo(1, 12);
    expect(r.continuum[1][5]).toBeCloseTo(0.805, 12);
    expect(r.intensity[1][5]).toBeCloseTo(0.805, 12);
    expect(r.padded.join(' ')).toMatch(/began at 5001\.000 Å .* extended to 5000\.000 Å.*/);
    expect(r.padded.join(' ')).toMatch(/ended at 5003\.000 Å/);
  });
  test('a grid that covers the window is unchanged; one that ends inside a line is not extended', () => {
    const full = si([5000, 5002, 5005]);
    expect(padToWindow(full, 5000, 5005).wavelengthAngstrom).toBe(full.wavelengthAngstrom);
    const inLine = padToWindow(si([5001, 5002, 5003], 0.9), 5000, 5005);
    expect(inLine.padded).toEqual([]);
    expect(inLine.wavelengthAngstrom.length).toBe(3);
  });
});
