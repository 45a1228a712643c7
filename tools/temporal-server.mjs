// @ts-check
// Temporal dev server lifecycle: start/stop/inspect `temporal server start-dev` on 127.0.0.1 with
// its state in a SQLite file under `.data/`. The CLI binary itself (version pin, lookup, build from
// the Go module) is temporal-cli.mjs; its names are re-exported here for existing callers.
//
// Plain Node ESM without dependencies, because it must work before anything is built:
// `tools/setup.mjs` and `tools/temporal.mjs` call it on a fresh checkout, vitest's globalSetup
// calls it from the worker and CLI tests, and `stellar-emu dev` loads it from the checkout.
// Types come from the JSDoc below (checked by `tsc -b tools/tsconfig.lib.json`, which also writes
// the declarations under tools/dist/).
//
// Files (all under the data folder, default `.data/temporal/`, git-ignored):
//   temporal.sqlite  the server's persistent state
//   server.json      {pid, port, uiPort, address, dbFile, binary, owner, startedAt} of the server we started
//   server.log       the server's stdout/stderr
//   leases/          one file per test process using a server that tests started (see leaseDevServer)
//   lock             held while starting or stopping, so concurrent callers do not race
import { spawn, spawnSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { connect } from 'node:net';
import { join, resolve } from 'node:path';
import { REPO_ROOT, defaultLog, ensureTemporalCli } from './temporal-cli.mjs';

export {
  REPO_ROOT,
  TEMPORAL_CLI_MODULE,
  TEMPORAL_CLI_TOOL_DIR,
  TEMPORAL_CLI_VERSION,
  ensureTemporalCli,
} from './temporal-cli.mjs';

/** @typedef {import('./temporal-cli.mjs').Log} Log */
/** @typedef {'user' | 'tests'} Owner */

/**
 * @typedef {object} DevServerOptions
 * @property {number} [port] gRPC port (STELLAR_EMU_TEMPORAL_PORT, default 7233).
 * @property {number} [uiPort] Web UI port (STELLAR_EMU_TEMPORAL_UI_PORT, default port + 1000).
 * @property {string} [dataDir] State, pid file and log folder, relative to the repository root (STELLAR_EMU_TEMPORAL_DATA_DIR, default .data/temporal).
 * @property {number} [startTimeoutMs]
 * @property {number} [stopTimeoutMs]
 * @property {Log} [log] Progress messages (default: stderr).
 * @property {Owner} [owner] Recorded in the pid file: who started the server.
 */

/**
 * @typedef {object} DevServerConfig
 * @property {string} ip
 * @property {number} port
 * @property {number} uiPort
 * @property {string} address
 * @property {string} uiUrl
 * @property {string} namespace
 * @property {string} dataDir
 * @property {string} dbFile
 * @property {string} stateFile
 * @property {string} logFile
 * @property {string} lockFile
 * @property {string} leaseDir
 * @property {number} startTimeoutMs
 * @property {number} stopTimeoutMs
 * @property {Log} log
 */

/**
 * The pid file (`server.json`) of a server this tooling started.
 * @typedef {object} ServerState
 * @property {number} pid
 * @property {number} port
 * @property {number} uiPort
 * @property {string} address
 * @property {string} dbFile
 * @property {string} binary
 * @property {Owner} owner
 * @property {string} startedAt
 */

/**
 * @typedef {object} DevServerInfo
 * @property {string} address
 * @property {string} namespace
 * @property {number} port
 * @property {string} uiUrl
 * @property {string} dbFile
 * @property {string} logFile
 * @property {number | null} pid Pid of the server started by this tooling (null for a server it did not start).
 * @property {string | null} binary
 * @property {Owner | null} owner
 */

/**
 * `reused`: a server was already answering; `external`: that server was not started by this tooling.
 * @typedef {DevServerInfo & { reused: boolean, external: boolean, startMs?: number }} StartResult
 */

/**
 * @typedef {object} StoppedProcess
 * @property {number} pid
 * @property {'SIGTERM' | 'SIGKILL'} signal
 * @property {number} ms
 */

/**
 * `externalStillAnswering`: nothing of ours ran, but some other server answers on the port.
 * @typedef {DevServerInfo & { stopped: StoppedProcess[], externalStillAnswering: boolean }} StopResult
 */

/** @typedef {DevServerInfo & { running: boolean, healthy: boolean, external: boolean }} StatusResult */

/**
 * @typedef {object} ReleaseResult
 * @property {StoppedProcess[]} stopped
 * @property {number} [stillUsedBy]
 * @property {Owner | null} [owner]
 */

/**
 * A dev server in use by a test process; `release` gives it back and stops it if tests started
 * it and no other test process uses it.
 * @typedef {StartResult & { release: () => Promise<ReleaseResult> }} Lease
 */

/** @type {(ms: number) => Promise<void>} */
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The `code` of a Node system error (`ENOENT`, `EPERM`...), if any. */
const errCode = (/** @type {unknown} */ err) => /** @type {NodeJS.ErrnoException | undefined} */ (err)?.code;

/**
 * @param {string} name
 * @returns {number | undefined}
 */
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
 * @param {DevServerOptions} [options]
 * @returns {DevServerConfig}
 */
export function devServerConfig(options = {}) {
  const port = options.port ?? intFromEnv('STELLAR_EMU_TEMPORAL_PORT') ?? 7233;
  const uiPort = options.uiPort ?? intFromEnv('STELLAR_EMU_TEMPORAL_UI_PORT') ?? port + 1000;
  const dataDir = resolve(
    REPO_ROOT,
    options.dataDir ?? process.env.STELLAR_EMU_TEMPORAL_DATA_DIR ?? join('.data', 'temporal'),
  );
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
// Probes

/**
 * The environment for child processes: without TEMPORAL_* settings meant for a remote cluster.
 * @returns {NodeJS.ProcessEnv}
 */
function localEnv() {
  const env = { ...process.env };
  for (const key of Object.keys(env)) if (key.startsWith('TEMPORAL_')) delete env[key];
  return env;
}

/**
 * Whether something accepts TCP connections on 127.0.0.1:port.
 * @param {number} port
 * @param {string} [host]
 * @param {number} [timeoutMs]
 * @returns {Promise<boolean>}
 */
export function portOpen(port, host = '127.0.0.1', timeoutMs = 1000) {
  return new Promise((resolveOpen) => {
    const socket = connect({ port, host });
    const done = (/** @type {boolean} */ open) => {
      socket.destroy();
      resolveOpen(open);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * Whether a Temporal frontend answers at `address` and its namespace exists.
 * @param {string} binary path of the `temporal` CLI
 * @param {string} address host:port
 * @param {string} [namespace]
 * @returns {boolean}
 */
export function temporalHealthy(binary, address, namespace = 'default') {
  const common = ['--address', address, '--command-timeout', '3s', '--color', 'never'];
  const health = spawnSync(binary, ['operator', 'cluster', 'health', ...common], {
    encoding: 'utf8',
    env: localEnv(),
    timeout: 10_000,
  });
  if (health.status !== 0 || !/SERVING/.test(health.stdout)) return false;
  const ns = spawnSync(binary, ['operator', 'namespace', 'describe', '--namespace', namespace, ...common], {
    encoding: 'utf8',
    env: localEnv(),
    timeout: 10_000,
  });
  return ns.status === 0;
}

/**
 * @param {number} pid
 * @returns {boolean}
 */
function pidAlive(pid) {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    return errCode(err) === 'EPERM';
  }
  // A zombie still answers kill(0); it is dead for our purposes.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no /proc (macOS): trust kill(0)
  }
}

/**
 * @param {number} pgid
 * @returns {boolean}
 */
function groupAlive(pgid) {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (err) {
    return errCode(err) === 'EPERM';
  }
}

/**
 * Processes running `temporal server start-dev` on this database file: [{pid, command}].
 * @param {string} dbFile
 * @returns {{ pid: number, command: string }[]}
 */
export function findDevServerProcesses(dbFile) {
  const ps = spawnSync('ps', ['-eo', 'pid=,stat=,args='], { encoding: 'utf8' });
  if (ps.status !== 0) throw new Error(`ps failed: ${ps.stderr}`);
  /** @type {{ pid: number, command: string }[]} */
  const found = [];
  for (const line of ps.stdout.split('\n')) {
    const m = /^\s*(\d+)\s+(\S+)\s+(.*)$/.exec(line);
    if (!m || m[2].startsWith('Z')) continue;
    const command = m[3];
    if (/\bserver start-dev\b/.test(command) && command.includes(dbFile))
      found.push({ pid: Number(m[1]), command });
  }
  return found;
}

// ---------------------------------------------------------------------------------------------
// State file and lock

/**
 * @param {DevServerConfig} cfg
 * @returns {ServerState | null}
 */
function readState(cfg) {
  try {
    return JSON.parse(readFileSync(cfg.stateFile, 'utf8'));
  } catch {
    return null;
  }
}

/**
 * @param {DevServerConfig} cfg
 * @param {ServerState} state
 */
function writeState(cfg, state) {
  const tmp = `${cfg.stateFile}.tmp-${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(tmp, cfg.stateFile);
}

/**
 * Run `fn` holding the data folder's lock file (O_EXCL; a lock of a dead process is broken).
 * @template T
 * @param {DevServerConfig} cfg
 * @param {() => Promise<T>} fn
 * @returns {Promise<T>}
 */
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
      if (errCode(err) !== 'EEXIST') throw err;
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
      if (Date.now() > deadline)
        throw new Error(`timed out waiting for ${cfg.lockFile} (held by pid ${holder})`);
      await sleep(200);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(cfg.lockFile, { force: true });
  }
}

/**
 * @param {DevServerConfig} cfg
 * @param {number} [lines]
 * @returns {string}
 */
function logTail(cfg, lines = 30) {
  try {
    return readFileSync(cfg.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/**
 * @template {object} E
 * @param {DevServerConfig} cfg
 * @param {ServerState | null} state
 * @param {E} extra
 * @returns {DevServerInfo & E}
 */
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

/**
 * @param {DevServerConfig} cfg
 * @param {Owner} owner
 * @returns {Promise<StartResult>}
 */
async function startUnlocked(cfg, owner) {
  const state = readState(cfg);
  const binary = await ensureTemporalCli({ log: cfg.log });
  if (state && pidAlive(state.pid)) {
    // Ours, started earlier (perhaps still coming up): reuse it.
    const deadline = Date.now() + cfg.startTimeoutMs;
    while (!temporalHealthy(binary, cfg.address, cfg.namespace)) {
      if (!pidAlive(state.pid))
        throw new Error(`the dev server (pid ${state.pid}) exited while starting:\n${logTail(cfg)}`);
      if (Date.now() > deadline)
        throw new Error(`the dev server (pid ${state.pid}) does not answer at ${cfg.address}`);
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
    'server',
    'start-dev',
    '--ip',
    cfg.ip,
    '--port',
    String(cfg.port),
    '--ui-port',
    String(cfg.uiPort),
    '--db-filename',
    cfg.dbFile,
    '--namespace',
    cfg.namespace,
    '--log-level',
    'warn',
    '--color',
    'never',
  ];
  const logFd = openSync(cfg.logFile, 'a');
  writeFileSync(logFd, `\n--- ${new Date().toISOString()} ${binary} ${args.join(' ')}\n`);
  // Detached: its own process group, so `stop` can signal everything it started, and it
  // outlives the command that started it.
  const child = spawn(binary, args, {
    detached: true,
    stdio: ['ignore', logFd, logFd],
    env: localEnv(),
    cwd: cfg.dataDir,
  });
  closeSync(logFd);
  /** @type {string | null} */
  let exited = null;
  child.once('exit', (code, signal) => (exited = signal ?? `exit ${code}`));
  child.once('error', (err) => (exited = err.message));
  child.unref();
  /** @type {ServerState} */
  const newState = {
    pid: /** @type {number} */ (child.pid), // undefined only if spawn failed, which `exited` reports below
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
    if (exited !== null || !pidAlive(newState.pid)) {
      rmSync(cfg.stateFile, { force: true });
      throw new Error(
        `temporal server start-dev exited (${exited ?? 'gone'}) before answering; ${cfg.logFile}:\n${logTail(cfg)}`,
      );
    }
    if ((await portOpen(cfg.port)) && temporalHealthy(binary, cfg.address, cfg.namespace)) break;
    if (Date.now() - t0 > cfg.startTimeoutMs) {
      await stopUnlocked(cfg);
      throw new Error(
        `temporal server start-dev did not answer at ${cfg.address} within ${cfg.startTimeoutMs} ms:\n${logTail(cfg)}`,
      );
    }
    await sleep(250);
  }
  cfg.log(
    `dev server pid ${child.pid} answers at ${cfg.address} (UI ${cfg.uiUrl}) after ${Date.now() - t0} ms; state in ${cfg.dbFile}`,
  );
  return describe(cfg, newState, { reused: false, external: false, startMs: Date.now() - t0 });
}

/**
 * @param {number} pgid
 * @param {number} timeoutMs
 * @returns {Promise<'SIGTERM' | 'SIGKILL'>}
 */
async function signalAndWait(pgid, timeoutMs) {
  const gone = () => !pidAlive(pgid) && !groupAlive(pgid);
  const send = (/** @type {NodeJS.Signals} */ sig) => {
    try {
      process.kill(-pgid, sig);
    } catch (err) {
      if (errCode(err) !== 'ESRCH') throw err;
      try {
        process.kill(pgid, sig); // not a group leader after all
      } catch (e) {
        if (errCode(e) !== 'ESRCH') throw e;
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

/**
 * @param {DevServerConfig} cfg
 * @returns {Promise<StoppedProcess[]>}
 */
async function stopUnlocked(cfg) {
  const state = readState(cfg);
  /** @type {StoppedProcess[]} */
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
  if (remaining.length > 0)
    throw new Error(`dev server processes remain: ${remaining.map((p) => p.pid).join(', ')}`);
  return stopped;
}

/**
 * Start the dev server, or reuse the one already answering on the configured port.
 * Resolves once the frontend is SERVING and the namespace exists.
 * @param {DevServerOptions} [options]
 * @returns {Promise<StartResult>}
 */
export async function startDevServer(options = {}) {
  const cfg = devServerConfig(options);
  return withLock(cfg, () => startUnlocked(cfg, options.owner ?? 'user'));
}

/**
 * Stop the dev server started by this tooling (SIGTERM to its process group, SIGKILL after
 * `stopTimeoutMs`), remove its pid file and check that no process serving its database remains.
 * A Temporal server that this tooling did not start is left alone.
 * @param {DevServerOptions} [options]
 * @returns {Promise<StopResult>}
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

/**
 * What runs where: {running, healthy, pid, address, uiUrl, dbFile, logFile, owner, external}.
 * @param {DevServerOptions} [options]
 * @returns {Promise<StatusResult>}
 */
export async function devServerStatus(options = {}) {
  const cfg = devServerConfig(options);
  const state = readState(cfg);
  const alive = state ? pidAlive(state.pid) : false;
  const open = await portOpen(cfg.port);
  let healthy = false;
  if (open) {
    const binary = alive && state ? state.binary : await ensureTemporalCli({ log: cfg.log });
    healthy = temporalHealthy(binary, cfg.address, cfg.namespace);
  }
  return describe(cfg, alive ? state : null, {
    running: alive || (open && healthy),
    healthy,
    external: !alive && open && healthy,
  });
}

/**
 * What `start` did, in one line for a person (`stellar-emu dev start`, `npm run temporal start`).
 * @param {StartResult} s
 * @returns {string}
 */
export function describeStart(s) {
  const how = s.external
    ? 'reusing a Temporal server not started here'
    : s.reused
      ? `already running (pid ${s.pid})`
      : `started (pid ${s.pid})`;
  return `temporal dev server ${how} at ${s.address}, namespace ${s.namespace}, UI ${s.uiUrl}`;
}

/**
 * What `stop` did, a line per stopped process (or one saying why none was).
 * @param {StopResult} s
 * @returns {string[]}
 */
export function describeStop(s) {
  if (s.stopped.length === 0)
    return [
      s.externalStillAnswering
        ? `a Temporal server not started by this tooling answers at ${s.address}; left alone`
        : 'temporal dev server was not running',
    ];
  return s.stopped.map((p) => `stopped temporal dev server pid ${p.pid} (${p.signal}, ${p.ms} ms)`);
}

/**
 * The status in one line (the caller exits 3 when `s.running` is false).
 * @param {StatusResult} s
 * @returns {string}
 */
export function describeStatus(s) {
  if (!s.running) return `temporal dev server not running (would listen at ${s.address}, state ${s.dbFile})`;
  return `temporal dev server ${s.external ? 'not started by this tooling' : `pid ${s.pid}`} at ${s.address} (${s.healthy ? 'SERVING' : 'not answering'}), UI ${s.uiUrl}`;
}

/**
 * The tests' own dev server: port STELLAR_EMU_TEST_TEMPORAL_PORT (default: the pipelines' port + 10,
 * i.e. 7243; UI port + 1000),
 * state in `.data/temporal-test/`. Never the server that `npm run temporal start` and the
 * pipelines use: workflows name fixed task queues (`cpu`, `gpu`, `synth`), so on a shared server
 * a user's running pipeline workers would take the tests' activities, and test workers the
 * pipeline's.
 * @param {DevServerOptions} [options] overrides
 * @returns {DevServerConfig}
 */
export function testDevServerConfig(options = {}) {
  const port = options.port ?? intFromEnv('STELLAR_EMU_TEST_TEMPORAL_PORT') ?? devServerConfig().port + 10;
  return devServerConfig({
    uiPort: port + 1000,
    dataDir: join('.data', 'temporal-test'),
    ...options,
    port,
  });
}

/**
 * For tests: use the tests' dev server (`testDevServerConfig`), starting it if needed, and get a
 * `release` function. A server that tests started is stopped when the last test process releases
 * it; one that a person started on that port is never stopped by tests. Leases of processes that
 * died are ignored.
 * @param {DevServerOptions} [options]
 * @returns {Promise<Lease>}
 */
export async function leaseDevServer(options = {}) {
  const cfg = testDevServerConfig(options);
  const leaseFile = join(cfg.leaseDir, `${process.pid}-${Math.random().toString(36).slice(2, 10)}`);
  const info = await withLock(cfg, async () => {
    const started = await startUnlocked(cfg, 'tests');
    mkdirSync(cfg.leaseDir, { recursive: true });
    writeFileSync(leaseFile, String(process.pid));
    return started;
  });
  /** @type {() => Promise<ReleaseResult>} */
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
