// The PySME engine: one long-lived Python process (python/sme_engine.py) behind a typed, queued API.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SpecificIntensities } from './broaden.js';

/** Number of elements in a Kurucz abundance pattern (Z = 1..99). */
export const ABUNDANCE_PATTERN_LENGTH = 99;

/**
 * One model atmosphere as the engine takes it: depth arrays from the surface inwards (cgs:
 * RHOX g cm^-2, T K, gas pressure dyn cm^-2, XNE cm^-3) and the abundance mix it was computed
 * with, in the Kurucz convention (index z-1: H and He number fractions N/Ntot, Z >= 3
 * log10(N/Ntot) at [M/H] = 0; the engine scales metals by the labels' [M/H]).
 */
export interface EngineAtmosphere {
  rhox: ArrayLike<number>;
  temperature: ArrayLike<number>;
  pressure: ArrayLike<number>;
  xne: ArrayLike<number>;
  abundancePattern: ArrayLike<number>;
  /** The 20 ATLAS opacity switches (`OPACITY IFOP`), when known. */
  opacityIfop?: ArrayLike<number>;
  /** Microturbulence the atmosphere was computed with, km/s (provenance for PySME). */
  vturbKms?: number | null;
  /** Where the atmosphere came from (a deck path, `interpolated:<grid>`, `pinn:<model>`). */
  source?: string;
}

/** The labels that shape the intrinsic spectrum: Teff (K), log g (cgs dex), [M/H] (dex), microturbulence (km/s). */
export interface IntrinsicLabels {
  teffK: number;
  logg: number;
  mh: number;
  vmicKms: number;
}

/** Air (the optical convention of HARPS and SYNSPEC) or vacuum wavelengths. */
export type WavelengthMedium = 'air' | 'vac';

/** A synthesis request: one atmosphere and its labels over [wminAngstrom, wmaxAngstrom]. */
export interface IntensityRequest {
  atmosphere: EngineAtmosphere;
  labels: IntrinsicLabels;
  /** Path of a VALD line list ("extract stellar" short or long format). */
  linelist: string;
  wminAngstrom: number;
  wmaxAngstrom: number;
  /** Wavelength medium of the output; the line list is converted to it (default 'air'). */
  medium?: WavelengthMedium;
  /** What the request is, for error messages (e.g. `row 17 (teff 5800, logg 4.4, ...)`). */
  context?: string;
}

/** PySME's own disk integration and broadening (the direct path, used to check the project's kernels). */
export interface DirectSpectrumRequest extends IntensityRequest {
  vsiniKms: number;
  vmacKms: number;
  /** Resolving power of PySME's Gaussian instrument profile (its FWHM = first wavelength / R); null = none. */
  resolution: number | null;
  /** Output wavelengths, Å (in `medium`). */
  waveAngstrom: ArrayLike<number>;
}

/** What the engine says about a line list. */
export interface LinelistInfo {
  /** The file's own medium (VALD: 'vac'). */
  native: WavelengthMedium;
  /** Wavelength range of the whole file, Å (native medium). */
  range: [number, number];
  /** Lines kept for the requested window (with its margin). */
  lines: number;
  /** Lines in the file. */
  total: number;
}

/** Versions reported by the engine. */
export interface EngineVersions {
  pysme: string;
  numpy: string;
  python: string;
  importSeconds: number;
  /** HOME of the engine process (where PySME keeps its config): `.tools/pysme/home`. */
  home: string;
}

/**
 * PySME's adaptive wavelength grid places points where lines are: with no line near an edge of
 * the window (a very metal-poor or hot star) it ends short of the edge. Beyond its last point
 * the spectrum is line-free, so the intensities are extended to [wmin, wmax] with one point per
 * side: the continuum extrapolated linearly (from the last point and the one at least 0.5 Å
 * inside it, per ray) and the line/continuum ratio of the edge point (within 1 % of 1, or
 * nothing is extended). Said in `padded`.
 */
export function padToWindow(
  si: SpecificIntensities,
  wmin: number,
  wmax: number,
): SpecificIntensities & { padded: string[] } {
  const w = si.wavelengthAngstrom;
  const n = w.length;
  const padded: string[] = [];
  if (n < 2) return { ...si, padded };
  const before = w[0] > wmin;
  const after = w[n - 1] < wmax;
  if (!before && !after) return { ...si, padded };
  const inner = (edge: number, dir: 1 | -1) => {
    let j = edge + dir;
    while (j > 0 && j < n - 1 && Math.abs(w[j] - w[edge]) < 0.5) j += dir;
    return j;
  };
  const extrapolate = (a: Float64Array, edge: number, at: number) => {
    const j = inner(edge, edge === 0 ? 1 : -1);
    return a[edge] + ((a[edge] - a[j]) / (w[edge] - w[j])) * (at - w[edge]);
  };
  // Only a line-free edge is extended: a grid that ends inside a line is left short (and refused).
  const lineFree = (edge: number) =>
    si.intensity.every((I, k) => Math.abs(I[edge] / si.continuum[k][edge] - 1) < 0.01);
  if ((before && !lineFree(0)) || (after && !lineFree(n - 1))) return { ...si, padded };
  const m = n + (before ? 1 : 0) + (after ? 1 : 0);
  const off = before ? 1 : 0;
  const wave = new Float64Array(m);
  wave.set(w, off);
  if (before) wave[0] = wmin;
  if (after) wave[m - 1] = wmax;
  const intensity: Float64Array[] = [];
  const continuum: Float64Array[] = [];
  for (let k = 0; k < si.mu.length; k++) {
    const I = si.intensity[k];
    const C = si.continuum[k];
    const ci = new Float64Array(m);
    const ii = new Float64Array(m);
    ci.set(C, off);
    ii.set(I, off);
    for (const [edge, at, idx] of [
      ...(before ? [[0, wmin, 0] as const] : []),
      ...(after ? [[n - 1, wmax, m - 1] as const] : []),
    ]) {
      const c = extrapolate(C, edge, at);
      ci[idx] = c;
      ii[idx] = c * (I[edge] / C[edge]);
    }
    intensity.push(ii);
    continuum.push(ci);
  }
  if (before)
    padded.push(
      `PySME's wavelength grid began at ${w[0].toFixed(3)} Å (no line below it): extended to ${wmin.toFixed(3)} Å with the continuum`,
    );
  if (after)
    padded.push(
      `PySME's wavelength grid ended at ${w[n - 1].toFixed(3)} Å (no line beyond it): extended to ${wmax.toFixed(3)} Å with the continuum`,
    );
  return { mu: si.mu, wavelengthAngstrom: wave, intensity, continuum, padded };
}

/** A synthesis that failed: names the request and carries the engine's message. */
export class SynthesisError extends Error {
  constructor(
    message: string,
    /** 'input': the request was refused (bad atmosphere or line list); 'engine': PySME failed; 'process': the engine process died. */
    readonly kind: 'input' | 'engine' | 'process',
    readonly detail?: string,
  ) {
    super(message);
    this.name = kind === 'input' ? 'InputError' : 'SynthesisError';
  }
}

/** Where the project keeps its PySME environment: `<repo>/.tools/pysme/{venv,home}`. */
export interface PysmeEnvironment {
  python: string;
  home: string;
  script: string;
}

const here = dirname(fileURLToPath(import.meta.url));
/** packages/synthesis (from src/ under vitest, from dist/ when built). */
const packageDir = resolve(here, '..');

/**
 * The PySME environment made by `node tools/setup.mjs pysme`, or the interpreter named by
 * STELLAR_EMU_PYSME_PYTHON. Throws a clear error saying how to set it up when absent.
 */
export function pysmeEnvironment(): PysmeEnvironment {
  const repo = resolve(packageDir, '..', '..');
  const tools = join(repo, '.tools', 'pysme');
  const script = join(packageDir, 'python', 'sme_engine.py');
  const override = process.env.STELLAR_EMU_PYSME_PYTHON;
  const python = override ? override : join(tools, 'venv', 'bin', 'python');
  if (!existsSync(python)) {
    throw new SynthesisError(
      `PySME is not set up: ${python} does not exist. Run \`node tools/setup.mjs pysme\` (npm test and npm run main do it), or set STELLAR_EMU_PYSME_PYTHON to a Python with pysme-astro.`,
      'process',
    );
  }
  return { python, home: join(tools, 'home'), script };
}

/** Whether the PySME environment exists (tests use it to decide, CI requires it). */
export function pysmeAvailable(): boolean {
  try {
    pysmeEnvironment();
    return true;
  } catch {
    return false;
  }
}

interface Header {
  id: number | null;
  ok: boolean;
  arrays: [string, number][];
  error?: string;
  kind?: 'input' | 'engine';
  traceback?: string;
  [key: string]: unknown;
}

interface Pending {
  id: number;
  context: string;
  resolve: (r: { header: Header; arrays: Map<string, Float64Array> }) => void;
  reject: (err: Error) => void;
}

/** Copy an ArrayLike into a plain array of finite numbers, or throw naming `what`. */
function finiteArray(what: string, a: ArrayLike<number>): number[] {
  const out = Array.from(a);
  for (let i = 0; i < out.length; i++) {
    if (!Number.isFinite(out[i]))
      throw new SynthesisError(`${what}[${i}] is ${out[i]}: not a finite number`, 'input');
  }
  return out;
}

/**
 * One PySME process. Requests are served one at a time in order; a failed request rejects
 * with a {@link SynthesisError} naming its `context` and leaves the process serving the next.
 * PySME's config and caches live in `.tools/pysme/home` (HOME of the process), and its working
 * directory (where the SME library writes `syntherr.log`) is a temporary folder removed by
 * {@link SmeEngine.close}.
 */
export class SmeEngine {
  private readonly child: ChildProcess;
  private readonly queue: Pending[] = [];
  private buffer: Buffer = Buffer.alloc(0);
  private header: Header | null = null;
  private nextId = 1;
  private stderrTail = '';
  private exited: Error | null = null;
  private readonly workDir: string;
  /** Versions reported at start-up. */
  versions: EngineVersions | null = null;

  private constructor(env: PysmeEnvironment, workDir: string) {
    this.workDir = workDir;
    this.child = spawn(env.python, ['-u', env.script], {
      cwd: workDir,
      stdio: ['pipe', 'pipe', 'pipe'],
      env: {
        ...process.env,
        HOME: env.home,
        MPLCONFIGDIR: join(env.home, 'matplotlib'),
        PYTHONNOUSERSITE: '1',
        // One synthesis per process: parallelism comes from workers, not from BLAS threads.
        OMP_NUM_THREADS: process.env.OMP_NUM_THREADS ?? '1',
        OPENBLAS_NUM_THREADS: process.env.OPENBLAS_NUM_THREADS ?? '1',
      },
    });
    this.child.stdout!.on('data', (chunk: Buffer) => this.onData(chunk));
    this.child.stderr!.on('data', (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString()).slice(-8000);
    });
    this.child.on('exit', (code, signal) =>
      this.onExit(
        new SynthesisError(
          `the PySME engine exited (${signal ?? `code ${code}`})${this.stderrTail ? `:\n${this.lastLines(12)}` : ''}`,
          'process',
        ),
      ),
    );
    this.child.on('error', (err) =>
      this.onExit(new SynthesisError(`the PySME engine could not start: ${err.message}`, 'process')),
    );
  }

  /** Start an engine and wait until PySME is imported (a few seconds). */
  static async start(opts: { environment?: PysmeEnvironment; workDir?: string } = {}): Promise<SmeEngine> {
    const env = opts.environment ?? pysmeEnvironment();
    mkdirSync(env.home, { recursive: true });
    const workRoot = opts.workDir ?? join(env.home, '..', 'work');
    mkdirSync(workRoot, { recursive: true });
    const engine = new SmeEngine(env, mkdtempSync(join(workRoot, 'engine-')));
    // The ready line is the response with id 0.
    await new Promise<void>((res, rej) =>
      engine.queue.push({ id: 0, context: 'start-up', resolve: () => res(), reject: rej }),
    );
    const hello = await engine.request({ op: 'hello' }, 'hello');
    const h = hello.header as unknown as EngineVersions;
    engine.versions = {
      pysme: h.pysme,
      numpy: h.numpy,
      python: h.python,
      importSeconds: h.importSeconds,
      home: h.home,
    };
    return engine;
  }

  private lastLines(n: number): string {
    return this.stderrTail.trim().split('\n').slice(-n).join('\n');
  }

  private onExit(err: Error): void {
    if (this.exited) return;
    this.exited = err;
    for (const p of this.queue.splice(0))
      p.reject(new SynthesisError(`${p.context}: ${err.message}`, 'process'));
  }

  private onData(chunk: Buffer): void {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    for (;;) {
      if (!this.header) {
        const nl = this.buffer.indexOf(10);
        if (nl < 0) return;
        const line = this.buffer.subarray(0, nl).toString('utf8');
        this.buffer = this.buffer.subarray(nl + 1);
        try {
          this.header = JSON.parse(line) as Header;
        } catch {
          this.onExit(
            new SynthesisError(`the PySME engine broke the protocol: ${line.slice(0, 200)}`, 'process'),
          );
          this.child.kill('SIGKILL');
          return;
        }
      }
      const need = this.header.arrays.reduce((s, [, n]) => s + 8 * n, 0);
      if (this.buffer.length < need) return;
      const arrays = new Map<string, Float64Array>();
      let off = 0;
      for (const [name, n] of this.header.arrays) {
        const out = new Float64Array(n);
        Buffer.from(out.buffer).set(this.buffer.subarray(off, off + 8 * n));
        arrays.set(name, out);
        off += 8 * n;
      }
      this.buffer = this.buffer.subarray(need);
      const header = this.header;
      this.header = null;
      const p = this.queue.shift();
      if (!p) continue;
      if (header.ok) p.resolve({ header, arrays });
      else {
        const where = p.context ? `${p.context}: ` : '';
        p.reject(
          new SynthesisError(
            `${where}${header.error ?? 'PySME failed'}`,
            header.kind ?? 'engine',
            header.traceback,
          ),
        );
      }
    }
  }

  private request(
    body: Record<string, unknown>,
    context: string,
  ): Promise<{ header: Header; arrays: Map<string, Float64Array> }> {
    if (this.exited)
      return Promise.reject(new SynthesisError(`${context}: ${this.exited.message}`, 'process'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.queue.push({ id, context, resolve, reject });
      this.child.stdin!.write(`${JSON.stringify({ id, ...body })}\n`);
    });
  }

  /** Load (once) and describe a VALD line list, kept for [wmin, wmax] plus `marginAngstrom`. */
  async linelist(
    path: string,
    wminAngstrom: number,
    wmaxAngstrom: number,
    medium: WavelengthMedium = 'air',
  ): Promise<LinelistInfo> {
    const r = await this.request(
      { op: 'linelist', path: resolve(path), wmin: wminAngstrom, wmax: wmaxAngstrom, medium },
      path,
    );
    return r.header.linelist as LinelistInfo;
  }

  private body(req: IntensityRequest): Record<string, unknown> {
    const ctx = req.context ?? `labels ${JSON.stringify(req.labels)}`;
    const a = req.atmosphere;
    const n = a.rhox.length;
    for (const [name, arr] of [
      ['temperature', a.temperature],
      ['pressure', a.pressure],
      ['xne', a.xne],
    ] as const) {
      if (arr.length !== n)
        throw new SynthesisError(`${ctx}: atmosphere ${name} has ${arr.length} layers, rhox ${n}`, 'input');
    }
    if (a.abundancePattern.length !== ABUNDANCE_PATTERN_LENGTH) {
      throw new SynthesisError(
        `${ctx}: abundancePattern must hold ${ABUNDANCE_PATTERN_LENGTH} values (Z = 1..99), got ${a.abundancePattern.length}`,
        'input',
      );
    }
    for (const k of ['teffK', 'logg', 'mh', 'vmicKms'] as const) {
      if (!Number.isFinite(req.labels[k]))
        throw new SynthesisError(`${ctx}: label ${k} is ${req.labels[k]}`, 'input');
    }
    if (!(req.wminAngstrom > 0 && req.wmaxAngstrom > req.wminAngstrom)) {
      throw new SynthesisError(`${ctx}: invalid window ${req.wminAngstrom}–${req.wmaxAngstrom} Å`, 'input');
    }
    return {
      linelist: resolve(req.linelist),
      wmin: req.wminAngstrom,
      wmax: req.wmaxAngstrom,
      medium: req.medium ?? 'air',
      labels: req.labels,
      atmosphere: {
        rhox: finiteArray(`${ctx}: rhox`, a.rhox),
        temperature: finiteArray(`${ctx}: temperature`, a.temperature),
        pressure: finiteArray(`${ctx}: pressure`, a.pressure),
        xne: finiteArray(`${ctx}: xne`, a.xne),
        abundancePattern: finiteArray(`${ctx}: abundancePattern`, a.abundancePattern),
        ...(a.opacityIfop ? { opacityIfop: Array.from(a.opacityIfop) } : {}),
        vturbKms: a.vturbKms ?? null,
        source: a.source ?? 'stellar-emu',
      },
    };
  }

  /**
   * Specific intensities I(λ, μ) and continuum Ic(λ, μ) of one atmosphere (no rotation,
   * macroturbulence or instrument), on PySME's adaptive wavelength grid over the window.
   */
  async intensities(
    req: IntensityRequest,
  ): Promise<SpecificIntensities & { seconds: number; warnings: string[] }> {
    const context = req.context ?? `labels ${JSON.stringify(req.labels)}`;
    const r = await this.request({ op: 'intensities', ...this.body(req) }, context);
    const nmu = r.header.nmu as number;
    const nw = r.header.nw as number;
    const rows = (flat: Float64Array) =>
      Array.from({ length: nmu }, (_, k) => flat.subarray(k * nw, (k + 1) * nw));
    const si = padToWindow(
      {
        mu: r.arrays.get('mu')!,
        wavelengthAngstrom: r.arrays.get('wavelength')!,
        intensity: rows(r.arrays.get('intensity')!),
        continuum: rows(r.arrays.get('continuum')!),
      },
      req.wminAngstrom,
      req.wmaxAngstrom,
    );
    return {
      ...si,
      seconds: r.header.seconds as number,
      warnings: [...((r.header.warnings as string[]) ?? []), ...si.padded],
    };
  }

  /** PySME's own continuum-normalized spectrum with its vsini, vmac and Gaussian instrument, at `waveAngstrom`. */
  async directSpectrum(
    req: DirectSpectrumRequest,
  ): Promise<{ flux: Float64Array; seconds: number; warnings: string[] }> {
    const context = req.context ?? `labels ${JSON.stringify(req.labels)}`;
    const r = await this.request(
      {
        op: 'spectrum',
        ...this.body(req),
        vsiniKms: req.vsiniKms,
        vmacKms: req.vmacKms,
        resolution: req.resolution,
        wave: Array.from(req.waveAngstrom),
      },
      context,
    );
    return {
      flux: r.arrays.get('flux')!,
      seconds: r.header.seconds as number,
      warnings: (r.header.warnings as string[]) ?? [],
    };
  }

  /** The process id (tests kill it to check crash handling). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Stop the process and remove its working directory. Safe to call twice. */
  async close(): Promise<void> {
    if (!this.exited) {
      const done = new Promise<void>((res) => this.child.once('exit', () => res()));
      this.child.stdin!.end();
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
      await done;
      clearTimeout(timer);
    }
    rmSync(this.workDir, { recursive: true, force: true });
  }
}
