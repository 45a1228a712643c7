// numerics: the workspace's one home for seeded random numbers, order statistics and physical constants.
export * from './rng.js';
export * from './stats.js';
export * from './constants.js';
