// From the pipeline config to a training's settings (pure: used by the workflows, and by tests).
import type { PipelineConfig } from './config.js';
import type { TrainSettings } from './types.js';

/**
 * A training section of the config (`pinn` or `cvae`) as the training's settings: the model
 * package's options, passed on unchanged (the pipeline-only keys `baseline` and `spectra` left
 * out; the PINN's baseline and sweep set `alpha`). The trainer parses them with its own schema.
 */
export function trainSettings(
  c: NonNullable<PipelineConfig['pinn'] | PipelineConfig['cvae']>,
  alpha?: number,
): TrainSettings {
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  const { baseline, spectra, ...settings } = c as NonNullable<PipelineConfig['pinn']>;
  return alpha !== undefined ? { ...settings, alpha } : settings;
}
