// nn-core: backend choice, layers, optimizers, schedules, checkpoints, model directories, resumable training loop.
export * from './backend.js';
export * from './graph.js';
export * from './layers.js';
export * from './optimizers.js';
export * from './schedules.js';
export * from './checkpoint.js';
export * from './model-dir.js';
export * from './train.js';
export * from './memory-source.js';
export * from './testing.js';
export * from './options.js';
