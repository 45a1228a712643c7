// The root cause of a failed workflow, as one line a user can act on (not "Workflow execution failed").
import { WorkflowFailedError } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure, ChildWorkflowFailure } from '@temporalio/common';
import { TemporalUnreachableError } from './temporal.js';

/** What failed where: the workflow path down to the activity, and the deepest message. */
export interface FailureDescription {
  /** Workflow ids from the outermost to the one whose activity failed. */
  workflows: string[];
  /** The activity type that failed, when an activity did. */
  activity: string | null;
  /** The root cause's message (file:line where the activity named one) and its error type. */
  message: string;
  type: string | null;
  /** 'not retryable' (bad input), 'retries exhausted', or another Temporal retry state. */
  retry: string | null;
}

const RETRY_WORDS: Record<string, string> = {
  NON_RETRYABLE_FAILURE: 'not retryable',
  MAXIMUM_ATTEMPTS_REACHED: 'retries exhausted',
  TIMEOUT: 'timed out',
};

/** Walk a Temporal failure chain (workflow → child workflows → activity → application failure). */
export function describeFailure(err: unknown, workflowId?: string): FailureDescription | null {
  if (!(err instanceof WorkflowFailedError)) return null;
  const out: FailureDescription = {
    workflows: workflowId ? [workflowId] : [],
    activity: null,
    message: err.message,
    type: null,
    retry: null,
  };
  let e: unknown = err.cause;
  while (e instanceof Error) {
    if (e instanceof ChildWorkflowFailure) out.workflows.push(e.execution.workflowId ?? e.workflowType);
    else if (e instanceof ActivityFailure) {
      out.activity = e.activityType;
      out.retry = RETRY_WORDS[String(e.retryState)] ?? (e.retryState ? String(e.retryState) : null);
    } else if (e instanceof ApplicationFailure) {
      out.type = e.type ?? null;
    }
    out.message = e.message;
    e = (e as { cause?: unknown }).cause;
  }
  return out;
}

/** One line: `step <child> › <activity> failed (<type>, <retry>): <message>`. */
export function formatFailure(d: FailureDescription): string {
  const last = d.workflows.at(-1);
  const root = d.workflows[0];
  const step = last && root && last.startsWith(`${root}.`) ? last.slice(root.length + 1) : last;
  const where = [step, d.activity].filter(Boolean).join(' › ');
  const why = [d.type, d.retry].filter(Boolean).join(', ');
  return `${where ? `${where} failed` : 'failed'}${why ? ` (${why})` : ''}: ${d.message}`;
}

/**
 * The CLI's exit codes: 1 usage and input errors, 2 a threshold failed (the report's checks, the
 * recovery verdicts), 3 a workflow step failed, 4 Temporal unreachable.
 */
export const EXIT_CODES = { input: 1, thresholds: 2, stepFailed: 3, temporalUnreachable: 4 } as const;

/** The exit code of an error that ended a command. */
export function exitCodeFor(err: unknown): number {
  if (err instanceof TemporalUnreachableError) return EXIT_CODES.temporalUnreachable;
  if (err instanceof WorkflowFailedError) return EXIT_CODES.stepFailed;
  return EXIT_CODES.input;
}
