// What an emulator needs to write decks like those of the grid it learned: the grid's solar abundance mix and its PRADK.
import { median, SPEED_OF_LIGHT_CM_S, STEFAN_BOLTZMANN_ERG_CM2_S_K4 } from '@stellar-emu/numerics';
import type { KuruczDeck } from './deck.js';
import { KURUCZ_1993_SOLAR_ABUNDANCE_CHANGE } from './write-deck.js';

/** Stefan–Boltzmann constant over the speed of light, dyn cm⁻² K⁻⁴. */
const SIGMA_OVER_C = STEFAN_BOLTZMANN_ERG_CM2_S_K4 / SPEED_OF_LIGHT_CM_S;

/**
 * The grid-level card values of a set of Kurucz decks, recorded at ingest (manifest
 * `notes.deckDefaults`) and carried into the models trained on them, so that a deck exported from
 * an emulator declares the abundance mix of its training grid and a PRADK like the grid's.
 */
export interface DeckDefaults {
  /** ABUNDANCE CHANGE for Z = 1..99 (index Z−1; Z = 1, 2 number fractions, Z ≥ 3 log10 N/N_tot) at [M/H] = 0, [alpha/Fe] = 0. */
  abundanceChange: number[];
  /** Where the mix was read: `file:line` of the first deck with [alpha/Fe] = 0 that lists all 99 elements. */
  abundanceFrom: string;
  /** Decks whose mix (after removing their [alpha/Fe] on O, Mg, Si, Ca, Ti) differs from it by more than 0.005 dex. */
  abundanceDiffering: number;
  /** Decks seen. */
  decks: number;
  /** PRADK / (σ Teff⁴ / c), median per distinct Teff of the grid (ascending), from the decks' PRADK cards. */
  pradkRatio: { teffK: number[]; ratio: number[] };
}

/** Collects {@link DeckDefaults} from decks as an ingest streams them (memory: one number per deck). */
export class DeckDefaultsCollector {
  private mix: number[] | null = null;
  private from = '';
  private pending: { change: Map<number, number>; afe: number }[] = [];
  private differing = 0;
  private decks = 0;
  private readonly ratios = new Map<number, number[]>();

  /** Add one deck; `afe` is its [alpha/Fe] as ingest derived it. */
  add(deck: KuruczDeck, afe: number): void {
    this.decks++;
    if (deck.pradk !== null && Number.isFinite(deck.pradk) && deck.pradk > 0 && deck.teffK > 0) {
      const r = deck.pradk / (SIGMA_OVER_C * deck.teffK ** 4);
      const list = this.ratios.get(deck.teffK) ?? [];
      list.push(r);
      this.ratios.set(deck.teffK, list);
    }
    const change = deck.abundanceChange;
    if (this.mix === null) {
      const full = Array.from({ length: 99 }, (_, i) => change.get(i + 1));
      if (Math.abs(afe) < 1e-6 && full.every((v) => v !== undefined && Number.isFinite(v))) {
        this.mix = full as number[];
        this.from = `${deck.source}:${deck.line}`;
        for (const p of this.pending) this.compare(p.change, p.afe);
        this.pending = [];
      } else if (this.pending.length < 10_000) this.pending.push({ change, afe });
      return;
    }
    this.compare(change, afe);
  }

  private compare(change: Map<number, number>, afe: number): void {
    const mix = this.mix!;
    const alpha = new Set([8, 12, 14, 20, 22]);
    for (const [z, v] of change) {
      if (z < 1 || z > 99) continue;
      const expected = z >= 3 && alpha.has(z) ? mix[z - 1] + afe : mix[z - 1];
      if (Math.abs(v - expected) > (z <= 2 ? 0.005 : 0.0051)) {
        this.differing++;
        return;
      }
    }
  }

  /** The defaults, or null when no deck had a full mix at [alpha/Fe] = 0 and none had PRADK. */
  result(): DeckDefaults | null {
    const teffs = [...this.ratios.keys()].sort((a, b) => a - b);
    if (this.mix === null && teffs.length === 0) return null;
    return {
      abundanceChange: this.mix ?? [...KURUCZ_1993_SOLAR_ABUNDANCE_CHANGE],
      abundanceFrom: this.mix ? this.from : 'not in the decks: the Kurucz 1993 (Anders & Grevesse 1989) mix',
      abundanceDiffering: this.differing + (this.mix ? 0 : this.pending.length),
      decks: this.decks,
      pradkRatio: { teffK: teffs, ratio: teffs.map((t) => median(this.ratios.get(t)!)) },
    };
  }
}

/**
 * PRADK (radiation pressure at the surface, dyn cm⁻²) for an emulated atmosphere: σ Teff⁴ / c
 * times the grid's PRADK ratio at that Teff (linear in Teff between the grid's Teff values,
 * constant beyond them). Without a grid ratio, 2/3: the Eddington approximation, P_rad(0) =
 * 4πK(0)/c with K(0) = J(0)/3 = 2H/3 and 4πH = σ Teff⁴. (The ATLAS9 grids: 0.70 for most
 * models, 0.95 for 9,000–30,000 K.) PRADK is not an emulated
 * quantity: ATLAS uses it as the starting value when it iterates the model; synthesis codes ignore it.
 */
export function estimatePradk(teffK: number, defaults?: Pick<DeckDefaults, 'pradkRatio'> | null): number {
  const t = defaults?.pradkRatio.teffK ?? [];
  const r = defaults?.pradkRatio.ratio ?? [];
  let ratio = 2 / 3;
  if (t.length === 1) ratio = r[0];
  else if (t.length > 1) {
    if (teffK <= t[0]) ratio = r[0];
    else if (teffK >= t[t.length - 1]) ratio = r[r.length - 1];
    else {
      let i = 0;
      while (t[i + 1] < teffK) i++;
      const w = (teffK - t[i]) / (t[i + 1] - t[i]);
      ratio = r[i] + w * (r[i + 1] - r[i]);
    }
  }
  return ratio * SIGMA_OVER_C * teffK ** 4;
}
