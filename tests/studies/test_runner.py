"""Running a study: the same table whatever the workers, a stopped run resumed, the
folder's files, no new row program for new values or block sizes."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import jax
import pandas as pd
import pytest
from sklearn.feature_selection import SelectKBest, f_classif

import synthbio_ppl as sb
from synthbio_ppl.studies.plan import cell_seed

BASE = {
    "classes": [{"name": "a", "n": 30}, {"name": "b", "n": 30}],
    "informative": [{"n": 3, "effect_size": 1.0}],
    "noise": [{"n": 12}],
    "batches": {"n": 2, "strength": 0.5, "confounding": 0.5},
}
GRID = {"informative[0].effect_size": [0.4, 1.2], "noise[0].n": [6, 12]}
METHODS = {
    "t": SelectKBest(f_classif, k=3),
    "forest": {"preset": "random_forest", "k": 3, "n_estimators": 20},  # random_state unset
    "lr": "logistic_regression",
}
METRICS = ["precision", "recall", "stability", "auc", "balanced_accuracy"]
CV = {"schemes": ["random", "leave_one_batch_out"], "n_splits": 3}


def _run(**kwargs) -> sb.Study:
    return sb.study(BASE, GRID, METHODS, METRICS, 2, seed=3, cv=CV, progress=False, **kwargs)


@pytest.fixture(scope="module")
def serial() -> sb.Study:
    return _run()


def test_table_shape_and_seeds(serial: sb.Study) -> None:
    table = serial.table
    assert list(table.columns[:3]) == ["scenario", "informative[0].effect_size", "noise[0].n"]
    assert set(table["method"]) == {"t", "forest", "lr"}
    # replicate r has one seed in every scenario, and the replicates differ
    seeds = table.groupby("replicate")["seed"].unique()
    assert [len(s) for s in seeds] == [1, 1] and seeds[0][0] != seeds[1][0]
    assert seeds[1][0] == cell_seed(3, 1)
    rows = table[(table["method"] == "lr") & (table["metric"] == "auc")]
    assert sorted(set(rows["scheme"])) == ["leave_one_batch_out", "random"]
    assert len(rows) == 4 * 2 * 2


def test_same_table_with_two_workers(serial: sb.Study) -> None:
    parallel = _run(n_jobs=2)
    pd.testing.assert_frame_equal(parallel.table, serial.table)
    pd.testing.assert_frame_equal(parallel.summary, serial.summary)


def test_same_table_on_a_dask_client(serial: sb.Study) -> None:
    from distributed import Client, LocalCluster

    with (
        LocalCluster(n_workers=1, threads_per_worker=2, processes=False) as cluster,
        Client(cluster) as client,
    ):
        on_dask = _run(client=client)
    pd.testing.assert_frame_equal(on_dask.table, serial.table)


class FailOnce:
    """A selector that fails in one cell while a flag file exists and logs every call."""

    def __init__(self, flag: Path, log: Path) -> None:
        self.flag, self.log = flag, log

    def __call__(self, X: pd.DataFrame, y: pd.Series) -> list[str]:
        with self.log.open("a") as out:
            out.write(f"{X.shape[1]}\n")
        if (
            self.flag.exists() and X.shape[1] == 9
        ):  # scenario 1: noise[0].n = 6 at d = 0.4... any one
            raise RuntimeError("stopped here")
        return list(X.columns[:2])


def test_a_stopped_run_resumes_where_it_ended(tmp_path: Path) -> None:
    flag, log = tmp_path / "flag", tmp_path / "calls"
    flag.touch()
    grid = {"noise[0].n": [12, 6]}  # 15 then 9 features
    kwargs = dict(metrics=["precision"], replicates=3, seed=1, progress=False)
    picker = FailOnce(flag, log)
    with pytest.raises(
        sb.SpecError,
        match=r"^methods\.pick: failed on scenario 1 \(noise\[0\]\.n=6\), replicate 0: "
        r"RuntimeError: stopped here$",
    ):
        sb.study(BASE, grid, {"pick": picker}, out=tmp_path / "run", **kwargs)
    cells = sorted(p.name for p in (tmp_path / "run" / "cells").iterdir())
    assert cells == [f"s00000_r0000{r}.parquet" for r in range(3)]  # scenario 0 kept whole
    assert not (tmp_path / "run" / "results.parquet").exists()
    flag.unlink()
    log.write_text("")
    resumed = sb.study(BASE, grid, {"pick": picker}, out=tmp_path / "run", **kwargs)
    assert log.read_text().split() == ["9"] * 3  # only scenario 1's cells ran again
    whole = sb.study(BASE, grid, {"pick": FailOnce(flag, log)}, **kwargs)
    pd.testing.assert_frame_equal(resumed.table, whole.table)
    pd.testing.assert_frame_equal(
        pd.read_parquet(tmp_path / "run" / "results.parquet"), whole.table
    )


def test_the_folder_s_files(tmp_path: Path, serial: sb.Study) -> None:
    out = tmp_path / "study"
    done = _run(out=out)
    pd.testing.assert_frame_equal(pd.read_parquet(out / "results.parquet"), serial.table)
    summary = pd.read_csv(out / "summary.csv", keep_default_na=False, na_values=[""])
    assert len(summary) == len(serial.summary)
    report = (out / "report.md").read_text()
    assert (
        "## Grid" in report
        and "`noise[0].n`: 6, 12" in report
        and "![plots/auc_random.png]" in report
    )
    assert (out / "plots" / "auc_leave_one_batch_out.png").stat().st_size > 1000
    assert json.loads((out / "study.json").read_text())["replicates"] == 2
    assert done.folder == out
    again = _run(out=out)  # every cell done: nothing runs, the same table
    pd.testing.assert_frame_equal(again.table, serial.table)


def test_another_study_s_folder_is_refused_then_replaced(tmp_path: Path) -> None:
    kwargs = dict(methods={"t": "t_test"}, metrics=["precision"], progress=False)
    sb.study(BASE, out=tmp_path / "s", **kwargs)
    with pytest.raises(sb.SpecError, match="holds another study's cells"):
        sb.study(BASE, out=tmp_path / "s", seed=5, **kwargs)
    replaced = sb.study(BASE, out=tmp_path / "s", seed=5, overwrite=True, **kwargs)
    assert replaced.table["seed"].iloc[0] == cell_seed(5, 0)
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep")
    with pytest.raises(sb.SpecError, match="holds files of its own"):
        sb.study(BASE, out=tmp_path / "mine", overwrite=True, **kwargs)
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep"


class _Compiles(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.names: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("Finished XLA compilation"):
            self.names.append(record.getMessage())


def test_a_sweep_over_values_or_block_sizes_compiles_no_new_row_program() -> None:
    base = {
        "classes": [{"name": "a", "n": 23}, {"name": "b", "n": 29}],
        "informative": [{"n": 2, "effect_size": 0.8}],
        "noise": [{"n": 7}],
    }
    kwargs = dict(methods={"t": "t_test"}, metrics=["precision"], progress=False)
    sb.study(base, **kwargs)  # this layout's programs built
    seen = _Compiles()
    logging.getLogger("jax").addHandler(seen)
    jax.config.update("jax_log_compiles", True)
    try:
        sb.study(
            base,
            {"informative[0].effect_size": [0.1, 0.5, 2.0], "classes[0].name": ["a", "c"]},
            replicates=2,
            **kwargs,
        )
        values = len(seen.names)
        sb.study(base, {"noise[0].n": [3, 4]}, **kwargs)  # new sizes: no new row program
        sizes = [n for n in seen.names[values:] if "step" in n]
        # not vacuous: new families are new programs, and the log sees them
        sb.study(base, {"noise[0].distribution": ["laplace", "logistic"]}, **kwargs)
        layouts = len(seen.names) - values
    finally:
        jax.config.update("jax_log_compiles", False)
        logging.getLogger("jax").removeHandler(seen)
    assert values == 0
    assert sizes == []
    assert layouts >= 2


FINGERPRINT = """
import synthbio_ppl as sb
from synthbio_ppl.studies.plan import build_plan
base = {"classes": [{"name": "a", "n": 20}, {"name": "b", "n": 20}],
        "informative": [{"n": 2, "effect_size": 1.0}]}
methods = {"mi": "mutual_information", "l1": "l1_logistic"}
print(build_plan(base, None, methods, ["precision"]).fingerprint())
"""


def test_the_fingerprint_is_the_same_in_every_process() -> None:
    """A score function's repr holds its address: a fingerprint made of it would refuse
    to resume the same study from another process."""
    import subprocess
    import sys

    runs = [
        subprocess.run(
            [sys.executable, "-c", FINGERPRINT], capture_output=True, text=True, check=True
        ).stdout
        for _ in range(2)
    ]
    assert runs[0] == runs[1] and len(runs[0].strip()) == 16


def test_an_edited_user_function_is_another_study(tmp_path: Path) -> None:
    from synthbio_ppl.studies.plan import build_plan

    namespace: dict = {}
    exec("def m(data, result):\n    return 1.0\n", namespace)
    first = build_plan(BASE, None, {"t": "t_test"}, ["precision", namespace["m"]]).fingerprint()
    source = tmp_path / "metric.py"
    source.write_text("def m(data, result):\n    return 2.0\n")
    import importlib.util

    spec = importlib.util.spec_from_file_location("edited_metric", source)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    second = build_plan(BASE, None, {"t": "t_test"}, ["precision", module.m]).fingerprint()
    assert first != second


def test_writing_the_plots_leaves_the_matplotlib_backend_alone(tmp_path: Path) -> None:
    import matplotlib

    before = matplotlib.get_backend()
    sb.study(
        BASE, methods={"t": "t_test"}, metrics=["precision"], out=tmp_path / "s", progress=False
    )
    assert matplotlib.get_backend() == before
    assert (tmp_path / "s" / "plots" / "precision.png").is_file()


def test_stability_is_plotted_and_the_summary_keeps_the_given_order(serial: sb.Study) -> None:
    fig = serial.plot("stability")
    assert len(fig.axes) == 2
    methods = list(dict.fromkeys(serial.summary["method"]))
    assert methods == ["oracle", "t", "forest", "lr"] or methods == ["t", "forest", "lr"]
    metrics = list(dict.fromkeys(serial.summary.loc[serial.summary["method"] == "t", "metric"]))
    assert metrics == ["precision", "recall", "stability"]
    with pytest.raises(sb.SpecError, match=r"metric: 'f1'.*the study holds precision"):
        serial.plot("f1")


def test_a_metric_nan_everywhere_is_said_not_drawn(tmp_path: Path) -> None:
    """Three informative features of one effect size: rank_correlation has no value."""
    sb.study(
        BASE,
        methods={"t": "t_test"},
        metrics=["precision", "rank_correlation"],
        out=tmp_path / "s",
        progress=False,
    )
    report = (tmp_path / "s" / "report.md").read_text()
    assert "### rank_correlation\n\nNaN in every cell: it needs three truly informative" in report
    assert not (tmp_path / "s" / "plots" / "rank_correlation.png").exists()
    assert (tmp_path / "s" / "plots" / "precision.png").exists()


def test_an_axis_of_mixed_values_is_written_as_json_text(tmp_path: Path) -> None:
    grid = [
        {"informative[0].effect_size": 1.0},
        {"informative[0].effect_size": 0.5, "noise[0].n": 4},
    ]
    study = sb.study(BASE, grid, {"t": "t_test"}, ["precision"], out=tmp_path / "s", progress=False)
    axes = study.table.drop_duplicates("scenario").set_index("scenario")
    assert axes["noise[0].n"].tolist() == [12, 4]  # the base's 12 where a scenario leaves it
    mixed = sb.study(
        BASE,
        {"informative[0].effect_size": [1.0, "0.5"]},
        {"t": "t_test"},
        ["precision"],
        out=tmp_path / "m",
        progress=False,
    )
    assert mixed.table["informative[0].effect_size"].unique().tolist() == ["1.0", '"0.5"']
    assert (tmp_path / "m" / "report.md").is_file()


def test_replacing_a_study_keeps_the_user_s_files(tmp_path: Path) -> None:
    kwargs = dict(methods={"t": "t_test"}, metrics=["precision"], progress=False)
    out = tmp_path / "s"
    sb.study(BASE, out=out, **kwargs)
    for mine in (out / "plots" / "notes.txt", out / "cells" / "mine.txt"):
        mine.write_text("mine")
        with pytest.raises(
            sb.SpecError, match=f"holds files of its own \\({mine.parent.name}/{mine.name}"
        ):
            sb.study(BASE, out=out, seed=9, overwrite=True, **kwargs)
        assert mine.read_text() == "mine"
        mine.unlink()


def test_a_cell_file_outside_the_plan_is_left_out(tmp_path: Path) -> None:
    kwargs = dict(
        methods={"t": "t_test"}, metrics=["precision"], progress=False, out=tmp_path / "s"
    )
    first = sb.study(BASE, **kwargs)
    cell = tmp_path / "s" / "cells" / "s00000_r00000.parquet"
    (cell.parent / "s00007_r00000.parquet").write_bytes(cell.read_bytes())
    (tmp_path / "s" / "report.md").unlink()  # so that the outputs are written again
    again = sb.study(BASE, **kwargs)
    pd.testing.assert_frame_equal(again.table, first.table)


def test_a_metric_name_is_a_safe_file_name(tmp_path: Path) -> None:
    def odd(data: sb.Dataset, result) -> dict:
        return {"a/b": 1.0, "../c": 2.0}

    sb.study(BASE, methods={"t": "t_test"}, metrics=[odd], out=tmp_path / "s", progress=False)
    assert sorted(p.name for p in (tmp_path / "s" / "plots").iterdir()) == [
        "odd..._c.png",
        "odd.a_b.png",
    ]


def test_a_cell_s_dataset_and_selections(serial: sb.Study) -> None:
    data = serial.dataset(1, 1)
    row = serial.table[(serial.table["scenario"] == 1) & (serial.table["replicate"] == 1)].iloc[0]
    assert data.spec.noise[0].n == row["noise[0].n"]
    chosen = SelectKBest(f_classif, k=3).fit(data.X, data.y.astype(str)).get_support()
    assert sorted(serial.selected[(1, 1)]["t"]) == sorted(data.X.columns[chosen])
    with pytest.raises(sb.SpecError, match="cell"):
        serial.dataset(9, 0)


def test_the_refusal_of_another_study_says_what_differs(tmp_path: Path) -> None:
    kwargs = dict(methods={"t": "t_test"}, progress=False, out=tmp_path / "s")
    sb.study(BASE, metrics=["precision"], **kwargs)
    with pytest.raises(sb.SpecError, match=r"its metrics differ"):
        sb.study(BASE, metrics=["recall"], **kwargs)
    with pytest.raises(sb.SpecError, match=r"its seed differ"):
        sb.study(BASE, metrics=["precision"], replicates=2, seed=1, **kwargs)


def test_a_finished_study_grows_by_replicates(tmp_path: Path) -> None:
    """Replicate r's cells do not depend on how many replicates there are: a study run
    again with more runs only the new ones, and gives the larger study's table."""
    flag, log = tmp_path / "never", tmp_path / "calls"
    kwargs = dict(methods={"pick": FailOnce(flag, log)}, metrics=["precision"], progress=False)
    sb.study(BASE, {"noise[0].n": [12, 6]}, replicates=2, out=tmp_path / "s", **kwargs)
    log.write_text("")
    grown = sb.study(BASE, {"noise[0].n": [12, 6]}, replicates=3, out=tmp_path / "s", **kwargs)
    assert sorted(log.read_text().split()) == ["15", "9"]  # replicate 2 of each scenario
    whole = sb.study(BASE, {"noise[0].n": [12, 6]}, replicates=3, **kwargs)
    pd.testing.assert_frame_equal(grown.table, whole.table)
    fewer = sb.study(BASE, {"noise[0].n": [12, 6]}, replicates=1, out=tmp_path / "s", **kwargs)
    assert set(fewer.table["replicate"]) == {0}
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "s" / "results.parquet"), fewer.table)
