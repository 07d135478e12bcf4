"""Simulation-based calibration (SBC) of the fit.

For s = 1..S: θ_s ~ prior, X_s ~ model(θ_s) with the spec's row design, fit X_s, and
record the rank r_s = #{ℓ : θ_s^(ℓ) < θ_s} of every scalar parameter among L thinned
posterior draws. When the fitted posterior is the true one, r_s is uniform on {0, ..., L}
(Talts et al. 2018). Per parameter:

- χ² on the rank histogram in B bins of equal width: Σ_b (O_b − E_b)² / E_b ~ χ²(B − 1);
- Kolmogorov–Smirnov of u_s = (r_s + U_s)/(L + 1), U_s ~ U(0, 1): the jitter makes u exactly
  uniform on (0, 1) under calibration.

A posterior that is too narrow piles ranks at both ends (∪), one too wide in the middle
(∩), a biased one at one end. All S fits run in one compiled, vectorised program
(``synthbio_ppl.inference.programs``): the same NUTS or SVI as ``fit``.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import jax
import numpy as np
import numpyro.distributions as dist
import pandas as pd
from scipy import stats

from synthbio_ppl.core.cache import enable_compilation_cache
from synthbio_ppl.core.errors import SpecError
from synthbio_ppl.core.precision import precision
from synthbio_ppl.inference.arviz_data import coords_and_dims
from synthbio_ppl.inference.diagnostics import flat_names
from synthbio_ppl.inference.problem import Problem, make_problem
from synthbio_ppl.inference.programs import (
    device_design,
    guide_kind,
    program_inputs,
    sbc_nuts_program,
    sbc_svi_program,
    simulate_program,
)
from synthbio_ppl.model.dataset_model import RowDesign
from synthbio_ppl.model.design import build_design
from synthbio_ppl.model.scene import Spec, as_spec

FEW_SIMULATIONS = 20
"""Below this many simulations the repr warns that the rank tests have little power."""


@dataclass
class Calibration:
    """SBC result: ranks (sims × parameters, in 0..n_draws), the prior draws, the tests."""

    ranks: pd.DataFrame
    truths: pd.DataFrame
    n_draws: int
    tests: pd.DataFrame
    divergences: np.ndarray

    @property
    def divergent_sims(self) -> int:
        """Simulations whose NUTS fit had at least one divergent transition."""
        return int((np.asarray(self.divergences) > 0).sum())

    def passes(self, alpha: float = 0.01, max_divergent: float = 0.0) -> bool:
        """No test rejects uniformity at level ``alpha`` (Bonferroni over every test; a NaN
        p-value rejects) and at most a share ``max_divergent`` of the simulations diverged:
        a divergent fit's ranks are not a posterior's, so uniform ranks alone do not vouch
        for it. Raises SpecError unless 0 < alpha < 1 and 0 ≤ max_divergent ≤ 1."""
        failing, diverged = self._failures(alpha, max_divergent)
        return not failing and not diverged

    def verdict(self, alpha: float = 0.01, max_divergent: float = 0.0) -> str:
        """One line: whether :meth:`passes`, and what to do when it does not."""
        failing, diverged = self._failures(alpha, max_divergent)
        n, k = len(self.ranks), self.divergent_sims
        problems = []
        if diverged:
            problems.append(
                f"{k} of {n} simulations' NUTS fits diverged (their ranks are not a "
                "posterior's): raise target_accept (e.g. 0.95) or num_warmup"
            )
        if failing:
            problems.append(
                f"ranks not uniform for {failing[:5]}: the fit is biased or over/under-"
                "confident there (see plot()); with sim_priors set, that is expected"
            )
        if problems:
            return "fails: " + "; ".join(problems)
        m = len(self.tests)
        divergent = "no divergent simulation" if k == 0 else f"{k} of {n} diverged (allowed)"
        return f"passes: {m} parameter{'s' if m != 1 else ''}: ranks uniform, {divergent}"

    def _failures(self, alpha: float, max_divergent: float) -> tuple[list[str], bool]:
        """Parameters whose tests reject (or are NaN), and whether too many sims diverged."""
        for name, value, low_open in (
            ("alpha", alpha, True),
            ("max_divergent", max_divergent, False),
        ):
            number = isinstance(value, int | float) and not isinstance(value, bool)
            inside = number and (0 < value < 1 if low_open else 0 <= value <= 1)
            if not inside:
                allowed = "a number in (0, 1)" if low_open else "a share in [0, 1]"
                raise SpecError(name, value, f"must be {allowed}")
        p = self.tests[["chi2_p", "ks_p"]].to_numpy()
        reject = ~(p >= alpha / max(p.size, 1)).all(axis=1)
        failing = self.tests.index[reject].tolist()
        return failing, self.divergent_sims / max(len(self.ranks), 1) > max_divergent

    def __repr__(self) -> str:
        """A few lines: the sizes, the smallest p-value and the :meth:`verdict` at the
        default levels; the tables stay in ``ranks``, ``truths`` and ``tests``."""
        n_sims, m = len(self.ranks), len(self.tests)
        head = (
            f"Calibration (SBC): {n_sims} simulations × {self.n_draws} posterior draws, "
            f"{m} parameter{'s' if m != 1 else ''}"
        )
        lines = [head]
        p = self.tests[["chi2_p", "ks_p"]].min(axis=1, skipna=False)
        if len(p) and p.notna().any():
            lines.append(f"  smallest rank-test p-value {p.min():.3g} ({p.idxmin()})")
        lines.append("  " + self.verdict())  # one line, naming at most 5 parameters
        if n_sims < FEW_SIMULATIONS:
            lines.append(
                f"  only {n_sims} simulations: the rank tests can hardly fail; use "
                f"{FEW_SIMULATIONS} or more to judge calibration"
            )
        return "\n".join(lines)

    def plot(self, kind: Literal["hist", "ecdf"] = "ecdf", axes: Any = None) -> Any:
        """Rank histograms or ECDF differences per parameter (see ``plot_ranks``)."""
        return plot_ranks(self, kind=kind, axes=axes)


def rank_tests(
    ranks: pd.DataFrame, n_draws: int, bins: int | None = None, seed: int = 0
) -> pd.DataFrame:
    """χ² (equal-width bins, exact expected counts) and KS (jittered ranks) per column.

    ``bins`` defaults to S/10 clipped to [2, 20], so every bin expects about 10 ranks.
    """
    n_sims = len(ranks)
    bins = bins or int(np.clip(n_sims // 10, 2, 20))
    values = np.arange(n_draws + 1)
    which = values * bins // (n_draws + 1)
    expected = np.bincount(which, minlength=bins) / (n_draws + 1) * n_sims
    rng = np.random.default_rng(seed)
    rows = {}
    for name in ranks.columns:
        r = ranks[name].to_numpy()
        observed = np.bincount(r * bins // (n_draws + 1), minlength=bins)
        chi2 = float(((observed - expected) ** 2 / expected).sum())
        u = (r + rng.uniform(size=n_sims)) / (n_draws + 1)
        ks = stats.kstest(u, "uniform")
        rows[name] = {
            "chi2": chi2,
            "df": bins - 1,
            "chi2_p": float(stats.chi2.sf(chi2, bins - 1)),
            "ks": float(ks.statistic),
            "ks_p": float(ks.pvalue),
        }
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("parameter")


def calibrate(
    spec: Spec | dict[str, Any] | str | Path,
    n_sims: int = 100,
    method: Literal["nuts", "svi"] = "nuts",
    *,
    priors: Mapping[str, dist.Distribution] | None = None,
    sim_priors: Mapping[str, dist.Distribution] | None = None,
    fixed: Mapping[str, Any] | None = None,
    n_draws: int = 99,
    num_warmup: int = 300,
    num_samples: int = 495,
    target_accept: float = 0.8,
    svi_steps: int = 2000,
    learning_rate: float = 0.01,
    guide: Literal["auto", "normal", "mvn"] = "auto",
    bins: int | None = None,
    seed: int = 0,
    missing: Literal["model", "ignore"] = "model",
) -> Calibration:
    """SBC of the spec's model with its row design (class counts, batches, groups).

    Parameters are drawn from the prior with ``sim_priors`` replacing the fitted ``priors``
    where given (a deliberate mismatch must fail the tests); ``fixed`` sites are held at
    their value in both. Each of the ``n_sims`` datasets is fitted by NUTS
    (``num_warmup`` + ``num_samples``, thinned evenly to ``n_draws``) or SVI (``guide`` as
    in ``fit``, ``svi_steps`` Adam steps, ``n_draws`` guide draws), all sims in one
    vectorised program. Programs are cached: another design, fixed value or prior of the
    same family (given explicitly in both runs) reuses the compiled code.

    With ``missing:`` entries each simulated table has its own mask; ``missing="ignore"``
    fits the observed cells alone (the ignorable likelihood), which calibrates for MCAR
    and MAR and not for MNAR.
    """
    if method not in ("nuts", "svi"):
        raise SpecError("method", method, "must be 'nuts' or 'svi'")
    if bins is not None and (
        isinstance(bins, bool) or not isinstance(bins, int) or not 2 <= bins <= n_draws + 1
    ):
        raise SpecError(
            "bins", bins, f"must be a whole number from 2 to n_draws + 1 ({n_draws + 1})"
        )
    if n_sims < 2 or n_draws < 1 or num_samples < n_draws:
        raise SpecError(
            "n_sims", (n_sims, n_draws), "need n_sims ≥ 2 and 1 ≤ n_draws ≤ num_samples"
        )
    spec = as_spec(spec)
    plan = build_design(spec)
    groups = {k: np.asarray(v) for k, v in plan.groups.items()}
    design = RowDesign(y=np.asarray(plan.y), batch=plan.batch, groups=groups)
    X0 = np.zeros((plan.n_rows, 0), dtype=spec.dtype)
    constants = _mask_constants(spec, plan)
    problem = make_problem(spec, X0, design, fixed, priors, constants, missing)
    sim_priors = {**(priors or {}), **(sim_priors or {})}
    simulator = make_problem(spec, X0, design, fixed, sim_priors, constants)
    layout, free = problem.layout, tuple(problem.free)
    enable_compilation_cache()
    key_sim, key_fit = jax.random.split(jax.random.PRNGKey(seed))
    with precision(spec.dtype):
        device = device_design(design)
        simulate = simulate_program(simulator.layout, n_sims, free)
        truths, Xs, designs, hiddens = simulate(key_sim, device, program_inputs(simulator))
        if method == "nuts":
            run = sbc_nuts_program(layout, num_warmup, num_samples, n_draws, target_accept)
        else:
            kind = guide_kind(problem, guide)
            run = sbc_svi_program(layout, svi_steps, learning_rate, kind, n_draws, free)
        draws, divergences = run(
            jax.random.split(key_fit, n_sims), Xs, designs, hiddens, program_inputs(problem)
        )
        draws = {k: np.asarray(v) for k, v in draws.items()}
    names, rank_columns, truth_columns = _scalar_names(problem), {}, {}
    for site in free:
        true = np.asarray(truths[site]).reshape(n_sims, -1)
        post = draws[site].reshape(n_sims, n_draws, -1)
        for j, label in enumerate(names[site]):
            rank_columns[label] = (post[:, :, j] < true[:, None, j]).sum(axis=1)
            truth_columns[label] = true[:, j]
    ranks = pd.DataFrame(rank_columns).rename_axis("sim")
    diverged = int((np.asarray(divergences) > 0).sum())
    if diverged:
        warnings.warn(
            f"{diverged} of {n_sims} simulations' NUTS fits diverged; passes() counts them "
            f"as failures: raise target_accept (now {target_accept:g}, e.g. 0.95) or "
            f"num_warmup (now {num_warmup})",
            RuntimeWarning,
            stacklevel=2,
        )
    return Calibration(
        ranks=ranks,
        truths=pd.DataFrame(truth_columns).rename_axis("sim"),
        n_draws=n_draws,
        tests=rank_tests(ranks, n_draws, bins, seed),
        divergences=np.asarray(divergences),
    )


def _mask_constants(spec: Spec, plan: Any) -> dict[str, np.ndarray] | None:
    """The masks' design constants (a driver's centre and scale) as the spec's generation
    solves them: every simulation shares them, as it shares the row design."""
    from synthbio_ppl.engine.masking import with_mask_sites
    from synthbio_ppl.model.layout import build_layout
    from synthbio_ppl.model.parameters import fixed_sites
    from synthbio_ppl.processes.registry import mask_of

    layout = build_layout(spec)
    if not layout.masks:
        return None
    solved = with_mask_sites(spec, layout, fixed_sites(spec), plan)
    names = [n for m in layout.masks for n in mask_of(m.field).constant_sites(m)]
    return {name: solved[name] for name in names}


def _scalar_names(problem: Problem) -> dict[str, list[str]]:
    coords, dims = coords_and_dims(problem)
    return {
        name: flat_names(name, problem.sites[name].shape, dims.get(name, []), coords)
        for name in problem.free
    }


def plot_ranks(
    calibration: Calibration, kind: Literal["hist", "ecdf"] = "ecdf", axes: Any = None
) -> Any:
    """One panel per parameter: rank histogram with a 99% band for a uniform count, or the
    ECDF of normalised ranks minus the uniform CDF with a pointwise 99% band. Needs
    matplotlib; returns the axes array."""
    import matplotlib.pyplot as plt

    names = list(calibration.ranks.columns)
    n_sims, L = len(calibration.ranks), calibration.n_draws
    if axes is None:
        cols = min(3, len(names))
        rows = -(-len(names) // cols)
        _, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.4 * rows), squeeze=False)
    flat = np.asarray(axes).reshape(-1)
    for ax, name in zip(flat, names, strict=False):
        r = calibration.ranks[name].to_numpy()
        if kind == "hist":
            bins = int(np.clip(n_sims // 10, 2, 20))
            counts = np.bincount(r * bins // (L + 1), minlength=bins)
            p = 1.0 / bins
            low, high = stats.binom.ppf([0.005, 0.995], n_sims, p)
            ax.axhspan(low, high, color="0.85")
            ax.bar(np.arange(bins), counts, width=0.9, color="tab:blue")
            ax.set_xlabel("rank bin")
        else:
            grid = np.linspace(0, 1, 201)
            u = np.sort((r + 0.5) / (L + 1))
            ecdf = np.searchsorted(u, grid, side="right") / n_sims
            band = 2.576 * np.sqrt(grid * (1 - grid) / n_sims)
            ax.fill_between(grid, -band, band, color="0.85")
            ax.plot(grid, ecdf - grid, color="tab:blue")
            ax.set_xlabel("normalised rank")
        ax.set_title(name, fontsize="small")
    for ax in flat[len(names) :]:
        ax.set_visible(False)
    return axes
