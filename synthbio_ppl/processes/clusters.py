"""Correlated cluster: an anchor and its proxies, with a class-dependent correlation R_k.

x_i = m[y_i] + v_i,  v_i ~ N(0, R[y_i])  (equicorrelated: ρ between every pair; Toeplitz:
ρ^|i-j|), sampled without a dense Cholesky (``families.correlated``). The anchor's class
mean is e_k (the centred running sum of ``anchor_effect``) and proxy j's is
e_k · α · R_k[anchor, j], so the discriminant direction sits on the anchor. ρ may differ per
class (differential co-expression).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, field_validator

from synthbio_ppl.core.errors import SpecError
from synthbio_ppl.core.lazy import dist, jnp, np, numpyro, pd
from synthbio_ppl.core.priors import Prior
from synthbio_ppl.processes.base import BlockProcess
from synthbio_ppl.processes.block import Block, Rows, is_index
from synthbio_ppl.processes.informative import class_dims, class_means, level_means_of, numbers
from synthbio_ppl.processes.observation import observe
from synthbio_ppl.spec.fields import (
    NAME_PATTERN,
    Count,
    EffectSize,
    Strict,
    check_length,
    effect_vector,
)

if TYPE_CHECKING:
    from jax import Array

CORRELATION = Prior(
    "correlation",
    "ρ per class",
    "U(−1/(p−1), 1) equicorrelated, U(−1, 1) Toeplitz",
    lambda low: dist.Uniform(low, 1.0),
)
ANCHOR_EFFECT = Prior(
    "anchor_effect", "anchor's d between adjacent classes", "N(0, 2²)", lambda: dist.Normal(0, 2.0)
)
PROXY_ATTENUATION = Prior(
    "proxy_attenuation",
    "α; fixed to the spec unless given a prior",
    "N(1, 1) truncated to α ≥ 0",
    # centred on the neutral α = 1 (proxies echo the anchor in full): HalfNormal(1), with
    # its mode at 0, biased α and the anchor's effect low (mean z −0.30 and −0.38)
    lambda: dist.TruncatedNormal(1.0, 1.0, low=0.0),
)


class Cluster(Strict):
    """Correlated anchor + proxies; the anchor carries the class shift, proxies echo it."""

    name: str | None = Field(None, pattern=NAME_PATTERN, description="Block name (default `cluN`).")
    n: Count = Field(ge=2, description="Features in the cluster: 1 anchor + n-1 proxies.")
    structure: Literal["equicorrelated", "toeplitz"] = Field(
        "equicorrelated",
        description="equicorrelated: ρ between every pair; toeplitz: ρ^|i-j| (AR(1)).",
    )
    correlation: float | dict[str, float] = Field(
        0.5,
        description="ρ: one number, or one per class {class: ρ} (differential co-expression). "
        "Equicorrelated needs -1/(n-1) < ρ < 1; toeplitz |ρ| < 1.",
    )
    anchor_effect: EffectSize = Field(
        0.0, description="Cohen's d of the anchor between adjacent classes; 0 = no shift."
    )
    proxy_attenuation: float = Field(
        1.0, ge=0.0, description="α: proxy j's shift is anchor shift · α · R[anchor, j]."
    )

    @field_validator("correlation")
    @classmethod
    def _check_range(cls, value: float | dict[str, float], info: Any) -> Any:
        n, structure = info.data.get("n"), info.data.get("structure")
        if n is None or structure is None:
            return value
        values = value.values() if isinstance(value, dict) else [value]
        low = lower_bound(structure, n)
        for rho in values:
            if not (low < rho < 1.0):
                where = f"an {structure} cluster of {n} features"
                raise SpecError(
                    "", rho, f"must lie in ({low:.4g}, 1) for {where} (positive-definite range)"
                )
        return value


def lower_bound(structure: str, n: int) -> float:
    """The smallest ρ (exclusive) for which R is positive definite."""
    return -1.0 / (n - 1) if structure == "equicorrelated" else -1.0


class Clusters(BlockProcess):
    kind = "cluster"
    field = "clusters"
    prefix = "clu"
    spec_model = Cluster
    description = "Correlated clusters."
    role = "anchor"
    colour = "tab:blue"
    selector = "clusters"
    priors = (CORRELATION, ANCHOR_EFFECT, PROXY_ATTENUATION)
    truth_field = "clusters"

    def check(self, group: Cluster, path: str, class_names: list[str]) -> None:
        check_length(group.anchor_effect, f"{path}.anchor_effect", len(class_names) - 1)
        rho = group.correlation
        if isinstance(rho, dict) and set(rho) != set(class_names):
            raise SpecError(
                f"{path}.correlation",
                rho,
                f"a per-class correlation needs exactly the classes {class_names}",
            )

    def block(self, group: Cluster, name: str, start: int) -> Block:
        return Block(self.kind, name, start, group.n, structure=group.structure)

    def columns(self, block: Block) -> list[str]:
        """``clu0_anchor``, ``clu0_proxy1``, ..."""
        return [f"{block.name}_anchor"] + [
            f"{block.name}_proxy{j}" for j in range(1, block.n_features)
        ]

    def has_column(self, block: Block, name: str) -> bool:
        if name == f"{block.name}_anchor":
            return True
        index = name.removeprefix(f"{block.name}_proxy")
        return index != name and is_index(index) and 1 <= int(index) < block.n_features

    def column_index(self, block: Block, name: str) -> int:
        return 0 if name == f"{block.name}_anchor" else int(name.rsplit("_proxy", 1)[1])

    def fixed_sites(self, group: Cluster, block: Block, class_names: list[str]) -> dict[str, Any]:
        k = len(class_names)
        rho = group.correlation
        per_class = [rho[c] for c in class_names] if isinstance(rho, dict) else [rho] * k
        return {
            f"{block.name}.correlation": per_class,
            f"{block.name}.anchor_effect": effect_vector(group.anchor_effect, k - 1),
            f"{block.name}.proxy_attenuation": group.proxy_attenuation,
        }

    def identifying_sites(
        self, group: Cluster, block: Block, sites: Any, priors: Any
    ) -> dict[str, np.ndarray]:
        """α, fixed to the spec unless given a prior.

        The proxies' shift is the product e·α: the range of α the data allow narrows as
        |e| grows, so with α free the marginal posterior of e is pulled toward 0 (mean
        z −0.37 over 200 seeds of ``benchmarks/recovery_bias.py``, with α's prior centred
        on 1). Fixed, α leaves e's shrinkage to its own prior.
        """
        name = f"{block.name}.proxy_attenuation"
        if name not in sites or name in priors:
            return {}
        return {name: np.asarray(group.proxy_attenuation)}

    def sample(self, block: Block, rows: Rows) -> dict[str, Array]:
        """Sites ``<block>.correlation`` (K,), ``.anchor_effect`` (K-1,), ``.proxy_attenuation``."""
        from synthbio_ppl.families.correlated import STRUCTURES, anchor_correlations

        p, labels, name, n_classes = block.n_features, rows.design.y, block.name, rows.n_classes
        low = lower_bound(block.structure, p)
        rho = numpyro.sample(
            f"{name}.correlation", CORRELATION.make(low).expand([n_classes]).to_event(1)
        )
        prior = ANCHOR_EFFECT.make().expand([n_classes - 1]).to_event(1)
        effect = numpyro.sample(f"{name}.anchor_effect", prior)
        alpha = numpyro.sample(f"{name}.proxy_attenuation", PROXY_ATTENUATION.make())
        r_anchor = anchor_correlations(block.structure, rho, p)
        echo = jnp.where(jnp.arange(p) == 0, 1.0, alpha * r_anchor)
        means = numpyro.deterministic(f"{name}.level_means", class_means(effect)[:, None] * echo)
        with rows.plate:
            base = STRUCTURES[block.structure](rho[labels], p)
            loc = rows.scale * means[labels] + rows.loc_shift
            affine = dist.transforms.AffineTransform(loc, rows.scale)
            located = dist.TransformedDistribution(
                base, dist.transforms.IndependentTransform(affine, 1)
            )
            return {"X": observe(name, located, rows.obs, rows.hidden, rows.impute)}

    def dims(
        self, block: Block, param: str, shape: tuple[int, ...], coords: dict[str, list[Any]]
    ) -> list[str] | None:
        if param == "level_means" and len(shape) == 2:
            coords[f"{block.name}_feature"] = self.columns(block)
            return ["class", f"{block.name}_feature"]
        return class_dims(param, shape, len(coords["class"]))

    def level_means(
        self, block: Block, sites: dict[str, np.ndarray], n_classes: int, tables: dict[str, Any]
    ) -> np.ndarray:
        return level_means_of(block, sites, n_classes)

    def roles(self, block: Block) -> np.ndarray:
        return np.array(["anchor"] + ["proxy"] * (block.n_features - 1))

    def shapes_differ(self, block: Block, sites: dict[str, np.ndarray]) -> bool:
        return bool(np.ptp(np.asarray(sites[f"{block.name}.correlation"])) > 0)

    @property
    def role_colours(self) -> dict[str, str]:
        return {"anchor": "tab:purple", "proxy": "tab:pink"}

    def cluster_of(self, block: Block) -> str:
        return block.name

    def column_families(self, block: Block) -> list[str]:
        return ["normal"] * block.n_features

    def truth_table(
        self, spec: Any, blocks: list[Block], sites: dict[str, np.ndarray]
    ) -> pd.DataFrame:
        """Per cluster: structure, n, anchor column, per-class ρ, α."""
        rows = {}
        for block in blocks:
            row: dict[str, Any] = {"structure": block.structure, "n": block.n_features}
            row["anchor"] = self.columns(block)[0]
            for name, rho in zip(spec.class_names, sites[f"{block.name}.correlation"], strict=True):
                row[f"correlation[{name}]"] = float(rho)
            row["proxy_attenuation"] = float(sites[f"{block.name}.proxy_attenuation"])
            rows[block.name] = row
        return pd.DataFrame.from_dict(rows, orient="index")

    def describe(self, block: Block, fixed: dict[str, np.ndarray]) -> dict[str, str]:
        return {
            "role": "anchor+proxies",
            "distribution": f"normal ({block.structure})",
            "effect_size": numbers(fixed[f"{block.name}.anchor_effect"]),
            "correlation": numbers(fixed[f"{block.name}.correlation"]),
        }


PROCESS = Clusters()
