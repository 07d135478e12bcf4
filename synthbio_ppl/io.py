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

from synthbio_ppl.errors import SpecError

DATA_FILE = "data.parquet"
TRUTH_FILE = "truth.json"
SPEC_FILE = "spec.yaml"


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
) -> Path:
    """Write the three files of a dataset folder atomically."""
    with staged_folder(directory, overwrite) as staging:
        pq.write_table(table, staging / DATA_FILE)
        (staging / TRUTH_FILE).write_text(truth_json)
        (staging / SPEC_FILE).write_text(spec_yaml)
    return Path(directory)


def read_folder(directory: str | Path) -> tuple[pd.DataFrame, dict, str]:
    """The data table, the truth dict and the spec YAML text of a dataset folder."""
    folder = Path(directory)
    missing = [f for f in (DATA_FILE, TRUTH_FILE, SPEC_FILE) if not (folder / f).is_file()]
    if missing:
        raise SpecError("", str(folder), f"not a dataset folder (missing {', '.join(missing)})")
    frame = pq.read_table(folder / DATA_FILE).to_pandas()
    truth = json.loads((folder / TRUTH_FILE).read_text())
    return frame, truth, (folder / SPEC_FILE).read_text()
