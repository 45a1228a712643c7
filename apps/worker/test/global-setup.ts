// vitest globalSetup: the Temporal dev server for this project's tests, through the project's tooling.
// Reuses a running dev server; one that the tests started is stopped when the last test run releases it.
import type { TestProject } from 'vitest/node';
import { leaseDevServer } from '@stellar-emu/tools/temporal-server';

declare module 'vitest' {
  export interface ProvidedContext {
    /** host:port of the dev server the tests use. */
    temporalAddress: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const server = await leaseDevServer({ log: (msg: string) => process.stderr.write(`[temporal] ${msg}\n`) });
  project.provide('temporalAddress', server.address);
  return async () => {
    await server.release();
  };
}
