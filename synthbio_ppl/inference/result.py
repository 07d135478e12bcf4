"""A fitted model: ArviZ data, recovery table, posterior predictive and plots."""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Integral
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd

from synthbio_ppl.core.errors import SpecError, check_seed
from synthbio_ppl.core.precision import precision
from synthbio_ppl.data.dataset import Dataset
from synthbio_ppl.data.truth import build_truth
from synthbio_ppl.engine.budget import netcdf_bytes
from synthbio_ppl.engine.staging import staged_files
from synthbio_ppl.inference.arviz_data import coords_and_dims
from synthbio_ppl.inference.diagnostics import diagnostics, flat_names
from synthbio_ppl.inference.problem import Problem
from synthbio_ppl.inference.programs import device_design, predictive_program, program_inputs
from synthbio_ppl.model.design import Design
from synthbio_ppl.model.scene import Spec
from synthbio_ppl.processes.registry import modifier_of, process_of

if TYPE_CHECKING:
    import arviz as az


@dataclass
class Fit:
    """A fitted model: ``idata`` (ArviZ) plus the problem it was fitted to."""

    idata: az.InferenceData
    method: str
    problem: Problem
    losses: np.ndarray | None = None

    @property
    def spec(self) -> Spec:
        return self.problem.spec

    @property
    def posterior(self) -> dict[str, np.ndarray]:
        """Posterior draws per site, chains stacked: (chains·draws, ...)."""
        post = self.idata.posterior
        return {k: post[k].values.reshape(-1, *post[k].shape[2:]) for k in post.data_vars}

    def recovery(
        self, prob: float = 0.9, deterministic: bool = False, nuisance: bool = True
    ) -> pd.DataFrame:
        """One row per scalar parameter: truth, mean, sd, central ``prob`` interval, covered,
        z = (mean − truth) / sd (the standardised error), r_hat (rank-normalised split R̂),
        bulk ESS (NaN for SVI: its draws come from the fitted guide, independent by
        construction; ``Fit.losses`` is its diagnostic) and ``nuisance``. ``truth`` is NaN
        (covered NA, z NaN) when the data carry no truth.

        The parameters of interest come first: the blocks' (effect sizes, correlations,
        coefficients, level means, ...) in model order, then the column modifiers' scalar
        hyperparameters (``batch.strength``). The nuisance parameters follow (``nuisance``
        True): the modifiers' per-level sites, such as every batch × feature offset.
        ``nuisance=False`` leaves them out; :meth:`nuisance_summary` gives one row per
        nuisance site instead. Index ``parameter`` (str); float columns but ``site`` (str),
        ``covered`` (nullable boolean) and ``nuisance`` (bool)."""
        post = self.idata.posterior
        check_recovery_arguments(prob, deterministic, nuisance)
        names = [
            s.name
            for s in self.problem.sites.values()
            if s.name in post and (deterministic or not s.deterministic)
        ]
        modifiers, extra = modifier_sites(self.problem)
        names = sorted(names, key=lambda n: (n in extra) + (n in modifiers))  # stable
        names = [n for n in names if nuisance or n not in extra]
        rhat, ess = diagnostics(post, names) if names else ({}, {})
        if self.method != "nuts":  # independent guide draws: R̂ and ESS say nothing there
            rhat = {k: np.full_like(v, np.nan, dtype=float) for k, v in rhat.items()}
            ess = {k: np.full_like(np.asarray(v), np.nan, dtype=float) for k, v in ess.items()}
        low_q, high_q = (1 - prob) / 2, (1 + prob) / 2
        coords, dims = coords_and_dims(self.problem)
        truth = self.problem.truth or {}
        rows = []
        for name in names:
            draws = post[name].values
            shape = draws.shape[2:]
            flat = draws.reshape(-1, math.prod(shape))
            true = np.full(flat.shape[1], np.nan)
            if name in truth:
                true = np.broadcast_to(np.asarray(truth[name], dtype=float), shape).reshape(-1)
            labels = flat_names(name, shape, dims.get(name, []), coords)
            lo, hi = np.quantile(flat, [low_q, high_q], axis=0)
            r, e = rhat[name].reshape(-1), ess[name].reshape(-1)
            for j, label in enumerate(labels):
                covered = pd.NA if np.isnan(true[j]) else bool(lo[j] <= true[j] <= hi[j])
                stats = (flat[:, j].mean(), flat[:, j].std(ddof=1), lo[j], hi[j])
                rows.append((label, name, true[j], *stats, covered, r[j], e[j], name in extra))
        q_lo, q_hi = f"q{100 * low_q:g}", f"q{100 * high_q:g}"
        columns = ["parameter", "site", "truth", "mean", "sd", q_lo, q_hi, "covered"]
        columns += ["r_hat", "ess_bulk", "nuisance"]
        table = pd.DataFrame(rows, columns=columns).set_index("parameter")
        table["covered"] = table["covered"].astype("boolean")
        table["nuisance"] = table["nuisance"].astype(bool)
        # the standardised error: its mean over repeated fits measures bias, as coverage
        # measures calibration
        table.insert(
            table.columns.get_loc("covered") + 1,
            "z",
            (table["mean"] - table["truth"]) / table["sd"],
        )
        return table

    def nuisance_summary(self, prob: float = 0.9, deterministic: bool = False) -> pd.DataFrame:
        """One row per nuisance site of :meth:`recovery` (index ``site``): ``n`` (int,
        scalar parameters), ``covered`` (float, the share of those with a truth whose
        ``prob`` interval covers it; NaN without truth), ``max_abs_z`` (the largest
        |standardised error|), ``r_hat`` (the worst, largest) and ``ess_bulk`` (the
        smallest); NaN diagnostics for SVI. No rows when the model has no nuisance site."""
        table = self.recovery(prob, deterministic)
        return summarise_sites(table[table["nuisance"]])

    def posterior_predictive(
        self, n_draws: int = 100, seed: int = 0, as_datasets: bool = False
    ) -> np.ndarray | list[Dataset]:
        """Replicated tables from the same model at ``n_draws`` evenly spaced posterior draws,
        with the observed design: an array (n_draws, rows, features), or Datasets whose truth
        is the draw's parameters. With ``missing:`` entries the replicated tables are the
        complete values (no cell hidden). SpecError naming ``n_draws`` (a whole number ≥ 1;
        more than the fit holds gives them all) or ``seed``."""
        if isinstance(n_draws, bool) or not isinstance(n_draws, Integral) or n_draws < 1:
            raise SpecError("n_draws", n_draws, "must be a whole number ≥ 1")
        check_seed(seed)
        problem = self.problem
        post = self.posterior
        total = next(iter(post.values())).shape[0]
        pick = np.linspace(0, total - 1, min(n_draws, total)).round().astype(int)
        chosen = {k: jnp.asarray(post[k][pick]) for k in problem.free}
        picked = {k: v[pick] for k, v in post.items()}
        rng = np.random.default_rng(seed)
        for block in problem.layout.blocks:  # summed-out discrete states, drawn given θ
            states = process_of(block.kind).posterior_states(block, picked, rng)
            chosen.update({k: jnp.asarray(v) for k, v in states.items()})
        with precision(problem.spec.dtype):
            run = predictive_program(problem.layout)
            design = device_design(problem.design)
            key = jax.random.PRNGKey(seed)
            X = np.asarray(run(key, design, chosen, program_inputs(problem)))
        if not as_datasets:
            return X
        return [
            self._dataset(X[i], {k: v[pick[i]] for k, v in post.items()}, int(pick[i]))
            for i in range(len(pick))
        ]

    def _dataset(self, X: np.ndarray, draw: dict[str, np.ndarray], index: int) -> Dataset:
        from synthbio_ppl.engine.generation import class_labels, covariates_of

        problem = self.problem
        spec, layout, rd = problem.spec, problem.layout, problem.design
        table = None
        for static in layout.modifiers:
            n_levels = len(next(iter(modifier_of(static.field).design_columns(static).values())))
            table = np.zeros((len(spec.classes), n_levels), dtype=np.int64)
            np.add.at(table, (rd.y, rd.batch), 1)
        groups = {k: np.asarray(v) for k, v in (rd.groups or {}).items()}
        design = Design(y=np.asarray(rd.y), batch=rd.batch, groups=groups, class_batch_table=table)
        sites = {**problem.fixed, **draw}
        frame = pd.DataFrame(X, columns=pd.Index(problem.columns), copy=False)
        truth = build_truth(spec, layout, design, sites)
        truth.posterior_draw = {"method": self.method, "draw": index}
        return Dataset(
            X=frame,
            y=class_labels(spec, design),
            covariates=covariates_of(spec, design),
            truth=truth,
            spec=spec,
        )

    def plot_recovery(self, prob: float = 0.9, ax: Any = None, max_params: int = 60) -> Any:
        """Posterior mean and ``prob`` interval per parameter (red: truth not covered), truth
        as a cross. Needs matplotlib. Returns the Axes."""
        import matplotlib.pyplot as plt

        table = self.recovery(prob).iloc[:max_params]
        if ax is None:
            _, ax = plt.subplots(figsize=(6, 0.25 * len(table) + 1.2))
        y = np.arange(len(table))[::-1]
        lo, hi = (table[c].to_numpy() for c in table.columns[4:6])  # the interval's ends
        colours = ["tab:red" if c is False else "tab:blue" for c in table["covered"]]
        ax.hlines(y, lo, hi, colors=colours, lw=2)
        ax.plot(table["mean"], y, "o", color="black", ms=3, label="posterior mean")
        if table["truth"].notna().any():
            ax.plot(table["truth"], y, "x", color="tab:orange", ms=6, label="truth")
        ax.set_yticks(y, table.index)
        ax.set_xlabel(f"value ({100 * prob:g}% interval)")
        ax.set_title(f"{self.spec.name}: parameter recovery ({self.method})")
        ax.legend(loc="best", fontsize="small")
        return ax

    def to_netcdf(self, path: str | Path) -> Path:
        """Write ``idata`` as netCDF (atomically: a hidden file beside ``path`` renamed into
        place), refused before writing where the disk has too little room (OSError, ENOSPC,
        naming the folder; h5py would crash the process when the disk fills under it)."""
        target = Path(path)
        with staged_files([target], netcdf_bytes(self.idata), target.name) as (staged,):
            self.idata.to_netcdf(str(staged))
        return target

    def __repr__(self) -> str:
        """A few lines: what was fitted by which method, the draws, the coverage of the
        parameters of interest and of the nuisance ones, the worst R̂ and divergences."""
        post = self.idata.posterior
        chains, draws = post.sizes["chain"], post.sizes["draw"]
        stats = getattr(self.idata, "sample_stats", None)
        diverging = None
        if stats is not None and "diverging" in stats:
            diverging = int(stats["diverging"].values.sum())
        head = (
            f"Fit of {self.spec.name!r} by {self.method.upper()}: {chains} chain"
            f"{'s' if chains != 1 else ''} × {draws} draws, {self.problem.n_rows} rows"
        )
        lines = summary_lines(self.recovery(), diverging, self.losses)
        return "\n".join([head, *lines])


def check_recovery_arguments(prob: Any, deterministic: Any, nuisance: Any) -> None:
    """ValueError naming a ``prob`` outside (0, 1) or a flag that is not True/False."""
    from numbers import Real

    if isinstance(prob, bool) or not isinstance(prob, Real) or not 0.0 < float(prob) < 1.0:
        raise ValueError(f"prob must be a number in (0, 1), the interval's mass; got {prob!r}")
    for name, value in (("deterministic", deterministic), ("nuisance", nuisance)):
        if not isinstance(value, bool | np.bool_):
            raise ValueError(f"{name} must be True or False; got {value!r}")


def modifier_sites(problem: Problem) -> tuple[set[str], set[str]]:
    """The sites of the layout's column modifiers (named ``<site_prefix>.``), and among them
    the nuisance ones: those with one value per level at least (``batch.offset``, one per
    batch × feature); their scalar hyperparameters (``batch.strength``) are of interest."""
    prefixes = tuple(f"{modifier_of(m.field).site_prefix}." for m in problem.layout.modifiers)
    sites = [s for s in problem.sites.values() if s.name.startswith(prefixes)]
    return {s.name for s in sites}, {s.name for s in sites if s.shape}


def summarise_sites(table: pd.DataFrame) -> pd.DataFrame:
    """One row per ``site`` of a recovery table, in its order: n, covered share, max |z|,
    worst r_hat, smallest ess_bulk."""
    columns = ["n", "covered", "max_abs_z", "r_hat", "ess_bulk"]
    if table.empty:
        return pd.DataFrame(columns=columns, index=pd.Index([], name="site"), dtype=float)
    grouped = table.assign(abs_z=table["z"].abs()).groupby("site", sort=False)
    out = pd.DataFrame(
        {
            "n": grouped.size(),
            "covered": grouped["covered"].agg(lambda c: c.astype("Float64").mean()),
            "max_abs_z": grouped["abs_z"].max(),
            "r_hat": grouped["r_hat"].max(),
            "ess_bulk": grouped["ess_bulk"].min(),
        }
    )
    return out.astype({"n": np.int64, "covered": float})


def summary_lines(
    table: pd.DataFrame, diverging: int | None, losses: np.ndarray | None
) -> list[str]:
    """The lines of ``Fit``'s repr after its head: coverage of the parameters of interest
    and of the nuisance ones, then the worst R̂, the divergences or the final SVI loss."""
    lines = []
    for nuisance, what in ((False, "parameters of interest"), (True, "nuisance parameters")):
        part = table[table["nuisance"] == nuisance]
        if part.empty:
            continue
        sites = part["site"].unique()
        where = f" ({', '.join(sites[:3])}{', ...' if len(sites) > 3 else ''})" if nuisance else ""
        known = part["covered"].dropna()
        cover = (
            f"90% intervals cover the truth for {int(known.sum())}/{len(known)}"
            if len(known)
            else "no truth to compare"
        )
        what = what if len(part) != 1 else what.replace("parameters", "parameter", 1)
        lines.append(f"  {len(part)} {what}{where}: {cover}")
    checks = []
    if table["r_hat"].notna().any():
        worst = table["r_hat"].idxmax()
        checks.append(f"worst r_hat {table['r_hat'].max():.3f} ({worst})")
        checks.append(f"smallest bulk ESS {table['ess_bulk'].min():.0f}")
    if diverging is not None:
        checks.append(f"{diverging} divergent transition{'s' if diverging != 1 else ''}")
    if losses is not None and len(losses):
        checks.append(f"final loss {float(np.asarray(losses)[-1]):.4g}")
    if checks:
        lines.append("  " + "; ".join(checks))
    return lines
