"""FITS spectra written and read by astropy (and specutils), for grid-io's FITS tests.

Usage:
  python fits_fixtures.py write OUT_DIR   write 1D spectrum files in the layouts observatories ship;
                                          print, per file, the wavelengths (Å) and flux astropy reads
  python fits_fixtures.py read FILE...    read files grid-io wrote with astropy and specutils;
                                          print what they see (format, units, values, labels)

Values are printed as JSON (NaN as null). The expected wavelengths of image files come from
astropy.wcs (the FITS WCS implementation), converted to Å with astropy.units; IRAF's DC-FLAG
log10 solution, which astropy.wcs does not know, is computed from its definition.
"""

import gzip
import json
import os
import shutil
import sys
import warnings

import numpy as np
from astropy import units as u
from astropy.io import fits
from astropy.wcs import WCS


def as_list(a):
    return [None if not np.isfinite(v) else float(v) for v in np.asarray(a, dtype=np.float64).ravel()]


def wcs_angstrom(header, n):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w = WCS(header)
    world = w.pixel_to_world_values(np.arange(n, dtype=np.float64))
    world = np.asarray(world, dtype=np.float64).ravel()
    unit = u.Unit(w.wcs.cunit[0]) if str(w.wcs.cunit[0]) else u.AA
    return (world * unit).to_value(u.AA)


def write(out):
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(18)
    n = 500
    cases = []

    def flux_values():
        return 1.0 - 0.5 * np.exp(-0.5 * ((np.arange(n) - 250.0) / 8.0) ** 2) + 0.01 * rng.standard_normal(n)

    # Float images (BITPIX -32, -64), linear WCS in Å with CRPIX != 1 and a PC term.
    for bitpix, dtype in ((-32, np.float32), (-64, np.float64)):
        f = flux_values().astype(dtype)
        f[17] = np.nan
        h = fits.PrimaryHDU(f)
        h.header.update(CTYPE1="AWAV", CUNIT1="Angstrom", CRVAL1=5000.0, CDELT1=0.02, CRPIX1=3.5, BUNIT="")
        h.header["PC1_1"] = 0.5
        name = f"float{-bitpix}.fits"
        h.writeto(os.path.join(out, name), overwrite=True)
        cases.append({"file": name, "bitpix": bitpix, "medium": "air"})

    # Integer images with BSCALE/BZERO (BITPIX 16 with a BLANK pixel, 32), WCS in nm.
    for bitpix, dtype in ((16, np.int16), (32, np.int32)):
        raw = (flux_values() * 20000).astype(dtype)
        h = fits.PrimaryHDU(raw)
        if bitpix == 16:
            raw[40] = -32768
            h = fits.PrimaryHDU(raw)
            h.header["BLANK"] = -32768
        h.header.update(CTYPE1="WAVE", CUNIT1="nm", CRVAL1=445.0, CDELT1=0.005, CRPIX1=1.0)
        h.header["BSCALE"] = 5e-5
        h.header["BZERO"] = 0.25
        name = f"int{bitpix}.fits"
        h.writeto(os.path.join(out, name), overwrite=True)
        cases.append({"file": name, "bitpix": bitpix, "medium": "vacuum"})

    # Log-linear WCS (CTYPE1 WAVE-LOG), and IRAF's log10 solution (DC-FLAG = 1, CTYPE1 LINEAR).
    f = flux_values().astype(np.float32)
    h = fits.PrimaryHDU(f)
    h.header.update(CTYPE1="WAVE-LOG", CUNIT1="Angstrom", CRVAL1=4450.0, CDELT1=0.03, CRPIX1=1.0)
    h.writeto(os.path.join(out, "loglinear.fits"), overwrite=True)
    cases.append({"file": "loglinear.fits", "bitpix": -32})
    h = fits.PrimaryHDU(f)
    h.header.update(CTYPE1="LINEAR", CRVAL1=np.log10(4450.0), CDELT1=2e-6, CRPIX1=1.0)
    h.header["DC-FLAG"] = 1
    h.header["WAT1_001"] = "wtype=linear label=Wavelength units=angstroms"
    h.writeto(os.path.join(out, "iraf-log10.fits"), overwrite=True)
    cases.append({"file": "iraf-log10.fits", "bitpix": -32, "wavelength": as_list(10 ** (np.log10(4450.0) + 2e-6 * np.arange(n)))})

    # Binary table, one row per pixel (wavelength in nm, flux float32, an error column).
    w = 445.0 + 0.005 * np.arange(n)
    cols = fits.ColDefs([
        fits.Column(name="WAVELENGTH", format="D", unit="nm", array=w),
        fits.Column(name="FLUX", format="E", array=flux_values().astype(np.float32)),
        fits.Column(name="FLUX_ERR", format="E", array=np.full(n, 0.01, np.float32)),
    ])
    fits.HDUList([fits.PrimaryHDU(), fits.BinTableHDU.from_columns(cols, name="SPECTRUM")]).writeto(os.path.join(out, "table-rows.fits"), overwrite=True)
    cases.append({"file": "table-rows.fits", "table": True, "wavelength": as_list(w * 10), "flux_col": "FLUX"})

    # ESO Phase 3 style: one row of arrays (WAVE in Å, FLUX, ERR), in descending order to check the sort.
    w = (4450.0 + 0.01 * np.arange(n))[::-1]
    fx = flux_values()[::-1]
    cols = fits.ColDefs([
        fits.Column(name="WAVE", format=f"{n}D", unit="Angstrom", array=w[None, :]),
        fits.Column(name="FLUX", format=f"{n}D", array=fx[None, :]),
        fits.Column(name="ERR", format=f"{n}E", array=np.full((1, n), 0.01, np.float32)),
    ])
    fits.HDUList([fits.PrimaryHDU(), fits.BinTableHDU.from_columns(cols)]).writeto(os.path.join(out, "table-sdp.fits"), overwrite=True)
    cases.append({"file": "table-sdp.fits", "table": True, "wavelength": as_list(w), "flux_col": "FLUX"})

    # gzip of a float image.
    with open(os.path.join(out, "float32.fits"), "rb") as src, gzip.open(os.path.join(out, "float32.fits.gz"), "wb") as dst:
        shutil.copyfileobj(src, dst)
    cases.append({"file": "float32.fits.gz"})

    result = []
    for c in cases:
        path = os.path.join(out, c["file"])
        with fits.open(path) as hl:
            if c.get("table"):
                t = hl[1].data
                flux = np.asarray(t[c["flux_col"]], dtype=np.float64).ravel()
                wl = c["wavelength"]
                hdu = 1
            else:
                data = np.asarray(hl[0].data, dtype=np.float64)
                flux = data.ravel()
                wl = c.get("wavelength") or as_list(wcs_angstrom(hl[0].header, data.size))
                hdu = 0
        result.append({"file": c["file"], "hdu": hdu, "wavelength": wl, "flux": as_list(flux), "medium": c.get("medium")})
    print(json.dumps(result))


def read(paths):
    from specutils import Spectrum
    from specutils.io.registers import identify_spectrum_format

    out = []
    for path in paths:
        with fits.open(path) as hl:
            hl.verify("exception")
            hdus = [{"name": h.name, "kind": type(h).__name__, "shape": list(h.data.shape) if h.data is not None else None} for h in hl]
            header = {k: hl[0].header[k] for k in hl[0].header if k not in ("COMMENT", "HISTORY", "")}
            labels = None
            if "LABELS" in hl:
                lh = hl["LABELS"].header
                k = lh["NAXIS1"]
                labels = {
                    "names": [lh[f"LABEL{j + 1}"] for j in range(k)],
                    "units": [lh[f"LUNIT{j + 1}"] for j in range(k)],
                    "values": np.asarray(hl["LABELS"].data, dtype=np.float64).tolist(),
                }
            comments = [str(c) for c in hl[0].header.get("COMMENT", [])]
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            s = Spectrum.read(path)
        out.append({
            "file": path,
            "format": identify_spectrum_format(path),
            "hdus": hdus,
            "header": {k: (v if isinstance(v, (int, float, str, bool)) else str(v)) for k, v in header.items()},
            "comments": comments,
            "flux_unit": s.flux.unit.to_string(),
            "flux_dimensionless": bool(s.flux.unit == u.dimensionless_unscaled),
            "flux_shape": list(s.flux.shape),
            "flux": np.asarray(s.flux.value, dtype=np.float64).ravel().tolist(),
            "spectral_axis_angstrom": s.spectral_axis.to_value(u.AA).tolist(),
            "spectral_axis_physical_type": str(s.spectral_axis.unit.physical_type),
            "labels": labels,
            "warnings": [str(w.message) for w in caught],
        })
    print(json.dumps(out))


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "write":
        write(sys.argv[2])
    elif len(sys.argv) >= 3 and sys.argv[1] == "read":
        read(sys.argv[2:])
    else:
        sys.exit(__doc__)
