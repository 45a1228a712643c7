// `npm test`'s lock-file check (tools/lockfile-check.mjs, run first by tools/run-tests.mjs) on throw-away git repositories.
import { spawnSync } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { checkLockfile, checkNpmCi } from '@stellar-emu/tools/lockfile-check';

/** The folder of the @stellar-emu/tools workspace package (tools/), whose scripts the test copies. */
const tools = dirname(createRequire(import.meta.url).resolve('@stellar-emu/tools/package.json'));
const hasGit = spawnSync('git', ['--version']).status === 0;

/** A git repository with tools/run-tests.mjs, tools/lockfile-check.mjs and a committed lock. */
async function repo(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'lockcheck-'));
  const git = (...args: string[]) => {
    const r = spawnSync('git', ['-c', 'user.email=t@example.invalid', '-c', 'user.name=t', ...args], {
      cwd: dir,
      encoding: 'utf8',
    });
    if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  };
  git('init', '-q');
  await mkdir(join(dir, 'tools'));
  for (const f of ['run-tests.mjs', 'lockfile-check.mjs'])
    await copyFile(join(tools, f), join(dir, 'tools', f));
  await writeFile(
    join(dir, 'package-lock.json'),
    `${JSON.stringify({ name: 'x', lockfileVersion: 3, packages: { '': { name: 'x' } } }, null, 2)}\n`,
  );
  git('add', '.');
  git('commit', '-q', '-m', 'lock');
  return dir;
}

describe.skipIf(!hasGit)('lock-file check', () => {
  test('clean when the lock is as committed; changed, with what to do, when an install rewrote it', async () => {
    const dir = await repo();
    try {
      expect(checkLockfile(dir)).toEqual({ status: 'clean' });
      // an untracked file elsewhere does not matter
      await writeFile(join(dir, 'other.txt'), 'x');
      expect(checkLockfile(dir).status).toBe('clean');
      await writeFile(
        join(dir, 'package-lock.json'),
        `${JSON.stringify({ name: 'x', lockfileVersion: 3, packages: { '': { name: 'x' }, 'node_modules/y': { version: '1.0.0' } } }, null, 2)}\n`,
      );
      const r = checkLockfile(dir);
      expect(r.status).toBe('changed');
      expect(r.status !== 'clean' && r.message).toMatch(
        /package-lock\.json differs from the committed lock \(1 file changed, 3 insertions\(\+\)/,
      );

      // the test runner stops before the build, with the message on stderr
      const run = spawnSync(process.execPath, [join(dir, 'tools', 'run-tests.mjs')], {
        cwd: dir,
        encoding: 'utf8',
        env: { ...process.env, STELLAR_EMU_ALLOW_LOCK_CHANGE: '' },
      });
      expect(run.status).toBe(1);
      expect(run.stderr).toMatch(/error: package-lock\.json differs from the committed lock/);
      expect(run.stderr).toMatch(/commit the lock/);
      expect(run.stdout).not.toMatch(/tests: /);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('skipped outside a git checkout, and when no lock is committed', async () => {
    const plain = await mkdtemp(join(tmpdir(), 'lockcheck-plain-'));
    try {
      await writeFile(join(plain, 'package-lock.json'), '{}\n');
      const r = checkLockfile(plain);
      expect(r.status).toBe('skipped');
      expect(r.status !== 'clean' && r.message).toMatch(/not a git checkout/);
    } finally {
      await rm(plain, { recursive: true, force: true });
    }
    const dir = await repo();
    try {
      spawnSync('git', ['rm', '-q', '--cached', 'package-lock.json'], { cwd: dir });
      spawnSync(
        'git',
        ['-c', 'user.email=t@example.invalid', '-c', 'user.name=t', 'commit', '-q', '-m', 'untrack'],
        { cwd: dir },
      );
      const r = checkLockfile(dir);
      expect(r.status).toBe('skipped');
      expect(r.status !== 'clean' && r.message).toMatch(/not committed/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('npm ci check', () => {
  test('clean for a package whose lock matches package.json; refused, naming what is missing, when a dependency is not in the lock', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'npmci-'));
    try {
      await writeFile(join(dir, 'package.json'), `${JSON.stringify({ name: 'x', version: '1.0.0' })}\n`);
      await writeFile(
        join(dir, 'package-lock.json'),
        `${JSON.stringify({ name: 'x', version: '1.0.0', lockfileVersion: 3, requires: true, packages: { '': { name: 'x', version: '1.0.0' } } }, null, 2)}\n`,
      );
      expect(checkNpmCi(dir)).toEqual({ status: 'clean' });
      await writeFile(
        join(dir, 'package.json'),
        `${JSON.stringify({ name: 'x', version: '1.0.0', dependencies: { 'is-number': '^7.0.0' } })}\n`,
      );
      const r = checkNpmCi(dir);
      expect(r.status).toBe('changed');
      expect(r.status !== 'clean' && r.message).toMatch(
        /npm ci` would refuse [\s\S]*in sync[\s\S]*Missing: is-number@/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
