"""What a process is: the protocol every data-generating process implements.

A *block process* makes a block of adjacent feature columns (informative, noise, ...). A
*column modifier* acts on other blocks' columns (batch effects). Each lives in one module
of ``synthbio_ppl.processes`` with everything about it — its pydantic spec model, its
NumPyro model function, the parameter sites the spec fixes for generation, its priors for
fitting, its truth and its ArviZ dims — and is registered in
``synthbio_ppl.processes.registry``. Spec, layout, design, truth, describe, reference, fit
and plots iterate the registry; nothing outside a process tests its kind by name.

The defaults below are those of a process that needs nothing special: a process module
overrides what it has. ``processes.modifier`` holds the modifiers' protocol and
``processes.block`` what a model works on (Block, RowDesign, Rows).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from synthbio_ppl.core.lazy import np, pd
from synthbio_ppl.core.priors import Prior
from synthbio_ppl.core.world import Variable
from synthbio_ppl.processes.block import Block, LatentRange, RowDesign, Rows, is_index

if TYPE_CHECKING:
    from jax import Array


class BlockProcess:
    """A process that generates a block of feature columns."""

    kind: str
    """Registry key and ``Block.kind``."""
    field: str
    """The spec field that holds its groups (``informative``)."""
    prefix: str = ""
    """Default block name: prefix + index (``inf0``)."""
    spec_model: type[BaseModel]
    many: bool = True
    """A list of groups; False: at most one (``field: Model | None``)."""
    description: str = ""
    """The spec field's description (``synthbio reference``)."""
    role: str = ""
    """The truth role of its columns."""
    colour: str = "tab:gray"
    """Plot colour of its role."""
    selector: str | None = None
    """Its name in ``batches.affects`` (None: not selectable by kind)."""
    priors: tuple[Prior, ...] = ()
    """Its own parameter sites' priors (family shape priors are the families')."""
    truth_field: str | None = None
    """The ``Truth`` attribute its per-process table fills, if any."""
    site_prefix: str = "<block>"
    """How its sites' names begin, as the prior table prints it."""
    design_suffix: str | None = None
    """The suffix of the design columns it names after its blocks (``_group``)."""
    allows_one_class: bool = False
    """Whether a spec with this process may have a single class."""
    independent_columns: bool = False
    """Its columns are independent given the row design and its population sites, each
    column's values in every row from one rows-plate site: the engine then draws one
    column per lane, each from a key of its own (``engine.lanes``), so a new block size
    re-uses the compiled program and a grown block keeps its first columns' values."""
    integer: bool = False
    """Whether its columns hold whole numbers (an integer dtype in ``X``)."""
    effect_unit: str = "d"
    """What the truth's effect sizes of its columns are (Cohen's ``d``)."""

    @property
    def role_colours(self) -> dict[str, str]:
        """Plot colour of each truth role of its columns."""
        return {self.role: self.colour}

    # -- spec
    def implicit_rows(self, raw: Any) -> int | None:
        """Rows of a spec that declares no classes, read from the process's raw YAML value."""
        return None

    def with_rows(self, raw: Any, n_rows: int) -> Any:
        """Its raw spec value for a scene rescaled to ``n_rows`` rows."""
        return raw

    def check_rows(self, group: Any, n_rows: int) -> None:
        """Checks against the spec's total number of rows."""

    def reference_sections(self) -> list[tuple[str, type[BaseModel]]]:
        """(title, model) of each section of the spec reference."""
        return [(f"{self.field}[]" if self.many else self.field, self.spec_model)]

    def check(self, group: Any, path: str, class_names: list[str]) -> None:
        """Checks that need the spec's classes; raise SpecError at ``path``."""

    def check_dtype(self, group: Any, path: str, dtype: str) -> None:
        """Checks that need the spec's dtype (constants of the formulas, not sites, that
        must be finite in it); raise SpecError at ``path``."""

    def block_name(self, group: Any, index: int) -> str:
        return getattr(group, "name", None) or f"{self.prefix}{index}"

    def summary(self, group: Any) -> str | None:
        """An extra line for ``synthbio describe``."""
        return None

    # -- layout
    def block(self, group: Any, name: str, start: int) -> Block:
        """The static Block of a validated group."""
        return Block(
            kind=self.kind,
            name=name,
            start=start,
            n_features=group.n,
            family=getattr(group, "distribution", "normal"),
            standardise=getattr(group, "standardise", True),
        )

    def columns(self, block: Block) -> list[str]:
        """Readable column names: ``inf0_3``, the block's name and the feature's index (not
        padded, so a column keeps its name when its block grows)."""
        if block.columns:
            return list(block.columns)
        return [f"{block.name}_{j}" for j in range(block.n_features)]

    def has_column(self, block: Block, name: str) -> bool:
        """Whether ``name`` is one of the block's columns (without listing them all: a
        block may have millions)."""
        if block.columns:
            return name in block.columns
        index = name.removeprefix(f"{block.name}_")
        return index != name and is_index(index) and int(index) < block.n_features

    # -- counterfactual worlds
    def variable(self, block: Block, name: str) -> Variable | None:
        """The variable ``name`` of this block that ``do`` may set (by default each column,
        a column of the block's site), or None."""
        if not self.has_column(block, name):
            return None
        return Variable(block.name, self.column_index(block, name))

    def column_index(self, block: Block, name: str) -> int:
        """The position in the block of its column ``name`` (one ``has_column`` accepts)."""
        if block.columns:
            return block.columns.index(name)
        return int(name.removeprefix(f"{block.name}_"))

    def variable_names(self, block: Block) -> list[str]:
        """Names ``do`` may set, for messages (a wide block by its first and last column)."""
        if block.n_features > 10_000 and not block.columns:  # no list of a million names
            return [f"{block.name}_0 … {block.name}_{block.n_features - 1}"]
        columns = self.columns(block)
        return columns if len(columns) <= 3 else [f"{columns[0]} … {columns[-1]}"]

    def switches(self, block: Block) -> dict[str, dict[str, Any]]:
        """What ``without=`` may switch off in this block: ``{name: {site: value}}``, the
        values that make each effect the identity (count dropout: ``{"dropout": ...}``)."""
        return {}

    # -- generation
    def param_path(self, param: str) -> str:
        """Where in its spec entry the value of the site ``<block>.<param>`` is written
        (default: the field ``param`` itself)."""
        return param

    def entry_path(self, group: Any, block: Block, param: str, entry: int) -> str:
        """Where the entry ``entry`` (a flat index) of the site ``<block>.<param>`` is
        written, for a site whose entries come from different fields (default:
        ``param_path``, the whole site's field)."""
        return self.param_path(param)

    def fixed_sites(self, group: Any, block: Block, class_names: list[str]) -> dict[str, Any]:
        """The spec's numbers as values of the block's parameter sites."""
        return {}

    def sample(self, block: Block, rows: Rows) -> dict[str, Array]:
        """The NumPyro model: ``{"X": (rows, n_features)}`` plus any other per-row outputs."""
        raise NotImplementedError

    def empty_outputs(self, block: Block) -> dict[str, np.ndarray]:
        """Its per-row outputs besides ``X`` for zero rows (shapes and dtypes, no draw)."""
        return {}

    def latent_levels(self, block: Block) -> int:
        """Number of latent row groups the design draws for the block (0: none)."""
        return 0

    # -- fitting
    def design_columns(self, block: Block) -> dict[str, list[str]]:
        """Per-row design columns the fit needs: ``{column: level names}``."""
        return {}

    def design_entries(self, block: Block, codes: dict[str, np.ndarray]) -> dict[str, Any]:
        """RowDesign fields from the codes of its ``design_columns`` (default: its groups)."""
        if not self.design_columns(block):
            return {}
        (column,) = self.design_columns(block)
        return {"groups": {block.name: codes[column]}}

    def simulated_design(self, block: Block, draws: dict[str, Array]) -> dict[str, Array]:
        """RowDesign fields from prior draws of its ``observed_row_sites`` (leading axis:
        simulations), so simulated data are fitted with their own design (SBC)."""
        return {}

    def design_codes(self, block: Block, design: RowDesign) -> dict[str, np.ndarray]:
        """Inverse of ``design_entries``: ``{design column: (rows,) codes}``."""
        if not self.design_columns(block):
            return {}
        (column,) = self.design_columns(block)
        return {column: (design.groups or {})[block.name]}

    def checked_design(self, block: Block, design: RowDesign, n_rows: int) -> dict[str, Any]:
        """Its RowDesign fields from a RowDesign a user gave, checked (SpecError)."""
        from synthbio_ppl.core.errors import SpecError

        levels = self.latent_levels(block)
        if not levels:
            return {}
        path = f"design.groups.{block.name}"
        values = (design.groups or {}).get(block.name)
        if values is None:
            raise SpecError(path, None, "missing; the spec's layout needs it")
        values = np.asarray(values)
        if values.shape != (n_rows,) or not ((values >= 0) & (values < levels)).all():
            raise SpecError(path, values.shape, f"needs {n_rows} integer codes in [0, {levels})")
        return {"groups": {block.name: values.astype(np.int32)}}

    def design_path(self, block: Block, column: str) -> str:
        """The spec field path that names the design column ``column``."""
        return f"{self.field}"

    def columns_path(self, block: Block) -> str:
        """The spec field path that names its columns (for a clash of column names)."""
        return self.field

    def variable_path(self, block: Block, name: str) -> str:
        """The spec field path of its variable ``name`` (for a clash of names)."""
        return self.columns_path(block)

    def row_latents(self, block: Block) -> list[str]:
        """Latent sites inside the rows plate (per-row factor values)."""
        return []

    def column_sites(self, block: Block) -> list[str]:
        """The sample sites that hold its columns, in column order."""
        return [block.name]

    def observed_row_sites(self, block: Block) -> list[str]:
        """Observed per-row sites besides its columns (covariate codes): data in the fit."""
        return []

    def identifying_sites(
        self, group: Any, block: Block, fixed: dict[str, np.ndarray], priors: Any
    ) -> dict[str, np.ndarray]:
        """Sites a fit fixes to the spec by default because the data cannot identify them."""
        return {}

    def dims(
        self, block: Block, param: str, shape: tuple[int, ...], coords: dict[str, list[Any]]
    ) -> list[str] | None:
        """ArviZ dims of the site ``<block>.<param>`` (it may add coords); None: numbered.

        ``coords`` holds ``class`` (class names) and ``class_step`` (``b-a`` for adjacent
        classes) already.
        """
        return None

    # -- truth and description
    def level_means(
        self, block: Block, sites: dict[str, np.ndarray], n_classes: int, tables: dict[str, Any]
    ) -> np.ndarray:
        """Population mean of every column in every class, before column effects: (K, n)."""
        return np.zeros((n_classes, block.n_features))

    def roles(self, block: Block) -> np.ndarray:
        return np.full(block.n_features, self.role)

    def shapes_differ(self, block: Block, sites: dict[str, np.ndarray]) -> bool:
        """Whether the classes differ in more than the mean (a per-class correlation)."""
        return False

    def cluster_of(self, block: Block) -> str:
        """The cluster its columns belong to, as the truth table names it ("" for none)."""
        return ""

    def fit_hidden_check(self, block: Block, hidden_columns: list[int], impute: bool) -> None:
        """Raise SpecError when a fit cannot use hidden cells of these block columns
        (``impute``: the fit must draw them as latents)."""

    def fit_dtype(self, group: Any) -> str | None:
        """The precision its likelihood needs when fitting ("float64"), or None for the
        spec's own."""
        return None

    def posterior_states(
        self, block: Block, draws: dict[str, np.ndarray], rng: np.random.Generator
    ) -> dict[str, np.ndarray]:
        """Values of its summed-out discrete sites drawn from their conditional posterior
        (``draws``: the fit's posterior draws, leading axis the draw), so replicated
        tables keep the fitted states; {} when it has none."""
        return {}

    def pointwise(self, block: Block, n_classes: int) -> bool:
        """Whether its likelihood is a sum of per-row terms (for LOO and WAIC)."""
        return True

    def column_families(self, block: Block) -> list[str]:
        """The family of each column, as the truth table names it."""
        return [block.family] * block.n_features

    def truth_table(
        self, spec: Any, blocks: list[Block], sites: dict[str, np.ndarray]
    ) -> Any | None:
        """The process's own truth (stored in ``Truth.<truth_field>``) for all its blocks."""
        return None

    def truth_to_json(self, value: Any, frame_out: Callable[[Any], Any]) -> Any:
        """Its truth table in JSON-ready form (DataFrames through ``frame_out``)."""
        return frame_out(value) if isinstance(value, pd.DataFrame) else value

    def truth_from_json(self, data: Any, frame_in: Callable[[Any], Any]) -> Any:
        if isinstance(data, dict) and {"index", "columns", "data"} <= set(data):
            return frame_in(data)
        return data

    def covariate_frame(self, group: Any, outputs: dict[str, np.ndarray]) -> dict[str, Any]:
        """Covariate columns drawn by the model (from its per-row outputs)."""
        return {}

    def latent_frame(
        self, group: Any, block: Block, outputs: dict[str, np.ndarray]
    ) -> pd.DataFrame | None:
        """Per-row latent values drawn by the model, for the truth (``truth.latents``)."""
        return None

    def latent_columns(self, group: Any, block: Block) -> list[str]:
        """The columns of its ``latent_frame`` (a saved dataset's latents must hold them)."""
        frame = self.latent_frame(group, block, self.empty_outputs(block))
        return [] if frame is None else [str(c) for c in frame.columns]

    def latent_range(self, column: str) -> LatentRange | None:
        """The values a column of its ``latent_frame`` can take (checked when a saved
        dataset is loaded), or None for any finite number."""
        return None

    def cell_frame(self, block: Block, outputs: dict[str, np.ndarray]) -> pd.DataFrame | None:
        """Cells of its columns that a technical process set to zero (dropout), (rows,
        columns) bool, for the truth (``truth.dropout``); None for none."""
        return None

    def feature_columns(
        self,
        block: Block,
        sites: dict[str, np.ndarray],
        class_names: list[str],
        modifiers: dict[str, Any],
    ) -> dict[str, np.ndarray]:
        """Its own columns of ``truth.features`` (one value per block column); other
        blocks' features get NaN, False or "". ``modifiers`` holds the modifiers' truths."""
        return {}

    def describe(self, block: Block, fixed: dict[str, np.ndarray]) -> dict[str, str]:
        """``role``, ``distribution`` and the ``effect_size``/``correlation`` shown by describe."""
        family = block.family + ("" if block.standardise else " (raw)")
        return {"role": self.role, "distribution": family}
