// Replay of a committed history (recorded from a real run on the dev server with
// STELLAR_EMU_RECORD_HISTORY=1): the current workflow code must replay it, a changed one must not.
import { readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Worker } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { bundlerOptions, resolveWorkflowsPath } from './worker.js';

const historyFile = fileURLToPath(new URL('../test/histories/hello.json', import.meta.url));
const nondeterministicWorkflows = fileURLToPath(
  new URL('../test/workflows-nondeterministic.ts', import.meta.url),
);

async function loadHistory(): Promise<unknown> {
  return JSON.parse(await readFile(historyFile, 'utf8'));
}

describe('hello workflow replay', () => {
  test('replays the committed history with the current code', async () => {
    const history = await loadHistory();
    await expect(
      Worker.runReplayHistory({ workflowsPath: resolveWorkflowsPath(), bundlerOptions }, history),
    ).resolves.toBeUndefined();
  });

  test('a workflow that sleeps before its activity violates determinism', async () => {
    const history = await loadHistory();
    await expect(
      Worker.runReplayHistory({ workflowsPath: nondeterministicWorkflows, bundlerOptions }, history),
    ).rejects.toThrow(DeterminismViolationError);
  });
});

/** Every workflow of the pipeline has a committed history, recorded from the e2e tests. */
const PIPELINE_WORKFLOWS = [
  'pipeline',
  'ingestGrid',
  'splitDataset',
  'trainPinn',
  'trainCvae',
  'validateCvae',
  'generateReport',
  'scheduledRetrain',
  'sweep',
];
const historiesDir = fileURLToPath(new URL('../test/histories/', import.meta.url));

describe('pipeline workflows replay', () => {
  const files = readdirSync(historiesDir).filter((f) => f.endsWith('.json') && f !== 'workflow-ids.json');

  test('a history is committed for every pipeline workflow', () => {
    for (const name of PIPELINE_WORKFLOWS) expect(files, `${name}.json`).toContain(`${name}.json`);
  });

  test.each(PIPELINE_WORKFLOWS)('replays the committed %s history with the current code', async (name) => {
    const history = JSON.parse(await readFile(`${historiesDir}${name}.json`, 'utf8'));
    // Child workflow ids derive from the parent's id, so replay needs the recorded one.
    const ids = JSON.parse(await readFile(`${historiesDir}workflow-ids.json`, 'utf8')) as Record<
      string,
      string
    >;
    await expect(
      Worker.runReplayHistory({ workflowsPath: resolveWorkflowsPath(), bundlerOptions }, history, ids[name]),
    ).resolves.toBeUndefined();
  });
});

test('a pipeline whose ingest child gets a different id violates determinism', async () => {
  const history = JSON.parse(await readFile(`${historiesDir}pipeline.json`, 'utf8'));
  await expect(
    Worker.runReplayHistory({ workflowsPath: resolveWorkflowsPath(), bundlerOptions }, history, 'another-id'),
  ).rejects.toThrow(DeterminismViolationError);
});
