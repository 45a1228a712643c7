import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readRunMetrics, reportMetricsSchema, writeRunMetrics } from '@stellar-emu/report';

const cli = fileURLToPath(new URL('../../dist/main.js', import.meta.url));

/** The figures of a run with pinn, cvae and recovery sections (no PySME: no synthesis or pinnSpectra section). */
const DEMO_FIGURES = [
  'cvae-residual-heatmap',
  'cvae-residual-labels',
  'cvae-residual-planes',
  'cvae-spectra',
  'cvae-training',
  'pinn-depth-error',
  'pinn-hydrostatic',
  'pinn-hydrostatic-residuals',
  'pinn-label-error',
  'recovery-scatter',
];

test('stellar-emu report --demo runs the real steps on synthetic data and stores the run; --run <id> regenerates a report from stored metrics without retraining', async () => {
  const artifacts = mkdtempSync(join(tmpdir(), 'cli-report-'));
  try {
    const demo = spawnSync(
      process.execPath,
      [cli, 'report', '--demo', '--size', 'tiny', '--seed', '2', '--artifacts', artifacts, '--json'],
      { encoding: 'utf8' },
    );
    expect(demo.status, demo.stderr).toBe(0);
    expect(demo.stderr).toMatch(/demo: train pinn\n[^]*demo: validate cvae\n/);
    const shown = JSON.parse(demo.stdout);
    expect(shown.indexHtml).toBe(join(artifacts, 'runs', 'demo-2', 'report', 'index.html'));
    expect(shown.figures.map((f: { id: string }) => f.id).sort()).toEqual(DEMO_FIGURES);

    const metrics = await readRunMetrics(artifacts, 'demo-2');
    // A threshold that fails, to see --fail-on-check.
    await writeRunMetrics(artifacts, 'r1', {
      ...metrics,
      run: { ...metrics.run, id: 'r1' },
      thresholds: { ...metrics.thresholds, cvae: { medianResidual: 1e-9 } },
    });
    const r = spawnSync(
      process.execPath,
      [cli, 'report', '--run', 'r1', '--artifacts', artifacts, '--json'],
      { encoding: 'utf8' },
    );
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.indexHtml).toBe(join(artifacts, 'runs', 'r1', 'report', 'index.html'));
    expect(out.figures).toHaveLength(DEMO_FIGURES.length);
    const written = reportMetricsSchema.parse(JSON.parse(readFileSync(out.metricsJson, 'utf8')));
    expect(written.pass).toBe(false);
    expect(written.checks.find((c) => c.name === 'cvae.medianResidual')?.pass).toBe(false);

    const gate = spawnSync(
      process.execPath,
      [
        cli,
        'report',
        '--run',
        'r1',
        '--artifacts',
        artifacts,
        '--out',
        join(artifacts, 'elsewhere'),
        '--fail-on-check',
      ],
      { encoding: 'utf8' },
    );
    expect(gate.status).toBe(2);
    expect(gate.stdout).toContain(join(artifacts, 'elsewhere', 'index.html'));
    expect(gate.stdout).toMatch(/failed: cvae\.medianResidual/);

    const missing = spawnSync(process.execPath, [cli, 'report', '--run', 'nope', '--artifacts', artifacts], {
      encoding: 'utf8',
    });
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/no stored metrics for run 'nope'/);
  } finally {
    rmSync(artifacts, { recursive: true, force: true });
  }
});
