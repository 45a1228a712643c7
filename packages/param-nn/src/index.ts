// param-nn: streaming PCA of spectra, noise augmentation, the parameter-recovery network and emulator validation.
export * from './linalg.js';
export * from './sources.js';
export * from './pca.js';
