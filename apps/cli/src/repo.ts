// The checkout this CLI runs from: the dev-server tooling and the worker are files in it.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root: this file is `apps/cli/src/repo.ts` or `apps/cli/dist/repo.js`. */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** This checkout's stellar-emu version (apps/cli/package.json), written into every file the CLI produces. */
export const STELLAR_EMU_VERSION: string = (
  JSON.parse(readFileSync(join(REPO_ROOT, 'apps', 'cli', 'package.json'), 'utf8')) as { version: string }
).version;

export type DevServerTools = typeof import('@stellar-emu/tools/temporal-server');

/**
 * @stellar-emu/tools/temporal-server (tools/temporal-server.mjs), the one implementation of the
 * dev server lifecycle (also used by `npm run temporal`, tools/setup.mjs and the test setup):
 * the checkout's workspace package, plain JavaScript that needs no build. Loaded on demand, so
 * that only the commands that run a dev server need it.
 */
export async function loadDevServerTools(): Promise<DevServerTools> {
  try {
    return await import('@stellar-emu/tools/temporal-server');
  } catch (err) {
    if (
      (err as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' &&
      /@stellar-emu\/tools/.test(String(err))
    )
      throw new Error(
        `@stellar-emu/tools not found: 'stellar-emu dev' works from a stellar-emu checkout after 'npm install' (${REPO_ROOT})`,
        { cause: err },
      );
    throw err;
  }
}

/** The built worker entry, `apps/worker/dist/main.js`. */
export function workerEntry(): string {
  const path = join(REPO_ROOT, 'apps', 'worker', 'dist', 'main.js');
  if (!existsSync(path))
    throw new Error(
      `${path} not found: build first ('npx nx run-many -t build') or start a worker yourself and pass --no-worker`,
    );
  return path;
}

/**
 * Real data for the demo's spectrum synthesis: `STELLAR_EMU_DATA`, else `../shared/data` beside
 * the checkout. The folder holds `atlas9-kurucz1993/` (Kurucz's 1993 ATLAS9 grid, from
 * kurucz.harvard.edu/grids/), a VALD line list at
 * `atomic/linelists/korg_vald_solar_threshold01/linelist.vald`, the solar deck
 * `atomic/atmosphere/ksun.mod` and the HARPS Sun `atomic/solar_spectrum/sun_harps_ganymede_4440-5410_air.csv`.
 * Null (with the reason) when any is missing.
 */
export function demoDataFiles(): {
  data: { atlas9Grid: string; linelist: string; sunDeck: string; sunObserved: string } | null;
  reason: string;
} {
  const dir = process.env.STELLAR_EMU_DATA ?? join(REPO_ROOT, '..', 'shared', 'data');
  const files = {
    atlas9Grid: join(dir, 'atlas9-kurucz1993'),
    linelist: join(dir, 'atomic', 'linelists', 'korg_vald_solar_threshold01', 'linelist.vald'),
    sunDeck: join(dir, 'atomic', 'atmosphere', 'ksun.mod'),
    sunObserved: join(dir, 'atomic', 'solar_spectrum', 'sun_harps_ganymede_4440-5410_air.csv'),
  };
  const missing = Object.values(files).filter((p) => !existsSync(p));
  if (missing.length)
    return {
      data: null,
      reason: `${missing[0]} not found (set STELLAR_EMU_DATA to a folder laid out like ../shared/data)`,
    };
  return { data: files, reason: `real data from ${dir}` };
}
