"""Write Parquet files with pyarrow in every codec, plus the values they hold, for grid-io's tests.

Usage: python write_parquet_fixtures.py OUT_DIR [ROWS] [PIXELS]

Writes a spectrum-like table with the columns of a grid-io spectrum dataset (flux as
LIST<float32>, NaN pixels included, a nullable split column) as OUT_DIR/<codec>-<layout>.parquet
for the codecs snappy, gzip, brotli, lz4 and zstd and two layouts: "dict" (pyarrow's defaults:
dictionary encoding, v1 data pages) and "plain" (no dictionary, v2 data pages). The values
themselves, taken from the in-memory table before writing, go to OUT_DIR/reference.json
(scalar columns; null for a missing value) and OUT_DIR/flux.f32 (all flux values, row-major,
float32 little-endian: NaN kept bit for bit). Prints a JSON summary on stdout.
"""

import json
import os
import sys

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

CODECS = ["snappy", "gzip", "brotli", "lz4", "zstd"]
LAYOUTS = {
    "dict": {},
    "plain": {"use_dictionary": False, "data_page_version": "2.0"},
}


def table(rows: int, pixels: int) -> pa.Table:
    rng = np.random.default_rng(18)
    flux = (1 - 0.4 * rng.random((rows, pixels))).astype(np.float32)
    flux[rng.random((rows, pixels)) < 0.01] = np.nan
    splits = np.array(["train", "val", "test", None], dtype=object)[rng.integers(0, 4, rows)]
    return pa.table(
        {
            "id": pa.array([f"spec-{i:05d}" for i in range(rows)], pa.string()),
            "source": pa.array(["pyarrow:fixture"] * rows, pa.string()),
            "line": pa.array(np.arange(rows, dtype=np.int32)),
            "teff_k": pa.array(rng.uniform(4000, 7000, rows)),
            "logg": pa.array(rng.uniform(1, 5, rows)),
            "mh": pa.array(rng.uniform(-2, 0.5, rows)),
            "wavelength_start_angstrom": pa.array(np.full(rows, 4450.0)),
            "wavelength_step_angstrom": pa.array(np.full(rows, 0.05)),
            "flux": pa.ListArray.from_arrays(
                pa.array(np.arange(0, rows * pixels + 1, pixels, dtype=np.int32)),
                pa.array(flux.reshape(-1)),
            ),
            "synthetic": pa.array(rng.random(rows) < 0.5),
            "split": pa.array(list(splits), pa.string()),
        }
    )


def main() -> None:
    out = sys.argv[1]
    rows = int(sys.argv[2]) if len(sys.argv) > 2 else 300
    pixels = int(sys.argv[3]) if len(sys.argv) > 3 else 200
    os.makedirs(out, exist_ok=True)
    t = table(rows, pixels)
    files = []
    for codec in CODECS:
        for layout, opts in LAYOUTS.items():
            name = f"{codec}-{layout}.parquet"
            pq.write_table(t, os.path.join(out, name), compression=codec, row_group_size=128, **opts)
            md = pq.ParquetFile(os.path.join(out, name)).metadata
            col = md.row_group(0).column(t.schema.get_field_index("flux"))
            files.append({"file": name, "codec": col.compression, "encodings": list(col.encodings), "rowGroups": md.num_row_groups})
    scalars = {name: t.column(name).to_pylist() for name in t.column_names if name != "flux"}
    with open(os.path.join(out, "reference.json"), "w") as f:
        json.dump({"rows": rows, "pixels": pixels, "columns": scalars}, f)
    flat = t.column("flux").combine_chunks().flatten().to_numpy(zero_copy_only=False)
    flat.astype("<f4").tofile(os.path.join(out, "flux.f32"))
    print(json.dumps({"pyarrow": pa.__version__, "files": files}))


if __name__ == "__main__":
    main()
