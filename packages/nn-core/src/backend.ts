// Backend selection: native TensorFlow (GPU, then CPU), then WebAssembly, then pure JS.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';

/** The backends nn-core can run on, in order of preference. */
export const BACKEND_PREFERENCE = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_PREFERENCE)[number];

/** One attempt to load a backend. */
export interface BackendAttempt {
  name: BackendName;
  ok: boolean;
  /** Why it was not used (load error, or skipped because no GPU is visible). */
  reason?: string;
}

/** What runs, and why: recorded in every run's metadata. */
export interface BackendInfo {
  /** The nn-core name of the selected backend. */
  name: BackendName;
  /** tfjs's own backend name (`tensorflow`, `wasm`, `cpu`). */
  tfjsBackend: string;
  /** Whether `STELLAR_EMU_BACKEND` (or an explicit option) forced the choice. */
  forced: boolean;
  /** Every backend tried before (and including) the selected one. */
  attempts: BackendAttempt[];
  /** One sentence for humans. */
  reason: string;
  tfjsVersion: string;
  /**
   * Native CPU backend only: whether TensorFlow's oneDNN kernels, and with them its BFC memory
   * pool, are on (`TF_ENABLE_ONEDNN_OPTS`, TensorFlow's default on; packages/nn-core/README.md,
   * "Memory"); null elsewhere.
   */
  onednn: boolean | null;
}

/** Options of {@link initBackend}. */
export interface BackendOptions {
  force?: BackendName;
  quiet?: boolean;
}

const require = createRequire(import.meta.url);
let selected: BackendInfo | null = null;
let selecting: Promise<BackendInfo> | null = null;

/** Error thrown when a forced backend cannot be loaded. */
export class BackendUnavailableError extends Error {
  constructor(
    readonly backend: BackendName,
    readonly detail: string,
  ) {
    super(
      `backend '${backend}' was requested (STELLAR_EMU_BACKEND) but cannot be loaded: ${detail}. ` +
        `Run 'npm run setup' to build the native binding, or choose one of ${BACKEND_PREFERENCE.join(', ')}.`,
    );
    this.name = 'BackendUnavailableError';
  }
}

function gpuVisible(): boolean {
  if (process.env.CUDA_VISIBLE_DEVICES === '' || process.env.CUDA_VISIBLE_DEVICES === '-1') return false;
  return existsSync('/dev/nvidia0') || existsSync('/proc/driver/nvidia/version');
}

function errorText(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n')[0].slice(0, 300);
}

/** The tfjs-node module that was loaded (for its TensorFlow protos and sessions), or null. */
let nativeModule: string | null = null;

/** Module specifier of the loaded tfjs-node binding (`@tensorflow/tfjs-node`, `-gpu` or STELLAR_EMU_TFJS_NODE_MODULE), else null. */
export function nativeModuleSpecifier(): string | null {
  return nativeModule;
}

async function tryLoad(name: BackendName, forced: boolean): Promise<void> {
  // TensorFlow's C++ start-up chatter (oneDNN, CPU features) unless the user asked for it.
  process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';
  switch (name) {
    case 'tensorflow-gpu': {
      if (!forced && !gpuVisible()) throw new Error('no NVIDIA GPU visible');
      await import('@tensorflow/tfjs-node-gpu' as string);
      nativeModule = '@tensorflow/tfjs-node-gpu';
      break;
    }
    case 'tensorflow': {
      // A custom build of the binding (e.g. a cluster's own fork) can be named here.
      const spec = process.env.STELLAR_EMU_TFJS_NODE_MODULE || '@tensorflow/tfjs-node';
      await import(spec);
      nativeModule = spec;
      break;
    }
    case 'wasm': {
      const wasm = await import('@tensorflow/tfjs-backend-wasm');
      const wasmFile = require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm');
      wasm.setWasmPaths(join(dirname(wasmFile), '/'));
      break;
    }
    case 'cpu':
      break;
  }
  const tfjsName = name === 'tensorflow-gpu' ? 'tensorflow' : name;
  if (!tf.findBackendFactory(tfjsName)) throw new Error(`tfjs backend '${tfjsName}' did not register`);
  const ok = await tf.setBackend(tfjsName);
  if (!ok) throw new Error(`tf.setBackend('${tfjsName}') failed`);
  await tf.ready();
  // A real computation, so that a binding that loads but cannot run is not selected.
  const probe = tf.tidy(() => tf.matMul(tf.ones([2, 2]), tf.ones([2, 2])).sum());
  const value = (await probe.data())[0];
  probe.dispose();
  if (value !== 8) throw new Error(`probe computation returned ${value}, expected 8`);
}

function parseForced(value: string | undefined): BackendName | null {
  if (!value) return null;
  const v = value.trim().toLowerCase();
  if ((BACKEND_PREFERENCE as readonly string[]).includes(v)) return v as BackendName;
  throw new Error(`STELLAR_EMU_BACKEND='${value}' is not one of ${BACKEND_PREFERENCE.join(', ')}`);
}

/**
 * Select and initialise the tfjs backend once per process: the first of
 * tensorflow-gpu -> tensorflow -> wasm -> cpu that loads and computes, unless
 * `STELLAR_EMU_BACKEND` (or `options.force`) names one, in which case that one or an error.
 * The choice is logged once (to stderr, unless `options.quiet`).
 */
export async function initBackend(options: BackendOptions = {}): Promise<BackendInfo> {
  if (selected) return selected;
  if (selecting) return selecting;
  selecting = (async () => {
    const forcedName = options.force ?? parseForced(process.env.STELLAR_EMU_BACKEND);
    const attempts: BackendAttempt[] = [];
    const candidates = forcedName ? [forcedName] : [...BACKEND_PREFERENCE];
    for (const name of candidates) {
      try {
        await tryLoad(name, forcedName !== null);
        attempts.push({ name, ok: true });
        const skipped = attempts.filter((a) => !a.ok).map((a) => `${a.name}: ${a.reason}`);
        const reason = forcedName
          ? `forced by STELLAR_EMU_BACKEND=${forcedName}`
          : skipped.length === 0
            ? 'first choice, loaded'
            : `selected after ${skipped.join('; ')}`;
        selected = {
          name,
          tfjsBackend: tf.getBackend(),
          forced: forcedName !== null,
          attempts,
          reason,
          tfjsVersion: tf.version.tfjs,
          onednn:
            name === 'tensorflow' ? !/^(0|false|off)$/i.test(process.env.TF_ENABLE_ONEDNN_OPTS ?? '') : null,
        };
        const dnn = selected.onednn === null ? '' : `, oneDNN ${selected.onednn ? 'on' : 'off'}`;
        if (!options.quiet) process.stderr.write(`[nn-core] backend: ${name}${dnn} (${reason})\n`);
        return selected;
      } catch (err) {
        attempts.push({ name, ok: false, reason: errorText(err) });
        if (forcedName) throw new BackendUnavailableError(forcedName, errorText(err));
      }
    }
    throw new Error(
      `no tfjs backend could be loaded: ${attempts.map((a) => `${a.name}: ${a.reason}`).join('; ')}`,
    );
  })();
  try {
    return await selecting;
  } finally {
    selecting = null;
  }
}

/** The backend selected by `initBackend`, or null before selection. */
export function currentBackend(): BackendInfo | null {
  return selected;
}

/**
 * Describe which backend would be selected and why, without side effects on the caller:
 * probes each candidate in this process (so call it from a short-lived process, e.g. the CLI).
 */
export async function describeBackend(): Promise<BackendInfo> {
  return initBackend({ quiet: true });
}

export { tf };
