// Client side of the pipelines: load configs, start workflows, watch their progress.
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Client, WorkflowExecutionAlreadyStartedError, type WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { SingleBar } from 'cli-progress';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import type { TrainProgress, WorkflowProgress } from '@stellar-emu/workflows';
import {
  PipelineConfigError,
  validatePipelineConfig,
  type PipelineConfig,
} from '@stellar-emu/workflows/config';

/** Read and validate a pipeline config (JSON or YAML); errors name the file and the field or line. */
export async function loadPipelineConfig(file: string): Promise<PipelineConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new PipelineConfigError(file, [`cannot read: ${(err as Error).message}`]);
  }
  let value: unknown;
  try {
    value = file.endsWith('.json') ? JSON.parse(text) : parseYaml(text, { prettyErrors: true });
  } catch (err) {
    if (err instanceof YAMLParseError) {
      const line = err.linePos?.[0]?.line;
      throw new PipelineConfigError(file, [`${line ? `line ${line}: ` : ''}${err.message.split('\n')[0]}`]);
    }
    throw new PipelineConfigError(file, [`not valid JSON: ${(err as Error).message}`]);
  }
  const config = validatePipelineConfig(value, file);
  // Paths in a config file are relative to the file.
  const base = resolve(file, '..');
  const fix = (p: string) => resolve(base, p);
  const fixSun = <T extends { deck: string; observed: string }>(sun: T | undefined) =>
    sun ? { sun: { ...sun, deck: fix(sun.deck), observed: fix(sun.observed) } } : {};
  return {
    ...config,
    artifacts: fix(config.artifacts),
    ...(config.atmospheres && 'grid' in config.atmospheres
      ? { atmospheres: { grid: fix(config.atmospheres.grid) } }
      : {}),
    ...(config.atmospheres && 'dataset' in config.atmospheres
      ? { atmospheres: { dataset: fix(config.atmospheres.dataset) } }
      : {}),
    ...(config.spectra && 'dataset' in config.spectra
      ? { spectra: { dataset: fix(config.spectra.dataset) } }
      : {}),
    ...(config.spectra && 'sme' in config.spectra
      ? {
          spectra: {
            sme: {
              ...config.spectra.sme,
              linelist: fix(config.spectra.sme.linelist),
              grid: config.spectra.sme.grid.startsWith('pinn:')
                ? `pinn:${fix(config.spectra.sme.grid.slice('pinn:'.length))}`
                : fix(config.spectra.sme.grid),
              ...(config.spectra.sme.labels ? { labels: fix(config.spectra.sme.labels) } : {}),
              ...fixSun(config.spectra.sme.sun),
            },
          },
        }
      : {}),
    ...(config.pinn?.spectra
      ? {
          pinn: {
            ...config.pinn,
            spectra: {
              ...config.pinn.spectra,
              linelist: fix(config.pinn.spectra.linelist),
              ...fixSun(config.pinn.spectra.sun),
            },
          },
        }
      : {}),
  };
}

/**
 * What a step's activity heartbeats when it is not a training chunk (e.g. `validate cvae`: its
 * stage, then the recovery network's epochs).
 */
export interface StepHeartbeat {
  step: string;
  stage?: string;
  epoch?: number;
  globalStep?: number;
  losses?: Record<string, number>;
  done?: number;
  total?: number;
  /** Why the step waits (e.g. the same step runs in another pipeline). */
  waiting?: string;
}

/**
 * A heartbeat's details: a training chunk's progress, a step's stage, or neither (synthesis
 * batches, which carry `intrinsicCalls`: the synthesis line counts them).
 */
export function classifyHeartbeat(d: unknown): { training: TrainProgress } | { step: StepHeartbeat } | null {
  if (!d || typeof d !== 'object') return null;
  const o = d as Record<string, unknown>;
  if (typeof o.model === 'string' && typeof o.globalStep === 'number')
    return { training: o as unknown as TrainProgress };
  if (typeof o.intrinsicCalls === 'number') return null;
  if (typeof o.step === 'string') return { step: o as unknown as StepHeartbeat };
  return null;
}

/**
 * One line of a step's heartbeat: `validate cvae: train`, `validate cvae: epoch 12 · total 2.3e-2`,
 * `ingest-atmospheres: 120/478`, or the step and why it waits.
 */
export function describeStep(h: StepHeartbeat): string {
  const parts: string[] = [];
  if (h.stage) parts.push(h.stage);
  if (typeof h.epoch === 'number') {
    const loss = Object.entries(h.losses ?? {})
      .slice(0, 2)
      .map(([k, v]) => `${k} ${Number(v).toPrecision(3)}`)
      .join(', ');
    parts.push(`epoch ${h.epoch + 1}${loss ? ` · ${loss}` : ''}`);
  }
  if (typeof h.done === 'number')
    parts.push(typeof h.total === 'number' ? `${h.done}/${h.total}` : `${h.done}`);
  if (h.waiting) parts.push(`waiting: ${h.waiting}`);
  return parts.length ? `${h.step}: ${parts.join(' · ')}` : h.step;
}

/**
 * Live details from the heartbeats of the running activities of a workflow and its training
 * children (PINN, its baseline and the CVAE train in parallel): training chunks' progress, and the
 * stage of other long steps.
 */
export async function liveHeartbeats(
  client: Client,
  workflowId: string,
): Promise<{ training: TrainProgress[]; steps: StepHeartbeat[] }> {
  const training: TrainProgress[] = [];
  const steps: StepHeartbeat[] = [];
  const ids = [
    ...['.train-pinn', '.train-pinn-baseline', '.train-cvae', ''].map((s) => `${workflowId}${s}`),
    ...(await runningChildren(client, workflowId)),
  ];
  for (const id of new Set(ids)) {
    try {
      const desc = await client.workflow.getHandle(id).describe();
      if (desc.status.name !== 'RUNNING') continue;
      for (const pending of desc.raw.pendingActivities ?? []) {
        const payload = pending.heartbeatDetails?.payloads?.[0];
        if (!payload) continue;
        const c = classifyHeartbeat(defaultPayloadConverter.fromPayload<unknown>(payload as never));
        if (c && 'training' in c) training.push(c.training);
        else if (c) steps.push(c.step);
      }
    } catch {
      /* not started, or gone */
    }
  }
  return { training, steps };
}

/**
 * The running children of a workflow, from the server (`pendingChildren`): the trainings, which
 * are named by their content key (`train-<model>-<hash>`), not by the pipeline's ID.
 */
async function runningChildren(client: Client, workflowId: string): Promise<string[]> {
  try {
    const desc = await client.workflow.getHandle(workflowId).describe();
    return (desc.raw.pendingChildren ?? []).map((c) => c.workflowId ?? '').filter((id) => id !== '');
  } catch {
    return [];
  }
}

/** Every child workflow id suffix of a pipeline (see workflows.ts; the trainings of older runs), and '' for the workflow itself. */
const ALL_CHILDREN = [
  '',
  '.ingest-atmospheres',
  '.split-atmospheres',
  '.train-pinn',
  '.train-pinn-baseline',
  '.evaluate-pinn-spectra',
  '.ingest-spectra',
  '.synthesize-spectra',
  '.split-spectra',
  '.train-cvae',
  '.validate-cvae',
  '.report',
];

/**
 * Activities being retried after a failure, in a workflow and its running children: what the
 * user must see while it happens (disk full, a read-only store, a bad batch), not only in the
 * Temporal history. One line each: activity, attempt and the last failure's message.
 */
export async function retryingActivities(client: Client, workflowId: string): Promise<string[]> {
  const out: string[] = [];
  const ids = new Set([
    ...ALL_CHILDREN.map((s) => `${workflowId}${s}`),
    ...(await runningChildren(client, workflowId)),
  ]);
  await Promise.all(
    [...ids].map(async (id) => {
      try {
        const desc = await client.workflow.getHandle(id).describe();
        if (desc.status.name !== 'RUNNING') return;
        for (const p of desc.raw.pendingActivities ?? []) {
          const msg = p.lastFailure?.message;
          if (!msg || (p.attempt ?? 1) < 2) continue;
          const first = msg.split('\n')[0];
          out.push(
            `${p.activityType?.name ?? 'activity'} retrying (attempt ${p.attempt}): ${first.length > 300 ? `${first.slice(0, 300)}…` : first}`,
          );
        }
      } catch {
        /* not started, or gone */
      }
    }),
  );
  return [...new Set(out)];
}

/** temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED (the proto enum's value). */
const PENDING_ACTIVITY_STATE_STARTED = 2;

/** Child workflows of a pipeline that synthesize on the `synth` queue. */
const SYNTH_CHILDREN = ['.synthesize-spectra', '.evaluate-pinn-spectra'];

/** Live synthesis counts: the heartbeats of the running `synth` batches of a workflow or its synthesis child. */
export async function liveSynthesis(
  client: Client,
  workflowId: string,
  /** Only this workflow's own activities, not its synthesizing children's. */
  own = false,
): Promise<{ done: number; batches: number; intrinsicCalls: number }> {
  const out = { done: 0, batches: 0, intrinsicCalls: 0 };
  for (const suffix of own ? [''] : [...SYNTH_CHILDREN, '']) {
    try {
      const desc = await client.workflow.getHandle(`${workflowId}${suffix}`).describe();
      if (desc.status.name !== 'RUNNING') continue;
      for (const pending of desc.raw.pendingActivities ?? []) {
        // Only attempts that run now: a batch waiting for its retry still carries its last heartbeat.
        if (pending.state !== PENDING_ACTIVITY_STATE_STARTED) continue;
        const payload = pending.heartbeatDetails?.payloads?.[0];
        if (!payload) continue;
        const d = defaultPayloadConverter.fromPayload<{ done?: number; intrinsicCalls?: number }>(
          payload as never,
        );
        if (d && typeof d === 'object' && typeof d.intrinsicCalls === 'number') {
          out.done += d.done ?? 0;
          out.intrinsicCalls += d.intrinsicCalls;
          out.batches++;
        }
      }
    } catch {
      /* not started, or gone */
    }
  }
  return out;
}

function fmtSeconds(s: number | null): string {
  if (s === null || !Number.isFinite(s)) return '?';
  if (s < 90) return `${Math.round(s)}s`;
  if (s < 5400) return `${Math.round(s / 60)}m`;
  return `${(s / 3600).toFixed(1)}h`;
}

/** One line describing a training progress record. */
export function describeTraining(t: TrainProgress): string {
  const age = t.reportedAt !== undefined ? Math.max(0, (Date.now() - t.reportedAt) / 1000) : null;
  const loss = Object.entries(t.losses)
    .slice(0, 3)
    .map(([k, v]) => `${k} ${Number(v).toPrecision(3)}`)
    .join(', ');
  return `${t.model} epoch ${t.epoch + 1}/${t.epochs} step ${t.globalStep}${loss ? ` · ${loss}` : ''}${t.valLoss !== null ? ` · val ${t.valLoss.toPrecision(3)}` : ''} · ETA ${fmtSeconds(t.etaSeconds)}${t.etaBy === 'budget' ? ' (time budget)' : ''}${age !== null && age >= 5 ? ` · ${Math.round(age)} s ago` : ''}${t.resumedFromStep ? ` · resumed from step ${t.resumedFromStep}` : ''}${t.checkpointWarnings?.length ? ` · ${t.checkpointWarnings.length} corrupt checkpoint${t.checkpointWarnings.length > 1 ? 's' : ''} set aside` : ''}`;
}

/** Snapshot of a workflow's progress: its query plus live training heartbeat. */
export async function progressSnapshot(
  client: Client,
  handle: WorkflowHandle,
): Promise<{
  progress: WorkflowProgress | null;
  training: TrainProgress[];
  /** Other long steps' stages (from their heartbeats). */
  steps: StepHeartbeat[];
  synthesis: string | null;
  /** Activities being retried after a failure (with the failure). */
  retrying: string[];
  status: string;
}> {
  const desc = await handle.describe();
  let progress: WorkflowProgress | null = null;
  if (desc.status.name === 'RUNNING') {
    try {
      progress = await handle.query<WorkflowProgress>('progress');
    } catch {
      progress = null;
    }
  }
  const running = desc.status.name === 'RUNNING';
  const { training, steps } = running
    ? await liveHeartbeats(client, handle.workflowId)
    : { training: [], steps: [] };
  let synthesis: string | null = null;
  // The workflow's own synthesis, or a pipeline's synthesizing children (the grid and the PINN
  // spectra may run at once): finished batches from the queries, running rows from heartbeats.
  const parts: string[] = [];
  const show = async (s: NonNullable<WorkflowProgress['synthesis']>, id: string) => {
    const live = await liveSynthesis(client, id, true);
    parts.push(
      `synth ${Math.min(s.total, s.done + live.done)}/${s.total} ${s.unit ?? 'spectra'} (${s.batchesDone}/${s.batches} batches, ${live.batches} running)`,
    );
  };
  if (running && progress?.synthesis) await show(progress.synthesis, handle.workflowId);
  else if (running) {
    for (const suffix of SYNTH_CHILDREN) {
      try {
        const child = client.workflow.getHandle(`${handle.workflowId}${suffix}`);
        if ((await child.describe()).status.name !== 'RUNNING') continue;
        const s = (await child.query<WorkflowProgress>('progress')).synthesis;
        if (s) await show(s, child.workflowId);
      } catch {
        /* not started, or gone */
      }
    }
  }
  if (parts.length) synthesis = parts.join(' ; ');
  const retrying = running ? await retryingActivities(client, handle.workflowId) : [];
  return { progress, training, steps, synthesis, retrying, status: desc.status.name };
}

/**
 * Watch a workflow until it closes, showing a progress bar on a terminal (a line per change
 * otherwise), and return its result.
 */
export async function watchWorkflow<T>(
  client: Client,
  handle: WorkflowHandle,
  opts: { expectedSteps?: number; quiet?: boolean } = {},
): Promise<T> {
  const tty = process.stderr.isTTY && !opts.quiet;
  const bar = tty
    ? new SingleBar(
        {
          format: '{bar} {value}/{total} steps | {stage} | {detail}',
          hideCursor: true,
          clearOnComplete: false,
          barsize: 24,
        },
        undefined,
      )
    : null;
  const total = opts.expectedSteps ?? 10;
  bar?.start(total, 0, { stage: 'starting', detail: '' });
  let lastLine = '';
  const shownRetries = new Set<string>();
  let done = false;
  const result = handle.result().finally(() => {
    done = true;
  });
  while (!done) {
    await Promise.race([result.catch(() => undefined), new Promise((r) => setTimeout(r, 1000))]);
    if (done) break;
    try {
      const snap = await progressSnapshot(client, handle);
      const steps = snap.progress?.steps ?? [];
      const finished = steps.filter((s) => s.status === 'done' || s.status === 'skipped').length;
      const stage = snap.progress?.stage ?? snap.status.toLowerCase();
      const detail = [
        ...(snap.synthesis ? [snap.synthesis] : []),
        ...snap.training.map(describeTraining),
        ...snap.steps.map(describeStep),
      ].join(' ; ');
      // Retried failures are printed as lines of their own (also on a terminal), once each.
      for (const r of snap.retrying) {
        if (shownRetries.has(r)) continue;
        shownRetries.add(r);
        if (bar) bar.stop();
        if (!opts.quiet) process.stderr.write(`! ${r}\n`);
        if (bar) bar.start(Math.max(total, steps.length + 1), finished, { stage, detail });
      }
      if (bar) {
        bar.setTotal(Math.max(total, steps.length + 1));
        bar.update(finished, { stage, detail });
      } else if (!opts.quiet) {
        const line = `[${finished}/${Math.max(total, steps.length)}] ${stage}${detail ? ` | ${detail}` : ''}`;
        if (line !== lastLine) process.stderr.write(`${line}\n`);
        lastLine = line;
      }
    } catch {
      /* the workflow may be between runs (continue-as-new); try again */
    }
  }
  bar?.update(bar.getTotal(), { stage: 'done', detail: '' });
  bar?.stop();
  return (await result) as T;
}

/**
 * Refuse a workflow id that cannot name a run: runs are stored under `<artifacts>/runs/<id>`, so
 * the id may hold only letters, digits, '.', '_' and '-', and may not be '.' or '..' (which would
 * write the run's report over the artifact store itself). `what` names the flag in the message.
 */
export function assertWorkflowId(id: string, what = 'workflow id'): void {
  if (!/^[A-Za-z0-9._-]{1,200}$/.test(id) || id === '.' || id === '..') {
    throw new Error(
      `${what} '${id}' is not allowed: use 1-200 letters, digits, '.', '_' and '-', not '.' or '..' (it names the run's folder <artifacts>/runs/<id>)`,
    );
  }
}

/** Start a workflow, or attach to a running one with the same id (refused up front: see {@link assertWorkflowId}). */
export async function startOrAttach<A extends unknown[]>(
  client: Client,
  workflow: string,
  opts: { workflowId: string; taskQueue: string; args: A; memo?: Record<string, unknown> },
): Promise<{ handle: WorkflowHandle; attached: boolean }> {
  assertWorkflowId(opts.workflowId);
  try {
    const handle = await client.workflow.start(workflow, {
      taskQueue: opts.taskQueue,
      workflowId: opts.workflowId,
      args: opts.args,
      memo: opts.memo,
    });
    return { handle, attached: false };
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError)
      return { handle: client.workflow.getHandle(opts.workflowId), attached: true };
    throw err;
  }
}
