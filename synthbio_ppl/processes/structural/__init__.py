"""Structural scenes: covariates → latent factors → biomarkers, one process package.

``spec`` (the YAML models), ``layout`` (static shape and the spec's numbers as site values),
``model`` (the NumPyro model and its priors), ``truth`` (formulas, tables and population
moments); this module registers them as one block process.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from synthbio_ppl.core.errors import SpecError
from synthbio_ppl.core.lazy import jnp, np, pd
from synthbio_ppl.core.locations import is_flag
from synthbio_ppl.core.world import Variable
from synthbio_ppl.processes.base import BlockProcess
from synthbio_ppl.processes.block import Block, RowDesign, Rows
from synthbio_ppl.processes.structural.layout import (
    check_constants,
    entry_path,
    structural_fixed_sites,
    structural_layout,
)
from synthbio_ppl.processes.structural.model import PRIORS, structural
from synthbio_ppl.processes.structural.spec import (
    Biomarker,
    ByLevel,
    Covariate,
    Dependency,
    Factor,
    StructuralSpec,
)

if TYPE_CHECKING:
    from jax import Array


_BIOMARKER_TABLES = ("baseline", "noise", "loading", "shift", "coef")


class Structural(BlockProcess):
    kind = "structural"
    field = "structure"
    spec_model = StructuralSpec
    many = False
    description = "Covariates, latent factors and biomarker formulas (a structural scene)."
    role = "biomarker"
    colour = "tab:green"
    priors = PRIORS
    truth_field = "structure"
    site_prefix = "<scene>"
    allows_one_class = True

    def reference_sections(self) -> list[tuple[str, Any]]:
        return [
            ("structure", StructuralSpec),
            ("structure.covariates.<name>", Covariate),
            ("structure.factors.<name>", Factor),
            ("{by: covariate, <level>: value, ...}", ByLevel),
            ("structure.biomarkers.<name>", Biomarker),
            ("structure.biomarkers.<name>.depends_on.<biomarker>", Dependency),
        ]

    def implicit_rows(self, raw: Any) -> int | None:
        if not isinstance(raw, dict | StructuralSpec):
            return None  # not a mapping: the field's own check says so, at `structure`
        n = raw.get("n") if isinstance(raw, dict) else raw.n
        if n is None:
            if isinstance(raw, dict) and any(is_flag(key) for key in raw):
                return None  # a key YAML read as true/false: the check names that key
            raise SpecError("structure.n", "(missing)", "give the number of rows, or `classes`")
        valid = isinstance(n, int) and not isinstance(n, bool) and n >= 1
        return n if valid else None  # else structure.n's own check names it

    def with_rows(self, raw: Any, n_rows: int) -> Any:
        return {**raw, "n": n_rows} if isinstance(raw, dict) and raw.get("n") is not None else raw

    def check_rows(self, group: StructuralSpec, n_rows: int) -> None:
        if group.n not in (None, n_rows):
            raise SpecError("structure.n", group.n, f"must equal the classes' total {n_rows}")

    def block_name(self, group: StructuralSpec, index: int) -> str:
        return group.name

    def block(self, group: StructuralSpec, name: str, start: int) -> Block:
        static = structural_layout(group)
        columns = static.biomarkers
        return Block(self.kind, name, start, len(columns), columns=columns, static=static)

    def summary(self, group: StructuralSpec) -> str:
        covariates = ", ".join(f"{c} ({'/'.join(v)})" for c, v in group.level_names().items())
        return (
            f"structure {group.name}: covariates {covariates or '-'}; factors "
            f"{', '.join(group.factors) or '-'}; {len(group.biomarkers)} biomarkers"
        )

    def param_path(self, param: str) -> str:
        """``X.sd`` → ``factors.X.sd``; ``Weight.df`` → ``biomarkers.Weight.params.df``; a
        biomarker table (``shift``, ``loading``, ...) → ``biomarkers`` (its entries are
        spread over the biomarkers: ``entry_path`` names each)."""
        head, dot, rest = param.partition(".")
        if dot and rest in ("mean", "sd"):
            return f"factors.{param}"
        if dot and rest == "probs":
            return f"covariates.{head}.levels"
        if dot:
            return f"biomarkers.{head}.params.{rest}"
        return "biomarkers" if param in _BIOMARKER_TABLES else param

    def entry_path(self, group: StructuralSpec, block: Block, param: str, entry: int) -> str:
        """The field of one entry of a biomarker table or of a factor's per-level mean or
        sd: ``structure.biomarkers.Weight.shifts.sex.male``, ``factors.X.mean.rural``."""
        return entry_path(group, block.static, param, entry) or self.param_path(param)

    def check_dtype(self, group: StructuralSpec, path: str, dtype: str) -> None:
        """Clip bounds and dependency centres (constants of the formulas, not sites) are
        finite in the spec's dtype."""
        check_constants(group, path, dtype)

    def fixed_sites(self, group: StructuralSpec, block: Block, class_names: list[str]) -> dict:
        return structural_fixed_sites(group)

    def sample(self, block: Block, rows: Rows) -> dict[str, Array]:
        """Biomarkers ``X``, plus ``latents`` (factor values) and ``covariates`` (codes)."""
        return structural(
            block.static,
            rows.plate,
            rows.loc_shift,
            rows.scale,
            rows.obs,
            rows.design.covariates,
            rows.hidden,
        )

    def empty_outputs(self, block: Block) -> dict[str, np.ndarray]:
        width = len(block.static.covariates)
        return {"covariates": np.zeros((0, width), dtype=np.int32)} if width else {}

    def design_columns(self, block: Block) -> dict[str, list[str]]:
        scene = block.static
        return {
            name: list(levels)
            for name, levels in zip(scene.covariates, scene.level_names, strict=True)
        }

    def columns_path(self, block: Block) -> str:
        return "structure.biomarkers"

    def variable_path(self, block: Block, name: str) -> str:
        static = block.static
        part = "covariates" if name in static.covariates else "factors"
        return f"structure.{'biomarkers' if name in static.biomarkers else part}.{name}"

    def design_path(self, block: Block, column: str) -> str:
        return f"structure.covariates.{column}"

    def design_entries(self, block: Block, codes: dict[str, np.ndarray]) -> dict[str, Any]:
        if not block.static.covariates:
            return {}
        return {"covariates": np.stack([codes[c] for c in block.static.covariates], axis=-1)}

    def simulated_design(self, block: Block, draws: dict[str, Array]) -> dict[str, Array]:
        sites = self.observed_row_sites(block)
        if not sites:
            return {}
        return {"covariates": jnp.stack([draws[s] for s in sites], -1).astype(jnp.int32)}

    def design_codes(self, block: Block, design: RowDesign) -> dict[str, np.ndarray]:
        if design.covariates is None:
            return {}
        return {name: design.covariates[:, c] for c, name in enumerate(block.static.covariates)}

    def checked_design(self, block: Block, design: RowDesign, n_rows: int) -> dict[str, Any]:
        scene = block.static
        if not scene.covariates:
            return {}
        covariates = np.asarray(design.covariates if design.covariates is not None else [])
        width = len(scene.covariates)
        in_range = covariates.shape == (n_rows, width) and bool(
            ((covariates >= 0) & (covariates < np.asarray(scene.n_levels))).all()
        )
        if not in_range:
            raise SpecError(
                "design.covariates",
                covariates.shape,
                f"needs ({n_rows}, {width}) integer codes, column c in [0, levels of c)",
            )
        return {"covariates": covariates.astype(np.int32)}

    def row_latents(self, block: Block) -> list[str]:
        return [f"{block.name}.{factor}" for factor in block.static.factors]

    def column_sites(self, block: Block) -> list[str]:
        return [f"{block.name}.{marker}" for marker in block.static.biomarkers]

    def observed_row_sites(self, block: Block) -> list[str]:
        return [f"{block.name}.{covariate}" for covariate in block.static.covariates]

    def identifying_sites(
        self, group: StructuralSpec, block: Block, sites: Any, priors: Any
    ) -> dict[str, np.ndarray]:
        """The factors' mean/sd sites, fixed to the spec unless given a prior.

        Loadings·factor is unchanged when a factor is rescaled and its loadings divided by
        the same number (and its mean moves into the baselines), so the data cannot tell
        them apart: the factors' location and scale are what define their units.
        """
        values = structural_fixed_sites(group)
        names = [f"{group.name}.{f}.{part}" for f in group.factors for part in ("mean", "sd")]
        return {n: np.asarray(values[n]) for n in names if n in sites and n not in priors}

    def dims(
        self, block: Block, param: str, shape: tuple[int, ...], coords: dict[str, list[Any]]
    ) -> list[str] | None:
        """Named entries: biomarkers, ``Weight~X`` loadings, ``Weight~sex=male`` shifts,
        ``Weight~Height`` slopes, covariate levels of probabilities and factor moments."""
        scene, s = block.static, block.name
        levels = {c: f"{s}_{c}_level" for c in scene.covariates}
        for c, name in enumerate(scene.covariates):
            coords[levels[name]] = list(scene.level_names[c])
        markers = scene.biomarkers
        entries = {
            "baseline": [*markers],
            "noise": [*markers],
            "loading": [f"{markers[b]}~{scene.factors[f]}" for b, f in scene.loadings],
            "shift": [
                f"{markers[b]}~{scene.covariates[c]}={scene.level_names[c][lv]}"
                for b, c, lv in scene.shifts
            ],
            "coef": [f"{markers[child]}~{markers[parent]}" for child, parent, _ in scene.edges],
        }
        if param in entries:
            coords[f"{s}_{param}"] = entries[param]
            return [f"{s}_{param}"]
        owner, _, part = param.rpartition(".")
        if part == "probs" and owner in levels:
            parent = scene.parents[scene.covariates.index(owner)]
            own = [levels[owner]]
            return own if parent < 0 else [levels[scene.covariates[parent]], *own]
        if part in ("mean", "sd") and owner in scene.factors and shape:
            f = scene.factors.index(owner)
            by = (scene.mean_by if part == "mean" else scene.sd_by)[f]
            return [levels[scene.covariates[by]]]
        return None

    def level_means(
        self, block: Block, sites: dict[str, np.ndarray], n_classes: int, tables: dict[str, Any]
    ) -> np.ndarray:
        # the class does not shift biomarkers: every class has the population mean
        overall = tables["structure"]["level_means"]["all"].to_numpy(dtype=float)
        return np.broadcast_to(overall, (n_classes, block.n_features))

    def fit_hidden_check(self, block: Block, hidden_columns: list[int], impute: bool) -> None:
        """Hidden cells of a clipped biomarker cannot be fitted: its censored density is
        flat beyond the clip, so their latent values drift there (SpecError)."""
        from synthbio_ppl.core.errors import SpecError

        scene = block.static
        for b in hidden_columns:
            low, high = scene.clips[b]
            if low is not None or high is not None:
                raise SpecError(
                    f"structure.biomarkers.{scene.biomarkers[b]}.clip",
                    [low, high],
                    "a clipped biomarker with missing cells cannot be fitted back; leave it "
                    "out of the missing entries' affects, or drop its clip",
                )

    def column_families(self, block: Block) -> list[str]:
        return list(block.static.families)

    def truth_table(
        self, spec: Any, blocks: list[Block], sites: dict[str, np.ndarray]
    ) -> dict[str, Any] | None:
        from synthbio_ppl.processes.structural.truth import structural_truth

        if not blocks:
            return None
        return structural_truth(spec.structure, blocks[0].static, sites)

    def truth_to_json(self, value: Any, frame_out: Any) -> Any:
        from synthbio_ppl.processes.structural.truth import structure_to_dict

        return None if value is None else structure_to_dict(value, frame_out)

    def truth_from_json(self, data: Any, frame_in: Any) -> Any:
        from synthbio_ppl.processes.structural.truth import structure_from_dict

        return None if not data else structure_from_dict(data, frame_in)

    def variable(self, block: Block, name: str) -> Variable | None:
        """A covariate (set by level name), a latent factor or a biomarker, each its site
        ``<scene>.<name>`` (a biomarker's value as measured, batch effects included)."""
        static = block.static
        if name in static.covariates:
            levels = static.level_names[static.covariates.index(name)]
            return Variable(f"{static.name}.{name}", None, tuple(levels))
        if name in static.factors or name in static.biomarkers:
            return Variable(f"{static.name}.{name}")
        return None

    def variable_names(self, block: Block) -> list[str]:
        static = block.static
        return [*static.covariates, *static.factors, *static.biomarkers]

    def covariate_frame(self, group: StructuralSpec, outputs: dict[str, np.ndarray]) -> dict:
        from synthbio_ppl.processes.structural.truth import covariate_columns

        codes = outputs.get("covariates")
        return {} if codes is None else covariate_columns(group, codes)

    def latent_frame(
        self, group: StructuralSpec, block: Block, outputs: dict[str, np.ndarray]
    ) -> pd.DataFrame | None:
        from synthbio_ppl.processes.structural.truth import latent_frame

        latents = outputs.get("latents")
        return None if latents is None else latent_frame(group, latents)

    def latent_columns(self, group: StructuralSpec, block: Block) -> list[str]:
        return list(group.factors)

    def describe(self, block: Block, fixed: dict[str, np.ndarray]) -> dict[str, str]:
        return {"role": "biomarkers", "distribution": block.family}


PROCESS = Structural()
