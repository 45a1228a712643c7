import { mkdtempSync, readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { initBackend, tf } from './backend.js';
import { EarlyStopping } from './schedules.js';
import { assertBitwiseEqual } from './testing.js';
import { CheckpointError } from './checkpoint.js';
import { findResumableCheckpoint, latestCheckpoint, type Progress } from './train.js';
import { config, interruptAtRandomStep, run } from '../test/train-fixture.js';

beforeAll(async () => {
  await initBackend({ force: 'cpu', quiet: true });
});

test('resuming from an interrupted run, and from any checkpoint, ends bitwise where the uninterrupted run ends', async () => {
  const ref = await run(mkdtempSync(join(tmpdir(), 'ref-')));
  expect(ref.result.globalStep).toBe(3 * 13);

  const dir = mkdtempSync(join(tmpdir(), 'int-'));
  const stopAt = await interruptAtRandomStep(dir, ref.result.globalStep);
  tf.disposeVariables();
  const latest = await latestCheckpoint(dir);
  const resumed = await run(dir, { resumeFrom: 'latest' }, 12345);
  for (const [k, v] of ref.snap)
    assertBitwiseEqual(
      resumed.snap.get(k)!.data,
      v.data,
      `${k} (interrupted at ${stopAt}, resumed from ${latest})`,
    );
  expect(resumed.result.history).toEqual(ref.result.history);

  // Every third checkpoint of a complete run, resumed with a different initial seed.
  const full = mkdtempSync(join(tmpdir(), 'full-'));
  await run(full);
  const ckpts = readdirSync(full)
    .filter((f) => f.startsWith('ckpt-'))
    .sort();
  expect(ckpts.length).toBeGreaterThan(8);
  for (const f of ckpts.filter((_, i) => i % 3 === 1)) {
    const r = await run(mkdtempSync(join(tmpdir(), 'res-')), { resumeFrom: join(full, f) }, 777);
    for (const [k, v] of ref.snap) assertBitwiseEqual(r.snap.get(k)!.data, v.data, `${k} resumed from ${f}`);
  }
});

test('resuming with a different config is refused', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
  await run(dir, { epochs: 1 });
  await expect(
    run(dir, { resumeFrom: 'latest', config: { ...config, widths: [16, 16, 2], other: 1 } }),
  ).rejects.toThrow(/different config/);
  await expect(run(mkdtempSync(join(tmpdir(), 'empty-')), { resumeFrom: 'latest' })).rejects.toThrow(
    /no checkpoint to resume from/,
  );
});

test('no tensor leaks: tf.memory().numTensors is constant per step after warm-up', async () => {
  for (const every of [1, 3]) {
    const counts: number[] = [];
    await run(mkdtempSync(join(tmpdir(), 'leak-')), {
      epochs: 2,
      reportEverySteps: every,
      reportEverySeconds: Number.POSITIVE_INFINITY,
      checkpointEverySteps: 5,
      onProgress: (p) => {
        if (p.phase === 'step') counts.push(tf.memory().numTensors);
      },
    });
    expect(counts.length).toBeGreaterThan(5);
    expect(new Set(counts.slice(1)).size, `counts ${counts}`).toBe(1);
  }
});

test('progress reports carry epoch, step, losses and samples/s; early stopping ends the run', async () => {
  const reports: Progress[] = [];
  const { result } = await run(mkdtempSync(join(tmpdir(), 'prog-')), {
    epochs: 50,
    reportEverySteps: 5,
    // Step cadence only here (the time trigger is tested below).
    reportEverySeconds: Number.POSITIVE_INFINITY,
    earlyStopping: new EarlyStopping({ patience: 1, relMinDelta: 0.5 }),
    onProgress: (p) => void reports.push(p),
  });
  expect(result.stoppedEarly).toBe(true);
  expect(result.epochsDone).toBeLessThan(50);
  const step = reports.find((r) => r.phase === 'step')!;
  expect(step.globalStep).toBe(5);
  expect(step.losses.total).toBeGreaterThan(0);
  expect(step.losses.l1).toBeGreaterThan(0);
  expect(step.samplesPerSec).toBeGreaterThan(0);
  const epoch = reports.find((r) => r.phase === 'epoch')!;
  expect(epoch.valLoss).toBeGreaterThan(0);
  expect(reports.some((r) => r.phase === 'checkpoint')).toBe(true);
});

test("a resume of a run that stopped early trains no further; the 'start' report names the checkpoint and step it resumed from", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'stopped-'));
  const stopper = () => new EarlyStopping({ patience: 1, relMinDelta: 0.5 });
  const first = await run(dir, { epochs: 50, earlyStopping: stopper() });
  expect(first.result.stoppedEarly).toBe(true);
  const reports: Progress[] = [];
  const again = await run(dir, {
    epochs: 50,
    earlyStopping: stopper(),
    resumeFrom: 'latest',
    onProgress: (p) => void reports.push(p),
  });
  expect(again.result.stoppedEarly).toBe(true);
  expect(again.result.epochsDone).toBe(first.result.epochsDone);
  expect(again.result.globalStep).toBe(first.result.globalStep);
  expect(again.result.resumedFromStep).toBe(first.result.globalStep);
  expect(reports.some((r) => r.phase === 'step')).toBe(false);
  const start = reports.find((r) => r.phase === 'start')!;
  expect(start.resumedFromStep).toBe(first.result.globalStep);
  expect(start.resumedFrom).toBe(first.result.finalCheckpoint);
  // A fresh run's start report says so.
  const fresh: Progress[] = [];
  await run(mkdtempSync(join(tmpdir(), 'fresh-')), { epochs: 1, onProgress: (p) => void fresh.push(p) });
  expect(fresh[0]).toMatchObject({ phase: 'start', globalStep: 0, resumedFromStep: 0, resumedFrom: null });
});

test('checkpoint retention keeps the newest N of every kind (step, epoch-end, final, earlier attempts) and resumes from the newest', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'keep-'));
  const names = () =>
    readdirSync(dir)
      .filter((n) => /^ckpt-\d+\.safetensors$/.test(n))
      .sort();
  // First attempt: 2 epochs of 13 steps, step checkpoints every 4 and at epoch ends.
  await run(dir, { epochs: 2, keepCheckpoints: 2 });
  expect(names()).toEqual(['ckpt-0000000024.safetensors', 'ckpt-0000000026.safetensors']);
  // A second attempt resuming from it prunes what the first left, too.
  await run(dir, { keepCheckpoints: 2, resumeFrom: 'latest' });
  expect(names()).toEqual(['ckpt-0000000036.safetensors', 'ckpt-0000000039.safetensors']);
  expect(await latestCheckpoint(dir)).toBe(join(dir, 'ckpt-0000000039.safetensors'));
});

test('a truncated newest checkpoint: resume falls back to the newest that verifies, renames the bad one aside with a warning, clears leftover temp files, and ends bitwise where the uninterrupted run ends', async () => {
  const ref = await run(mkdtempSync(join(tmpdir(), 'ref-')));
  const dir = mkdtempSync(join(tmpdir(), 'corrupt-'));
  // From step 9 on there are at least two checkpoints (steps 4 and 8): one to lose, one to resume from.
  const stopAt = await interruptAtRandomStep(dir, ref.result.globalStep, 9);
  tf.disposeVariables();
  const newest = (await latestCheckpoint(dir))!;
  const size = statSync(newest).size;
  truncateSync(newest, Math.floor(size / 2));
  const truncated = readFileSync(newest);
  // A checkpoint write that a crash interrupted leaves its temporary file behind.
  const leftover = join(dir, '.ckpt-0000000999.safetensors.tmp-4242-1700000000000');
  writeFileSync(leftover, 'half a checkpoint');

  const warnings: string[] = [];
  const reported = new Set<string>();
  const resumed = await run(
    dir,
    {
      resumeFrom: 'latest',
      onWarning: (w) => void warnings.push(w),
      onProgress: (p) => void reported.add(JSON.stringify(p.checkpointWarnings ?? null)),
    },
    12345,
  );
  for (const [k, v] of ref.snap)
    assertBitwiseEqual(
      resumed.snap.get(k)!.data,
      v.data,
      `${k} (interrupted at ${stopAt}, newest checkpoint ${basename(newest)} truncated)`,
    );
  expect(resumed.result.history).toEqual(ref.result.history);

  expect(warnings).toHaveLength(1);
  expect(warnings[0]).toContain(newest);
  expect(warnings[0]).toMatch(
    /corrupt \(.*(truncated|exceeds the file size|checksum mismatch).*\); renamed to ckpt-\d+\.safetensors\.corrupt-/,
  );
  expect(resumed.result.checkpointWarnings).toEqual(warnings);
  // Every progress report of the resumed run carries the warning.
  expect([...reported]).toEqual([JSON.stringify(warnings)]);
  const names = readdirSync(dir);
  const aside = names.filter((n) => n.startsWith(`${basename(newest)}.corrupt-`));
  expect(aside).toHaveLength(1);
  expect(readFileSync(join(dir, aside[0]))).toEqual(truncated);
  expect(names.filter((n) => n.includes('.tmp-'))).toEqual([]);
  // The bad file is aside: the newest checkpoint now is the run's valid final one.
  expect((await findResumableCheckpoint(dir)).warnings).toEqual([]);
});

test('a directory holding only corrupt checkpoints fails with a message naming each of them, and leaves them in place', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'all-corrupt-'));
  await run(dir, { epochs: 1 });
  const ckpts = readdirSync(dir)
    .filter((n) => n.startsWith('ckpt-'))
    .sort();
  expect(ckpts.length).toBe(4); // steps 4, 8, 12 and the final 13
  truncateSync(join(dir, ckpts[0]), 100);
  const flipped = readFileSync(join(dir, ckpts[1]));
  flipped[flipped.length - 5] ^= 0x01;
  writeFileSync(join(dir, ckpts[1]), flipped);
  truncateSync(join(dir, ckpts[2]), statSync(join(dir, ckpts[2])).size - 8);
  writeFileSync(join(dir, ckpts[3]), 'not a checkpoint at all');

  const err = await findResumableCheckpoint(dir).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(CheckpointError);
  const message = (err as Error).message;
  expect(message).toMatch(/no checkpoint to resume from verifies/);
  for (const n of ckpts) expect(message).toContain(n);
  expect(message).toMatch(/checksum mismatch/);
  expect(message).toMatch(/truncated/);
  await expect(run(dir, { epochs: 1, resumeFrom: 'latest' })).rejects.toThrow(
    /no checkpoint to resume from verifies/,
  );
  tf.disposeVariables();
  expect(readdirSync(dir).sort()).toEqual(ckpts);
});

test('progress is reported by time too: with a step cadence that never fires, a 0 s interval reports every step, and the weights do not depend on it', async () => {
  const steps: number[] = [];
  const a = await run(mkdtempSync(join(tmpdir(), 'prog-time-')), {
    epochs: 1,
    reportEverySteps: 1e9,
    reportEverySeconds: 0,
    onProgress: (p) => void (p.phase === 'step' && steps.push(p.globalStep)),
  });
  expect(steps).toEqual(Array.from({ length: steps.length }, (_, i) => i + 1));
  expect(steps.length).toBeGreaterThan(2);
  const b = await run(mkdtempSync(join(tmpdir(), 'prog-steps-')), {
    epochs: 1,
    reportEverySteps: 1e9,
    reportEverySeconds: Number.POSITIVE_INFINITY,
  });
  expect(a.result.history).toEqual(b.result.history);
  expect(a.snap).toEqual(b.snap);
});

test('keep-best: onBest fires on every new lowest validation loss, and the best survives a resume', async () => {
  const calls: { epoch: number; loss: number }[] = [];
  const ref = await run(mkdtempSync(join(tmpdir(), 'best-')), {
    epochs: 6,
    onBest: (b) => void calls.push({ ...b }),
  });
  const vals = ref.result.history.map((h) => h.valLoss!);
  // the closed form: the running minima of the validation curve, in order
  const expected: { epoch: number; loss: number }[] = [];
  vals.forEach((v, e) => {
    if (expected.length === 0 || v < expected.at(-1)!.loss) expected.push({ epoch: e, loss: v });
  });
  expect(calls).toEqual(expected);
  expect(ref.result.best).toEqual(expected.at(-1));

  // Two chunks: the second call fires only on losses below the first chunk's best.
  const dir = mkdtempSync(join(tmpdir(), 'best2-'));
  const first: typeof calls = [];
  const second: typeof calls = [];
  await run(dir, { epochs: 3, config: { ...config, epochs: 6 }, onBest: (b) => void first.push({ ...b }) });
  const r2 = await run(dir, {
    epochs: 6,
    config: { ...config, epochs: 6 },
    resumeFrom: 'latest',
    onBest: (b) => void second.push({ ...b }),
  });
  expect([...first, ...second].map((c) => c.epoch)).toEqual(expected.map((c) => c.epoch));
  expect(r2.result.best).toEqual(ref.result.best);
});

test('time budget: maxSeconds stops at the first epoch end, not as an early stop, and a resume ends where an uninterrupted run ends', async () => {
  const ref = await run(mkdtempSync(join(tmpdir(), 'ref-')));
  const dir = mkdtempSync(join(tmpdir(), 'budget-'));
  const cut = await run(dir, { maxSeconds: 0 });
  expect(cut.result.epochsDone).toBe(1);
  expect(cut.result.budgetSpent).toBe(true);
  expect(cut.result.stoppedEarly).toBe(false);
  expect(cut.result.finalCheckpoint).not.toBeNull();
  tf.disposeVariables();
  const rest = await run(dir, { resumeFrom: 'latest' });
  expect(rest.result.budgetSpent).toBe(false);
  expect(rest.result.resumedFromStep).toBe(cut.result.globalStep);
  for (const [k, v] of ref.snap)
    assertBitwiseEqual(rest.snap.get(k)!.data, v.data, `${k} after a budget stop and resume`);
});

test("resume 'latest-if-any': a fresh start in an empty folder; a fresh start deletes an earlier run's checkpoints", async () => {
  const ref = await run(mkdtempSync(join(tmpdir(), 'ref-')));
  const dir = mkdtempSync(join(tmpdir(), 'any-'));
  const fresh = await run(dir, { resumeFrom: 'latest-if-any' });
  expect(fresh.result.resumedFromStep).toBe(0);
  for (const [k, v] of ref.snap) assertBitwiseEqual(fresh.snap.get(k)!.data, v.data, `${k} (fresh start)`);
  const before = readdirSync(dir).filter((f) => f.startsWith('ckpt-'));
  expect(before.length).toBeGreaterThan(3);
  // A new, shorter run into the same folder: none of the old run's checkpoints is left behind.
  const short = await run(dir, { epochs: 1 });
  const after = readdirSync(dir).filter((f) => f.startsWith('ckpt-'));
  const steps = after.map((f) => Number(/ckpt-(\d+)/.exec(f)![1]));
  expect(Math.max(...steps)).toBe(short.result.globalStep);
  // ... so a later resume continues the new run, not the old one.
  const again = await run(dir, { epochs: 1, resumeFrom: 'latest-if-any' });
  expect(again.result.resumedFromStep).toBe(short.result.globalStep);
});
