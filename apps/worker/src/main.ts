#!/usr/bin/env node
// Worker process: `node apps/worker/dist/main.js --task-queue cpu|gpu [--address host:port ...]`.
// SIGINT/SIGTERM shut it down gracefully: running activities get `--shutdown-grace` to finish.
import { parseArgs } from 'node:util';
import { Runtime } from '@temporalio/worker';
import type { Duration } from '@temporalio/common';
import { isTaskQueue, TASK_QUEUES } from '@stellar-emu/workflows';
import { connectWorker, describeConnection, resolveTemporalConfig } from './config.js';
import { createWorker } from './worker.js';
import { requestDrain } from './activities/heartbeat.js';
import { closeSynthesisEngine } from './activities/synth.js';

const USAGE = `usage: node apps/worker/dist/main.js --task-queue <cpu|gpu|name> [options]
  --task-queue <q[,q2]>            task queue(s) to poll (cpu: orchestration and light activities, gpu: training,
                                   synth: PySME spectrum synthesis);
                                   "cpu,gpu,synth" runs one worker per queue in this process
  --address <host:port>            Temporal frontend (TEMPORAL_ADDRESS; default the local dev server 127.0.0.1:7233)
  --namespace <ns>                 namespace (TEMPORAL_NAMESPACE; default "default")
  --tls-cert <pem> --tls-key <pem> mTLS client certificate and key (TEMPORAL_TLS_CERT, TEMPORAL_TLS_KEY)
  --tls-ca <pem>                   server root CA (TEMPORAL_TLS_CA)
  --api-key <key>                  API key (TEMPORAL_API_KEY)
  --max-concurrent-activities <n>  activity slots (default: 1 on gpu and synth, Temporal's default otherwise)
  --max-concurrent-workflow-tasks <n>
  --workflow-bundle <file>         prebuilt workflow bundle instead of bundling at start-up
  --shutdown-grace <duration>      time running activities get at shutdown (default "30 seconds")`;

function positiveInt(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, got '${value}'`);
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'task-queue': { type: 'string' },
      address: { type: 'string' },
      namespace: { type: 'string' },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      'tls-ca': { type: 'string' },
      'api-key': { type: 'string' },
      'max-concurrent-activities': { type: 'string' },
      'max-concurrent-workflow-tasks': { type: 'string' },
      'workflow-bundle': { type: 'string' },
      'shutdown-grace': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const queues = (values['task-queue'] ?? '')
    .split(',')
    .map((q) => q.trim())
    .filter(Boolean);
  if (queues.length === 0) throw new Error(`--task-queue is required\n${USAGE}`);
  for (const q of queues)
    if (!isTaskQueue(q))
      process.stderr.write(`[worker] note: '${q}' is not one of ${Object.values(TASK_QUEUES).join(', ')}\n`);

  const config = resolveTemporalConfig({
    address: values.address,
    namespace: values.namespace,
    tlsCert: values['tls-cert'],
    tlsKey: values['tls-key'],
    tlsCa: values['tls-ca'],
    apiKey: values['api-key'],
  });
  // We handle the signals ourselves (below) instead of the runtime's default handlers.
  Runtime.install({ shutdownSignals: [] });
  const connection = await connectWorker(config);
  const workers = await Promise.all(
    queues.map((taskQueue) =>
      createWorker({
        connection,
        namespace: config.namespace,
        taskQueue,
        workflowBundleCodePath: values['workflow-bundle'],
        maxConcurrentActivityTaskExecutions:
          positiveInt('--max-concurrent-activities', values['max-concurrent-activities']) ??
          (taskQueue === TASK_QUEUES.gpu || taskQueue === TASK_QUEUES.synth ? 1 : undefined),
        maxConcurrentWorkflowTaskExecutions: positiveInt(
          '--max-concurrent-workflow-tasks',
          values['max-concurrent-workflow-tasks'],
        ),
        ...(values['shutdown-grace'] ? { shutdownGraceTime: values['shutdown-grace'] as Duration } : {}),
      }),
    ),
  );

  let signals = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    signals += 1;
    if (signals > 1) {
      process.stderr.write(`[worker] ${signal} again: exiting now\n`);
      process.exit(130);
    }
    process.stderr.write(
      `[worker] ${signal}: draining — training activities write a checkpoint and hand over, others may finish\n`,
    );
    requestDrain();
    for (const w of workers) w.shutdown();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  // One line that parents (e.g. `stellar-emu hello`) wait for.
  process.stdout.write(`worker ready: task queue ${queues.join(',')} on ${describeConnection(config)}\n`);
  try {
    await Promise.all(workers.map((w) => w.run()));
  } finally {
    await closeSynthesisEngine();
    await connection.close();
  }
  process.stderr.write('[worker] stopped\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`[worker] error: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
