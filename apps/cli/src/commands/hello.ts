// `stellar-emu hello`: one thin slice through every layer — this client starts the `hello`
// workflow, a worker runs its activity (a small tfjs computation through nn-core), the result is printed.
import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import { hello, TASK_QUEUES } from '@stellar-emu/workflows';
import { startWorker } from '../worker-process.js';
import {
  addConnectionOptions,
  connectClient,
  resolveConnection,
  workerConnectionArgs,
  type TemporalConnectionFlags,
} from '../temporal.js';

interface HelloOptions extends TemporalConnectionFlags {
  name: string;
  size: string;
  seed: string;
  worker: boolean;
  taskQueue: string;
  json?: boolean;
}

function positiveInt(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, got '${value}'`);
  return n;
}

export function register(program: Command): void {
  const command = program
    .command('hello')
    .description(
      'run the hello workflow: a worker multiplies two seeded matrices with tfjs (through nn-core) and returns ||A·B||_F',
    )
    .option('--name <name>', 'who to greet', 'world')
    .option('--size <n>', 'matrix side', '64')
    .option('--seed <n>', 'seed of the matrices', '42')
    .option('--task-queue <queue>', 'task queue of the workflow and its activity', TASK_QUEUES.cpu)
    .option(
      '--no-worker',
      'do not start a worker: expect one polling the task queue (node apps/worker/dist/main.js --task-queue cpu)',
    )
    .option('--json', 'print the workflow result as JSON');
  addConnectionOptions(command).action(async (opts: HelloOptions) => {
    const size = positiveInt('--size', opts.size);
    const seed = Number(opts.seed);
    if (!Number.isInteger(seed)) throw new Error(`--seed must be an integer, got '${opts.seed}'`);
    const config = await resolveConnection(opts);

    const worker = opts.worker
      ? await startWorker(['--task-queue', opts.taskQueue, ...workerConnectionArgs(config)])
      : null;
    const { client, connection } = await connectClient(config);
    try {
      const workflowId = `hello-${randomUUID()}`;
      const result = await client.workflow.execute(hello, {
        taskQueue: opts.taskQueue,
        workflowId,
        args: [{ name: opts.name, size, seed }],
      });
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
        return;
      }
      const t = result.tensor;
      process.stdout.write(
        `${result.greeting} from workflow ${result.workflowId}: activity on backend ${t.backend} computed ` +
          `||A·B||_F = ${t.frobeniusNorm.toPrecision(8)} (${t.size}x${t.size}, seed ${t.seed}, ${t.elapsedMs.toFixed(1)} ms)\n`,
      );
    } finally {
      await connection.close();
      await worker?.stop();
    }
  });
}
