// The checkout this CLI runs from: the dev-server tooling and the worker are files in it.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** Repository root: this file is `apps/cli/src/repo.ts` or `apps/cli/dist/repo.js`. */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export type DevServerTools = typeof import('../../../tools/temporal-server.mjs');

/**
 * tools/temporal-server.mjs, the one implementation of the dev server lifecycle (also used by
 * `npm run temporal`, tools/setup.mjs and the test setup), loaded from the checkout.
 */
export async function loadDevServerTools(): Promise<DevServerTools> {
  const path = join(REPO_ROOT, 'tools', 'temporal-server.mjs');
  if (!existsSync(path)) throw new Error(`${path} not found: 'stellar-emu dev' works from a stellar-emu checkout`);
  return (await import(pathToFileURL(path).href)) as DevServerTools;
}

/** The built worker entry, `apps/worker/dist/main.js`. */
export function workerEntry(): string {
  const path = join(REPO_ROOT, 'apps', 'worker', 'dist', 'main.js');
  if (!existsSync(path)) throw new Error(`${path} not found: build first ('npx nx run-many -t build') or start a worker yourself and pass --no-worker`);
  return path;
}
