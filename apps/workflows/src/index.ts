// Temporal workflow definitions (orchestration only) and the types and task queues they share
// with the worker and the client. Everything exported here must be safe in the workflow sandbox.
export * from './task-queues.js';
export type * from './activities.js';
export * from './hello.js';
