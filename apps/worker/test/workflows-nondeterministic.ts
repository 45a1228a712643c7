// A changed `hello` workflow for the negative replay test: it sleeps before scheduling the
// activity, so its commands no longer match the committed history.
import { proxyActivities, sleep, workflowInfo } from '@temporalio/workflow';
import type { Activities, HelloInput, HelloResult } from '@stellar-emu/workflows';

const { helloTensor } = proxyActivities<Activities>({ startToCloseTimeout: '2 minutes' });

export async function hello(input: HelloInput): Promise<HelloResult> {
  await sleep('1 second');
  const tensor = await helloTensor({ size: input.size ?? 64, seed: input.seed ?? 42 });
  return { greeting: `hello ${input.name}`, workflowId: workflowInfo().workflowId, tensor };
}
