// param-nn: streaming PCA of spectra, noise augmentation, the parameter-recovery network and emulator validation.
export * from './linalg.js';
export * from './sources.js';
export * from './pca.js';
export * from './noise.js';
export * from './labels.js';
export * from './network.js';
export * from './train.js';
export * from './splits.js';
export * from './recovery-metrics.js';
export * from './validate.js';
export * from './recovery-json.js';
export * from './recovery-table.js';
export * from './validate-dataset.js';
export * from './options.js';
