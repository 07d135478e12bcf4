"""The protocol of a process that acts on other blocks' columns (batch effects)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from synthbio_ppl.core.lazy import np
from synthbio_ppl.core.priors import Prior
from synthbio_ppl.processes.block import Block, RowDesign

if TYPE_CHECKING:
    from jax import Array


class ColumnModifier:
    """A process that acts on other blocks' columns (batch effects).

    It has a static layout (``layout``, hashable, with a ``field`` attribute naming the
    spec field), may assign rows (``assign``: a class × level table of exact counts, whose
    row codes the design keeps), and gives the affected columns per-level shifts or scales
    that the dataset model gathers per row (``column_effects``, ``row_codes``).
    """

    field: str
    spec_model: type[BaseModel]
    description: str = ""
    priors: tuple[Prior, ...] = ()
    truth_field: str | None = None
    site_prefix: str = ""
    design_names: tuple[str, ...] = ()
    """The design columns it reads (``batch``): reserved for it."""
    design_stream: str = ""
    """The name of the row permutation that places its assignment within each class."""
    noncentred_sites: tuple[str, ...] = ()
    """Latent sites a fit may sample non-centred (β = s·z)."""

    def reference_sections(self) -> list[tuple[str, type[BaseModel]]]:
        return [(self.field, self.spec_model)]

    def summary(self, group: Any) -> str | None:
        """A line for ``synthbio describe``."""
        return None

    def check_rows(self, group: Any, n_rows: int) -> None:
        """Checks against the spec's total number of rows."""

    # -- layout and generation
    def layout(
        self,
        group: Any,
        blocks: list[Block],
        selectors: dict[str, str],
        columns: Callable[[Block], list[str]],
    ) -> Any:
        """Its static layout; ``selectors`` maps block-kind names users may give to kinds."""
        raise NotImplementedError

    def memory_bytes(self, layout: Any, n_classes: int, n_features: int) -> int:
        """Peak bytes it adds to generating a table (``engine.budget``)."""
        return 0

    def fixed_sites(self, group: Any) -> dict[str, Any]:
        return {}

    def assign(self, group: Any, class_counts: np.ndarray) -> np.ndarray | None:
        """A class × level table of exact row counts, or None when it assigns no rows."""
        return None

    def column_effects(self, layout: Any, n_features: int) -> tuple[Array | None, Array | None]:
        """Per-level (levels, n_features) column shifts and scales; None for the identity."""
        return None, None

    def switches(self, layout: Any) -> dict[str, dict[str, Any]]:
        """What ``without=`` may switch off: ``{name: {site: value}}``, the values of its
        effect sites that make its effects the identity."""
        return {}

    def affected_ranges(self, layout: Any) -> tuple[tuple[int, int], ...]:
        """The columns its effects act on, as half-open ranges (an outcome undoes them)."""
        return ()

    def row_codes(self, design: RowDesign) -> Array:
        """Each row's level, which picks its row of the column effects."""
        raise NotImplementedError

    # -- fitting
    def design_columns(self, layout: Any) -> dict[str, list[str]]:
        """Per-row design columns it reads: ``{column: level names}``."""
        return {}

    def noncentred_default(self, layout: Any) -> bool:
        return False

    def coords_and_dims(
        self, layout: Any, columns: list[str], sites: dict[str, tuple[int, ...]]
    ) -> tuple[dict[str, list[Any]], dict[str, list[str]]]:
        """ArviZ coordinates and the dims of its sites."""
        return {}, {}

    # -- truth
    def feature_columns(self, layout: Any, n_features: int) -> dict[str, np.ndarray]:
        """Columns it adds to the truth's feature table (one value per feature)."""
        return {}

    def truth(
        self,
        group: Any,
        layout: Any,
        table: np.ndarray | None,
        sites: dict[str, np.ndarray],
        class_names: list[str],
        columns: list[str],
    ) -> Any | None:
        """Its own truth (stored in ``Truth.<truth_field>``)."""
        return None

    def truth_to_json(self, value: Any, frame_out: Callable[[Any], Any]) -> Any:
        return value

    def truth_from_json(self, data: Any, frame_in: Callable[[Any], Any]) -> Any:
        return data
