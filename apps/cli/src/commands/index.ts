// Registry of sub-commands. Each module exports `register(program)`; add one line per module.
import type { Command } from 'commander';
import { register as registerBackend } from './backend.js';
import { register as registerIngest } from './ingest.js';
import { register as registerInspect } from './inspect.js';
import { register as registerSplit } from './split.js';
import { register as registerReport } from './report.js';
import { register as registerTrainCvae } from './train-cvae.js';
import { register as registerTrainPinn } from './train.js';
import { register as registerPredict } from './predict.js';
import { register as registerGenerateSpectrum } from './generate-spectrum.js';
import { register as registerSynth } from './synth.js';
import { register as registerSynthSpectrum } from './synth-spectrum.js';
import { register as registerDev } from './dev.js';
import { register as registerHello } from './hello.js';
import { register as registerValidateCvae } from './validate-cvae.js';
import { register as registerValidatePinnSpectra } from './validate-pinn-spectra.js';
import { register as registerPipeline } from './pipeline.js';

export function registerCommands(program: Command): void {
  registerBackend(program);
  registerIngest(program);
  registerSplit(program);
  registerInspect(program);
  registerReport(program);
  registerTrainCvae(program);
  registerTrainPinn(program);
  registerPredict(program);
  registerGenerateSpectrum(program);
  registerSynth(program);
  registerSynthSpectrum(program);
  registerDev(program);
  registerHello(program);
  registerValidateCvae(program);
  registerValidatePinnSpectra(program);
  registerPipeline(program);
}
