// Exact resume on the production backend: the default selection (tensorflow in CI, asserted
// there), where bitwise equality is not promised; resumed runs must end within a stated tolerance.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertAllClose } from '@stellar-emu/numerics/testing';
import { currentBackend, initBackend } from './backend.js';
import { requireProductionBackendInCi } from './testing.js';
import { interruptAtRandomStep, run } from '../test/train-fixture.js';

/** Stated tolerance of a resumed run against an uninterrupted one on a native backend. */
const NATIVE_RESUME_TOLERANCE = { rtol: 1e-5, atol: 1e-6 };

beforeAll(async () => {
  await initBackend({ quiet: true });
  requireProductionBackendInCi();
});

test('on the native backend, a run interrupted at a random step and resumed ends within rtol 1e-5 / atol 1e-6 of the uninterrupted run', async () => {
  const ref = await run(mkdtempSync(join(tmpdir(), 'nref-')));
  const dir = mkdtempSync(join(tmpdir(), 'nint-'));
  const stopAt = await interruptAtRandomStep(dir, ref.result.globalStep);
  const resumed = await run(dir, { resumeFrom: 'latest' }, 4242);
  expect(resumed.result.globalStep).toBe(ref.result.globalStep);
  for (const [k, v] of ref.snap)
    assertAllClose(resumed.snap.get(k)!.data, v.data, {
      ...NATIVE_RESUME_TOLERANCE,
      label: `${k} (${currentBackend()!.name}, interrupted at ${stopAt})`,
    });
  expect(resumed.result.history.length).toBe(ref.result.history.length);
});
