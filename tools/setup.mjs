#!/usr/bin/env node
// Setup: builds the native TensorFlow binding from source and makes sure a Temporal CLI exists.
//
// Cached, pinned and idempotent: a second run with nothing changed takes a fraction of a second.
//
// Native TensorFlow: @tensorflow/tfjs-node's own install script downloads libtensorflow from a
// host that air-gapped clusters (and this CI) cannot reach, so npm runs no install scripts here
// (.npmrc) and this step builds the binding against the TensorFlow C library shipped in the
// `tensorflow-cpu` wheel from PyPI (pinned version and sha256 below), or against a TensorFlow
// installation of your own:
//   STELLAR_EMU_TENSORFLOW_DIR=/opt/libtensorflow   (holds include/ and lib/ or the .so files)
// On a machine with an NVIDIA GPU (or STELLAR_EMU_GPU=1) the same is done for
// @tensorflow/tfjs-node-gpu with the CUDA-enabled `tensorflow` wheel.
// STELLAR_EMU_SKIP_NATIVE=1 skips the binding (nn-core then falls back to wasm, then cpu).
// PySME (spectrum synthesis): a virtual environment under .tools/pysme/venv with the exact pins of
// tools/pysme-requirements.txt (installed with --no-deps), its config and caches under
// .tools/pysme/home (never the user's ~/.sme); STELLAR_EMU_PYSME_PYTHON=/path/to/python uses an
// existing interpreter that has pysme-astro instead; STELLAR_EMU_SKIP_PYSME=1 skips it.
// `node tools/setup.mjs tensorflow|temporal|browser|pysme` runs one part only.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  createReadStream,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  lstatSync,
  renameSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const toolsDir = join(root, '.tools');

/** Pinned wheels: the C library inside them is what the binding links against. */
const TF_VERSION = '2.21.0';
const WHEELS = {
  cpu: {
    project: 'tensorflow-cpu',
    file: 'tensorflow_cpu-2.21.0-cp311-cp311-manylinux_2_27_x86_64.whl',
    sha256: '2b847d217b02ee7731ed91431daf3250daa0196c3c94614d23be27232e6e5b6c',
  },
  gpu: {
    project: 'tensorflow',
    file: null, // the CUDA wheel is large; verified by pip's own hash check, not pinned here
    sha256: null,
  },
};

/** @param {string} msg */
const log = (msg) => process.stderr.write(`[setup] ${msg}\n`);
/**
 * @param {string} msg
 * @returns {never}
 */
const fail = (msg) => {
  process.stderr.write(`[setup] error: ${msg}\n`);
  process.exit(1);
};

/**
 * Run a command; throw with its output (when captured) unless it exits 0.
 * @param {string} cmd
 * @param {string[]} args
 * @param {import('node:child_process').SpawnSyncOptions & { capture?: boolean }} [opts]
 */
function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: opts.capture ? 'pipe' : 'inherit', encoding: 'utf8', ...opts });
  if (r.error) throw new Error(`${cmd}: ${r.error.message}`);
  if (r.status !== 0) {
    const out = opts.capture ? `\n${r.stdout}\n${r.stderr}` : '';
    throw new Error(`${cmd} ${args.join(' ')} exited with ${r.status}${out}`);
  }
  return r;
}

/** @param {string} path */
async function sha256File(path) {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk);
  return hash.digest('hex');
}

function python() {
  for (const py of ['python3', 'python']) {
    const r = spawnSync(py, ['-m', 'pip', '--version'], { encoding: 'utf8' });
    if (r.status === 0) return py;
  }
  return null;
}

/** Download (once) and unpack the TensorFlow C library and headers from the pinned wheel. */
/** @param {keyof typeof WHEELS} kind */
async function tensorflowFromWheel(kind) {
  const wheel = WHEELS[kind];
  const dest = join(toolsDir, 'tensorflow', `${wheel.project}-${TF_VERSION}`);
  const stamp = join(dest, '.complete');
  if (existsSync(stamp)) return { include: join(dest, 'include'), lib: dest };
  if (process.arch !== 'x64' || process.platform !== 'linux') {
    throw new Error(
      `no pinned TensorFlow wheel for ${process.platform}/${process.arch}; set STELLAR_EMU_TENSORFLOW_DIR to a TensorFlow C library`,
    );
  }
  const py = python();
  if (!py)
    throw new Error(
      'python3 with pip is needed to fetch the tensorflow wheel (or set STELLAR_EMU_TENSORFLOW_DIR)',
    );
  const wheelDir = join(toolsDir, 'wheels');
  mkdirSync(wheelDir, { recursive: true });
  const args = [
    '-m',
    'pip',
    'download',
    '--no-deps',
    '--only-binary=:all:',
    '--dest',
    wheelDir,
    '--disable-pip-version-check',
  ];
  if (wheel.file) args.push('--python-version', '3.11', '--platform', 'manylinux_2_27_x86_64');
  args.push(`${wheel.project}==${TF_VERSION}`);
  const existing = wheel.file && existsSync(join(wheelDir, wheel.file));
  if (!existing) {
    log(`downloading ${wheel.project}==${TF_VERSION} from PyPI (once; cached in .tools/wheels)`);
    run(py, args);
  }
  const file =
    wheel.file ??
    readdirSync(wheelDir).find((f) => f.startsWith(`${wheel.project.replace('-', '_')}-${TF_VERSION}-`));
  if (!file || !existsSync(join(wheelDir, file)))
    throw new Error(`pip did not produce the ${wheel.project} wheel`);
  if (wheel.sha256) {
    const got = await sha256File(join(wheelDir, file));
    if (got !== wheel.sha256) {
      rmSync(join(wheelDir, file), { force: true });
      throw new Error(
        `${file}: sha256 ${got} does not match the pinned ${wheel.sha256}; removed, run setup again`,
      );
    }
  }
  log(`unpacking the TensorFlow C library and headers from ${file}`);
  const tmp = `${dest}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const unzip = `
import sys, zipfile, os, shutil
whl, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(whl) as z:
    for name in z.namelist():
        if name.startswith('tensorflow/include/'):
            target = os.path.join(out, 'include', name[len('tensorflow/include/'):])
        elif name in ('tensorflow/libtensorflow_cc.so.2', 'tensorflow/libtensorflow_framework.so.2'):
            target = os.path.join(out, os.path.basename(name))
        else:
            continue
        if name.endswith('/'):
            continue
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with z.open(name) as src, open(target, 'wb') as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
`;
  run(py, ['-c', unzip, join(wheelDir, file), tmp]);
  for (const so of ['libtensorflow_cc.so.2', 'libtensorflow_framework.so.2']) {
    if (!existsSync(join(tmp, so))) throw new Error(`${file} has no tensorflow/${so}`);
  }
  rmSync(dest, { recursive: true, force: true });
  renameSync(tmp, dest);
  writeFileSync(stamp, `${file}\n`);
  return { include: join(dest, 'include'), lib: dest };
}

/** A user's own TensorFlow: STELLAR_EMU_TENSORFLOW_DIR with include/ and the shared libraries. */
/** @param {string} dir */
function tensorflowFromEnv(dir) {
  const include = existsSync(join(dir, 'include')) ? join(dir, 'include') : null;
  const libDir = ['lib', 'lib64', '.']
    .map((d) => join(dir, d))
    .find((d) => existsSync(d) && readdirSync(d).some((f) => f.startsWith('libtensorflow')));
  if (!include || !existsSync(join(include, 'tensorflow', 'c', 'c_api.h'))) {
    throw new Error(`STELLAR_EMU_TENSORFLOW_DIR=${dir}: no include/tensorflow/c/c_api.h`);
  }
  if (!libDir)
    throw new Error(
      `STELLAR_EMU_TENSORFLOW_DIR=${dir}: no libtensorflow*.so* in lib/, lib64/ or the folder itself`,
    );
  return { include, lib: libDir };
}

/**
 * @param {string} target
 * @param {string} path
 */
function link(target, path) {
  try {
    lstatSync(path);
    rmSync(path, { recursive: true, force: true });
  } catch {
    /* absent */
  }
  symlinkSync(target, path);
}

/** @param {string} pkgDir */
function bindingPath(pkgDir) {
  const libDir = join(pkgDir, 'lib');
  if (!existsSync(libDir)) return null;
  for (const d of readdirSync(libDir)) {
    const p = join(libDir, d, 'tfjs_binding.node');
    if (existsSync(p)) return p;
  }
  return null;
}

/** Does the binding load and compute in a fresh process? */
/** @param {string} pkgName */
function bindingWorks(pkgName) {
  const script = `const tf = await import('@tensorflow/tfjs'); await import('${pkgName}');
    await tf.setBackend('tensorflow'); const v = tf.matMul(tf.ones([2,2]), tf.ones([2,2])).sum().dataSync()[0];
    if (v !== 8) throw new Error('probe returned ' + v); console.log(tf.getBackend());`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '3' },
  });
  return {
    ok: r.status === 0 && r.stdout.trim().endsWith('tensorflow'),
    detail: (r.stderr || r.stdout).trim().split('\n').slice(-3).join(' | '),
  };
}

/**
 * @param {string} pkgName
 * @param {keyof typeof WHEELS} kind
 */
async function setupBinding(pkgName, kind) {
  const pkgDir = join(root, 'node_modules', ...pkgName.split('/'));
  if (!existsSync(join(pkgDir, 'package.json'))) {
    log(`${pkgName} is not installed (it is optional); skipping`);
    return false;
  }
  const version = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')).version;
  const source = process.env.STELLAR_EMU_TENSORFLOW_DIR
    ? `dir:${resolve(process.env.STELLAR_EMU_TENSORFLOW_DIR)}`
    : `wheel:${WHEELS[kind].project}-${TF_VERSION}`;
  const stampFile = join(pkgDir, 'deps', '.stellar-emu-build');
  const wanted = `${pkgName}@${version} ${source} node-abi-${process.versions.modules}`;
  if (bindingPath(pkgDir) && existsSync(stampFile) && readFileSync(stampFile, 'utf8').trim() === wanted) {
    log(`${pkgName}: native binding up to date (${source})`);
    return true;
  }
  const t0 = Date.now();
  const tfLib = process.env.STELLAR_EMU_TENSORFLOW_DIR
    ? tensorflowFromEnv(resolve(process.env.STELLAR_EMU_TENSORFLOW_DIR))
    : await tensorflowFromWheel(kind);
  const deps = join(pkgDir, 'deps');
  mkdirSync(join(deps, 'lib'), { recursive: true });
  link(tfLib.include, join(deps, 'include'));
  const libs = readdirSync(tfLib.lib).filter((f) => /^libtensorflow.*\.so/.test(f));
  for (const so of libs) link(join(tfLib.lib, so), join(deps, 'lib', so));
  // The binding links -ltensorflow -ltensorflow_framework; TF 2.x wheels export the C API
  // from libtensorflow_cc.so.2.
  const cc =
    libs.find((f) => f === 'libtensorflow.so.2') ?? libs.find((f) => f.startsWith('libtensorflow_cc.so'));
  const fw = libs.find((f) => f.startsWith('libtensorflow_framework.so'));
  if (!cc || !fw)
    throw new Error(
      `${tfLib.lib}: need libtensorflow(_cc).so.2 and libtensorflow_framework.so.2, found ${libs.join(', ')}`,
    );
  if (cc !== 'libtensorflow.so') link(cc, join(deps, 'lib', 'libtensorflow.so'));
  if (fw !== 'libtensorflow_framework.so') link(fw, join(deps, 'lib', 'libtensorflow_framework.so'));

  log(`${pkgName}: building the native binding from source against ${source}`);
  const env = { ...process.env };
  if (!env.npm_config_nodedir && existsSync('/usr/include/node/node_api.h')) env.npm_config_nodedir = '/usr';
  const preGyp = join(root, 'node_modules', '@mapbox', 'node-pre-gyp', 'bin', 'node-pre-gyp');
  rmSync(join(pkgDir, 'build'), { recursive: true, force: true });
  const r = spawnSync(process.execPath, [preGyp, 'install', '--build-from-source'], {
    cwd: pkgDir,
    env,
    encoding: 'utf8',
  });
  if (r.status !== 0) {
    throw new Error(
      `node-pre-gyp build of ${pkgName} failed:\n${(r.stdout + r.stderr)
        .split('\n')
        .filter((l) => !l.startsWith('gyp info'))
        .slice(-25)
        .join('\n')}`,
    );
  }
  const check = bindingWorks(pkgName);
  if (!check.ok) throw new Error(`${pkgName} built but does not load: ${check.detail}`);
  writeFileSync(stampFile, `${wanted}\n`);
  log(`${pkgName}: native binding built and verified in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return true;
}

/** The PySME virtual environment: created once per requirements file and Python version. */
function setupPysme() {
  const dir = join(toolsDir, 'pysme');
  const venv = join(dir, 'venv');
  const home = join(dir, 'home');
  const reqFile = join(root, 'tools', 'pysme-requirements.txt');
  const venvPython = join(venv, 'bin', 'python');
  const stamp = join(dir, '.complete');
  const py = python();
  if (!py) throw new Error('python3 with pip and venv is needed for PySME (or set STELLAR_EMU_PYSME_PYTHON)');
  const pyVersion = spawnSync(py, ['-c', 'import sys; print("%d.%d.%d" % sys.version_info[:3])'], {
    encoding: 'utf8',
  }).stdout.trim();
  const wanted = `${createHash('sha256').update(readFileSync(reqFile)).digest('hex')} python-${pyVersion}`;
  if (existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === wanted && existsSync(venvPython)) {
    log(`PySME: environment up to date (.tools/pysme/venv, python ${pyVersion})`);
    return;
  }
  const t0 = Date.now();
  rmSync(stamp, { force: true });
  rmSync(venv, { recursive: true, force: true });
  mkdirSync(home, { recursive: true });
  log(
    `PySME: creating .tools/pysme/venv (python ${pyVersion}) with the pins of tools/pysme-requirements.txt`,
  );
  run(py, ['-m', 'venv', venv]);
  run(venvPython, [
    '-m',
    'pip',
    'install',
    '--quiet',
    '--disable-pip-version-check',
    '--no-deps',
    '-r',
    reqFile,
  ]);
  // First import writes PySME's config and unpacks its hydrogen line profiles: do it now, under
  // .tools/pysme/home, so that nothing is written to the user's home at run time.
  const check = spawnSync(venvPython, ['-c', 'import pysme, pysme.synthesize; print(pysme.__version__)'], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, HOME: home, MPLCONFIGDIR: join(home, 'matplotlib'), PYTHONNOUSERSITE: '1' },
  });
  if (check.status !== 0)
    throw new Error(
      `PySME installed but does not import:\n${(check.stderr || check.stdout).split('\n').slice(-15).join('\n')}`,
    );
  rmSync(join(dir, 'syntherr.log'), { force: true });
  writeFileSync(stamp, `${wanted}\n`);
  log(`PySME ${check.stdout.trim().split('\n').pop()}: ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

function gpuVisible() {
  if (process.env.STELLAR_EMU_GPU === '1') return true;
  if (process.env.STELLAR_EMU_GPU === '0') return false;
  return existsSync('/dev/nvidia0') || existsSync('/proc/driver/nvidia/version');
}

async function main() {
  const only = process.argv[2];
  if (!existsSync(join(root, 'node_modules'))) fail('run `npm ci` first');
  if (!only || only === 'tensorflow') {
    if (process.env.STELLAR_EMU_SKIP_NATIVE === '1') {
      log('STELLAR_EMU_SKIP_NATIVE=1: not building the native binding (wasm or cpu will run)');
    } else {
      try {
        await setupBinding('@tensorflow/tfjs-node', 'cpu');
        if (gpuVisible()) await setupBinding('@tensorflow/tfjs-node-gpu', 'gpu');
      } catch (err) {
        fail(
          `${err instanceof Error ? err.message : String(err)}\nSet STELLAR_EMU_SKIP_NATIVE=1 to continue without it (slower wasm/cpu backends).`,
        );
      }
    }
  }
  if (!only || only === 'temporal') {
    const temporalTool = join(root, 'tools', 'temporal.mjs');
    if (existsSync(temporalTool)) {
      const r = spawnSync(process.execPath, [temporalTool, 'ensure'], {
        stdio: ['ignore', 'pipe', 'inherit'],
        encoding: 'utf8',
      });
      if (r.status !== 0) fail('could not provide a temporal CLI (see above)');
      log(`temporal CLI: ${r.stdout.trim()}`);
    }
  }
  if (!only || only === 'pysme') {
    if (process.env.STELLAR_EMU_SKIP_PYSME === '1' || process.env.STELLAR_EMU_PYSME_PYTHON) {
      log(
        process.env.STELLAR_EMU_PYSME_PYTHON
          ? `PySME: using STELLAR_EMU_PYSME_PYTHON=${process.env.STELLAR_EMU_PYSME_PYTHON}`
          : 'STELLAR_EMU_SKIP_PYSME=1: no PySME environment (spectrum synthesis unavailable)',
      );
    } else {
      try {
        setupPysme();
      } catch (err) {
        fail(
          `${err instanceof Error ? err.message : String(err)}\nSet STELLAR_EMU_SKIP_PYSME=1 to continue without spectrum synthesis.`,
        );
      }
    }
  }
  if (!only || only === 'browser') {
    // Headless Chromium for the report's browser test (Debian's package; nothing downloaded by npm).
    const browserTool = join(root, 'tools', 'setup-browser.mjs');
    if (existsSync(browserTool)) {
      const r = spawnSync(process.execPath, [browserTool], { stdio: 'inherit' });
      if (r.status !== 0) fail('could not provide headless Chromium for the browser test (see above)');
    }
  }
}

main().catch((err) => fail(err.stack ?? String(err)));
