// `stellar-emu train cvae`: train the spectrum CVAE on a grid-io spectrum dataset (streamed, resumable).
import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { initBackend } from '@stellar-emu/nn-core';
import { CVAE_PRESETS, evaluateCvae, loadCvaeModel, trainCvae, type CvaeConfig } from '@stellar-emu/cvae';
import { optionalNumber, parentCommand } from './shared.js';

interface TrainCvaeCliOptions {
  data: string;
  out: string;
  preset: string;
  epochs?: string;
  batchSize?: string;
  lr?: string;
  beta?: string;
  klWarmupSteps?: string;
  patience?: string;
  valLatent?: string;
  seed?: string;
  memoryMib: string;
  maxMinutes?: string;
  resume?: boolean;
  metrics?: string;
  json?: boolean;
}

const num = optionalNumber;


export function register(program: Command): void {
  parentCommand(program, 'train', 'train an emulator')
    .command('cvae')
    .description('train the conditional VAE spectrum emulator on a spectrum dataset (N and labels from its manifest)')
    .requiredOption('--data <dataset>', 'grid-io spectrum dataset (train/val from its split column, else 90/10 by id)')
    .requiredOption('--out <dir>', 'model directory: model.json, weights.safetensors (best epoch), checkpoints/')
    .option('--preset <name>', `architecture preset (${Object.keys(CVAE_PRESETS).join(', ')})`, 'small')
    .option('--epochs <n>', 'maximum epochs (default 1000; early stopping patience 50)')
    .option('--batch-size <n>', 'batch size (default 512)')
    .option('--lr <x>', 'initial Adam learning rate (default 1e-3, halved on plateau)')
    .option('--beta <x>', 'KL weight relative to the pixel-summed squared error (default 1)')
    .option('--kl-warmup-steps <n>', 'linear KL warm-up over this many steps (default 0)')
    .option('--patience <n>', 'early-stopping patience in epochs (default 50)')
    .option('--val-latent <sample|mean|zero>', 'latent of the validation loss: posterior sample with a fixed draw (default), z = mu, or z = 0')
    .option('--seed <n>', 'seed of initialisation, shuffling and noise (default 1)')
    .option('--memory-mib <n>', 'cap on decoded training flux in memory, MiB (validation gets a quarter more)', '1024')
    .option('--max-minutes <m>', 'time budget: stop at the first epoch end after it (resume later with --resume)')
    .option('--resume', 'continue from the newest checkpoint in <out>/checkpoints')
    .option('--metrics <file>', 'after training, score the best model on the validation split and write the metrics JSON')
    .option('--json', 'print the result as JSON')
    .action(async (o: TrainCvaeCliOptions) => {
      await initBackend();
      const overrides: Partial<CvaeConfig> = {};
      const set = <K extends keyof CvaeConfig>(k: K, v: CvaeConfig[K] | undefined) => {
        if (v !== undefined) overrides[k] = v;
      };
      set('epochs', num('epochs', o.epochs));
      set('batchSize', num('batch-size', o.batchSize));
      set('learningRate', num('lr', o.lr));
      set('beta', num('beta', o.beta));
      set('klWarmupSteps', num('kl-warmup-steps', o.klWarmupSteps));
      set('earlyStoppingPatience', num('patience', o.patience));
      set('seed', num('seed', o.seed));
      if (o.valLatent !== undefined) {
        if (o.valLatent !== 'sample' && o.valLatent !== 'mean' && o.valLatent !== 'zero') throw new Error(`--val-latent must be sample, mean or zero, got '${o.valLatent}'`);
        overrides.validationLatent = o.valLatent;
      }
      if (!(o.preset in CVAE_PRESETS)) throw new Error(`unknown preset '${o.preset}' (expected ${Object.keys(CVAE_PRESETS).join(', ')})`);
      const memoryMib = num('memory-mib', o.memoryMib)!;
      const maxMinutes = num('max-minutes', o.maxMinutes);
      const ac = new AbortController();
      const r = await trainCvae({
        dataset: o.data,
        outDir: o.out,
        preset: o.preset as keyof typeof CVAE_PRESETS,
        overrides,
        cacheBytes: memoryMib * 2 ** 20,
        resume: o.resume,
        maxSeconds: maxMinutes === undefined ? undefined : maxMinutes * 60,
        signal: ac.signal,
        onProgress: (p) => {
          if (p.phase === 'epoch') {
            const parts = Object.entries(p.losses).map(([k, v]) => `${k} ${v.toExponential(3)}`).join('  ');
            process.stderr.write(`epoch ${p.epoch + 1}  train ${parts}  val recon ${p.valLoss?.toExponential(3) ?? '-'}  lr ${p.lr.toExponential(2)}\n`);
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
        stoppedEarly: r.loop.stoppedEarly && !r.budgetSpent,
        budgetSpent: r.budgetSpent,
        bestEpoch: r.bestEpoch,
        bestValRecon: r.bestValRecon,
        trainSeconds: +r.trainSeconds.toFixed(1),
        spectraPerSecond: +r.spectraPerSecond.toFixed(1),
        trainExamples: r.trainExamples,
        valExamples: r.valExamples,
        peakCachedMiB: +(r.trainSourceStats.peakCachedBytes / 2 ** 20).toFixed(1),
      };
      if (o.metrics) {
        const loaded = await loadCvaeModel(r.modelDir);
        const m = await evaluateCvae(loaded, o.data, { split: 'val' });
        loaded.model.dispose();
        await writeFile(o.metrics, `${JSON.stringify(m)}\n`);
        summary.metrics = { file: o.metrics, nSpectra: m.nSpectra, ...m.summary };
      }
      if (o.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
      else {
        process.stdout.write(
          `trained ${r.config.preset} CVAE (N = ${r.config.nPixels}, labels ${r.config.labelColumns.join(', ')}): ${r.loop.epochsDone} epochs, ` +
            `best epoch ${r.bestEpoch + 1} val recon ${r.bestValRecon?.toExponential(3)}, ${r.trainSeconds.toFixed(0)} s, ${r.spectraPerSecond.toFixed(0)} spectra/s -> ${r.modelDir}\n`,
        );
        if (summary.metrics) process.stdout.write(`validation residual (eq. 6): ${JSON.stringify(summary.metrics)}\n`);
      }
    });
}
