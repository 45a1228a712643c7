// Task queues: which kind of worker runs an activity.

/**
 * Task queues of stellar-emu workers. `cpu` runs orchestration and light activities (ingest,
 * split, PCA, reports); `gpu` runs training; `synth` runs spectrum synthesis (PySME), one batch
 * per activity, so that any number of synth workers share a grid. A worker polls one or more of
 * them (`node apps/worker/dist/main.js --task-queue cpu,gpu,synth`).
 */
export const TASK_QUEUES = { cpu: 'cpu', gpu: 'gpu', synth: 'synth' } as const;
export type TaskQueue = (typeof TASK_QUEUES)[keyof typeof TASK_QUEUES];

/** Whether `name` is one of the project's task queues. */
export function isTaskQueue(name: string): name is TaskQueue {
  return (Object.values(TASK_QUEUES) as string[]).includes(name);
}
