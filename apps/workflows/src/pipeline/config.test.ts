import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { demoPipelineConfig, PipelineConfigError, validatePipelineConfig } from './config.js';

const good = {
  name: 'tiny',
  atmospheres: { synthetic: { n: 40, seed: 1 } },
  pinn: { epochs: 2 },
};

describe('pipeline config', () => {
  test('a minimal config gets its defaults', () => {
    const c = validatePipelineConfig(good, 'tiny.yaml');
    expect(c.pinn).toMatchObject({ preset: 'small', alpha: 0.03, baseline: true, epochsPerChunk: 5 });
    expect(c.artifacts).toBe('.artifacts');
    expect(c.split.seed).toBe(0);
  });

  test('PINN spectra: the paper check’s defaults; refused for atmospheres without decks', () => {
    const c = validatePipelineConfig(
      { atmospheres: { grid: 'g' }, pinn: { epochs: 1, spectra: { linelist: 'l.vald' } } },
      'spectra.json',
    );
    expect(c.pinn!.spectra).toMatchObject({
      windows: [
        [4450, 4650],
        [5150, 5350],
      ],
      resolution: 50_000,
      vmicKms: 1,
      vsiniKms: 0,
      stepAngstrom: 0.02,
      models: 200,
      teffRangeK: [3500, 12000],
    });
    expect(() =>
      validatePipelineConfig(
        { ...good, pinn: { epochs: 1, spectra: { linelist: 'l.vald' } } },
        'synthetic.json',
      ),
    ).toThrow(/pinn\.spectra: needs atmospheres from real decks/);
  });

  test('the demo config is valid and trains both emulators', () => {
    const c = demoPipelineConfig('/tmp/a');
    expect(c.pinn && c.cvae && c.validation).toBeTruthy();
    expect(c.artifacts).toBe('/tmp/a');
  });

  test('the configs/ shipped with the repository are valid; the verdict factor lives only in thresholds', () => {
    const dir = fileURLToPath(new URL('../../../../configs/', import.meta.url));
    const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
    expect(files.length).toBeGreaterThanOrEqual(2);
    for (const f of files) {
      const c = validatePipelineConfig(JSON.parse(readFileSync(dir + f, 'utf8')), f);
      if (c.cvae) expect(c.cvae.maxMinutes, f).toBeGreaterThan(0);
      else expect(c.pinn?.spectra?.models, f).toBeGreaterThanOrEqual(200);
    }
    expect(() =>
      validatePipelineConfig(
        {
          ...good,
          spectra: { synthetic: { n: 40, seed: 1 } },
          cvae: { epochs: 1 },
          validation: { factor: 1.5 },
        },
        'old.json',
      ),
    ).toThrow(/validation\.factor: moved to thresholds\.recoveryFactor/);
    const perLabel = validatePipelineConfig(
      { ...good, thresholds: { recoveryFactor: { vsiniKms: 2 } } },
      'x.json',
    );
    expect(perLabel.thresholds.recoveryFactor).toEqual({ vsiniKms: 2 });
    expect(() =>
      validatePipelineConfig({ ...good, thresholds: { recoveryFactor: { teff: 2 } } }, 'x.json'),
    ).toThrow(/recoveryFactor/);
  });

  const bad: [string, unknown, RegExp][] = [
    ['unknown top-level key (a typo)', { ...good, pinnn: {} }, /\(top level\): Unrecognized key.*pinnn/],
    ['wrong type', { ...good, pinn: { epochs: 'ten' } }, /pinn\.epochs: .*number/],
    ['negative epochs', { ...good, pinn: { epochs: -1 } }, /pinn\.epochs: .*>=\s*1/],
    ['alpha above 1', { ...good, pinn: { epochs: 2, alpha: 3 } }, /pinn\.alpha: /],
    [
      'pinn without atmospheres',
      { name: 'x', pinn: { epochs: 2 } },
      /pinn: needs an `atmospheres` data source/,
    ],
    ['validation without cvae', { ...good, validation: {} }, /validation: needs a `cvae` section/],
    ['nothing to do', { name: 'x', atmospheres: { grid: 'g' } }, /nothing to do/],
    ['bad run name', { ...good, name: 'a b/c' }, /name: letters, digits/],
    ['two data sources at once', { ...good, atmospheres: { grid: 'g', dataset: 'd' } }, /atmospheres: /],
    ['too few synthetic models', { ...good, atmospheres: { synthetic: { n: 3, seed: 1 } } }, /at least 10/],
    [
      'PySME spectra with both n and labels',
      {
        name: 'x',
        spectra: { sme: { n: 10, labels: 'l.csv', linelist: 'v', grid: 'g' } },
        cvae: { epochs: 1 },
      },
      /exactly one of `n`/,
    ],
    [
      'PySME spectra without a line list',
      { name: 'x', spectra: { sme: { n: 10, grid: 'g' } }, cvae: { epochs: 1 } },
      /spectra/,
    ],
    [
      'PySME window reversed',
      {
        name: 'x',
        spectra: { sme: { n: 10, linelist: 'v', grid: 'g', window: [5400, 4450] } },
        cvae: { epochs: 1 },
      },
      /first below last/,
    ],
  ];
  test('PySME spectra take the paper window, air wavelengths, 0.05 Å and no macroturbulence by default', () => {
    const c = validatePipelineConfig({
      name: 'x',
      spectra: { sme: { n: 40, linelist: 'v.vald', grid: 'atlas9' } },
      cvae: { epochs: 1 },
    });
    expect(c.spectra).toEqual({
      sme: {
        n: 40,
        seed: 0,
        perAtmosphere: 4,
        linelist: 'v.vald',
        grid: 'atlas9',
        window: [4450, 5400],
        stepAngstrom: 0.05,
        medium: 'air',
        vmacKms: 0,
        batchSize: 16,
      },
    });
  });
  test.each(bad)('rejects %s with the file and field named', (_, value, message) => {
    let err: unknown;
    try {
      validatePipelineConfig(value, 'conf/pipeline.yaml');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PipelineConfigError);
    expect((err as Error).message).toMatch(/^conf\/pipeline\.yaml: invalid pipeline config:/);
    expect((err as Error).message).toMatch(message);
  });
});
