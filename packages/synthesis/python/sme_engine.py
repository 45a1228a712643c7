"""PySME synthesis engine of stellar-emu: one long-lived process serves a whole batch.

The TypeScript side (packages/synthesis/src/engine.ts) starts this script with the pinned
virtual environment of `.tools/pysme/` and speaks a line protocol over stdin/stdout:

  request  (stdin):  one JSON object per line, {"id": n, "op": "...", ...}
  response (stdout): one JSON header line {"id": n, "ok": true|false, ..., "arrays": [[name, length], ...]}
                     followed by the raw little-endian float64 bytes of those arrays, in order.

Everything else PySME or the SME library prints goes to stderr (file descriptor 1 is
redirected there at start-up, so nothing can corrupt the protocol). Operations:

  hello                      versions of PySME, numpy and Python
  linelist {path, wmin, wmax, marginAngstrom, medium}
                             load a VALD file once (cached by path), keep the lines that can
                             reach [wmin, wmax], convert them to `medium` ("air" or "vac")
  intensities {atmosphere, labels, linelist, wmin, wmax, medium}
                             specific intensities I(lambda, mu) and continuum Ic(lambda, mu) of
                             one atmosphere (no rotation, macroturbulence or instrument): the
                             project broadens them with its own kernels
  spectrum {... + vsiniKms, vmacKms, resolution, wave}
                             PySME's own disk integration and broadening onto `wave`, normalized
                             by the continuum (the direct path, used to check the kernels)

Only arrays cross the boundary; no file is read except the line list, and nothing is fetched.
"""
import json
import os
import sys
import time
import traceback
import warnings

# The protocol owns the real stdout; fd 1 (Python's and the C library's) now points at stderr.
_proto = os.fdopen(os.dup(1), "wb", buffering=0)
os.dup2(2, 1)
sys.stdout = sys.stderr

import numpy as np  # noqa: E402

import logging  # noqa: E402

t_import = time.time()
import pysme  # noqa: E402
from pysme.abund import Abund  # noqa: E402
from pysme.atmosphere.atmosphere import Atmosphere  # noqa: E402
from pysme.linelist.vald import ValdFile  # noqa: E402
from pysme.sme import SME_Structure  # noqa: E402
from pysme.synthesize import synthesize_spectrum  # noqa: E402
from pysme import util as sme_util  # noqa: E402

IMPORT_SECONDS = time.time() - t_import
logging.getLogger("pysme").setLevel(logging.WARNING)
try:
    sme_util.show_progress_bars = False
except Exception:  # pragma: no cover - older PySME
    pass

KBOLTZ_CGS = 1.380649e-16  # erg/K
HYDROGEN_MASS_G = 1.6735575e-24  # g
# Atomic masses (u) for the mean molecular weight of the gas, Z = 1..99 (as PySME's KrzFile).
from pysme.atmosphere.krzfile import atmoic_mass as _ATOMIC_MASS  # noqa: E402

_linelists = {}


class RequestError(Exception):
    """A request that cannot be served (bad input): reported to the caller, the process goes on."""


def _send(header, arrays=()):
    header = dict(header)
    header["arrays"] = [[name, int(a.size)] for name, a in arrays]
    _proto.write((json.dumps(header) + "\n").encode("utf-8"))
    for _, a in arrays:
        _proto.write(np.ascontiguousarray(a, dtype="<f8").tobytes())


def _linelist(req):
    path = req["path"]
    medium = req.get("medium", "air")
    wmin, wmax = float(req["wmin"]), float(req["wmax"])
    margin = float(req.get("marginAngstrom", 25.0))
    key = path
    if key not in _linelists:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                full = ValdFile(path)
        except Exception as err:  # ValdFile raises several kinds on non-VALD input
            raise RequestError(f"{path}: not a readable VALD line list ({type(err).__name__}: {err})") from err
        if len(full) == 0:
            raise RequestError(f"{path}: the VALD line list holds no lines")
        _linelists[key] = full
    full = _linelists[key]
    native = full.medium or "vac"
    wl = np.asarray(full["wlcent"], dtype=float)
    lo, hi = float(np.min(wl)), float(np.max(wl))
    # Keep the lines that can reach the window; hydrogen lines have far wings: keep them wider.
    species = np.asarray(full["species"]).astype(str)
    is_h = np.char.startswith(species, "H 1")
    keep = ((wl > wmin - margin) & (wl < wmax + margin)) | (is_h & (wl > wmin - 400) & (wl < wmax + 400))
    sub = full[keep]
    if native != medium:
        sub.medium = medium
    return sub, {"native": native, "range": [lo, hi], "lines": int(np.count_nonzero(keep)), "total": int(len(full))}


def _mean_molecular_weight(pattern):
    """Mean atomic mass (u) per particle of a Kurucz abundance pattern (H, He number fractions, Z>=3 log10 N/Ntot)."""
    abund = Abund(monh=0, pattern=np.asarray(pattern, dtype=float), type="kurucz")
    ratios = abund.get_pattern(type="n/nH")
    total_number = 0.0
    total_mass = 0.0
    for element, value in ratios.items():
        if value is None or not np.isfinite(value):
            continue
        total_number += value
        total_mass += value * _ATOMIC_MASS[element]
    return total_mass / total_number


def _atmosphere(req):
    a = req["atmosphere"]
    labels = req["labels"]
    rhox = np.asarray(a["rhox"], dtype=float)
    temp = np.asarray(a["temperature"], dtype=float)
    pgas = np.asarray(a["pressure"], dtype=float)
    xne = np.asarray(a["xne"], dtype=float)
    n = rhox.size
    for name, arr in (("temperature", temp), ("pressure", pgas), ("xne", xne)):
        if arr.size != n:
            raise RequestError(f"atmosphere: {name} has {arr.size} layers, rhox has {n}")
    for name, arr in (("rhox", rhox), ("temperature", temp), ("pressure", pgas), ("xne", xne)):
        bad = ~(np.isfinite(arr) & (arr > 0))
        if bad.any():
            i = int(np.argmax(bad))
            raise RequestError(f"atmosphere: {name} must be finite and > 0 (layer {i + 1}: {arr[i]})")
    if np.any(np.diff(rhox) <= 0):
        raise RequestError("atmosphere: rhox must increase inwards")
    pattern = np.asarray(a["abundancePattern"], dtype=float)
    if pattern.size != 99:
        raise RequestError(f"atmosphere: abundancePattern must hold 99 values (Z = 1..99), got {pattern.size}")
    mh = float(labels["mh"])
    atmo = Atmosphere()
    atmo.teff = float(labels["teffK"])
    atmo.logg = float(labels["logg"])
    atmo.vturb = float(a.get("vturbKms") or 0.0)
    atmo.lonh = float(a.get("mixingLength") or 1.25)
    atmo.source = str(a.get("source", "stellar-emu"))
    atmo.method = "embedded"
    atmo.geom = "PP"
    atmo.depth = "RHOX"
    atmo.interp = "RHOX"
    atmo.wlstd = 5000.0
    if a.get("opacityIfop"):
        atmo.opflag = np.asarray(a["opacityIfop"], dtype=int)
    atmo.abund = Abund(monh=mh, pattern=pattern, type="kurucz")
    mu = _mean_molecular_weight(pattern)
    atmo.rhox = rhox
    atmo.temp = temp
    atmo.xne = xne
    atmo.xna = pgas / (KBOLTZ_CGS * temp)
    atmo.rho = pgas * mu * HYDROGEN_MASS_G / (KBOLTZ_CGS * temp)
    return atmo, Abund(monh=mh, pattern=pattern, type="kurucz")


def _sme(req):
    labels = req["labels"]
    wmin, wmax = float(req["wmin"]), float(req["wmax"])
    lines, info = _linelist({"path": req["linelist"], "wmin": wmin, "wmax": wmax, "medium": req.get("medium", "air"), "marginAngstrom": req.get("marginAngstrom", 25.0)})
    if not (info["range"][0] <= wmin and wmax <= info["range"][1] + 1e-6):
        pass  # coverage is checked on the TypeScript side, before any synthesis
    atmo, abund = _atmosphere(req)
    sme = SME_Structure()
    sme.teff = float(labels["teffK"])
    sme.logg = float(labels["logg"])
    sme.monh = float(labels["mh"])
    sme.vmic = float(labels["vmicKms"])
    sme.vmac = 0.0
    sme.vsini = 0.0
    sme.abund = abund
    sme.atmo = atmo
    sme.linelist = lines
    sme.wran = [[wmin, wmax]]
    sme.normalize_by_continuum = True
    # Every line of the (window-trimmed) list enters the transfer: no ALMAX pre-selection pass.
    sme.line_select_method = "internal"
    return sme, info


class _Collect(logging.Handler):
    """Collects PySME's log warnings (e.g. SMElib's ionization warnings, which PySME catches and logs)."""

    def __init__(self):
        super().__init__(level=logging.WARNING)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def _synthesize(sme):
    """PySME's synthesis with its warnings (Python warnings and its logger's) recorded and its wall time."""
    t0 = time.time()
    collect = _Collect()
    log = logging.getLogger("pysme")
    log.addHandler(collect)
    try:
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            sme = synthesize_spectrum(sme)
    finally:
        log.removeHandler(collect)
    seen = [str(x.message) for x in w] + collect.messages
    return sme, time.time() - t0, list(dict.fromkeys(seen))


def _intensities(req):
    sme, info = _sme(req)
    sme.specific_intensities_only = True
    # PySME divides each ray by its own continuum when normalizing; the disk integration needs the raw I and Ic.
    sme.normalize_by_continuum = False
    sme, seconds, caught = _synthesize(sme)
    wint = np.asarray(sme.wint[0], dtype=float)
    sint = np.asarray(sme.sint[0], dtype=float)
    cint = np.asarray(sme.cint[0], dtype=float)
    mu = np.asarray(sme.mu, dtype=float)
    if sint.shape != (mu.size, wint.size) or cint.shape != sint.shape:
        raise RuntimeError(f"PySME returned intensities of shape {sint.shape}/{cint.shape} for {mu.size} mu and {wint.size} wavelengths")
    header = {"ok": True, "nmu": int(mu.size), "nw": int(wint.size), "seconds": seconds, "warnings": caught, "linelist": info}
    return header, [("mu", mu), ("wavelength", wint), ("intensity", sint.ravel()), ("continuum", cint.ravel())]


def _spectrum(req):
    sme, info = _sme(req)
    sme.vsini = float(req.get("vsiniKms", 0.0))
    sme.vmac = float(req.get("vmacKms", 0.0))
    resolution = req.get("resolution")
    if resolution:
        sme.iptype = "gauss"
        sme.ipres = float(resolution)
    else:
        sme.ipres = 0
    wave = np.asarray(req["wave"], dtype=float)
    sme.wave = [wave]
    sme, seconds, caught = _synthesize(sme)
    flux = np.asarray(sme.synth[0], dtype=float)
    header = {"ok": True, "n": int(flux.size), "seconds": seconds, "warnings": caught, "linelist": info}
    return header, [("flux", flux)]


def _hello(_req):
    return {
        "ok": True,
        "pysme": pysme.__version__,
        "numpy": np.__version__,
        "python": sys.version.split()[0],
        "importSeconds": IMPORT_SECONDS,
        "home": os.path.expanduser("~"),
    }, []


OPS = {"hello": _hello, "intensities": _intensities, "spectrum": _spectrum}


def main():
    _send({"id": 0, "ok": True, "ready": True, "pysme": pysme.__version__})
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        req_id = None
        try:
            req = json.loads(line)
            req_id = req.get("id")
            op = req.get("op")
            if op == "linelist":
                _, info = _linelist(req)
                header, arrays = {"ok": True, "linelist": info}, []
            elif op in OPS:
                header, arrays = OPS[op](req)
            else:
                raise RequestError(f"unknown op {op!r}")
            header["id"] = req_id
            _send(header, arrays)
        except RequestError as err:
            _send({"id": req_id, "ok": False, "kind": "input", "error": str(err)})
        except Exception as err:  # a PySME failure: report it with its traceback, keep serving
            _send({"id": req_id, "ok": False, "kind": "engine", "error": f"{type(err).__name__}: {err}", "traceback": traceback.format_exc()[-4000:]})


if __name__ == "__main__":
    main()
