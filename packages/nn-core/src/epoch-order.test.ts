import { deriveSeed, Rng } from '@stellar-emu/numerics';
import { initBackend, tf } from './backend.js';
import { ParamStore } from './layers.js';
import { MemoryBatchSource } from './memory-source.js';
import { createOptimizer } from './optimizers.js';
import { trainLoop, type Batch, type BatchSource } from './train.js';

beforeAll(async () => {
  await initBackend({ force: 'cpu', quiet: true });
});

/** Records every index the loop asks for; order chosen by the source (reversed blocks of 4). */
class OrderedSource implements BatchSource {
  readonly seen: number[] = [];
  readonly orderCalls: number[] = [];
  constructor(readonly inner: MemoryBatchSource) {}
  get numExamples(): number {
    return this.inner.numExamples;
  }
  batch(indices: Int32Array): Batch {
    this.seen.push(...indices);
    return this.inner.batch(indices);
  }
  epochOrder(epoch: number, rng: Rng): Int32Array {
    this.orderCalls.push(epoch);
    const blocks = rng.permutation(this.numExamples / 4);
    const out = new Int32Array(this.numExamples);
    blocks.forEach((b, i) => {
      for (let j = 0; j < 4; j++) out[i * 4 + j] = b * 4 + j;
    });
    return out;
  }
}

test('a source with epochOrder decides the order of examples, drawn from the loop rng', async () => {
  const n = 16;
  const x = new Float32Array(n).map((_, i) => i);
  const src = new OrderedSource(new MemoryBatchSource({ x: { width: 1, data: x } }));
  const params = new ParamStore();
  const w = params.add('w', new Float32Array([0.5]), [1]);
  const optimizer = createOptimizer('adam', params);
  await trainLoop({
    params,
    optimizer,
    loss: (b) => ({ total: tf.mean(tf.square(tf.mul(b.x, w))) as tf.Scalar }),
    train: src,
    epochs: 2,
    batchSize: 4,
    seed: 7,
    config: {},
  });
  expect(src.orderCalls).toEqual([0, 1]);
  const expected: number[] = [];
  for (const e of [0, 1]) expected.push(...src.epochOrder(e, new Rng(deriveSeed(7, e))));
  expect(src.seen).toEqual(expected);
  // contiguous blocks of 4, so not the default full permutation
  for (let i = 0; i < src.seen.length; i += 4) expect(src.seen[i] % 4).toBe(0);
  params.dispose();
  optimizer.dispose();
});
