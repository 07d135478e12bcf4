"""The protocol of a process that hides cells of other blocks' columns (missing values).

A mask process acts after the values are drawn: it reads them (and the row design), and
returns which cells of its columns are hidden. It is listed (``many``): each entry of its
spec field is one mask over a set of columns, with its own sites ``<entry>.<param>``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from synthbio_ppl.core.lazy import np
from synthbio_ppl.core.priors import Prior
from synthbio_ppl.processes.block import Block

if TYPE_CHECKING:
    import numpyro
    from jax import Array


class MaskModifier:
    """Hides cells: ``sample`` returns a (rows, n_affected) boolean mask (True: hidden).

    Its parameters are fixed for generation in two steps: ``fixed_sites`` (from the spec
    alone) and ``solve`` (from the row design and, where ``needs_rows``, the values of the
    dataset's first rows), so that the realised share of hidden cells is the spec's.
    """

    field: str
    spec_model: type[BaseModel]
    description: str = ""
    priors: tuple[Prior, ...] = ()
    truth_field: str | None = None
    many = True
    prefix: str = ""
    site_prefix = "<entry>"
    """How the reference names its sites' prefix (each entry's name)."""
    slope_field: str | None = None
    """The entry's field whose size sets the solved sites' (a mechanism's strength): named
    when they overflow the dtype."""

    def reference_sections(self) -> list[tuple[str, type[BaseModel]]]:
        return [(f"{self.field}[]", self.spec_model)]

    @property
    def switch(self) -> str:
        """The name ``without=`` gives to hide no cell (every entry of its field)."""
        return self.field

    def entry_name(self, group: Any, index: int) -> str:
        return getattr(group, "name", None) or f"{self.prefix}{index}"

    def summary(self, group: Any) -> str | None:
        return None

    def layout(
        self,
        group: Any,
        index: int,
        blocks: list[Block],
        selectors: dict[str, str],
        columns: Callable[[Block], list[str]],
        has_column: Callable[[Block, str], bool],
        design_names: dict[str, int] | None = None,
    ) -> Any:
        """Its static layout (hashable, with ``field``, ``name`` and ``affected`` ranges);
        ``columns`` lists a block's column names, ``has_column`` tests one without listing
        them; ``design_names`` maps the per-row design columns it may read to level counts."""
        raise NotImplementedError

    def check_scene(
        self, groups: list[Any], statics: list[Any], spec: Any, taken: set[str]
    ) -> None:
        """Scene-wide rules; ``taken`` holds the site prefixes of blocks and modifiers."""

    def fixed_sites(self, group: Any, static: Any) -> dict[str, Any]:
        return {}

    def needs_rows(self, static: Any) -> bool:
        """Whether ``solve`` needs drawn values (columns, drawn covariates)."""
        return False

    def needs_values(self, static: Any) -> bool:
        """Whether a fit must impute the hidden cells (the mask depends on them)."""
        return False

    def solve(
        self,
        group: Any,
        static: Any,
        codes: dict[str, tuple[np.ndarray, np.ndarray]],
        values: np.ndarray | None,
    ) -> dict[str, Any]:
        """Site values that make the expected share of hidden cells the spec's: ``codes``
        ``{design column: (levels, rows at each)}`` for ``y``, ``batch`` and the design
        columns (every row's for the design's own, the pilot rows' for drawn ones),
        ``values`` (pilot rows, features) or None."""
        return {}

    def placeholder_sites(self, static: Any) -> dict[str, Any]:
        """Site values that hide nothing (a pilot draw before ``solve``)."""
        return {}

    def sample(self, static: Any, X: Array, codes: dict[str, Array], plate: numpyro.plate) -> Array:
        """The (rows, n_affected) mask, drawn (generation and simulation)."""
        raise NotImplementedError

    def logits(self, static: Any, X: Array, codes: dict[str, Array]) -> Array:
        """Each cell's log-odds of going missing, (rows, n_affected), sampling the
        parameter sites: a fit combines the entries' probabilities per cell."""
        raise NotImplementedError

    def scores(self, static: Any, X: Array, codes: dict[str, Array], plate: Any) -> Array:
        """Per-cell scores of an ``exact`` entry: its k largest per column go missing."""
        raise NotImplementedError

    def exact_count(self, group: Any, n_rows: int) -> int:
        """Missing cells per column of an ``exact`` entry."""
        raise NotImplementedError

    def mask_site(self, static: Any) -> str:
        """The name of its (rows, n_affected) mask site."""
        return f"{static.name}.mask"

    def fit_check(self, group: Any, static: Any, path: str) -> None:
        """Raise SpecError when a fit cannot use this entry."""

    def constant_sites(self, static: Any) -> list[str]:
        """Sites that are constants of the design (a fit fixes them to the truth's)."""
        return []

    def estimate_constants(self, static: Any, observed: np.ndarray) -> dict[str, np.ndarray]:
        """``constant_sites`` estimated from a table's observed cells (NaN: missing), for a
        fit without the truth."""
        return {}

    def truth(
        self, group: Any, static: Any, sites: dict[str, np.ndarray], columns: list[str]
    ) -> Any:
        return None

    def truth_to_json(self, value: Any, frame_out: Callable[[Any], Any]) -> Any:
        return value

    def truth_from_json(self, data: Any, frame_in: Callable[[Any], Any]) -> Any:
        return data
