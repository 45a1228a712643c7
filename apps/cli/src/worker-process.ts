// A worker as a child process of the CLI (the CLI depends on the workflows only, never on
// apps/worker or @temporalio/worker): start it, wait until it polls, stop it gracefully.
import { spawn, type ChildProcess } from 'node:child_process';
import { workerEntry } from './repo.js';

const WORKER_READY_TIMEOUT_MS = 180_000;

/**
 * Run `node apps/worker/dist/main.js` as a child process and wait for its "worker ready" line.
 * (A child process, not an in-process worker: the CLI depends on the workflows only, never on
 * apps/worker or @temporalio/worker.)
 */
export async function startWorker(
  args: string[],
  entry: string = workerEntry(),
): Promise<{ child: ChildProcess; stop: () => Promise<void>; stderrTail: () => string }> {
  const child = spawn(process.execPath, [entry, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: process.env,
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-20_000);
  });
  await new Promise<void>((resolve, reject) => {
    let stdout = '';
    const timer = setTimeout(
      () => fail(new Error(`the worker did not become ready within ${WORKER_READY_TIMEOUT_MS / 1000} s`)),
      WORKER_READY_TIMEOUT_MS,
    );
    const fail = (err: Error): void => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`${err.message}\n${stderr.split('\n').slice(-20).join('\n')}`));
    };
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (stdout.includes('worker ready')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code, signal) =>
      fail(new Error(`the worker exited (${signal ?? `code ${code}`}) before it was ready`)),
    );
    child.once('error', (err) => fail(err));
  });
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(timer);
  };
  return { child, stop, stderrTail: () => stderr.split('\n').slice(-12).join('\n') };
}

/** Why a worker process ended, in words a user can act on. */
export function exitReason(code: number | null, signal: NodeJS.Signals | null): string {
  if (signal === 'SIGKILL')
    return 'SIGKILL: killed from outside the process, most often by the kernel when memory ran out (see `dmesg`)';
  if (signal) return `signal ${signal}`;
  return `exit code ${code}`;
}

/**
 * A worker that is started again when it dies unexpectedly (a crash, the out-of-memory killer):
 * each death is reported on stderr with its reason and the end of the worker's own stderr, and
 * Temporal hands the interrupted activity to the new worker, which resumes it from its last
 * checkpoint. At most `maxRestarts` restarts; then the death is final and says so.
 */
export async function startSupervisedWorker(
  args: string[],
  name: string,
  opts: { maxRestarts?: number; log?: (line: string) => void; entry?: string } = {},
): Promise<{ readonly child: ChildProcess; readonly restarts: number; stop: () => Promise<void> }> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const maxRestarts = opts.maxRestarts ?? 5;
  let current = await startWorker(args, opts.entry);
  let stopping = false;
  let restarts = 0;
  const watch = (w: Awaited<ReturnType<typeof startWorker>>): void => {
    w.child.once('exit', (code, signal) => {
      if (stopping) return;
      const tail = w.stderrTail().trim();
      log(
        `[${name} worker] pid ${w.child.pid} exited unexpectedly (${exitReason(code, signal)})${tail ? `; its last output:\n${tail}` : ''}`,
      );
      if (restarts >= maxRestarts) {
        log(
          `[${name} worker] not restarted again (${maxRestarts} restarts): its work waits for a worker on this task queue`,
        );
        return;
      }
      restarts++;
      startWorker(args, opts.entry).then(
        (next) => {
          current = next;
          log(
            `[${name} worker] restarted as pid ${next.child.pid} (restart ${restarts} of ${maxRestarts}); the interrupted activity resumes from its last checkpoint`,
          );
          if (stopping) void next.stop();
          else watch(next);
        },
        (err: unknown) =>
          log(`[${name} worker] could not be restarted: ${err instanceof Error ? err.message : String(err)}`),
      );
    });
  };
  watch(current);
  return {
    get child() {
      return current.child;
    },
    get restarts() {
      return restarts;
    },
    stop: async () => {
      stopping = true;
      await current.stop();
    },
  };
}
