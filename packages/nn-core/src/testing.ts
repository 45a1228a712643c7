// Test helpers: bitwise equality of float arrays (closeness with tolerances: `assertAllClose` from
// `@stellar-emu/numerics/testing`), and the production-backend guard of the native and graph tests.
import { currentBackend } from './backend.js';
import { graphExecutionAvailable } from './graph.js';

/**
 * The guard of tests that must run on the production backend: under CI (`CI=true`) the backend is
 * tensorflow (the native TensorFlow C library), where graph execution is available; throws otherwise.
 * Elsewhere (a machine without the native build) it only reports. Call after `initBackend`.
 * @returns whether graph execution runs here, i.e. whether the graph tests run (`test.runIf`).
 */
export function requireProductionBackendInCi(): boolean {
  const name = currentBackend()?.name ?? 'none';
  if (process.env.CI === 'true' && name !== 'tensorflow')
    throw new Error(`under CI the backend must be tensorflow (the native library), not ${name}`);
  const graphs = graphExecutionAvailable();
  if (name === 'tensorflow' && !graphs)
    throw new Error('the tensorflow backend is loaded but graph execution is not available');
  return graphs;
}

/** Bitwise equality of two float arrays (first differing index in the error). */
export function assertBitwiseEqual(
  actual: Float32Array,
  expected: Float32Array,
  label = 'assertBitwiseEqual',
): void {
  if (actual.length !== expected.length)
    throw new Error(`${label}: length ${actual.length} != ${expected.length}`);
  const a = new Uint32Array(actual.buffer, actual.byteOffset, actual.length);
  const e = new Uint32Array(expected.buffer, expected.byteOffset, expected.length);
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== e[i])
      throw new Error(`${label}: first difference at index ${i}: ${actual[i]} vs ${expected[i]}`);
  }
}
