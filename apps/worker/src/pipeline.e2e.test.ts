// The durable pipelines end to end on the real dev server: a tiny full pipeline and its
// idempotent re-run, a worker SIGKILLed during PINN training, a cancelled training, and schedules.
// Backend: cpu (set before anything loads tfjs), so that resumed training is bitwise comparable.
process.env.STELLAR_EMU_BACKEND = 'cpu';

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { CancelledFailure, defaultPayloadConverter } from '@temporalio/common';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { readCheckpoint } from '@stellar-emu/nn-core';
import {
  pipeline,
  scheduledRetrain,
  sweep,
  trainPinn,
  TASK_QUEUES,
  type DatasetRef,
  type TrainSettings,
} from '@stellar-emu/workflows';
import { validatePipelineConfig } from '@stellar-emu/workflows/config';
import { createWorker } from './worker.js';
import { prepareDatasetStep, splitDatasetStep } from './activities/data.js';
import { findTrainedModel, trainChunk, trainingKey } from './activities/train.js';
import { hashPath, LocalArtifactStore } from './artifacts/store.js';
import { closeSynthesisEngine } from './activities/synth.js';
import { realDataDir } from '@stellar-emu/grid-io/testing';
import { pysmeAvailable } from '@stellar-emu/synthesis';

const realData =
  realDataDir() !== null && (pysmeAvailable() || process.env.CI === 'true') ? realDataDir() : null;

const workerMain = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const historiesDir = fileURLToPath(new URL('../test/histories/', import.meta.url));
const record = process.env.STELLAR_EMU_RECORD_HISTORY === '1';

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function until<T>(
  what: string,
  fn: () => Promise<T | null | undefined | false>,
  timeoutMs = 120_000,
  everyMs = 100,
): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** A worker process (built dist) polling the gpu queue, with the cpu backend. */
function gpuWorkerProcess(address: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [workerMain, '--task-queue', TASK_QUEUES.gpu, '--address', address], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, STELLAR_EMU_BACKEND: 'cpu', TF_CPP_MIN_LOG_LEVEL: '3' },
  });
  let err = '';
  child.stderr!.on('data', (c: Buffer) => (err = (err + c.toString()).slice(-5000)));
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes('worker ready')) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`gpu worker exited (${code}) before ready: ${err}`)));
  });
}

async function saveHistory(client: Client, workflowId: string, name: string): Promise<void> {
  if (!record) return;
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  await writeFile(
    join(historiesDir, `${name}.json`),
    `${JSON.stringify(JSON.parse(historyToJSON(history)), null, 2)}\n`,
  );
  // Replay needs the recorded id (child workflow ids derive from it).
  const idsFile = join(historiesDir, 'workflow-ids.json');
  const ids = existsSync(idsFile)
    ? (JSON.parse(await readFile(idsFile, 'utf8')) as Record<string, string>)
    : {};
  ids[name] = workflowId;
  await writeFile(idsFile, `${JSON.stringify(ids, null, 2)}\n`);
}

async function tensorsOf(path: string): Promise<Map<string, Buffer>> {
  const ck = await readCheckpoint(path);
  const out = new Map<string, Buffer>();
  for (const [name, t] of ck.tensors)
    out.set(name, Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  return out;
}

/** The child workflows a workflow started (from its history): ID and type, in order. */
async function childWorkflows(
  client: Client,
  workflowId: string,
): Promise<{ workflowId: string; type: string }[]> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  return (history.events ?? [])
    .map((e) => e.childWorkflowExecutionStartedEventAttributes)
    .filter((a): a is NonNullable<typeof a> => !!a)
    .map((a) => ({ workflowId: a.workflowExecution!.workflowId!, type: a.workflowType!.name! }));
}

/** The trainChunk activities scheduled in every run of a workflow ID (all executions, from visibility). */
async function trainChunksOf(client: Client, workflowId: string): Promise<number> {
  let n = 0;
  for await (const w of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) {
    const h = await client.workflow.getHandle(w.workflowId, w.runId).fetchHistory();
    n += (h.events ?? []).filter(
      (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'trainChunk',
    ).length;
  }
  return n;
}

describe('pipelines on the real Temporal dev server', () => {
  const address = inject('temporalAddress');
  let nativeConnection: NativeConnection;
  let connection: Connection;
  let client: Client;
  const workers: Worker[] = [];
  const running: Promise<void>[] = [];

  beforeAll(async () => {
    nativeConnection = await NativeConnection.connect({ address });
    connection = await Connection.connect({ address });
    client = new Client({ connection, namespace: 'default' });
    // Orchestration and light activities run in this process; training runs in a worker process
    // (crash test) or here (the other tests) — both poll the real task queues.
    const cpu = await createWorker({ connection: nativeConnection, taskQueue: TASK_QUEUES.cpu });
    workers.push(cpu);
    running.push(cpu.run());
  });

  afterAll(async () => {
    for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
    await Promise.all(running);
    await connection?.close();
    await nativeConnection?.close();
  });

  async function inProcessGpuWorker(): Promise<Worker> {
    const gpu = await createWorker({ connection: nativeConnection, taskQueue: TASK_QUEUES.gpu });
    workers.push(gpu);
    running.push(gpu.run());
    return gpu;
  }

  async function tinyAtmospheres(artifacts: string): Promise<DatasetRef> {
    const raw = await prepareDatasetStep({
      kind: 'atmospheres',
      source: { synthetic: { n: 48, seed: 5 } },
      artifacts,
    });
    return (await splitDatasetStep({ dataset: raw.result, scheme: '90/10', seed: 0, artifacts })).result;
  }

  const settings: TrainSettings = {
    preset: 'small',
    epochs: 4,
    seed: 3,
    alpha: 0.03,
    epochsPerChunk: 2,
    checkpointEverySteps: 3,
    batchSize: 256,
  };

  test('a worker SIGKILLed during trainPinn: a new worker resumes from the last checkpoint and ends where an uninterrupted run ends', async () => {
    const refArtifacts = await mkdtemp(join(tmpdir(), 'se-ref-'));
    const artifacts = await mkdtemp(join(tmpdir(), 'se-crash-'));
    const dataset = await tinyAtmospheres(artifacts);
    const refDataset = dataset; // same data; the reference trains into its own artifact store

    // The uninterrupted reference, in this process (cpu backend), in the same two chunks.
    const ref1 = await trainChunk({
      model: 'pinn',
      dataset: refDataset,
      settings,
      artifacts: refArtifacts,
      untilEpoch: 2,
    });
    const ref = await trainChunk({
      model: 'pinn',
      dataset: refDataset,
      settings,
      artifacts: refArtifacts,
      untilEpoch: 4,
    });
    expect(ref1.done).toBe(false);
    expect(ref.done).toBe(true);

    let worker = await gpuWorkerProcess(address);
    const workflowId = `crash-${Date.now()}`;
    const handle = await client.workflow.start(trainPinn, {
      taskQueue: TASK_QUEUES.cpu,
      workflowId,
      args: [{ dataset, settings, artifacts, heartbeatTimeoutSeconds: 5 }],
    });
    const store = new LocalArtifactStore(artifacts);
    const ckptDir = join(
      await store.stepDir('train-pinn', trainingKey({ model: 'pinn', dataset, settings, artifacts })),
      'model',
      'checkpoints',
    );
    // Kill it once a mid-training checkpoint exists (a step checkpoint of the first chunk).
    const killedAfter = await until('a checkpoint', async () => {
      if (!existsSync(ckptDir)) return null;
      const names = (await readdir(ckptDir)).filter((n) => /^ckpt-\d+\.safetensors$/.test(n));
      return names.length > 0 ? names : null;
    });
    worker.kill('SIGKILL');
    await new Promise((r) => worker.once('exit', r));
    expect(killedAfter.length).toBeGreaterThan(0);
    worker = await gpuWorkerProcess(address);
    try {
      const model = await handle.result();
      expect(model.epochsDone).toBe(4);
      const record = await findTrainedModel({ model: 'pinn', dataset, settings, artifacts });
      expect(record?.path).toBe(model.path);
      // The attempt after the crash resumed from a checkpoint, not from step 0.
      const history = await handle.fetchHistory();
      const starts = (history.events ?? []).filter((e) => e.activityTaskStartedEventAttributes);
      expect(starts.some((e) => (e.activityTaskStartedEventAttributes!.attempt ?? 1) > 1)).toBe(true);
      const done = (await new LocalArtifactStore(artifacts).findCompleted(
        'train-pinn',
        trainingKey({ model: 'pinn', dataset, settings, artifacts }),
      ))!;
      const progress = done.summary.progress as { resumedFromStep: number; globalStep: number };
      expect(progress.resumedFromStep).toBeGreaterThan(0);
      // Final weights equal the uninterrupted run's, bit for bit (cpu backend).
      const a = await tensorsOf(join(ref.modelDir, 'model.safetensors'));
      const b = await tensorsOf(join(model.path, 'model.safetensors'));
      expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
      for (const [name, bytes] of a) expect(b.get(name)!.equals(bytes), name).toBe(true);
      await saveHistory(client, workflowId, 'trainPinn');
    } finally {
      worker.kill('SIGTERM');
    }
  }, 600_000);

  test('status during training: the progress on the server is at most 10 s old (heartbeats every 2 s, not 0.8 x the timeout), the step advances and an ETA is known', async () => {
    const artifacts = await mkdtemp(join(tmpdir(), 'se-lag-'));
    const dataset = await tinyAtmospheres(artifacts);
    const worker = await gpuWorkerProcess(address);
    try {
      const long: TrainSettings = { ...settings, epochs: 16, epochsPerChunk: 16, checkpointEverySteps: 0 };
      const handle = await client.workflow.start(trainPinn, {
        taskQueue: TASK_QUEUES.cpu,
        workflowId: `lag-${Date.now()}`,
        args: [{ dataset, settings: long, artifacts }],
      });
      const samples: { age: number; step: number; eta: number | null }[] = [];
      const result = handle.result();
      let finished = false;
      void result.finally(() => (finished = true));
      while (!finished) {
        const desc = await handle.describe();
        for (const p of desc.raw.pendingActivities ?? []) {
          const payload = p.heartbeatDetails?.payloads?.[0];
          if (!payload) continue;
          const d = defaultPayloadConverter.fromPayload<{
            globalStep: number;
            reportedAt?: number;
            etaSeconds: number | null;
          }>(payload as never);
          if (d?.reportedAt)
            samples.push({ age: Date.now() - d.reportedAt, step: d.globalStep, eta: d.etaSeconds });
        }
        await sleep(1000);
      }
      await result;
      expect(samples.length, JSON.stringify(samples)).toBeGreaterThanOrEqual(5);
      for (const s of samples) expect(s.age, JSON.stringify(samples)).toBeLessThanOrEqual(10_000);
      expect(new Set(samples.map((s) => s.step)).size).toBeGreaterThanOrEqual(3);
      expect(samples.some((s) => s.eta !== null && s.eta > 0)).toBe(true);
    } finally {
      worker.kill('SIGTERM');
      await new Promise((r) => worker.once('exit', r));
    }
  }, 600_000);

  test('cancelling trainPinn leaves a valid checkpoint that a new run resumes from', async () => {
    await inProcessGpuWorker();
    const artifacts = await mkdtemp(join(tmpdir(), 'se-cancel-'));
    const dataset = await tinyAtmospheres(artifacts);
    const long: TrainSettings = { ...settings, epochs: 40, epochsPerChunk: 40, checkpointEverySteps: 2 };
    const key = trainingKey({ model: 'pinn', dataset, settings: long, artifacts });
    const ckptDir = join(
      await new LocalArtifactStore(artifacts).stepDir('train-pinn', key),
      'model',
      'checkpoints',
    );
    const handle = await client.workflow.start(trainPinn, {
      taskQueue: TASK_QUEUES.cpu,
      workflowId: `cancel-${Date.now()}`,
      args: [{ dataset, settings: long, artifacts, heartbeatTimeoutSeconds: 10 }],
    });
    await until(
      'a checkpoint',
      async () => existsSync(ckptDir) && (await readdir(ckptDir)).some((n) => n.endsWith('.safetensors')),
    );
    await handle.cancel();
    const err = await handle.result().then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect((err as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
    const names = (await readdir(ckptDir))
      .filter((n) => /^ckpt-\d+\.safetensors$/.test(n))
      .sort((x, y) => Number(x.match(/\d+/)![0]) - Number(y.match(/\d+/)![0]));
    const last = join(ckptDir, names.at(-1)!);
    const ck = await readCheckpoint(last); // throws on a torn or corrupt file
    expect(ck.tensors.size).toBeGreaterThan(0);
    const step = Number(names.at(-1)!.match(/\d+/)![0]);
    expect(step).toBeGreaterThan(0);
    // The next attempt resumes from it (to the end of the checkpoint's epoch, directly).
    const epoch = (ck.state as { epoch: number }).epoch;
    const resumed = await trainChunk({
      model: 'pinn',
      dataset,
      settings: long,
      artifacts,
      untilEpoch: epoch + 1,
    });
    expect(resumed.progress.resumedFromStep).toBeGreaterThanOrEqual(step);
  }, 300_000);

  test('a truncated newest checkpoint in trainPinn on the dev server: the workflow completes from the previous checkpoint and ends bitwise where an uninterrupted run ends', async () => {
    if (workers.length < 2) await inProcessGpuWorker();
    const refArtifacts = await mkdtemp(join(tmpdir(), 'se-trunc-ref-'));
    const artifacts = await mkdtemp(join(tmpdir(), 'se-trunc-'));
    const dataset = await tinyAtmospheres(artifacts);
    await trainChunk({ model: 'pinn', dataset, settings, artifacts: refArtifacts, untilEpoch: 2 });
    const ref = await trainChunk({
      model: 'pinn',
      dataset,
      settings,
      artifacts: refArtifacts,
      untilEpoch: 4,
    });
    // The first chunk, then the damage a crash mid-write or a bad disk leaves: the newest checkpoint cut in half.
    await trainChunk({ model: 'pinn', dataset, settings, artifacts, untilEpoch: 2 });
    const store = new LocalArtifactStore(artifacts);
    const ckptDir = join(
      await store.stepDir('train-pinn', trainingKey({ model: 'pinn', dataset, settings, artifacts })),
      'model',
      'checkpoints',
    );
    const names = (await readdir(ckptDir)).filter((n) => /^ckpt-\d+\.safetensors$/.test(n)).sort();
    expect(names.length).toBeGreaterThan(1);
    const newest = join(ckptDir, names[names.length - 1]);
    const bytes = await readFile(newest);
    await writeFile(newest, bytes.subarray(0, bytes.length >> 1));
    const workflowId = `trunc-${Date.now()}`;
    const model = await client.workflow.execute(trainPinn, {
      taskQueue: TASK_QUEUES.cpu,
      workflowId,
      args: [{ dataset, settings, artifacts }],
    });
    expect(model.epochsDone).toBe(4);
    const a = await tensorsOf(join(ref.modelDir, 'model.safetensors'));
    const b = await tensorsOf(join(model.path, 'model.safetensors'));
    expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
    for (const [name, t] of a) expect(b.get(name)!.equals(t), name).toBe(true);
    // the bad file was renamed aside, not deleted, and the run says so
    expect(
      (await readdir(ckptDir)).some(
        (n) => n.startsWith(names[names.length - 1]) && n !== names[names.length - 1],
      ),
    ).toBe(true);
  }, 600_000);

  test('the whole pipeline on tiny data writes a report; an unchanged re-run skips every step', async () => {
    if (workers.length < 2) await inProcessGpuWorker();
    const artifacts = await mkdtemp(join(tmpdir(), 'se-pipeline-'));
    const config = validatePipelineConfig({
      name: 'tiny',
      artifacts,
      atmospheres: { synthetic: { n: 40, seed: 1 } },
      spectra: { synthetic: { n: 120, seed: 7, pixels: 256 } },
      pinn: { epochs: 2, epochsPerChunk: 1, checkpointEverySteps: 0, batchSize: 512 },
      cvae: { epochs: 2, epochsPerChunk: 1, checkpointEverySteps: 0, batchSize: 32 },
      validation: { epochs: 2, generatedCount: 20 },
      thresholds: { cvaeMedianResidual: 1 },
    });
    const id1 = `pipeline-e2e-${Date.now()}`;
    const first = await client.workflow.execute(pipeline, {
      taskQueue: TASK_QUEUES.cpu,
      workflowId: id1,
      args: [config],
    });
    expect(existsSync(join(first.report.dir, 'index.html'))).toBe(true);
    expect(existsSync(join(first.report.dir, 'metrics.json'))).toBe(true);
    // Every figure of the papers exists for a real (tiny) run: SVG with drawn marks and a PNG.
    const reportMetrics = JSON.parse(await readFile(join(first.report.dir, 'metrics.json'), 'utf8')) as {
      report: { figures: { id: string; svg: string; png: string }[] };
    };
    expect(reportMetrics.report.figures.map((f) => f.id).sort()).toEqual([
      'cvae-residual-heatmap',
      'cvae-residual-labels',
      'cvae-residual-planes',
      'cvae-spectra',
      'cvae-training',
      'pinn-depth-error',
      'pinn-hydrostatic',
      'pinn-hydrostatic-residuals',
      'pinn-label-error',
      'recovery-scatter',
    ]);
    for (const f of reportMetrics.report.figures) {
      const svg = await readFile(join(first.report.dir, f.svg), 'utf8');
      expect(svg.length, f.id).toBeGreaterThan(2000);
      expect(svg, f.id).toMatch(/<path|<rect|<circle/);
      expect((await readFile(join(first.report.dir, f.png))).subarray(1, 4).toString(), f.id).toBe('PNG');
    }
    expect(Object.keys(first.models).sort()).toEqual(['cvae', 'pinn', 'pinnBaseline']);
    // Training runs are named by their content key and carry a memo (kind, dataset hash, pipeline) so `stellar-emu runs` can filter them.
    const trainings = await childWorkflows(client, id1);
    for (const [child, kind] of [
      ['train-pinn', 'pinn'],
      ['train-pinn-baseline', 'pinn-baseline'],
      ['train-cvae', 'cvae'],
    ]) {
      const started = trainings.filter((c) => c.type === (kind === 'cvae' ? 'trainCvae' : 'trainPinn'));
      const found = [];
      for (const c of started) {
        expect(c.workflowId, child).toMatch(/^train-(pinn|cvae)-[0-9a-f]{24}$/);
        const m = (await client.workflow.getHandle(c.workflowId).describe()).memo ?? {};
        if (m.kind === kind) found.push(m);
      }
      expect(found, child).toHaveLength(1);
      const memo = found[0];
      expect(memo.kind, child).toBe(kind);
      expect(memo.pipeline, child).toBe(id1);
      expect(String(memo.datasetSha256), child).toMatch(/^[0-9a-f]{64}$/);
    }
    expect(first.skipped).toEqual([]);
    expect(first.steps.every((s) => s.status === 'done')).toBe(true);

    const id2 = `pipeline-e2e-rerun-${Date.now()}`;
    const second = await client.workflow.execute(pipeline, {
      taskQueue: TASK_QUEUES.cpu,
      workflowId: id2,
      args: [config],
    });
    const work = second.steps.filter((s) => s.name !== 'report').map((s) => [s.name, s.status]);
    expect(work.length).toBeGreaterThan(5);
    for (const [name, status] of work) expect(`${name}: ${status}`).toBe(`${name}: skipped`);
    expect(second.models.pinn.sha256).toBe(first.models.pinn.sha256);

    if (record) {
      await saveHistory(client, id1, 'pipeline');
      for (const [child, name] of [
        ['ingest-atmospheres', 'ingestGrid'],
        ['split-atmospheres', 'splitDataset'],
        ['validate-cvae', 'validateCvae'],
        ['report', 'generateReport'],
      ])
        await saveHistory(client, `${id1}.${child}`, name);
      await saveHistory(client, trainings.find((c) => c.type === 'trainCvae')!.workflowId, 'trainCvae');
    }
  }, 600_000);

  test('two pipelines with identical inputs at once in one store: one training per content key, both complete with the same model', async () => {
    if (workers.length < 2) await inProcessGpuWorker();
    const artifacts = await mkdtemp(join(tmpdir(), 'se-twice-'));
    const config = validatePipelineConfig({
      name: 'twice',
      artifacts,
      atmospheres: { synthetic: { n: 40, seed: 4 } },
      pinn: { epochs: 2, epochsPerChunk: 1, checkpointEverySteps: 0, batchSize: 512, baseline: false },
    });
    const stamp = Date.now();
    const ids = [`twice-a-${stamp}`, `twice-b-${stamp}`];
    const [a, b] = await Promise.all(
      ids.map((workflowId) =>
        client.workflow.execute(pipeline, { taskQueue: TASK_QUEUES.cpu, workflowId, args: [config] }),
      ),
    );
    expect(a.models.pinn.path).toBe(b.models.pinn.path);
    expect(a.models.pinn.sha256).toBe(b.models.pinn.sha256);
    // Both asked for the same training workflow (the content key's); it trained its two chunks once.
    const asked = new Set<string>();
    for (const id of ids) {
      const h = await client.workflow.getHandle(id).fetchHistory();
      for (const e of h.events ?? []) {
        const at = e.startChildWorkflowExecutionInitiatedEventAttributes;
        if (at?.workflowType?.name === 'trainPinn') asked.add(at.workflowId!);
      }
    }
    expect([...asked]).toHaveLength(1);
    const [trainingId] = [...asked];
    expect(await trainChunksOf(client, trainingId)).toBe(2);
    // the recorded model hash matches the files
    expect(await hashPath(a.models.pinn.path)).toBe(a.models.pinn.sha256);
  }, 600_000);

  test.skipIf(!realData)(
    'the pipeline on real ATLAS9 decks with pinn.spectra: "evaluate pinn spectra" runs on the synth queue after "evaluate pinn" and its section and checks reach the report',
    async () => {
      if (workers.length < 2) await inProcessGpuWorker();
      const synth = await createWorker({
        connection: nativeConnection,
        taskQueue: TASK_QUEUES.synth,
        maxConcurrentActivityTaskExecutions: 1,
      });
      workers.push(synth);
      running.push(synth.run());
      const artifacts = await mkdtemp(join(tmpdir(), 'se-pipeline-spectra-'));
      // The first 80 decks of the solar-metallicity file (cool stars): a real grid, small enough for the cpu backend.
      const grid = join(artifacts, 'grid');
      await mkdir(grid);
      const text = gunzipSync(await readFile(join(realData!, 'atlas9-kurucz1993', 'ap00k2.dat.gz'))).toString(
        'latin1',
      );
      const starts = [...text.matchAll(/^TEFF /gm)].map((m) => m.index!);
      await writeFile(join(grid, 'ap00k2-first80.dat'), text.slice(0, starts[80]));
      const config = validatePipelineConfig({
        name: 'spectra',
        artifacts,
        atmospheres: { grid },
        pinn: {
          epochs: 6,
          epochsPerChunk: 6,
          checkpointEverySteps: 0,
          batchSize: 256,
          baseline: false,
          spectra: {
            linelist: join(realData!, 'atomic/linelists/korg_vald_solar_threshold01/linelist.vald'),
            windows: [[5165, 5175]],
            models: 3,
            batchSize: 2,
          },
        },
        thresholds: { pinnSpectraMedianAbsDeltaF: 0.5 },
      });
      const id = `pipeline-spectra-${Date.now()}`;
      const r = await client.workflow.execute(pipeline, {
        taskQueue: TASK_QUEUES.cpu,
        workflowId: id,
        args: [config],
      });
      const names = r.steps.map((s) => s.name);
      expect(names.indexOf('evaluate pinn spectra')).toBeGreaterThan(names.indexOf('evaluate pinn'));
      expect(r.metrics.pinnSpectra.summary.models).toBe(3);
      const report = JSON.parse(await readFile(join(r.report.dir, 'metrics.json'), 'utf8')) as {
        pinnSpectra: {
          models: unknown[];
          settings: { windows: number[][] };
          summary: { pinn: { medianOfMedians: number | null } };
        };
        checks: { name: string; value: number | null; limit: number }[];
        report: { figures: { id: string }[] };
      };
      expect(report.pinnSpectra.models).toHaveLength(3);
      expect(report.pinnSpectra.settings.windows).toEqual([[5165, 5175]]);
      const check = report.checks.find((c) => c.name === 'pinnSpectra.medianAbsDeltaF')!;
      expect(check.limit).toBe(0.5);
      expect(check.value).toBe(report.pinnSpectra.summary.pinn.medianOfMedians);
      expect(report.report.figures.map((f) => f.id)).toEqual(
        expect.arrayContaining(['pinn-spectra-distribution', 'pinn-spectra-labels', 'pinn-spectra-example']),
      );
      synth.shutdown();
      await closeSynthesisEngine();
    },
    900_000,
  );

  test('a sweep over alpha trains one PINN per value and picks the lowest validation metric', async () => {
    if (workers.length < 2) await inProcessGpuWorker();
    const artifacts = await mkdtemp(join(tmpdir(), 'se-sweep-'));
    const dataset = await tinyAtmospheres(artifacts);
    const id = `sweep-e2e-${Date.now()}`;
    const r = await client.workflow.execute(sweep, {
      taskQueue: TASK_QUEUES.cpu,
      workflowId: id,
      args: [
        {
          dataset,
          artifacts,
          settings: { ...settings, epochs: 1, epochsPerChunk: 1 },
          alphas: [0, 0.03],
          metric: 'medianHydrostaticResidual',
        },
      ],
    });
    expect(r.trials.map((t) => t.alpha)).toEqual([0, 0.03]);
    for (const t of r.trials) expect(Number.isFinite(t.value)).toBe(true);
    expect(r.best.value).toBe(Math.min(...r.trials.map((t) => t.value)));
    expect(r.trials[0].model.sha256).not.toBe(r.trials[1].model.sha256);
    await saveHistory(client, id, 'sweep');
  }, 600_000);

  test('a schedule: create, trigger, retrain once, skip when the grid is unchanged, delete', async () => {
    if (workers.length < 2) await inProcessGpuWorker();
    const artifacts = await mkdtemp(join(tmpdir(), 'se-schedule-'));
    const config = validatePipelineConfig({
      name: 'nightly',
      artifacts,
      atmospheres: { synthetic: { n: 30, seed: 2 } },
      pinn: { epochs: 1, checkpointEverySteps: 0, baseline: false, batchSize: 512 },
    });
    const scheduleId = `schedule-e2e-${Date.now()}`;
    const schedule = await client.schedule.create({
      scheduleId,
      spec: { intervals: [{ every: '365 days' }] },
      action: {
        type: 'startWorkflow',
        workflowType: scheduledRetrain,
        taskQueue: TASK_QUEUES.cpu,
        args: [config],
      },
      state: { paused: true },
    });
    try {
      const runResult = async (n: number) => {
        const id = await until(
          `scheduled run ${n}`,
          async () => {
            const recent = (await schedule.describe()).info.recentActions;
            return recent.length >= n ? recent[n - 1].action.workflow.workflowId : null;
          },
          60_000,
          250,
        );
        return client.workflow.getHandle<typeof scheduledRetrain>(id).result();
      };
      await schedule.trigger();
      const first = await runResult(1);
      expect(first.skipped).toBe(false);
      expect(first.reason).toBe('first run');
      await schedule.trigger();
      const second = await runResult(2);
      expect(second).toMatchObject({
        skipped: true,
        reason: 'input grid unchanged since the last trained model',
        fingerprint: first.fingerprint,
      });
      if (record)
        await saveHistory(
          client,
          (await schedule.describe()).info.recentActions[1].action.workflow.workflowId,
          'scheduledRetrain',
        );
    } finally {
      await schedule.delete();
    }
    const ids: string[] = [];
    for await (const s of client.schedule.list()) ids.push(s.scheduleId);
    expect(ids).not.toContain(scheduleId);
  }, 600_000);
});
