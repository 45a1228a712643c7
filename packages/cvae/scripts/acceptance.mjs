#!/usr/bin/env node
// Acceptance run of the issue: N synthetic spectra (grid-io generator, 19,000 px, 90/10 split),
// `small` preset, native CPU backend, time-boxed training, held-out eq. 6 residuals.
// Usage: node packages/cvae/scripts/acceptance.mjs <workdir> [--n 20000] [--minutes 45] [--memory-mib 1024]
// Phases are skipped when their output exists (dataset, model with a final result), so it resumes.
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { hasManifest, syntheticSpectra, writeSpectrumDataset } from '@stellar-emu/grid-io';
import { initBackend } from '@stellar-emu/nn-core';
import { evaluateCvae, loadCvaeModel, trainCvae } from '@stellar-emu/cvae';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    n: { type: 'string', default: '20000' },
    minutes: { type: 'string', default: '45' },
    'memory-mib': { type: 'string', default: '1024' },
    phase: { type: 'string', default: 'all' },
  },
});
const work = positionals[0] ?? 'acceptance-run';
const n = Number(values.n);
await mkdir(work, { recursive: true });
const dataset = join(work, `synthetic-${n}`);
const modelDir = join(work, 'model-small');
const log = (s) => process.stderr.write(`[acceptance ${new Date().toISOString()}] ${s}\n`);

if (!hasManifest(dataset)) {
  log(`generating ${n} synthetic spectra -> ${dataset}`);
  const t0 = performance.now();
  let i = 0;
  const recs = (function* () {
    for (const r of syntheticSpectra({ n, seed: 2024 })) {
      if (++i % 1000 === 0) log(`  ${i} spectra, ${((performance.now() - t0) / 1000).toFixed(0)} s`);
      yield r;
    }
  })();
  await writeSpectrumDataset(recs, dataset, {
    split: { scheme: '90/10', seed: 0 },
    notes: { command: 'cvae acceptance', n, seed: 2024 },
  });
  log(`dataset written in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
}
if (values.phase === 'data') process.exit(0);

const info = await initBackend();
const result = { backend: info.name, n, dataset };
if (!existsSync(join(modelDir, 'result.json'))) {
  const r = await trainCvae({
    dataset,
    outDir: modelDir,
    preset: 'small',
    cacheBytes: Number(values['memory-mib']) * 2 ** 20,
    maxSeconds: Number(values.minutes) * 60,
    resume: existsSync(join(modelDir, 'checkpoints')),
    onProgress: (p) => {
      if (p.phase === 'epoch')
        log(
          `epoch ${p.epoch + 1} train ${JSON.stringify(p.losses)} val recon ${p.valLoss?.toExponential(3)} lr ${p.lr.toExponential(2)}`,
        );
    },
  });
  const summary = {
    epochsDone: r.loop.epochsDone,
    bestEpoch: r.bestEpoch,
    bestValRecon: r.bestValRecon,
    trainSeconds: r.trainSeconds,
    spectraPerSecond: r.spectraPerSecond,
    budgetSpent: r.budgetSpent,
    stoppedEarly: r.loop.stoppedEarly,
    trainExamples: r.trainExamples,
    valExamples: r.valExamples,
    source: r.trainSourceStats,
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
  };
  await writeFile(join(modelDir, 'result.json'), `${JSON.stringify(summary, null, 2)}\n`);
  Object.assign(result, { training: summary });
}
const loaded = await loadCvaeModel(modelDir);
const metrics = {};
for (const z of ['sample', 'zero']) {
  const m = await evaluateCvae(loaded, dataset, { split: 'val', z, seed: 1 });
  await writeFile(join(work, `metrics-z-${z}.json`), `${JSON.stringify(m)}\n`);
  metrics[`z=${z}`] = { nSpectra: m.nSpectra, ...m.summary, seconds: m.seconds };
}
Object.assign(result, { metrics, peakRssMiB: process.resourceUsage().maxRSS / 1024 });
process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
