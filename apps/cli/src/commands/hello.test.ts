// `stellar-emu hello` end to end on the real dev server: CLI -> workflow -> worker process -> tfjs.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { leaseDevServer, type Lease } from '@stellar-emu/tools/temporal-server';

const cli = fileURLToPath(new URL('../../dist/main.js', import.meta.url));

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], {
      env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '3' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('stellar-emu hello', () => {
  let server: Lease;
  beforeAll(async () => {
    server = await leaseDevServer();
  });
  afterAll(async () => {
    await server?.release();
  });

  test('prints the greeting and the norm computed by a worker on the dev server', async () => {
    const taskQueue = `hello-cli-${process.pid}`;
    const r = await run([
      'hello',
      '--name',
      'Vega',
      '--size',
      '16',
      '--seed',
      '3',
      '--address',
      server.address,
      '--task-queue',
      taskQueue,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /^hello Vega from workflow hello-[0-9a-f-]+: activity on backend (tensorflow-gpu|tensorflow|wasm|cpu) computed \|\|A·B\|\|_F = \d+\.\d+ \(16x16, seed 3, /,
    );
    if (process.env.CI === 'true') expect(r.stdout).toMatch(/on backend tensorflow computed/);
  });
});
