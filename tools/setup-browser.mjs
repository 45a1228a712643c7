#!/usr/bin/env node
// Headless Chromium for the report's browser test: Debian's `chromium` package at /usr/bin/chromium.
//
// Installed with apt-get when missing and we are root on a Debian-like system; otherwise prints
// what to do and exits 1. Nothing is downloaded by npm (playwright-core ships no browser).
// STELLAR_EMU_CHROMIUM overrides the path (also read by the test).
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CHROMIUM_PATH = process.env.STELLAR_EMU_CHROMIUM || '/usr/bin/chromium';

/** @param {string} msg */
const log = (msg) => process.stderr.write(`[setup-browser] ${msg}\n`);

/** @param {string} path */
function executable(path) {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** @param {string} cmd */
function which(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).status === 0;
}

/** @param {string} path */
function version(path) {
  const r = spawnSync(path, ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

/** Make sure Chromium exists; returns its path or throws with instructions. */
export function ensureChromium() {
  if (executable(CHROMIUM_PATH)) return CHROMIUM_PATH;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (process.env.STELLAR_EMU_CHROMIUM) {
    throw new Error(`STELLAR_EMU_CHROMIUM=${CHROMIUM_PATH} is not an executable file`);
  }
  if (!isRoot || !which('apt-get')) {
    throw new Error(
      `headless Chromium not found at ${CHROMIUM_PATH}. Install it (Debian/Ubuntu: sudo apt-get install chromium), ` +
        'or set STELLAR_EMU_CHROMIUM to a Chromium/Chrome binary.',
    );
  }
  log('installing Debian package chromium (apt-get)');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [
    ['update', '-qq'],
    ['install', '-y', '-qq', 'chromium'],
  ]) {
    const r = spawnSync('apt-get', args, { stdio: 'inherit', env });
    if (r.status !== 0) throw new Error(`apt-get ${args.join(' ')} exited with ${r.status ?? r.signal}`);
  }
  if (!executable(CHROMIUM_PATH))
    throw new Error(`apt-get installed chromium but ${CHROMIUM_PATH} is missing`);
  return CHROMIUM_PATH;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  try {
    const path = ensureChromium();
    log(`chromium: ${path} (${version(path) ?? 'version unknown'})`);
  } catch (err) {
    log(`error: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  }
}
