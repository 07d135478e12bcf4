"""Metrics against hand computations on fixed cases: selection counts, rank correlation,
cross-validated scores, the oracle's gap, stability and the summary's interval."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import t as student_t
from sklearn.feature_selection import SelectKBest, f_classif
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_score

import synthbio_ppl as sb
from synthbio_ppl.inference.oracle import class_log_likelihood
from synthbio_ppl.studies.plan import cell_seed
from synthbio_ppl.studies.summary import interval, stability_rows

SPEC = {
    "classes": [{"name": "a", "n": 40}, {"name": "b", "n": 40}],
    "informative": [{"n": 3, "effect_size": 1.0}],
    "noise": [{"n": 5}],
}


def fixed_pick(X: pd.DataFrame, y: pd.Series) -> list[str]:
    return ["inf0_0", "inf0_1", "noise0_0"]


def _values(study: sb.Study, method: str) -> dict[str, float]:
    rows = study.table[study.table["method"] == method]
    return dict(
        zip(
            rows["metric"] + rows["scheme"].map(lambda s: f"/{s}" if s else ""),
            rows["value"],
            strict=True,
        )
    )


def test_selection_metrics_by_hand() -> None:
    """S = {inf0_0, inf0_1, noise0_0}, T = {inf0_0, inf0_1, inf0_2}: |S∩T| = 2."""
    study = sb.study(
        SPEC,
        methods={"pick": fixed_pick},
        metrics=["precision", "recall", "f1", "jaccard", "n_selected"],
        progress=False,
    )
    got = _values(study, "pick")
    assert got == pytest.approx(
        {"precision": 2 / 3, "recall": 2 / 3, "f1": 2 * 2 / 6, "jaccard": 2 / 4, "n_selected": 3}
    )


def test_a_boolean_mask_and_an_empty_selection() -> None:
    def first_two(X: pd.DataFrame, y: pd.Series) -> np.ndarray:
        return X.columns.isin(["inf0_0", "inf0_1"])  # a mask over the columns as given

    def nothing(X: pd.DataFrame, y: pd.Series) -> list[str]:
        return []

    study = sb.study(
        SPEC,
        methods={"mask": first_two, "none": nothing},
        metrics=["precision", "recall", "jaccard"],
        progress=False,
    )
    assert _values(study, "mask") == pytest.approx(
        {"precision": 1.0, "recall": 2 / 3, "jaccard": 2 / 3}
    )
    got = _values(study, "none")
    assert np.isnan(got["precision"]) and got["recall"] == 0.0 and got["jaccard"] == 0.0


@pytest.mark.parametrize(("order", "rho"), [([1.0, 2.0, 3.0], 1.0), ([3.0, 2.0, 1.0], -1.0)])
def test_rank_correlation_with_distinct_true_effects(order: list[float], rho: float) -> None:
    spec = {
        "classes": SPEC["classes"],
        "informative": [{"n": 1, "effect_size": e} for e in (0.2, 0.5, 0.9)],
    }

    def scored(X: pd.DataFrame, y: pd.Series) -> dict:
        by_name = dict(zip(["inf0_0", "inf1_0", "inf2_0"], order, strict=True))
        return {"selected": list(X.columns[:1]), "scores": [by_name[c] for c in X.columns]}

    study = sb.study(spec, methods={"s": scored}, metrics=["rank_correlation"], progress=False)
    assert _values(study, "s")["rank_correlation"] == pytest.approx(rho)


def test_selector_scores_and_selection_are_the_fitted_selector_s() -> None:
    study = sb.study(
        SPEC,
        methods={"t": SelectKBest(f_classif, k=3)},
        metrics=["precision", "n_selected"],
        seed=4,
        progress=False,
    )
    data = sb.generate(SPEC, seed=cell_seed(4, 0))
    chosen = set(
        data.X.columns[SelectKBest(f_classif, k=3).fit(data.X, data.y.astype(str)).get_support()]
    )
    signal = set(data.truth.features.index[data.truth.features["signal"]])
    assert _values(study, "t") == pytest.approx(
        {"precision": len(chosen & signal) / 3, "n_selected": 3}
    )


def test_cv_scores_oracle_and_gap_by_hand() -> None:
    model = LogisticRegression(max_iter=1000)
    study = sb.study(
        SPEC, methods={"lr": model}, metrics=["auc", "auc_gap"], seed=9, progress=False
    )
    seed = cell_seed(9, 0)
    data = sb.generate(SPEC, seed=seed)
    y = np.asarray(data.y.astype(str))
    folds = StratifiedKFold(5, shuffle=True, random_state=seed % 2**31)
    auc = cross_val_score(model, data.X, y, cv=folds, scoring="roc_auc").mean()
    ll = class_log_likelihood(data)
    oracle = roc_auc_score(y == "b", ll[:, 1] - ll[:, 0])
    got = _values(study, "lr")
    assert got["auc/random"] == pytest.approx(auc, abs=1e-12)
    assert got["auc_gap/random"] == pytest.approx(oracle - auc, abs=1e-12)
    assert _values(study, "oracle")["auc"] == pytest.approx(oracle, abs=1e-12)


def test_stability_is_the_mean_pairwise_jaccard() -> None:
    sets = {(0, 0): {"m": ["a", "b"]}, (0, 1): {"m": ["a", "c"]}, (0, 2): {"m": ["b", "a"]}}
    row = stability_rows(sets).iloc[0]
    assert row["mean"] == pytest.approx((1 / 3 + 1 + 1 / 3) / 3) and row["n"] == 3


def test_interval_is_the_t_interval_of_the_mean() -> None:
    values = pd.Series([0.2, 0.4, 0.9, np.nan])
    got = interval(values)
    x = np.array([0.2, 0.4, 0.9])
    se = x.std(ddof=1) / np.sqrt(3)
    assert got["n"] == 3 and got["mean"] == pytest.approx(x.mean())
    assert got["ci_high"] == pytest.approx(x.mean() + student_t.ppf(0.975, 2) * se)


def test_fit_metrics_are_the_fit_s_recovery() -> None:
    fit_method = sb.FitMethod("svi", {"svi_steps": 300, "num_samples": 200})
    study = sb.study(
        SPEC,
        methods={"svi": fit_method},
        metrics=["coverage", "bias", "mean_z"],
        seed=1,
        progress=False,
    )
    seed = cell_seed(1, 0)
    recovery = sb.fit(
        None,
        sb.generate(SPEC, seed=seed),
        "svi",
        seed=seed % 2**31,
        progress=False,
        svi_steps=300,
        num_samples=200,
    ).recovery(nuisance=False)
    known = recovery[recovery["truth"].notna()]
    rows = study.table[study.table["method"] == "svi"]
    assert rows.loc[rows["metric"] == "coverage", "value"].item() == pytest.approx(
        known["covered"].astype(float).mean()
    )
    bias = rows[rows["metric"] == "bias"].set_index("parameter")["value"]
    assert bias.to_dict() == pytest.approx((known["mean"] - known["truth"]).to_dict())


def test_a_user_metric_gets_the_data_and_the_result() -> None:
    def selected_share(data: sb.Dataset, result) -> float | None:
        return None if result.selected is None else len(result.selected) / data.X.shape[1]

    def two(data: sb.Dataset, result) -> dict:
        return {"rows": data.X.shape[0], "features": data.X.shape[1]}

    study = sb.study(
        SPEC,
        methods={"pick": fixed_pick, "lr": "logistic_regression"},
        metrics=["auc", selected_share, two],
        progress=False,
    )
    assert _values(study, "pick")["selected_share"] == pytest.approx(3 / 8)
    assert "selected_share" not in _values(study, "lr")
    assert _values(study, "lr")["two.rows"] == 80


def test_a_score_function_s_random_state_is_the_cell_s() -> None:
    """mutual_info_classif draws noise: unseeded, two runs of one study would differ."""
    from sklearn.feature_selection import mutual_info_classif

    from synthbio_ppl.studies.methods import seeded

    model = seeded(SelectKBest(mutual_info_classif, k=3), 11)
    assert model.get_params()["score_func"].keywords == {"random_state": 11}
    spec = {**SPEC, "noise": [{"n": 30}]}
    methods = {"mi": SelectKBest(mutual_info_classif, k=3)}
    runs = [
        sb.study(spec, methods=methods, metrics=["rank_correlation"], progress=False)
        for _ in range(2)
    ]
    pd.testing.assert_frame_equal(runs[0].table, runs[1].table)


def test_an_outcome_that_is_y_is_scored_against_what_it_reads() -> None:
    spec = sb.load_spec("models/risk_score.yaml").model_dump()
    spec["outcome"]["n"] = spec["classes"][0]["n"] = 400
    methods = {"t": {"preset": "t_test", "k": 7}, "lr": "logistic_regression"}
    study = sb.study(
        spec, methods=methods, metrics=["precision", "auc_gap"], seed=2, progress=False
    )
    data = sb.generate(spec, seed=cell_seed(2, 0))
    read = set(data.truth.outcome.features)
    chosen = set(
        data.X.columns[SelectKBest(f_classif, k=7).fit(data.X, data.y.astype(str)).get_support()]
    )
    assert _values(study, "t")["precision"] == pytest.approx(len(chosen & read) / 7)
    oracle = _values(study, "oracle")["auc"]
    assert oracle == pytest.approx(data.truth.outcome.scores["realised_bayes_auc"], abs=1e-9)


def test_methods_see_the_columns_in_an_order_drawn_per_cell() -> None:
    """The generator writes the informative block first: a method taking the first
    columns must not find it by position."""
    seen = []

    def first_three(X: pd.DataFrame, y: pd.Series) -> list[str]:
        seen.append(list(X.columns))
        return list(X.columns[:3])

    spec = {**SPEC, "noise": [{"n": 60}]}
    study = sb.study(
        spec, methods={"first": first_three}, metrics=["recall"], replicates=4, progress=False
    )
    assert len({tuple(c) for c in seen}) == 4  # another order in each replicate
    assert all(sorted(c) == sorted(seen[0]) for c in seen)
    # P(recall > 0) for 3 of 63 columns at random is 1 − C(60,3)/C(63,3) ≈ 0.14 per replicate
    assert study.table["value"].mean() < 0.5


def test_a_callable_s_score_series_is_read_by_name() -> None:
    """Scores sorted by name, not in X's (shuffled) order, still land on their features."""

    def by_name(X: pd.DataFrame, y: pd.Series) -> dict:
        f, _ = f_classif(X, y.astype(str))
        scores = pd.Series(f, index=X.columns).sort_index()
        return {"selected": list(scores.nlargest(3).index), "scores": scores}

    def by_position(X: pd.DataFrame, y: pd.Series) -> dict:
        f, _ = f_classif(X, y.astype(str))
        return {"selected": list(X.columns[np.argsort(-f)[:3]]), "scores": f}

    spec = {**SPEC, "informative": [{"n": 3, "effect_size": 3.0}], "noise": [{"n": 30}]}
    study = sb.study(
        spec,
        methods={"name": by_name, "position": by_position},
        metrics=["ranking_auc"],
        replicates=2,
        progress=False,
    )
    values = study.table.pivot_table(index="replicate", columns="method", values="value")
    np.testing.assert_allclose(values["name"], values["position"])
    assert (values["name"] == 1.0).all()  # d = 3 on 80 rows: every true feature on top


@pytest.mark.parametrize(
    ("scores", "match"),
    [
        (lambda X: pd.Series(1.0, index=list(X.columns[:-1])), "missing"),
        (lambda X: pd.Series(1.0, index=[*X.columns, "zzz"]), "unknown"),
        (lambda X: np.ones(3), "one score per column of X"),
        (lambda X: ["a"] * X.shape[1], "scores must be numbers"),
    ],
)
def test_bad_scores_are_named(scores, match: str) -> None:
    def method(X: pd.DataFrame, y: pd.Series) -> dict:
        return {"selected": [], "scores": scores(X)}

    with pytest.raises(sb.SpecError, match=match):
        sb.study(SPEC, methods={"m": method}, metrics=["ranking_auc"], progress=False)


def test_regression_and_ranking_selectors_are_scored() -> None:
    """A LASSO selector gets class codes (it refuses class names); RFE's ranking and
    VarianceThreshold's variances are their scores."""
    from sklearn.feature_selection import RFE, SelectFromModel, VarianceThreshold
    from sklearn.linear_model import Lasso

    spec = {**SPEC, "informative": [{"n": 3, "effect_size": 3.0}], "noise": [{"n": 12}]}
    methods = {
        "lasso": SelectFromModel(Lasso(alpha=0.05)),
        "rfe": RFE(LogisticRegression(max_iter=500), n_features_to_select=3),
        "variance": VarianceThreshold(),
    }
    study = sb.study(spec, methods=methods, metrics=["recall", "ranking_auc"], progress=False)
    got = study.table.pivot_table(index="method", columns="metric", values="value")
    assert got.loc["lasso", "recall"] == 1.0 and got.loc["rfe", "ranking_auc"] > 0.9
    assert np.isfinite(got.loc["variance", "ranking_auc"])
    # d = 3: an informative feature's variance (1 + d²/4 with both classes) beats noise's
    assert got.loc["variance", "ranking_auc"] > 0.9


def test_the_oracle_is_one_row_per_score() -> None:
    cv = {"schemes": ["random", "group"], "groups": "batch", "n_splits": 2}
    base = {**SPEC, "batches": {"n": 2, "strength": 0.5}}
    study = sb.study(
        base,
        methods={"lr": LogisticRegression()},
        metrics=["auc", "auc_gap"],
        cv=cv,
        progress=False,
    )
    oracle = study.table[study.table["method"] == "oracle"]
    assert oracle[["metric", "scheme"]].values.tolist() == [["auc", ""]]
    rows = study.table.set_index(["method", "metric", "scheme"])["value"]
    for scheme in ("random", "group"):
        gap = rows[("lr", "auc_gap", scheme)]
        assert gap == pytest.approx(rows[("oracle", "auc", "")] - rows[("lr", "auc", scheme)])
    assert study.plot("auc", "group") is not None


def test_a_generator_of_names_is_a_selection() -> None:
    def lazily(X: pd.DataFrame, y: pd.Series):
        return (c for c in X.columns if c.startswith("inf0_"))

    study = sb.study(SPEC, methods={"g": lazily}, metrics=["recall", "n_selected"], progress=False)
    assert _values(study, "g") == {"recall": 1.0, "n_selected": 3.0}


def test_seconds_time_each_method_and_are_asked_for() -> None:
    import time

    def slow(X: pd.DataFrame, y: pd.Series) -> list[str]:
        time.sleep(0.2)
        return list(X.columns[:2])

    methods = {"slow": slow, "t": SelectKBest(f_classif, k=3), "lr": LogisticRegression()}
    study = sb.study(SPEC, methods=methods, metrics=["seconds"], progress=False)
    seconds = study.table.set_index("method")["value"]
    assert seconds["slow"] >= 0.2 and seconds["t"] < seconds["slow"]
    assert (seconds > 0).all() and len(seconds) == 3
    default = sb.study(SPEC, methods={"t": SelectKBest(f_classif, k=3)}, progress=False)
    assert "seconds" not in set(default.table["metric"])
