"""Tables of ``synthbio twin``: the stratified train/holdout split.

The twin is fitted to the train rows only; the holdout rows are the real rows it never
saw, which the utility and privacy scores need.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from synthbio_ppl.core.errors import SpecError

if TYPE_CHECKING:  # pandas loads when the command runs, not when it is registered
    import pandas as pd


def stratified_split(
    frame: pd.DataFrame, label: str, share: float, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(train, holdout): in each class ``round(share·n_c)`` rows (at least 1 when
    ``share`` > 0) drawn at random go to the holdout; both keep the input's row order."""
    import numpy as np
    import pandas as pd

    from synthbio_ppl.twins.columns import MIN_ROWS_PER_CLASS

    if share == 0:
        return frame.reset_index(drop=True), frame.iloc[:0].reset_index(drop=True)
    rng = np.random.default_rng(seed)
    codes, _ = pd.factorize(frame[label], sort=True)
    held = np.zeros(len(frame), dtype=bool)
    for code in range(codes.max() + 1):
        rows = np.flatnonzero(codes == code)
        k = max(1, round(share * len(rows)))
        if len(rows) - k < MIN_ROWS_PER_CLASS:
            cls = frame[label].iloc[rows[0]]
            raise SpecError(
                "--holdout",
                share,
                f"leaves class {_plain(cls)!r} {len(rows) - k} training row(s) of {len(rows)}; "
                f"the twin needs at least {MIN_ROWS_PER_CLASS}: lower --holdout",
            )
        held[rng.choice(rows, size=k, replace=False)] = True
    return frame[~held].reset_index(drop=True), frame[held].reset_index(drop=True)


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python number it holds (for JSON and messages)."""
    import numpy as np

    return value.item() if isinstance(value, np.generic) else value
