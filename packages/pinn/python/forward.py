"""Forward pass of a stellar-emu PINN (Kurucz-a1) model directory with numpy alone.

A model directory (`stellar-emu train pinn --out DIR`) holds model.json (architecture,
normalization, training box) and model.safetensors (the weights, `param/<name>`, float32).
This file reads both and evaluates the network exactly as the TypeScript emulator does:

    x_label = ([log10 Teff, log g, [Fe/H], [alpha/Fe]] - labelMean) / labelStd
    x_tau   = (log10 tau - logTauMean) / logTauStd
    h_label = labelEncoder(x_label)          dense layers, GELU (erf form)
    h_tau   = tauEncoder(x_tau)              dense layers, GELU
    z1      = h_label @ mlp.0.Wlabel + h_tau @ mlp.0.Wtau + mlp.0.b
    y       = head(GELU(z1))                 dense GELU layers, then linear to 6
    Q_k     = 10 ** (outMean_k + outStd_k * y_k)   k = RHOX, T, P, XNE, ABROSS, ACCRAD (cgs)

Use it as a module:

    from forward import load_model, predict
    model = load_model("pinn-model")
    out = predict(model, [(5777.0, 4.44, 0.0, 0.0)], tau=np.logspace(-5, 1.5, 64))
    out["temperature"][0]  # K, one value per tau point

or from the shell: `python forward.py MODEL_DIR INPUT.json` with INPUT.json
`{"labels": [[teffK, logg, feh, afe], ...], "tau": [...]}` prints
`{"rhox": [[...], ...], "temperature": ..., ...}` (one row per label set).
The weights file is verified against the sha256 in model.json and its own header.
"""

import hashlib
import json
import math
import os
import sys

import numpy as np

# The safetensors reader lives with the checkpoint format, in packages/nn-core/python (copy that
# file beside this one to use it outside a checkout).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "nn-core", "python"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from stellar_emu_safetensors import read_safetensors  # noqa: E402

QUANTITIES = ["rhox", "temperature", "pressure", "xne", "abross", "accrad"]


_erf = np.vectorize(math.erf, otypes=[np.float64])


def activate(x, kind):
    if kind == "gelu":  # exact form: x * Phi(x)
        return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)))
    if kind == "relu":
        return np.maximum(x, 0.0)
    if kind == "sigmoid":
        return 1.0 / (1.0 + np.exp(-x))
    if kind == "linear":
        return x
    raise ValueError(f"unknown activation {kind}")


def load_model(model_dir):
    """model.json and the weights of a PINN model directory."""
    with open(os.path.join(model_dir, "model.json")) as f:
        info = json.load(f)
    if info.get("kind") != "kurucz-a1-pinn":
        raise ValueError(f"{model_dir}: model.json has kind {info.get('kind')!r}, not a PINN model")
    path = os.path.join(model_dir, info["weights"]["file"])
    with open(path, "rb") as f:
        if hashlib.sha256(f.read()).hexdigest() != info["weights"]["sha256"]:
            raise ValueError(f"{path}: does not match model.json (sha256)")
    _, tensors = read_safetensors(path)
    weights = {k[len("param/") :]: v.astype(np.float64) for k, v in tensors.items() if k.startswith("param/")}
    return {"info": info, "weights": weights}


def dense_stack(weights, name, widths, x, act, last_act=None, layer_norm=False):
    """A DenseStack of nn-core: layers `<name>.<i>.W/b`, LayerNorm `<name>.<i>.ln` between them if enabled."""
    for i in range(len(widths)):
        last = i == len(widths) - 1
        x = activate(x @ weights[f"{name}.{i}.W"] + weights[f"{name}.{i}.b"], last_act if last and last_act else act)
        if layer_norm and not last:
            mean = x.mean(axis=-1, keepdims=True)
            var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
            x = (x - mean) / np.sqrt(var + 1e-5) * weights[f"{name}.{i}.ln.gamma"] + weights[f"{name}.{i}.ln.beta"]
    return x


def predict_normalized(model, labels, tau):
    """Normalized network outputs, shape [n_labels, n_tau, 6]."""
    info, w = model["info"], model["weights"]
    arch, norm = info["arch"], info["normalization"]
    labels = np.asarray(labels, dtype=np.float64).reshape(-1, 4)
    tau = np.asarray(tau, dtype=np.float64).reshape(-1)
    features = np.column_stack([np.log10(labels[:, 0]), labels[:, 1], labels[:, 2], labels[:, 3]])
    x_label = (features - np.asarray(norm["labelMean"])) / np.asarray(norm["labelStd"])
    x_tau = ((np.log10(tau) - norm["logTauMean"]) / norm["logTauStd"]).reshape(-1, 1)
    act = arch["activation"]
    h_label = dense_stack(w, "labelEncoder", arch["labelEncoder"], x_label, act)
    h_tau = dense_stack(w, "tauEncoder", arch["tauEncoder"], x_tau, act)
    # first MLP layer on the concatenation, as its two blocks: [n, 1, H1] + [1, D, H1]
    z1 = (h_label @ w["mlp.0.Wlabel"])[:, None, :] + (h_tau @ w["mlp.0.Wtau"] + w["mlp.0.b"])[None, :, :]
    widths = list(arch["mlp"][1:]) + [6]
    y = dense_stack(w, "head", widths, activate(z1, act), act, last_act="linear", layer_norm=arch.get("layerNorm", False))
    return y


def predict(model, labels, tau):
    """Physical quantities {name: array [n_labels, n_tau]} (cgs, T in K) at labels (teffK, logg, feh, afe) and tau."""
    norm = model["info"]["normalization"]
    y = predict_normalized(model, labels, tau)
    return {q: 10.0 ** (norm["outMean"][k] + norm["outStd"][k] * y[:, :, k]) for k, q in enumerate(QUANTITIES)}


def main():
    model = load_model(sys.argv[1])
    with open(sys.argv[2]) as f:
        inputs = json.load(f)
    out = predict(model, inputs["labels"], inputs["tau"])
    json.dump({q: v.tolist() for q, v in out.items()}, sys.stdout)


if __name__ == "__main__":
    main()
