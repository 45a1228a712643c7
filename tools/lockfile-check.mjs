// @ts-check
// The lock-file check of `npm test`: an install must not change the committed package-lock.json.
import { spawnSync } from 'node:child_process';

/** @typedef {{ status: 'clean' } | { status: 'changed' | 'skipped', message: string }} LockfileCheck */

/**
 * Whether package-lock.json in the git checkout at `root` differs from the committed one
 * (`git diff --quiet -- package-lock.json`). Returns { status: 'clean' }, { status: 'changed',
 * message } with the diff's size and what to do, or { status: 'skipped', message } when `root`
 * is not a git checkout (a tarball, an npm pack) or git is missing.
 * @param {string} root
 * @returns {LockfileCheck}
 */
export function checkLockfile(root) {
  const git = (/** @type {string[]} */ args) => spawnSync('git', args, { cwd: root, encoding: 'utf8' });
  const inside = git(['rev-parse', '--is-inside-work-tree']);
  if (inside.error || inside.status !== 0 || inside.stdout.trim() !== 'true') {
    return {
      status: 'skipped',
      message: `lock-file check skipped: ${root} is not a git checkout${inside.error ? ` (${inside.error.message})` : ''}`,
    };
  }
  const tracked = git(['ls-files', '--error-unmatch', '--', 'package-lock.json']);
  if (tracked.status !== 0)
    return { status: 'skipped', message: 'lock-file check skipped: package-lock.json is not committed' };
  const diff = git(['diff', '--quiet', '--', 'package-lock.json']);
  if (diff.status === 0) return { status: 'clean' };
  if (diff.status !== 1)
    return {
      status: 'skipped',
      message: `lock-file check skipped: git diff failed (${(diff.stderr || '').trim()})`,
    };
  const stat = git(['diff', '--shortstat', '--', 'package-lock.json']).stdout.trim();
  return {
    status: 'changed',
    message: [
      `package-lock.json differs from the committed lock (${stat || 'changed'}).`,
      'The install rewrote it: the committed lock does not describe the tree that package.json asks for',
      '(a dependency added, removed or re-ranged without the lock, or entries missing from it).',
      'Run `npm install` in a clean checkout, review `git diff package-lock.json` and commit the lock;',
      'CI installs exactly the committed lock. (STELLAR_EMU_ALLOW_LOCK_CHANGE=1 skips this check locally.)',
    ].join('\n'),
  };
}

/**
 * Whether `npm ci` would accept the lock as it is (`npm ci --dry-run`: npm's own check that
 * package.json and package-lock.json are in sync, without installing anything). Returns
 * { status: 'clean' } or { status: 'changed', message } with npm's error.
 * @param {string} root
 * @returns {LockfileCheck}
 */
export function checkNpmCi(root) {
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const r = spawnSync(npm, ['ci', '--dry-run', '--ignore-scripts', '--no-audit', '--no-fund'], {
    cwd: root,
    encoding: 'utf8',
  });
  if (r.error) return { status: 'skipped', message: `npm ci check skipped: ${r.error.message}` };
  if (r.status === 0) return { status: 'clean' };
  const lines = (r.stderr || '')
    .split('\n')
    .filter((l) => l.startsWith('npm error') && l.trim() !== 'npm error');
  const end = lines.findIndex((l) => /Clean install a project|complete log/.test(l));
  const err = (end >= 0 ? lines.slice(0, end) : lines.slice(0, 12)).join('\n');
  return {
    status: 'changed',
    message: `\`npm ci\` would refuse this checkout's lock:\n${err}\nRun \`npm install\` and commit package-lock.json.`,
  };
}
