"""Refuse a twin whose fit or correlation matrices would not fit in memory, before the fit.

The fit holds, per class, a rank-r factor loading of the p numeric columns: C·p·(r + 3)
parameters (loadings, their diagonal, locations, noise sds) besides the p powers and the
categorical logits. The peak resident memory of a fit grows by about 96 float32 values per
parameter, plus three per parameter and draw kept (one draw for MAP, ``num_samples``
otherwise), over a fixed 400 MiB of runtime and compilation: constants read off measured
peaks (``benchmarks/bench_twin_memory.py``, p = 200 to 1,600, MAP and SVI, within 8%),
not derived. The per-class r×r capacitance matrices and the padded table's per-row
temporaries are added. Correlation matrices (the fidelity report, ``Twin.correlation``)
hold a few (p, p) float64 arrays. The limit is the engine's (``SYNTHBIO_MEMORY_LIMIT`` or
80% of physical memory).
"""

from __future__ import annotations

from synthbio_ppl.core.errors import SpecError
from synthbio_ppl.engine.budget import LIMIT_VARIABLE, memory_limit, readable_size

MAX_SAMPLE_ROWS = 2**40
"""The most rows ``Twin.sample`` draws (class counts are int64 roundings)."""
_WORKING_COPIES = 96
"""Float32 values per parameter at the fit's peak (measured, see the module docstring)."""
_COPIES_PER_DRAW = 3
"""Float32 values per parameter and draw kept (device, host and the draws' dictionary)."""
_RUNTIME = 400 * 2**20
"""Bytes of JAX's runtime and the compiled programs, whatever the table."""
_ROW_TEMPORARIES = 10
"""(rows, columns) float32 arrays the likelihood holds at once (residuals, scalings, masks)."""
_CORRELATION_COPIES = 6
"""(p, p) float64 arrays of a pairwise-complete correlation (counts, sums, cross products)."""


def fit_bytes(
    n_rows: int, n_numeric: int, n_levels: int, n_classes: int, rank: int, n_draws: int
) -> int:
    """Peak bytes of fitting a twin: ``n_levels`` categorical levels in all, ``n_draws``
    draws kept (1 for MAP)."""
    parameters = n_classes * n_numeric * (rank + 3) + n_numeric + n_classes * n_levels
    total = _RUNTIME + 4 * parameters * (_WORKING_COPIES + _COPIES_PER_DRAW * n_draws)
    total += 4 * 6 * n_classes * rank * rank  # capacitance, Cholesky, whitening
    total += 4 * n_rows * (_ROW_TEMPORARIES * (n_numeric + n_levels) + 2 * n_classes * rank)
    return total


def correlation_bytes(n_numeric: int) -> int:
    """Peak bytes of one (p, p) correlation matrix with pairwise-complete temporaries."""
    return 8 * _CORRELATION_COPIES * n_numeric * n_numeric


def check_twin_budget(
    n_rows: int, n_numeric: int, n_levels: int, n_classes: int, rank: int, n_draws: int
) -> None:
    """Raise SpecError (naming ``data``) when the fit or the report's correlation matrices
    of such a table would exceed the memory limit."""
    fit = fit_bytes(n_rows, n_numeric, n_levels, n_classes, rank, n_draws)
    need, limit = max(fit, correlation_bytes(n_numeric)), memory_limit()
    if need > limit:
        raise SpecError(
            "data",
            f"{n_rows:,} rows × {n_numeric:,} numeric columns (rank {rank}, {n_draws} draws)",
            f"needs about {readable_size(need)}, over the memory limit "
            f"{readable_size(limit)}; give fewer columns, a smaller rank, method='map' or "
            f"fewer num_samples, or raise {LIMIT_VARIABLE}",
        )


def check_sample_budget(n_rows: int, n_columns: int, field: str = "n") -> None:
    """Raise SpecError (naming ``n``) when sampling ``n_rows`` rows of ``n_columns``
    columns would exceed the memory limit: the draws, a redraw round, the table and
    pandas' copy, about 8 float64 values a cell."""
    need, limit = 64 * n_rows * max(n_columns, 1), memory_limit()
    if need > limit:
        raise SpecError(
            field,
            f"{n_rows:,} rows × {n_columns:,} columns",
            f"needs about {readable_size(need)}, over the memory limit "
            f"{readable_size(limit)}; sample fewer rows (in batches with other seeds), or "
            f"raise {LIMIT_VARIABLE}",
        )
