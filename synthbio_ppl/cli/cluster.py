"""``synthbio cluster DATA``: run the clustering check on a dataset folder and print it.

The handler ``run_cluster`` scores clusters against the truth with
``clustering.check.cluster_check``; the arguments are registered in ``cli.app``.
scikit-learn loads when the command runs, matplotlib only when a plot is written.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from synthbio_ppl.clustering.check import chosen, cluster_check, plot_cluster_check
from synthbio_ppl.core.errors import SpecError


def run_cluster(args: argparse.Namespace) -> None:
    """Handler of ``synthbio cluster``: print the table and the chosen k per setting."""
    from synthbio_ppl.data.dataset import load_dataset

    if any(k < 2 for k in args.k):
        raise SpecError("--k", args.k, "every k must be ≥ 2")
    if args.plot:
        _check_plot_format(Path(args.plot))
    data = load_dataset(args.data)
    table = cluster_check(
        data,
        truth_labels=list(args.by),
        k_range=args.k,
        methods=args.methods,
        scalings=args.scalings,
        n_bootstrap=args.bootstrap,
        seed=args.seed,
        columns=args.columns,
    )
    pd.set_option("display.width", 120)
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(f"\nchosen k (silhouette for kmeans, BIC for gmm) vs {'/'.join(args.by)}:")
    print(chosen(table).to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    if args.csv:
        table.to_csv(args.csv, index=False)
    if args.plot:
        plot_cluster_check(table).savefig(Path(args.plot), dpi=120)


def _check_plot_format(path: Path) -> None:
    """Refuse a figure format matplotlib cannot write before the (long) clustering runs."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    formats = sorted(FigureCanvasAgg(Figure()).get_supported_filetypes())
    if path.suffix.lstrip(".").lower() not in formats:
        raise SpecError("--plot", str(path), f"needs a figure format: {', '.join(formats)}")
