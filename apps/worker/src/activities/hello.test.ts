import { MockActivityEnvironment } from '@temporalio/testing';
import type { HelloTensorResult } from '@stellar-emu/workflows';
import { helloTensor, seededMatrix } from './hello.js';
import { frobeniusOfProduct } from '../../test/reference.js';

describe('helloTensor activity', () => {
  test('seeded matrices are reproducible and uniform in [-1, 1)', () => {
    const a = seededMatrix(16, 3);
    expect(Array.from(a)).toEqual(Array.from(seededMatrix(16, 3)));
    expect(Array.from(a)).not.toEqual(Array.from(seededMatrix(16, 4)));
    expect(Math.min(...a)).toBeGreaterThanOrEqual(-1);
    expect(Math.max(...a)).toBeLessThan(1);
    const mean = a.reduce((s, x) => s + x, 0) / a.length;
    expect(Math.abs(mean)).toBeLessThan(0.15);
  });

  test('computes ||A·B||_F through nn-core, matching a float64 reference at rtol 1e-5', async () => {
    const env = new MockActivityEnvironment();
    const result = (await env.run(helloTensor, { size: 24, seed: 11 })) as HelloTensorResult;
    const expected = frobeniusOfProduct(seededMatrix(24, 11), seededMatrix(24, 12), 24);
    expect(Math.abs(result.frobeniusNorm - expected) / expected).toBeLessThan(1e-5);
    expect(result).toMatchObject({ size: 24, seed: 11 });
    expect(result.backend).toMatch(/^(tensorflow-gpu|tensorflow|wasm|cpu)$/);
    await expect(env.run(helloTensor, { size: 0, seed: 1 })).rejects.toThrow(/size must be/);
  });
});
