// The ending every metrics-producing step shares: hash the metrics file, record the step, return its outcome.
import { sha256File } from '@stellar-emu/grid-io';
import type { MetricsRef, StepOutcome } from '@stellar-emu/workflows';
import type { ArtifactStore } from '../artifacts/store.js';

/**
 * Record step `step` (key `key`) as completed with one output, the metrics file at `path`, and
 * `summary` as the small summary the workflow shows; returns the step's (not skipped) outcome.
 */
export async function completeMetricsStep(
  store: ArtifactStore,
  step: string,
  key: string,
  path: string,
  summary: MetricsRef['summary'],
): Promise<StepOutcome<MetricsRef>> {
  const ref: MetricsRef = { path, sha256: await sha256File(path), summary };
  await store.recordCompleted({
    step,
    key,
    outputs: { metrics: { path, sha256: ref.sha256 } },
    summary: { metrics: ref },
    completedAt: new Date().toISOString(),
  });
  return { skipped: false, key, result: ref };
}
