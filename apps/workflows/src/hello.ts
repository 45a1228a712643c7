// The `hello` workflow: one activity through every layer (client -> workflow -> worker -> tfjs).
import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities, HelloTensorResult } from './activities.js';

/** Input of the `hello` workflow. */
export interface HelloInput {
  name: string;
  /** Matrix side for the activity's computation (default 64). */
  size?: number;
  /** Seed of the matrices (default 42). */
  seed?: number;
}

/** Result of the `hello` workflow. */
export interface HelloResult {
  greeting: string;
  workflowId: string;
  tensor: HelloTensorResult;
}

// No taskQueue here: the activity runs on the workflow's own task queue (`cpu` when started by the CLI).
const { helloTensor } = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  retry: { maximumAttempts: 3 },
});

/** Greets `name` with the result of a small tensor computation done by a worker. */
export async function hello(input: HelloInput): Promise<HelloResult> {
  const tensor = await helloTensor({ size: input.size ?? 64, seed: input.seed ?? 42 });
  const { workflowId } = workflowInfo();
  return { greeting: `hello ${input.name}`, workflowId, tensor };
}
