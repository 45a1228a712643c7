// The self-contained index.html: inline SVG figures, tables, metadata; no scripts, no external resources.
import { ATMOSPHERE_QUANTITIES, ATMOSPHERE_QUANTITY_INFO, splitTitle } from '@stellar-emu/grid-io';
import { recoveryFactorOf } from './checks.js';
import type { FigureSpec } from './figures.js';
import { METRICS_SCHEMA_VERSION, type Check, type RunMetrics } from '@stellar-emu/metrics';
import { LABEL_INFO } from './labels.js';

/** A rendered figure: its spec and the SVG markup (ids already prefixed for inlining). */
export interface RenderedFigure {
  figure: FigureSpec;
  inlineSvg: string;
  svgFile: string;
  pngFile: string;
}

export const escapeHtml = (s: string): string =>
  s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');

/** Numbers in tables: 4 significant digits, plain notation between 1e-3 and 1e6. */
export function formatNumber(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '—';
  if (x === 0) return '0';
  const a = Math.abs(x);
  if (a >= 1e-3 && a < 1e6) return String(Number(x.toPrecision(4)));
  return x.toExponential(3);
}

const badge = (pass: boolean) =>
  `<span class="badge ${pass ? 'pass' : 'fail'}">${pass ? 'pass' : 'fail'}</span>`;

function table(head: string[], rows: string[][], cls = ''): string {
  return `<table${cls ? ` class="${cls}"` : ''}><thead><tr>${head.map((h) => `<th>${h}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

function figureHtml(f: RenderedFigure): string {
  const id = escapeHtml(f.figure.id);
  return `<figure class="figure" id="fig-${id}" data-figure="${id}">
<h3>${escapeHtml(f.figure.title)}</h3>
<div class="svg">${f.inlineSvg}</div>
<figcaption>${escapeHtml(f.figure.caption)} <span class="files"><a href="${escapeHtml(f.svgFile)}">SVG</a> · <a href="${escapeHtml(f.pngFile)}">PNG</a></span></figcaption>
</figure>`;
}

function checksHtml(checks: Check[]): string {
  if (checks.length === 0) return '<p>No thresholds were configured for this run.</p>';
  return table(
    ['check', 'value', 'limit', 'unit', 'verdict', 'detail'],
    checks.map((c) => [
      `<code>${escapeHtml(c.name)}</code>`,
      formatNumber(c.value),
      `≤ ${formatNumber(c.limit)}`,
      escapeHtml(c.unit),
      badge(c.pass),
      escapeHtml(c.detail ?? ''),
    ]),
    'checks',
  );
}

function pinnSummary(m: RunMetrics): string {
  const p = m.pinn!;
  const limits = m.thresholds.pinn?.medianPercent ?? {};
  const rows = ATMOSPHERE_QUANTITIES.filter((q) => p.summary.medianPercent[q] !== undefined).map((q) => [
    `${ATMOSPHERE_QUANTITY_INFO[q].deckColumn} (${escapeHtml(ATMOSPHERE_QUANTITY_INFO[q].unitUnicode)})`,
    formatNumber(p.summary.medianPercent[q]),
    limits[q] === undefined ? '—' : `≤ ${formatNumber(limits[q])}`,
  ]);
  return `<p>Median relative error per quantity over all depths of the ${escapeHtml(splitTitle(p.split))} split (${p.nModels} models).</p>${table(
    ['quantity', 'median relative error (%)', 'limit (%)'],
    rows,
  )}`;
}

/** The sentence on whether the physics loss helps the spectra, from the two medians of per-model medians. */
export function physicsLossVerdict(ps: NonNullable<RunMetrics['pinnSpectra']>): string {
  const b = ps.summary.baseline;
  if (!b)
    return 'No α = 0 baseline was synthesized, so this run does not measure whether the physics loss helps the spectra.';
  const p = ps.summary.pinn.medianOfMedians;
  const q = b.medianOfMedians;
  const failed = `${ps.summary.pinn.failed} and ${b.failed} of ${ps.models.length} models failed`;
  if (p === null || q === null)
    return `Whether the physics loss helps the spectra is not measured: the median model is a failure for ${p === null ? 'the PINN' : 'the baseline'} (${failed}).`;
  const ratio = (x: number) => String(Number(x.toPrecision(2)));
  const pair = `the PINN's median per-model median |ΔF| is ${formatNumber(p)} against the baseline's ${formatNumber(q)}`;
  if (p < q)
    return `The physics loss helps the spectra: ${pair}${p > 0 ? ` (${ratio(q / p)} × smaller)` : ''}.`;
  if (p > q)
    return `The physics loss does not help the spectra: ${pair}${q > 0 ? ` (${ratio(p / q)} × larger)` : ''}.`;
  return `The physics loss makes no difference to the spectra: ${pair}.`;
}

/** The models an emulator's atmosphere could not be synthesized for (left out of every statistic). */
function failuresNote(ps: NonNullable<RunMetrics['pinnSpectra']>): string {
  if (ps.failures.length === 0) return '';
  const by = (e: string) => ps.failures.filter((f) => f.emulator === e);
  const describe = (e: 'pinn' | 'baseline', name: string) => {
    const f = by(e);
    if (f.length === 0) return '';
    const first = f[0];
    return ` ${name}: ${f.length} (e.g. Teff ${formatNumber(first.teffK)} K, log g ${formatNumber(first.logg)}, [Fe/H] ${formatNumber(first.feh)}: ${escapeHtml(first.reason)}).`;
  };
  const models = new Set(ps.failures.map((f) => f.id)).size;
  return ` <strong>${models} more model${models > 1 ? 's' : ''} left out: an emulated atmosphere that no synthesis can use</strong> —${describe('pinn', 'PINN')}${describe('baseline', 'baseline')}`;
}

/** The models whose emulated column mass was rebuilt from the tau scale in some deep layers (kept in every statistic). */
function rhoxRepairsNote(ps: NonNullable<RunMetrics['pinnSpectra']>): string {
  const fixes = [...(ps.rhoxRepairs ?? []), ...(ps.sun?.rhoxRepairs ?? []).map((r) => ({ ...r, id: 'sun' }))];
  if (fixes.length === 0) return '';
  const describe = (e: 'pinn' | 'baseline', name: string) => {
    const f = fixes.filter((x) => x.emulator === e);
    if (f.length === 0) return '';
    const layers = f.reduce((n, x) => n + x.layers.length, 0);
    const worst = Math.max(...f.map((x) => x.maxRelativeChange));
    const first = Math.min(...f.map((x) => x.layers[0])); // layers ascend inwards
    const sun = f.some((x) => x.id === 'sun') ? ' (the Sun among them)' : '';
    return ` ${name}: ${f.length} model${f.length > 1 ? 's' : ''}${sun}, ${layers} layer${layers > 1 ? 's' : ''} from layer ${first} down, RHOX changed by at most ${formatNumber(100 * worst)} %.`;
  };
  return ` Where an emulated column mass did not increase inwards it was rebuilt from the tau scale (dτ = κ<sub>R</sub> dRHOX with the emulator's own ABROSS) in those layers only —${describe('pinn', 'PINN')}${describe('baseline', 'baseline')}`;
}

function pinnSpectraSummary(m: RunMetrics, checks: Check[]): string {
  const ps = m.pinnSpectra!;
  const s = ps.settings;
  const verdict = (name: string) => {
    const c = checks.find((x) => x.name === name);
    return c ? `≤ ${formatNumber(c.limit)} ${badge(c.pass)}` : '—';
  };
  const row = (
    name: string,
    v: {
      medianOfMedians: number | null;
      medianOfP95: number | null;
      p95OfP95: number | null;
      failed: number;
    },
  ) => [
    `${name}${v.failed ? ` — ${v.failed} of ${ps.models.length} failed, ranked worst` : ''}`,
    formatNumber(v.medianOfMedians),
    formatNumber(v.medianOfP95),
    formatNumber(v.p95OfP95),
  ];
  const stats = table(
    [
      'atmospheres',
      'median of per-model median |ΔF|',
      'median of per-model p95 |ΔF|',
      '95th percentile of per-model p95 |ΔF|',
    ],
    [
      row(`PINN (α = ${formatNumber(ps.alpha)})`, ps.summary.pinn),
      ...(ps.summary.baseline
        ? [row(`MLP baseline (α = ${formatNumber(ps.baselineAlpha ?? 0)})`, ps.summary.baseline)]
        : []),
      ['limit (PINN)', verdict('pinnSpectra.medianAbsDeltaF'), verdict('pinnSpectra.p95AbsDeltaF'), '—'],
    ],
    'pinn-spectra',
  );
  const settings = table(
    ['', ''],
    [
      [
        'windows',
        s.windows.map(([a, b]) => `${formatNumber(a)}–${formatNumber(b)} Å`).join(', ') + ` (${s.medium})`,
      ],
      ['step', `${formatNumber(s.stepAngstrom)} Å`],
      ['R = λ/Δλ', formatNumber(s.resolution)],
      ['v_mic', `${formatNumber(s.vmicKms)} km/s`],
      ['v sin i', `${formatNumber(s.vsiniKms)} km/s`],
      ['macroturbulence', `${formatNumber(s.vmacKms)} km/s`],
      ['line list', escapeHtml(s.linelist)],
      [
        'engine',
        `${escapeHtml(ps.engine.name)} ${escapeHtml(ps.engine.version)} (${formatNumber(ps.engineSeconds)} s this run)`,
      ],
    ],
    'kv',
  );
  const sample = ps.sample;
  let sunHtml = '';
  if (ps.sun) {
    const sun = ps.sun;
    const r = sun.residuals;
    const l = sun.labels;
    const rows: [string, { median: number; p95: number; max: number } | null][] = [
      ['true deck vs observed', r.trueVsObserved],
      ['PINN vs observed', r.pinnVsObserved],
      ['baseline vs observed', r.baselineVsObserved],
      ['PINN vs true deck', r.pinnVsTrue],
      ['baseline vs true deck', r.baselineVsTrue],
    ];
    const ratio = checks.find((c) => c.name === 'pinnSpectra.sunResidualRatio');
    sunHtml = `<h3>The Sun (Fig. 5)</h3><p>${escapeHtml(sun.deck)} (Teff ${formatNumber(l.teffK)} K, log g ${formatNumber(l.logg)}, [Fe/H] ${formatNumber(l.feh)}, [α/Fe] ${formatNumber(l.afe)}) and the emulated atmospheres at its labels, against ${escapeHtml(sun.observedFile)} (v_mic ${formatNumber(sun.settings.vmicKms)} km/s, v sin i ${formatNumber(sun.settings.vsiniKms)} km/s, macroturbulence ${formatNumber(sun.settings.vmacKms)} km/s, R ${formatNumber(sun.settings.resolution)}; continuum: ${escapeHtml(sun.method)}).</p>${table(
      ['|a − b| (normalized flux)', 'median', '95th percentile', 'maximum'],
      rows
        .filter(([, v]) => v !== null)
        .map(([name, v]) => [name, formatNumber(v!.median), formatNumber(v!.p95), formatNumber(v!.max)]),
      'pinn-spectra-sun',
    )}<p>Median |obs. − synth.| of the PINN's atmosphere over the true deck's: ${ratio?.value != null ? ratio.value.toFixed(3) : '—'}${ratio ? ` (limit ≤ ${formatNumber(ratio.limit)}) ${badge(ratio.pass)}` : ''}.</p>`;
  }
  return `<p>Spectra synthesized with ${escapeHtml(ps.engine.name)} from the emulator's atmospheres and from the true ATLAS9 decks at the same labels, with identical settings; ΔF = F(emulated atmosphere) − F(true deck) in normalized flux, statistics per model over every pixel of the windows. ${ps.models.length} models: a seeded sample (seed ${sample.seed}) of the ${sample.candidates} ${escapeHtml(splitTitle(sample.split))} models with Teff ${formatNumber(sample.teffRangeK[0])}–${formatNumber(sample.teffRangeK[1])} K.${failuresNote(ps)}${rhoxRepairsNote(ps)}</p>${stats}<p class="physics-verdict">${escapeHtml(physicsLossVerdict(ps))}</p>${settings}${sunHtml}`;
}

function cvaeSummary(m: RunMetrics): string {
  const c = m.cvae!;
  const n = c.residuals?.meanAbsResidual.length;
  const t = c.training;
  const trainingText = t
    ? `<p>Training: preset <code>${escapeHtml(t.preset)}</code>, ${t.trainExamples} training and ${t.valExamples} validation spectra, ${t.epochsDone} epochs, best epoch ${t.bestEpoch ?? '—'}${t.budgetSpent ? ' (ended by the time budget)' : ''}.</p>`
    : '';
  const sp = c.speed;
  const pysmeRate = sp?.pysmeCoreSecondsPerSpectrum ? sp.cores / sp.pysmeCoreSecondsPerSpectrum : null;
  const speedText = sp
    ? `<h3>Generation speed</h3><p>On this machine (${sp.cores} cores): the CVAE against PySME, which made the training grid (one PySME process per core; with intensity reuse, one radiative-transfer call serves several v sin i and R).</p>${table(
        ['CVAE (spectra/s)', 'PySME with reuse (spectra/s)', 'PySME per call (core-s)', 'CVAE ÷ PySME'],
        [
          [
            formatNumber(sp.cvaeSpectraPerSecond),
            formatNumber(pysmeRate),
            formatNumber(sp.pysmeCoreSecondsPerCall),
            pysmeRate ? `${formatNumber(sp.cvaeSpectraPerSecond / pysmeRate)} ×` : '—',
          ],
        ],
      )}`
    : '';
  return `<p>Wavelength-averaged absolute residual |generated − reference| (paper eq. 6) in normalized flux${n ? ` over ${n} ${escapeHtml(c.split ? splitTitle(c.split) : 'held-out')} spectra` : ''}.</p>${table(
    ['median', '95th percentile', 'maximum'],
    [[formatNumber(c.summary.median), formatNumber(c.summary.p95), formatNumber(c.summary.max)]],
  )}${trainingText}${speedText}`;
}

function synthesisSummary(m: RunMetrics): string {
  const sun = m.synthesis!.sun;
  if (!sun)
    return `<p>Engine: ${escapeHtml(m.synthesis!.engine.name)} ${escapeHtml(m.synthesis!.engine.version)}.</p>`;
  const s = sun.settings;
  return `<p>The engine that made the training spectra, checked on the Sun: ${escapeHtml(sun.deck)} with the line list ${escapeHtml(sun.linelist)}, against the observed ${escapeHtml(sun.observedFile)}.</p>${table(
    [
      'median |obs. − synth.|',
      '95th percentile',
      'pixels',
      'left out',
      'v_mic',
      'v sin i',
      'macroturbulence',
      'R',
    ],
    [
      [
        formatNumber(sun.medianAbsResidual),
        formatNumber(sun.p95AbsResidual),
        String(sun.pixels),
        sun.excluded.map((r) => `${r.fromAngstrom.toFixed(1)}–${r.toAngstrom.toFixed(1)} Å`).join(', ') ||
          'none',
        `${s.vmicKms} km/s`,
        `${s.vsiniKms} km/s`,
        `${s.vmacKms} km/s`,
        formatNumber(s.resolution),
      ],
    ],
  )}`;
}

function recoveryTable(m: RunMetrics, checks: Check[]): string {
  const r = m.recovery!;
  const rows = r.rmse.map((row) => {
    const info = LABEL_INFO[row.label];
    const factor = recoveryFactorOf(m.thresholds, row.label);
    const check = checks.find((c) => c.name === `recovery.${row.label}`);
    return [
      `${escapeHtml(info.label)} (${escapeHtml(info.unit)})`,
      formatNumber(row.train),
      formatNumber(row.val),
      formatNumber(row.test),
      formatNumber(row.generated),
      `${formatNumber(factor * row.test)} (${factor} ×)`,
      check ? badge(check.pass) : '—',
    ];
  });
  return `<h3>RMSE per label (Table 3)</h3>
<p>Root-mean-square error of the predicted labels in physical units. Verdict: generated RMSE ≤ factor × test RMSE, with the label's factor.</p>
${table(['label (unit)', 'train', 'validation', 'test', 'generated', 'limit (factor × test)', 'verdict'], rows, 'rmse')}`;
}

function metadataHtml(m: RunMetrics): string {
  const run = m.run;
  const mach = run.machine;
  const gib = (b: number) => `${(b / 2 ** 30).toFixed(1)} GiB`;
  const kv = [
    ['run id', `<code>${escapeHtml(run.id)}</code>`],
    ['created', escapeHtml(run.createdAt)],
    ['git commit', run.gitCommit ? `<code>${escapeHtml(run.gitCommit)}</code>` : 'unknown'],
    ['backend', escapeHtml(run.backend)],
    [
      'machine',
      escapeHtml(
        `${mach.cpus} CPUs${mach.cpuModel ? ` (${mach.cpuModel})` : ''}, ${gib(mach.memoryBytes)} memory, Node ${mach.nodeVersion}${mach.platform ? `, ${mach.platform}` : ''}${mach.arch ? `/${mach.arch}` : ''}`,
      ),
    ],
  ];
  const durations = Object.entries(run.durationsSeconds);
  const hashes = Object.entries(run.datasetHashes);
  return `${table(['', ''], kv, 'kv')}
<h3>Durations</h3>
${
  durations.length
    ? table(
        ['step', 'duration (s)'],
        durations.map(([k, v]) => [escapeHtml(k), formatNumber(v)]),
      )
    : '<p>none recorded</p>'
}
<h3>Dataset hashes</h3>
${
  hashes.length
    ? table(
        ['dataset', 'sha256'],
        hashes.map(([k, v]) => [escapeHtml(k), `<code>${escapeHtml(v)}</code>`]),
      )
    : '<p>none recorded</p>'
}
<h3>Configuration</h3>
<pre class="config">${escapeHtml(JSON.stringify(run.config, null, 2))}</pre>`;
}

const CSS = `
:root { color-scheme: light; }
body { font-family: 'DejaVu Sans', 'Liberation Sans', Arial, Helvetica, sans-serif; margin: 0 auto; max-width: 1180px; padding: 1.5rem; color: #222; background: #fff; }
h1 { font-size: 1.6rem; margin-bottom: 0.2rem; }
h2 { border-bottom: 2px solid #ddd; padding-bottom: 0.2rem; margin-top: 2.2rem; }
h3 { font-size: 1.05rem; margin: 1.2rem 0 0.4rem; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; font-size: 0.9rem; }
th, td { border: 1px solid #ddd; padding: 0.25rem 0.6rem; text-align: right; }
th:first-child, td:first-child { text-align: left; }
table.kv td { text-align: left; }
thead th { background: #f4f4f4; }
code { font-size: 0.85rem; }
.badge { display: inline-block; padding: 0.05rem 0.5rem; border-radius: 0.6rem; font-weight: bold; font-size: 0.85rem; color: #fff; }
.badge.pass { background: #2e7d32; }
.badge.fail { background: #c62828; }
.verdict { font-size: 1.1rem; }
figure { margin: 1rem 0 2rem; }
figure .svg { overflow-x: auto; }
figure svg { max-width: 100%; height: auto; }
figcaption { font-size: 0.9rem; color: #444; margin-top: 0.4rem; max-width: 900px; }
.files { white-space: nowrap; }
pre.config { background: #f7f7f7; border: 1px solid #e4e4e4; padding: 0.8rem; font-size: 0.8rem; overflow-x: auto; max-height: 28rem; }
.muted { color: #666; }
`;

/** The whole page. Figures are inline SVG; links point at the SVG/PNG files next to it. */
export function renderHtml(
  m: RunMetrics,
  figures: RenderedFigure[],
  checks: Check[],
  pass: boolean,
  generatedAt: string,
): string {
  const bySection = (s: FigureSpec['section']) =>
    figures
      .filter((f) => f.figure.section === s)
      .map(figureHtml)
      .join('\n');
  const absent = [
    ['PINN', m.pinn],
    ['spectra from emulated atmospheres', m.pinnSpectra],
    ['CVAE', m.cvae],
    ['parameter recovery', m.recovery],
    ['spectrum synthesis', m.synthesis],
  ]
    .filter(([, v]) => !v)
    .map(([k]) => k as string);
  const sections: string[] = [];
  if (m.pinn)
    sections.push(
      `<section id="pinn"><h2>PINN atmospheres (Kurucz-a1)</h2>${pinnSummary(m)}${bySection('pinn')}</section>`,
    );
  if (m.pinnSpectra)
    sections.push(
      `<section id="pinn-spectra"><h2>Spectra from emulated atmospheres (Kurucz-a1 Fig. 5)</h2>${pinnSpectraSummary(m, checks)}${bySection('pinnSpectra')}</section>`,
    );
  if (m.cvae)
    sections.push(`<section id="cvae"><h2>CVAE spectra</h2>${cvaeSummary(m)}${bySection('cvae')}</section>`);
  if (m.recovery)
    sections.push(
      `<section id="recovery"><h2>Parameter recovery</h2>${recoveryTable(m, checks)}${bySection('recovery')}</section>`,
    );
  if (m.synthesis)
    sections.push(
      `<section id="synthesis"><h2>Spectrum synthesis (PySME)</h2>${synthesisSummary(m)}${bySection('synthesis')}</section>`,
    );
  const title = `stellar-emu report — run ${m.run.id}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<link rel="icon" href="data:,">
<title>${escapeHtml(title)}</title>
<style>${CSS}</style>
</head>
<body>
<header>
<h1>${escapeHtml(title)}</h1>
<p class="muted">Generated ${escapeHtml(generatedAt)} from metrics contract v${METRICS_SCHEMA_VERSION}; commit ${escapeHtml(m.run.gitCommit ?? 'unknown')}; backend ${escapeHtml(m.run.backend)}.</p>
<p class="verdict" id="overall-verdict" data-pass="${pass}">Overall: ${badge(pass)} (${checks.filter((c) => c.pass).length} of ${checks.length} checks pass)</p>
${absent.length ? `<p class="muted">Not in this run: ${escapeHtml(absent.join(', '))}.</p>` : ''}
</header>
<section id="checks"><h2>Checks</h2>${checksHtml(checks)}</section>
${sections.join('\n')}
<section id="run"><h2>Run metadata</h2>${metadataHtml(m)}</section>
</body>
</html>
`;
}
