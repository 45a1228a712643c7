"""The numpy reader of stellar-emu's safetensors files (nn-core's checkpoint format; see
packages/nn-core/README.md): the one implementation the models' python/forward.py examples import.
"""
import hashlib
import json
import struct

import numpy as np


def read_safetensors(path):
    """(metadata, {name: array}) of a stellar-emu safetensors file; verifies its sha256."""
    with open(path, "rb") as f:
        b = f.read()
    n = struct.unpack("<Q", b[:8])[0]
    header = json.loads(b[8 : 8 + n])
    meta = header.pop("__metadata__")
    z = bytearray(b)
    z[35:99] = b"0" * 64
    if hashlib.sha256(z).hexdigest() != meta["sha256"]:
        raise ValueError(f"{path}: corrupt file (sha256 mismatch)")
    dtypes = {"F32": "<f4", "F64": "<f8", "I32": "<i4"}
    tensors = {}
    for name, v in header.items():
        count = int(np.prod(v["shape"], dtype=np.int64))
        tensors[name] = np.frombuffer(b, dtypes[v["dtype"]], count, 8 + n + v["data_offsets"][0]).reshape(v["shape"])
    return meta, tensors
