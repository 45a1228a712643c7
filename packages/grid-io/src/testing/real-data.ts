// Locates the shared real-data folder (../shared/data beside the repository) for tests and benchmarks.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * Absolute path of `../shared/data/` (beside the repository checkout), or null when it is
 * absent. With CI=true an absent folder is an error: CI must run the real-data tests.
 */
export function realDataDir(): string | null {
  const dir = fileURLToPath(new URL('../../../../../shared/data/', import.meta.url));
  if (existsSync(dir)) return dir;
  if (process.env.CI === 'true')
    throw new Error(
      `real test data not found at ${dir} (CI=true: the shared data folder must sit beside the checkout)`,
    );
  return null;
}
