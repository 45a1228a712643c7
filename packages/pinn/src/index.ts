// Kurucz-a1 physics-informed atmosphere emulator: model, physics loss, training, inference, evaluation.
export * from './config.js';
export * from './options.js';
export * from './atmosphere.js';
export * from './normalization.js';
export * from './model.js';
export * from './physics.js';
export * from './emulator.js';
export { POINTS_PER_PASS, type InferenceEngine, type PredictOptions } from './inference.js';
export { MODEL_KIND, type ModelFileState } from './model-file.js';
export * from './predicted-records.js';
export * from './data.js';
export * from './dataset.js';
export * from './model-dir.js';
export * from './train-dataset.js';
export * from './evaluate.js';
