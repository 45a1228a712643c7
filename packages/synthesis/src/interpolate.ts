/**
 * Model atmospheres for any labels by interpolation in a real ATLAS9 grid (e.g. Kurucz's 1993
 * "SDSC GRID", the atmospheres PySME synthesizes spectra from).
 *
 * ## Method
 *
 * Trilinear interpolation in (Teff, log g, [M/H]) between the grid models that bracket the
 * target on each axis, done as nested linear interpolations so that an irregular grid is handled
 * without pretending it is a full box:
 *
 * 1. [M/H]: the two neighbouring [M/H] values of the grid (or the one value the target sits on).
 * 2. Teff: *at each of those [M/H]*, the two neighbouring Teff values among the models that exist
 *    at that [M/H] (the Kurucz 1993 ladders differ: 250 K steps to 13000 K at [M/H] = 0,
 *    500 K steps from 10000 K elsewhere).
 * 3. log g: *at each of those (Teff, [M/H])*, the two neighbouring log g values among the
 *    models that exist there (at high Teff the low-gravity models are missing).
 *
 * The weight of a corner model is the product of its three 1D weights; with a full box this is
 * exactly trilinear interpolation over 8 corners, and when the target lies on a grid value of an
 * axis (within {@link NODE_TOLERANCE}) that axis contributes one corner with weight 1, so a target
 * on a node returns that node's model. A gap *inside* a ladder is bridged (the neighbours are the
 * nearest existing models on either side; this is what makes leave-one-out tests possible), but
 * the target is never extrapolated: labels outside the grid's axes, or a bracket missing on one
 * side at some [M/H] or (Teff, [M/H]) (e.g. Teff 30000 K, log g 2.0), throw an
 * {@link AtmosphereExtrapolationError} naming the labels and the missing corner.
 *
 * Weights are linear in log g and [M/H], and linear in log10 Teff (`{ teffWeighting: 'linear' }`
 * selects linear-in-Teff weights). Evidence: leave-one-out over all 1,372 interior Kurucz 1993
 * models with Teff 4000–11000 K, log g 2–5, [M/H] −1…+0.5 whose neighbours exist, interpolating
 * across a double step and comparing over log tau −5…1. With the model's Teff column removed at
 * its [M/H], log-Teff weights gave the smaller median and worst per-model T error (0.36 % / 4.7 %
 * against 0.39 % / 5.1 %) and point-wise median T error (0.05 % against 0.08 %); with all three
 * axes stepped over, again the smaller T errors (0.61 % / 4.1 % against 0.64 % / 4.5 %). P and
 * RHOX came out slightly better with linear weights (Teff step: P median 4.21 % against 4.35 %),
 * XNE was mixed, so the two are close; T decided, because line strengths depend on it most
 * steeply (Boltzmann and Saha factors). `interpolate.test.ts` prints both on its sample.
 *
 * Depth: each corner model is first put on one common log10 tau_Ross grid with grid-io's
 * `resampleToLogTau` (PCHIP in log10 tau, in log10 of the positive quantities). The common grid is
 * the ATLAS9 depth ladder log10 tau = k/8 (0.125 dex, the step of Kurucz's 72-point ladder)
 * inside the *intersection* of the corner models' tau ranges (tau from grid-io's `rosselandTau`),
 * plus the two ends of that intersection so that no part of the common depth range is lost
 * (ladder points closer than 1/32 dex to an end are dropped). For a single model (a node) this
 * keeps its first and last layer exactly. Then log10 of RHOX, T, P, XNE and ABROSS and the plain
 * value of ACCRAD are combined linearly with the corner weights. `tauRosseland` of the result is
 * the common grid (10^log10 tau); it is not recomputed from the interpolated RHOX and ABROSS.
 */
import { readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  atmosphereContentId,
  DECK_FILE_PATTERN,
  deckToAtmosphereModel,
  LOG_ATMOSPHERE_QUANTITIES,
  readDecks,
  resampleToLogTau,
  type AtmosphereModel,
  type AtmosphereQuantity,
  type KuruczDeck,
} from '@stellar-emu/grid-io';

/** Atomic numbers of the abundance pattern: Z = 1 .. 99 (the ABUNDANCE CHANGE cards of an ATLAS9 deck). */
const PATTERN_MAX_Z = 99;

/** Step (dex) of the common log10 tau ladder: Kurucz's ATLAS9 ladder, log10 tau = -6.875 .. +2.0 by 0.125. */
export const LOG_TAU_LADDER_STEP = 0.125;

/** Ladder points closer than this (dex) to an end of the common tau range are dropped (the end itself is kept). */
const LADDER_END_MARGIN = LOG_TAU_LADDER_STEP / 4;

/**
 * How close (in the axis' unit) a label must be to a grid value to count as on it: Teff in K,
 * log g in dex, [M/H] in dex. The [M/H] tolerance covers the deck's printed ABUNDANCE SCALE
 * (log10(0.3162) = -0.50003 for the nominal -0.5 grid).
 */
export const NODE_TOLERANCE = { teffK: 1e-3, logg: 1e-5, mh: 1e-4 } as const;

/** Axis values are rounded to these quanta (Teff K, log g dex, [M/H] dex) so that -0.50003 and -0.5 are one [M/H] value. */
const AXIS_QUANTUM = { teffK: 1e-3, logg: 1e-4, mh: 1e-3 } as const;

/** A loaded ATLAS grid: its models, provenance and axes. */
export interface AtlasGrid {
  /** Folder the decks came from (absolute path). */
  readonly source: string;
  /** Each deck file read (path and sha256 hex of its raw bytes): provenance. */
  readonly files: { path: string; sha256: string }[];
  /** The grid models (grid-io's `deckToAtmosphereModel`, in file order). */
  readonly models: readonly AtmosphereModel[];
  /**
   * The grid's solar abundance pattern as printed in the decks: the ABUNDANCE CHANGE values for
   * Z = 1..99 at index z-1 (H and He as number fractions N/Ntot, Z >= 3 as log10 N/Ntot at
   * ABUNDANCE SCALE 1). It should be identical in every deck of a Kurucz grid; it is the pattern
   * of the majority of the decks, and every deck that differs is listed in
   * {@link AtlasGrid.abundanceDeviations} (see {@link loadAtlasGrid} for when that throws).
   */
  readonly abundancePattern: number[];
  /**
   * Decks whose ABUNDANCE CHANGE values differ from {@link AtlasGrid.abundancePattern}: one entry
   * per model and element (Kurucz 1993: two [M/H] = -3.0 decks print Li = -6.84 instead of -10.88).
   */
  readonly abundanceDeviations: readonly AbundanceDeviation[];
  /** The 20 OPACITY IFOP switches of the grid (those of the majority of the decks; see {@link AtlasGrid.excluded}). */
  readonly opacityIfop: number[];
  /**
   * Decks left out of `models` because they were computed with other OPACITY IFOP switches than
   * the grid's (other physics; Kurucz 1993: one [M/H] = -3.5 deck, Teff 4250 K, log g 0.0, with
   * switch 15, LINES in ATLAS9's list, off). Interpolating across them would mix two kinds of model.
   */
  readonly excluded: readonly ExcludedDeck[];
  /** Axis values present in the grid, ascending: teffK (K), logg (dex, cgs), mh ([M/H], dex; rounded to 0.001 dex). */
  readonly axes: { teffK: number[]; logg: number[]; mh: number[] };
  /** Microturbulence of the grid's models (km/s), from the TITLE cards (2.0 for Kurucz 1993); null when the titles do not state it. */
  readonly vturbKms: number | null;
}

/** One element of one deck whose ABUNDANCE CHANGE value differs from the grid's pattern. */
export interface AbundanceDeviation {
  /** Model id (content hash). */
  id: string;
  /** Deck file and 1-based line of its TEFF card. */
  source: string;
  line: number;
  /** Atomic number and the deck's value, against the grid pattern's value. */
  z: number;
  value: number;
  pattern: number;
}

/** A deck that {@link loadAtlasGrid} left out of the grid, and why. */
export interface ExcludedDeck extends Pick<
  AtmosphereModel,
  'id' | 'source' | 'line' | 'teffK' | 'logg' | 'mh'
> {
  reason: string;
}

/** Options of {@link loadAtlasGrid}. */
export interface LoadAtlasGridOptions {
  /**
   * Throw when any deck differs from the majority in its abundance pattern or OPACITY IFOP
   * switches (default false: abundance deviations are kept and listed in `abundanceDeviations`,
   * decks with other IFOP switches are left out and listed in `excluded`).
   */
  strict?: boolean;
}

/** Target labels: Teff in K, log g in dex (cgs), [M/H] in dex. */
export interface AtmosphereLabels {
  teffK: number;
  logg: number;
  mh: number;
}

/** One corner model of an interpolation: its id, its grid labels (axis values) and its weight. */
export interface InterpolationCorner {
  id: string;
  teffK: number;
  logg: number;
  mh: number;
  weight: number;
}

/** An interpolated atmosphere: an AtmosphereModel plus the corner models it was made from. */
export interface InterpolatedAtmosphere extends AtmosphereModel {
  /** Ids, grid labels and weights (summing to 1) of the corner models used; one corner with weight 1 on a node. */
  corners: InterpolationCorner[];
}

/** How the Teff weights are computed: linear in log10 Teff (default) or linear in Teff. */
export type TeffWeighting = 'linear' | 'log';

/** Options of {@link interpolateAtmosphere}. */
export interface InterpolateOptions {
  /** Teff weights linear in log10 Teff (`'log'`, the default, chosen by the leave-one-out test) or in Teff (`'linear'`). */
  teffWeighting?: TeffWeighting;
}

/** Why labels cannot be interpolated. */
export type ExtrapolationReason = 'non-finite' | 'outside-axes' | 'missing-corner';

/**
 * Labels the grid cannot interpolate: a non-finite label, a label outside the grid's axes, or a
 * needed corner model missing (the grid is not a full box). `name` is `'ExtrapolationError'`,
 * which the pipeline treats as non-retryable. The message names the labels and the missing corner.
 */
export class AtmosphereExtrapolationError extends Error {
  override readonly name = 'ExtrapolationError';
  constructor(
    readonly reason: ExtrapolationReason,
    /** The requested labels. */
    readonly labels: AtmosphereLabels,
    /** The corner that is missing (null in a label means "any value of that axis"), or null. */
    readonly missing: { teffK: number | null; logg: number | null; mh: number | null } | null,
    message: string,
  ) {
    super(message);
  }
}

// ---------------------------------------------------------------------------------------------
// Loading

function roundTo(x: number, quantum: number): number {
  return Math.round(x / quantum) * quantum;
}

/** Axis value of a model label (rounded; Number(toFixed) removes the binary noise of the product). */
function axisValue(x: number, axis: keyof typeof AXIS_QUANTUM): number {
  const q = AXIS_QUANTUM[axis];
  const decimals = Math.max(0, Math.round(-Math.log10(q)));
  return Number(roundTo(x, q).toFixed(decimals));
}

function abundancePatternOf(deck: KuruczDeck): number[] {
  const out: number[] = [];
  for (let z = 1; z <= PATTERN_MAX_Z; z++) {
    const v = deck.abundanceChange.get(z);
    if (v === undefined)
      throw new Error(`${deck.source}:${deck.line}: deck has no ABUNDANCE CHANGE value for Z = ${z}`);
    out.push(v);
  }
  return out;
}

function axesOf(models: readonly AtmosphereModel[]): AtlasGrid['axes'] {
  const distinct = (f: (m: AtmosphereModel) => number) => [...new Set(models.map(f))].sort((a, b) => a - b);
  return {
    teffK: distinct((m) => axisValue(m.teffK, 'teffK')),
    logg: distinct((m) => axisValue(m.logg, 'logg')),
    mh: distinct((m) => axisValue(m.mh, 'mh')),
  };
}

/** Counts of the distinct values of a per-deck card, to find the grid's (majority) value. */
class Tally<T> {
  readonly byKey = new Map<string, { value: T; count: number; first: string }>();
  readonly keys: string[] = [];
  add(key: string, value: T, where: string): void {
    const e = this.byKey.get(key);
    if (e) e.count++;
    else this.byKey.set(key, { value, count: 1, first: where });
    this.keys.push(key);
  }
  majority(): { key: string; value: T; count: number; first: string } | null {
    let best: { key: string; value: T; count: number; first: string } | null = null;
    for (const [key, e] of this.byKey) if (!best || e.count > best.count) best = { key, ...e };
    return best;
  }
}

/**
 * Load every deck file of `dir` (names matching grid-io's `DECK_FILE_PATTERN`, in name order;
 * gzip transparent) into an {@link AtlasGrid}. Each file's sha256 is taken while it is read.
 *
 * Checks that the decks form one grid, and throws when they do not: a deck that cannot be parsed,
 * two models with the same labels, a model that is not scaled-solar ([alpha/Fe] != 0), a
 * microturbulence that differs between decks, or an abundance pattern or OPACITY IFOP setting
 * that is not shared by more than half of the decks. Real grids have a few odd decks, so
 * (unless `strict`) a deck whose ABUNDANCE CHANGE values differ from the majority pattern is
 * kept and listed in `abundanceDeviations` (Kurucz 1993: two decks with another Li), and a deck
 * with other IFOP switches is left out of `models` and listed in `excluded` (Kurucz 1993: one).
 */
export async function loadAtlasGrid(dir: string, options: LoadAtlasGridOptions = {}): Promise<AtlasGrid> {
  const source = resolve(dir);
  const names = (await readdir(source)).filter((n) => DECK_FILE_PATTERN.test(n)).sort();
  if (names.length === 0) throw new Error(`loadAtlasGrid: no deck files (${DECK_FILE_PATTERN}) in ${source}`);
  const files: { path: string; sha256: string }[] = [];
  const all: AtmosphereModel[] = [];
  const patterns = new Tally<number[]>();
  const ifops = new Tally<number[]>();
  let vturb: number | null | undefined;
  let first = '';
  for (const name of names) {
    const path = join(source, name);
    let sha256: string | null = null;
    for await (const deck of readDecks(path, { onSha256: (hex) => (sha256 = hex) })) {
      const where = `${name}:${deck.line}`;
      const model = deckToAtmosphereModel(deck);
      if (vturb === undefined) {
        vturb = model.vturbKms;
        first = where;
      } else if (model.vturbKms !== vturb) {
        throw new Error(
          `loadAtlasGrid: ${where}: microturbulence ${model.vturbKms} km/s differs from ${vturb} km/s in ${first}: not one grid`,
        );
      }
      if (model.afe !== 0 || Math.abs(model.feh - model.mh) > 1e-12) {
        throw new Error(
          `loadAtlasGrid: ${where}: not scaled-solar ([Fe/H] = ${model.feh}, [alpha/Fe] = ${model.afe}); only scaled-solar grids are supported`,
        );
      }
      const p = abundancePatternOf(deck);
      patterns.add(p.join(','), p, where);
      ifops.add(deck.opacityIfop.join(' '), [...deck.opacityIfop], where);
      all.push(model);
    }
    if (sha256 === null) throw new Error(`loadAtlasGrid: no sha256 reported for ${path}`);
    files.push({ path, sha256 });
  }
  const pattern = patterns.majority();
  const ifop = ifops.majority();
  if (all.length === 0 || !pattern || !ifop || vturb === undefined)
    throw new Error(`loadAtlasGrid: the deck files in ${source} hold no model`);
  for (const [what, t] of [
    ['abundance pattern', pattern],
    ['OPACITY IFOP setting', ifop],
  ] as const) {
    if (2 * t.count <= all.length) {
      throw new Error(
        `loadAtlasGrid: no ${what} is shared by more than half of the ${all.length} decks in ${source} (the commonest, first in ${t.first}, by ${t.count}): not one grid`,
      );
    }
  }
  const abundanceDeviations: AbundanceDeviation[] = [];
  const excluded: ExcludedDeck[] = [];
  const models: AtmosphereModel[] = [];
  all.forEach((m, i) => {
    if (patterns.keys[i] !== pattern.key) {
      patterns.byKey.get(patterns.keys[i])!.value.forEach((v, k) => {
        if (v !== pattern.value[k])
          abundanceDeviations.push({
            id: m.id,
            source: m.source,
            line: m.line,
            z: k + 1,
            value: v,
            pattern: pattern.value[k],
          });
      });
    }
    if (ifops.keys[i] !== ifop.key) {
      excluded.push({
        id: m.id,
        source: m.source,
        line: m.line,
        teffK: m.teffK,
        logg: m.logg,
        mh: m.mh,
        reason: `OPACITY IFOP ${ifops.keys[i]}, not the grid's ${ifop.key} (${ifop.count} of ${all.length} decks)`,
      });
    } else {
      models.push(m);
    }
  });
  if (options.strict && (abundanceDeviations.length || excluded.length)) {
    const d = abundanceDeviations[0];
    const e = excluded[0];
    throw new Error(
      `loadAtlasGrid (strict): ${source}: ` +
        (d
          ? `${d.source}:${d.line}: ABUNDANCE CHANGE for Z = ${d.z} is ${d.value}, not the grid's ${d.pattern} (${abundanceDeviations.length} deviating values in all)`
          : '') +
        (d && e ? '; ' : '') +
        (e ? `${e.source}:${e.line}: ${e.reason} (${excluded.length} such decks)` : ''),
    );
  }
  const grid: AtlasGrid = {
    source,
    files,
    models,
    abundancePattern: pattern.value,
    abundanceDeviations,
    opacityIfop: ifop.value,
    excluded,
    axes: axesOf(models),
    vturbKms: vturb,
  };
  gridIndex(grid); // validates: no two models with the same labels
  return grid;
}

/**
 * The grid without the models whose ids are in `ids` (leave-one-out tests and accuracy figures):
 * same provenance, recomputed axes. Throws when an id is not in the grid.
 */
export function withoutModels(grid: AtlasGrid, ids: ReadonlySet<string>): AtlasGrid {
  const present = new Set(grid.models.map((m) => m.id));
  for (const id of ids)
    if (!present.has(id))
      throw new Error(`withoutModels: no model with id ${id} in the grid from ${grid.source}`);
  const models = grid.models.filter((m) => !ids.has(m.id));
  return { ...grid, models, axes: axesOf(models) };
}

// ---------------------------------------------------------------------------------------------
// Index and brackets

interface LoggLevel {
  logg: number[];
  byLogg: Map<number, AtmosphereModel>;
}
interface TeffLevel {
  teffK: number[];
  byTeff: Map<number, LoggLevel>;
}
interface GridIndex {
  mh: number[];
  byMh: Map<number, TeffLevel>;
}

const indexCache = new WeakMap<AtlasGrid, GridIndex>();

function gridIndex(grid: AtlasGrid): GridIndex {
  const cached = indexCache.get(grid);
  if (cached) return cached;
  const byMh = new Map<number, TeffLevel>();
  for (const m of grid.models) {
    const mh = axisValue(m.mh, 'mh');
    const t = axisValue(m.teffK, 'teffK');
    const g = axisValue(m.logg, 'logg');
    let tl = byMh.get(mh);
    if (!tl) byMh.set(mh, (tl = { teffK: [], byTeff: new Map() }));
    let gl = tl.byTeff.get(t);
    if (!gl) tl.byTeff.set(t, (gl = { logg: [], byLogg: new Map() }));
    const other = gl.byLogg.get(g);
    if (other)
      throw new Error(
        `grid ${grid.source}: two models with Teff ${t} K, log g ${g}, [M/H] ${mh}: ${other.source}:${other.line} and ${m.source}:${m.line}`,
      );
    gl.byLogg.set(g, m);
  }
  const asc = (a: number, b: number) => a - b;
  for (const tl of byMh.values()) {
    tl.teffK = [...tl.byTeff.keys()].sort(asc);
    for (const gl of tl.byTeff.values()) gl.logg = [...gl.byLogg.keys()].sort(asc);
  }
  const index: GridIndex = { mh: [...byMh.keys()].sort(asc), byMh };
  indexCache.set(grid, index);
  return index;
}

/** One or two neighbouring axis values and their weights; or which side has no neighbour. */
type Bracket =
  { ok: true; nodes: { value: number; weight: number }[] } | { ok: false; side: 'below' | 'above' };

function bracket(
  values: readonly number[],
  x: number,
  tol: number,
  transform: (v: number) => number = (v) => v,
): Bracket {
  // values ascending
  for (const v of values) if (Math.abs(x - v) <= tol) return { ok: true, nodes: [{ value: v, weight: 1 }] };
  let lo = -1;
  for (let i = 0; i < values.length && values[i] < x; i++) lo = i;
  if (lo < 0) return { ok: false, side: 'below' };
  if (lo === values.length - 1) return { ok: false, side: 'above' };
  const a = values[lo];
  const b = values[lo + 1];
  const w = (transform(x) - transform(a)) / (transform(b) - transform(a));
  return {
    ok: true,
    nodes: [
      { value: a, weight: 1 - w },
      { value: b, weight: w },
    ],
  };
}

/** Nearest value of `axis` on the missing side of `x` (for naming the missing corner), or null. */
function nearestOnSide(axis: readonly number[], x: number, side: 'below' | 'above'): number | null {
  if (side === 'below') {
    const below = axis.filter((v) => v <= x);
    return below.length ? below[below.length - 1] : null;
  }
  const above = axis.filter((v) => v >= x);
  return above.length ? above[0] : null;
}

const fmtMh = (mh: number) => `${mh >= 0 ? '+' : ''}${mh}`;
const fmtLabels = (l: AtmosphereLabels) => `Teff ${l.teffK} K, log g ${l.logg}, [M/H] ${fmtMh(l.mh)}`;
const range = (v: readonly number[]) => `${v[0]}–${v[v.length - 1]}`;

type CornerSearch =
  | {
      ok: true;
      corners: { model: AtmosphereModel; teffK: number; logg: number; mh: number; weight: number }[];
    }
  | { ok: false; error: AtmosphereExtrapolationError };

function findCorners(grid: AtlasGrid, labels: AtmosphereLabels, teffWeighting: TeffWeighting): CornerSearch {
  const fail = (
    reason: ExtrapolationReason,
    missing: AtmosphereExtrapolationError['missing'],
    what: string,
  ): CornerSearch => ({
    ok: false,
    error: new AtmosphereExtrapolationError(
      reason,
      labels,
      missing,
      `cannot interpolate an atmosphere at ${fmtLabels(labels)} in the grid from ${grid.source}: ${what} (no extrapolation)`,
    ),
  });
  const { teffK, logg, mh } = labels;
  for (const [name, v] of Object.entries({ teffK, logg, mh })) {
    if (!Number.isFinite(v)) return fail('non-finite', null, `label ${name} = ${v} is not a finite number`);
  }
  if (!(teffK > 0)) return fail('outside-axes', null, `Teff ${teffK} K is not positive`);
  const axes = grid.axes;
  if (axes.teffK.length === 0) return fail('outside-axes', null, 'the grid has no models');
  const outside: string[] = [];
  const check = (name: string, x: number, axis: readonly number[], tol: number, unit: string) => {
    if (x < axis[0] - tol || x > axis[axis.length - 1] + tol)
      outside.push(`${name} ${x}${unit} is outside the grid's ${name} axis ${range(axis)}${unit}`);
  };
  check('Teff', teffK, axes.teffK, NODE_TOLERANCE.teffK, ' K');
  check('log g', logg, axes.logg, NODE_TOLERANCE.logg, '');
  check('[M/H]', mh, axes.mh, NODE_TOLERANCE.mh, ' dex');
  if (outside.length) return fail('outside-axes', null, outside.join('; '));

  const index = gridIndex(grid);
  const tTransform = teffWeighting === 'log' ? Math.log10 : (v: number) => v;
  const mhB = bracket(index.mh, mh, NODE_TOLERANCE.mh);
  if (!mhB.ok)
    return fail(
      'outside-axes',
      { teffK: null, logg: null, mh: nearestOnSide(axes.mh, mh, mhB.side) },
      `no [M/H] value ${mhB.side} ${mh}`,
    );
  const corners: { model: AtmosphereModel; teffK: number; logg: number; mh: number; weight: number }[] = [];
  for (const m of mhB.nodes) {
    const tl = index.byMh.get(m.value)!;
    const tB = bracket(tl.teffK, teffK, NODE_TOLERANCE.teffK, tTransform);
    if (!tB.ok) {
      const t = nearestOnSide(axes.teffK, teffK, tB.side);
      return fail(
        'missing-corner',
        { teffK: t, logg: null, mh: m.value },
        `no model with Teff ${tB.side === 'below' ? '<=' : '>='} ${teffK} K at [M/H] ${fmtMh(m.value)} (Teff there: ${range(tl.teffK)} K); missing corner Teff ${t ?? '?'} K, [M/H] ${fmtMh(m.value)}`,
      );
    }
    for (const t of tB.nodes) {
      const gl = tl.byTeff.get(t.value)!;
      const gB = bracket(gl.logg, logg, NODE_TOLERANCE.logg);
      if (!gB.ok) {
        const g = nearestOnSide(axes.logg, logg, gB.side);
        const left = grid.excluded.find(
          (e) =>
            axisValue(e.teffK, 'teffK') === t.value &&
            axisValue(e.mh, 'mh') === m.value &&
            (gB.side === 'below' ? e.logg <= logg : e.logg >= logg),
        );
        return fail(
          'missing-corner',
          { teffK: t.value, logg: g, mh: m.value },
          `no model with log g ${gB.side === 'below' ? '<=' : '>='} ${logg} at Teff ${t.value} K, [M/H] ${fmtMh(m.value)} (log g there: ${range(gl.logg)}); missing corner Teff ${t.value} K, log g ${g ?? '?'}, [M/H] ${fmtMh(m.value)}` +
            (left
              ? ` (the deck ${left.source}:${left.line}, log g ${left.logg}, was left out of the grid: ${left.reason})`
              : ''),
        );
      }
      for (const g of gB.nodes) {
        corners.push({
          model: gl.byLogg.get(g.value)!,
          teffK: t.value,
          logg: g.value,
          mh: m.value,
          weight: m.weight * t.weight * g.weight,
        });
      }
    }
  }
  return { ok: true, corners };
}

// ---------------------------------------------------------------------------------------------
// Interpolation

/** The common log10 tau grid of some models: the 0.125-dex ladder inside the intersection of their tau ranges, plus the two ends. */
function commonLogTauGrid(models: readonly AtmosphereModel[]): number[] {
  let lo = -Infinity;
  let hi = Infinity;
  for (const m of models) {
    const tau = m.tauRosseland;
    if (!(tau[0] > 0))
      throw new Error(`${m.source}:${m.line}: first Rosseland tau ${tau[0]} is not positive`);
    lo = Math.max(lo, Math.log10(tau[0]));
    hi = Math.min(hi, Math.log10(tau[tau.length - 1]));
  }
  if (!(hi > lo)) throw new Error(`the corner models have no common tau range (log10 tau ${lo} .. ${hi})`);
  const out = [lo];
  for (
    let k = Math.ceil((lo + LADDER_END_MARGIN) / LOG_TAU_LADDER_STEP);
    k * LOG_TAU_LADDER_STEP <= hi - LADDER_END_MARGIN;
    k++
  )
    out.push(k * LOG_TAU_LADDER_STEP);
  out.push(hi);
  return out;
}

/**
 * The model atmosphere at `labels` (Teff K, log g dex, [M/H] dex) by interpolation in `grid`
 * (method: see the top of this module). The result's `id` is grid-io's `atmosphereContentId` of
 * its labels and arrays, `source` is `interpolated:<grid source>`, `line` 0, `synthetic` false,
 * [Fe/H] = [M/H] and [alpha/Fe] = 0 (scaled-solar grid), `vturbKms` the grid's, and `tauRosseland`
 * the common depth grid. Throws {@link AtmosphereExtrapolationError} when the labels are not
 * finite, lie outside the grid's axes or need a corner model the grid does not have.
 */
export function interpolateAtmosphere(
  grid: AtlasGrid,
  labels: AtmosphereLabels,
  options: InterpolateOptions = {},
): InterpolatedAtmosphere {
  const target: AtmosphereLabels = { teffK: labels.teffK, logg: labels.logg, mh: labels.mh };
  const found = findCorners(grid, target, options.teffWeighting ?? 'log');
  if (!found.ok) throw found.error;
  const corners = found.corners.filter((c) => c.weight !== 0);
  const logTau = commonLogTauGrid(corners.map((c) => c.model));
  const n = logTau.length;
  const sums: Record<AtmosphereQuantity, Float64Array> = {
    rhox: new Float64Array(n),
    temperature: new Float64Array(n),
    pressure: new Float64Array(n),
    xne: new Float64Array(n),
    abross: new Float64Array(n),
    accrad: new Float64Array(n),
  };
  for (const c of corners) {
    const r = resampleToLogTau(c.model, logTau);
    for (const q of LOG_ATMOSPHERE_QUANTITIES) {
      const s = sums[q];
      const v = r[q];
      for (let i = 0; i < n; i++) s[i] += c.weight * Math.log10(v[i]);
    }
    for (let i = 0; i < n; i++) sums.accrad[i] += c.weight * r.accrad[i];
  }
  const fromLog = (a: Float64Array) => Array.from(a, (v) => 10 ** v);
  const base: Omit<InterpolatedAtmosphere, 'id' | 'corners'> = {
    source: `interpolated:${grid.source}`,
    line: 0,
    teffK: target.teffK,
    logg: target.logg,
    mh: target.mh,
    feh: target.mh,
    afe: 0,
    vturbKms: grid.vturbKms,
    nLayers: n,
    rhox: fromLog(sums.rhox),
    temperature: fromLog(sums.temperature),
    pressure: fromLog(sums.pressure),
    xne: fromLog(sums.xne),
    abross: fromLog(sums.abross),
    accrad: Array.from(sums.accrad),
    tauRosseland: logTau.map((v) => 10 ** v),
    synthetic: false,
    split: null,
  };
  return {
    id: atmosphereContentId(base),
    ...base,
    corners: corners.map((c) => ({
      id: c.model.id,
      teffK: c.teffK,
      logg: c.logg,
      mh: c.mh,
      weight: c.weight,
    })),
  };
}

/** Whether `labels` (Teff K, log g dex, [M/H] dex) can be interpolated in `grid`: finite, inside the axes, and every corner model exists. */
export function isCovered(grid: AtlasGrid, labels: AtmosphereLabels): boolean {
  return findCorners(grid, labels, 'log').ok;
}

/** A closed label range per axis: Teff in K, log g in dex, [M/H] in dex. */
export interface LabelBox {
  teffK: { min: number; max: number };
  logg: { min: number; max: number };
  mh: { min: number; max: number };
}

/** Result of {@link coveredBox}. */
export interface CoveredBox extends LabelBox {
  /** One sentence per bound that was moved to the grid's axis range, e.g. "[M/H] max +1.5 dex cut to +1 dex (grid axis maximum)". */
  cut: string[];
  /**
   * Where the clipped box is still not covered because grid models are missing (the grid is not a
   * full box), one sentence per [M/H] value and run of Teff values, e.g. "[M/H] +1: at Teff
   * 10500–11000 K the models start at log g 2.5 (box from 2)". Empty when every label inside the
   * clipped box can be interpolated.
   */
  uncovered: string[];
}

/** Axis values needed to interpolate anywhere in [lo, hi]: those inside, plus the nearest one outside each end that is not on a value. */
function neededValues(values: readonly number[], lo: number, hi: number, tol: number): number[] {
  const out = values.filter((v) => v >= lo - tol && v <= hi + tol);
  const below = values.filter((v) => v < lo - tol);
  const above = values.filter((v) => v > hi + tol);
  if (!values.some((v) => Math.abs(v - lo) <= tol) && below.length) out.unshift(below[below.length - 1]);
  if (!values.some((v) => Math.abs(v - hi) <= tol) && above.length) out.push(above[0]);
  return out;
}

/**
 * The part of a label box (e.g. the CVAE box Teff 4000–11000 K, log g 2–5, [M/H] −1.5…+1.5) that
 * the grid covers: each axis' [min, max] clipped to the grid's axis range, with one sentence in
 * `cut` per bound that was moved (Kurucz 1993: [M/H] max +1.5 cut to +1). The clip is per axis;
 * because the grid is not a full box, `uncovered` then says where inside the clipped box models
 * are missing (Kurucz 1993, CVAE box: the hot, low-gravity corner), so that a caller can shrink
 * the box or test labels with {@link isCovered}. Throws when the box does not overlap an axis.
 */
export function coveredBox(grid: AtlasGrid, box: LabelBox): CoveredBox {
  const cut: string[] = [];
  const clip = (name: string, key: keyof LabelBox, unit: string, fmt: (v: number) => string) => {
    const axis = grid.axes[key];
    const { min, max } = box[key];
    if (!(min <= max))
      throw new RangeError(`coveredBox: ${name} range [${min}, ${max}] is empty or not finite`);
    const aMin = axis[0];
    const aMax = axis[axis.length - 1];
    if (max < aMin || min > aMax)
      throw new RangeError(
        `coveredBox: ${name} range ${fmt(min)}..${fmt(max)}${unit} does not overlap the grid's ${fmt(aMin)}..${fmt(aMax)}${unit}`,
      );
    const out = { min: Math.max(min, aMin), max: Math.min(max, aMax) };
    if (out.min !== min)
      cut.push(`${name} min ${fmt(min)}${unit} cut to ${fmt(out.min)}${unit} (grid axis minimum)`);
    if (out.max !== max)
      cut.push(`${name} max ${fmt(max)}${unit} cut to ${fmt(out.max)}${unit} (grid axis maximum)`);
    return out;
  };
  const teffK = clip('Teff', 'teffK', ' K', String);
  const logg = clip('log g', 'logg', '', String);
  const mh = clip('[M/H]', 'mh', ' dex', fmtMh);

  const uncovered: string[] = [];
  const index = gridIndex(grid);
  for (const m of neededValues(index.mh, mh.min, mh.max, NODE_TOLERANCE.mh)) {
    const tl = index.byMh.get(m)!;
    const lad = tl.teffK;
    if (lad[0] > teffK.min + NODE_TOLERANCE.teffK)
      uncovered.push(`[M/H] ${fmtMh(m)}: no models below Teff ${lad[0]} K (box from ${teffK.min} K)`);
    if (lad[lad.length - 1] < teffK.max - NODE_TOLERANCE.teffK)
      uncovered.push(
        `[M/H] ${fmtMh(m)}: no models above Teff ${lad[lad.length - 1]} K (box to ${teffK.max} K)`,
      );
    // runs of consecutive needed Teff values whose log g range falls short of the box in the same way
    let run: { from: number; to: number; what: string } | null = null;
    const flush = () => {
      if (run)
        uncovered.push(
          `[M/H] ${fmtMh(m)}: at Teff ${run.from === run.to ? run.from : `${run.from}–${run.to}`} K ${run.what}`,
        );
      run = null;
    };
    for (const t of neededValues(lad, teffK.min, teffK.max, NODE_TOLERANCE.teffK)) {
      const g = tl.byTeff.get(t)!.logg;
      const short: string[] = [];
      if (g[0] > logg.min + NODE_TOLERANCE.logg)
        short.push(`the models start at log g ${g[0]} (box from ${logg.min})`);
      if (g[g.length - 1] < logg.max - NODE_TOLERANCE.logg)
        short.push(`the models end at log g ${g[g.length - 1]} (box to ${logg.max})`);
      const what = short.join(' and ');
      if (run && what === run.what) run.to = t;
      else {
        flush();
        if (what) run = { from: t, to: t, what };
      }
    }
    flush();
  }
  return { teffK, logg, mh, cut, uncovered };
}
