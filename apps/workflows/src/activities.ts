// Activity signatures: declared here (types only), implemented in apps/worker.

/** Input of the `helloTensor` activity. */
export interface HelloTensorInput {
  /** Side of the square matrices A and B. */
  size: number;
  /** Seed of the deterministic generator that fills A and B (uniform in [-1, 1)). */
  seed: number;
}

/** Output of the `helloTensor` activity: a small tfjs computation and where it ran. */
export interface HelloTensorResult {
  /** nn-core's name of the backend that computed it (`tensorflow`, `wasm`, ...). */
  backend: string;
  /** tfjs's own backend name. */
  tfjsBackend: string;
  tfjsVersion: string;
  size: number;
  seed: number;
  /** Frobenius norm ||A·B||_F (dimensionless). */
  frobeniusNorm: number;
  /** Wall time of the computation, milliseconds. */
  elapsedMs: number;
}

import type { PipelineActivities } from './pipeline/activities.js';

/** Every activity the worker registers. Workflows proxy this interface. */
export interface Activities extends PipelineActivities {
  /** Multiply two seeded random matrices through nn-core's tfjs and return ||A·B||_F. */
  helloTensor(input: HelloTensorInput): Promise<HelloTensorResult>;
}
