// Temporal workflow definitions (orchestration only) and the types and task queues they share
// with the worker and the client. Everything exported here must be safe in the workflow sandbox.
export * from './task-queues.js';
export type * from './activities.js';
export * from './hello.js';
export type * from './pipeline/types.js';
export type * from './pipeline/activities.js';
export type { PipelineConfig } from './pipeline/config.js';
export * from './pipeline/workflows.js';
export { trainSettings } from './pipeline/settings.js';
