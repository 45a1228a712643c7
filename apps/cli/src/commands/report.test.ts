import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSampleMetrics, reportMetricsSchema, writeRunMetrics } from '@stellar-emu/report';

const cli = fileURLToPath(new URL('../../dist/main.js', import.meta.url));

test('stellar-emu report --run <id> regenerates a report from stored metrics without retraining', async () => {
  const artifacts = mkdtempSync(join(tmpdir(), 'cli-report-'));
  try {
    const metrics = buildSampleMetrics({ seed: 2, size: 'tiny', runId: 'r1', sections: { recovery: false } });
    // A threshold that fails, to see --fail-on-check.
    await writeRunMetrics(artifacts, 'r1', { ...metrics, thresholds: { ...metrics.thresholds, cvae: { medianResidual: 1e-9 } } });
    const r = spawnSync(process.execPath, [cli, 'report', '--run', 'r1', '--artifacts', artifacts, '--json'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.indexHtml).toBe(join(artifacts, 'runs', 'r1', 'report', 'index.html'));
    expect(out.figures).toHaveLength(13);
    const written = reportMetricsSchema.parse(JSON.parse(readFileSync(out.metricsJson, 'utf8')));
    expect(written.pass).toBe(false);
    expect(written.checks.find((c) => c.name === 'cvae.medianResidual')?.pass).toBe(false);

    const gate = spawnSync(process.execPath, [cli, 'report', '--run', 'r1', '--artifacts', artifacts, '--out', join(artifacts, 'elsewhere'), '--fail-on-check'], { encoding: 'utf8' });
    expect(gate.status).toBe(2);
    expect(gate.stdout).toContain(join(artifacts, 'elsewhere', 'index.html'));
    expect(gate.stdout).toMatch(/failed: cvae\.medianResidual/);

    const missing = spawnSync(process.execPath, [cli, 'report', '--run', 'nope', '--artifacts', artifacts], { encoding: 'utf8' });
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/no stored metrics for run 'nope'/);
  } finally {
    rmSync(artifacts, { recursive: true, force: true });
  }
});
