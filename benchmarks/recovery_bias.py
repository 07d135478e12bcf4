"""Bias of a fit over repeated seeds: the mean standardised error z = (mean − truth) / sd.

Not a speed benchmark: a statistical check too slow for ``make test``. A calibrated,
unbiased fit gives a mean z within sampling error of 0 (its standard error is printed).

    .venv/bin/python benchmarks/recovery_bias.py --seeds 200
    .venv/bin/python benchmarks/recovery_bias.py --seeds 200 --free-alpha

A fit holds the cluster's α (``proxy_attenuation``) at the spec's value by default;
``--free-alpha`` fits it under its model prior, N(1, 1) truncated at 0.
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np

import synthbio_ppl as sb

SITES = ("clu0.anchor_effect", "clu0.proxy_attenuation", "clu0.correlation")


def scene(seed: int) -> dict:
    """A two-class cluster of 4 features (ρ = 0.5, anchor d = 0.8), 40 rows per class."""
    return {
        "name": "bias",
        "seed": seed,
        "classes": [{"name": "a", "n": 40}, {"name": "b", "n": 40}],
        "clusters": [{"n": 4, "correlation": 0.5, "anchor_effect": 0.8}],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=100)
    parser.add_argument("--fix", action="append", default=[], help="site=value, held fixed")
    parser.add_argument("--free-alpha", action="store_true", help="fit α under its prior")
    args = parser.parse_args()
    fixed = {k: float(v) for k, v in (item.split("=", 1) for item in args.fix)}
    priors = None
    if args.free_alpha:
        from synthbio_ppl.processes.clusters import PROXY_ATTENUATION

        priors = {"clu0.proxy_attenuation": PROXY_ATTENUATION.make()}
    z: dict[str, list[float]] = {}
    warnings.simplefilter("ignore", RuntimeWarning)
    for seed in range(args.seeds):
        data = sb.generate(scene(seed))
        fit = sb.fit(
            None,
            data,
            num_warmup=300,
            num_samples=400,
            seed=seed,
            fixed=fixed or None,
            priors=priors,
            progress=False,
        )
        table = fit.recovery()
        for label, row in table[table["site"].isin(SITES)].iterrows():
            z.setdefault(str(label), []).append(float(row["z"]))
    for label, values in z.items():
        v = np.asarray(values)
        se = v.std(ddof=1) / np.sqrt(len(v))
        print(f"{label:32s} mean z {v.mean():+.3f} ± {se:.3f} (n = {len(v)})")


if __name__ == "__main__":
    main()
