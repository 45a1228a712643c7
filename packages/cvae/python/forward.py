"""Decoder (spectrum generation) and encoder of a stellar-emu spectrum CVAE with numpy alone.

A model directory (`stellar-emu train cvae --out DIR`) holds model.json (config, labels with
their scales and training box, wavelength grid) and weights.safetensors (float32 tensors
`enc.<i>.W/b`, `mu.W/b`, `logvar.W/b`, `dec.<i>.W/b`). The TypeScript model computes:

    c      = 2 (label - min) / (max - min) - 1         per label, min/max from model.json labels
                                                         (a label with max == min maps to 0)
    decode: y = sigmoid(dec.last(ReLU(... ReLU(dec.0([z, c])))))
            flux = fluxRange[0] + y (fluxRange[1] - fluxRange[0])      (continuum-normalized)
    encode: s = (flux - fluxRange[0]) / (fluxRange[1] - fluxRange[0])
            h = ReLU(enc.last(... ReLU(enc.0([s, c]))))
            mu = h @ mu.W + mu.b, logvar = B tanh((h @ logvar.W + logvar.b) / B)
                                     (B = config.logvarBound; no tanh when it is null or absent)

`stellar-emu generate spectrum` uses z = 0 (`--z zero`) or z ~ N(0, I) from its own seeded
generator; any z of length config.latentDim can be decoded here.

Use it as a module:

    from forward import load_model, decode, wavelengths
    model = load_model("cvae-model")
    flux = decode(model, [{"teffK": 5770, "logg": 4.44, "vsiniKms": 2, "mh": 0, "vmicKms": 1, "resolution": 50000}])
    wave = wavelengths(model)   # Angstrom, one per pixel

or from the shell: `python forward.py MODEL_DIR INPUT.json` with INPUT.json
`{"labels": [[...one value per model label, in model.json order...], ...], "z": [[...], ...] or null,
"flux": [[...], ...] (optional, for the encoder)}` prints `{"flux": [[...]], "mu": ..., "logvar": ...}`.
"""

import json
import os
import sys

import numpy as np

# The safetensors reader lives with the checkpoint format, in packages/nn-core/python (copy that
# file beside this one to use it outside a checkout).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "nn-core", "python"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from stellar_emu_safetensors import read_safetensors  # noqa: E402


def relu(x):
    return np.maximum(x, 0.0)


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def load_model(model_dir):
    """model.json and the weights of a CVAE model directory."""
    with open(os.path.join(model_dir, "model.json")) as f:
        info = json.load(f)
    if info.get("format") != "stellar-emu-cvae/1":
        raise ValueError(f"{model_dir}: model.json has format {info.get('format')!r}, not a stellar-emu CVAE")
    meta, tensors = read_safetensors(os.path.join(model_dir, info["weightsFile"]))
    if meta.get("kind") != "cvae-weights":
        raise ValueError(f"{model_dir}: {info['weightsFile']} is a {meta.get('kind')!r} file, not CVAE weights")
    return {"info": info, "weights": {k: v.astype(np.float64) for k, v in tensors.items()}}


def label_matrix(model, labels):
    """Physical labels -> the network's [-1, 1] conditioning vectors [n, L]. Rows are dicts (record key or
    column name) or sequences in model.json label order."""
    spec = model["info"]["labels"]
    rows = []
    for row in labels:
        if isinstance(row, dict):
            row = [row[l["key"]] if l["key"] in row else row[l["column"]] for l in spec]
        rows.append([float(v) for v in row])
    x = np.asarray(rows, dtype=np.float64).reshape(-1, len(spec))
    # Labels stored with a log10Offset are scaled as log10(value + offset) (v sin i, R by default).
    for j, l in enumerate(spec):
        if l.get("log10Offset") is not None:
            v = x[:, j] + l["log10Offset"]
            if not np.all(v > 0):
                raise ValueError(f"{l['key']}: log10(value + {l['log10Offset']}) needs values above {-l['log10Offset']}")
            x[:, j] = np.log10(v)
    lo = np.array([l["min"] for l in spec])
    span = np.array([l["max"] for l in spec]) - lo
    return np.where(span > 0, 2 * (x - lo) / np.where(span > 0, span, 1) - 1, 0.0)


def _stack(weights, name, x, last_act):
    n = sum(1 for k in weights if k.startswith(name + ".") and k.endswith(".W"))
    for i in range(n):
        x = x @ weights[f"{name}.{i}.W"] + weights[f"{name}.{i}.b"]
        x = last_act(x) if i == n - 1 else relu(x)
    return x


def decode(model, labels, z=None):
    """Continuum-normalized flux [n, nPixels] at physical labels, latent z [n, latentDim] (default 0)."""
    cfg = model["info"]["config"]
    c = label_matrix(model, labels)
    z = np.zeros((c.shape[0], cfg["latentDim"])) if z is None else np.asarray(z, dtype=np.float64).reshape(c.shape[0], cfg["latentDim"])
    y = _stack(model["weights"], "dec", np.concatenate([z, c], axis=1), sigmoid)
    lo, hi = cfg["fluxRange"]
    return lo + y * (hi - lo)


def encode(model, flux, labels):
    """Latent mean and log-variance [n, latentDim] of continuum-normalized spectra at their labels."""
    cfg = model["info"]["config"]
    w = model["weights"]
    lo, hi = cfg["fluxRange"]
    s = (np.asarray(flux, dtype=np.float64) - lo) / (hi - lo)
    h = _stack(w, "enc", np.concatenate([s, label_matrix(model, labels)], axis=1), relu)
    raw = h @ w["logvar.W"] + w["logvar.b"]
    b = cfg.get("logvarBound")
    return h @ w["mu.W"] + w["mu.b"], (raw if b is None else b * np.tanh(raw / b))


def wavelengths(model):
    """Wavelength of each pixel (Angstrom)."""
    g = model["info"]["wavelength"]
    return g["startAngstrom"] + g["stepAngstrom"] * np.arange(g["nPixels"])


def main():
    model = load_model(sys.argv[1])
    with open(sys.argv[2]) as f:
        inputs = json.load(f)
    out = {"flux": decode(model, inputs["labels"], inputs.get("z")).tolist()}
    if inputs.get("flux") is not None:
        mu, logvar = encode(model, inputs["flux"], inputs["labels"])
        out["mu"], out["logvar"] = mu.tolist(), logvar.tolist()
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
