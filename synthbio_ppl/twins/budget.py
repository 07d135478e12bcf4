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

A refusal advises only the changes that would bring the estimate under the limit, in the
caller's names (``Spelling``: ``sb.twin``'s arguments, or the command line's options);
when the fixed part alone is over the limit, it says that only a higher limit helps.
"""

from __future__ import annotations

from typing import NamedTuple

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


class Spelling(NamedTuple):
    """How the caller names the table and the settings the refusal advises changing."""

    data: str = "data"
    rank: str = "rank"
    map: str = "method='map'"
    samples: str = "num_samples"


PYTHON = Spelling()
"""``sb.twin``'s argument names (the command line passes its options' names)."""


def twin_bytes(
    n_rows: int, n_numeric: int, n_levels: int, n_classes: int, rank: int, n_draws: int
) -> int:
    """Peak bytes of a twin: its fit or the report's correlation matrix, the larger."""
    fit = fit_bytes(n_rows, n_numeric, n_levels, n_classes, rank, n_draws)
    return max(fit, correlation_bytes(n_numeric))


def least_twin_bytes(n_classes: int) -> int:
    """The least any twin needs, whatever the table and settings: one row per class, one
    numeric column, rank 1, one draw (mostly the runtime's fixed part)."""
    return twin_bytes(n_classes, 1, 0, n_classes, 1, 1)


def check_twin_budget(
    n_rows: int,
    n_numeric: int,
    n_levels: int,
    n_classes: int,
    rank: int,
    n_draws: int,
    names: Spelling = PYTHON,
) -> None:
    """Raise SpecError (naming ``data``, or ``names.data``) when the fit or the report's
    correlation matrices of such a table would exceed the memory limit. The advice names
    only the changes that bring the estimate under the limit (each alone if one does),
    spelled as the caller's arguments (``names``); when the fixed part alone exceeds the
    limit, it says so."""
    sizes = (n_rows, n_numeric, n_levels, n_classes, rank, n_draws)
    need, limit = twin_bytes(*sizes), memory_limit()
    if need <= limit:
        return
    draws = f"{n_draws} draw" + ("" if n_draws == 1 else "s")
    shown = f"{n_rows:,} rows × {n_numeric:,} numeric columns (rank {rank}, {draws})"
    over = f"needs about {readable_size(need)}, over the memory limit {readable_size(limit)}"
    least = least_twin_bytes(n_classes)
    if least > limit:
        raise SpecError(
            names.data,
            shown,
            f"{over}; a twin needs at least about {readable_size(least)} whatever the table "
            f"and settings (JAX's runtime and the compiled fit): raise {LIMIT_VARIABLE}",
        )
    smaller = {  # each change taken as far as it goes: what the twin would then need
        "fewer columns": twin_bytes(n_rows, 1, 0, n_classes, 1, n_draws),
        "fewer rows": twin_bytes(n_classes, n_numeric, n_levels, n_classes, rank, n_draws),
        f"a smaller {names.rank}": twin_bytes(n_rows, n_numeric, n_levels, n_classes, 1, n_draws),
        names.map: twin_bytes(n_rows, n_numeric, n_levels, n_classes, rank, 1),
        f"fewer {names.samples}": twin_bytes(n_rows, n_numeric, n_levels, n_classes, rank, 1),
    }
    helps = [change for change, after in smaller.items() if after < need]
    enough = [change for change in helps if smaller[change] <= limit]
    advice = _either(enough, "or") if enough else f"{_either(helps, 'and')} together"
    raise SpecError(names.data, shown, f"{over}; give {advice}, or raise {LIMIT_VARIABLE}")


def _either(phrases: list[str], word: str) -> str:
    """'a', 'a or b', 'a, b or c' (with ``word`` for 'or')."""
    if len(phrases) < 2:
        return "".join(phrases)
    return f"{', '.join(phrases[:-1])} {word} {phrases[-1]}"


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
