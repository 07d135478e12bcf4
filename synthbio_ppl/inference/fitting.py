"""Fitting a spec's model back to data: the generator is the likelihood.

``fit(spec, data)`` runs ``dataset_model(layout, design, X)`` with ``X`` observed, the row
design (class labels, batch, pseudo-class groups) fixed, and priors on the parameter sites
the spec fixed when generating:

    d = <block>.effect_size      ~ N(0, 2²)  per adjacent pair of classes (or groups)
    e = <block>.anchor_effect    ~ N(0, 2²)
    ρ_k = <block>.correlation    ~ U(low, 1), low = -1/(p-1) equicorrelated, -1 Toeplitz
    α = <block>.proxy_attenuation ~ HalfNormal(1)
    s = batch.strength           ~ HalfNormal(1)
    β_bj = batch.offset          ~ N(0, s²)   (or γ_bj = batch.log_factor)
    family shapes (sigma, df, ...) ~ LogNormal(log default, 1) above their lower bound

NUTS for teaching sizes, SVI (autoguide + Adam) for larger ones, each as one compiled
program (``synthbio_ppl.inference.programs``) reused for every fit of the same shape.
``fixed={"inf0.sigma": 0.5}`` conditions a site on a value (it is then not fitted);
``priors={"inf0.effect_size": dist.Normal(0, 1)}`` replaces a site's prior (a univariate
distribution is expanded to the site's shape; its support must lie in the site's support).

Identifiability, and where it bites:
- Class order is the spec's: ``effect_size[k]`` is mean(class k+1) − mean(class k) with
  the spec's order, so labels never switch. Pseudo-class groups are likewise observed
  design (the ``<block>_group`` covariate); without them the block would be a mixture.
- Batch offsets and class means are separable only because the batch of every row is
  observed design and families are standardised (mean 0). Under full confounding (every
  batch holds one class) a block's d is identified only through the N(0, s²) prior on the
  per-feature offsets: its posterior sd is about s·√2/√(features in the block), not the
  sampling error of the class means.
- ρ is identified in sign and size by the within-class covariance; α only when e ≠ 0 and
  ρ ≠ 0 (else its posterior is its prior); e's sign is fixed by α ≥ 0.
- The bounded correlation priors are sampled in unconstrained space (NumPyro's interval
  transform), so NUTS never proposes a ρ outside the positive-definite range.
"""

from __future__ import annotations

import itertools
import math
import os
import tempfile
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import jax
import jax.numpy as jnp
import numpy as np
import numpyro.distributions as dist
import pandas as pd

from synthbio_ppl.cli.fit import add_fit_parser, fit_paths, run_fit
from synthbio_ppl.core.arviz import import_arviz
from synthbio_ppl.core.cache import enable_compilation_cache
from synthbio_ppl.core.errors import SpecError
from synthbio_ppl.data.dataset import Dataset
from synthbio_ppl.data.truth import batch_names, build_truth
from synthbio_ppl.engine.draw import precision
from synthbio_ppl.inference.likelihood import BATCH_SITES, Problem, build_problem, row_latents
from synthbio_ppl.inference.programs import (
    STATS,
    device_design,
    guide_kind,
    nuts_program,
    pointwise_loglik,
    predictive_program,
    program_inputs,
    svi_program,
)
from synthbio_ppl.model.dataset_model import RowDesign
from synthbio_ppl.model.design import Design
from synthbio_ppl.model.layout import columns_of
from synthbio_ppl.model.scene import Spec

if TYPE_CHECKING:
    import arviz as az

Method = Literal["nuts", "svi"]
__all__ = ["Fit", "add_fit_parser", "coords_and_dims", "fit", "fit_paths", "run_fit", "split_rhat"]


# --------------------------------------------------------------------------- fitting


def fit(
    spec: Spec | dict[str, Any] | str | Path | None,
    data: Dataset | pd.DataFrame,
    method: Method = "nuts",
    *,
    labels: pd.Series | np.ndarray | list[Any] | None = None,
    design: pd.DataFrame | RowDesign | None = None,
    fixed: Mapping[str, Any] | None = None,
    priors: Mapping[str, dist.Distribution] | None = None,
    num_warmup: int = 1000,
    num_samples: int = 1000,
    num_chains: int = 1,
    seed: int = 0,
    progress: bool = True,
    target_accept: float = 0.8,
    svi_steps: int = 5000,
    learning_rate: float = 0.01,
    guide: Literal["auto", "normal", "mvn"] = "auto",
    noncentred: bool | None = None,
    log_likelihood: bool = True,
    backend: Literal["program", "mcmc"] = "program",
) -> Fit:
    """Fit the spec's model to ``data`` (a Dataset, or a DataFrame of the spec's columns).

    ``spec`` may be None for a Dataset (its own spec). ``labels`` (one per row, the spec's
    class names) default to ``data.y`` or a ``y`` column; ``design`` (columns ``batch``,
    ``<block>_group``) to the Dataset's covariates or the frame's own columns.

    NUTS: ``num_chains`` chains of ``num_warmup`` adapting steps and ``num_samples`` draws,
    as one compiled program reused for data of the same shape (``backend="mcmc"`` runs
    ``numpyro.infer.MCMC`` instead, with its progress bar; it recompiles on every call).
    SVI: a guide (``auto``: full-rank normal up to 200 latent dimensions, else mean-field)
    fitted for ``svi_steps`` Adam steps (step size decaying from ``learning_rate`` to a
    tenth), then ``num_samples`` draws from it. ``noncentred`` (default: only when batch
    effects are one per batch) samples β = s·z, z ~ N(0, 1).
    """
    if method not in ("nuts", "svi"):
        raise SpecError("method", method, "must be 'nuts' or 'svi'")
    if backend not in ("program", "mcmc"):
        raise SpecError("backend", backend, "must be 'program' or 'mcmc'")
    for name, value in {"num_warmup": num_warmup, "num_samples": num_samples}.items():
        if value < 1:
            raise SpecError(name, value, "must be ≥ 1")
    problem = build_problem(spec, data, labels=labels, design=design, fixed=fixed, priors=priors)
    enable_compilation_cache()
    layout = problem.layout
    if noncentred is None:
        noncentred = layout.batches is not None and layout.batches.granularity == "scalar"
    key = jax.random.PRNGKey(seed)
    started = time.perf_counter()
    if progress:
        what = f"NUTS, {num_chains} chain(s) × ({num_warmup} warmup + {num_samples})"
        if method == "svi":
            what = f"SVI, {svi_steps} steps"
        print(f"fitting {problem.spec.name} ({what}); the first fit of a shape compiles")
    losses = None
    with precision(problem.spec.dtype):
        args = (device_design(problem.design), jnp.asarray(problem.X), program_inputs(problem))
        if method == "nuts" and backend == "mcmc":
            nuts = (num_warmup, num_samples, num_chains, target_accept)
            samples, stats, loglik = _run_mcmc(
                problem, noncentred, key, *nuts, progress, log_likelihood
            )
        elif method == "nuts":
            nuts = (num_warmup, num_samples, num_chains, target_accept, log_likelihood)
            samples, fields, loglik = nuts_program(layout, noncentred, *nuts)(key, *args)
            stats = _nuts_stats(fields)
        else:
            deterministic = [s.name for s in problem.sites.values() if s.deterministic]
            decentred = (f"{n}_decentered" for n in BATCH_SITES)
            sites = (*problem.free, *deterministic, *row_latents(layout), *decentred)
            kind = guide_kind(problem, guide)
            svi = (svi_steps, learning_rate, kind, num_samples, sites, log_likelihood)
            draws, lp, loglik, losses = svi_program(layout, noncentred, *svi)(key, *args)
            samples = jax.tree.map(lambda v: v[None], draws)  # one "chain" of guide draws
            stats = {"lp": np.asarray(lp)[None]}
            loglik = None if loglik is None else loglik[None]
            losses = np.asarray(losses)
        samples = {k: np.asarray(v) for k, v in samples.items() if not k.endswith("_decentered")}
        loglik = None if loglik is None else np.asarray(loglik)
    _check_finite(samples, method)
    idata = to_inference_data(problem, samples, stats, loglik, method)
    if progress:
        print(f"done in {time.perf_counter() - started:.1f} s")
    return Fit(idata=idata, method=method, problem=problem, losses=losses)


def _nuts_stats(fields: dict[str, Any]) -> dict[str, np.ndarray]:
    """NumPyro's per-draw HMC state fields under ArviZ's sample_stats names."""
    fields = {k: np.asarray(v) for k, v in fields.items()}
    steps = fields["num_steps"]
    return {
        "lp": -fields["potential_energy"],
        "diverging": fields["diverging"].astype(bool),
        "n_steps": steps,
        "tree_depth": np.floor(np.log2(np.maximum(steps, 1))).astype(int) + 1,
        "acceptance_rate": fields["accept_prob"],
        "energy": fields["energy"],
    }


def _check_finite(samples: dict[str, np.ndarray], method: str) -> None:
    bad = [k for k, v in samples.items() if not np.isfinite(v).all()]
    if bad:
        why = (
            f"{method} found no valid starting point or diverged everywhere; check that the "
            "data fit the spec's families (e.g. lognormal or gamma values above their bound)"
        )
        raise SpecError("data", f"non-finite posterior draws of {bad[:3]}", why)


def _run_mcmc(
    problem: Problem,
    noncentred: bool,
    key: jax.Array,
    num_warmup: int,
    num_samples: int,
    num_chains: int,
    target_accept: float,
    progress: bool,
    with_loglik: bool,
) -> tuple[dict[str, Any], dict[str, np.ndarray], Any]:
    """The same fit through ``numpyro.infer.MCMC`` (progress bar, parallel devices)."""
    from numpyro.infer import MCMC, NUTS

    chain_method = "parallel" if jax.local_device_count() >= num_chains else "sequential"
    mcmc = MCMC(
        NUTS(problem.model(noncentred), target_accept_prob=target_accept),
        num_warmup=num_warmup,
        num_samples=num_samples,
        num_chains=num_chains,
        chain_method=chain_method,
        progress_bar=progress,
    )
    args = (device_design(problem.design), jnp.asarray(problem.X))
    with warnings.catch_warnings():
        # NumPyro checks the initial trace with validation on; bounded families (lognormal,
        # gamma, ...) put some data outside the support of a random initial shape parameter.
        warnings.filterwarnings("ignore", message="Out-of-support values")
        mcmc.run(key, *args, extra_fields=STATS)
    samples = mcmc.get_samples(group_by_chain=True)
    loglik = None
    if with_loglik:
        flat = {k: v.reshape(-1, *v.shape[2:]) for k, v in samples.items()}
        values = pointwise_loglik(problem.layout, flat, *args, program_inputs(problem))
        loglik = np.asarray(values).reshape(num_chains, num_samples, -1)
    return samples, _nuts_stats(mcmc.get_extra_fields(group_by_chain=True)), loglik


# --------------------------------------------------------------------------- results


def coords_and_dims(problem: Problem) -> tuple[dict[str, list[Any]], dict[str, list[str]]]:
    """Readable coordinates: classes, class steps, batches, features, rows."""
    spec, layout = problem.spec, problem.layout
    names = spec.class_names
    coords: dict[str, list[Any]] = {
        "class": names,
        "class_step": [f"{b}-{a}" for a, b in itertools.pairwise(names)],
        "row": list(range(problem.n_rows)),
        "feature": problem.columns,
    }
    blocks = {b.name: b for b in layout.blocks}
    if layout.batches is not None:
        coords["batch"] = batch_names(layout.batches.n_batches)
        affected = [problem.columns[j] for a, b in layout.batches.affected for j in range(a, b)]
        coords["batch_feature"] = affected
        coords["batch_all"] = ["all"]  # the one column of scalar (per-batch) effects
    dims: dict[str, list[str]] = {}
    for site in problem.sites.values():
        block_name, _, param = site.name.partition(".")
        block = blocks.get(block_name)
        if block_name == "batch" and len(site.shape) == 2:
            width = (
                "batch_feature" if site.shape[1] == len(coords["batch_feature"]) else "batch_all"
            )
            dims[site.name] = ["batch", width]
        elif block is not None and block.kind == "pseudo" and site.shape:
            levels = block.n_levels
            step = f"{block.name}_step"
            coords[step] = [f"{g + 1}-{g}" for g in range(levels - 1)]
            coords[f"{block.name}_group"] = list(range(levels))
            if param in ("effect_size",):
                dims[site.name] = [step]
            elif param == "level_means":
                dims[site.name] = [f"{block.name}_group"]
        elif block is not None and site.shape:
            if param in ("effect_size", "anchor_effect"):
                dims[site.name] = ["class_step"]
            elif site.shape == (len(names),):
                dims[site.name] = ["class"]
            elif param == "level_means" and len(site.shape) == 2:
                coords[f"{block.name}_feature"] = columns_of(block)
                dims[site.name] = ["class", f"{block.name}_feature"]
    if layout.structure is not None:  # per-row latent factor values
        scene = layout.structure
        dims.update({f"{scene.name}.{factor}": ["row"] for factor in scene.factors})
    dims["X"] = ["row", "feature"]
    return coords, dims


def to_inference_data(
    problem: Problem,
    samples: dict[str, np.ndarray],
    stats: dict[str, np.ndarray],
    loglik: np.ndarray | None,
    method: str,
) -> az.InferenceData:
    """Posterior (chain, draw, ...), sample_stats, log_likelihood (per row), observed data."""
    az = import_arviz()
    coords, dims = coords_and_dims(problem)
    constant = {"y": problem.design.y}
    if problem.design.batch is not None:
        constant["batch"] = problem.design.batch
    for name, groups in (problem.design.groups or {}).items():
        constant[f"{name}_group"] = groups
    if problem.design.covariates is not None:
        for c, name in enumerate(problem.layout.structure.covariates):
            constant[name] = problem.design.covariates[:, c]

    def group(data: dict[str, np.ndarray], group_dims: dict[str, list[str]], draws: bool) -> Any:
        return az.dict_to_dataset(
            data,
            coords=coords,
            dims={k: v for k, v in group_dims.items() if k in data},
            default_dims=None if draws else [],
            attrs={"method": method, "spec_name": problem.spec.name},
        )

    groups = {
        "posterior": group(samples, dims, True),
        "sample_stats": group(stats, {}, True),
        "observed_data": group({"X": problem.X}, {"X": ["row", "feature"]}, False),
        "constant_data": group(constant, {k: ["row"] for k in constant}, False),
    }
    if loglik is not None:
        groups["log_likelihood"] = group({"X": loglik}, {"X": ["row"]}, True)
    return az.InferenceData(**groups)


def split_rhat(draws: np.ndarray) -> np.ndarray:
    """Rank-normalised split R̂ (Vehtari et al. 2021) of (chains, draws, k) → (k,).

    Each chain is split in halves (m = 2·chains sequences of h draws); with
    z = Φ⁻¹((rank − 3/8)/(S + 1/4)) over all S draws, R̂(z) = √(((h−1)/h·W + B/h) / W),
    W the mean within-sequence variance and B = h·var(sequence means); the result is
    the larger of R̂ of the ranks and of the folded ranks |x − median|. Works with one
    chain (ArviZ needs two).
    """
    from scipy.special import ndtri
    from scipy.stats import rankdata

    chains, n = draws.shape[:2]
    half = n // 2
    flat = draws.reshape(chains, n, -1)
    seqs = np.concatenate([flat[:, :half], flat[:, n - half :]], axis=0)

    def basic(z: np.ndarray) -> np.ndarray:
        within = z.var(axis=1, ddof=1).mean(axis=0)
        between = half * z.mean(axis=1).var(axis=0, ddof=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.sqrt(((half - 1) / half * within + between / half) / within)

    def normal_ranks(x: np.ndarray) -> np.ndarray:
        size = x.shape[0] * x.shape[1]
        ranks = rankdata(x.reshape(size, -1), axis=0)
        return ndtri((ranks - 0.375) / (size + 0.25)).reshape(x.shape)

    folded = np.abs(seqs - np.median(seqs, axis=(0, 1)))
    return np.maximum(basic(normal_ranks(seqs)), basic(normal_ranks(folded)))


def _diagnostics(
    post: Any, names: list[str]
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Split R̂ and ArviZ's bulk ESS per site."""
    az = import_arviz()
    draws = {name: post[name].values for name in names}
    ess = az.ess(az.convert_to_dataset(draws), method="bulk")
    rhat = {k: split_rhat(v).reshape(v.shape[2:]) for k, v in draws.items()}
    return rhat, {k: ess[k].values for k in names}


def flat_names(
    site: str, shape: tuple[int, ...], dim_names: list[str], coords: dict[str, list[Any]]
) -> list[str]:
    if not shape:
        return [site]
    labels = [coords.get(d, list(range(n))) for d, n in zip(dim_names, shape, strict=False)]
    while len(labels) < len(shape):
        labels.append(list(range(shape[len(labels)])))
    index = np.ndindex(*shape)
    return [
        site + "[" + ",".join(str(labels[a][i]) for a, i in enumerate(ix)) + "]" for ix in index
    ]


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

    def recovery(self, prob: float = 0.9, deterministic: bool = False) -> pd.DataFrame:
        """One row per scalar parameter: truth, mean, sd, central ``prob`` interval, covered,
        r_hat (rank-normalised split R̂) and bulk ESS. ``truth`` is NaN (covered NA) when the
        data carry no truth."""
        post = self.idata.posterior
        names = [
            s.name
            for s in self.problem.sites.values()
            if s.name in post and (deterministic or not s.deterministic)
        ]
        rhat, ess = _diagnostics(post, names)
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
                rows.append((label, name, true[j], *stats, covered, r[j], e[j]))
        q_lo, q_hi = f"q{100 * low_q:g}", f"q{100 * high_q:g}"
        columns = ["parameter", "site", "truth", "mean", "sd", q_lo, q_hi, "covered"]
        table = pd.DataFrame(rows, columns=[*columns, "r_hat", "ess_bulk"]).set_index("parameter")
        table["covered"] = table["covered"].astype("boolean")
        return table

    def posterior_predictive(
        self, n_draws: int = 100, seed: int = 0, as_datasets: bool = False
    ) -> np.ndarray | list[Dataset]:
        """Replicated tables from the same model at ``n_draws`` evenly spaced posterior draws,
        with the observed design: an array (n_draws, rows, features), or Datasets whose truth
        is the draw's parameters."""
        problem = self.problem
        post = self.posterior
        total = next(iter(post.values())).shape[0]
        pick = np.linspace(0, total - 1, min(n_draws, total)).round().astype(int)
        chosen = {k: jnp.asarray(post[k][pick]) for k in problem.free}
        with precision(problem.spec.dtype):
            run = predictive_program(problem.layout)
            design = device_design(problem.design)
            key = jax.random.PRNGKey(seed)
            X = np.asarray(run(key, design, chosen, program_inputs(problem)))
        if not as_datasets:
            return X
        return [
            self._dataset(X[i], {k: v[pick[i]] for k, v in post.items()}) for i in range(len(pick))
        ]

    def _dataset(self, X: np.ndarray, draw: dict[str, np.ndarray]) -> Dataset:
        from synthbio_ppl.engine.generation import class_labels, covariates_of

        problem = self.problem
        spec, layout, rd = problem.spec, problem.layout, problem.design
        table = None
        if rd.batch is not None and layout.batches is not None:
            table = np.zeros((len(spec.classes), layout.batches.n_batches), dtype=np.int64)
            np.add.at(table, (rd.y, rd.batch), 1)
        groups = {k: np.asarray(v) for k, v in (rd.groups or {}).items()}
        design = Design(y=np.asarray(rd.y), batch=rd.batch, groups=groups, class_batch_table=table)
        sites = {**problem.fixed, **draw}
        frame = pd.DataFrame(X, columns=pd.Index(problem.columns), copy=False)
        return Dataset(
            X=frame,
            y=class_labels(spec, design),
            covariates=covariates_of(spec, design),
            truth=build_truth(spec, layout, design, sites),
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
        """Write ``idata`` as netCDF (atomically: a temporary file renamed into place)."""
        target = Path(path)
        handle, temporary = tempfile.mkstemp(
            suffix=".nc", prefix=f".{target.name}.", dir=target.parent
        )
        os.close(handle)
        try:
            self.idata.to_netcdf(temporary)
            os.replace(temporary, target)
        finally:
            if os.path.exists(temporary):
                os.remove(temporary)
        return target

    def __repr__(self) -> str:
        post = self.idata.posterior
        n = post.sizes["chain"] * post.sizes["draw"]
        rows = self.problem.n_rows
        return f"Fit({self.spec.name!r}, method={self.method!r}, draws={n}, rows={rows})"
