import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../../dist/main.js', import.meta.url));

test('stellar-emu backend prints the selected backend and every attempt', () => {
  const r = spawnSync(process.execPath, [cli, 'backend', '--json'], {
    encoding: 'utf8',
    env: { ...process.env, STELLAR_EMU_BACKEND: 'wasm', TF_CPP_MIN_LOG_LEVEL: '3' },
  });
  expect(r.status, r.stderr).toBe(0);
  const info = JSON.parse(r.stdout);
  expect(info.name).toBe('wasm');
  expect(info.reason).toMatch(/forced by STELLAR_EMU_BACKEND=wasm/);

  const human = spawnSync(process.execPath, [cli, 'backend'], {
    encoding: 'utf8',
    env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '3' },
  });
  expect(human.status, human.stderr).toBe(0);
  expect(human.stdout).toMatch(/^(tensorflow-gpu|tensorflow|wasm|cpu) {2}\(/);
  if (process.env.CI === 'true') expect(human.stdout).toMatch(/^tensorflow {2}\(/);
});
