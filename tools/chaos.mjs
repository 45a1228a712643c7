#!/usr/bin/env node
// Bounded chaos test (issue 15): several small pipelines at once — two of them identical, so they
// share their trainings — while a loop SIGKILLs random worker processes and, once, the Temporal
// dev server. Every pipeline must complete, every artifact must verify against its recorded hash,
// and no temporary file, lock or staging folder may remain. Prints one JSON summary; exit 1 on failure.
//
//   node tools/chaos.mjs [--pipelines 4] [--workers 2] [--kill-every 6] [--epochs 3] [--minutes 15] [--port 7393] [--keep]
//
// Needs the build (`npx nx run-many -t build`) and the setup's Temporal CLI. Uses its own dev
// server (own port and state folder), worker processes and artifact store; removes them after.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_ROOT, startDevServer, stopDevServer } from './temporal-server.mjs';

const { values } = parseArgs({
  options: {
    pipelines: { type: 'string', default: '4' },
    workers: { type: 'string', default: '2' },
    'kill-every': { type: 'string', default: '6' },
    epochs: { type: 'string', default: '3' },
    minutes: { type: 'string', default: '15' },
    port: { type: 'string', default: '7393' },
    keep: { type: 'boolean', default: false },
  },
});
const nPipelines = Math.max(2, Number(values.pipelines));
const nWorkers = Math.max(1, Number(values.workers));
const killEveryS = Number(values['kill-every']);
const epochs = Number(values.epochs);
const deadline = Date.now() + Number(values.minutes) * 60_000;
const port = Number(values.port);
/** @param {string} m */
const log = (m) => process.stderr.write(`[chaos] ${m}\n`);

const workerMain = join(REPO_ROOT, 'apps', 'worker', 'dist', 'main.js');
if (!existsSync(workerMain))
  throw new Error(`${workerMain} not found: build first (npx nx run-many -t build)`);
const { Client, Connection } = await import('@temporalio/client');
const { validatePipelineConfig } = await import('@stellar-emu/workflows/config');
/** @type {{ hashPath: (path: string) => Promise<string> }} the worker's artifact store (built, not a dependency of tools) */
const { hashPath } = await import(join(REPO_ROOT, 'apps', 'worker', 'dist', 'artifacts', 'store.js'));

const t0 = Date.now();
const root = await mkdtemp(join(tmpdir(), 'stellar-emu-chaos-'));
const dataDir = join(root, 'temporal');
const artifacts = join(root, 'artifacts');
/** @type {import('./temporal-server.mjs').DevServerOptions} */
const server = { port, uiPort: port + 1000, dataDir, owner: 'tests', log: () => {} };
const started = await startDevServer(server);
const address = started.address;
log(`dev server ${address} (pid ${started.pid}), store ${artifacts}`);

// Workers: separate processes polling every queue; a killed one is replaced a second later.
/** @type {import('node:child_process').ChildProcess[]} */
const workers = [];
let workerKills = 0;
let serverKills = 0;
/**
 * @param {number} slot
 * @returns {import('node:child_process').ChildProcess}
 */
function spawnWorker(slot) {
  const child = spawn(
    process.execPath,
    [workerMain, '--task-queue', 'cpu,gpu', '--address', address, '--shutdown-grace', '1 second'],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '3' },
    },
  );
  let tail = '';
  child.stderr.on('data', (d) => (tail = (tail + d).slice(-2000)));
  child.on('exit', (code, signal) => {
    if (stopping) return;
    if (signal !== 'SIGKILL')
      log(
        `worker ${slot} exited by itself (${signal ?? code}); restarting. Last stderr: ${tail.split('\n').slice(-3).join(' | ')}`,
      );
    setTimeout(() => !stopping && (workers[slot] = spawnWorker(slot)), 1000);
  });
  return child;
}
let stopping = false;
for (let i = 0; i < nWorkers; i++) workers.push(spawnWorker(i));

// Pipelines: PINN on synthetic atmospheres (checkpoints every 2 steps, one epoch per chunk); the
// first two identical (one shared training), one with a CVAE as well.
const configs = Array.from({ length: nPipelines }, (_, i) => {
  const seed = i === 1 ? 0 : i;
  return validatePipelineConfig({
    name: `chaos-${i}`,
    artifacts,
    atmospheres: { synthetic: { n: 40, seed: 10 + seed } },
    pinn: { epochs, epochsPerChunk: 1, checkpointEverySteps: 2, batchSize: 256, baseline: false },
    ...(i === 2
      ? {
          spectra: { synthetic: { n: 80, seed: 3, pixels: 128 } },
          cvae: { epochs, epochsPerChunk: 1, checkpointEverySteps: 2, batchSize: 16 },
        }
      : {}),
  });
});

async function connect() {
  for (;;) {
    try {
      const connection = await Connection.connect({ address, connectTimeout: '3 seconds' });
      return { connection, client: new Client({ connection, namespace: 'default' }) };
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}
let { connection, client } = await connect();
const stamp = Date.now();
const ids = configs.map((_, i) => `chaos-${stamp}-${i}`);
for (const [i, id] of ids.entries())
  await client.workflow.start('pipeline', { taskQueue: 'cpu', workflowId: id, args: [configs[i]] });
log(`started ${ids.length} pipelines`);

// The kill loop: a random worker every kill-every seconds; the dev server once, after the first kills.
// (a cast, not an annotation: assigned in the interval callback, which narrowing does not see)
let serverRestart = /** @type {Promise<void> | null} */ (null);
const killer = setInterval(() => {
  const w = workers[Math.floor(Math.random() * workers.length)];
  if (w && w.exitCode === null && w.signalCode === null) {
    w.kill('SIGKILL');
    workerKills++;
  }
  if (serverKills === 0 && workerKills >= 3 && started.pid) {
    serverKills++;
    log(`SIGKILL the dev server (pid ${started.pid})`);
    try {
      process.kill(-started.pid, 'SIGKILL');
    } catch {
      process.kill(started.pid, 'SIGKILL');
    }
    serverRestart = (async () => {
      await new Promise((r) => setTimeout(r, 2000));
      const again = await startDevServer(server);
      started.pid = again.pid;
      log(`dev server back (pid ${again.pid}) on the same state`);
    })();
  }
}, killEveryS * 1000);

// Wait for every pipeline, reconnecting when the server goes away.
const results = new Map();
while (results.size < ids.length && Date.now() < deadline) {
  for (const id of ids) {
    if (results.has(id)) continue;
    try {
      const d = await client.workflow.getHandle(id).describe();
      const status = d.status.name;
      if (status === 'COMPLETED')
        results.set(id, { status, result: await client.workflow.getHandle(id).result() });
      else if (status !== 'RUNNING') results.set(id, { status });
    } catch (err) {
      if (serverRestart) await serverRestart.catch(() => {});
      try {
        await connection.close();
      } catch {
        /* gone */
      }
      ({ connection, client } = await connect());
    }
  }
  await new Promise((r) => setTimeout(r, 2000));
}
clearInterval(killer);
stopping = true;
for (const w of workers) if (w.exitCode === null) w.kill('SIGKILL');
if (serverRestart) await serverRestart.catch(() => {});

// Verify: every recorded step output against its hash; no temporary files anywhere in the store.
const problems = [];
for (const id of ids) {
  const r = results.get(id);
  if (!r || r.status !== 'COMPLETED')
    problems.push(`${id}: ${r ? r.status : 'not finished before the deadline'}`);
}
let verified = 0;
/** @type {string[]} */
const leftovers = [];
/** @param {string} dir */
async function walk(dir) {
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (/\.tmp-|\.old-|\.partial|^\.lock$|\.lock$/.test(e.name)) leftovers.push(p);
    if (e.isDirectory()) await walk(p);
    else if (e.name === 'step.json') {
      const rec = JSON.parse(await readFile(p, 'utf8'));
      for (const [name, out] of Object.entries(rec.outputs ?? {})) {
        const h = await hashPath(out.path);
        if (h !== out.sha256)
          problems.push(
            `${p}: output ${name} ${out.path} has sha256 ${h.slice(0, 12)}…, recorded ${String(out.sha256).slice(0, 12)}…`,
          );
        else verified++;
      }
    }
  }
}
if (existsSync(artifacts)) await walk(artifacts);
for (const l of leftovers) problems.push(`temporary file left: ${l}`);
const shared = new Set(ids.slice(0, 2).map((id) => results.get(id)?.result?.models?.pinn?.sha256));
if (shared.size !== 1)
  problems.push(`the two identical pipelines ended with different PINNs: ${[...shared].join(', ')}`);

await connection.close().catch(() => {});
await stopDevServer(server).catch(() => {});
if (!values.keep) await rm(root, { recursive: true, force: true });
const summary = {
  pipelines: ids.length,
  completed: [...results.values()].filter((r) => r.status === 'COMPLETED').length,
  workerKills,
  serverKills,
  verifiedArtifacts: verified,
  seconds: Math.round((Date.now() - t0) / 1000),
  problems,
};
process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
process.exit(problems.length ? 1 : 0);
