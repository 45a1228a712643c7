// One lock file, across processes on one file system: created exclusively, naming its holder
// (host, pid, a token of this hold); broken when its holder is gone. The project's one lock (folder swaps, the worker's
// once-per-key steps).
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { link, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';

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

/** What identifies one lock file: its inode and its text (inode numbers are reused at once; every holder's text has its own token). */
interface LockIdentity {
  ino: number;
  text: string;
}

/**
 * The identity of the lock at `path` when it is a dead holder's: unmodified for more than
 * `staleMs`, or naming a process of this host that no longer runs; else null. A lock that
 * vanished meanwhile, or whose owner line is still being written, is not stale (look again).
 */
async function staleLock(path: string, staleMs: number): Promise<LockIdentity | null> {
  let st: { mtimeMs: number; ino: number };
  let text: string;
  try {
    st = await stat(path);
    text = await readFile(path, 'utf8');
  } catch {
    return null;
  }
  if (Date.now() - st.mtimeMs > staleMs) return { ino: st.ino, text };
  let owner: { host?: unknown; pid?: unknown } | null;
  try {
    owner = JSON.parse(text) as typeof owner;
  } catch {
    return null;
  }
  return owner?.host === hostname() && typeof owner.pid === 'number' && !pidAlive(owner.pid)
    ? { ino: st.ino, text }
    : null;
}

/**
 * Remove the lock file at `path` only if it is still the file `id` (the stale lock that was
 * judged, or the caller's own): it is first renamed aside (atomic: of several breakers one moves
 * it), then deleted if it is that file; a newer lock moved by mistake (another waiter broke the
 * stale one and took the lock meanwhile) is linked back, never over a newer one. The aside name
 * (`.<name>.tmp-<pid>-<hex>`) is one that grid-io's temp sweeps remove if this process dies.
 */
async function removeLockIfSame(path: string, id: LockIdentity): Promise<void> {
  const aside = join(
    dirname(path),
    `.${basename(path)}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`,
  );
  try {
    await rename(path, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  const moved = { ino: (await stat(aside)).ino, text: await readFile(aside, 'utf8') };
  if (moved.ino !== id.ino || moved.text !== id.text) {
    try {
      await link(aside, path);
    } catch (err) {
      // EEXIST: a newer lock is there already. A file system without hard links: put it back
      // by rename unless a newer lock appeared meanwhile (the small window link would close).
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' && !existsSync(path)) {
        await rename(aside, path);
        return;
      }
    }
  }
  await rm(aside, { force: true });
}

/**
 * Break the stale lock at `path` holding `<path>.break` (created exclusively; a break file older
 * than `staleMs` is a dead breaker's and is removed): under it the lock is judged again and
 * removed only if it is still the stale file. Returns false when another breaker is at work
 * (the caller waits as for a live holder), true when the caller may try to take the lock.
 */
async function breakStaleLock(path: string, staleMs: number): Promise<boolean> {
  const breakPath = `${path}.break`;
  try {
    await writeFile(breakPath, `${process.pid}\n`, { flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    const st = await stat(breakPath).catch(() => null);
    if (st && Date.now() - st.mtimeMs > staleMs) await rm(breakPath, { force: true });
    return false;
  }
  try {
    const stale = await staleLock(path, staleMs);
    if (stale !== null) await removeLockIfSame(path, stale);
  } finally {
    await rm(breakPath, { force: true });
  }
  return true;
}

/**
 * Run `fn` holding the lock file `path`: created exclusively (`wx`) with its holder
 * `{"host", "pid", "token"}`; while another holder has it, wait and try again (`retryMs`, `onWait`). A lock
 * is broken when stale: unmodified for more than `staleMs` (the holder touches it every `touchMs`
 * while `fn` runs), or held by a process of this host that is gone (a killed worker); breaking
 * and releasing remove only the very file judged or created (by inode and token), so two waiters that find
 * one stale lock never both take it, and a holder whose lock was broken leaves its successor's
 * alone. Removed when `fn` settles. Processes on one file system exclude each other; so do calls of one process.
 */
export async function withFileLock<T>(path: string, fn: () => Promise<T>, opts: FileLockOptions): Promise<T> {
  const owner = `${JSON.stringify({ host: hostname(), pid: process.pid, token: randomBytes(8).toString('hex') })}\n`;
  const [minWait, maxWait] = opts.retryMs ?? [250, 500];
  const deadline = opts.timeoutMs === undefined ? Infinity : Date.now() + opts.timeoutMs;
  let own: LockIdentity;
  for (;;) {
    try {
      await writeFile(path, owner, { flag: 'wx' });
      own = { ino: (await stat(path)).ino, text: owner };
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const stale = await staleLock(path, opts.staleMs);
    if (stale !== null) {
      // One breaker at a time (`<path>.break`, itself broken when a breaker died holding it):
      // the holder re-judges the lock, so a waiter that judged the stale lock late cannot move
      // aside the lock another waiter took after breaking it (two holders, seen in CI).
      if (await breakStaleLock(path, opts.staleMs)) continue;
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
    // Only our own lock: if it was broken (this holder was silent for longer than staleMs), the
    // file there now is a successor's.
    await removeLockIfSame(path, own);
  }
}
