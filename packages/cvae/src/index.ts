// cvae: the conditional VAE spectrum emulator — config and presets, model, out-of-core data, training, generation, metrics.
export * from './config.js';
export * from './options.js';
export * from './model.js';
export * from './parquet-flux.js';
export * from './data.js';
export * from './artifact.js';
export * from './train.js';
export * from './generate.js';
export * from './metrics.js';
