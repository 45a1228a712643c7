#!/usr/bin/env node
// `npm run bench`: runs every tools/bench/*.bench.mjs in its own process (so peak RSS is per
// suite), collects their JSON and writes bench-results/bench-<date>.json. Args filter suites.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');
const filters = process.argv.slice(2);
const suites = readdirSync(here)
  .filter((f) => f.endsWith('.bench.mjs'))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();
const results = [];
let failed = 0;
for (const file of suites) {
  process.stderr.write(`[bench] ${file}\n`);
  const r = spawnSync(process.execPath, ['--expose-gc', join(here, file)], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2' },
    maxBuffer: 64 << 20,
  });
  const text = r.stdout.trim();
  const start = text.indexOf('{');
  try {
    if (r.status !== 0) throw new Error(`exit ${r.status}`);
    results.push(JSON.parse(text.slice(start)));
  } catch (err) {
    failed++;
    results.push({ suite: file, error: `${/** @type {Error} */ (err).message}`, output: text.slice(-2000) });
  }
}
const out = { date: new Date().toISOString(), suites: results };
mkdirSync(join(root, 'bench-results'), { recursive: true });
const file = join(root, 'bench-results', `bench-${out.date.replace(/[:.]/g, '-')}.json`);
writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
process.stderr.write(`[bench] wrote ${file}\n`);
process.exit(failed ? 1 : 0);
