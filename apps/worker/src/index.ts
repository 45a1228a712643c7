// The stellar-emu Temporal worker: activities (thin wrappers over the packages) and the worker factory.
export * from './config.js';
export * from './worker.js';
export { createActivities } from './activities/index.js';
export { helloTensor, seededMatrix } from './activities/hello.js';
