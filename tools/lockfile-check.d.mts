// Types of lockfile-check.mjs for TypeScript callers (its test).

export type LockfileCheck = { status: 'clean' } | { status: 'changed' | 'skipped'; message: string };

/** Whether package-lock.json in the git checkout at `root` differs from the committed one. */
export declare function checkLockfile(root: string): LockfileCheck;

/** Whether `npm ci` would accept the lock at `root` (`npm ci --dry-run`: npm's package.json/lock sync check). */
export declare function checkNpmCi(root: string): LockfileCheck;
