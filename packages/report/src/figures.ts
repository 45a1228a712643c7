// Figures as Vega-Lite specs built from the metrics; each exists only when its metrics exist.
import { ATMOSPHERE_QUANTITY_INFO, splitTitle, type AtmosphereQuantity } from '@stellar-emu/grid-io';
import { blockMeans, quantile } from '@stellar-emu/numerics';
import type { TopLevelSpec } from 'vega-lite';
import {
  DEFAULT_PINN_SPECTRA_MEDIAN_ABS_DELTA_F,
  DEFAULT_PINN_SPECTRA_P95_ABS_DELTA_F,
  PINN_LABELS,
  SPECTRUM_LABELS,
  type CvaeSection,
  type PinnSection,
  type PinnSpectraSection,
  type RecoverySection,
  type RunMetrics,
  type SpectrumLabel,
  type SynthesisSection,
} from '@stellar-emu/metrics';
import { LABEL_INFO } from './labels.js';
import { cvaeMarginals, MARGINAL_BINS } from './checks.js';

/** One figure of the report: id (file stem), section, title, caption and its Vega-Lite spec. */
export interface FigureSpec {
  id: string;
  section: 'pinn' | 'pinnSpectra' | 'cvae' | 'recovery' | 'synthesis';
  title: string;
  caption: string;
  spec: TopLevelSpec;
}

const FONT = 'DejaVu Sans, Liberation Sans, Arial, Helvetica, sans-serif';

/** Shared Vega-Lite config: fonts available to resvg and browsers alike, white background. */
export const VEGA_LITE_CONFIG = {
  font: FONT,
  background: 'white',
  view: { stroke: '#bbb' },
  axis: { labelFontSize: 11, titleFontSize: 12, grid: true, gridColor: '#eee' },
  header: { labelFontSize: 12, titleFontSize: 12 },
  legend: { labelFontSize: 11, titleFontSize: 12, labelLimit: 320 },
  title: { fontSize: 14, anchor: 'start' as const },
};

const MODEL_COLORS = {
  domain: ['grid', 'PINN', 'MLP baseline (α = 0)'],
  range: ['#333333', '#1f77b4', '#d62728'],
};
const MODEL_NAME = { grid: 'grid', pinn: 'PINN', baseline: 'MLP baseline (α = 0)' } as const;

const axisTitle = (name: string, unit: string) => `${name} (${unit})`;
/** A number in a caption: 3 significant digits. */
const sig3 = (x: number) => String(Number(x.toPrecision(3)));
const labelTitle = (k: SpectrumLabel | (typeof PINN_LABELS)[number], prefix = '') => {
  const info = LABEL_INFO[k];
  return `${prefix}${info.label} (${info.unit})`;
};

/** Relative error against depth, median and 16–84 % band, one panel per quantity (paper Fig. 2). */
function pinnDepthError(pinn: PinnSection): FigureSpec {
  const order: AtmosphereQuantity[] = ['rhox', 'temperature', 'pressure', 'abross', 'xne', 'accrad'];
  const present = order.filter((q) => pinn.depthError.some((d) => d.quantity === q));
  const values = present.flatMap((q) => {
    const d = pinn.depthError.find((x) => x.quantity === q)!;
    const info = ATMOSPHERE_QUANTITY_INFO[q];
    const panel = `${info.deckColumn} (${info.unitUnicode})`;
    return d.logTau.map((t, i) => ({
      panel,
      logTau: t,
      median: Math.max(d.medianPercent[i], 1e-4),
      p16: Math.max(d.p16Percent[i], 1e-4),
      p84: Math.max(d.p84Percent[i], 1e-4),
    }));
  });
  const panels = present.map(
    (q) => `${ATMOSPHERE_QUANTITY_INFO[q].deckColumn} (${ATMOSPHERE_QUANTITY_INFO[q].unitUnicode})`,
  );
  return {
    id: 'pinn-depth-error',
    section: 'pinn',
    title: 'PINN: relative error against depth',
    caption: `Relative error |pred − true| / |true| of each quantity over the ${splitTitle(pinn.split)} split (${pinn.nModels} models): median (line) and 16–84 % band, against Rosseland optical depth.`,
    spec: {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      config: VEGA_LITE_CONFIG,
      data: { values },
      facet: { field: 'panel', type: 'nominal', sort: panels, title: null },
      columns: 3,
      resolve: { scale: { y: 'independent' } },
      spec: {
        width: 250,
        height: 170,
        encoding: { x: { field: 'logTau', type: 'quantitative', title: 'log τ_Ross (dimensionless)' } },
        layer: [
          {
            mark: { type: 'area', opacity: 0.25, color: '#1f77b4' },
            encoding: {
              y: { field: 'p16', type: 'quantitative', scale: { type: 'log' }, title: 'relative error (%)' },
              y2: { field: 'p84' },
            },
          },
          {
            mark: { type: 'line', color: '#1f77b4', strokeWidth: 2 },
            encoding: { y: { field: 'median', type: 'quantitative' } },
          },
        ],
      },
    },
  };
}

/** dP/dτ against g/κ for grid, PINN and baseline of one star, and their log ratio against depth (Fig. 3). */
function pinnHydrostatic(pinn: PinnSection): FigureSpec | null {
  const h = pinn.hydrostatic;
  if (!h) return null;
  const values = h.curves
    .flatMap((c) =>
      c.tau.map((t, i) => ({
        model: MODEL_NAME[c.model],
        logTau: Math.log10(t),
        dPdTau: c.dPdTau[i],
        gOverKappa: c.gOverKappa[i],
        ratioDex: Math.log10(c.dPdTau[i]) - Math.log10(c.gOverKappa[i]),
      })),
    )
    .filter((v) => v.dPdTau > 0 && v.gOverKappa > 0);
  const all = values.flatMap((v) => [v.dPdTau, v.gOverKappa]);
  const lo = Math.min(...all);
  const hi = Math.max(...all);
  const s = h.star;
  const starText = `Teff = ${Math.round(s.teffK)} K, log g = ${s.logg.toFixed(2)}, [Fe/H] = ${s.feh.toFixed(2)}, [α/Fe] = ${s.afe.toFixed(2)}`;
  return {
    id: 'pinn-hydrostatic',
    section: 'pinn',
    title: 'PINN: hydrostatic equilibrium of a red giant',
    caption: `Hydrostatic equilibrium dP/dτ = g/κ for ${starText}: each model's pressure gradient against g over its own Rosseland opacity (dashed: equality), and the ratio in dex against depth.`,
    spec: {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      config: VEGA_LITE_CONFIG,
      title: starText,
      hconcat: [
        {
          width: 330,
          height: 280,
          layer: [
            {
              data: {
                values: [
                  { x: lo, y: lo },
                  { x: hi, y: hi },
                ],
              },
              mark: { type: 'line', strokeDash: [5, 4], color: '#999' },
              encoding: {
                x: {
                  field: 'x',
                  type: 'quantitative',
                  scale: { type: 'log' },
                  title: axisTitle('g/κ', 'dyn cm⁻²'),
                  axis: { format: '.0e' },
                },
                y: {
                  field: 'y',
                  type: 'quantitative',
                  scale: { type: 'log' },
                  title: axisTitle('dP/dτ', 'dyn cm⁻²'),
                  axis: { format: '.0e' },
                },
              },
            },
            {
              data: { values },
              mark: { type: 'line', point: { size: 12 }, strokeWidth: 1.5 },
              encoding: {
                x: { field: 'gOverKappa', type: 'quantitative' },
                y: { field: 'dPdTau', type: 'quantitative' },
                color: { field: 'model', type: 'nominal', scale: MODEL_COLORS, title: 'model' },
                order: { field: 'logTau', type: 'quantitative' },
              },
            },
          ],
        },
        {
          width: 330,
          height: 280,
          data: { values },
          mark: { type: 'line', strokeWidth: 1.5 },
          encoding: {
            x: { field: 'logTau', type: 'quantitative', title: 'log τ_Ross (dimensionless)' },
            y: { field: 'ratioDex', type: 'quantitative', title: axisTitle('log dP/dτ − log g/κ', 'dex') },
            color: { field: 'model', type: 'nominal', scale: MODEL_COLORS, title: 'model' },
          },
        },
      ],
    },
  };
}

/** Histograms of the hydrostatic residual for grid, PINN and baseline (Fig. 4). */
function pinnResiduals(pinn: PinnSection): FigureSpec | null {
  const r = pinn.hydrostaticResiduals;
  if (!r) return null;
  // Common range: the widest 1–99 % interval; values beyond are gathered in the end bins.
  const limit = Math.max(
    ...r.map((x) =>
      Math.max(Math.abs(quantile(x.residualDex, 0.01)), Math.abs(quantile(x.residualDex, 0.99))),
    ),
    1e-4,
  );
  const nBins = 40;
  const width = (2 * limit) / nBins;
  const values = r.flatMap((x) => {
    const counts = new Array<number>(nBins).fill(0);
    for (const v of x.residualDex)
      counts[Math.min(nBins - 1, Math.max(0, Math.floor((v + limit) / width)))] += 1;
    return counts.map((c, i) => ({
      model: MODEL_NAME[x.model],
      lo: -limit + i * width,
      hi: -limit + (i + 1) * width,
      fraction: c / x.residualDex.length,
    }));
  });
  return {
    id: 'pinn-hydrostatic-residuals',
    section: 'pinn',
    title: 'PINN: distribution of the hydrostatic residual',
    caption: `Residual log10(dP/dτ) − log10(g/κ) pooled over the ${splitTitle(pinn.split)} models and interior depths, per model; values beyond ±${limit.toPrecision(2)} dex are counted in the end bins.`,
    spec: {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      config: VEGA_LITE_CONFIG,
      data: { values },
      facet: { field: 'model', type: 'nominal', sort: MODEL_COLORS.domain, title: null },
      spec: {
        width: 250,
        height: 180,
        mark: { type: 'rect' },
        encoding: {
          x: {
            field: 'lo',
            type: 'quantitative',
            title: axisTitle('log dP/dτ − log g/κ', 'dex'),
            scale: { domain: [-limit, limit] },
          },
          x2: { field: 'hi' },
          y: { field: 'fraction', type: 'quantitative', title: 'fraction of layers' },
          color: { field: 'model', type: 'nominal', scale: MODEL_COLORS, legend: null },
        },
      },
    },
  };
}

/** Per-model median relative error against each label. */
function pinnLabelError(pinn: PinnSection): FigureSpec | null {
  const e = pinn.labelError;
  if (!e) return null;
  const values = e.medianPercent.map((m, i) => ({
    error: Math.max(m, 1e-4),
    ...Object.fromEntries(PINN_LABELS.map((k) => [k, e.labels[k][i]])),
  }));
  return {
    id: 'pinn-label-error',
    section: 'pinn',
    title: 'PINN: error against each label',
    caption: `Median relative error over depths and quantities of each ${splitTitle(pinn.split)} model, against its labels.`,
    spec: {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      config: VEGA_LITE_CONFIG,
      data: { values },
      hconcat: PINN_LABELS.map((k) => ({
        width: 190,
        height: 170,
        mark: { type: 'point', filled: true, size: 22, opacity: 0.7, color: '#1f77b4' },
        encoding: {
          x: { field: k, type: 'quantitative', title: labelTitle(k), scale: { zero: false } },
          y: {
            field: 'error',
            type: 'quantitative',
            title: 'median relative error (%)',
            scale: { type: 'log' },
          },
        },
      })),
    },
  };
}

/** Generated against reference spectra, with the difference below each (CVAE Fig. 3). */
function cvaeSpectra(cvae: CvaeSection): FigureSpec | null {
  const ex = cvae.examples;
  if (!ex || ex.length === 0) return null;
  const fmt = (l: (typeof ex)[number]['labels']) =>
    `Teff ${Math.round(l.teffK)} K, log g ${l.logg.toFixed(2)}, v sin i ${l.vsiniKms.toFixed(0)} km/s, [M/H] ${l.mh.toFixed(2)}, v_mic ${l.vmicKms.toFixed(1)} km/s, R ${Math.round(l.resolution)}`;
  return {
    id: 'cvae-spectra',
    section: 'cvae',
    title: 'CVAE: generated against reference spectra',
    caption:
      'Spectra generated by the CVAE at random test labels against the reference spectra at the same labels; lower panels: generated − reference.',
    spec: {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      config: VEGA_LITE_CONFIG,
      vconcat: ex.map((e) => {
        const rows = e.referenceFlux.flatMap((f, i) => {
          const w = e.wavelengthStartAngstrom + i * e.wavelengthStepAngstrom;
          return [
            { wavelength: w, flux: f, kind: 'reference', diff: e.generatedFlux[i] - f },
            { wavelength: w, flux: e.generatedFlux[i], kind: 'generated (CVAE)', diff: null },
          ];
        });
        return {
          data: { values: rows },
          title: { text: fmt(e.labels), fontSize: 12 },
          vconcat: [
            {
              width: 760,
              height: 150,
              mark: { type: 'line', strokeWidth: 1 },
              encoding: {
                x: {
                  field: 'wavelength',
                  type: 'quantitative',
                  title: null,
                  scale: { zero: false, nice: false },
                },
                y: { field: 'flux', type: 'quantitative', title: 'normalized flux', scale: { zero: false } },
                color: {
                  field: 'kind',
                  type: 'nominal',
                  title: null,
                  scale: { domain: ['reference', 'generated (CVAE)'], range: ['#333333', '#1f77b4'] },
                },
                strokeDash: {
                  field: 'kind',
                  type: 'nominal',
                  legend: null,
                  scale: {
                    domain: ['reference', 'generated (CVAE)'],
                    range: [
                      [1, 0],
                      [4, 2],
                    ],
                  },
                },
              },
            },
            {
              width: 760,
              height: 60,
              transform: [{ filter: 'datum.diff !== null' }],
              mark: { type: 'line', strokeWidth: 1, color: '#d62728' },
              encoding: {
                x: {
                  field: 'wavelength',
                  type: 'quantitative',
                  title: axisTitle('wavelength', 'Å'),
                  scale: { zero: false, nice: false },
                },
                y: { field: 'diff', type: 'quantitative', title: 'gen. − ref.' },
              },
            },
          ],
        };
      }),
    },
  };
}

function residualRows(cvae: CvaeSection): ({ residual: number } & Record<SpectrumLabel, number>)[] {
  const r = cvae.residuals!;
  return r.meanAbsResidual.map((m, i) => ({
    residual: m,
    ...(Object.fromEntries(SPECTRUM_LABELS.map((k) => [k, r.labels[k][i]])) as Record<SpectrumLabel, number>),
  }));
}

const RESIDUAL_TITLE = 'mean |generated − reference| (normalized flux)';

/** Colour of the residual heat maps: the median residual per cell. */
const MEDIAN_RESIDUAL_COLOR = {
  aggregate: 'median' as const,
  field: 'residual',
  type: 'quantitative' as const,
  title: ['median residual', '(normalized flux)'],
  scale: { scheme: 'viridis' },
};

/** Loss curves of the CVAE training: objective, reconstruction (train and validation) and KL per epoch. */
function cvaeTraining(cvae: CvaeSection): FigureSpec | null {
  const t = cvae.training;
  if (!t || t.history.length === 0) return null;
  // Reconstruction losses are mean squared errors of the scaled flux: shown as RMS in normalized flux.
  const rms = (mse: number) => Math.sqrt(mse) * t.fluxScale;
  const loss = t.history.flatMap((h) => [
    ...(h.trainRecon !== undefined
      ? [{ epoch: h.epoch, value: rms(h.trainRecon), curve: 'train: reconstruction' }]
      : []),
    ...(h.valLoss !== null
      ? [{ epoch: h.epoch, value: rms(h.valLoss), curve: 'validation: reconstruction (early stopping)' }]
      : []),
  ]);
  const kl = t.history.flatMap((h) => [
    ...(h.trainKl !== undefined ? [{ epoch: h.epoch, value: h.trainKl, curve: 'train' }] : []),
    ...(h.trainKlMu !== undefined
      ? [{ epoch: h.epoch, value: h.trainKlMu, curve: 'train: ½Σμ² (means)' }]
      : []),
    ...(h.trainKlVar !== undefined
      ? [{ epoch: h.epoch, value: h.trainKlVar, curve: 'train: ½Σ(σ² − ln σ² − 1) (variances)' }]
      : []),
    ...(h.valKl !== undefined ? [{ epoch: h.epoch, value: h.valKl, curve: 'validation' }] : []),
  ]);
  const panel = (values: typeof loss, title: string) => ({
    width: 360,
    height: 220,
    data: { values: values.filter((v) => v.value > 0) },
    mark: { type: 'line' as const, strokeWidth: 1.5 },
    encoding: {
      x: { field: 'epoch', type: 'quantitative' as const, title: 'epoch' },
      y: { field: 'value', type: 'quantitative' as const, scale: { type: 'log' as const }, title },
      color: {
        field: 'curve',
        type: 'nominal' as const,
        title: null,
        legend: { orient: 'top' as const, direction: 'vertical' as const, labelLimit: 480 },
      },
    },
  });
  return {
    id: 'cvae-training',
    section: 'cvae',
    title: 'CVAE: training curves',
    caption: `Preset ${t.preset}: per-epoch root-mean-square reconstruction error per pixel (training with posterior samples; validation with a fixed latent draw, the early-stopping signal) and the KL term (nats per spectrum, summed over the latent dimensions), log scales${t.bestEpoch !== null ? `; best validation epoch ${t.bestEpoch}` : ''}.`,
    spec: {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      config: VEGA_LITE_CONFIG,
      hconcat: [
        panel(loss, 'RMS reconstruction error (normalized flux)'),
        ...(kl.length ? [panel(kl, 'KL term (nats)')] : []),
      ],
      resolve: { scale: { color: 'independent' } },
    },
  };
}

/** Binned median residual over Teff–log g (CVAE Fig. 5). */
function cvaeHeatmap(cvae: CvaeSection): FigureSpec | null {
  if (!cvae.residuals) return null;
  return {
    id: 'cvae-residual-heatmap',
    section: 'cvae',
    title: 'CVAE: residual over Teff–log g',
    caption:
      'Median of the wavelength-averaged absolute residual per Teff–log g bin (Kiel diagram orientation: both axes decrease to the right and upwards).',
    spec: {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      config: VEGA_LITE_CONFIG,
      data: { values: residualRows(cvae) },
      width: 460,
      height: 320,
      mark: { type: 'rect', stroke: 'white', strokeWidth: 0.5 },
      encoding: {
        x: {
          field: 'teffK',
          type: 'quantitative',
          bin: { maxbins: 12 },
          title: labelTitle('teffK'),
          scale: { reverse: true },
        },
        y: {
          field: 'logg',
          type: 'quantitative',
          bin: { maxbins: 10 },
          title: labelTitle('logg'),
          scale: { reverse: true },
        },
        color: MEDIAN_RESIDUAL_COLOR,
      },
    },
  };
}

/** The label planes beside Teff–log g (Fig. 5's companions): pairs a residual structure would show in. */
const RESIDUAL_PLANES: [SpectrumLabel, SpectrumLabel][] = [
  ['teffK', 'mh'],
  ['teffK', 'vsiniKms'],
  ['logg', 'mh'],
  ['mh', 'vmicKms'],
  ['vsiniKms', 'resolution'],
  ['teffK', 'vmicKms'],
];

/** Median residual in the other 2D label planes (R binned in log10 R). */
function cvaeResidualPlanes(cvae: CvaeSection): FigureSpec | null {
  if (!cvae.residuals) return null;
  const rows = residualRows(cvae).map((r) => ({
    ...r,
    log10Resolution: (r.resolution as number) > 0 ? Math.log10(r.resolution as number) : null,
  }));
  const axis = (k: SpectrumLabel) =>
    k === 'resolution'
      ? { field: 'log10Resolution', title: 'log10 R (R = λ/Δλ, dimensionless)' }
      : { field: k, title: labelTitle(k) };
  return {
    id: 'cvae-residual-planes',
    section: 'cvae',
    title: 'CVAE: residual over the other label planes',
    caption:
      'Median wavelength-averaged absolute residual per bin of each label pair (R binned in log10 R); empty cells hold no test spectrum.',
    spec: {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      config: VEGA_LITE_CONFIG,
      data: { values: rows },
      columns: 3,
      concat: RESIDUAL_PLANES.map(([a, b]) => ({
        width: 220,
        height: 170,
        transform:
          b === 'resolution' || a === 'resolution' ? [{ filter: 'datum.log10Resolution !== null' }] : [],
        mark: { type: 'rect', stroke: 'white', strokeWidth: 0.5 },
        encoding: {
          x: { ...axis(a), type: 'quantitative', bin: { maxbins: 8 } },
          y: { ...axis(b), type: 'quantitative', bin: { maxbins: 8 } },
          color: MEDIAN_RESIDUAL_COLOR,
        },
      })),
      resolve: { scale: { color: 'shared' } },
    },
  };
}

/** Residual against each label with binned mean ± sd and median, each panel binned on its own label (CVAE Fig. 6). */
function cvaeResidualLabels(cvae: CvaeSection): FigureSpec | null {
  if (!cvae.residuals) return null;
  const rows = residualRows(cvae);
  const overall = quantile(cvae.residuals.meanAbsResidual, 0.5);
  const marginals = cvaeMarginals(cvae);
  return {
    id: 'cvae-residual-labels',
    section: 'cvae',
    title: 'CVAE: residual against each label',
    caption:
      'Wavelength-averaged absolute residual of each test spectrum against each of its labels (points). Each panel is binned on its own label ' +
      `(${MARGINAL_BINS} equal-width bins over the label's range; R in log R, on a log axis): red, the binned mean with ± 1 standard deviation; ` +
      `black, the binned median; dashed, twice the overall median (${overall.toPrecision(3)}), the acceptance limit of the binned means.`,
    spec: {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      config: VEGA_LITE_CONFIG,
      columns: 3,
      concat: marginals.map((m) => {
        const k = m.label;
        const xs = rows
          .map((row) => row[k] as number)
          .filter((v) => Number.isFinite(v) && (k !== 'resolution' || v > 0));
        const domain = [Math.min(...xs), Math.max(...xs)];
        const xScale =
          k === 'resolution'
            ? { type: 'log' as const, domain, nice: false }
            : { zero: false, domain, nice: false };
        const curve = m.center
          .map((c, i) => ({
            x: c,
            mean: m.mean[i],
            lo: m.mean[i] === null ? null : m.mean[i]! - (m.sd[i] ?? 0),
            hi: m.mean[i] === null ? null : m.mean[i]! + (m.sd[i] ?? 0),
            median: m.median[i],
            n: m.count[i],
          }))
          .filter((c) => c.n > 0);
        return {
          width: 230,
          height: 160,
          layer: [
            {
              data: { values: rows.map((row) => ({ x: row[k], residual: row.residual })) },
              transform: k === 'resolution' ? [{ filter: 'datum.x > 0' }] : [],
              mark: { type: 'point', filled: true, size: 12, opacity: 0.35, color: '#1f77b4' },
              encoding: {
                x: { field: 'x', type: 'quantitative', title: labelTitle(k), scale: xScale },
                y: { field: 'residual', type: 'quantitative', title: RESIDUAL_TITLE },
              },
            },
            {
              data: { values: curve },
              mark: { type: 'errorbar', color: '#d62728', ticks: true },
              encoding: {
                x: { field: 'x', type: 'quantitative', scale: xScale },
                y: { field: 'lo', type: 'quantitative', title: RESIDUAL_TITLE },
                y2: { field: 'hi' },
              },
            },
            {
              data: { values: curve },
              mark: { type: 'line', color: '#d62728', point: { color: '#d62728', size: 24 } },
              encoding: {
                x: { field: 'x', type: 'quantitative', scale: xScale },
                y: { field: 'mean', type: 'quantitative', title: RESIDUAL_TITLE },
              },
            },
            {
              data: { values: curve },
              mark: { type: 'line', color: '#000000', strokeWidth: 1 },
              encoding: {
                x: { field: 'x', type: 'quantitative', scale: xScale },
                y: { field: 'median', type: 'quantitative', title: RESIDUAL_TITLE },
              },
            },
            {
              data: { values: [{ limit: 2 * overall }] },
              mark: { type: 'rule', color: '#555555', strokeDash: [4, 3] },
              encoding: { y: { field: 'limit', type: 'quantitative', title: RESIDUAL_TITLE } },
            },
          ],
        };
      }),
    },
  };
}

/** Predicted against true per label for test and generated spectra (recovery Fig. 4). */
function recoveryScatter(recovery: RecoverySection): FigureSpec | null {
  const s = recovery.scatter;
  if (!s || s.length === 0) return null;
  return {
    id: 'recovery-scatter',
    section: 'recovery',
    title: 'Parameter recovery: predicted against true',
    caption:
      'Labels predicted from the test spectra and from CVAE-generated spectra at the same labels, against the true labels (dashed: equality).',
    spec: {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      config: VEGA_LITE_CONFIG,
      columns: 3,
      concat: s.map((entry) => {
        const rows = [
          ...entry.test.true.map((t, i) => ({ truth: t, predicted: entry.test.predicted[i], set: 'test' })),
          ...entry.generated.true.map((t, i) => ({
            truth: t,
            predicted: entry.generated.predicted[i],
            set: 'generated',
          })),
        ];
        const all = rows.flatMap((r) => [r.truth, r.predicted]);
        const lo = Math.min(...all);
        const hi = Math.max(...all);
        const scale =
          entry.label === 'resolution' && lo > 0
            ? { type: 'log' as const, domain: [lo, hi], nice: false }
            : { domain: [lo, hi], zero: false };
        return {
          width: 220,
          height: 200,
          layer: [
            {
              data: {
                values: [
                  { truth: lo, predicted: lo },
                  { truth: hi, predicted: hi },
                ],
              },
              mark: { type: 'line', strokeDash: [5, 4], color: '#999' },
              encoding: {
                x: { field: 'truth', type: 'quantitative', title: labelTitle(entry.label, 'true '), scale },
                y: {
                  field: 'predicted',
                  type: 'quantitative',
                  title: labelTitle(entry.label, 'predicted '),
                  scale,
                },
              },
            },
            {
              data: { values: rows },
              mark: { type: 'point', filled: true, size: 16, opacity: 0.6 },
              encoding: {
                x: { field: 'truth', type: 'quantitative' },
                y: { field: 'predicted', type: 'quantitative' },
                color: {
                  field: 'set',
                  type: 'nominal',
                  title: 'spectra',
                  scale: { domain: ['test', 'generated'], range: ['#1f77b4', '#ff7f0e'] },
                },
              },
            },
          ],
        };
      }),
    } as TopLevelSpec,
  };
}

/** Zoom windows of the solar figure: Mg b and H-beta, where the strongest lines are, when inside the grid. */
const SUN_ZOOMS = [
  { name: 'H-beta', fromAngstrom: 4845, toAngstrom: 4878 },
  { name: 'Mg b', fromAngstrom: 5164, toAngstrom: 5188 },
];

/**
 * The synthesized Sun against the observed one: the whole range binned (0.5 Å means of both
 * and of the residual) and full-resolution zooms on the strongest lines, each with its residual.
 */
function synthesisSun(synthesis: SynthesisSection): FigureSpec | null {
  const sun = synthesis.sun;
  if (!sun) return null;
  const n = sun.synthesized.length;
  const wl = (i: number) => sun.wavelengthStartAngstrom + i * sun.wavelengthStepAngstrom;
  const binPx = Math.max(1, Math.round(0.5 / sun.wavelengthStepAngstrom));
  const binned: { wavelength: number; flux: number; kind: string; residual: number | null }[] = [];
  const wavelengths = Array.from({ length: n }, (_, i) => wl(i));
  for (const b of blockMeans(wavelengths, [sun.observed, sun.synthesized], binPx)) {
    const [o, s] = b.means;
    binned.push(
      { wavelength: b.x, flux: o, kind: 'observed', residual: o - s },
      { wavelength: b.x, flux: s, kind: 'synthesized (PySME)', residual: null },
    );
  }
  const colors = { domain: ['observed', 'synthesized (PySME)'], range: ['#333333', '#1f77b4'] };
  const panel = (rows: typeof binned, title: string, width: number) => ({
    data: { values: rows },
    title: { text: title, fontSize: 12 },
    vconcat: [
      {
        width,
        height: 150,
        mark: { type: 'line', strokeWidth: 1 },
        encoding: {
          x: { field: 'wavelength', type: 'quantitative', title: null, scale: { zero: false, nice: false } },
          y: { field: 'flux', type: 'quantitative', title: 'normalized flux', scale: { zero: false } },
          color: { field: 'kind', type: 'nominal', title: null, scale: colors },
        },
      },
      {
        width,
        height: 60,
        transform: [{ filter: 'datum.residual !== null' }],
        mark: { type: 'line', strokeWidth: 1, color: '#d62728' },
        encoding: {
          x: {
            field: 'wavelength',
            type: 'quantitative',
            title: axisTitle('wavelength (' + sun.settings.medium + ')', 'Å'),
            scale: { zero: false, nice: false },
          },
          y: { field: 'residual', type: 'quantitative', title: 'obs. − synth.' },
        },
      },
    ],
  });
  const zooms = SUN_ZOOMS.flatMap((z) => {
    const rows: typeof binned = [];
    for (let i = 0; i < n; i++) {
      const w = wl(i);
      const o = sun.observed[i];
      if (w < z.fromAngstrom || w > z.toAngstrom || o === null || !Number.isFinite(o)) continue;
      rows.push(
        { wavelength: w, flux: o, kind: 'observed', residual: o - sun.synthesized[i] },
        { wavelength: w, flux: sun.synthesized[i], kind: 'synthesized (PySME)', residual: null },
      );
    }
    return rows.length > 20
      ? [panel(rows, `${z.name}, ${z.fromAngstrom}–${z.toAngstrom} Å, full resolution`, 360)]
      : [];
  });
  const s = sun.settings;
  return {
    id: 'synthesis-sun',
    section: 'synthesis',
    title: 'Synthesis engine: the synthesized Sun against the observed Sun',
    caption: `${sun.deck} synthesized with PySME ${synthesis.engine.version} and the project's kernels (v_mic ${s.vmicKms} km/s, v sin i ${s.vsiniKms} km/s, macroturbulence ${s.vmacKms} km/s, R ${Math.round(s.resolution)}, ${s.medium} wavelengths) against ${sun.observedFile}; median |obs. − synth.| ${sun.medianAbsResidual.toFixed(4)} (95th percentile ${sun.p95AbsResidual.toFixed(4)}) over ${sun.pixels} pixels. Continuum: ${sun.method}.`,
    spec: {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      config: VEGA_LITE_CONFIG,
      vconcat: [panel(binned, 'whole range, 0.5 Å bins', 760), ...(zooms.length ? [{ hconcat: zooms }] : [])],
    } as TopLevelSpec,
  };
}

// ---------------------------------------------------------------------------------------------
// Spectra from the emulated atmospheres (Kurucz-a1 Fig. 5)

/** Points per series and panel above which a spectrum figure shows block means (`blockMeans`) instead of pixels. */
const MAX_PANEL_POINTS = 1500;

/** Legend names of the spectra of the pinnSpectra section. */
function spectraNames(ps: PinnSpectraSection) {
  return {
    observed: 'observed Sun',
    true: 'true deck (ATLAS9)',
    pinn: `PINN (α = ${ps.alpha})`,
    baseline: `MLP baseline (α = ${ps.baselineAlpha ?? 0})`,
  };
}

type SpectrumKind = 'observed' | 'true' | 'pinn' | 'baseline';

/**
 * Colour, dash and width of each spectrum: the MODEL_COLORS scheme (the true deck as the grid),
 * the observed Sun wide and light grey underneath.
 */
const SPECTRUM_STYLE: Record<SpectrumKind, { color: string; dash: number[]; width: number }> = {
  observed: { color: '#a6a6a6', dash: [1, 0], width: 2.5 },
  true: { color: MODEL_COLORS.range[0], dash: [1, 0], width: 1 },
  pinn: { color: MODEL_COLORS.range[1], dash: [5, 3], width: 1.2 },
  baseline: { color: MODEL_COLORS.range[2], dash: [2, 2], width: 1.2 },
};

/** Color and strokeDash encodings of the kinds present, named for `ps` (one legend). */
function spectrumEncodings(ps: PinnSpectraSection, kinds: SpectrumKind[]) {
  const names = spectraNames(ps);
  const domain = kinds.map((k) => names[k]);
  const channel = <T>(range: T[]) => ({
    field: 'kind',
    type: 'nominal' as const,
    title: null,
    scale: { domain, range },
  });
  return {
    color: channel(kinds.map((k) => SPECTRUM_STYLE[k].color)),
    strokeDash: channel(kinds.map((k) => SPECTRUM_STYLE[k].dash)),
  };
}

/** One line layer per kind in `present` (each with its stroke width) with the `y` encoding; the legend spans `kinds`. */
function spectrumLayers(ps: PinnSpectraSection, kinds: SpectrumKind[], present: SpectrumKind[], y: object) {
  const names = spectraNames(ps);
  const enc = spectrumEncodings(ps, kinds);
  return present.map((k) => ({
    transform: [{ filter: { field: 'kind', equal: names[k] } }],
    mark: { type: 'line' as const, strokeWidth: SPECTRUM_STYLE[k].width },
    encoding: { y, ...enc },
  }));
}

/** The ΔF limits of the figures: the run's thresholds or the contract's defaults. */
function pinnSpectraLimits(t: RunMetrics['thresholds']['pinnSpectra']) {
  return {
    median: t?.medianAbsDeltaF ?? DEFAULT_PINN_SPECTRA_MEDIAN_ABS_DELTA_F,
    p95: t?.p95AbsDeltaF ?? DEFAULT_PINN_SPECTRA_P95_ABS_DELTA_F,
  };
}

/** The models' |ΔF| statistics for a log axis: every value at least the smallest positive one (a 0 would be off the axis). */
function positiveFloor(values: (number | undefined)[]): number {
  const pos = values.filter((v): v is number => v !== undefined && Number.isFinite(v) && v > 0);
  return pos.length ? Math.min(...pos) : 1e-6;
}

/** Caption words for the models an emulator's atmosphere could not be synthesized for. */
const failedNote = (ps: PinnSpectraSection) => {
  const p = ps.summary.pinn.failed;
  const b = ps.summary.baseline?.failed ?? 0;
  if (!p && !b) return '';
  return ` ${p} PINN${ps.summary.baseline ? ` and ${b} baseline` : ''} atmospheres could not be synthesized (named in the section's text): they count as models but are not drawn; a cumulative curve ends at the fraction of usable atmospheres.`;
};

const modelsOf = (ps: PinnSpectraSection) =>
  (['pinn', 'baseline'] as const).filter((k) => k === 'pinn' || ps.summary.baseline !== null);

/** Cumulative distribution over models of the per-model median and 95th-percentile |ΔF|, PINN and baseline, with the limits. */
function pinnSpectraDistribution(ps: PinnSpectraSection, thresholds: RunMetrics['thresholds']): FigureSpec {
  const names = spectraNames(ps);
  const limits = pinnSpectraLimits(thresholds.pinnSpectra);
  const models = modelsOf(ps);
  const stats = ps.models.flatMap((m) => [m.pinn?.median, m.pinn?.p95, m.baseline?.median, m.baseline?.p95]);
  const floor = positiveFloor(stats);
  const zeros = stats.filter((v) => v !== undefined && v <= 0).length;
  const color = {
    field: 'model',
    type: 'nominal' as const,
    title: null,
    scale: {
      domain: models.map((k) => names[k]),
      range: models.map((k) => SPECTRUM_STYLE[k].color),
    },
  };
  const panels = (
    [
      { stat: 'median', title: 'per-model median |ΔF|', limit: limits.median },
      { stat: 'p95', title: 'per-model 95th percentile |ΔF|', limit: limits.p95 },
    ] as const
  ).map(({ stat, title, limit }) => {
    const rows = models.flatMap((k) => {
      const v = ps.models
        .map((m) => m[k]?.[stat])
        .filter((x): x is number => x !== undefined && Number.isFinite(x))
        .map((x) => Math.max(x, floor))
        .sort((a, b) => a - b);
      return [
        ...(v.length ? [{ model: names[k], value: v[0], fraction: 0 }] : []),
        // Over every model: a failed one never arrives, so the curve ends at the usable fraction.
        ...v.map((x, i) => ({ model: names[k], value: x, fraction: (i + 1) / ps.models.length })),
      ];
    });
    return {
      width: 340,
      height: 220,
      layer: [
        {
          data: { values: rows },
          mark: { type: 'line' as const, interpolate: 'step-after' as const, strokeWidth: 2 },
          encoding: {
            x: {
              field: 'value',
              type: 'quantitative' as const,
              scale: { type: 'log' as const },
              axis: { format: '.0e' },
              title: axisTitle(title, 'normalized flux'),
            },
            y: {
              field: 'fraction',
              type: 'quantitative' as const,
              scale: { domain: [0, 1] },
              title: 'fraction of models (cumulative)',
            },
            color,
          },
        },
        {
          data: { values: [{ limit }] },
          mark: { type: 'rule' as const, color: '#555555', strokeDash: [4, 3] },
          encoding: { x: { field: 'limit', type: 'quantitative' as const } },
        },
      ],
    };
  });
  return {
    id: 'pinn-spectra-distribution',
    section: 'pinnSpectra',
    title: 'Spectra from emulated atmospheres: |ΔF| over the models',
    caption: `Cumulative distribution over the ${ps.models.length} ${splitTitle(ps.sample.split)} models of the per-model median and 95th percentile of |ΔF| = |F(emulated atmosphere) − F(true deck)| over every pixel of the windows, for the PINN${models.includes('baseline') ? ` and the α = ${ps.baselineAlpha ?? 0} baseline` : ''} (log axis${zeros ? `; ${zeros} zero values drawn at the smallest positive one, ${floor.toPrecision(2)}` : ''}). Dashed: the limits (median ${sig3(limits.median)}, 95th percentile ${sig3(limits.p95)}) that apply to the median over the models.${failedNote(ps)}`,
    spec: {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      config: VEGA_LITE_CONFIG,
      hconcat: panels,
    } as TopLevelSpec,
  };
}

/** Per-model median |ΔF| against Teff and log g, PINN and baseline (log y). */
function pinnSpectraLabels(ps: PinnSpectraSection): FigureSpec {
  const names = spectraNames(ps);
  const models = modelsOf(ps);
  const medians = ps.models.flatMap((m) => [m.pinn?.median, m.baseline?.median]);
  const floor = positiveFloor(medians);
  const zeros = medians.filter((v) => v !== undefined && v <= 0).length;
  const values = ps.models.flatMap((m) =>
    models.flatMap((k) => {
      const v = m[k]?.median;
      return v === undefined
        ? []
        : [{ teffK: m.teffK, logg: m.logg, model: names[k], median: Math.max(v, floor) }];
    }),
  );
  return {
    id: 'pinn-spectra-labels',
    section: 'pinnSpectra',
    title: 'Spectra from emulated atmospheres: |ΔF| against Teff and log g',
    caption: `Per-model median |F(emulated atmosphere) − F(true deck)| of the ${ps.models.length} ${splitTitle(ps.sample.split)} models against their effective temperature and surface gravity, PINN${models.includes('baseline') ? ` and α = ${ps.baselineAlpha ?? 0} baseline` : ''} (log axis${zeros ? `; ${zeros} zero values drawn at the smallest positive one, ${floor.toPrecision(2)}` : ''}).${failedNote(ps)}`,
    spec: {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      config: VEGA_LITE_CONFIG,
      data: { values },
      hconcat: (['teffK', 'logg'] as const).map((k) => ({
        width: 340,
        height: 220,
        mark: { type: 'point', filled: true, size: 26, opacity: 0.75 },
        encoding: {
          x: { field: k, type: 'quantitative', title: labelTitle(k), scale: { zero: false } },
          y: {
            field: 'median',
            type: 'quantitative',
            scale: { type: 'log' },
            axis: { format: '.0e' },
            title: ['per-model median |ΔF|', '(normalized flux)'],
          },
          color: {
            field: 'model',
            type: 'nominal',
            title: null,
            scale: { domain: models.map((m) => names[m]), range: models.map((m) => SPECTRUM_STYLE[m].color) },
          },
        },
      })),
    } as TopLevelSpec,
  };
}

/**
 * A flux panel over one wavelength range with the residual panels below it, from aligned series
 * (`blockMeans` of `binPx` pixels). `diffs` are [title, minuend kinds, subtrahend kind].
 */
function spectrumPanels(
  ps: PinnSpectraSection,
  wavelengths: number[],
  series: Partial<Record<SpectrumKind, ArrayLike<number | null>>>,
  binPx: number,
  options: {
    title: string;
    width: number;
    medium: string;
    diffs: [string[], SpectrumKind[], SpectrumKind][];
  },
) {
  const kinds = (['observed', 'true', 'pinn', 'baseline'] as const).filter((k) => series[k]);
  const names = spectraNames(ps);
  const blocks = blockMeans(
    wavelengths,
    kinds.map((k) => series[k]!),
    binPx,
  );
  const at = (b: (typeof blocks)[number], k: SpectrumKind) => b.means[kinds.indexOf(k)];
  const x = (title: string | null) => ({
    field: 'wavelength',
    type: 'quantitative' as const,
    title,
    scale: { zero: false, nice: false },
  });
  const diffPanels = options.diffs
    .map(([title, minuends, subtrahend]) => {
      const present = minuends.filter((k) => kinds.includes(k) && kinds.includes(subtrahend));
      return {
        title,
        present,
        rows: blocks.flatMap((b) =>
          present.map((k) => ({ wavelength: b.x, diff: at(b, k) - at(b, subtrahend), kind: names[k] })),
        ),
      };
    })
    .filter((d) => d.rows.length > 0);
  return {
    title: { text: options.title, fontSize: 12 },
    vconcat: [
      {
        width: options.width,
        height: 150,
        data: {
          values: blocks.flatMap((b) =>
            kinds.map((k) => ({ wavelength: b.x, flux: at(b, k), kind: names[k] })),
          ),
        },
        encoding: { x: x(null) },
        layer: spectrumLayers(ps, kinds, kinds, {
          field: 'flux',
          type: 'quantitative',
          title: 'normalized flux',
          scale: { zero: false },
        }),
      },
      ...diffPanels.map((d, i) => ({
        width: options.width,
        // Tall enough for the two-line title (name, unit).
        height: 95,
        data: { values: d.rows },
        encoding: {
          x: x(i === diffPanels.length - 1 ? axisTitle(`wavelength (${options.medium})`, 'Å') : null),
        },
        layer: spectrumLayers(ps, kinds, d.present, { field: 'diff', type: 'quantitative', title: d.title }),
      })),
    ],
  };
}

/** The example model's spectra: true deck, PINN and baseline per window, and emulated − true below. */
function pinnSpectraExample(ps: PinnSpectraSection): FigureSpec | null {
  const ex = ps.example;
  const step = ps.settings.stepAngstrom;
  const windows = ps.settings.windows
    .map(([from, to]) => {
      // A pixel belongs to the window [from, to) that holds it, both edges shifted by half a step
      // so that rounded wavelengths stay in their window (and adjacent windows share no pixel).
      const idx = ex.wavelengthAngstrom.flatMap((w, i) =>
        w >= from - step / 2 && w < to - step / 2 ? [i] : [],
      );
      return { from, to, idx };
    })
    .filter((w) => w.idx.length > 1);
  if (windows.length === 0) return null;
  const columns = Math.min(windows.length, 3);
  const width = columns === 1 ? 760 : columns === 2 ? 370 : 240;
  const pick = (a: number[] | null, idx: number[]) => (a ? idx.map((i) => a[i]) : undefined);
  const panels = windows.map(({ from, to, idx }) => {
    const binPx = Math.max(1, Math.ceil(idx.length / MAX_PANEL_POINTS));
    return spectrumPanels(
      ps,
      idx.map((i) => ex.wavelengthAngstrom[i]),
      { true: pick(ex.true, idx), pinn: pick(ex.pinn, idx), baseline: pick(ex.baseline, idx) },
      binPx,
      {
        title: `${from}–${to} Å${binPx > 1 ? `, ${binPx}-pixel means` : ''}`,
        width,
        medium: ps.settings.medium,
        diffs: [[['emulated − true', '(normalized flux)'], ['pinn', 'baseline'], 'true']],
      },
    );
  });
  const stats = ps.models.find((m) => m.id === ex.id);
  const s = ps.settings;
  const labels = `Teff = ${Math.round(ex.teffK)} K, log g = ${ex.logg.toFixed(2)}, [Fe/H] = ${ex.feh.toFixed(2)}`;
  return {
    id: 'pinn-spectra-example',
    section: 'pinnSpectra',
    title: 'Spectra from emulated atmospheres: an example model',
    caption: `Model ${ex.id} (${labels}; the model with the median per-model median |ΔF|): ${ps.engine.name} ${ps.engine.version} spectra from the true deck and from the emulated atmospheres at its labels (R ${Math.round(s.resolution)}, v_mic ${s.vmicKms} km/s, v sin i ${s.vsiniKms} km/s, ${s.medium} wavelengths), one panel per window; below, emulated − true.${stats ? ` Median |ΔF|: PINN ${stats.pinn ? sig3(stats.pinn.median) : 'failed'}${stats.baseline ? `, baseline ${sig3(stats.baseline.median)}` : ''}.` : ''}`,
    spec: {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      config: VEGA_LITE_CONFIG,
      title: labels,
      columns,
      concat: panels,
    } as TopLevelSpec,
  };
}

/**
 * Paper Fig. 5: the observed Sun, the true solar deck's spectrum and the emulated atmospheres'
 * over the Sun window (0.5 Å block means, as synthesis-sun), synthesized − observed and
 * emulated − true below, and full-resolution zooms on `sun.zooms`.
 */
function pinnSpectraSun(ps: PinnSpectraSection): FigureSpec | null {
  const sun = ps.sun;
  if (!sun) return null;
  const n = sun.true.length;
  const wavelengths = Array.from(
    { length: n },
    (_, i) => sun.wavelengthStartAngstrom + i * sun.wavelengthStepAngstrom,
  );
  const series = {
    observed: sun.observed,
    true: sun.true,
    pinn: sun.pinn,
    baseline: sun.baseline ?? undefined,
  };
  const diffs: [string[], SpectrumKind[], SpectrumKind][] = [
    [['synth. − obs.', '(normalized flux)'], ['true', 'pinn', 'baseline'], 'observed'],
    [['emulated − true', '(normalized flux)'], ['pinn', 'baseline'], 'true'],
  ];
  const range = (lo: number, hi: number) => {
    const i0 = Math.max(0, Math.ceil((lo - sun.wavelengthStartAngstrom) / sun.wavelengthStepAngstrom - 1e-9));
    const i1 = Math.min(
      n,
      Math.floor((hi - sun.wavelengthStartAngstrom) / sun.wavelengthStepAngstrom + 1e-9) + 1,
    );
    const slice = <T>(a: ArrayLike<T> | undefined) => (a ? Array.from(a).slice(i0, i1) : undefined);
    const complete = Array.from({ length: Math.max(0, i1 - i0) }, (_, j) => i0 + j).filter(
      (i) => sun.observed[i] !== null && Number.isFinite(sun.observed[i]),
    ).length;
    return {
      wavelengths: wavelengths.slice(i0, i1),
      series: {
        observed: slice(series.observed),
        true: slice(series.true),
        pinn: slice(series.pinn),
        baseline: slice(series.baseline),
      },
      complete,
    };
  };
  const binPx = Math.max(1, Math.round(0.5 / sun.wavelengthStepAngstrom));
  const whole = spectrumPanels(ps, wavelengths, series, binPx, {
    title: binPx > 1 ? `whole window, ${sig3(binPx * sun.wavelengthStepAngstrom)} Å means` : 'whole window',
    width: 760,
    medium: ps.settings.medium,
    diffs,
  });
  const zooms = sun.zooms.flatMap((z) => {
    const r = range(z.fromAngstrom, z.toAngstrom);
    if (r.complete <= 20) return [];
    const zBin = Math.max(1, Math.ceil(r.complete / MAX_PANEL_POINTS));
    return [
      spectrumPanels(ps, r.wavelengths, r.series, zBin, {
        title: `${z.name}, ${z.fromAngstrom}–${z.toAngstrom} Å, ${zBin > 1 ? `${zBin}-pixel means` : 'full resolution'}`,
        width: 360,
        medium: ps.settings.medium,
        diffs,
      }),
    ];
  });
  const res = sun.residuals;
  const l = sun.labels;
  const s = sun.settings;
  const ratio = res.trueVsObserved.median > 0 ? res.pinnVsObserved.median / res.trueVsObserved.median : null;
  return {
    id: 'pinn-spectra-sun',
    section: 'pinnSpectra',
    title: 'Spectra from emulated atmospheres: the Sun (Kurucz-a1 Fig. 5)',
    caption:
      `${sun.observedFile} against ${ps.engine.name} ${ps.engine.version} spectra of the true solar deck ${sun.deck} and of the emulated atmospheres at its labels ` +
      `(Teff = ${Math.round(l.teffK)} K, log g = ${l.logg.toFixed(2)}, [Fe/H] = ${l.feh.toFixed(2)}, [α/Fe] = ${l.afe.toFixed(2)}; v_mic ${s.vmicKms} km/s, v sin i ${s.vsiniKms} km/s, macroturbulence ${s.vmacKms} km/s, R ${Math.round(s.resolution)}). ` +
      `Median |obs. − synth.|: true deck ${sig3(res.trueVsObserved.median)}, PINN ${sig3(res.pinnVsObserved.median)}${ratio !== null ? ` (${sig3(ratio)} × the true deck's)` : ''}` +
      `${res.baselineVsObserved ? `, baseline ${sig3(res.baselineVsObserved.median)}` : ''}; median |PINN − true| ${sig3(res.pinnVsTrue.median)}. ` +
      `Pixels without an observed flux are left out. Continuum: ${sun.method}.`,
    spec: {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      config: VEGA_LITE_CONFIG,
      vconcat: [whole, ...(zooms.length ? [{ columns: 2, concat: zooms }] : [])],
    } as TopLevelSpec,
  };
}

/** Every figure whose metrics exist, in report order. */
export function buildFigures(metrics: RunMetrics): FigureSpec[] {
  const out: (FigureSpec | null)[] = [];
  if (metrics.pinn)
    out.push(
      pinnDepthError(metrics.pinn),
      pinnHydrostatic(metrics.pinn),
      pinnResiduals(metrics.pinn),
      pinnLabelError(metrics.pinn),
    );
  if (metrics.pinnSpectra)
    out.push(
      pinnSpectraDistribution(metrics.pinnSpectra, metrics.thresholds),
      pinnSpectraLabels(metrics.pinnSpectra),
      pinnSpectraExample(metrics.pinnSpectra),
      pinnSpectraSun(metrics.pinnSpectra),
    );
  if (metrics.cvae)
    out.push(
      cvaeTraining(metrics.cvae),
      cvaeSpectra(metrics.cvae),
      cvaeHeatmap(metrics.cvae),
      cvaeResidualPlanes(metrics.cvae),
      cvaeResidualLabels(metrics.cvae),
    );
  if (metrics.recovery) out.push(recoveryScatter(metrics.recovery));
  if (metrics.synthesis) out.push(synthesisSun(metrics.synthesis));
  return out.filter((f): f is FigureSpec => f !== null);
}
