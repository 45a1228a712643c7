// `stellar-emu train cvae`: train the spectrum CVAE on a grid-io spectrum dataset (streamed, resumable).
import { writeFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import type { Command } from 'commander';
import { initBackend } from '@stellar-emu/nn-core';
import { cvaeTrainingSchema, evaluateCvae, loadCvaeModel, trainCvae } from '@stellar-emu/cvae';
import { VAL_SPLIT } from '@stellar-emu/grid-io';
import { addSchemaOptions, optionalNumber, parentCommand, schemaOptionValues } from './shared.js';

interface TrainCvaeCliOptions extends Record<string, unknown> {
  data: string;
  out: string;
  memoryMib: string;
  resume?: boolean;
  metrics?: string;
  json?: boolean;
}

const num = optionalNumber;

export function register(program: Command): void {
  const cmd = parentCommand(program, 'train', 'train an emulator')
    .command('cvae')
    .description(
      'train the conditional VAE spectrum emulator on a spectrum dataset (N and labels from its manifest)',
    )
    .requiredOption(
      '--data <dataset>',
      'grid-io spectrum dataset (train/val from its split column, else 90/10 by id)',
    )
    .requiredOption(
      '--out <dir>',
      'model directory: model.json, weights.safetensors (best epoch), checkpoints/',
    );
  addSchemaOptions(cmd, cvaeTrainingSchema)
    .option(
      '--memory-mib <n>',
      'cap on decoded training flux in memory, MiB (validation gets a quarter more)',
      '1024',
    )
    .option('--resume', 'continue from the newest checkpoint in <out>/checkpoints')
    .option(
      '--metrics <file>',
      'after training, score the best model on the validation split and write the metrics JSON',
    )
    .option('--json', 'print the result as JSON')
    .action(async (o: TrainCvaeCliOptions) => {
      await initBackend();
      const training = schemaOptionValues(cvaeTrainingSchema, o);
      const memoryMib = num('memory-mib', o.memoryMib)!;
      const ac = new AbortController();
      let lastLine = performance.now();
      const r = await trainCvae({
        ...training,
        datasetDir: o.data,
        outDir: o.out,
        cacheBytes: memoryMib * 2 ** 20,
        resume: o.resume,
        signal: ac.signal,
        onProgress: (p) => {
          // a line every 10 s within an epoch too: a paper-preset epoch on a large grid takes minutes
          if (p.phase === 'step' && performance.now() - lastLine >= 10_000) {
            lastLine = performance.now();
            process.stderr.write(
              `epoch ${p.epoch + 1} step ${p.stepInEpoch}/${p.stepsPerEpoch}  loss ${p.losses.total?.toExponential(3) ?? '-'}  ${p.samplesPerSec.toFixed(0)} spectra/s  rss ${p.rssMiB} MiB\n`,
            );
          }
          if (p.phase === 'epoch') {
            lastLine = performance.now();
            const parts = Object.entries(p.losses)
              .map(([k, v]) => `${k} ${v.toExponential(3)}`)
              .join('  ');
            process.stderr.write(
              `epoch ${p.epoch + 1}  train ${parts}  val recon ${p.valLoss?.toExponential(3) ?? '-'}  lr ${p.lr.toExponential(2)}  rss ${p.rssMiB} MiB\n`,
            );
          }
        },
      });
      const summary: Record<string, unknown> = {
        modelDir: r.modelDir,
        preset: r.config.preset,
        nPixels: r.config.nPixels,
        labels: r.config.labelColumns,
        epochsDone: r.loop.epochsDone,
        globalStep: r.loop.globalStep,
        stoppedEarly: r.stoppedEarly,
        budgetSpent: r.budgetSpent,
        bestEpoch: r.bestEpoch,
        bestValRecon: r.bestValRecon,
        trainSeconds: +r.trainSeconds.toFixed(1),
        spectraPerSecond: +r.spectraPerSecond.toFixed(1),
        trainExamples: r.trainExamples,
        valExamples: r.valExamples,
        peakCachedMiB: +(r.trainSourceStats.peakCachedBytes / 2 ** 20).toFixed(1),
        peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
      };
      if (o.metrics) {
        const loaded = await loadCvaeModel(r.modelDir);
        const m = await evaluateCvae(loaded, o.data, { split: VAL_SPLIT });
        loaded.model.dispose();
        await writeFile(o.metrics, `${JSON.stringify(m)}\n`);
        summary.metrics = { file: o.metrics, nSpectra: m.nSpectra, ...m.summary };
      }
      if (o.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
      else {
        process.stdout.write(
          `trained ${r.config.preset} CVAE (N = ${r.config.nPixels}, labels ${r.config.labelColumns.join(', ')}): ${r.loop.epochsDone} epochs, ` +
            `best epoch ${r.bestEpoch + 1} val recon ${r.bestValRecon?.toExponential(3)}, ${r.trainSeconds.toFixed(0)} s, ${r.spectraPerSecond.toFixed(0)} spectra/s on ${r.backend}${r.gradients === 'graph' ? ' (graph gradients)' : ''} -> ${r.modelDir}\n`,
        );
        if (summary.metrics)
          process.stdout.write(`validation residual (eq. 6): ${JSON.stringify(summary.metrics)}\n`);
      }
    });
}
