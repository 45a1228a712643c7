// Temporal dev server lifecycle: find or build the `temporal` CLI, start/stop/inspect
// `temporal server start-dev` on 127.0.0.1 with its state in a SQLite file under `.data/`.
//
// Plain Node ESM without dependencies, because it must work before anything is built:
// `tools/setup.mjs` and `tools/temporal.mjs` call it on a fresh checkout, vitest's globalSetup
// calls it from the worker and CLI tests, and `stellar-emu dev` loads it from the checkout.
//
// Files (all under the data folder, default `.data/temporal/`, git-ignored):
//   temporal.sqlite  the server's persistent state
//   server.json      {pid, port, uiPort, address, dbFile, binary, owner, startedAt} of the server we started
//   server.log       the server's stdout/stderr
//   leases/          one file per test process using a server that tests started (see leaseDevServer)
//   lock             held while starting or stopping, so concurrent callers do not race
import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants as fsConstants, closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file lives in `<root>/tools/`). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** Pinned version of the Go module github.com/temporalio/cli built when no CLI is found. */
export const TEMPORAL_CLI_VERSION = '1.5.1';
export const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli';
/** Where the project builds its own CLI. */
export const TEMPORAL_CLI_TOOL_DIR = join(REPO_ROOT, '.tools', 'temporal', `v${TEMPORAL_CLI_VERSION}`);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const defaultLog = (msg) => process.stderr.write(`[temporal] ${msg}\n`);

function intFromEnv(name) {
  const v = process.env[name];
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0 || n > 65535) throw new Error(`${name}='${v}' is not a TCP port`);
  return n;
}

/**
 * Resolve the dev server's settings from options, then environment, then defaults:
 * STELLAR_EMU_TEMPORAL_PORT (7233), STELLAR_EMU_TEMPORAL_UI_PORT (port + 1000),
 * STELLAR_EMU_TEMPORAL_DATA_DIR (`.data/temporal`).
 */
export function devServerConfig(options = {}) {
  const port = options.port ?? intFromEnv('STELLAR_EMU_TEMPORAL_PORT') ?? 7233;
  const uiPort = options.uiPort ?? intFromEnv('STELLAR_EMU_TEMPORAL_UI_PORT') ?? port + 1000;
  const dataDir = resolve(REPO_ROOT, options.dataDir ?? process.env.STELLAR_EMU_TEMPORAL_DATA_DIR ?? join('.data', 'temporal'));
  const ip = '127.0.0.1';
  return {
    ip,
    port,
    uiPort,
    address: `${ip}:${port}`,
    uiUrl: `http://${ip}:${uiPort}`,
    namespace: 'default',
    dataDir,
    dbFile: join(dataDir, 'temporal.sqlite'),
    stateFile: join(dataDir, 'server.json'),
    logFile: join(dataDir, 'server.log'),
    lockFile: join(dataDir, 'lock'),
    leaseDir: join(dataDir, 'leases'),
    startTimeoutMs: options.startTimeoutMs ?? 90_000,
    stopTimeoutMs: options.stopTimeoutMs ?? 15_000,
    log: options.log ?? defaultLog,
  };
}

// ---------------------------------------------------------------------------------------------
// The CLI binary

function isExecutableFile(path) {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(name) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    if (isExecutableFile(candidate)) return candidate;
  }
  return null;
}

/** The environment for child processes: without TEMPORAL_* settings meant for a remote cluster. */
function localEnv() {
  const env = { ...process.env };
  for (const key of Object.keys(env)) if (key.startsWith('TEMPORAL_')) delete env[key];
  return env;
}

/**
 * Path of a `temporal` CLI: `$TEMPORAL_CLI` if set, else `temporal` on PATH, else the project's
 * own build in `.tools/temporal/v1.5.1/`, built with `go install` when absent (CGO off).
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
  log(`building the Temporal CLI: go install ${pkg} (${go.stdout.trim()}; a few minutes on a cold module cache)`);
  const t0 = Date.now();
  const code = await new Promise((resolveExit, reject) => {
    const child = spawn(
      'go',
      ['install', '-trimpath', `-ldflags=-s -w -X ${TEMPORAL_CLI_MODULE}/temporalcli.Version=${TEMPORAL_CLI_VERSION}`, pkg],
      { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, GOBIN: tmpBin, CGO_ENABLED: '0', GOFLAGS: '-mod=mod' } },
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

// ---------------------------------------------------------------------------------------------
// Probes

/** Whether something accepts TCP connections on 127.0.0.1:port. */
export function portOpen(port, host = '127.0.0.1', timeoutMs = 1000) {
  return new Promise((resolveOpen) => {
    const socket = connect({ port, host });
    const done = (open) => {
      socket.destroy();
      resolveOpen(open);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Whether a Temporal frontend answers at `address` and its namespace exists. */
export function temporalHealthy(binary, address, namespace = 'default') {
  const common = ['--address', address, '--command-timeout', '3s', '--color', 'never'];
  const health = spawnSync(binary, ['operator', 'cluster', 'health', ...common], { encoding: 'utf8', env: localEnv(), timeout: 10_000 });
  if (health.status !== 0 || !/SERVING/.test(health.stdout)) return false;
  const ns = spawnSync(binary, ['operator', 'namespace', 'describe', '--namespace', namespace, ...common], { encoding: 'utf8', env: localEnv(), timeout: 10_000 });
  return ns.status === 0;
}

function pidAlive(pid) {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    return err.code === 'EPERM';
  }
  // A zombie still answers kill(0); it is dead for our purposes.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no /proc (macOS): trust kill(0)
  }
}

function groupAlive(pgid) {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

/** Processes running `temporal server start-dev` on this database file: [{pid, command}]. */
export function findDevServerProcesses(dbFile) {
  const ps = spawnSync('ps', ['-eo', 'pid=,stat=,args='], { encoding: 'utf8' });
  if (ps.status !== 0) throw new Error(`ps failed: ${ps.stderr}`);
  const found = [];
  for (const line of ps.stdout.split('\n')) {
    const m = /^\s*(\d+)\s+(\S+)\s+(.*)$/.exec(line);
    if (!m || m[2].startsWith('Z')) continue;
    const command = m[3];
    if (/\bserver start-dev\b/.test(command) && command.includes(dbFile)) found.push({ pid: Number(m[1]), command });
  }
  return found;
}

// ---------------------------------------------------------------------------------------------
// State file and lock

function readState(cfg) {
  try {
    return JSON.parse(readFileSync(cfg.stateFile, 'utf8'));
  } catch {
    return null;
  }
}

function writeState(cfg, state) {
  const tmp = `${cfg.stateFile}.tmp-${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(tmp, cfg.stateFile);
}

/** Run `fn` holding the data folder's lock file (O_EXCL; a lock of a dead process is broken). */
async function withLock(cfg, fn) {
  mkdirSync(cfg.dataDir, { recursive: true });
  const deadline = Date.now() + cfg.startTimeoutMs + cfg.stopTimeoutMs;
  for (;;) {
    try {
      const fd = openSync(cfg.lockFile, 'wx');
      writeFileSync(fd, String(process.pid));
      closeSync(fd);
      break;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
      let holder = NaN;
      try {
        holder = Number(readFileSync(cfg.lockFile, 'utf8'));
      } catch {
        continue; // released meanwhile
      }
      if (holder && !pidAlive(holder)) {
        rmSync(cfg.lockFile, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${cfg.lockFile} (held by pid ${holder})`);
      await sleep(200);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(cfg.lockFile, { force: true });
  }
}

function logTail(cfg, lines = 30) {
  try {
    return readFileSync(cfg.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

function describe(cfg, state, extra) {
  return {
    address: cfg.address,
    namespace: cfg.namespace,
    port: cfg.port,
    uiUrl: cfg.uiUrl,
    dbFile: cfg.dbFile,
    logFile: cfg.logFile,
    pid: state?.pid ?? null,
    binary: state?.binary ?? null,
    owner: state?.owner ?? null,
    ...extra,
  };
}

// ---------------------------------------------------------------------------------------------
// Lifecycle

async function startUnlocked(cfg, owner) {
  const state = readState(cfg);
  const binary = await ensureTemporalCli({ log: cfg.log });
  if (state && pidAlive(state.pid)) {
    // Ours, started earlier (perhaps still coming up): reuse it.
    const deadline = Date.now() + cfg.startTimeoutMs;
    while (!temporalHealthy(binary, cfg.address, cfg.namespace)) {
      if (!pidAlive(state.pid)) throw new Error(`the dev server (pid ${state.pid}) exited while starting:\n${logTail(cfg)}`);
      if (Date.now() > deadline) throw new Error(`the dev server (pid ${state.pid}) does not answer at ${cfg.address}`);
      await sleep(250);
    }
    return describe(cfg, state, { reused: true, external: false });
  }
  if (state) rmSync(cfg.stateFile, { force: true }); // stale: the process is gone
  if (await portOpen(cfg.port)) {
    if (temporalHealthy(binary, cfg.address, cfg.namespace)) {
      cfg.log(`a Temporal server not started by this tooling already answers at ${cfg.address}; reusing it`);
      return describe(cfg, null, { reused: true, external: true });
    }
    throw new Error(
      `port ${cfg.port} on 127.0.0.1 is in use by something that is not a Temporal server; ` +
        `free it or choose another port with STELLAR_EMU_TEMPORAL_PORT`,
    );
  }

  mkdirSync(cfg.dataDir, { recursive: true });
  const args = [
    'server', 'start-dev',
    '--ip', cfg.ip,
    '--port', String(cfg.port),
    '--ui-port', String(cfg.uiPort),
    '--db-filename', cfg.dbFile,
    '--namespace', cfg.namespace,
    '--log-level', 'warn',
    '--color', 'never',
  ];
  const logFd = openSync(cfg.logFile, 'a');
  writeFileSync(logFd, `\n--- ${new Date().toISOString()} ${binary} ${args.join(' ')}\n`);
  // Detached: its own process group, so `stop` can signal everything it started, and it
  // outlives the command that started it.
  const child = spawn(binary, args, { detached: true, stdio: ['ignore', logFd, logFd], env: localEnv(), cwd: cfg.dataDir });
  closeSync(logFd);
  let exited = null;
  child.once('exit', (code, signal) => (exited = signal ?? `exit ${code}`));
  child.once('error', (err) => (exited = err.message));
  child.unref();
  const newState = {
    pid: child.pid,
    port: cfg.port,
    uiPort: cfg.uiPort,
    address: cfg.address,
    dbFile: cfg.dbFile,
    binary,
    owner,
    startedAt: new Date().toISOString(),
  };
  writeState(cfg, newState);

  const t0 = Date.now();
  for (;;) {
    if (exited !== null || !pidAlive(child.pid)) {
      rmSync(cfg.stateFile, { force: true });
      throw new Error(`temporal server start-dev exited (${exited ?? 'gone'}) before answering; ${cfg.logFile}:\n${logTail(cfg)}`);
    }
    if ((await portOpen(cfg.port)) && temporalHealthy(binary, cfg.address, cfg.namespace)) break;
    if (Date.now() - t0 > cfg.startTimeoutMs) {
      await stopUnlocked(cfg);
      throw new Error(`temporal server start-dev did not answer at ${cfg.address} within ${cfg.startTimeoutMs} ms:\n${logTail(cfg)}`);
    }
    await sleep(250);
  }
  cfg.log(`dev server pid ${child.pid} answers at ${cfg.address} (UI ${cfg.uiUrl}) after ${Date.now() - t0} ms; state in ${cfg.dbFile}`);
  return describe(cfg, newState, { reused: false, external: false, startMs: Date.now() - t0 });
}

async function signalAndWait(pgid, timeoutMs) {
  const gone = () => !pidAlive(pgid) && !groupAlive(pgid);
  const send = (sig) => {
    try {
      process.kill(-pgid, sig);
    } catch (err) {
      if (err.code !== 'ESRCH') throw err;
      try {
        process.kill(pgid, sig); // not a group leader after all
      } catch (e) {
        if (e.code !== 'ESRCH') throw e;
      }
    }
  };
  send('SIGTERM');
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (gone()) return 'SIGTERM';
    await sleep(100);
  }
  send('SIGKILL');
  const killDeadline = Date.now() + 5000;
  while (Date.now() < killDeadline) {
    if (gone()) return 'SIGKILL';
    await sleep(100);
  }
  throw new Error(`process group ${pgid} survived SIGKILL`);
}

async function stopUnlocked(cfg) {
  const state = readState(cfg);
  const stopped = [];
  if (state && pidAlive(state.pid)) {
    const t0 = Date.now();
    const signal = await signalAndWait(state.pid, cfg.stopTimeoutMs);
    stopped.push({ pid: state.pid, signal, ms: Date.now() - t0 });
  }
  rmSync(cfg.stateFile, { force: true });
  // Anything else serving this database (a lost pid file, a crashed start) goes too.
  for (const proc of findDevServerProcesses(cfg.dbFile)) {
    const t0 = Date.now();
    const signal = await signalAndWait(proc.pid, cfg.stopTimeoutMs);
    stopped.push({ pid: proc.pid, signal, ms: Date.now() - t0 });
  }
  const remaining = findDevServerProcesses(cfg.dbFile);
  if (remaining.length > 0) throw new Error(`dev server processes remain: ${remaining.map((p) => p.pid).join(', ')}`);
  return stopped;
}

/**
 * Start the dev server, or reuse the one already answering on the configured port.
 * Resolves once the frontend is SERVING and the namespace exists.
 */
export async function startDevServer(options = {}) {
  const cfg = devServerConfig(options);
  return withLock(cfg, () => startUnlocked(cfg, options.owner ?? 'user'));
}

/**
 * Stop the dev server started by this tooling (SIGTERM to its process group, SIGKILL after
 * `stopTimeoutMs`), remove its pid file and check that no process serving its database remains.
 * A Temporal server that this tooling did not start is left alone.
 */
export async function stopDevServer(options = {}) {
  const cfg = devServerConfig(options);
  return withLock(cfg, async () => {
    const stopped = await stopUnlocked(cfg);
    rmSync(cfg.leaseDir, { recursive: true, force: true });
    const externalStillAnswering = stopped.length === 0 && (await portOpen(cfg.port));
    return { stopped, externalStillAnswering, ...describe(cfg, null, {}) };
  });
}

/** What runs where: {running, healthy, pid, address, uiUrl, dbFile, logFile, owner, external}. */
export async function devServerStatus(options = {}) {
  const cfg = devServerConfig(options);
  const state = readState(cfg);
  const alive = state ? pidAlive(state.pid) : false;
  const open = await portOpen(cfg.port);
  let healthy = false;
  if (open) {
    const binary = alive ? state.binary : await ensureTemporalCli({ log: cfg.log });
    healthy = temporalHealthy(binary, cfg.address, cfg.namespace);
  }
  return describe(cfg, alive ? state : null, { running: alive || (open && healthy), healthy, external: !alive && open && healthy });
}

/**
 * For tests: use the dev server, starting it if needed, and get a `release` function.
 * A server that tests started is stopped when the last test process releases it; one that a
 * person started (`npm run temporal start`) is never stopped by tests. Leases of processes that
 * died are ignored.
 */
export async function leaseDevServer(options = {}) {
  const cfg = devServerConfig(options);
  const leaseFile = join(cfg.leaseDir, `${process.pid}-${Math.random().toString(36).slice(2, 10)}`);
  const info = await withLock(cfg, async () => {
    const started = await startUnlocked(cfg, 'tests');
    mkdirSync(cfg.leaseDir, { recursive: true });
    writeFileSync(leaseFile, String(process.pid));
    return started;
  });
  const release = () =>
    withLock(cfg, async () => {
      rmSync(leaseFile, { force: true });
      const live = existsSync(cfg.leaseDir)
        ? readdirSync(cfg.leaseDir).filter((f) => {
            const pid = Number(f.split('-')[0]);
            if (pidAlive(pid)) return true;
            rmSync(join(cfg.leaseDir, f), { force: true });
            return false;
          })
        : [];
      const state = readState(cfg);
      if (live.length === 0 && state?.owner === 'tests') return { stopped: await stopUnlocked(cfg) };
      return { stopped: [], stillUsedBy: live.length, owner: state?.owner ?? null };
    });
  return { ...info, release };
}
