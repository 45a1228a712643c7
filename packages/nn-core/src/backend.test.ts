import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

// Each case runs in a fresh process: a backend, once selected, stays for the process.
const here = fileURLToPath(new URL('.', import.meta.url));
function selectIn(env: Record<string, string>): { status: number | null; out: string; err: string } {
  const script = `import('../dist/backend.js').then(async (m) => { const b = await m.initBackend({ quiet: true }); console.log(JSON.stringify(b)); }).catch((e) => { console.error(e.message); process.exit(3); });`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: here,
    env: { ...process.env, ...env, TF_CPP_MIN_LOG_LEVEL: '3' },
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { status: r.status, out: r.stdout, err: r.stderr };
}

describe('backend selection', () => {
  test('default selection picks the native tensorflow backend when built (required in CI)', () => {
    const r = selectIn({ STELLAR_EMU_BACKEND: '' });
    expect(r.status, r.err).toBe(0);
    const info = JSON.parse(r.out.trim().split('\n').pop()!);
    expect(info.forced).toBe(false);
    expect(info.attempts.at(-1)).toEqual({ name: info.name, ok: true });
    if (process.env.CI === 'true') expect(info.name).toBe('tensorflow');
    // tensorflow-gpu is only tried on machines with an NVIDIA device
    const gpu = info.attempts.find((a: { name: string }) => a.name === 'tensorflow-gpu');
    expect(gpu?.ok ?? false).toBe(false);
  });

  test.each(['cpu', 'wasm'])('STELLAR_EMU_BACKEND=%s forces that backend', (name) => {
    const r = selectIn({ STELLAR_EMU_BACKEND: name });
    expect(r.status, r.err).toBe(0);
    const info = JSON.parse(r.out.trim().split('\n').pop()!);
    expect(info.name).toBe(name);
    expect(info.tfjsBackend).toBe(name);
    expect(info.forced).toBe(true);
  });

  test('a forced backend that cannot load fails clearly instead of falling back', () => {
    const r = selectIn({ STELLAR_EMU_BACKEND: 'tensorflow-gpu', CUDA_VISIBLE_DEVICES: '-1' });
    expect(r.status).toBe(3);
    expect(r.err).toMatch(/backend 'tensorflow-gpu' was requested .* cannot be loaded/);
  });

  test('an unknown backend name is rejected', () => {
    const r = selectIn({ STELLAR_EMU_BACKEND: 'tpu' });
    expect(r.status).toBe(3);
    expect(r.err).toMatch(/STELLAR_EMU_BACKEND='tpu' is not one of/);
  });

  test('falls back past a native binding that fails to load', () => {
    // Point the native module at one that does not exist: the import really fails, and the
    // selection must fall back to wasm (no GPU here, so tensorflow-gpu is skipped too).
    const r = selectIn({
      STELLAR_EMU_TFJS_NODE_MODULE: '@stellar-emu/no-such-binding',
      CUDA_VISIBLE_DEVICES: '-1',
    });
    expect(r.status, r.err).toBe(0);
    const info = JSON.parse(r.out.trim().split('\n').pop()!);
    expect(info.name).toBe('wasm');
    expect(info.attempts.find((a: { name: string }) => a.name === 'tensorflow').ok).toBe(false);
    expect(info.reason).toMatch(/selected after .*tensorflow: /);
  });
});
