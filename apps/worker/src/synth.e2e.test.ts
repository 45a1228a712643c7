// PySME grid synthesis on the real dev server: two synth workers share one grid, and a synth worker
// SIGKILLed mid-batch is replaced without recomputing the rows it finished.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { readManifest } from '@stellar-emu/grid-io';
import { realDataDir } from '@stellar-emu/grid-io/testing';
import { pysmeAvailable, pysmeEnvironment, RowStore } from '@stellar-emu/synthesis';
import { synthesizeGrid, TASK_QUEUES, type SmeSpectraSettings } from '@stellar-emu/workflows';
import { createWorker } from './worker.js';

const workerMain = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const data = realDataDir();
const run = data !== null && (pysmeAvailable() || process.env.CI === 'true');

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** A synth worker process (built dist), one PySME engine inside. */
function synthWorkerProcess(address: string): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [workerMain, '--task-queue', TASK_QUEUES.synth, '--address', address],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '3' },
    },
  );
  let err = '';
  child.stderr!.on('data', (c: Buffer) => (err = (err + c.toString()).slice(-5000)));
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes('worker ready')) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`synth worker exited (${code}) before ready: ${err}`)));
  });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), 20_000);
  await exited;
  clearTimeout(t);
}

describe.skipIf(!run)('PySME grids on the real dev server (synth queue)', () => {
  const address = inject('temporalAddress');
  let nativeConnection: NativeConnection;
  let connection: Connection;
  let client: Client;
  let cpu: Worker;
  let cpuRun: Promise<void>;
  const children: ChildProcess[] = [];

  const source = (over: Partial<SmeSpectraSettings>): SmeSpectraSettings => ({
    n: 12,
    seed: 11,
    perAtmosphere: 2,
    linelist: join(data!, 'atomic/linelists/korg_vald_solar_threshold01/linelist.vald'),
    grid: join(data!, 'atlas9-kurucz1993'),
    window: [5000, 5020],
    stepAngstrom: 0.05,
    medium: 'air',
    vmacKms: 0,
    batchSize: 3,
    box: {
      teffK: { min: 5000, max: 6500 },
      logg: { min: 4, max: 4.5 },
      mh: { min: -0.5, max: 0.3 },
      vsiniKms: { min: 0, max: 30 },
      resolution: { min: 20_000, max: 80_000 },
    },
    ...over,
  });

  beforeAll(async () => {
    nativeConnection = await NativeConnection.connect({ address });
    connection = await Connection.connect({ address });
    client = new Client({ connection, namespace: 'default' });
    // Workflow tasks in this process; every synth activity in worker processes.
    cpu = await createWorker({ connection: nativeConnection, taskQueue: TASK_QUEUES.cpu });
    cpuRun = cpu.run();
  });

  afterAll(async () => {
    await Promise.all(children.map(stop));
    if (cpu?.getState() === 'RUNNING') cpu.shutdown();
    await cpuRun;
    await connection?.close();
    await nativeConnection?.close();
  });

  test('two synth workers share one grid: every row computed once, the dataset reads back in pyarrow with its provenance', async () => {
    const artifacts = await mkdtemp(join(tmpdir(), 'se-synth-share-'));
    const [a, b] = await Promise.all([synthWorkerProcess(address), synthWorkerProcess(address)]);
    children.push(a, b);
    const result = await client.workflow.execute(synthesizeGrid, {
      taskQueue: TASK_QUEUES.cpu,
      workflowId: `synth-share-${Date.now()}`,
      args: [{ source: source({}), artifacts }],
    });
    expect(result.result.rows).toBe(12);
    const gridDir = join(result.result.path, '..');
    const log = await new RowStore(gridDir).computedLog();
    expect(log.length).toBe(12);
    expect(new Set(log.map((l) => l.key)).size).toBe(12);
    const pids = new Set(log.map((l) => l.who.split(':').pop()));
    expect(pids).toEqual(new Set([String(a.pid), String(b.pid)]));

    const manifest = await readManifest(result.result.path);
    const synthesis = (
      manifest.notes as {
        synthesis: {
          pysmeVersion: string;
          medium: string;
          linelist: { sha256: string };
          atmospheres: { kind: string };
        };
      }
    ).synthesis;
    expect(synthesis.pysmeVersion).toBe('1.2.0');
    expect(synthesis.medium).toBe('air');
    expect(synthesis.atmospheres.kind).toBe('atlas9-grid');
    expect(synthesis.linelist.sha256).toMatch(/^[0-9a-f]{64}$/);
    // Every row in one of the three splits (a small grid may leave one of them empty: the hash split holds on average).
    for (const k of Object.keys(manifest.splitCounts)) expect(['train', 'val', 'test']).toContain(k);
    expect(Object.values(manifest.splitCounts).reduce((a, b) => a + b, 0)).toBe(12);

    // pyarrow (from the project's PySME environment) reads the dataset unchanged.
    const py = spawnSync(
      pysmeEnvironment().python,
      [
        '-c',
        'import sys, pyarrow.parquet as pq; t = pq.read_table(sys.argv[1]); f = t.column("flux").to_pylist(); print(t.num_rows, len(f[0]), min(min(r) for r in f), max(max(r) for r in f), ",".join(t.column_names))',
        join(result.result.path, 'data.parquet'),
      ],
      { encoding: 'utf8' },
    );
    expect(py.status, py.stderr).toBe(0);
    const [rows, pixels, fmin, fmax, cols] = py.stdout.trim().split(' ');
    expect(Number(rows)).toBe(12);
    expect(Number(pixels)).toBe(400);
    // Continuum-normalized, with real lines in 5000–5020 Å.
    expect(Number(fmin)).toBeGreaterThan(0);
    expect(Number(fmin)).toBeLessThan(0.8);
    expect(Number(fmax)).toBeLessThan(1.01);
    for (const c of ['teff_k', 'logg', 'vsini_kms', 'mh', 'vmic_kms', 'resolution', 'flux', 'split'])
      expect(cols.split(',')).toContain(c);
    // The next test needs the synth queue to itself.
    await Promise.all([stop(a), stop(b)]);
  }, 600_000);

  test('a synth worker SIGKILLed mid-batch: the grid completes on another worker without recomputing finished rows', async () => {
    const artifacts = await mkdtemp(join(tmpdir(), 'se-synth-kill-'));
    let a: ChildProcess | null = await synthWorkerProcess(address);
    children.push(a);
    // One batch of all twelve rows, so the kill lands inside it.
    const src = source({ seed: 12, batchSize: 12 });
    const handle = await client.workflow.start(synthesizeGrid, {
      taskQueue: TASK_QUEUES.cpu,
      workflowId: `synth-kill-${Date.now()}`,
      args: [{ source: src, artifacts, heartbeatTimeoutSeconds: 5 }],
    });
    // The grid's folder is named in the plan step's result; find it through the row store's log.
    const t0 = Date.now();
    let dir: string | null = null;
    let logged = 0;
    while (Date.now() - t0 < 300_000) {
      const hist = await handle.fetchHistory();
      const planned = (hist.events ?? []).find((e) => e.activityTaskCompletedEventAttributes);
      if (planned && !dir) {
        const payload = planned.activityTaskCompletedEventAttributes!.result!.payloads![0];
        dir = (JSON.parse(Buffer.from(payload.data!).toString('utf8')) as { dir: string }).dir;
      }
      if (dir && existsSync(join(dir, 'computed.log'))) {
        logged = (await readFile(join(dir, 'computed.log'), 'utf8')).split('\n').filter(Boolean).length;
        if (logged >= 3) break;
      }
      await sleep(200);
    }
    expect(dir).not.toBeNull();
    expect(logged).toBeGreaterThanOrEqual(3);
    expect(logged).toBeLessThan(12);
    a.kill('SIGKILL');
    await new Promise((r) => a!.once('exit', r));
    const killedPid = String(a.pid);
    a = null;
    const b = await synthWorkerProcess(address);
    children.push(b);
    const result = await handle.result();
    expect(result.result.rows).toBe(12);
    const log = await new RowStore(dir!).computedLog();
    // Every row once: the rows the killed worker finished were not computed again.
    expect(new Set(log.map((l) => l.key)).size).toBe(log.length);
    expect(log.length).toBe(12);
    const byPid = (pid: string) => log.filter((l) => l.who.endsWith(`:${pid}`)).length;
    expect(byPid(killedPid)).toBeGreaterThanOrEqual(3);
    expect(byPid(String(b.pid))).toBe(12 - byPid(killedPid));
    const starts = ((await handle.fetchHistory()).events ?? []).filter(
      (e) => e.activityTaskStartedEventAttributes,
    );
    expect(starts.some((e) => (e.activityTaskStartedEventAttributes!.attempt ?? 1) > 1)).toBe(true);
  }, 600_000);
});
