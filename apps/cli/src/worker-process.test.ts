// The CLI's worker supervision: a worker killed from outside is reported with its reason and started again.
import { writeFile } from 'node:fs/promises';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exitReason, startSupervisedWorker } from './worker-process.js';

/** A stand-in worker process: says "worker ready" like apps/worker, writes to stderr, then idles. */
async function fakeWorker(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'fake-worker-'));
  const path = join(dir, 'worker.mjs');
  await writeFile(
    path,
    "process.stderr.write('loading the model\\n'); console.log('worker ready'); process.on('SIGTERM', () => process.exit(0)); setInterval(() => {}, 1000);\n",
  );
  return path;
}

const until = async (cond: () => boolean, ms = 20_000) => {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
};

test('a SIGKILLed worker is reported (reason, its last stderr) and restarted; stop() ends it for good', async () => {
  const lines: string[] = [];
  const w = await startSupervisedWorker(['--task-queue', 'gpu'], 'gpu', {
    entry: await fakeWorker(),
    log: (l) => lines.push(l),
    maxRestarts: 1,
  });
  const first = w.child.pid!;
  w.child.kill('SIGKILL');
  await until(() => w.child.pid !== first && lines.some((l) => l.includes('restarted')));
  expect(lines[0]).toMatch(
    new RegExp(`\\[gpu worker\\] pid ${first} exited unexpectedly \\(SIGKILL: .*memory ran out`),
  );
  expect(lines[0]).toContain('loading the model');
  expect(w.restarts).toBe(1);
  // Past maxRestarts the death is final and says so.
  const second = w.child;
  second.kill('SIGKILL');
  await until(() => lines.some((l) => l.includes('not restarted again')));
  expect(w.child).toBe(second);
  await w.stop();
  // A stop is not a death: nothing more is reported.
  const n = lines.length;
  const w2 = await startSupervisedWorker([], 'cpu', { entry: await fakeWorker(), log: (l) => lines.push(l) });
  await w2.stop();
  await new Promise((r) => setTimeout(r, 200));
  expect(lines.length).toBe(n);
  expect(exitReason(3, null)).toBe('exit code 3');
}, 60_000);
