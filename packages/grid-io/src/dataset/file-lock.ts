// One lock file, across processes on one file system: created exclusively, naming its holder
// (host, pid); broken when its holder is gone. The project's one lock (folder swaps, the worker's
// once-per-key steps).
import { hostname } from 'node:os';
import { readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';

/**
 * Whether process `pid` of this host is alive: the calling process always is; a process of
 * another user counts as alive (signal 0 is refused with EPERM, not ESRCH).
 */
export function pidAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Options of {@link withFileLock}. */
export interface FileLockOptions {
  /** A lock file unmodified for longer than this is a dead holder's and is broken (ms). */
  staleMs: number;
  /**
   * The holder touches the lock file this often while it works (ms), so that a long hold never
   * looks stale; omit for holds far shorter than `staleMs`.
   */
  touchMs?: number;
  /** Called each time the lock is found held by a live holder, before waiting to try again. */
  onWait?: () => void;
  /** Wait between attempts: uniform in [min, max) ms. Default [250, 500]. */
  retryMs?: readonly [number, number];
  /** Give up with an error after waiting this long for a live holder (ms). Default: no limit. */
  timeoutMs?: number;
}

/**
 * Whether the lock at `path` is a dead holder's: unmodified for more than `staleMs`, or naming a
 * process of this host that no longer runs. A lock that vanished meanwhile, or whose owner line
 * is still being written, is not (look again).
 */
async function lockIsStale(path: string, staleMs: number): Promise<boolean> {
  let mtimeMs: number;
  try {
    mtimeMs = (await stat(path)).mtimeMs;
  } catch {
    return false;
  }
  if (Date.now() - mtimeMs > staleMs) return true;
  let owner: { host?: unknown; pid?: unknown } | null;
  try {
    owner = JSON.parse(await readFile(path, 'utf8')) as typeof owner;
  } catch {
    return false;
  }
  return owner?.host === hostname() && typeof owner.pid === 'number' && !pidAlive(owner.pid);
}

/**
 * Run `fn` holding the lock file `path`: created exclusively (`wx`) with its holder
 * `{"host", "pid"}`; while another holder has it, wait and try again (`retryMs`, `onWait`). A lock
 * is broken when stale: unmodified for more than `staleMs` (the holder touches it every `touchMs`
 * while `fn` runs), or held by a process of this host that is gone (a killed worker). Removed
 * when `fn` settles. Processes on one file system exclude each other; so do calls of one process.
 */
export async function withFileLock<T>(path: string, fn: () => Promise<T>, opts: FileLockOptions): Promise<T> {
  const owner = `${JSON.stringify({ host: hostname(), pid: process.pid })}\n`;
  const [minWait, maxWait] = opts.retryMs ?? [250, 500];
  const deadline = opts.timeoutMs === undefined ? Infinity : Date.now() + opts.timeoutMs;
  for (;;) {
    try {
      await writeFile(path, owner, { flag: 'wx' });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    if (await lockIsStale(path, opts.staleMs)) {
      await rm(path, { force: true });
      continue;
    }
    if (Date.now() > deadline)
      throw new Error(
        `${path}: another process has held this lock for more than ${opts.timeoutMs! / 1000} s`,
      );
    opts.onWait?.();
    await new Promise((r) => setTimeout(r, minWait + Math.floor(Math.random() * (maxWait - minWait))));
  }
  const touch = opts.touchMs
    ? setInterval(() => void utimes(path, new Date(), new Date()).catch(() => {}), opts.touchMs)
    : null;
  try {
    return await fn();
  } finally {
    if (touch) clearInterval(touch);
    await rm(path, { force: true });
  }
}
