"""Rows per class of a sampled twin (``Twin.sample``'s ``balance``), checked.

``balance`` is None (the real table's balance), ``"equal"``, or a mapping class → weight:
whole numbers that add up to ``n`` (or with ``n`` omitted) are row counts, any other
weights are shares, relative to each other, rounded to rows by largest remainders. A
class given a share above 0 gets a row, as every class does in
``make_biomedical_classification``'s weights: a share that rounds to no row is refused,
saying the share and the rows that would give it one, not dropped silently; a share of 0
leaves the class out.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping
from numbers import Integral, Real
from typing import Any

import numpy as np

from synthbio_ppl.core.errors import SpecError
from synthbio_ppl.core.rounding import largest_remainder
from synthbio_ppl.twins.budget import MAX_SAMPLE_ROWS


def class_counts(balance: Any, real: Mapping[Hashable, int], n: int | None) -> dict[Hashable, int]:
    """Rows per class (in ``real``'s order) for ``n`` rows (None: as many as ``real``
    holds) in the ``balance`` asked for; SpecError naming ``balance`` (or
    ``balance.<class>`` for a share that is not a number) or ``n``."""
    classes = list(real)
    if isinstance(balance, Mapping):
        unknown = [str(k) for k in balance if k not in classes]
        if unknown:
            raise SpecError("balance", unknown, f"classes are {classes}")
        for cls, share in balance.items():
            if isinstance(share, bool) or not isinstance(share, Real):
                raise SpecError(f"balance.{cls}", share, "a share must be a number (int or float)")
        given = np.array([float(balance.get(c, 0)) for c in classes])
        if not np.isfinite(given).all() or (given < 0).any() or given.max() <= 0:
            allowed = "needs finite, non-negative values, not all 0"
            raise SpecError("balance", dict(balance), allowed)
        total = sum(given.tolist())  # inf (no warning) for shares near 1e308: not counts
        whole = np.allclose(given, np.round(given)) and 1.0 + 1e-9 < total < 2**63
        if whole and (n is None or round(total) == n):
            return dict(zip(classes, np.round(given).astype(int).tolist(), strict=True))
        relative = given / given.max()  # the sum of shares near 1e308 would overflow
        shares = relative / relative.sum()
    elif isinstance(balance, str) and balance == "equal":
        shares = np.full(len(classes), 1.0 / len(classes))
    elif balance is None:
        shares = np.array([real[c] for c in classes], dtype=float)
        shares /= shares.sum()
    else:
        raise SpecError("balance", balance, "must be None, 'equal' or a mapping class → share")
    n = sum(real.values()) if n is None else n
    if isinstance(n, bool) or not isinstance(n, Integral) or n < 1:
        raise SpecError("n", n, "must be a whole number (int) ≥ 1")
    if isinstance(balance, Mapping):
        return rows_per_class(dict(zip(classes, shares.tolist(), strict=True)), n, dict(balance))
    return dict(zip(classes, largest_remainder(n, shares).tolist(), strict=True))


def rows_per_class(
    shares: Mapping[Hashable, float], n: int, given: Any, names: tuple[str, str] = ("balance", "n")
) -> dict[Hashable, int]:
    """``n`` rows split by ``shares`` (relative, not all 0) by largest remainders; a class
    with a share above 0 that rounds to no row raises SpecError naming ``names[0]`` (the
    balance, shown as ``given``), with the share and the rows (``names[1]``) that would
    give it one."""
    counts = largest_remainder(n, np.array(list(shares.values()), dtype=float))
    total = sum(shares.values())
    option, rows = names
    for (cls, share), count in zip(shares.items(), counts.tolist(), strict=True):
        if share > 0 and count == 0:
            part = n * (share / total)  # of a row
            enough = part > 0 and n / part <= MAX_SAMPLE_ROWS
            more = f", or {rows} ≥ {math.ceil(n / part):,}" if enough else ""
            raise SpecError(
                option,
                given,
                f"{n:,} rows give class {cls!r} {part:.2g} of a row, which rounds to none; "
                f"give each class a share of at least 1/{n:,} of the total (0 leaves a class "
                f"out){more}",
            )
    return dict(zip(shares, counts.tolist(), strict=True))
