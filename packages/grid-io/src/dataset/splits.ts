// Split names and split functions of every dataset and model: hash splits by row id, exact-fraction splits by a permutation.
import { createHash } from 'node:crypto';
import { deriveSeed, Rng } from '@stellar-emu/numerics';

/**
 * The split names, in order: training, validation, test. The one spelling written anywhere (the
 * dataset `split` column, manifest `splitCounts`, model metadata, metrics JSON).
 */
export const SPLIT_NAMES = ['train', 'val', 'test'] as const;
/** Name of a split. */
export type SplitName = (typeof SPLIT_NAMES)[number];
/** The training split. */
export const TRAIN_SPLIT = 'train' satisfies SplitName;
/** The validation split (early stopping, model selection). */
export const VAL_SPLIT = 'val' satisfies SplitName;
/** The held-out test split. */
export const TEST_SPLIT = 'test' satisfies SplitName;

/**
 * Older spellings of split names, accepted wherever a split name is read (files written before
 * the names were unified used 'validation' in param-nn sets and metrics JSON); never written.
 */
export const SPLIT_NAME_ALIASES: Readonly<Record<string, SplitName>> = { validation: VAL_SPLIT };

/**
 * The split a stored name stands for: an old spelling ({@link SPLIT_NAME_ALIASES}) becomes its
 * {@link SplitName}; any other string (a split name of the one vocabulary, or a custom split of an
 * adopted dataset) is returned unchanged, and so are null and undefined.
 */
export function canonicalSplitName<T extends string | null | undefined>(
  name: T,
): T extends string ? string : T;
export function canonicalSplitName(name: string | null | undefined): string | null | undefined {
  return typeof name === 'string' && Object.hasOwn(SPLIT_NAME_ALIASES, name)
    ? SPLIT_NAME_ALIASES[name]
    : name;
}

/** Whether `name` is a split name of the one vocabulary. */
export function isSplitName(name: unknown): name is SplitName {
  return typeof name === 'string' && (SPLIT_NAMES as readonly string[]).includes(name);
}

/** Parse a split name, accepting the old spellings; throws on anything else. */
export function parseSplitName(text: string): SplitName {
  const name = canonicalSplitName(text);
  if (isSplitName(name)) return name;
  throw new Error(`unknown split "${text}": expected ${SPLIT_NAMES.join(', ')}`);
}

/** A split name in prose (reports, logs): 'val' (or its old spelling) is "validation", other names as they are. */
export function splitTitle(name: string): string {
  return canonicalSplitName(name) === VAL_SPLIT ? 'validation' : name;
}

/** Supported split schemes: fractions of train/val(/test). */
export type SplitScheme = '90/10' | '70/15/15';

const SCHEMES: Record<SplitScheme, { name: SplitName; fraction: number; upTo: number }[]> = {
  '90/10': [
    { name: TRAIN_SPLIT, fraction: 0.9, upTo: 0.9 },
    { name: VAL_SPLIT, fraction: 0.1, upTo: 1 },
  ],
  '70/15/15': [
    { name: TRAIN_SPLIT, fraction: 0.7, upTo: 0.7 },
    { name: VAL_SPLIT, fraction: 0.15, upTo: 0.85 },
    { name: TEST_SPLIT, fraction: 0.15, upTo: 1 },
  ],
};

/** Parse `90/10` or `70/15/15`; throws on anything else. */
export function parseSplitScheme(text: string): SplitScheme {
  if (text === '90/10' || text === '70/15/15') return text;
  throw new Error(`unknown split scheme "${text}": expected 90/10 or 70/15/15`);
}

/** The fraction of rows in each split of a scheme (e.g. `{ train: 0.7, val: 0.15, test: 0.15 }`). */
export function splitFractions(scheme: SplitScheme): Partial<Record<SplitName, number>> {
  return Object.fromEntries(SCHEMES[scheme].map((s) => [s.name, s.fraction]));
}

/** Uniform number in [0, 1) from sha256(`<seed>:<id>`) (first 53 bits). */
export function splitUniform(id: string, seed: number): number {
  const h = createHash('sha256').update(`${seed}:${id}`).digest();
  const hi = h.readUInt32BE(0) >>> 11; // 21 bits
  const lo = h.readUInt32BE(4); // 32 bits
  return (hi * 2 ** 32 + lo) / 2 ** 53;
}

/**
 * The split of a row: a function of its id and the seed only, so adding rows to a dataset never
 * moves existing rows between splits, and the same seed gives the same split on every machine.
 * Fractions hold on average (a small set may get no validation or test rows).
 */
export function assignSplit(id: string, scheme: SplitScheme, seed: number): SplitName {
  const u = splitUniform(id, seed);
  for (const s of SCHEMES[scheme]) if (u < s.upTo) return s.name;
  return SCHEMES[scheme][SCHEMES[scheme].length - 1].name;
}

/**
 * Exact-fraction split of `permutation.length` rows: the rows `permutation[0..]` in that order
 * fill the scheme's splits, the first round(n × f_train) train, the next round(n × f_val) val,
 * the rest test (70/15/15 of 1,000 rows: exactly 700/150/150). For sets without row ids, or when
 * a small set must have every split: unlike {@link assignSplit}, adding a row reshuffles the split.
 * Returns each row's split, in row order. {@link seededSplit} draws the permutation from a seed.
 */
export function permutationSplit(permutation: ArrayLike<number>, scheme: SplitScheme): SplitName[] {
  const n = permutation.length;
  const parts = SCHEMES[scheme];
  const out = new Array<SplitName>(n);
  const seen = new Uint8Array(n);
  let rank = 0;
  parts.forEach((s, k) => {
    const end = k === parts.length - 1 ? n : Math.min(n, rank + Math.round(n * s.fraction));
    for (; rank < end; rank++) {
      const row = permutation[rank];
      if (!(Number.isInteger(row) && row >= 0 && row < n) || seen[row])
        throw new Error(`permutationSplit: not a permutation of 0..${n - 1} (entry ${rank} is ${row})`);
      seen[row] = 1;
      out[row] = s.name;
    }
  });
  return out;
}

/**
 * The exact-fraction split of `n` rows ({@link permutationSplit}) with a seeded permutation,
 * `new Rng(deriveSeed(seed, 0x7015)).permutation(n)`: the same rows for the same (n, seed) on
 * every machine (param-nn's recovery sets of a dataset written without a 70/15/15 split).
 */
export function seededSplit(n: number, scheme: SplitScheme, seed: number): SplitName[] {
  return permutationSplit(new Rng(deriveSeed(seed, 0x7015)).permutation(n), scheme);
}
