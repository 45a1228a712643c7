// @ts-check
// The `temporal` CLI: the pinned version, where to find one, and how the project builds its own
// from the Go module github.com/temporalio/cli when none is found.
//
// Plain Node ESM without dependencies, because it must work before anything is built:
// `tools/setup.mjs` (through `tools/temporal.mjs ensure`) calls it on a fresh checkout.
// The dev server lifecycle that runs this CLI is in temporal-server.mjs.
import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants as fsConstants, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file lives in `<root>/tools/`). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** Pinned version of the Go module github.com/temporalio/cli built when no CLI is found. */
export const TEMPORAL_CLI_VERSION = '1.5.1';
export const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli';
/** Where the project builds its own CLI. */
export const TEMPORAL_CLI_TOOL_DIR = join(REPO_ROOT, '.tools', 'temporal', `v${TEMPORAL_CLI_VERSION}`);

/** Where progress messages go. @typedef {(message: string) => void} Log */

/** @type {Log} Progress messages on stderr. */
export const defaultLog = (msg) => {
  process.stderr.write(`[temporal] ${msg}\n`);
};

/**
 * Whether `path` is a file this process may execute.
 * @param {string} path
 * @returns {boolean}
 */
function isExecutableFile(path) {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * @param {string} name
 * @returns {string | null}
 */
function onPath(name) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    if (isExecutableFile(candidate)) return candidate;
  }
  return null;
}

/**
 * Path of a `temporal` CLI: `$TEMPORAL_CLI` if set, else `temporal` on PATH, else the project's
 * own build in `.tools/temporal/v1.5.1/`, built with `go install` when absent (CGO off).
 * @param {{ log?: Log }} [options]
 * @returns {Promise<string>}
 */
export async function ensureTemporalCli(options = {}) {
  const log = options.log ?? defaultLog;
  const fromEnv = process.env.TEMPORAL_CLI;
  if (fromEnv) {
    if (!isExecutableFile(fromEnv)) throw new Error(`TEMPORAL_CLI='${fromEnv}' is not an executable file`);
    return fromEnv;
  }
  const found = onPath('temporal');
  if (found) return found;
  const target = join(TEMPORAL_CLI_TOOL_DIR, 'temporal');
  if (isExecutableFile(target)) return target;
  await buildTemporalCli(log);
  return target;
}

/**
 * `go install` the pinned CLI into TEMPORAL_CLI_TOOL_DIR.
 * @param {Log} log
 * @returns {Promise<void>}
 */
async function buildTemporalCli(log) {
  const go = spawnSync('go', ['version'], { encoding: 'utf8' });
  if (go.error || go.status !== 0) {
    throw new Error(
      `no 'temporal' CLI on PATH and Go is not installed, so the project cannot build one. ` +
        `Install Go >= 1.24 (https://go.dev/dl/), or install the Temporal CLI ` +
        `(https://docs.temporal.io/cli#install) and put it on PATH, or set TEMPORAL_CLI=/path/to/temporal.`,
    );
  }
  mkdirSync(dirname(TEMPORAL_CLI_TOOL_DIR), { recursive: true });
  // Build into a private folder and rename, so that concurrent builds never expose half a binary.
  const tmpBin = `${TEMPORAL_CLI_TOOL_DIR}.tmp-${process.pid}`;
  rmSync(tmpBin, { recursive: true, force: true });
  const pkg = `${TEMPORAL_CLI_MODULE}/cmd/temporal@v${TEMPORAL_CLI_VERSION}`;
  log(
    `building the Temporal CLI: go install ${pkg} (${go.stdout.trim()}; a few minutes on a cold module cache)`,
  );
  const t0 = Date.now();
  /** @type {number | null} */
  const code = await new Promise((resolveExit, reject) => {
    const child = spawn(
      'go',
      [
        'install',
        '-trimpath',
        `-ldflags=-s -w -X ${TEMPORAL_CLI_MODULE}/temporalcli.Version=${TEMPORAL_CLI_VERSION}`,
        pkg,
      ],
      {
        stdio: ['ignore', 'inherit', 'inherit'],
        env: { ...process.env, GOBIN: tmpBin, CGO_ENABLED: '0', GOFLAGS: '-mod=mod' },
      },
    );
    child.on('error', reject);
    child.on('exit', (c, signal) => resolveExit(signal ? 128 : c));
  });
  if (code !== 0 || !isExecutableFile(join(tmpBin, 'temporal'))) {
    rmSync(tmpBin, { recursive: true, force: true });
    throw new Error(`go install ${pkg} failed (exit ${code}); see the output above`);
  }
  mkdirSync(TEMPORAL_CLI_TOOL_DIR, { recursive: true });
  renameSync(join(tmpBin, 'temporal'), join(TEMPORAL_CLI_TOOL_DIR, 'temporal'));
  rmSync(tmpBin, { recursive: true, force: true });
  log(`built ${join(TEMPORAL_CLI_TOOL_DIR, 'temporal')} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}
