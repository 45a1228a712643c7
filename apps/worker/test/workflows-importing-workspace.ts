// Fixture for the bundler test: a workflow module importing a workspace package at run time.
import { TASK_QUEUES } from '@stellar-emu/workflows';

export async function queues(): Promise<string[]> {
  return Object.values(TASK_QUEUES);
}
