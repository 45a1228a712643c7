// The hello activity: a small tfjs computation through nn-core, proving the worker's backend works.
import { initBackend, tf } from '@stellar-emu/nn-core';
import { Rng } from '@stellar-emu/numerics';
import type { HelloTensorInput, HelloTensorResult } from '@stellar-emu/workflows';

/** Deterministic uniform [-1, 1) values (numerics' `Rng`, row-major), identical on every backend and machine. */
export function seededMatrix(size: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: size * size }, () => rng.uniform(-1, 1));
}

/** A = seededMatrix(size, seed), B = seededMatrix(size, seed + 1); returns ||A·B||_F. */
export async function helloTensor(input: HelloTensorInput): Promise<HelloTensorResult> {
  const { size, seed } = input;
  if (!Number.isInteger(size) || size < 1 || size > 4096)
    throw new Error(`size must be an integer in [1, 4096], got ${size}`);
  const info = await initBackend({ quiet: true });
  const t0 = performance.now();
  const norm = tf.tidy(() => {
    const a = tf.tensor2d(seededMatrix(size, seed), [size, size]);
    const b = tf.tensor2d(seededMatrix(size, seed + 1), [size, size]);
    return tf.norm(tf.matMul(a, b), 'euclidean');
  });
  const frobeniusNorm = (await norm.data())[0];
  norm.dispose();
  return {
    backend: info.name,
    tfjsBackend: info.tfjsBackend,
    tfjsVersion: info.tfjsVersion,
    size,
    seed,
    frobeniusNorm,
    elapsedMs: performance.now() - t0,
  };
}
