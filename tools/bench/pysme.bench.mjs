// PySME synthesis benchmark: spectra per core-second over the full 19,000 px (4450–5400 Å), from
// atmospheres interpolated in the shared ATLAS9 grid and the shared VALD list — plain (one PySME
// call per spectrum, PySME's own broadening) and with reuse (one call per intrinsic spectrum, then
// the project's kernels per (v sin i, R)). Needs ../shared/data and `node tools/setup.mjs pysme`.
// Imports the built packages: `npm run bench -- pysme` builds first.
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { SPECTRUM_DEFAULT_GRID } from '@stellar-emu/grid-io';
import { realDataDir } from '@stellar-emu/grid-io/testing';
import { Rng } from '@stellar-emu/numerics';
import {
  atlasGridSource,
  IntensityBroadener,
  loadAtlasGrid,
  SmeEngine,
  synthesisWindow,
} from '@stellar-emu/synthesis';
import { runSuite } from './lib.mjs';

const N_INTRINSIC = Number(process.env.PYSME_BENCH_INTRINSIC ?? 2);
const PER_INTRINSIC = Number(process.env.PYSME_BENCH_PER_INTRINSIC ?? 20);

await runSuite('pysme', async (record) => {
  const data = realDataDir();
  if (!data) throw new Error('the PySME benchmark needs ../shared/data (ATLAS9 grid and VALD line list)');
  const linelist = join(data, 'atomic/linelists/korg_vald_solar_threshold01/linelist.vald');
  const t0 = performance.now();
  const grid = await loadAtlasGrid(join(data, 'atlas9-kurucz1993'));
  record(
    'atlas9-grid-load',
    +((performance.now() - t0) / 1000).toFixed(2),
    's',
    `${grid.models.length} models`,
  );
  const source = atlasGridSource(grid);
  const out = SPECTRUM_DEFAULT_GRID;
  const maxVsiniKms = 300;
  const minResolution = 1000;
  const window = synthesisWindow({ grid: out, maxVsiniKms, minResolution, vmacKms: 0 });
  const c0 = performance.now();
  const engine = await SmeEngine.start();
  if (!engine.versions) throw new Error('the PySME engine started without reporting its versions');
  record(
    'engine-start',
    +((performance.now() - c0) / 1000).toFixed(2),
    's',
    `PySME ${engine.versions.pysme} import ${engine.versions.importSeconds.toFixed(1)} s`,
  );
  const rng = new Rng(5);
  const load = os.loadavg()[0];
  let engineS = 0;
  let prepareS = 0;
  let derivedS = 0;
  let derived = 0;
  let directS = 0;
  let direct = 0;
  try {
    for (let k = 0; k < N_INTRINSIC; k++) {
      let labels;
      do labels = { teffK: rng.uniform(4000, 11000), logg: rng.uniform(2, 5), mh: rng.uniform(-1.5, 1.0) };
      while (!source.covers(labels));
      const vmicKms = rng.uniform(0, 4);
      const atmosphere = source.atmosphere(labels);
      // Intrinsic spectrum: one PySME call (specific intensities), then the project's kernels.
      const si = await engine.intensities({
        atmosphere,
        labels: { ...labels, vmicKms },
        linelist,
        medium: 'air',
        ...window,
      });
      engineS += si.seconds;
      const p0 = performance.now();
      const b = new IntensityBroadener(si, out, { maxVsiniKms, minResolution });
      prepareS += (performance.now() - p0) / 1000;
      const d0 = performance.now();
      for (let j = 0; j < PER_INTRINSIC; j++) {
        const f = b.spectrum({
          vsiniKms: rng.uniform(0, 300),
          vmacKms: 0,
          resolution: rng.uniform(1000, 115_000),
        });
        if (!Number.isFinite(f[9500])) throw new Error('non-finite flux');
        derived++;
      }
      derivedS += (performance.now() - d0) / 1000;
      // Plain: PySME's own synthesis with its own broadening, one call per spectrum.
      const wave = Array.from({ length: out.n }, (_, i) => out.startAngstrom + i * out.stepAngstrom);
      const r = await engine.directSpectrum({
        atmosphere,
        labels: { ...labels, vmicKms },
        linelist,
        medium: 'air',
        wminAngstrom: out.startAngstrom,
        wmaxAngstrom: wave[wave.length - 1],
        vsiniKms: 50,
        vmacKms: 0,
        resolution: 50_000,
        waveAngstrom: wave,
      });
      directS += r.seconds;
      direct++;
    }
  } finally {
    await engine.close();
  }
  const note = `${N_INTRINSIC} intrinsic spectra at seeded labels in the CVAE box (cut to the grid), 19,000 px, one core per PySME process; 1-min load average ${load.toFixed(1)} on ${os.cpus().length} CPUs`;
  record(
    'pysme-intrinsic-s',
    +(engineS / N_INTRINSIC).toFixed(2),
    's',
    `PySME specific intensities per intrinsic spectrum (${note})`,
  );
  record(
    'broadener-prepare-s',
    +(prepareS / N_INTRINSIC).toFixed(3),
    's',
    'resampling + FFT of the 7 mu rows',
  );
  record(
    'broadener-spectrum-ms',
    +((1000 * derivedS) / derived).toFixed(1),
    'ms',
    'one (v sin i, R) derivation: kernels in Fourier space, one inverse FFT',
  );
  const plain = direct / directS;
  const reuse = (N_INTRINSIC * PER_INTRINSIC) / (engineS + prepareS + derivedS);
  record(
    'plain-spectra-per-core-s',
    +plain.toPrecision(3),
    'spectra/core-s',
    'PySME synthesis with its own v sin i and Gaussian instrument, one call per spectrum',
  );
  record(
    'reuse-spectra-per-core-s',
    +reuse.toPrecision(3),
    'spectra/core-s',
    `one PySME call per intrinsic spectrum, ${PER_INTRINSIC} (v sin i, R) derived from it`,
  );
  record('reuse-speedup', +(reuse / plain).toFixed(1), 'x', 'reuse over plain');
});
