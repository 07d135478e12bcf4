"""The protocol of a process that draws a per-row outcome from the drawn features (y | x).

A response process acts after every block: it reads the complete values, the row design
codes and the per-row outputs of the blocks (a scene's drawn covariates), and draws each
row's outcome. It is a single group (``outcome:``), with sites ``<name>.<param>``. When
fitting, the table's outcome columns are observed through the same sites
(``RowDesign.outcome``). A binary outcome replaces the class design: ``labels`` names its
levels and the table's ``y`` holds them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from synthbio_ppl.core.priors import Prior
from synthbio_ppl.processes.block import Block, LatentRange

if TYPE_CHECKING:
    import numpy as np
    import numpyro
    import pandas as pd
    from jax import Array


class ResponseProcess:
    """Draws the outcome: ``sample`` returns its per-row outputs (``<name>.<output>``)."""

    field: str
    spec_model: type[BaseModel]
    description: str = ""
    priors: tuple[Prior, ...] = ()
    truth_field: str | None = None
    many = False
    site_prefix = "<name>"

    def reference_sections(self) -> list[tuple[str, type[BaseModel]]]:
        return [(self.field, self.spec_model)]

    def summary(self, group: Any) -> str | None:
        return None

    def implicit_rows(self, raw: Any) -> int | None:
        """Rows declared by a scene without ``classes`` (``outcome.n``), or None."""
        return None

    def with_rows(self, raw: Any, n_rows: int) -> Any:
        """Its raw spec value for a scene rescaled to ``n_rows`` rows."""
        return raw

    def layout(
        self,
        group: Any,
        blocks: list[Block],
        columns: Callable[[Block], list[str]],
        design_names: dict[str, list[str]],
        n_batches: int,
        affected: Callable[[int], str],
    ) -> Any:
        """Its static layout (hashable, with ``field`` and ``name``); ``design_names`` maps
        the per-row design columns it may read (``class``, ``batch``, covariates) to their
        level names; ``affected(j)`` names the column effect on feature j ("" none,
        "affine", "counts"). Raises SpecError naming an unknown column."""
        raise NotImplementedError

    def check_scene(self, group: Any, spec: Any) -> None:
        """Scene-wide rules (how the outcome combines with the classes)."""

    def site_prefixes(self, group: Any) -> list[tuple[str, str]]:
        """(spec path, name) of the prefixes of its sites (they must not be a block's, a
        modifier's or a mask entry's)."""
        return []

    def switches(self, static: Any) -> dict[str, dict[str, Any]]:
        """What ``without=`` may switch off in the outcome: ``{name: {site: value}}``."""
        return {}

    def read_columns(self, static: Any) -> set[int]:
        """The feature columns it reads (a fit draws their hidden cells as latents)."""
        return set()

    def replaces_labels(self, static: Any) -> bool:
        """Whether the outcome is the table's ``y`` (the scene then has one class)."""
        return False

    def label_names(self, group: Any) -> list[str] | None:
        """The levels of ``y`` when a categorical outcome replaces the classes."""
        return None

    def label_probabilities(self, static: Any, rows: pd.DataFrame) -> np.ndarray | None:
        """P(y = each level | x) per row, (rows, levels) float64, read from the row truth
        ``rows`` (the Bayes classifier), where a categorical outcome replaces the
        classes; None otherwise."""
        return None

    def columns(self, static: Any) -> list[str]:
        """The table columns that hold the outcome (``y`` when it replaces the labels)."""
        raise NotImplementedError

    def fixed_sites(self, group: Any, static: Any, class_names: list[str]) -> dict[str, Any]:
        return {}

    def constant_sites(self, static: Any) -> list[str]:
        """Sites that are design constants (a fit fixes them to the spec's values)."""
        return []

    def placeholder_sites(self, static: Any) -> dict[str, Any]:
        """Values of the sites ``solve`` sets, for the pilot draw before it."""
        return {}

    def needs_pilot(self, static: Any) -> bool:
        """Whether ``solve`` needs drawn rows (a target prevalence, R², censored share)."""
        return False

    def solve(self, group: Any, static: Any, drawn: dict[str, np.ndarray]) -> dict[str, Any]:
        """Site values that meet the spec's targets, from the per-row ``drawn`` outputs of
        the pilot rows. Raises SpecError when a target cannot be met."""
        return {}

    def sample(
        self,
        static: Any,
        X: Array,
        codes: dict[str, Array],
        outputs: dict[str, Array],
        plate: numpyro.plate,
        observed: dict[str, Array] | None,
        exact: bool,
    ) -> dict[str, Array]:
        """Per-row outputs; ``observed`` (fitting) holds the outcome columns' values."""
        raise NotImplementedError

    def fit_check(self, static: Any, column_effect_sites: list[str]) -> None:
        """Raise SpecError when a fit with the column effects' free ``column_effect_sites``
        cannot sample this outcome's model."""

    def observed_sites(self, static: Any) -> dict[str, str]:
        """``{outcome column: per-row site}``: a simulated table's ``RowDesign.outcome``
        (SBC reads these sites back)."""
        return {}

    def finish(self, group: Any, static: Any, outputs: dict[str, np.ndarray]) -> dict[str, Any]:
        """Work on the whole table's outputs (an exact count of cases) in place; return
        the parameter values it settles (the threshold's intercept)."""
        return {}

    def check_streamable(self, group: Any, static: Any) -> None:
        """Raise SpecError when its rows cannot be drawn a chunk at a time."""

    def empty_outputs(self, static: Any) -> dict[str, np.ndarray]:
        """Zero-row outputs with the dtypes ``frame`` reads (a table's empty schema)."""
        return {}

    def frame(self, group: Any, static: Any, outputs: dict[str, np.ndarray]) -> pd.DataFrame:
        """The outcome columns of the table (``columns``), one row per row."""
        raise NotImplementedError

    def row_truth(self, static: Any, outputs: dict[str, np.ndarray]) -> pd.DataFrame:
        """Per-row truth (linear predictor, probabilities, potential times): latents."""
        raise NotImplementedError

    def row_truth_columns(self, static: Any) -> list[str]:
        """The columns ``row_truth`` always gives (a saved dataset's latents must hold them;
        its further columns start with a name of ``site_prefixes``)."""
        return list(self.row_truth(static, self.empty_outputs(static)).columns)

    def latent_range(self, column: str) -> LatentRange | None:
        """The values a column of its per-row truth can take (checked when a saved dataset
        is loaded), or None for any number."""
        return None

    def observed_table(
        self, group: Any, static: Any, frame: pd.DataFrame, dtype: str = "float32"
    ) -> dict[str, Any]:
        """``RowDesign.outcome`` from a table's outcome columns (numbers in ``dtype``);
        SpecError naming the column and value when they are not this outcome's."""
        raise NotImplementedError

    def feature_columns(self, static: Any, n_features: int) -> dict[str, np.ndarray]:
        """Columns it adds to ``truth.features`` (one value per feature)."""
        return {}

    def truth(self, group: Any, static: Any, sites: dict[str, np.ndarray]) -> Any:
        return None

    def score_truth(
        self, group: Any, truth: Any, static: Any, rows: pd.DataFrame, frame: pd.DataFrame
    ) -> pd.DataFrame:
        """Add the best achievable scores, from the per-row truth ``rows`` and the drawn
        outcome ``frame``, to ``truth`` in place; return ``rows`` with any per-row truth
        the scores gave (survival curves)."""
        return rows

    def truth_summary(self, value: Any) -> list[str]:
        """Lines for ``Dataset.summary()`` on its truth."""
        return []

    def truth_to_json(self, value: Any, frame_out: Callable[[Any], Any]) -> Any:
        return value

    def truth_from_json(self, data: Any, frame_in: Callable[[Any], Any]) -> Any:
        return data

    def dims(
        self, static: Any, site: str, shape: tuple[int, ...], coords: dict[str, list[Any]]
    ) -> list[str] | None:
        """The dims of a site's entries (adding any coordinate it needs to ``coords``), or
        None for the default numbering."""
        return None
