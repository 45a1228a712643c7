// Backend throughput: a 2560x1024 by 1024x1024 matmul on each backend that loads here.
import { spawnSync } from 'node:child_process';
import { runSuite } from './lib.mjs';

const probe = `
const { initBackend, tf } = await import('@stellar-emu/nn-core');
const info = await initBackend({ quiet: true });
const [m, k, n] = info.name === 'cpu' ? [256, 256, 256] : [2560, 1024, 1024];
const a = tf.randomNormal([m, k]); const b = tf.randomNormal([k, n]);
tf.matMul(a, b).dispose();
const reps = info.name === 'cpu' ? 3 : 10;
const t0 = performance.now();
for (let i = 0; i < reps; i++) { const c = tf.matMul(a, b); await c.data(); c.dispose(); }
const s = (performance.now() - t0) / 1000 / reps;
console.log(JSON.stringify({ backend: info.name, gflops: (2 * m * k * n) / s / 1e9, shape: [m, k, n] }));
`;

await runSuite('backend-matmul', async (record) => {
  for (const backend of ['tensorflow', 'wasm', 'cpu']) {
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', probe], {
      encoding: 'utf8',
      env: { ...process.env, STELLAR_EMU_BACKEND: backend },
    });
    if (r.status !== 0) {
      record(
        `matmul GFLOP/s [${backend}]`,
        0,
        'GFLOP/s',
        `unavailable: ${r.stderr.trim().split('\n').pop()}`,
      );
      continue;
    }
    const res = JSON.parse(/** @type {string} */ (r.stdout.trim().split('\n').pop()));
    record(`matmul GFLOP/s [${backend}]`, +res.gflops.toFixed(2), 'GFLOP/s', `shape ${res.shape.join('x')}`);
  }
});
