"""Fitting a spec's model back to data: the generator is the likelihood.

``fit(spec, data)`` runs ``dataset_model(layout, design, X)`` with ``X`` observed, the row
design (class labels, batch, pseudo-class groups) fixed, and priors on the parameter sites
the spec fixed when generating (each process declares its priors next to its model; the
table is in docs/fitting.md and ``synthbio reference``).

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
  ρ ≠ 0, through e·α, so a fit holds it at the spec's value unless given a prior; e's
  sign is fixed by α ≥ 0.
- The bounded correlation priors are sampled in unconstrained space (NumPyro's interval
  transform), so NUTS never proposes a ρ outside the positive-definite range.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Mapping
from functools import partial
from pathlib import Path
from typing import Any, Literal

import jax
import jax.numpy as jnp
import numpy as np
import numpyro.distributions as dist
import pandas as pd

from synthbio_ppl.core.cache import enable_compilation_cache
from synthbio_ppl.core.errors import SpecError, check_seed
from synthbio_ppl.core.fit_settings import MODEL_FIT_SETTINGS, resolve_settings
from synthbio_ppl.core.precision import precision
from synthbio_ppl.data.dataset import Dataset
from synthbio_ppl.inference.arviz_data import to_inference_data
from synthbio_ppl.inference.diagnostics import check_draws
from synthbio_ppl.inference.kernels import STATS, init_to_data, starts_from_data
from synthbio_ppl.inference.likelihood import row_latents
from synthbio_ppl.inference.memory import check_fit_memory, compiled
from synthbio_ppl.inference.problem import Problem, build_problem
from synthbio_ppl.inference.programs import (
    device_design,
    guide_kind,
    pointwise_loglik,
    program_inputs,
)
from synthbio_ppl.inference.result import Fit
from synthbio_ppl.inference.stepped import nuts_stepped, run_nuts, run_svi, svi_stepped
from synthbio_ppl.model.dataset_model import RowDesign
from synthbio_ppl.model.scene import Spec
from synthbio_ppl.processes.registry import MODIFIERS, modifier_of, process_of

Method = Literal["nuts", "svi"]
__all__ = ["Fit", "fit"]


def fit(
    spec: Spec | dict[str, Any] | str | Path | None,
    data: Dataset | pd.DataFrame,
    method: Method = "nuts",
    *,
    labels: pd.Series | np.ndarray | list[Any] | None = None,
    design: pd.DataFrame | RowDesign | None = None,
    fixed: Mapping[str, Any] | None = None,
    priors: Mapping[str, dist.Distribution] | None = None,
    num_warmup: int | None = None,
    num_samples: int = 1000,
    num_chains: int | None = None,
    seed: int = 0,
    progress: bool = True,
    target_accept: float | None = None,
    svi_steps: int | None = None,
    learning_rate: float | None = None,
    guide: Literal["auto", "normal", "mvn"] = "auto",
    noncentred: bool | None = None,
    log_likelihood: bool = True,
    backend: Literal["program", "mcmc"] = "program",
    missing: Literal["model", "ignore"] = "model",
) -> Fit:
    """Fit the spec's model to ``data`` (a Dataset, or a DataFrame of the spec's columns).

    ``spec`` may be None for a Dataset (its own spec). ``labels`` (one per row, the spec's
    class names) default to ``data.y`` or a ``y`` column; ``design`` (columns ``batch``,
    ``<block>_group``) to the Dataset's covariates or the frame's own columns.

    NUTS: ``num_chains`` (default 1) chains of ``num_warmup`` (1000) adapting steps at
    ``target_accept`` (0.8) and ``num_samples`` draws,
    as compiled programs reused for data of the same shape (``backend="mcmc"`` runs
    ``numpyro.infer.MCMC`` instead; it recompiles on every call). ``progress`` prints the
    fit's start and end and shows a bar of its steps (warmup and draws, or SVI steps),
    moved up to 40 times; the draws do not depend on it.
    SVI: a guide (``auto``: full-rank normal up to 200 latent dimensions, else mean-field)
    fitted for ``svi_steps`` (5000) Adam steps (step size decaying from ``learning_rate``,
    0.01, to a tenth), then ``num_samples`` draws from it. A setting of the other method is
    refused (SpecError naming it), not ignored (``core.fit_settings.MODEL_FIT_SETTINGS``).
    ``noncentred`` (default: only when batch effects are one per batch) samples β = s·z,
    z ~ N(0, 1).

    Missing cells (NaN, in columns a ``missing:`` entry hides): ``missing="model"`` fits
    each entry's mechanism with the features, the hidden cells latent where the mask
    depends on them (MNAR); ``"ignore"`` fits the observed cells alone, which is right
    for MCAR and MAR and biased for MNAR (Little & Rubin 2019, ch. 6).
    """
    if method not in ("nuts", "svi"):
        raise SpecError("method", method, "must be 'nuts' or 'svi'")
    if backend not in ("program", "mcmc"):
        raise SpecError("backend", backend, "must be 'program' or 'mcmc'")
    if backend == "mcmc" and method != "nuts":
        raise SpecError("backend", backend, "runs NUTS only; leave it out for SVI")
    given = {"num_warmup": num_warmup, "num_chains": num_chains, "svi_steps": svi_steps}
    given |= {"target_accept": target_accept, "learning_rate": learning_rate}
    settings = resolve_settings(MODEL_FIT_SETTINGS, method, given)
    counts = {name: settings[name] for name in ("num_warmup", "num_chains", "svi_steps")}
    counts = {"num_samples": num_samples, **{k: v for k, v in counts.items() if v is not None}}
    for name, value in counts.items():
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
            raise SpecError(name, value, "must be a whole number ≥ 1")
        if value >= 2**31:  # the compiled loops count in int32
            raise SpecError(name, f"{value:,}", f"must be below 2^31 ({2**31:,})")
    for name, flag in (("log_likelihood", log_likelihood), ("progress", progress)):
        if not isinstance(flag, bool | np.bool_):
            raise SpecError(name, flag, "must be True or False")
    # resolved for the method (None for the other method's: they are not used)
    num_warmup, num_chains = settings["num_warmup"], settings["num_chains"]
    target_accept, svi_steps = settings["target_accept"], settings["svi_steps"]
    learning_rate = settings["learning_rate"]
    check_seed(seed)
    if fixed is not None and not isinstance(fixed, Mapping):
        raise SpecError("fixed", type(fixed).__name__, "must be a mapping {site: value}")
    if priors is not None and not isinstance(priors, Mapping):
        raise SpecError("priors", type(priors).__name__, "must be a mapping {site: distribution}")
    problem = build_problem(
        spec, data, labels=labels, design=design, fixed=fixed, priors=priors, missing=missing
    )
    enable_compilation_cache()
    layout = problem.layout
    # LOO and WAIC need a likelihood that is a sum over rows; a count block whose DE
    # states are summed out per gene and class has none.
    log_likelihood = log_likelihood and all(
        process_of(b.kind).pointwise(b, layout.n_classes) for b in layout.blocks
    )
    if noncentred is None:
        noncentred = any(modifier_of(m.field).noncentred_default(m) for m in layout.modifiers)
    key = jax.random.PRNGKey(seed)
    started = time.perf_counter()
    if progress:
        what = (
            f"SVI, {svi_steps} steps"
            if method == "svi"
            else f"NUTS, {num_chains} chain(s) × ({num_warmup} warmup + {num_samples} draws)"
        )
        print(f"fitting {problem.spec.name} ({what})")
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
            n_draws = num_chains * num_samples
            check = partial(_checked, problem=problem, draws=n_draws, loglik=log_likelihood)
            samples, fields, loglik = run_nuts(
                nuts_stepped(layout, noncentred, *nuts), key, args, num_warmup, check, progress
            )
            stats = _nuts_stats(fields)
        else:
            deterministic = [s.name for s in problem.sites.values() if s.deterministic]
            decentred = (f"{n}_decentered" for m in MODIFIERS for n in m.noncentred_sites)
            latents = (*row_latents(layout), *problem.hidden_latents)
            sites = (*problem.free, *deterministic, *latents, *decentred)
            kind = guide_kind(problem, guide)
            svi = (svi_steps, learning_rate, kind, num_samples, sites, log_likelihood)
            check = partial(_checked, problem=problem, draws=num_samples, loglik=log_likelihood)
            draws, lp, loglik, losses = run_svi(
                svi_stepped(layout, noncentred, *svi), key, args, svi_steps, check, progress
            )
            samples = jax.tree.map(lambda v: v[None], draws)  # one "chain" of guide draws
            stats = {"lp": np.asarray(lp)[None]}
            loglik = None if loglik is None else loglik[None]
        samples = {k: np.asarray(v) for k, v in samples.items() if not k.endswith("_decentered")}
        loglik = None if loglik is None else np.asarray(loglik)
    check_draws(samples, problem.free, stats, losses, method)
    idata = to_inference_data(problem, samples, stats, loglik, method)
    if progress:
        print(f"done in {time.perf_counter() - started:.1f} s")
    return Fit(idata=idata, method=method, problem=problem, losses=losses)


def _checked(program: Any, *args: Any, problem: Problem, draws: int, loglik: bool) -> Any:
    """``program`` compiled for ``args`` (arrays or their shapes), refused if running it
    would exceed the memory limit (``inference.memory``) with advice on what the fit
    (``draws`` draws, with the pointwise log-likelihood if ``loglik``) still holds."""
    executable = compiled(program, *args)
    what = f"{problem.n_rows:,} rows × {problem.X.shape[1]:,} features, {draws:,} draws"
    options = ["ask for fewer draws (num_samples, --samples)"]
    if loglik:
        options.append(
            "leave out the pointwise log-likelihood (log_likelihood=False, --no-log-likelihood)"
        )
    options.append("fit a sample of the rows (sb.fit on a subset of the table)")
    check_fit_memory(executable, problem.X.nbytes, what, ", ".join(options))
    return executable


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
    from numpyro.infer.initialization import init_to_uniform

    chain_method = "parallel" if jax.local_device_count() >= num_chains else "sequential"
    args = (device_design(problem.design), jnp.asarray(problem.X))
    mcmc_kw = {} if problem.hidden is None else {"hidden": jnp.asarray(problem.hidden)}
    model = problem.model(noncentred)
    # as ``kernels.nuts_chain``: NumPyro's own start unless a site starts from the data
    data_starts = bool(mcmc_kw) or starts_from_data(model, *args, mcmc_kw)
    mcmc = MCMC(
        NUTS(
            model,
            target_accept_prob=target_accept,
            init_strategy=init_to_data if data_starts else init_to_uniform,
        ),
        num_warmup=num_warmup,
        num_samples=num_samples,
        num_chains=num_chains,
        chain_method=chain_method,
        progress_bar=progress,
    )
    with warnings.catch_warnings():
        # NumPyro checks the initial trace with validation on; bounded families (lognormal,
        # gamma, ...) put some data outside the support of a random initial shape parameter.
        warnings.filterwarnings("ignore", message="Out-of-support values")
        mcmc.run(key, *args, extra_fields=STATS, **mcmc_kw)
    samples = mcmc.get_samples(group_by_chain=True)
    loglik = None
    if with_loglik:
        flat = {k: v.reshape(-1, *v.shape[2:]) for k, v in samples.items()}
        values = pointwise_loglik(problem.layout, flat, *args, program_inputs(problem))
        loglik = np.asarray(values).reshape(num_chains, num_samples, -1)
    return samples, _nuts_stats(mcmc.get_extra_fields(group_by_chain=True)), loglik
