// `pipeline run --id` is validated before anything starts: the id names the run's folder.
import { Command } from 'commander';
import type { Client } from '@temporalio/client';
import { register } from './commands/pipeline.js';
import { assertWorkflowId, startOrAttach } from './pipeline-client.js';

test('workflow ids that cannot name a run folder are refused', () => {
  for (const bad of ['..', '.', '../runs', 'a/b', '', 'x y', 'é', 'a'.repeat(201)]) {
    expect(() => assertWorkflowId(bad, '--id'), bad).toThrow(/--id '.*' is not allowed/);
  }
  for (const good of ['pipeline-demo-2024-01-01T00-00-00-000Z-abc123', 'run_1.2', '..x', 'a'.repeat(200)]) {
    expect(() => assertWorkflowId(good)).not.toThrow();
  }
});

test('startOrAttach refuses such an id without calling Temporal', async () => {
  let started = 0;
  const client = {
    workflow: { start: async () => void started++, getHandle: () => null },
  } as unknown as Client;
  await expect(
    startOrAttach(client, 'pipeline', { workflowId: '..', taskQueue: 'cpu', args: [] }),
  ).rejects.toThrow(/workflow id '\.\.' is not allowed/);
  expect(started).toBe(0);
});

test('pipeline run --id .. is refused up front: no connection, worker or dev server is attempted', async () => {
  const program = new Command().exitOverride();
  register(program);
  const t0 = Date.now();
  // An address nothing listens on: without the check the command would try to connect there.
  await expect(
    program.parseAsync([
      'node',
      'stellar-emu',
      'pipeline',
      'run',
      '--id',
      '..',
      '--no-worker',
      '--address',
      '127.0.0.1:1',
    ]),
  ).rejects.toThrow(/--id '\.\.' is not allowed/);
  expect(Date.now() - t0).toBeLessThan(5000);
});
