// Shared fixture of the training-loop tests (cpu backend in train.test.ts, the native backend in
// train-native.test.ts): a small GELU/LayerNorm regression trained with AdamW and a plateau schedule.
import { Rng } from '@stellar-emu/numerics';
import { tf } from '../src/backend.js';
import { DenseStack, ParamStore } from '../src/layers.js';
import { MemoryBatchSource } from '../src/memory-source.js';
import { createOptimizer } from '../src/optimizers.js';
import { EarlyStopping, ReduceOnPlateau } from '../src/schedules.js';
import { trainLoop, type Progress, type TrainOptions } from '../src/train.js';

export function data(n: number, seed: number): MemoryBatchSource {
  const rng = new Rng(seed);
  const x = new Float32Array(n * 3).map(() => rng.normal());
  const y = new Float32Array(n * 2);
  for (let i = 0; i < n; i++) {
    y[2 * i] = Math.sin(x[3 * i]) + 0.5 * x[3 * i + 1] * x[3 * i + 2];
    y[2 * i + 1] = Math.tanh(x[3 * i + 2]) - 0.3 * x[3 * i];
  }
  return new MemoryBatchSource({ x: { width: 3, data: x }, y: { width: 2, data: y } });
}

export const config = { widths: [16, 16, 2], epochs: 3, batchSize: 16 };

export function setup(initSeed: number) {
  const params = new ParamStore();
  const net = new DenseStack(
    params,
    'net',
    3,
    { widths: config.widths, activation: 'gelu', lastActivation: 'linear', layerNorm: true },
    new Rng(initSeed),
  );
  const optimizer = createOptimizer('adamw', params, { weightDecay: 1e-3 });
  const loss = (b: Record<string, tf.Tensor>) => {
    const pred = net.apply(b.x as tf.Tensor2D);
    const mse = tf.mean(tf.square(tf.sub(pred, b.y))) as tf.Scalar;
    return { total: mse, parts: { mse, l1: tf.mean(tf.abs(tf.sub(pred, b.y))) as tf.Scalar } };
  };
  return { params, optimizer, loss };
}

export async function run(dir: string, extra: Partial<TrainOptions> = {}, initSeed = 1) {
  const { params, optimizer, loss } = setup(initSeed);
  const result = await trainLoop({
    params,
    optimizer,
    loss,
    train: data(200, 3),
    validation: data(40, 4),
    schedule: new ReduceOnPlateau({ lr: 3e-3, patience: 0, factor: 0.5 }),
    earlyStopping: new EarlyStopping({ patience: 10 }),
    epochs: config.epochs,
    batchSize: config.batchSize,
    seed: 99,
    checkpointDir: dir,
    checkpointEverySteps: 4,
    keepCheckpoints: 100,
    config,
    normalization: { x: 'raw' },
    ...extra,
  });
  const snap = params.snapshot();
  params.dispose();
  optimizer.dispose();
  return { result, snap };
}

/**
 * Run into `dir` and interrupt it at a random step from `minStep` on (default 5: after the first
 * checkpoint at step 4, before which there is nothing to resume from) up to two steps before the
 * end — the progress callback throws, as a killed process stops. Returns the step.
 */
export async function interruptAtRandomStep(dir: string, totalSteps: number, minStep = 5): Promise<number> {
  const stopAt = minStep + Math.floor(Math.random() * (totalSteps - 1 - minStep));
  await expect(
    run(dir, {
      reportEverySteps: 1,
      onProgress: (p: Progress) => {
        if (p.phase === 'step' && p.globalStep === stopAt) throw new Error('interrupted');
      },
    }),
  ).rejects.toThrow('interrupted');
  return stopAt;
}
