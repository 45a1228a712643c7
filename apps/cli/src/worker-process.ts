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
export async function startWorker(args: string[]): Promise<{ child: ChildProcess; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, [workerEntry(), ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-20_000);
  });
  await new Promise<void>((resolve, reject) => {
    let stdout = '';
    const timer = setTimeout(() => fail(new Error(`the worker did not become ready within ${WORKER_READY_TIMEOUT_MS / 1000} s`)), WORKER_READY_TIMEOUT_MS);
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
    child.once('exit', (code, signal) => fail(new Error(`the worker exited (${signal ?? `code ${code}`}) before it was ready`)));
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
  return { child, stop };
}

