// @stellar-emu/metrics: the report's metrics contract, what a training/validation run hands to the report (versioned, zod-validated).
//
// A run writes one `RunMetrics` object (`metrics-input.json` in its run directory); its producers
// (pinn's evaluatePinnModel, cvae's cvaeReportSection, param-nn's metricsJson, the worker's steps)
// build their sections typed against the types below. Every model section is optional: the report
// renders a section, and each of its figures, only when the metrics it needs exist. Units are in
// the field names where they have one and in the TSDoc of every field; all label values are in
// physical units (K, dex, km/s), never scaled.
import { ATMOSPHERE_QUANTITIES, canonicalSplitName, SPLIT_NAMES, VAL_SPLIT } from '@stellar-emu/grid-io';
import { z } from 'zod';

/**
 * A split name (grid-io `SplitName`: train, val, test, or a dataset's own name); the old spelling
 * 'validation' of files written before the names were unified is read as 'val'.
 */
const splitName = z.string().transform((s) => canonicalSplitName(s));

/** Version of this contract; bump on any incompatible change. */
export const METRICS_SCHEMA_VERSION = 1 as const;

/** Labels of a PINN atmosphere model. */
export const PINN_LABELS = ['teffK', 'logg', 'feh', 'afe'] as const;
export type PinnLabel = (typeof PINN_LABELS)[number];

/** Labels of a CVAE spectrum (and of parameter recovery). */
export const SPECTRUM_LABELS = ['teffK', 'logg', 'vsiniKms', 'mh', 'vmicKms', 'resolution'] as const;
export type SpectrumLabel = (typeof SPECTRUM_LABELS)[number];

const finite = z.number().refine(Number.isFinite, 'must be a finite number');
const finiteArray = z.array(finite);
const nonEmptyArray = finiteArray.min(1);

/** Arrays that must have equal lengths, reported with the field names. */
function sameLength<T extends Record<string, unknown>>(keys: (keyof T & string)[]) {
  return (value: T, ctx: z.RefinementCtx) => {
    const lengths = keys.map((k) => (value[k] as unknown[] | undefined)?.length);
    const n = lengths.find((l) => l !== undefined);
    keys.forEach((k, i) => {
      if (lengths[i] !== undefined && lengths[i] !== n) {
        ctx.addIssue({
          code: 'custom',
          path: [k],
          message: `length ${lengths[i]} differs from ${keys[0]} (${n})`,
        });
      }
    });
  };
}

/** Per-label arrays (one value per model or spectrum) that must all have length `n`. */
function labelColumns<K extends string>(names: readonly K[]) {
  return z.object(
    Object.fromEntries(names.map((k) => [k, nonEmptyArray])) as Record<K, typeof nonEmptyArray>,
  );
}

// ---------------------------------------------------------------------------------------------
// PINN (Kurucz-a1 atmospheres)

/** Relative error of one quantity against depth over the validation split (paper Fig. 2). */
export const pinnDepthErrorSchema = z
  .object({
    quantity: z.enum(ATMOSPHERE_QUANTITIES),
    /** log10 of the Rosseland optical depth at each depth index (dimensionless). */
    logTau: nonEmptyArray,
    /** Median over validation models of |pred − true| / |true|, in percent, per depth index. */
    medianPercent: nonEmptyArray,
    /** 16th percentile of the relative error in percent, per depth index. */
    p16Percent: nonEmptyArray,
    /** 84th percentile of the relative error in percent, per depth index. */
    p84Percent: nonEmptyArray,
  })
  .superRefine(sameLength(['logTau', 'medianPercent', 'p16Percent', 'p84Percent']));

/** Which model produced an atmosphere: the grid itself, the PINN, or the MLP baseline (α = 0). */
export const HYDROSTATIC_MODELS = ['grid', 'pinn', 'baseline'] as const;
export type HydrostaticModel = (typeof HYDROSTATIC_MODELS)[number];

/** One model's hydrostatic-equilibrium diagnostic along depth (paper Fig. 3). */
export const hydrostaticCurveSchema = z
  .object({
    model: z.enum(HYDROSTATIC_MODELS),
    /** Rosseland optical depth τ (dimensionless, not log). */
    tau: nonEmptyArray,
    /** dP/dτ of the model's total pressure, in dyn cm⁻² (finite differences for grid and baseline). */
    dPdTau: nonEmptyArray,
    /** g / κ_Ross with the model's own ABROSS, in dyn cm⁻² (g in cm s⁻², κ in cm² g⁻¹). */
    gOverKappa: nonEmptyArray,
  })
  .superRefine(sameLength(['tau', 'dPdTau', 'gOverKappa']));

export const pinnSectionSchema = z.object({
  /** Which split the errors are measured on (the paper uses the validation split, 'val'). */
  split: splitName.default(VAL_SPLIT),
  /** Number of atmosphere models in that split. */
  nModels: z.number().int().positive(),
  /** One entry per quantity (Fig. 2). */
  depthError: z.array(pinnDepthErrorSchema).min(1),
  /** Hydrostatic diagnostic for one star, by default the red giant of the paper (Fig. 3). */
  hydrostatic: z
    .object({
      /** Labels of the star: Teff in K, log g in dex (cgs), [Fe/H] and [α/Fe] in dex. */
      star: z.object({ teffK: finite, logg: finite, feh: finite, afe: finite }),
      curves: z.array(hydrostaticCurveSchema).min(1),
    })
    .optional(),
  /**
   * Hydrostatic residuals pooled over validation models and depths (Fig. 4):
   * log10(dP/dτ) − log10(g/κ), in dex, one array per model.
   */
  hydrostaticResiduals: z
    .array(z.object({ model: z.enum(HYDROSTATIC_MODELS), residualDex: nonEmptyArray }))
    .min(1)
    .optional(),
  /**
   * Error against each label: per validation model its labels (physical units) and the median
   * relative error over depths and quantities, in percent.
   */
  labelError: z
    .object({
      labels: labelColumns(PINN_LABELS),
      medianPercent: nonEmptyArray,
    })
    .superRefine((v, ctx) => {
      for (const k of PINN_LABELS) {
        if (v.labels[k].length !== v.medianPercent.length) {
          ctx.addIssue({
            code: 'custom',
            path: ['labels', k],
            message: `length differs from medianPercent (${v.medianPercent.length})`,
          });
        }
      }
    })
    .optional(),
  /** Median relative error per quantity over all depths and validation models, in percent. */
  summary: z.object({ medianPercent: z.partialRecord(z.enum(ATMOSPHERE_QUANTITIES), finite) }),
});

// ---------------------------------------------------------------------------------------------
// CVAE (spectra)

const spectrumLabelsSchema = z.object({
  /** Effective temperature in K. */
  teffK: finite,
  /** log10 of surface gravity in cm s⁻². */
  logg: finite,
  /** Projected rotational velocity in km/s. */
  vsiniKms: finite,
  /** Metallicity [M/H] in dex. */
  mh: finite,
  /** Microturbulence in km/s. */
  vmicKms: finite,
  /** Resolving power λ/Δλ (dimensionless). */
  resolution: finite,
});
export type SpectrumLabels = z.infer<typeof spectrumLabelsSchema>;

/** One generated spectrum and its reference at the same labels (CVAE Fig. 3). */
export const spectrumExampleSchema = z
  .object({
    labels: spectrumLabelsSchema,
    /** First wavelength in Å; flux[i] is at wavelengthStartAngstrom + i · wavelengthStepAngstrom. */
    wavelengthStartAngstrom: finite,
    /** Wavelength step in Å (> 0). */
    wavelengthStepAngstrom: finite.refine((x) => x > 0, 'must be > 0'),
    /** Continuum-normalized reference flux (dimensionless). */
    referenceFlux: nonEmptyArray,
    /** Continuum-normalized CVAE flux at the same labels (dimensionless). */
    generatedFlux: nonEmptyArray,
  })
  .superRefine(sameLength(['referenceFlux', 'generatedFlux']));

export const cvaeSectionSchema = z.object({
  /** A few generated-vs-reference spectra at random labels (Fig. 3). */
  examples: z.array(spectrumExampleSchema).optional(),
  /**
   * Per test spectrum: its labels and the wavelength-averaged absolute residual
   * mean_λ |generated − reference| in continuum-normalized flux units (Figs. 5 and 6).
   */
  residuals: z
    .object({
      labels: labelColumns(SPECTRUM_LABELS),
      meanAbsResidual: nonEmptyArray,
    })
    .superRefine((v, ctx) => {
      for (const k of SPECTRUM_LABELS) {
        if (v.labels[k].length !== v.meanAbsResidual.length) {
          ctx.addIssue({
            code: 'custom',
            path: ['labels', k],
            message: `length differs from meanAbsResidual (${v.meanAbsResidual.length})`,
          });
        }
      }
    })
    .optional(),
  /** Median, 95th percentile and maximum of meanAbsResidual (normalized flux units). */
  summary: z.object({ median: finite, p95: finite, max: finite }),
  /** The held-out split scored ('test' for a 70/15/15 dataset, else 'val'). */
  split: splitName.optional(),
  /** The training's loss curves: one entry per epoch (losses are per-pixel means of the scaled flux; KL in nats). */
  training: z
    .object({
      preset: z.string(),
      epochsDone: z.number().int().min(0),
      bestEpoch: z.number().int().min(0).nullable(),
      budgetSpent: z.boolean(),
      trainExamples: z.number().int().min(0),
      valExamples: z.number().int().min(0),
      /** Width of the flux range the network's sigmoid spans: RMS of the scaled flux × this = RMS in normalized flux. */
      fluxScale: finite,
      history: z.array(
        z.object({
          epoch: z.number().int().min(0),
          /** Training objective: recon + β·KL (epoch mean). */
          trainLoss: finite,
          /** Validation loss that drives early stopping (reconstruction with a fixed latent draw). */
          valLoss: finite.nullable(),
          lr: finite,
          trainRecon: finite.optional(),
          trainKl: finite.optional(),
          /** The KL's parts: ½Σμ² (means) and ½Σ(σ² − log σ² − 1) (variances), training epoch means. */
          trainKlMu: finite.optional(),
          trainKlVar: finite.optional(),
          valKl: finite.optional(),
        }),
      ),
    })
    .optional(),
  /** Generation speed of the CVAE against the synthesis code that made the grid, on this machine. */
  speed: z
    .object({
      /** CVAE spectra per wall-clock second, all cores, batches of `batchSize`. */
      cvaeSpectraPerSecond: finite,
      batchSize: z.number().int().min(1),
      /** PySME core-seconds per spectrum of the grid, with intensity reuse (null: not recorded). */
      pysmeCoreSecondsPerSpectrum: finite.nullable(),
      /** PySME core-seconds per intrinsic spectrum (one radiative-transfer call, no reuse). */
      pysmeCoreSecondsPerCall: finite.nullable(),
      /** Cores of the machine (PySME runs one process per core). */
      cores: z.number().int().min(1),
    })
    .optional(),
});

// ---------------------------------------------------------------------------------------------
// Parameter recovery (a network predicting labels from spectra, applied to test and CVAE spectra)

const predictedVsTrue = z
  .object({
    /** True label values, physical units of the label. */
    true: nonEmptyArray,
    /** Predicted label values, same units. */
    predicted: nonEmptyArray,
  })
  .superRefine(sameLength(['true', 'predicted']));

/** The recovery sets (the paper's Table 3 rows): the three splits (grid-io `SPLIT_NAMES`) and the generated spectra. */
export const RECOVERY_SETS = [...SPLIT_NAMES, 'generated'] as const;
export type RecoverySet = (typeof RECOVERY_SETS)[number];

export const recoverySectionSchema = z.object({
  /** Predicted against true per label, for the test set and for CVAE-generated spectra (Fig. 4). */
  scatter: z
    .array(z.object({ label: z.enum(SPECTRUM_LABELS), test: predictedVsTrue, generated: predictedVsTrue }))
    .optional(),
  /** Root-mean-square error per label and set, in the label's physical unit (Table 3). */
  rmse: z
    .array(
      z
        .object({
          label: z.enum(SPECTRUM_LABELS),
          train: finite.nullable(),
          /** The validation split ('val'); required unless the old `validation` is given. */
          val: finite.nullable().optional(),
          /** Old spelling of `val` (metrics written before the split names were unified): read as `val`, never written. */
          validation: finite.nullable().optional(),
          test: finite,
          generated: finite,
        })
        .superRefine((r, ctx) => {
          if (r.val === undefined && r.validation === undefined)
            ctx.addIssue({
              code: 'custom',
              path: ['val'],
              message: 'Invalid input: expected number or null, received undefined',
            });
        })
        .transform(({ label, train, val, validation, test, generated }) => ({
          label,
          train,
          val: val !== undefined ? val : (validation ?? null),
          test,
          generated,
        })),
    )
    .min(1),
});

// ---------------------------------------------------------------------------------------------
// Run metadata and thresholds

export const runMetadataSchema = z.object({
  /** Run id (letters, digits, '.', '_', '-'). */
  id: z.string().regex(/^[A-Za-z0-9._-]+$/),
  /** ISO 8601 time the metrics were produced. */
  createdAt: z.string(),
  /** Git commit of the code that produced the run, or null when unknown. */
  gitCommit: z.string().nullable(),
  /** Name of the tfjs backend that ran the training (e.g. 'tensorflow', 'wasm', 'cpu'). */
  backend: z.string(),
  /** The run's configuration, as given (free JSON). */
  config: z.record(z.string(), z.unknown()),
  /** Content hash (hex) per dataset name. */
  datasetHashes: z.record(z.string(), z.string()),
  /** Wall-clock duration per step name, in seconds. */
  durationsSeconds: z.record(z.string(), finite),
  machine: z.object({
    /** Logical CPU count. */
    cpus: z.number().int().nonnegative(),
    /** Total memory in bytes. */
    memoryBytes: z.number().nonnegative(),
    /** Node.js version (process.version). */
    nodeVersion: z.string(),
    platform: z.string().optional(),
    arch: z.string().optional(),
    /** CPU model name, when known. */
    cpuModel: z.string().optional(),
  }),
});

/** Default limit of the synthesized Sun's median |observed − synthesized| (normalized flux; issue acceptance). */
export const DEFAULT_SUN_MEDIAN_ABS_RESIDUAL = 0.015;

/** Default limits of the emulated atmospheres' spectra (issue 14's acceptance). */
export const DEFAULT_PINN_SPECTRA_MEDIAN_ABS_DELTA_F = 0.0015;
export const DEFAULT_PINN_SPECTRA_P95_ABS_DELTA_F = 0.01;
export const DEFAULT_PINN_SUN_RESIDUAL_FACTOR = 1.1;

/** Limits from the validation config; each one present becomes a pass/fail check. */
export const thresholdsSchema = z.object({
  pinn: z
    .object({
      /** Upper limit of the median relative error per quantity, in percent. */
      medianPercent: z.partialRecord(z.enum(ATMOSPHERE_QUANTITIES), finite).optional(),
      /** Upper limit of the PINN's median |hydrostatic residual|, in dex. */
      hydrostaticMedianAbsDex: finite.optional(),
    })
    .optional(),
  cvae: z
    .object({
      /** Upper limit of the median wavelength-averaged |residual| (normalized flux). */
      medianResidual: finite.optional(),
      /** Upper limit of the 95th percentile of the same residual (normalized flux). */
      p95Residual: finite.optional(),
      /**
       * Upper limit of each label's largest binned mean residual (Fig. 6 bins) over the overall
       * median residual: no region of any label much worse than the typical spectrum.
       */
      marginalMeanOverMedian: finite.optional(),
    })
    .optional(),
  synthesis: z
    .object({
      /** Upper limit of the synthesized Sun's median |observed − synthesized| (default 0.015). */
      sunMedianAbsResidual: finite.default(DEFAULT_SUN_MEDIAN_ABS_RESIDUAL),
    })
    .optional(),
  pinnSpectra: z
    .object({
      /** Upper limit of the median over models of the per-model median |ΔF| (Kurucz-a1 on its own Sun: 0.0015). */
      medianAbsDeltaF: finite.default(DEFAULT_PINN_SPECTRA_MEDIAN_ABS_DELTA_F),
      /** Upper limit of the median over models of the per-model 95th percentile |ΔF| (published: 0.008–0.011). */
      p95AbsDeltaF: finite.default(DEFAULT_PINN_SPECTRA_P95_ABS_DELTA_F),
      /** The emulated Sun's median |observed − synthesized| at most this factor × the true deck's (default 1.1). */
      sunResidualFactor: finite.default(DEFAULT_PINN_SUN_RESIDUAL_FACTOR),
    })
    .optional(),
  recovery: z
    .object({
      /**
       * Generated RMSE must be ≤ factor × test RMSE: `factor` for every label, or `factors` per
       * label; a label named by neither takes grid-io's DEFAULT_RECOVERY_FACTORS (1.2; v sin i
       * and R 1.5). Resolved by `recoveryFactorOf`, the report's only reader of these fields.
       */
      factor: finite.refine((x) => x > 0, 'must be > 0').optional(),
      factors: z
        .partialRecord(
          z.enum(SPECTRUM_LABELS),
          finite.refine((x) => x > 0, 'must be > 0'),
        )
        .optional(),
    })
    .optional(),
});

const maybeFinite = z.number().nullable();

/**
 * The synthesis engine checked against the observed Sun: a deck synthesized with PySME and the
 * project's kernels against a real solar spectrum on the same grid (observed continuum placed
 * by `method`; NaN pixels — detector gaps — are null).
 */
export const synthesisSectionSchema = z.object({
  engine: z.object({ name: z.string(), version: z.string() }),
  sun: z
    .object({
      deck: z.string(),
      observedFile: z.string(),
      linelist: z.string(),
      settings: z.object({
        vmicKms: finite,
        vsiniKms: finite,
        vmacKms: finite,
        resolution: finite,
        medium: z.enum(['air', 'vac']),
      }),
      wavelengthStartAngstrom: finite,
      wavelengthStepAngstrom: finite,
      observed: z.array(maybeFinite).min(1),
      synthesized: z.array(finite).min(1),
      medianAbsResidual: finite,
      p95AbsResidual: finite,
      pixels: z.number().int().nonnegative(),
      excluded: z.array(z.object({ fromAngstrom: finite, toAngstrom: finite })),
      method: z.string(),
      engineSeconds: finite,
    })
    .refine(
      (s) => s.observed.length === s.synthesized.length,
      'observed and synthesized must have the same length',
    )
    .optional(),
});

/** |ΔF| over models: median of the per-model medians, median and 95th percentile of the per-model 95th percentiles. */
/**
 * |ΔF| over all models, a model whose emulated atmosphere failed counted as worse than any other
 * (numerics `quantileWithFailures`): null when the statistic falls on a failure.
 */
const overModelsSchema = z.object({
  medianOfMedians: finite.nullable(),
  medianOfP95: finite.nullable(),
  p95OfP95: finite.nullable(),
  /** Models this emulator failed on (left in the ranking as the worst). */
  failed: z.number().int().nonnegative().default(0),
});

/** A validation model of a spectral comparison: its id, deck location (file:line) and labels. */
const modelIdentitySchema = z.object({
  id: z.string(),
  source: z.string(),
  teffK: finite,
  logg: finite,
  feh: finite,
  afe: finite,
});

/** An emulated column mass rebuilt from the tau scale: which emulator, the layers (0-based, surface first), the largest relative change of RHOX. */
const rhoxRepairSchema = z.object({
  emulator: z.enum(['pinn', 'baseline']),
  layers: z.array(z.number().int().nonnegative()).min(1),
  maxRelativeChange: finite,
});

/** |ΔF| statistics of one spectrum pair (normalized flux, over every pixel of every window). */
const deltaFSchema = z.object({ median: finite, p95: finite, max: finite });

/**
 * Kurucz-a1 end to end (its Fig. 5 claim): spectra synthesized with PySME from the emulator's
 * atmospheres against spectra of the true decks at the same labels, on the same tau grid, with
 * identical settings and abundance mix; the alpha = 0 baseline beside it when one was trained.
 * ΔF = F(emulated atmosphere) − F(true deck), continuum-normalized flux.
 */
export const pinnSpectraSectionSchema = z.object({
  engine: z.object({ name: z.string(), version: z.string() }),
  settings: z.object({
    /** Wavelength windows [from, to) in Å (in `medium`). */
    windows: z.array(z.tuple([finite, finite])).min(1),
    stepAngstrom: finite,
    resolution: finite,
    vmicKms: finite,
    vsiniKms: finite,
    vmacKms: finite,
    medium: z.enum(['air', 'vac']),
    linelist: z.string(),
  }),
  /** How the models were chosen: a seeded sample of `models.length` of `candidates` models of `split` with Teff in `teffRangeK`. */
  sample: z.object({
    split: splitName,
    candidates: z.number().int().nonnegative(),
    seed: z.number().int(),
    teffRangeK: z.tuple([finite, finite]),
  }),
  /** The physics weight of the emulator and of the baseline (null when no baseline was trained). */
  alpha: finite,
  baselineAlpha: finite.nullable(),
  models: z
    .array(
      modelIdentitySchema.extend({
        /** null when this emulator's atmosphere could not be synthesized (the reason in `failures`). */
        pinn: deltaFSchema.nullable(),
        baseline: deltaFSchema.nullable(),
      }),
    )
    .min(1),
  /**
   * Models whose emulated atmosphere could not be synthesized (e.g. RHOX not increasing inwards),
   * per emulator, with the reason; in `models` with a null entry and in `summary` as the worst.
   */
  failures: z
    .array(
      modelIdentitySchema.extend({
        emulator: z.enum(['pinn', 'baseline']),
        reason: z.string(),
      }),
    )
    .default([]),
  /**
   * Models whose emulated column mass did not increase inwards in some deep layers and was
   * rebuilt there from the tau scale (dτ = κ_R dRHOX with the emulator's ABROSS; synthesis'
   * `monotoneColumnMass`), per emulator: the layers (0-based, surface first) and the largest
   * relative change of RHOX. Their spectra count in every statistic.
   */
  rhoxRepairs: z.array(modelIdentitySchema.extend(rhoxRepairSchema.shape)).default([]),
  /** Over models: the median of the per-model median |ΔF|, the median and 95th percentile of the per-model 95th percentiles. */
  summary: z.object({ pinn: overModelsSchema, baseline: overModelsSchema.nullable() }),
  /** Spectra of one model (the one with the median per-model median |ΔF|), windows concatenated in order. */
  example: z
    .object({
      id: z.string(),
      teffK: finite,
      logg: finite,
      feh: finite,
      /** Wavelength of every pixel, Å (all windows). */
      wavelengthAngstrom: nonEmptyArray,
      true: nonEmptyArray,
      pinn: nonEmptyArray,
      baseline: nonEmptyArray.nullable(),
    })
    .superRefine(sameLength(['wavelengthAngstrom', 'true', 'pinn'])),
  /**
   * Paper Fig. 5: the observed Sun, the true solar deck's spectrum and the emulator's atmosphere
   * at the solar labels (on the deck's tau grid, with its abundances), over one window.
   */
  sun: z
    .object({
      deck: z.string(),
      observedFile: z.string(),
      labels: z.object({ teffK: finite, logg: finite, feh: finite, afe: finite }),
      settings: z.object({ vmicKms: finite, vsiniKms: finite, vmacKms: finite, resolution: finite }),
      wavelengthStartAngstrom: finite,
      wavelengthStepAngstrom: finite,
      /** Observed flux on the grid after the continuum placement (null: detector gap). */
      observed: z.array(maybeFinite).min(1),
      true: nonEmptyArray,
      pinn: nonEmptyArray,
      baseline: nonEmptyArray.nullable(),
      /** Median |observed − synthesized| of each synthesized spectrum, and |pinn − true| statistics. */
      residuals: z.object({
        trueVsObserved: deltaFSchema,
        pinnVsObserved: deltaFSchema,
        baselineVsObserved: deltaFSchema.nullable(),
        pinnVsTrue: deltaFSchema,
        baselineVsTrue: deltaFSchema.nullable(),
      }),
      /** Zoomed windows (strong lines), Å. */
      zooms: z.array(z.object({ name: z.string(), fromAngstrom: finite, toAngstrom: finite })),
      method: z.string(),
      /** The emulated solar atmospheres whose column mass was rebuilt from the tau scale (as `rhoxRepairs`). */
      rhoxRepairs: z.array(rhoxRepairSchema).default([]),
    })
    .superRefine(sameLength(['observed', 'true', 'pinn']))
    .optional(),
  /** PySME seconds spent (this run's calls; cached true-deck spectra cost nothing). */
  engineSeconds: finite,
});

/** The whole input of a report. */
export const runMetricsSchema = z.object({
  schemaVersion: z.literal(METRICS_SCHEMA_VERSION),
  run: runMetadataSchema,
  thresholds: thresholdsSchema.default({}),
  pinn: pinnSectionSchema.optional(),
  cvae: cvaeSectionSchema.optional(),
  recovery: recoverySectionSchema.optional(),
  synthesis: synthesisSectionSchema.optional(),
  pinnSpectra: pinnSpectraSectionSchema.optional(),
});

/** Input as written by a run (defaults may be omitted). */
export type RunMetricsInput = z.input<typeof runMetricsSchema>;
/** Input after validation (defaults filled in). */
export type RunMetrics = z.infer<typeof runMetricsSchema>;
export type PinnSection = z.infer<typeof pinnSectionSchema>;
export type PinnDepthError = z.infer<typeof pinnDepthErrorSchema>;
export type HydrostaticCurve = z.infer<typeof hydrostaticCurveSchema>;
export type SpectrumExample = z.infer<typeof spectrumExampleSchema>;
export type CvaeSection = z.infer<typeof cvaeSectionSchema>;
export type RecoverySection = z.infer<typeof recoverySectionSchema>;
export type SynthesisSection = z.infer<typeof synthesisSectionSchema>;
export type PinnSpectraSection = z.infer<typeof pinnSpectraSectionSchema>;
export type RunMetadata = z.infer<typeof runMetadataSchema>;
export type Thresholds = z.infer<typeof thresholdsSchema>;

// ---------------------------------------------------------------------------------------------
// Output: metrics.json written next to index.html

/** One pass/fail check derived from a threshold. */
export const checkSchema = z.object({
  /** Dotted name, e.g. `pinn.medianPercent.temperature`, `recovery.teffK`. */
  name: z.string(),
  /** Measured value (unit in `unit`), or null when the metric the threshold needs is missing. */
  value: finite.nullable(),
  /** Upper limit, same unit; pass means value ≤ limit. */
  limit: finite,
  unit: z.string(),
  pass: z.boolean(),
  /** How the limit was obtained or why the check failed. */
  detail: z.string().optional(),
});
export type Check = z.infer<typeof checkSchema>;

/** The report's `metrics.json`: the validated input plus checks and the list of figures. */
export const reportMetricsSchema = runMetricsSchema.extend({
  checks: z.array(checkSchema),
  /** true when every check passes (and vacuously when there are none). */
  pass: z.boolean(),
  report: z.object({
    generatedAt: z.string(),
    /** Figure ids with their SVG and PNG file names relative to the report directory. */
    figures: z.array(z.object({ id: z.string(), title: z.string(), svg: z.string(), png: z.string() })),
  }),
});
export type ReportMetrics = z.infer<typeof reportMetricsSchema>;

/** Validate (and fill defaults of) a metrics object; throws with every problem's path listed. */
export function parseRunMetrics(value: unknown, source = 'metrics'): RunMetrics {
  const r = runMetricsSchema.safeParse(value);
  if (!r.success) {
    const lines = r.error.issues.slice(0, 20).map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new Error(
      `${source} does not match the metrics contract v${METRICS_SCHEMA_VERSION}:\n${lines.join('\n')}`,
    );
  }
  return r.data;
}
