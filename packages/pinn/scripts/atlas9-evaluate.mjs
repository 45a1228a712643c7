// Evaluate an ATLAS9 acceptance model on the validation split (optionally against an alpha = 0 baseline) and check the targets.
// Usage: node packages/pinn/scripts/atlas9-evaluate.mjs <dataset> <model-dir> <metrics.json> [baseline-model-dir]
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { evaluatePinnModel } from '@stellar-emu/pinn';

const [datasetDir, modelDir, out, baselineModelDir] = process.argv.slice(2);
const { summary } = await evaluatePinnModel({ modelDir, datasetDir, baselineModelDir, out });
const model = JSON.parse(readFileSync(join(modelDir, 'model.json'), 'utf8'));
const targets = { temperature: 0.5, pressure: 3, rhox: 3, abross: 5 };
const checks = Object.entries(targets).map(([q, t]) => ({
  quantity: q,
  medianPercent: summary[`medianPercent.${q}`],
  target: t,
  pass: summary[`medianPercent.${q}`] <= t,
}));
console.log(
  JSON.stringify(
    {
      modelDir,
      backend: model.backend,
      preset: model.preset,
      alpha: model.physics.alpha,
      epochs: model.training.epochs,
      epochsDone: model.training.epochsDone,
      done: model.training.done,
      trainS: model.training.durationS,
      summary,
      checks,
    },
    null,
    2,
  ),
);
