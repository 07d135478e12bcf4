"""The result of scoring a twin: ``TwinReport`` and its fidelity, utility and privacy parts.

Plain frozen dataclasses holding the numbers ``score_twin`` (``synthbio_ppl.twins.scoring``)
computes, each documenting its formulas, plus their presentations: ``TwinReport.summary``
(the headline metrics, ``SUMMARY_METRICS``), ``to_dict`` (JSON-ready) and ``to_markdown``.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["SUMMARY_METRICS", "TwinFidelity", "TwinPrivacy", "TwinReport", "TwinUtility"]

SUMMARY_METRICS = (
    "tstr_auc",
    "trtr_auc",
    "auc_gap",
    "tstr_balanced_accuracy",
    "trtr_balanced_accuracy",
    "mean_ks",
    "max_ks",
    "mean_wasserstein",
    "corr_frobenius",
    "corr_mean_abs_diff",
    "missing_max_abs_diff",
    "dcr_synthetic_median",
    "dcr_holdout_median",
    "mia_auc",
    "exact_copies",
)


@dataclass(frozen=True, eq=False)
class TwinFidelity:
    """How closely the synthetic table matches ``real_train``, feature by feature.

    ``per_feature`` (index ``feature``): the two-sample Kolmogorov–Smirnov statistic
    ``ks`` = sup_x |F_real(x) − F_synth(x)| and its p-value, the 1-D Wasserstein distance
    ``wasserstein`` = ∫ |F_real(x) − F_synth(x)| dx on values divided by the real-train sd
    (unit-free: 0.5 means half a real sd of mass moved), and the mean and sd (ddof 1) of
    both tables. ``corr_frobenius`` = ‖R_real − R_synth‖_F over the full Pearson
    correlation matrices (each pair counted twice, the diagonal adds 0);
    ``corr_mean_abs_diff`` = mean over pairs i < j of |R_real,ij − R_synth,ij|.
    ``label_balance`` (index ``class``): counts and shares of each class;
    ``label_total_variation`` = ½ Σ_k |share_real,k − share_synth,k|.

    Missing cells (NaN) are handled explicitly, never by dropping rows: the per-feature
    statistics (KS, Wasserstein, mean, sd) compare each column's observed cells, and
    ``per_feature`` also holds each table's missing fraction (``real_missing``,
    ``synthetic_missing``); a column with no observed cell in a table gets NaN statistics,
    which ``mean_ks``, ``max_ks`` and ``mean_wasserstein`` carry (NaN, not a mean over the
    rest). Correlations are Pearson over the pairwise-complete rows of each pair of
    columns (a pair with fewer than two such rows or no spread in them correlates 0).
    ``missing`` (MultiIndex ``feature``, ``class``) compares the missing fractions per
    class: ``real_n``, ``real_missing``, ``synthetic_n``, ``synthetic_missing``,
    ``difference`` (synthetic − real) and ``se`` (its binomial standard error under one
    shared rate); see ``twins.missingness.compare_missing``.
    """

    per_feature: pd.DataFrame
    label_balance: pd.DataFrame
    corr_frobenius: float
    corr_mean_abs_diff: float
    label_total_variation: float
    missing: pd.DataFrame

    @property
    def mean_ks(self) -> float:
        """Mean KS statistic over the features (NaN if one has no observed cell)."""
        return float(self.per_feature["ks"].mean(skipna=False))

    @property
    def max_ks(self) -> float:
        """Largest KS statistic over the features (NaN if one has no observed cell)."""
        return float(self.per_feature["ks"].max(skipna=False))

    @property
    def mean_wasserstein(self) -> float:
        """Mean standardised Wasserstein distance over the features (NaN as ``mean_ks``)."""
        return float(self.per_feature["wasserstein"].mean(skipna=False))

    @property
    def missing_max_abs_diff(self) -> float:
        """Largest |synthetic − real| missing fraction over the (feature, class) pairs
        whose class has rows in both tables (0 when neither table misses a cell)."""
        difference = self.missing["difference"].to_numpy()
        both = (self.missing["real_n"] > 0).to_numpy() & (self.missing["synthetic_n"] > 0)
        return float(np.abs(difference[both]).max()) if both.any() else float("nan")


@dataclass(frozen=True)
class TwinUtility:
    """Train on synthetic, test on real (TSTR) next to train on real, test on real (TRTR).

    Both models are the same estimator, tested on ``real_holdout``. AUC is the ROC AUC of
    the score of ``positive_class`` (the last class) for two classes, else the one-vs-rest
    macro mean over the classes present in the holdout. Gaps are TSTR − TRTR: near 0 means
    the synthetic rows teach what the real rows teach. ``imputation`` says how missing
    cells reached the estimator: None when no table has one, else the scikit-learn
    imputer put in front of the estimator (fitted on each training table, applied to the
    holdout).
    """

    classes: tuple[Hashable, ...]
    positive_class: Hashable | None
    tstr_auc: float
    trtr_auc: float
    tstr_balanced_accuracy: float
    trtr_balanced_accuracy: float
    imputation: str | None = None

    @property
    def auc_gap(self) -> float:
        """TSTR AUC − TRTR AUC."""
        return self.tstr_auc - self.trtr_auc

    @property
    def balanced_accuracy_gap(self) -> float:
        """TSTR balanced accuracy − TRTR balanced accuracy."""
        return self.tstr_balanced_accuracy - self.trtr_balanced_accuracy


@dataclass(frozen=True)
class TwinPrivacy:
    """Distance to closest record (DCR) and a distance-based membership-inference attack.

    Distances are Euclidean on features standardised by the real-train mean and sd (with
    missing cells, scikit-learn's ``nan_euclidean`` over the features both rows observe;
    see ``twins.privacy``).
    DCR of a synthetic row = distance to its nearest ``real_train`` row; the holdout DCRs
    (each ``real_holdout`` row to its nearest ``real_train`` row) show what fresh real data
    looks like. ``share_closer_than_holdout_p5`` is the share of synthetic rows with a DCR
    below the holdout's 5th percentile (≈ 0.05 for a twin that does not copy);
    ``exact_copies`` the share with DCR < 1e-8. The attack scores each candidate by minus
    its distance to the nearest synthetic row; members are ``real_train`` rows, non-members
    ``real_holdout`` rows, ``mia_n_per_side`` of each; ``mia_auc`` = 0.5 means the attacker
    learns nothing, 1 that every member is closer to the synthetic data than every
    non-member.
    """

    dcr_synthetic_median: float
    dcr_synthetic_p5: float
    dcr_holdout_median: float
    dcr_holdout_p5: float
    share_closer_than_holdout_p5: float
    exact_copies: float
    mia_auc: float
    mia_n_per_side: int


@dataclass(frozen=True, eq=False)
class TwinReport:
    """Fidelity, utility and privacy of one synthetic table, with the table sizes."""

    fidelity: TwinFidelity
    utility: TwinUtility
    privacy: TwinPrivacy
    label: str
    n_rows: dict[str, int]

    def summary(self) -> pd.Series:
        """The headline numbers, one row per metric."""
        values = {
            "tstr_auc": self.utility.tstr_auc,
            "trtr_auc": self.utility.trtr_auc,
            "auc_gap": self.utility.auc_gap,
            "tstr_balanced_accuracy": self.utility.tstr_balanced_accuracy,
            "trtr_balanced_accuracy": self.utility.trtr_balanced_accuracy,
            "mean_ks": self.fidelity.mean_ks,
            "max_ks": self.fidelity.max_ks,
            "mean_wasserstein": self.fidelity.mean_wasserstein,
            "corr_frobenius": self.fidelity.corr_frobenius,
            "corr_mean_abs_diff": self.fidelity.corr_mean_abs_diff,
            "missing_max_abs_diff": self.fidelity.missing_max_abs_diff,
            "dcr_synthetic_median": self.privacy.dcr_synthetic_median,
            "dcr_holdout_median": self.privacy.dcr_holdout_median,
            "mia_auc": self.privacy.mia_auc,
            "exact_copies": self.privacy.exact_copies,
        }
        return pd.Series(
            [float(values[m]) for m in SUMMARY_METRICS],
            index=pd.Index(SUMMARY_METRICS, name="metric"),
            name="value",
        )

    def __repr__(self) -> str:
        """Four lines: the label and table sizes, then the headline utility, fidelity and
        privacy scores; the tables stay in ``fidelity``, ``summary()`` and ``to_markdown``."""
        n, u, f, p = self.n_rows, self.utility, self.fidelity, self.privacy
        sizes = ", ".join(f"{k} {v}" for k, v in n.items())
        return "\n".join(
            [
                f"TwinReport for label {self.label!r}, classes {list(u.classes)}; rows: {sizes}",
                f"  utility: TSTR AUC {u.tstr_auc:.3f} vs TRTR {u.trtr_auc:.3f} (gap "
                f"{u.auc_gap:+.3f}); balanced accuracy gap {u.balanced_accuracy_gap:+.3f}",
                f"  fidelity: KS mean {f.mean_ks:.3f} (max {f.max_ks:.3f}) over "
                f"{len(f.per_feature)} features; correlation mean |diff| "
                f"{f.corr_mean_abs_diff:.3f}; label TV {f.label_total_variation:.3f}",
                f"  privacy: DCR median {p.dcr_synthetic_median:.3g} (holdout "
                f"{p.dcr_holdout_median:.3g}); MIA AUC {p.mia_auc:.3f}; exact copies "
                f"{p.exact_copies:.1%}",
            ]
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain numbers, strings, lists and dicts (non-finite numbers become None), ready
        for ``json.dumps``."""
        fidelity = self.fidelity
        utility = self.utility
        privacy = self.privacy
        out = {
            "label": self.label,
            "n_rows": dict(self.n_rows),
            "summary": self.summary().to_dict(),
            "fidelity": {
                "mean_ks": fidelity.mean_ks,
                "max_ks": fidelity.max_ks,
                "mean_wasserstein": fidelity.mean_wasserstein,
                "corr_frobenius": fidelity.corr_frobenius,
                "corr_mean_abs_diff": fidelity.corr_mean_abs_diff,
                "label_total_variation": fidelity.label_total_variation,
                "missing_max_abs_diff": fidelity.missing_max_abs_diff,
                "per_feature": _records(fidelity.per_feature, "feature"),
                "label_balance": _records(fidelity.label_balance, "class"),
                "missing": _records(fidelity.missing.reset_index(level="class"), "feature"),
            },
            "utility": {
                "classes": list(utility.classes),
                "positive_class": utility.positive_class,
                "tstr_auc": utility.tstr_auc,
                "trtr_auc": utility.trtr_auc,
                "auc_gap": utility.auc_gap,
                "tstr_balanced_accuracy": utility.tstr_balanced_accuracy,
                "trtr_balanced_accuracy": utility.trtr_balanced_accuracy,
                "balanced_accuracy_gap": utility.balanced_accuracy_gap,
                "imputation": utility.imputation,
            },
            "privacy": {
                "dcr_synthetic_median": privacy.dcr_synthetic_median,
                "dcr_synthetic_p5": privacy.dcr_synthetic_p5,
                "dcr_holdout_median": privacy.dcr_holdout_median,
                "dcr_holdout_p5": privacy.dcr_holdout_p5,
                "share_closer_than_holdout_p5": privacy.share_closer_than_holdout_p5,
                "exact_copies": privacy.exact_copies,
                "mia_auc": privacy.mia_auc,
                "mia_n_per_side": privacy.mia_n_per_side,
            },
        }
        return _jsonable(out)

    def to_markdown(self, top: int = 10) -> str:
        """A short report: the headline table, the ``top`` features by KS, then (when a
        table misses cells) the ``top`` (feature, class) pairs by missing-rate gap."""
        n = self.n_rows
        head = [
            "## Twin report",
            "",
            f"Label `{self.label}`, classes {list(self.utility.classes)}; rows: real_train "
            f"{n['real_train']}, real_holdout {n['real_holdout']}, synthetic {n['synthetic']}.",
            "",
        ]
        summary = self.summary()
        headline = _markdown_table(["metric", "value"], [[m, v] for m, v in summary.items()])
        per_feature = self.fidelity.per_feature
        ranked = per_feature.sort_values("ks", ascending=False, kind="stable").head(top)
        rows = [[name, *row] for name, row in zip(ranked.index, ranked.to_numpy(), strict=True)]
        features = _markdown_table(["feature", *ranked.columns], rows)
        title = f"### Features by KS statistic (top {len(ranked)} of {len(per_feature)})"
        imputed = self.utility.imputation
        note = [f"Utility: missing cells imputed by {imputed}.", ""] if imputed else []
        missing = self.missing_markdown(top)
        return "\n".join([*head, headline, "", title, "", features, "", *missing, *note])

    def missing_markdown(self, top: int = 10) -> list[str]:
        """Lines of the missing-fraction section (the ``top`` (feature, class) pairs by
        |difference|); no lines when neither table misses a cell."""
        missing = self.fidelity.missing
        if not (missing[["real_missing", "synthetic_missing"]].fillna(0).to_numpy() > 0).any():
            return []
        gap = missing["difference"].abs()
        ranked = missing.assign(gap=gap).sort_values("gap", ascending=False, kind="stable")
        ranked = ranked.drop(columns="gap").head(top)
        rows = [[*name, *row] for name, row in zip(ranked.index, ranked.to_numpy(), strict=True)]
        lines = [
            f"### Missing fractions by class (top {len(ranked)} of {len(missing)} by |difference|)",
            "",
            _markdown_table(["feature", "class", *ranked.columns], rows),
            "",
        ]
        return lines


# --------------------------------------------------------------------------- output


def _jsonable(value: Any) -> Any:
    """``value`` with numpy scalars as Python numbers, non-finite floats as None and any
    other unknown object as its string."""
    if isinstance(value, dict):
        return {str(_jsonable(k)): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return value if np.isfinite(value) else None
    if value is None or isinstance(value, bool | int | str):
        return value
    return str(value)


def _records(frame: pd.DataFrame, index_name: str) -> list[dict[str, Any]]:
    """One dict per row, the index stored under ``index_name``."""
    return [
        {index_name: name, **dict(zip(frame.columns, row, strict=True))}
        for name, row in zip(frame.index, frame.to_numpy(dtype=object), strict=True)
    ]


def format_number(value: Any) -> str:
    """A report's number: three significant digits, without an exponent from 1,000 to
    10¹² (a mean of 1763.4 reads 1,763, not 1.76e+03); anything else as ``str``."""
    if isinstance(value, float | np.floating):
        if 1e3 <= abs(value) < 1e12:
            return f"{value:,.0f}"
        return f"{value:.3g}"
    return str(value)


def _markdown_table(header: list[Any], rows: list[list[Any]]) -> str:
    lines = [
        "| " + " | ".join(map(str, header)) + " |",
        "|" + "|".join("---" for _ in header) + "|",
    ]
    lines += ["| " + " | ".join(format_number(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)
