// Run metadata helpers for metric producers: machine description and the current git commit.
import { spawnSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import type { RunMetadata } from '@stellar-emu/metrics';

/** The machine this process runs on (CPU count and model, total memory in bytes, Node version). */
export function machineInfo(): RunMetadata['machine'] {
  const list = cpus();
  return {
    cpus: list.length,
    memoryBytes: totalmem(),
    nodeVersion: process.version,
    platform: process.platform,
    arch: process.arch,
    ...(list[0]?.model ? { cpuModel: list[0].model.trim() } : {}),
  };
}

/** `git rev-parse HEAD` in `cwd` (with `-dirty` when the work tree has changes), or null outside git. */
export function currentGitCommit(cwd: string = process.cwd()): string | null {
  const head = spawnSync('git', ['rev-parse', 'HEAD'], { cwd, encoding: 'utf8' });
  if (head.status !== 0 || !head.stdout) return null;
  const status = spawnSync('git', ['status', '--porcelain', '--untracked-files=no'], {
    cwd,
    encoding: 'utf8',
  });
  const dirty = status.status === 0 && status.stdout.trim() !== '';
  return `${head.stdout.trim()}${dirty ? '-dirty' : ''}`;
}
