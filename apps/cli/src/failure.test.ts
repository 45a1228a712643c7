import { WorkflowFailedError } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure, ChildWorkflowFailure, RetryState } from '@temporalio/common';
import { describeFailure, EXIT_CODES, exitCodeFor, formatFailure } from './failure.js';
import { connectClient, resolveTemporalConfig, TemporalUnreachableError } from './temporal.js';

describe('the root cause of a failed workflow', () => {
  test('a pipeline whose ingest activity refused a deck: the step, the activity, the error type and the file:line message', () => {
    const app = ApplicationFailure.nonRetryable(
      '/data/grid/bad.dat:17: TEFF card expected, got "TEF 5750"',
      'DeckParseError',
    );
    const activity = new ActivityFailure(
      'Activity task failed',
      'prepareDatasetStep',
      '1',
      RetryState.NON_RETRYABLE_FAILURE,
      'worker@host',
      app,
    );
    const child = new ChildWorkflowFailure(
      'default',
      { workflowId: 'run-7.ingest-atmospheres', runId: 'r' },
      'ingestGrid',
      RetryState.NON_RETRYABLE_FAILURE,
      activity,
    );
    const err = new WorkflowFailedError('Workflow execution failed', child, RetryState.NON_RETRYABLE_FAILURE);
    const d = describeFailure(err, 'run-7')!;
    expect(d).toMatchObject({
      workflows: ['run-7', 'run-7.ingest-atmospheres'],
      activity: 'prepareDatasetStep',
      type: 'DeckParseError',
      retry: 'not retryable',
    });
    expect(formatFailure(d)).toBe(
      'ingest-atmospheres › prepareDatasetStep failed (DeckParseError, not retryable): /data/grid/bad.dat:17: TEFF card expected, got "TEF 5750"',
    );
    expect(describeFailure(new Error('plain'))).toBeNull();
  });

  test('retries exhausted on a disk error is said so', () => {
    const app = ApplicationFailure.retryable('ENOSPC: no space left on device, write', 'Error');
    const activity = new ActivityFailure(
      'Activity task failed',
      'trainChunk',
      '3',
      RetryState.MAXIMUM_ATTEMPTS_REACHED,
      'w',
      app,
    );
    const err = new WorkflowFailedError(
      'Workflow execution failed',
      activity,
      RetryState.NON_RETRYABLE_FAILURE,
    );
    expect(formatFailure(describeFailure(err)!)).toBe(
      'trainChunk failed (Error, retries exhausted): ENOSPC: no space left on device, write',
    );
  });
});

describe('exit codes', () => {
  test('a failed step exits 3, Temporal unreachable 4 (with how to start one), anything else 1', async () => {
    const failed = new WorkflowFailedError(
      'Workflow execution failed',
      ApplicationFailure.nonRetryable('bad', 'InputError'),
      RetryState.NON_RETRYABLE_FAILURE,
    );
    expect(exitCodeFor(failed)).toBe(EXIT_CODES.stepFailed);
    expect(exitCodeFor(new Error('--n must be a number'))).toBe(1);
    // Nothing listens on port 1.
    const err = await connectClient(resolveTemporalConfig({ address: '127.0.0.1:1' })).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(TemporalUnreachableError);
    expect((err as Error).message).toMatch(
      /Temporal is unreachable at 127\.0\.0\.1:1 .*stellar-emu dev start/,
    );
    expect(exitCodeFor(err)).toBe(4);
  }, 60_000);
});
