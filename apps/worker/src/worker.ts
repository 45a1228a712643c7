// Worker factory: the activities of this app plus the workflows of @stellar-emu/workflows on one task queue.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker, type NativeConnection, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from './activities/index.js';

/** Export condition that points workspace packages at their TypeScript source. */
export const SOURCE_CONDITION = '@stellar-emu/source';

/**
 * The workflows entry Temporal bundles: the workflows package's TypeScript source when this
 * worker itself runs from source (tests), its built `dist/index.js` otherwise.
 */
export function resolveWorkflowsPath(fromSource = fileURLToPath(import.meta.url).endsWith('.ts')): string {
  const require = createRequire(import.meta.url);
  const root = dirname(require.resolve('@stellar-emu/workflows/package.json'));
  const src = join(root, 'src', 'index.ts');
  const dist = join(root, 'dist', 'index.js');
  if (fromSource && existsSync(src)) return src;
  if (existsSync(dist)) return dist;
  if (existsSync(src)) return src;
  throw new Error(`no workflows entry: neither ${dist} nor ${src} exists (run 'npx nx run-many -t build')`);
}

/** Temporal's webpack resolves workspace packages to their source, like vitest and tsc do. */
export const bundlerOptions: NonNullable<WorkerOptions['bundlerOptions']> = {
  webpackConfigHook: (config) => ({
    ...config,
    resolve: { ...config.resolve, conditionNames: [SOURCE_CONDITION, '...'] },
  }),
};

export interface CreateWorkerOptions {
  connection: NativeConnection;
  namespace?: string;
  taskQueue: string;
  /** Workflows entry to bundle (development); default `resolveWorkflowsPath()`. */
  workflowsPath?: string;
  /** A prebuilt workflow bundle (production, see `bundleWorkflowCode`); overrides `workflowsPath`. */
  workflowBundleCodePath?: string;
  maxConcurrentActivityTaskExecutions?: number;
  maxConcurrentWorkflowTaskExecutions?: number;
  /** Grace period for running activities at shutdown (ms-formatted string or ms). */
  shutdownGraceTime?: WorkerOptions['shutdownGraceTime'];
  /** Extra worker options, e.g. an identity. */
  extra?: Partial<WorkerOptions>;
}

/** A worker hosting every activity and workflow of stellar-emu on `taskQueue`. */
export async function createWorker(options: CreateWorkerOptions): Promise<Worker> {
  const workflows = options.workflowBundleCodePath
    ? { workflowBundle: { codePath: options.workflowBundleCodePath } }
    : { workflowsPath: options.workflowsPath ?? resolveWorkflowsPath(), bundlerOptions };
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace ?? 'default',
    taskQueue: options.taskQueue,
    activities: createActivities(),
    ...workflows,
    ...(options.maxConcurrentActivityTaskExecutions
      ? { maxConcurrentActivityTaskExecutions: options.maxConcurrentActivityTaskExecutions }
      : {}),
    ...(options.maxConcurrentWorkflowTaskExecutions
      ? { maxConcurrentWorkflowTaskExecutions: options.maxConcurrentWorkflowTaskExecutions }
      : {}),
    shutdownGraceTime: options.shutdownGraceTime ?? '30 seconds',
    // Heartbeats reach the server within 2 s (the SDK's default throttle is 0.8 x the heartbeat
    // timeout, up to 60 s), so progress in `status` and the Temporal UI is seconds old, not a minute.
    maxHeartbeatThrottleInterval: '2 seconds',
    ...options.extra,
  });
}
