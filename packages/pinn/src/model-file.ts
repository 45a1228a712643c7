// The model file: one nn-core safetensors file of kind MODEL_KIND with the weights (param/<name>) and the state to rebuild the emulator.
import { CheckpointError, readCheckpoint, writeCheckpoint, type StoredTensor } from '@stellar-emu/nn-core';
import type { PhysicsOptions, PinnArchitecture } from './config.js';
import type { Normalization } from './normalization.js';

/** Metadata stored in the model file besides the weights. */
export interface ModelFileState {
  arch: PinnArchitecture;
  normalization: Normalization;
  physics: PhysicsOptions;
  seed: number;
  /** Free-form provenance: backend, data, training history. */
  info: Record<string, unknown>;
}

/** The kind tag of model files. */
export const MODEL_KIND = 'kurucz-a1-pinn';

/** Write network parameters (name -> tensor) and `state` atomically to one model file. */
export async function writeModelFile(
  path: string,
  params: Map<string, StoredTensor>,
  state: ModelFileState,
): Promise<void> {
  const tensors = new Map<string, StoredTensor>();
  for (const [k, v] of params) tensors.set(`param/${k}`, v);
  await writeCheckpoint(path, tensors, MODEL_KIND, state);
}

/**
 * Read a model file, or the final weights of a training checkpoint of a MODEL_KIND run: the state
 * and the network parameters (name -> tensor). A missing, corrupt or foreign file gives a CheckpointError.
 */
export async function readModelFile(
  path: string,
): Promise<{ state: ModelFileState; params: Map<string, { shape: number[]; data: Float32Array }> }> {
  const ck = await readCheckpoint(path);
  let state: ModelFileState;
  if (ck.kind === MODEL_KIND) state = ck.state as ModelFileState;
  else if (ck.kind === 'training' && ck.state?.config?.model === MODEL_KIND) {
    const c = ck.state.config;
    state = {
      arch: c.arch,
      normalization: ck.state.normalization,
      physics: c.physics,
      seed: c.seed,
      info: { fromCheckpoint: true },
    };
  } else throw new CheckpointError(path, `is a '${ck.kind}' file, not a ${MODEL_KIND} model`);
  const params = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [k, t] of ck.tensors)
    if (k.startsWith('param/')) params.set(k.slice(6), { shape: t.shape, data: t.data as Float32Array });
  return { state, params };
}
