// `stellar-emu train pinn`: train the Kurucz-a1 atmosphere PINN on a grid-io atmosphere dataset (resumable).
import type { Command } from 'commander';
import { SingleBar, Presets } from 'cli-progress';
import { initBackend } from '@stellar-emu/nn-core';
import {
  evaluatePinnModel,
  pinnTrainingSchema,
  trainPinnOnDataset,
  type PinnTrainProgress,
} from '@stellar-emu/pinn';
import { addSchemaOptions, optionalNumber, parentCommand, schemaOptionValues } from './shared.js';

interface TrainPinnCliOptions extends Record<string, unknown> {
  data: string;
  out: string;
  untilEpoch?: string;
  resume?: boolean;
  metrics?: string;
  baseline?: string;
  progress: boolean;
  json?: boolean;
}

const num = optionalNumber;

export function register(program: Command): void {
  const cmd = parentCommand(program, 'train', 'train an emulator')
    .command('pinn')
    .description(
      'train the Kurucz-a1 physics-informed atmosphere emulator on an atmosphere dataset (split column: train / val)',
    )
    .requiredOption(
      '--data <dataset>',
      'grid-io atmosphere dataset directory (e.g. from `stellar-emu ingest atmospheres --split 90/10`)',
    )
    .requiredOption('--out <model-dir>', 'model directory: model.json, model.safetensors, checkpoints/');
  addSchemaOptions(cmd, pinnTrainingSchema)
    .option('--until-epoch <n>', 'stop after this many epochs in total (continue later with --resume)')
    .option(
      '--resume',
      'continue from the newest checkpoint in <model-dir>/checkpoints (same options required)',
    )
    .option('--metrics <file>', 'after training, evaluate on the validation split and write the metrics JSON')
    .option('--baseline <model-dir>', 'with --metrics: an alpha = 0 model for the hydrostatic comparison')
    .option('--no-progress', 'no progress bar on stderr')
    .option('--json', 'print the result as JSON')
    .action(async (o: TrainPinnCliOptions) => {
      const training = schemaOptionValues(pinnTrainingSchema, o);
      await initBackend();
      const epochs = training.epochs;
      const bar = o.progress
        ? new SingleBar(
            {
              stream: process.stderr,
              format:
                'pinn |{bar}| {percentage}% | epoch {epoch}/{epochs} | step {value}/{total} | loss {loss} | {pps} pts/s | {rss} MiB | eta {etaText}',
              hideCursor: true,
              etaBuffer: 50,
            },
            Presets.shades_classic,
          )
        : null;
      let started = false;
      const onProgress = (p: PinnTrainProgress) => {
        const total = p.stepsPerEpoch * p.epochs;
        const payload = {
          epoch: Math.min(p.epoch + 1, p.epochs),
          epochs: p.epochs,
          loss: p.losses.total !== undefined ? p.losses.total.toExponential(3) : '-',
          pps: p.samplesPerSec ? p.samplesPerSec.toFixed(0) : '-',
          rss: p.rssMiB,
          etaText: p.etaSeconds === null ? '-' : `${Math.round(p.etaSeconds)} s`,
        };
        if (bar && !started) {
          bar.start(total, p.globalStep, payload);
          started = true;
        }
        bar?.update(p.globalStep, p.phase === 'step' ? payload : { etaText: payload.etaText });
        if (p.phase === 'epoch') {
          const line = `epoch ${p.epoch + 1}/${p.epochs}  train ${Object.entries(p.losses)
            .map(([k, v]) => `${k} ${v.toExponential(3)}`)
            .join('  ')}  val ${p.valLoss?.toExponential(3) ?? '-'}  lr ${p.lr.toExponential(2)}`;
          if (bar && started) {
            bar.stop();
            started = false;
          }
          process.stderr.write(`${line}\n`);
        }
      };
      const ac = new AbortController();
      const onSigint = () => {
        process.stderr.write('\ninterrupted: writing a checkpoint (resume with --resume)\n');
        ac.abort();
      };
      process.once('SIGINT', onSigint);
      let r;
      try {
        r = await trainPinnOnDataset({
          datasetDir: o.data,
          outDir: o.out,
          ...training,
          untilEpoch: num('until-epoch', o.untilEpoch),
          resume: o.resume,
          signal: ac.signal,
          onProgress,
        });
      } finally {
        bar?.stop();
        process.off('SIGINT', onSigint);
      }
      const summary: Record<string, unknown> = {
        ...r,
        history: r.history.length ? r.history.at(-1) : null,
        durationS: +r.durationS.toFixed(1),
      };
      if (o.metrics && !r.aborted) {
        const ev = await evaluatePinnModel({
          modelDir: r.modelDir,
          datasetDir: o.data,
          baselineModelDir: o.baseline,
          out: o.metrics,
        });
        summary.metrics = { file: o.metrics, ...ev.summary };
      }
      if (o.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
      else {
        const state = r.aborted
          ? 'interrupted'
          : r.done
            ? r.stoppedEarly
              ? 'stopped early'
              : 'done'
            : 'paused';
        process.stdout.write(
          `trained ${training.preset} PINN (alpha ${training.alpha}) on ${r.backend}${r.gradients === 'graph' ? ' (graph gradients)' : ''}: ${r.epochsDone}/${epochs} epochs, step ${r.globalStep}, ${state}, ${r.durationS.toFixed(0)} s -> ${r.modelDir}\n`,
        );
        if (summary.metrics) process.stdout.write(`validation: ${JSON.stringify(summary.metrics)}\n`);
      }
      if (r.aborted) process.exitCode = 130;
    });
}
