// @stellar-emu/metrics: the report's metrics contract (zod schemas, their types, METRICS_SCHEMA_VERSION); no I/O, no rendering.
export * from './schema.js';
