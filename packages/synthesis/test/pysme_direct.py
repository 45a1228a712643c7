"""A direct PySME call, independent of the project's engine, for the synthesis tests.

Reads a Kurucz deck with PySME's own KrzFile and a VALD list with PySME's own ValdFile (the
whole list, in air), synthesizes with PySME's own disk integration, rotation, macroturbulence
and Gaussian instrument profile, and writes the continuum-normalized flux at the requested
wavelengths as JSON to stdout.

usage: pysme_direct.py <request.json>   with {deck, linelist, wave, vmicKms, vsiniKms, vmacKms, resolution}
"""
import json
import os
import sys

_out = os.fdopen(os.dup(1), "w")
os.dup2(2, 1)
sys.stdout = sys.stderr

import numpy as np  # noqa: E402
from pysme.atmosphere.krzfile import KrzFile  # noqa: E402
from pysme.linelist.vald import ValdFile  # noqa: E402
from pysme.sme import SME_Structure  # noqa: E402
from pysme.synthesize import synthesize_spectrum  # noqa: E402

req = json.load(open(sys.argv[1]))
atmo = KrzFile(req["deck"])
lines = ValdFile(req["linelist"])
lines.medium = "air"
sme = SME_Structure()
sme.teff, sme.logg, sme.monh = atmo.teff, atmo.logg, atmo.monh
sme.vmic = req["vmicKms"]
sme.vsini = req.get("vsiniKms", 0.0)
sme.vmac = req.get("vmacKms", 0.0)
sme.abund = atmo.abund
sme.atmo = atmo
sme.linelist = lines
wave = np.asarray(req["wave"], dtype=float)
# A wider segment than the output wavelengths, so that no output point lies at its very edge.
sme.wran = [[float(wave[0]) - 2.0, float(wave[-1]) + 2.0]]
sme.wave = [wave]
sme.normalize_by_continuum = True
sme.line_select_method = "internal"
if req.get("resolution"):
    sme.iptype = "gauss"
    sme.ipres = float(req["resolution"])
else:
    sme.ipres = 0
sme = synthesize_spectrum(sme)
json.dump({"flux": np.asarray(sme.synth[0], dtype=float).tolist(), "teffK": atmo.teff, "logg": atmo.logg, "mh": atmo.monh}, _out)
