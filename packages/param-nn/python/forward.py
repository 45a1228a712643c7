"""Parameter recovery (PCA + dense network) of a stellar-emu recovery model with numpy alone.

`trainRecovery` (and `stellar-emu validate cvae`) writes `<out>/recovery.safetensors`: one file
with the network weights (`param/recovery.<i>.W/b`, float32), the PCA (`pca/mean` [pixels],
`pca/basis` [pixels, k], `pca/explained_variance`) and, in its metadata `state`, the
architecture and the scalers. The TypeScript model computes:

    coeff  = (flux - pca.mean) @ pca.basis                    PCA coefficients [n, k]
    x      = (coeff - inputMean) / inputStd                   per coefficient
    y      = recovery.last(ReLU(... ReLU(recovery.0(x))))     linear last layer
    label  = min + y (max - min)                              per label, training range
    label  = clip(label, min, max)                            NaN -> min; out_of_range flags it

Use it as a module:

    from forward import load_model, predict
    model = load_model("validate-out/recovery.safetensors")
    labels, out_of_range = predict(model, flux)   # flux [n, pixels] on the model's grid
    model["labels"]                               # label names, in column order

or from the shell: `python forward.py MODEL_FILE_OR_DIR INPUT.json` with INPUT.json
`{"flux": [[...], ...]}` prints `{"labels": [...names...], "values": [[...]], "raw": [[...]], "outOfRange": [[...]]}`.
The file's sha256 (in its own header) is verified.
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


def load_model(path):
    """A recovery model file (or the directory holding recovery.safetensors)."""
    if os.path.isdir(path):
        path = os.path.join(path, "recovery.safetensors")
    meta, tensors = read_safetensors(path)
    if meta.get("kind") != "param-nn/recovery":
        raise ValueError(f"{path}: a {meta.get('kind')!r} file, not a param-nn recovery model")
    state = json.loads(meta["state"])
    return {
        "labels": state["arch"]["labelNames"],
        "hidden": state["arch"]["hidden"],
        "scalers": state["scalers"],
        "weights": {k[len("param/") :]: v.astype(np.float64) for k, v in tensors.items() if k.startswith("param/")},
        "pca_mean": tensors["pca/mean"].astype(np.float64),
        "pca_basis": tensors["pca/basis"].astype(np.float64),
    }


def project(model, flux):
    """PCA coefficients [n, k] of spectra [n, pixels]."""
    return (np.asarray(flux, dtype=np.float64) - model["pca_mean"]) @ model["pca_basis"]


def predict_raw(model, flux):
    """Labels in physical units before clipping, [n, labels]."""
    s = model["scalers"]
    x = (project(model, flux) - np.asarray(s["inputMean"])) / np.asarray(s["inputStd"])
    w = model["weights"]
    layers = len(model["hidden"]) + 1
    for i in range(layers):
        x = x @ w[f"recovery.{i}.W"] + w[f"recovery.{i}.b"]
        if i < layers - 1:
            x = np.maximum(x, 0.0)
    lo = np.array([s["labelRanges"][n]["min"] for n in model["labels"]])
    hi = np.array([s["labelRanges"][n]["max"] for n in model["labels"]])
    return lo + x * (hi - lo)


def predict(model, flux):
    """(labels [n, labels] clipped to the training ranges, out_of_range [n, labels] bool)."""
    raw = predict_raw(model, flux)
    s = model["scalers"]
    lo = np.array([s["labelRanges"][n]["min"] for n in model["labels"]])
    hi = np.array([s["labelRanges"][n]["max"] for n in model["labels"]])
    clipped = np.where(np.isnan(raw) | (raw < lo), lo, np.where(raw > hi, hi, raw))
    return clipped, clipped != raw


def main():
    model = load_model(sys.argv[1])
    with open(sys.argv[2]) as f:
        inputs = json.load(f)
    raw = predict_raw(model, inputs["flux"])
    values, out = predict(model, inputs["flux"])
    json.dump({"labels": model["labels"], "values": values.tolist(), "raw": raw.tolist(), "outOfRange": out.tolist()}, sys.stdout)


if __name__ == "__main__":
    main()
