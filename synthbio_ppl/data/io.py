"""Writing and reading dataset folders: data.parquet, truth.json, spec.yaml.

A folder is written under a temporary name beside the target and renamed into place
when complete, so an interrupted write never leaves a folder that looks finished.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from synthbio_ppl.core.errors import SpecError

DATA_FILE = "data.parquet"
TRUTH_FILE = "truth.json"
SPEC_FILE = "spec.yaml"
LATENTS_FILE = "latents.parquet"
"""Per-row latent factor values of a structural scene (part of the truth; optional)."""


def check_target(directory: Path, overwrite: bool) -> None:
    """Refuse to replace an existing dataset (or any non-empty folder) unless told to."""
    if directory.exists() and not directory.is_dir():
        raise SpecError("--out", str(directory), "must be a folder, not a file")
    if directory.is_dir() and any(directory.iterdir()) and not overwrite:
        raise SpecError(
            "--out", str(directory), "the folder is not empty; pass --force (overwrite=True)"
        )


@contextlib.contextmanager
def staged_folder(directory: str | Path, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary folder that replaces ``directory`` only if the block completes."""
    target = Path(directory)
    check_target(target, overwrite)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=target.parent))
    umask = os.umask(0)
    os.umask(umask)
    staging.chmod(0o777 & ~umask)  # mkdtemp makes it private; the result is an ordinary folder
    try:
        yield staging
        if target.exists():
            retired = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
            os.replace(target, retired / target.name)
            os.replace(staging, target)
            shutil.rmtree(retired)
        else:
            os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def table_of(X: pd.DataFrame, y: pd.Series, covariates: pd.DataFrame) -> pa.Table:
    """Arrow table: features, then ``y``, then covariate columns."""
    arrays = [pa.array(X[c].to_numpy()) for c in X.columns]
    arrays.append(pa.Array.from_pandas(y))
    arrays += [pa.Array.from_pandas(covariates[c]) for c in covariates.columns]
    names = [*map(str, X.columns), str(y.name), *map(str, covariates.columns)]
    return pa.Table.from_arrays(arrays, names=names)


def write_folder(
    directory: str | Path,
    table: pa.Table,
    truth_json: str,
    spec_yaml: str,
    overwrite: bool = False,
    latents: pd.DataFrame | None = None,
) -> Path:
    """Write the three files of a dataset folder atomically (and latents.parquet if given)."""
    with staged_folder(directory, overwrite) as staging:
        pq.write_table(table, staging / DATA_FILE)
        (staging / TRUTH_FILE).write_text(truth_json)
        (staging / SPEC_FILE).write_text(spec_yaml)
        if latents is not None:
            frame = pa.Table.from_pandas(latents, preserve_index=False)
            pq.write_table(frame, staging / LATENTS_FILE)
    return Path(directory)


def read_latents(directory: str | Path) -> pd.DataFrame | None:
    """The latent values of a dataset folder, or None when it has none."""
    path = Path(directory) / LATENTS_FILE
    if not path.is_file():
        path = Path(directory) / LATENTS_FILE.removesuffix(".parquet")  # streamed: parts
    return _read_parquet(path).to_pandas() if path.exists() else None


def _read_parquet(path: Path) -> pa.Table:
    """One Parquet file, or a folder of ``part-*.parquet`` files (streamed) in name order."""
    if path.is_dir():
        parts = sorted(path.glob("part-*.parquet"))
        return pa.concat_tables([pq.read_table(p) for p in parts])
    return pq.read_table(path)


def read_folder(directory: str | Path) -> tuple[pd.DataFrame, dict, str]:
    """The data table, the truth dict and the spec YAML text of a dataset folder."""
    folder = Path(directory)
    data = folder / DATA_FILE
    if not data.is_file() and (folder / DATA_FILE.removesuffix(".parquet")).is_dir():
        data = folder / DATA_FILE.removesuffix(".parquet")  # streamed: data/part-*.parquet
    missing = [f.name for f in (data, folder / TRUTH_FILE, folder / SPEC_FILE) if not f.exists()]
    if missing:
        raise SpecError("", str(folder), f"not a dataset folder (missing {', '.join(missing)})")
    frame = _read_parquet(data).to_pandas()
    truth = json.loads((folder / TRUTH_FILE).read_text())
    return frame, truth, (folder / SPEC_FILE).read_text()
