// Directories replaced as a whole: the new version is written into a temporary sibling folder,
// fsynced, and renamed into place only when complete, so a failure at any point leaves the previous
// version intact (datasets, model directories, reports).
import { randomBytes } from 'node:crypto';
import {
  copyFile,
  link,
  lstat,
  mkdir,
  open,
  readdir,
  readlink,
  realpath,
  rename,
  rm,
  stat,
  symlink,
  type FileHandle,
} from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { pidAlive, withFileLock } from './file-lock.js';

/** Options of {@link writeDirectoryAtomic}. */
export interface AtomicDirectoryOptions {
  /**
   * Whether an entry of the existing directory that the new version does not contain is carried
   * into it (hard-linked, copied where links fail). Default: every entry except leftovers of
   * interrupted atomic file writes (`.<name>.tmp-…`). Entries the new version writes are always
   * replaced.
   */
  carryOver?: (name: string) => boolean;
}

/** `.<name>.tmp-<pid>-<hex>`: the staging folder of a write in progress (or interrupted). */
const stagePattern = (base: string) => new RegExp(`^\\.${escapeRe(base)}\\.tmp-(\\d+)-[0-9a-f]+$`);
/** `.<name>.old-<pid>-<hex>`: the previous version during the swap. */
const backupPattern = (base: string) => new RegExp(`^\\.${escapeRe(base)}\\.old-(\\d+)-[0-9a-f]+$`);

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function isAtomicTempFile(name: string): boolean {
  return /^\..+\.tmp-\d+-[0-9a-f]+$/.test(name) || /^\.tmp-(\d+-)?[0-9a-f]+$/.test(name);
}

/** The writing process of a temporary name of {@link writeFileAtomic} (`.tmp-<pid>-<hex>`) or {@link writeDirectoryAtomic} (`.<name>.tmp-<pid>-<hex>`), else null. */
function tempOwner(name: string): number | null {
  const m = /^\.tmp-(\d+)-[0-9a-f]+$/.exec(name) ?? /^\..+\.tmp-(\d+)-[0-9a-f]+$/.exec(name);
  return m ? Number(m[1]) : null;
}

/** Options of {@link removeStaleTempFiles}. */
export interface RemoveTempFilesOptions {
  /**
   * Remove the temporary files of writers that are still running too (default false: only those
   * whose writing process is gone). Only for a folder nothing writes into at the moment — a
   * training's checkpoint folder when the run starts.
   */
  includeLive?: boolean;
}

/**
 * Remove, in `dir`, the temporary files and staging folders that interrupted atomic writes left
 * behind ({@link writeFileAtomic}'s `.tmp-<pid>-<hex>`, {@link writeDirectoryAtomic}'s
 * `.<name>.tmp-<pid>-<hex>`, and `.<name>.tmp-<pid>-<ms>` of earlier versions) — only those whose
 * writing process (named in the temporary name) is no longer alive, so writers running now keep
 * theirs, unless `includeLive`. Returns the names removed.
 */
export async function removeStaleTempFiles(
  dir: string,
  opts: RemoveTempFilesOptions = {},
): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const stale = names.filter((n) => {
    const pid = tempOwner(n);
    return pid !== null && (opts.includeLive || !pidAlive(pid));
  });
  await Promise.all(stale.map((n) => rm(join(dir, n), { recursive: true, force: true })));
  return stale;
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch {
    return false;
  }
}

/** fsync a file or directory. */
export async function fsyncPath(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** fsync every regular file and directory under `dir` (and `dir` itself). */
export async function fsyncTree(dir: string): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) await fsyncTree(p);
    else if (entry.isFile()) await fsyncPath(p);
  }
  await fsyncPath(dir);
}

/** Reproduce `src` at `dst` without copying data where possible: directories recreated, files hard-linked. */
async function linkTree(src: string, dst: string): Promise<void> {
  const info = await lstat(src);
  if (info.isDirectory()) {
    await mkdir(dst);
    for (const name of await readdir(src)) await linkTree(join(src, name), join(dst, name));
  } else if (info.isSymbolicLink()) {
    await symlink(await readlink(src), dst);
  } else if (info.isFile()) {
    try {
      await link(src, dst);
    } catch {
      await copyFile(src, dst);
    }
  }
}

/**
 * Finish what a crash in {@link writeDirectoryAtomic} left beside `dir`: when `dir` is missing but
 * its previous version was moved aside (a crash between the two renames of the swap), move it
 * back; delete previous versions whose swap completed and staging folders of writers that no
 * longer run. Called by every atomic write, and by readers that find `dir` missing.
 */
export async function recoverDirectory(dir: string): Promise<void> {
  const abs = resolve(dir);
  const parent = dirname(abs);
  const base = basename(abs);
  let names: string[];
  try {
    names = await readdir(parent);
  } catch {
    return;
  }
  const stageRe = stagePattern(base);
  const backupRe = backupPattern(base);
  // Previous versions left by writers that no longer run (a live writer may be mid-swap).
  const backups = names.filter((n) => backupRe.test(n) && !pidAlive(Number(backupRe.exec(n)![1])));
  if (backups.length && !(await exists(abs))) {
    // The newest previous version goes back into place.
    const withTimes = await Promise.all(
      backups.map(async (n) => ({ n, t: (await stat(join(parent, n))).mtimeMs })),
    );
    withTimes.sort((a, b) => b.t - a.t);
    await rename(join(parent, withTimes[0].n), abs);
    backups.splice(backups.indexOf(withTimes[0].n), 1);
  }
  for (const n of backups) await rm(join(parent, n), { recursive: true, force: true });
  for (const n of names) {
    const m = stageRe.exec(n);
    if (m && !pidAlive(Number(m[1]))) await rm(join(parent, n), { recursive: true, force: true });
  }
}

/**
 * Write a new version of directory `dir` as a whole. `write` receives an empty staging folder
 * beside `dir` (`.<name>.tmp-<pid>-<hex>` in the same parent, so the final rename stays on one
 * file system) and writes the complete new contents there. Then entries of the existing `dir`
 * that the new version does not hold are carried over (see {@link AtomicDirectoryOptions}), every
 * file and directory of the new version is fsynced, the old `dir` is renamed aside, the new one
 * renamed into place, the parent fsynced, and the old version deleted.
 *
 * If `write` (or anything before the swap) fails, the staging folder is removed and `dir` is
 * untouched. A crash before the swap leaves `dir` untouched (plus a staging folder that the next
 * write clears); a crash between the two renames leaves the previous version aside, put back by
 * {@link recoverDirectory}. A symbolic link `dir` is followed: its target is replaced.
 */
export async function writeDirectoryAtomic<T>(
  dir: string,
  write: (stage: string) => Promise<T>,
  opts: AtomicDirectoryOptions = {},
): Promise<T> {
  let abs = resolve(dir);
  await mkdir(dirname(abs), { recursive: true });
  await recoverDirectory(abs);
  let existing = false;
  try {
    abs = await realpath(abs);
    if (!(await stat(abs)).isDirectory()) throw new Error(`${dir}: exists and is not a directory`);
    existing = true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const parent = dirname(abs);
  const base = basename(abs);
  const suffix = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const stage = join(parent, `.${base}.tmp-${suffix}`);
  await mkdir(stage);
  let result: T;
  try {
    result = await write(stage);
    if (existing) {
      const carry = opts.carryOver ?? ((name: string) => !isAtomicTempFile(name));
      for (const name of await readdir(abs)) {
        if (!carry(name) || (await exists(join(stage, name)))) continue;
        await linkTree(join(abs, name), join(stage, name));
      }
    }
    await fsyncTree(stage);
  } catch (err) {
    await rm(stage, { recursive: true, force: true });
    throw err;
  }
  const backup = join(parent, `.${base}.old-${suffix}`);
  // A process whose working directory is inside `dir` would be left in the deleted old version.
  const cwd = process.cwd();
  const cwdRel = relative(abs, cwd);
  const cwdInside = existing && (cwdRel === '' || (!cwdRel.startsWith('..') && !isAbsolute(cwdRel)));
  // The swap holds a lock beside `dir`: another writer (two pipelines writing one content-keyed
  // step at once) may have put a version in place since the check above; this one then replaces
  // it like any older version, and `dir` always holds one complete version, the last written.
  await withFileLock(
    join(parent, `.${base}.lock`),
    async () => {
      existing = await stat(abs).then(
        (st) => st.isDirectory(),
        () => false,
      );
      if (existing) {
        try {
          await rename(abs, backup);
        } catch (err) {
          await rm(stage, { recursive: true, force: true });
          throw err;
        }
      }
      try {
        await rename(stage, abs);
      } catch (err) {
        if (existing) await rename(backup, abs).catch(() => {});
        await rm(stage, { recursive: true, force: true });
        throw err;
      }
    },
    SWAP_LOCK,
  );
  await fsyncPath(parent);
  if (cwdInside) {
    try {
      process.chdir(join(abs, cwdRel));
    } catch {
      process.chdir(abs);
    }
  }
  if (existing) await rm(backup, { recursive: true, force: true });
  return result;
}

/**
 * The swap's lock, `<parent>/.<name>.lock`: a swap takes milliseconds, so other writers poll
 * 10–40 ms apart, a lock older than 30 s (or whose process is gone) is a dead writer's, and
 * waiting more than 2 minutes is an error.
 */
const SWAP_LOCK = { staleMs: 30_000, retryMs: [10, 40], timeoutMs: 120_000 } as const;

/**
 * Write one file atomically: a temporary sibling, fsync, rename over `path`, fsync of the folder;
 * the temporary file is removed when anything fails, so `path` is either the old or the new
 * content. The one file-level atomic write of the project (folders: {@link writeDirectoryAtomic}).
 * `data` is the content, or a function that writes it into the open temporary file (large files
 * streamed piece by piece, e.g. checkpoints; positions are the function's own).
 */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array | ((fh: FileHandle) => Promise<void>),
): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
  try {
    const fh = await open(tmp, 'w');
    try {
      if (typeof data === 'function') await data(fh);
      else await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  await fsyncPath(dirname(path));
}
