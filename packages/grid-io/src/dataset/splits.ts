// Deterministic train/validation(/test) splits from a hash of each row's id and a seed.
import { createHash } from 'node:crypto';

/** Supported split schemes: fractions of train/val(/test). */
export type SplitScheme = '90/10' | '70/15/15';
/** Name of a split. */
export type SplitName = 'train' | 'val' | 'test';

const SCHEMES: Record<SplitScheme, { name: SplitName; upTo: number }[]> = {
  '90/10': [
    { name: 'train', upTo: 0.9 },
    { name: 'val', upTo: 1 },
  ],
  '70/15/15': [
    { name: 'train', upTo: 0.7 },
    { name: 'val', upTo: 0.85 },
    { name: 'test', upTo: 1 },
  ],
};

/** Parse `90/10` or `70/15/15`; throws on anything else. */
export function parseSplitScheme(text: string): SplitScheme {
  if (text === '90/10' || text === '70/15/15') return text;
  throw new Error(`unknown split scheme "${text}": expected 90/10 or 70/15/15`);
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
 */
export function assignSplit(id: string, scheme: SplitScheme, seed: number): SplitName {
  const u = splitUniform(id, seed);
  for (const s of SCHEMES[scheme]) if (u < s.upTo) return s.name;
  return SCHEMES[scheme][SCHEMES[scheme].length - 1].name;
}
