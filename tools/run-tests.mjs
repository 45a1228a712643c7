#!/usr/bin/env node
// `npm test` after setup: check that the install left package-lock.json as committed and that
// `npm ci` accepts it, then build,
// typecheck, lint and test every project with Nx, and print one closing line with the totals
// from each project's vitest JSON report; under CI=true, then the short chaos test (tools/chaos.mjs).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkLockfile, checkNpmCi } from './lockfile-check.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

// An install that changes the lock means CI did not test the committed tree: stop before the
// build (STELLAR_EMU_ALLOW_LOCK_CHANGE=1 lets a developer test a dependency change before committing it).
const lock = checkLockfile(root);
if (lock.status === 'changed') {
  if (process.env.STELLAR_EMU_ALLOW_LOCK_CHANGE === '1') process.stderr.write(`warning: ${lock.message}\n`);
  else {
    process.stderr.write(`\nerror: ${lock.message}\n`);
    process.exit(1);
  }
} else if (lock.status === 'skipped') process.stdout.write(`${lock.message}\n`);
// And a fresh clone's `npm ci` must accept the committed lock (npm's own sync check, nothing installed).
const ci = checkNpmCi(root);
if (ci.status === 'changed' && process.env.STELLAR_EMU_ALLOW_LOCK_CHANGE !== '1') {
  process.stderr.write(`\nerror: ${ci.message}\n`);
  process.exit(1);
} else if (ci.status !== 'clean') process.stderr.write(`warning: ${ci.message}\n`);
// The formatter: every source file as prettier writes it (`npm run format` fixes them; what it owns
// is .prettierignore's complement); reported now, failing the run at the end so the tests still run.
const prettier = join(root, 'node_modules', '.bin', 'prettier');
const fmt = spawnSync(prettier, ['--check', '--log-level', 'warn', '.'], { cwd: root, encoding: 'utf8' });
if (fmt.status !== 0)
  process.stderr.write(
    `\nerror: files not formatted (run \`npm run format\`):\n${fmt.stdout}${fmt.stderr}\n`,
  );
const reports = join(root, 'test-output', 'vitest');
rmSync(reports, { recursive: true, force: true });
const nx = join(root, 'node_modules', '.bin', 'nx');
const args = [
  'run-many',
  '-t',
  'build',
  'typecheck',
  'lint',
  'test',
  '--outputStyle=stream',
  ...process.argv.slice(2),
];
const r = spawnSync(nx, args, { cwd: root, stdio: 'inherit' });

let passed = 0;
let failed = 0;
let skipped = 0;
const projects = [];
if (existsSync(reports)) {
  for (const f of readdirSync(reports).filter((x) => x.endsWith('.json'))) {
    const j = JSON.parse(readFileSync(join(reports, f), 'utf8'));
    passed += j.numPassedTests ?? 0;
    failed += j.numFailedTests ?? 0;
    skipped += (j.numPendingTests ?? 0) + (j.numTodoTests ?? 0);
    projects.push(`${f.replace(/\.json$/, '')} ${j.numPassedTests}/${j.numTotalTests}`);
  }
}
process.stdout.write(`\nper project: ${projects.join(', ')}\n`);
process.stdout.write(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped\n`);

// The chaos test in its short form (CI, or STELLAR_EMU_CHAOS=1; STELLAR_EMU_CHAOS=0 skips it):
// three small pipelines while workers are SIGKILLed every 5 s and the dev server once.
let chaos = 0;
const wantChaos =
  process.env.STELLAR_EMU_CHAOS === '1' ||
  (process.env.CI === 'true' && process.env.STELLAR_EMU_CHAOS !== '0');
if (r.status === 0 && wantChaos) {
  process.stdout.write('\nchaos (tools/chaos.mjs, short form):\n');
  const c = spawnSync(
    process.execPath,
    [
      join(root, 'tools', 'chaos.mjs'),
      '--pipelines',
      '3',
      '--epochs',
      '2',
      '--kill-every',
      '5',
      '--minutes',
      '10',
    ],
    { cwd: root, stdio: 'inherit' },
  );
  chaos = c.status ?? 1;
  process.stdout.write(`chaos: ${chaos === 0 ? 'passed' : 'FAILED'}\n`);
}
process.exit(r.status || chaos || (fmt.status === 0 ? 0 : 1));
