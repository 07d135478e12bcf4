"""Count blocks: genes (or taxa) as negative binomial counts with library size,
differential expression between classes, dispersion trend and dropout (the Splat model of
Zappia, Phipson & Oshlack 2017, Genome Biology 18:174; NB as gamma–Poisson).

``spec`` holds the spec model, ``model`` the NumPyro model, ``truth`` the per-gene truth.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from synthbio_ppl.core.errors import SpecError
from synthbio_ppl.core.lazy import np, pd
from synthbio_ppl.core.world import Variable
from synthbio_ppl.processes.base import BlockProcess
from synthbio_ppl.processes.block import Block, LatentRange, Rows
from synthbio_ppl.processes.counts.model import GENE_PRIORS, PRIORS, CountLayout
from synthbio_ppl.processes.counts.spec import CountBlock

if TYPE_CHECKING:
    from jax import Array

_SETTINGS = {p.param for p in PRIORS}
DEEP_LIBRARY = 5e4
"""Median library size above which fits run in float64."""


class Counts(BlockProcess):
    kind = "counts"
    field = "counts"
    prefix = "counts"
    spec_model = CountBlock
    description = "Count blocks (RNA-seq genes, microbiome taxa): negative binomial counts."
    role = "count"
    colour = "tab:green"
    selector = "counts"
    priors = (*PRIORS, *GENE_PRIORS)
    allows_one_class = True
    integer = True
    """Its columns hold whole numbers (integer dtype in ``X`` unless a cell is missing)."""
    effect_unit = "log2 fold change"

    def reference_sections(self) -> list[tuple[str, type[BaseModel]]]:
        from synthbio_ppl.processes.counts import spec

        return [
            ("counts[]", CountBlock),
            ("counts[].base_mean", spec.BaseMean),
            ("counts[].library_size", spec.LibrarySize),
            ("counts[].dispersion", spec.Dispersion),
            ("counts[].differential_expression", spec.DifferentialExpression),
            ("counts[].dropout", spec.Dropout),
        ]

    def block(self, group: CountBlock, name: str, start: int) -> Block:
        static = CountLayout(
            distribution=group.distribution,
            outliers=group.base_mean.outlier_probability > 0,
            differential=group.differential_expression.fraction > 0,
            dropout=group.dropout is not None,
            trended=group.distribution != "poisson" and group.dispersion.trend > 0,
        )
        return Block(
            kind=self.kind,
            name=name,
            start=start,
            n_features=group.n,
            family=group.distribution,
            standardise=False,
            static=static,
        )

    def check(self, group: CountBlock, path: str, class_names: list[str]) -> None:
        zinb = group.distribution == "zero_inflated_negative_binomial"
        if zinb and group.zero_inflation == 0:
            raise SpecError(
                f"{path}.zero_inflation", 0.0, "must be > 0 for zero_inflated_negative_binomial"
            )
        if not zinb and group.zero_inflation > 0:
            raise SpecError(
                f"{path}.zero_inflation",
                group.zero_inflation,
                "only zero_inflated_negative_binomial has structural zeros; set distribution",
            )

    def fixed_sites(self, group: CountBlock, block: Block, class_names: list[str]) -> dict:
        static: CountLayout = block.static
        b, de, disp = group.base_mean, group.differential_expression, group.dispersion
        values: dict[str, float] = {
            "expression_shape": b.shape,
            "library_size_median": group.library_size.median,
            "library_size_sdlog": group.library_size.sdlog,
        }
        if static.outliers:
            values |= {
                "outlier_probability": b.outlier_probability,
                "outlier_location": b.outlier_location,
                "outlier_scale": b.outlier_scale,
            }
        if group.distribution != "poisson":
            values |= {"bcv": disp.bcv, "dispersion_spread": disp.spread}
        if static.trended:
            values["dispersion_trend"] = disp.trend
        if static.differential and len(class_names) > 1:
            values |= {
                "de_fraction": de.fraction,
                "down_share": de.down_share,
                "lfc_median": de.log2_fold_change,
                "lfc_spread": de.spread,
            }
        if static.zero_inflated:
            values["zero_inflation"] = group.zero_inflation
        if group.dropout is not None:
            values |= {
                "dropout_midpoint": group.dropout.midpoint,
                "dropout_slope": group.dropout.slope,
            }
        return {f"{block.name}.{k}": v for k, v in values.items()}

    def identifying_sites(
        self, group: CountBlock, block: Block, fixed: dict[str, Any], priors: Any
    ) -> dict[str, np.ndarray]:
        """The population settings stay at the spec's values unless given a prior."""
        spec_values = self.fixed_sites(group, block, ["a", "b"])
        return {
            k: np.asarray(v)
            for k, v in spec_values.items()
            if k in fixed and k not in priors and k.split(".", 1)[1] in _SETTINGS
        }

    def sample(self, block: Block, rows: Rows) -> dict[str, Array]:
        from synthbio_ppl.processes.counts.model import count_block

        return count_block(block, rows)

    def empty_outputs(self, block: Block) -> dict[str, np.ndarray]:
        out = {f"{block.name}.library_size": np.zeros(0, np.float32)}
        if block.static.gated:
            out[f"{block.name}.dropout"] = np.zeros((0, block.n_features), bool)
        return out

    def row_latents(self, block: Block) -> list[str]:
        return [f"{block.name}.library_size"]

    def latent_range(self, column: str) -> LatentRange | None:
        if column.endswith(".library_size"):
            return LatentRange(0.0, False, math.inf, "a library size is a positive number")
        return None

    def fit_dtype(self, group: CountBlock) -> str | None:
        """float64 for deep libraries: a float32 sum of per-cell log-likelihoods of counts
        in the hundreds of thousands is too coarse for NUTS's energy (it stops mixing)."""
        return "float64" if group.library_size.median > DEEP_LIBRARY else None

    def posterior_states(
        self, block: Block, draws: dict[str, np.ndarray], rng: np.random.Generator
    ) -> dict[str, np.ndarray]:
        """Each draw's DE states from their conditional posterior P(none, up, down | θ, x),
        recovered from the fit's deterministics: p = P(DE) and E[lfc] = m·(P(up) − P(down))."""
        name = block.name
        if f"{name}.de_probability" not in draws or f"{name}.lfc_magnitude" not in draws:
            return {}
        p = np.asarray(draws[f"{name}.de_probability"], dtype=float)
        signed = np.asarray(draws[f"{name}.log2_fold_change"], dtype=float)
        balance = signed / np.asarray(draws[f"{name}.lfc_magnitude"], dtype=float)
        up = np.clip((p + balance) / 2, 0.0, 1.0)
        down = np.clip((p - balance) / 2, 0.0, 1.0)
        u = rng.random(p.shape)
        state = np.where(u < up, 1, np.where(u < up + down, 2, 0)).astype(np.int32)
        return {f"{name}.de_state": state}

    def pointwise(self, block: Block, n_classes: int) -> bool:
        """Per-row log-likelihoods exist unless DE states (shared by a class's rows) are
        summed out."""
        return not (block.static.differential and n_classes > 1)

    def fit_hidden_check(self, block: Block, hidden_columns: list[int], impute: bool) -> None:
        if impute:
            raise SpecError(
                "missing",
                f"{len(hidden_columns)} hidden count column(s) of {block.name}",
                "a fit cannot draw hidden counts (whole numbers) as latents; fit with "
                "missing='ignore' (right for MCAR and MAR) or hide only continuous columns",
            )

    def dims(
        self, block: Block, param: str, shape: tuple[int, ...], coords: dict[str, list[Any]]
    ) -> list[str] | None:
        gene = f"{block.name}_gene"
        if gene not in coords:
            coords[gene] = self.columns(block)
        if shape == (block.n_features,):
            return [gene]
        classes = coords["class"]
        if shape == (block.n_features, len(classes) - 1):
            step = f"{block.name}_vs_{classes[0]}"
            coords.setdefault(step, list(classes[1:]))
            return [gene, step]
        return None

    def level_means(
        self, block: Block, sites: dict[str, np.ndarray], n_classes: int, tables: dict[str, Any]
    ) -> np.ndarray:
        """log2 of each class's expected count at the median library size (so the
        truth's effect sizes of count columns are log2 fold changes)."""
        from synthbio_ppl.processes.counts.truth import log2_class_means

        return log2_class_means(block, sites, n_classes)

    def feature_columns(
        self,
        block: Block,
        sites: dict[str, np.ndarray],
        class_names: list[str],
        modifiers: dict[str, Any],
    ) -> dict[str, np.ndarray]:
        from synthbio_ppl.processes.counts.truth import feature_columns

        return feature_columns(block, sites, class_names, modifiers)

    def latent_frame(
        self, group: CountBlock, block: Block, outputs: dict[str, np.ndarray]
    ) -> pd.DataFrame | None:
        name = f"{block.name}.library_size"
        return None if name not in outputs else pd.DataFrame({name: outputs[name]})

    def variable(self, block: Block, name: str) -> Variable | None:
        """A gene's count before dropout (site ``<block>.expressed``)."""
        column = super().variable(block, name)
        if column is None:
            return None
        return Variable(f"{block.name}.expressed", column.column, count=True)

    def switches(self, block: Block) -> dict[str, dict[str, Any]]:
        """``dropout``: no cell dropped (dropout and zero inflation off)."""
        return {"dropout": {f"{block.name}.dropout": False}} if block.static.gated else {}

    def cell_frame(self, block: Block, outputs: dict[str, np.ndarray]) -> pd.DataFrame | None:
        """The cells dropout or zero inflation set to 0, (rows, n) bool, or None."""
        mask = outputs.get(f"{block.name}.dropout")
        return None if mask is None else pd.DataFrame(mask, columns=self.columns(block))

    def describe(self, block: Block, fixed: dict[str, np.ndarray]) -> dict[str, str]:
        fraction = fixed.get(f"{block.name}.de_fraction")
        effect = "" if fraction is None else f"DE {float(fraction):g}"
        return {"role": self.role, "distribution": block.family, "effect_size": effect}

    def summary(self, group: CountBlock) -> str:
        de = group.differential_expression
        return (
            f"counts {group.name or ''}: {group.n} genes, {group.distribution}, library size "
            f"median {group.library_size.median:g}, DE fraction {de.fraction:g} "
            f"(|log2FC| ~ {de.log2_fold_change:g})" + ("" if group.dropout is None else ", dropout")
        )


PROCESS = Counts()
