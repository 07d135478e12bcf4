"""The outcome's truth: its terms and parameters, and the best scores any model can reach.

The best scores are those of the true linear predictor η (or P(y = 1 | x)):

- Bayes-optimal AUC: the AUC of P(y = 1 | x). ``bayes_auc`` is its expectation over the
  outcome's draws given the rows' probabilities (Σ_{i≠j} p_i(1 − p_j)·[p_i > p_j] over
  Σ_{i≠j} p_i(1 − p_j), ties ½); ``realised_bayes_auc`` on the drawn y.
- True C-index: under proportional hazards P(T_i < T_j) = e^{η_i}/(e^{η_i} + e^{η_j})
  whatever the baseline, so the concordance of η with uncensored failure times is the
  mean over pairs of σ(|η_i − η_j|) (Gönen & Heller 2005, Biometrika 92:965), over at
  most ``PAIR_ROWS`` rows (a seeded sample beyond).
- R²: Var(η)/(Var(η) + s²) expected, 1 − SSE/SST realised.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from synthbio_ppl.core.errors import SpecError
from synthbio_ppl.core.lazy import np, pd
from synthbio_ppl.processes.block import LatentRange
from synthbio_ppl.processes.outcomes.layout import OutcomeLayout, linear_names
from synthbio_ppl.processes.outcomes.spec import Outcome

PAIR_ROWS = 4000
"""Rows whose pairs give the true C-index (all pairs: 8·10⁶ at most)."""
ROW_TRUTH_RANGES = {
    "probability": LatentRange(0.0, True, 1.0, "a probability lies in [0, 1]"),
    "event_free_survival": LatentRange(0.0, True, 1.0, "a survival probability lies in [0, 1]"),
    "event_time": LatentRange(0.0, True, math.inf, "a failure time is at least 0 (inf: never)"),
    "censoring_time": LatentRange(
        0.0, True, math.inf, "a censoring time is at least 0 (inf: never)"
    ),
}
"""The per-row truth's quantities with a range (``<name>.<quantity>``, or
``<name>.event_free_survival@<time>``); a linear predictor takes any number."""


@dataclass
class OutcomeTruth:
    """kind, name, link; ``terms``: one row per coefficient (site, term, value, and c: the
    centre or threshold of a nonlinear term as the spec gave it);
    ``parameters``: intercept, noise sd, baseline scale/shape per cause, censoring rate,
    end of study; ``scores``: best achievable scores and realised shares; ``curve``: the
    population survival S(t) = mean_i S(t | x_i) at ``times`` (survival)."""

    kind: str
    name: str
    link: str = "logit"
    terms: pd.DataFrame = field(default_factory=lambda: pd.DataFrame())
    parameters: dict[str, Any] = field(default_factory=dict)
    scores: dict[str, float] = field(default_factory=dict)
    curve: pd.DataFrame | None = None
    causes: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    features: list[str] = field(default_factory=list)
    """The feature columns the outcome reads (any cause)."""

    def coefficients(self) -> pd.Series:
        """Every term's coefficient, indexed by ``site[term]``."""
        return pd.Series(
            self.terms["value"].to_numpy(),
            index=[
                f"{s}[{t}]" for s, t in zip(self.terms["site"], self.terms["term"], strict=True)
            ],
            name="coefficient",
        )


def expected_auc(p: np.ndarray) -> float:
    """E[AUC of p] when y_i ~ Bernoulli(p_i) independently (ratio of expectations)."""
    p = np.sort(np.asarray(p, dtype=np.float64))
    q = 1.0 - p
    _, starts = np.unique(p, return_index=True)
    sums_q = np.add.reduceat(q, starts)
    below = np.concatenate([[0.0], np.cumsum(sums_q)[:-1]])  # Σ (1 − p_j) over p_j < p_i
    sums_p = np.add.reduceat(p, starts)
    # within a tie group: ½ Σ_{i≠j} p_i (1 − p_j) = ½ (Σp·Σq − Σ p_i q_i)
    within = 0.5 * (sums_p * sums_q - np.add.reduceat(p * q, starts))
    concordant = float((sums_p * below).sum() + within.sum())
    total = float(p.sum() * q.sum() - (p * q).sum())
    return concordant / total if total > 0 else float("nan")


def realised_auc(y: np.ndarray, score: np.ndarray) -> float:
    """The AUC of ``score`` for the 0/1 ``y`` (Mann–Whitney, ties ½)."""
    from scipy import stats

    y = np.asarray(y).astype(bool)
    n1, n0 = int(y.sum()), int((~y).sum())
    if not n1 or not n0:
        return float("nan")
    ranks = stats.rankdata(score)
    return float((ranks[y].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def true_concordance(eta: np.ndarray, seed: int = 0) -> float:
    """Mean over pairs of σ(|η_i − η_j|): the C-index of η for proportional hazards."""
    from scipy import special

    eta = np.asarray(eta, dtype=np.float64)
    if eta.size > PAIR_ROWS:
        eta = np.random.default_rng(seed).choice(eta, PAIR_ROWS, replace=False)
    n = eta.size
    if n < 2:
        return float("nan")
    total = 0.0
    for start in range(0, n, 500):
        block = np.abs(eta[start : start + 500, None] - eta[None, :])
        total += float(special.expit(block).sum())
    total -= 0.5 * n  # the diagonal, σ(0)
    return total / (n * (n - 1))


def outcome_scores(
    kind: str,
    rows: pd.DataFrame,
    frame: pd.DataFrame,
    name: str,
    causes: list[str] | None = None,
    noise_sd: float = float("nan"),
) -> dict[str, float]:
    """Best achievable and realised scores from the per-row truth and the drawn outcome
    (``noise_sd``: a continuous outcome's residual sd)."""
    eta = rows[f"{name}.linear_predictor"].to_numpy(dtype=np.float64)
    if kind == "binary":
        p = rows[f"{name}.probability"].to_numpy(dtype=np.float64)
        y = frame["y"].cat.codes.to_numpy()
        return {
            "bayes_auc": expected_auc(p),
            "realised_bayes_auc": realised_auc(np.asarray(y), p),
            "expected_prevalence": float(p.mean()),
            "realised_prevalence": float(np.mean(y)),
        }
    if kind == "continuous":
        y = frame["y"].to_numpy(dtype=np.float64)
        variance = float(eta.var())
        return {
            "r2": variance / (variance + noise_sd**2),
            "realised_r2": 1.0 - float(((y - eta) ** 2).sum() / ((y - y.mean()) ** 2).sum()),
        }
    event = frame["event"].to_numpy()
    scores = {
        "c_index": true_concordance(eta),
        "realised_censored_fraction": float((event == 0).mean()),
        "realised_event_fraction": float((event > 0).mean()),
    }
    if causes and len(causes) > 1:  # each cause's share of the rows
        scores.update(
            {f"realised_{c}_fraction": float((event == k + 1).mean()) for k, c in enumerate(causes)}
        )
    return scores


def survival_at(
    causes: list[tuple[str, str]],
    parameters: dict[str, Any],
    rows: pd.DataFrame,
    times: list[float],
) -> np.ndarray:
    """S(t | x_i) = Π_k S_k(t | x_i) (event-free survival over every cause), (rows, times),
    from the model's own failure-time distributions."""
    from synthbio_ppl.core.precision import precision

    t = np.asarray(times, dtype=np.float64)[None, :]
    log_s = np.zeros((len(rows), t.shape[1]))
    with precision("float64"), np.errstate(divide="ignore"):  # S = 0: log S = −inf
        for law in _cause_laws(causes, parameters, rows):
            log_s += np.log1p(-_cdf(law, t))
    return np.exp(log_s)


def _cause_laws(
    causes: list[tuple[str, str]], parameters: dict[str, Any], rows: pd.DataFrame
) -> list[Any]:
    """Each cause's failure-time distribution per row, (rows, 1), from the model's own
    ``hazard_distribution`` (call inside ``precision("float64")``)."""
    from synthbio_ppl.processes.outcomes.model import hazard_distribution

    laws = []
    for name, family in causes:
        eta = rows[f"{name}.linear_predictor"].to_numpy(dtype=np.float64)[:, None]
        scale = float(np.asarray(parameters[f"{name}.scale"]))
        shape = float(np.asarray(parameters.get(f"{name}.shape", 1.0)))
        laws.append(hazard_distribution(family, scale, shape, eta))
    return laws


def _cdf(law: Any, t: np.ndarray) -> np.ndarray:
    return np.minimum(np.asarray(law.cdf(t), dtype=np.float64), 1.0)


CIF_ROWS = 20_000
"""Rows whose cumulative incidence is averaged (a seeded sample beyond)."""


def cumulative_incidence(
    causes: list[tuple[str, str]],
    parameters: dict[str, Any],
    rows: pd.DataFrame,
    times: list[float],
    seed: int = 0,
) -> np.ndarray:
    """The population cumulative incidence of each cause, (causes, times):
    mean_i ∫_0^t f_k(s | x_i) Π_{j≠k} S_j(s | x_i) ds, the chance that cause k comes
    first by t (what Aalen–Johansen estimates). The integral is a trapezoid rule in log s
    (s·f_k(s) is smooth there even where f_k is infinite at 0, a Weibull shape below 1) on
    a geometric grid from 10⁻⁶ of the first time, with F_k(s₀) for the first step; over at
    most ``CIF_ROWS`` rows."""
    from synthbio_ppl.core.precision import precision

    if len(rows) > CIF_ROWS:
        rows = rows.sample(CIF_ROWS, random_state=seed)
    at = np.asarray(times, dtype=np.float64)
    # geometric from far below the first time, 40 points a decade: the integral runs in
    # log s, where a density's power law at 0 (Weibull shape < 1) is smooth
    low = at.min() * 1e-6
    points = int(40 * np.log10(at.max() / low)) + 2
    grid = np.unique(np.concatenate([np.geomspace(low, at.max(), points), at]))
    where = np.searchsorted(grid, at)
    out = np.zeros((len(causes), len(at)))
    with precision("float64"):
        for start in range(0, len(rows), 2000):
            laws = _cause_laws(causes, parameters, rows.iloc[start : start + 2000])
            cdf = [_cdf(law, grid[None, :]) for law in laws]
            survival = np.prod([1.0 - c for c in cdf], axis=0)
            for k, law in enumerate(laws):
                density = np.exp(np.asarray(law.log_prob(grid[None, :]), np.float64))
                others = survival / np.maximum(1.0 - cdf[k], 1e-300)
                integrand = np.where(1.0 - cdf[k] > 0, density * others * grid, 0.0)
                steps = 0.5 * (integrand[:, 1:] + integrand[:, :-1]) * np.diff(np.log(grid))
                running = np.concatenate([cdf[k][:, :1], cdf[k][:, :1] + np.cumsum(steps, 1)], 1)
                out[k] += running[:, where].sum(axis=0)
    return out / len(rows)


def default_times(frame: pd.DataFrame) -> list[float]:
    """The quartiles of the observed times (3 significant digits)."""
    quartiles = np.quantile(frame["time"].to_numpy(dtype=np.float64), [0.25, 0.5, 0.75])
    return [float(f"{q:.3g}") for q in quartiles]


def outcome_truth(group: Outcome, static: OutcomeLayout, sites: dict[str, Any]) -> OutcomeTruth:
    """The outcome's truth from the population sites: terms, parameters, causes."""
    p = static.name
    constants = {  # the c of each nonlinear term, as the spec gave it
        f"{p}.quadratic": [str(t.centre) for t in group.quadratic],
        f"{p}.thresholds": [str(t.at) for t in group.thresholds],
        f"{p}.xor": [f"{t.at[0]}, {t.at[1]}" for t in group.xor],
    }
    rows = []
    for site, labels in linear_names(static).items():
        values = np.ravel(sites.get(site, np.full(len(labels), np.nan)))
        given = constants.get(site, [""] * len(labels))
        rows += [
            (site, label, float(v), c) for label, v, c in zip(labels, values, given, strict=True)
        ]
    wanted = [
        f"{p}.{w}"
        for w in (
            "intercept",
            "noise_sd",
            "batch_effect",
            "batch_shift",
            "censoring_rate",
            "end_of_study",
        )
    ]
    wanted += [f"{c.name}.{w}" for c in static.causes for w in ("scale", "shape")]
    return OutcomeTruth(
        kind=static.kind,
        name=p,
        link=static.link,
        terms=pd.DataFrame(rows, columns=["site", "term", "value", "c"]),
        parameters={s: np.asarray(sites[s]).tolist() for s in wanted if s in sites},
        features=list(static.reads),
        causes=[c.name for c in static.causes],
        labels=list(group.labels) if static.kind == "binary" else [],
    )


def score_truth(
    group: Outcome,
    truth: OutcomeTruth,
    static: OutcomeLayout,
    rows: pd.DataFrame,
    frame: pd.DataFrame,
) -> pd.DataFrame:
    """``truth.scores`` (and, for survival, ``truth.curve``) from the per-row truth ``rows``
    and the drawn ``frame``; ``rows`` gains each row's event-free survival at the times.
    SpecError for a binary outcome with one level (its AUC is undefined)."""
    if static.kind == "binary" and frame["y"].nunique() < 2:
        raise SpecError(
            f"{static.field}.prevalence",
            f"every row y = {frame['y'].iloc[0]}",
            "the outcome has one level only; choose a prevalence, intercept or cases that "
            "gives both",
        )
    causes = [c.name for c in static.causes]
    noise_sd = float(truth.parameters.get(f"{static.name}.noise_sd", np.nan))
    truth.scores = outcome_scores(static.kind, rows, frame, static.name, causes, noise_sd)
    if static.kind != "survival":
        return rows
    times = list(group.times) or default_times(frame)
    curves = survival_at([(c.name, c.family) for c in static.causes], truth.parameters, rows, times)
    truth.curve = pd.DataFrame({"time": times, "event_free_survival": curves.mean(axis=0)})
    if len(static.causes) > 1:  # each cause's share by t: the competing-risks curves
        pairs = [(c.name, c.family) for c in static.causes]
        incidence = cumulative_incidence(pairs, truth.parameters, rows, times)
        for (name, _), values in zip(pairs, incidence, strict=True):
            truth.curve[f"cumulative_incidence_{name}"] = values
    at = [np.format_float_positional(t, trim="-") for t in times]
    named = {f"{static.name}.event_free_survival@{t}": curves[:, i] for i, t in enumerate(at)}
    return pd.concat([rows, pd.DataFrame(named, index=rows.index)], axis=1)


def truth_to_json(value: OutcomeTruth | None, frame_out: Any) -> Any:
    if value is None:
        return None
    return {
        "kind": value.kind,
        "name": value.name,
        "link": value.link,
        "terms": frame_out(value.terms),
        "parameters": value.parameters,
        "scores": {k: (v if np.isfinite(v) else None) for k, v in value.scores.items()},
        "curve": None if value.curve is None else frame_out(value.curve),
        "causes": value.causes,
        "labels": value.labels,
        "features": value.features,
    }


def truth_from_json(data: Any, frame_in: Any) -> OutcomeTruth | None:
    if data is None:
        return None
    return OutcomeTruth(
        kind=data["kind"],
        name=data["name"],
        link=data["link"],
        terms=frame_in(data["terms"]),
        parameters=dict(data["parameters"]),
        scores={k: (float("nan") if v is None else float(v)) for k, v in data["scores"].items()},
        curve=None if data.get("curve") is None else frame_in(data["curve"]),
        causes=list(data.get("causes", [])),
        labels=list(data.get("labels", [])),
        features=list(data.get("features", [])),
    )
