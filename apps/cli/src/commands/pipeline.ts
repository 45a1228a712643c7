// `stellar-emu pipeline run | status | runs | schedule | validate`: the durable pipelines on Temporal.
import { randomUUID } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { describeFailure, formatFailure } from '../failure.js';
import { ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import { TASK_QUEUES, type PipelineResult } from '@stellar-emu/workflows';
import { demoPipelineConfig, type PipelineConfig } from '@stellar-emu/workflows/config';
import { currentGitCommit } from '@stellar-emu/report';
import { demoDataFiles } from '../repo.js';
import { startSupervisedWorker } from '../worker-process.js';
import {
  addConnectionOptions,
  connectClient,
  resolveConnection,
  resolveTemporalConfig,
  workerConnectionArgs,
  type TemporalConnectionFlags,
} from '../temporal.js';
import {
  assertWorkflowId,
  describeStep,
  describeTraining,
  loadPipelineConfig,
  progressSnapshot,
  startOrAttach,
  watchWorkflow,
} from '../pipeline-client.js';
import { parentCommand } from './shared.js';

interface RunOptions extends TemporalConnectionFlags {
  demo?: boolean;
  config?: string;
  grid?: string;
  artifacts?: string;
  id?: string;
  worker: boolean;
  wait: boolean;
  json?: boolean;
  failOnCheck?: boolean;
}

/** The config a `pipeline run` uses: a file, or the demo; `--grid` and `--artifacts` override. */
export async function resolveRunConfig(
  opts: Pick<RunOptions, 'config' | 'grid' | 'artifacts'>,
): Promise<PipelineConfig> {
  let base: PipelineConfig;
  if (opts.config) base = await loadPipelineConfig(opts.config);
  else {
    const { data, reason } = demoDataFiles();
    process.stderr.write(
      data
        ? `demo: CVAE spectra synthesized with PySME (${reason})\n`
        : `demo: no VALD line list / ATLAS9 grid: ${reason}; the CVAE trains on the toy generator's spectra instead of PySME spectra\n`,
    );
    base = demoPipelineConfig(resolve(opts.artifacts ?? '.artifacts'), data);
  }
  const config: PipelineConfig = { ...base };
  if (opts.artifacts) config.artifacts = resolve(opts.artifacts);
  if (opts.grid) {
    config.atmospheres = { grid: resolve(opts.grid) };
    config.name = `${config.name}-grid`;
  }
  return config;
}

/**
 * Bring up what a run needs locally: the dev server (unless a cluster is named), one worker
 * process per queue — cpu (workflows, light activities), gpu (training) — and `synthWorkers` on
 * the synth queue (one PySME process each), so that neither workflow tasks nor synthesis wait on
 * a training step's event loop.
 */
export async function withTemporal<T>(
  opts: TemporalConnectionFlags & { worker: boolean; synthWorkers?: number },
  body: (client: Client) => Promise<T>,
): Promise<T> {
  const config = await resolveConnection(opts);
  const workers = [];
  if (opts.worker) {
    const synth = Math.max(1, opts.synthWorkers ?? defaultSynthWorkers());
    const started = await Promise.all([
      // Workflow tasks (and so progress queries) never wait behind a training step's event loop.
      startSupervisedWorker(['--task-queue', TASK_QUEUES.cpu, ...workerConnectionArgs(config)], 'cpu'),
      startSupervisedWorker(['--task-queue', TASK_QUEUES.gpu, ...workerConnectionArgs(config)], 'gpu'),
      ...Array.from({ length: synth }, (_, i) =>
        startSupervisedWorker(
          ['--task-queue', TASK_QUEUES.synth, ...workerConnectionArgs(config)],
          `synth ${i + 1}`,
        ),
      ),
    ]);
    workers.push(...started);
  }
  const { client, connection } = await connectClient(config);
  try {
    return await body(client);
  } finally {
    await connection.close();
    await Promise.all(workers.map((w) => w.stop()));
  }
}

/** Synth workers started locally by default: one per core (PySME is single-threaded), at most 4. */
export function defaultSynthWorkers(): number {
  const env = Number(process.env.STELLAR_EMU_SYNTH_WORKERS);
  if (Number.isInteger(env) && env >= 1) return env;
  return Math.max(1, Math.min(4, availableParallelism()));
}

function printResult(result: PipelineResult): void {
  const out = process.stdout;
  out.write(
    `pipeline ${result.runId}: report ${result.report.pass ? 'PASS' : 'FAIL'} — ${result.report.dir}/index.html\n`,
  );
  for (const s of result.steps)
    out.write(`  ${s.status.padEnd(7)} ${s.name}${s.detail ? `  (${s.detail})` : ''}\n`);
  for (const c of result.report.checks.filter((x) => !x.pass))
    out.write(`  check failed: ${c.name} = ${c.value} (limit ${c.limit})\n`);
}

async function runPipeline(opts: RunOptions): Promise<PipelineResult | null> {
  if (opts.id !== undefined) assertWorkflowId(opts.id, '--id'); // before a server, worker or config is touched
  const config = await resolveRunConfig(opts);
  const workflowId =
    opts.id ??
    `pipeline-${config.name}-${new Date().toISOString().replace(/[:.]/g, '-')}-${randomUUID().slice(0, 6)}`;
  return withTemporal(opts, async (client) => {
    const { handle, attached } = await startOrAttach(client, 'pipeline', {
      workflowId,
      taskQueue: TASK_QUEUES.cpu,
      args: [config],
      memo: {
        kind: 'pipeline',
        name: config.name,
        artifacts: config.artifacts,
        gitCommit: process.env.GIT_COMMIT ?? currentGitCommit(),
      },
    });
    process.stderr.write(
      `${attached ? 'attached to' : 'started'} workflow ${handle.workflowId} (artifacts in ${config.artifacts})\n`,
    );
    if (!opts.wait) {
      process.stdout.write(`${handle.workflowId}\n`);
      return null;
    }
    const sme = config.spectra && 'sme' in config.spectra ? config.spectra.sme : null;
    const result = await watchWorkflow<PipelineResult>(client, handle, {
      expectedSteps:
        (config.pinn ? 5 : 0) +
        (config.pinn?.spectra ? 1 : 0) +
        (config.cvae ? 4 : 0) +
        (config.validation ? 1 : 0) +
        (sme?.sun ? 1 : 0) +
        1,
    });
    if (opts.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    else printResult(result);
    if (opts.failOnCheck && !result.report.pass) process.exitCode = 2;
    return result;
  });
}

export function register(program: Command): void {
  const pipeline = program
    .command('pipeline')
    .description('durable pipelines: data -> split -> PINN and CVAE training -> validation -> report');

  const run = pipeline
    .command('run')
    .description(
      'run the whole pipeline (the demo on synthetic data unless --config is given) and wait for its report',
    )
    .option('--demo', 'synthetic data and small presets (the default when no --config is given)')
    .option('--config <file>', 'pipeline config, JSON or YAML')
    .option('--grid <path>', 'train the PINN on a real grid folder (e.g. ../shared/data/atlas9-kurucz1993)')
    .option('--artifacts <dir>', 'artifact store directory', undefined)
    .option('--id <workflow-id>', 'workflow id (re-using a running id attaches to it)')
    .option('--no-worker', 'do not start a worker here (expect workers on the cpu and gpu task queues)')
    .option('--no-wait', 'start and print the workflow id without waiting')
    .option('--fail-on-check', 'exit 2 when a report check fails')
    .option('--json', 'print the result as JSON');
  addConnectionOptions(run).action(async (opts: RunOptions) => {
    await runPipeline(opts);
  });

  const status = program
    .command('status <workflow-id>')
    .description('progress of a pipeline, training or validation workflow (a progress bar with --watch)')
    .option('--watch', 'follow until it closes')
    .option('--json', 'print the snapshot as JSON');
  addConnectionOptions(status).action(
    async (workflowId: string, opts: TemporalConnectionFlags & { watch?: boolean; json?: boolean }) => {
      const { client, connection } = await connectClient(resolveTemporalConfig(opts));
      try {
        const handle = client.workflow.getHandle(workflowId);
        if (opts.watch) {
          await watchWorkflow(client, handle);
          process.stdout.write(`${workflowId}: ${(await handle.describe()).status.name}\n`);
          return;
        }
        const snap = await progressSnapshot(client, handle);
        if (opts.json) {
          process.stdout.write(`${JSON.stringify(snap, null, 2)}\n`);
          return;
        }
        process.stdout.write(
          `${workflowId}: ${snap.status}${snap.progress ? ` — ${snap.progress.stage}` : ''}\n`,
        );
        if (snap.status === 'FAILED') {
          // The root cause (step, activity, file:line), as `pipeline run` printed it.
          const why = await handle.result().then(
            () => null,
            (err: unknown) => describeFailure(err, workflowId),
          );
          if (why) process.stdout.write(`  ${formatFailure(why)}\n`);
        } else if (snap.status === 'COMPLETED') {
          const r = (await handle.result().catch(() => null)) as {
            report?: { dir: string; pass: boolean; checks: { name: string; pass: boolean }[] };
          } | null;
          if (r?.report) {
            const failed = r.report.checks.filter((c) => !c.pass).map((c) => c.name);
            process.stdout.write(
              `  report: ${r.report.dir}/index.html (${r.report.pass ? 'all checks pass' : `FAIL: ${failed.join(', ')}`})\n`,
            );
          }
        }
        for (const s of snap.progress?.steps ?? [])
          process.stdout.write(`  ${s.status.padEnd(7)} ${s.name}${s.detail ? `  (${s.detail})` : ''}\n`);
        for (const t of snap.training) process.stdout.write(`  training: ${describeTraining(t)}\n`);
        for (const h of snap.steps) process.stdout.write(`  running: ${describeStep(h)}\n`);
        if (snap.synthesis) process.stdout.write(`  synthesis: ${snap.synthesis}\n`);
        for (const r of snap.retrying) process.stdout.write(`  ! ${r}\n`);
      } finally {
        await connection.close();
      }
    },
  );

  const runs = program
    .command('runs')
    .description(
      'list runs: pipelines by default; training runs with --type trainPinn|trainCvae or --all, filtered by their memo',
    )
    .option('--type <workflow-type>', 'workflow type to list', 'pipeline')
    .option('--all', 'every workflow type (pipelines, their child workflows, sweeps, schedules)')
    .option('--status <status>', 'Running, Completed, Failed, ...')
    .option('--kind <kind>', 'memo kind: pipeline, pinn, pinn-baseline, cvae, scheduledRetrain')
    .option('--dataset <sha256-prefix>', "training runs on this dataset (memo's dataset content hash)")
    .option('--commit <git-prefix>', "runs started from this git commit (memo's gitCommit)")
    .option('--limit <n>', 'at most this many', '20')
    .option('--json', 'print JSON');
  addConnectionOptions(runs).action(
    async (
      opts: TemporalConnectionFlags & {
        type: string;
        all?: boolean;
        status?: string;
        kind?: string;
        dataset?: string;
        commit?: string;
        limit: string;
        json?: boolean;
      },
    ) => {
      const { client, connection } = await connectClient(resolveTemporalConfig(opts));
      try {
        const clauses: string[] = [];
        if (!opts.all) clauses.push(`WorkflowType = '${opts.type.replace(/'/g, '')}'`);
        if (opts.status) clauses.push(`ExecutionStatus = '${opts.status.replace(/'/g, '')}'`);
        // The memo is not indexed by the server: filter on it here.
        const memoMatches = (memo: Record<string, unknown>) =>
          (!opts.kind || memo.kind === opts.kind) &&
          (!opts.dataset || String(memo.datasetSha256 ?? '').startsWith(opts.dataset)) &&
          (!opts.commit || String(memo.gitCommit ?? '').startsWith(opts.commit));
        const rows: Record<string, unknown>[] = [];
        for await (const wf of client.workflow.list(clauses.length ? { query: clauses.join(' AND ') } : {})) {
          const memo = (wf.memo ?? {}) as Record<string, unknown>;
          if (!memoMatches(memo)) continue;
          rows.push({
            workflowId: wf.workflowId,
            type: wf.type,
            status: wf.status.name,
            start: wf.startTime.toISOString(),
            close: wf.closeTime?.toISOString() ?? null,
            memo,
          });
          if (rows.length >= Number(opts.limit)) break;
        }
        if (opts.json) process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
        else
          for (const r of rows) {
            const memo = r.memo as Record<string, unknown>;
            const tags = [
              memo.kind,
              memo.datasetSha256 ? `dataset ${String(memo.datasetSha256).slice(0, 12)}` : null,
              memo.gitCommit ? `commit ${String(memo.gitCommit).slice(0, 10)}` : null,
            ]
              .filter(Boolean)
              .join(', ');
            process.stdout.write(
              `${String(r.status).padEnd(10)} ${r.start}  ${r.workflowId}${tags ? `  (${tags})` : ''}\n`,
            );
          }
      } finally {
        await connection.close();
      }
    },
  );

  const schedule = program
    .command('schedule')
    .description('Temporal Schedules for periodic retraining (skipped when the input grid is unchanged)');
  const create = schedule
    .command('create <schedule-id>')
    .description('retrain on a schedule with a pipeline config')
    .requiredOption('--config <file>', 'pipeline config (JSON or YAML)')
    .option('--every <interval>', 'interval, e.g. 1d, 12h, 30m', '1d')
    .option('--cron <expr>', 'cron expression instead of --every')
    .option('--paused', 'create it paused');
  addConnectionOptions(create).action(
    async (
      id: string,
      opts: TemporalConnectionFlags & { config: string; every: string; cron?: string; paused?: boolean },
    ) => {
      const config = await loadPipelineConfig(opts.config);
      const { client, connection } = await connectClient(resolveTemporalConfig(opts));
      try {
        await client.schedule.create({
          scheduleId: id,
          spec: opts.cron
            ? { cronExpressions: [opts.cron] }
            : { intervals: [{ every: opts.every as never }] },
          action: {
            type: 'startWorkflow',
            workflowType: 'scheduledRetrain',
            taskQueue: TASK_QUEUES.cpu,
            args: [config],
            workflowId: `${id}-run`,
            memo: { kind: 'scheduledRetrain', name: config.name },
          },
          policies: { overlap: ScheduleOverlapPolicy.SKIP },
          state: { paused: Boolean(opts.paused) },
        });
        process.stdout.write(`schedule ${id} created\n`);
      } finally {
        await connection.close();
      }
    },
  );
  const list = schedule.command('list').description('list schedules').option('--json');
  addConnectionOptions(list).action(async (opts: TemporalConnectionFlags & { json?: boolean }) => {
    const { client, connection } = await connectClient(resolveTemporalConfig(opts));
    try {
      const rows: { id: string; paused: boolean; recent: string[] }[] = [];
      for await (const s of client.schedule.list()) {
        rows.push({
          id: s.scheduleId,
          paused: s.state.paused,
          recent: s.info.recentActions.map((a) => a.action.workflow.workflowId),
        });
      }
      if (opts.json) process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
      else
        for (const r of rows)
          process.stdout.write(
            `${r.id}${r.paused ? ' (paused)' : ''}  recent: ${r.recent.join(', ') || '-'}\n`,
          );
    } finally {
      await connection.close();
    }
  });
  for (const [verb, what] of [
    ['pause', 'pause a schedule'],
    ['unpause', 'resume a paused schedule'],
    ['trigger', 'start a run now'],
    ['delete', 'delete a schedule'],
  ] as const) {
    const c = schedule.command(`${verb} <schedule-id>`).description(what);
    addConnectionOptions(c).action(async (id: string, opts: TemporalConnectionFlags) => {
      const { client, connection } = await connectClient(resolveTemporalConfig(opts));
      try {
        const h = client.schedule.getHandle(id);
        if (verb === 'pause') await h.pause('paused from stellar-emu');
        else if (verb === 'unpause') await h.unpause('unpaused from stellar-emu');
        else if (verb === 'trigger') await h.trigger(ScheduleOverlapPolicy.ALLOW_ALL);
        else await h.delete();
        process.stdout.write(
          `schedule ${id}: ${verb}d\n`.replace('triggerd', 'triggered').replace('unpaused', 'unpaused'),
        );
      } finally {
        await connection.close();
      }
    });
  }

  // `validate cvae` (parameter recovery) lives under the same parent; `validate --config` is the
  // CI entry point that runs the pipeline of a config and fails on its thresholds.
  const validate = parentCommand(program, 'validate', 'validate an emulator')
    .option(
      '--config <file>',
      'CI validation: run the pipeline of this config (with thresholds) and exit 2 when a check fails',
    )
    .option('--wait', 'wait for the result (always: CI needs the verdict)')
    .option('--artifacts <dir>', 'artifact store directory')
    .option('--no-worker', 'do not start a worker here')
    .option('--json', 'print the result as JSON');
  addConnectionOptions(validate).action(async (opts: RunOptions) => {
    if (!opts.config)
      throw new Error(
        'validate: give --config <file> (CI validation of a pipeline) or a sub-command: validate cvae ...',
      );
    const result = await runPipeline({ ...opts, wait: true, failOnCheck: true });
    if (result && !result.report.pass)
      process.stderr.write(`validation FAILED: see ${result.report.dir}/index.html\n`);
  });
}
