// nn-core: backend choice, layers, optimizers, schedules, checkpoints, resumable training loop.
export * from './backend.js';
export * from './rng.js';
export * from './layers.js';
export * from './optimizers.js';
export * from './schedules.js';
export * from './checkpoint.js';
export * from './train.js';
export * from './memory-source.js';
export * from './testing.js';
