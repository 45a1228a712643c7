// Heartbeats for long activities: throttled, carrying the latest progress, and the cancel signal.
import { Context } from '@temporalio/activity';

const drain = new AbortController();

/**
 * Ask long activities to stop at the next safe point (SIGTERM on the worker): training writes a
 * checkpoint and fails retryably, so another worker resumes from that checkpoint.
 */
export function requestDrain(): void {
  drain.abort(new Error('worker shutting down'));
}

/** Aborted when the worker drains. */
export const drainSignal: AbortSignal = drain.signal;

/** Whether this code runs inside a Temporal activity (tests may call activities directly). */
export function inActivity(): boolean {
  try {
    Context.current();
    return true;
  } catch {
    return false;
  }
}

/**
 * A heartbeat pump: `update(details)` records the latest progress; it is sent at most every
 * `everyMs` and at least every `everyMs` (a timer keeps heartbeating while a long step runs, so
 * cancellation reaches the activity). `stop()` clears the timer. One pump per activity: a second
 * one would alternate its details with the first's.
 */
export interface HeartbeatPump {
  update(details: unknown): void;
  stop(): void;
  signal: AbortSignal | undefined;
  previous: unknown;
}

export function heartbeatPump(everyMs = 3000): HeartbeatPump {
  if (!inActivity()) {
    return { update() {}, stop() {}, signal: undefined, previous: undefined };
  }
  const ctx = Context.current();
  let latest: unknown = undefined;
  let last = 0;
  const send = () => {
    last = Date.now();
    ctx.heartbeat(latest);
  };
  const timer = setInterval(send, everyMs);
  timer.unref();
  return {
    update(details: unknown) {
      latest = details;
      if (Date.now() - last >= everyMs) send();
    },
    stop() {
      clearInterval(timer);
    },
    signal: ctx.cancellationSignal,
    previous: ctx.info.heartbeatDetails,
  };
}
