// The pipeline's progress line reads the running activities' heartbeats: training chunks become a
// training line, other long steps (validate cvae, ingest, the Sun) a line of their stage; synthesis
// batches are left to the synthesis line. The heartbeats here are the shapes the worker writes.
import { classifyHeartbeat, describeStep } from './pipeline-client.js';

test('heartbeats are classified as training, step or (synthesis batches) nothing', () => {
  const training = { model: 'cvae', epoch: 3, epochs: 250, globalStep: 159, losses: { total: 0.01 } };
  expect(classifyHeartbeat(training)).toEqual({ training });
  // validate cvae (apps/worker/src/activities/evaluate.ts): its stage, then the recovery network's epochs
  expect(classifyHeartbeat({ step: 'validate cvae', stage: 'pca' })).toEqual({
    step: { step: 'validate cvae', stage: 'pca' },
  });
  const epoch = { step: 'validate cvae', epoch: 11, globalStep: 640, losses: { total: 0.0231, mse: 0.02 } };
  expect(classifyHeartbeat(epoch)).toEqual({ step: epoch });
  // a synthesis batch (synth.ts, pinn-spectra.ts) carries intrinsicCalls: the synthesis line shows it
  expect(classifyHeartbeat({ step: 'synthesize', done: 3, total: 24, intrinsicCalls: 3 })).toBeNull();
  expect(classifyHeartbeat(null)).toBeNull();
  expect(classifyHeartbeat('text')).toBeNull();
  expect(classifyHeartbeat({ done: 1 })).toBeNull();
});

test('a step heartbeat is one short line: stage, epoch and losses, count, or why it waits', () => {
  expect(describeStep({ step: 'validate cvae', stage: 'train' })).toBe('validate cvae: train');
  expect(
    describeStep({
      step: 'validate cvae',
      epoch: 11,
      globalStep: 640,
      losses: { total: 0.0231, mse: 0.02, kl: 1 },
    }),
  ).toBe('validate cvae: epoch 12 · total 0.0231, mse 0.0200');
  expect(describeStep({ step: 'ingest-atmospheres', done: 120, total: 478 })).toBe(
    'ingest-atmospheres: 120/478',
  );
  expect(describeStep({ step: 'ingest-atmospheres', done: 120 })).toBe('ingest-atmospheres: 120');
  expect(
    describeStep({ step: 'evaluate pinn', waiting: 'the same step is running in another pipeline' }),
  ).toBe('evaluate pinn: waiting: the same step is running in another pipeline');
  expect(describeStep({ step: 'evaluate pinn' })).toBe('evaluate pinn');
});
