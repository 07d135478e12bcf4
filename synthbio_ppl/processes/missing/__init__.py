"""Missing values: a selection model that hides cells of chosen columns.

    m_ij ~ Bernoulli(σ(a_j + b·z_ij))        (m_ij = 1: x_ij is missing)

with z_ij = 0 (MCAR), a level code (class, batch, covariate: per level step) or an
observed column, standardised (MAR), or the cell's own value x_ij standardised, (x_ij -
c_j)/s_j (MNAR; a detection limit is the step-function limit). The intercepts a_j are
solved for the requested share of missing cells. MCAR and MAR are ignorable for the
feature parameters' likelihood, MNAR is not (Rubin 1976, Biometrika 63:581; Little &
Rubin, Statistical Analysis with Missing Data, 3rd ed., 2019, ch. 6 and 15).

The mask is its own site (``<entry>.mask``, keyed by its name), so the values underneath
are the same with and without the entry.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from synthbio_ppl.core.errors import SpecError
from synthbio_ppl.core.lazy import dist, jnp, np, numpyro, pd
from synthbio_ppl.core.priors import Prior
from synthbio_ppl.processes.block import Block
from synthbio_ppl.processes.mask import MaskModifier
from synthbio_ppl.processes.missing import solve as solver
from synthbio_ppl.processes.missing.layout import MissingLayout, driver_of, drivers
from synthbio_ppl.processes.missing.spec import MissingEntry
from synthbio_ppl.processes.selection import affected_ranges

if TYPE_CHECKING:
    from jax import Array

INTERCEPT = Prior(
    "intercept",
    "a_j, the log-odds of a cell going missing at z = 0",
    "N(-1, 1.5²)",
    lambda: dist.Normal(-1.0, 1.5),
)
STRENGTH = Prior(
    "strength",
    "b, log-odds per unit (or level step) of the driver",
    "N(0, 1.5²)",
    lambda: dist.Normal(0.0, 1.5),
)
CENTRE = Prior(
    "centre",
    "c_j, the driver's centre (a design constant: fixed in fits)",
    "N(0, 10²)",
    lambda: dist.Normal(0.0, 10.0),
)
SCALE = Prior(
    "scale",
    "s_j, the driver's sd (a design constant: fixed in fits)",
    "LogNormal(0, 2²)",
    lambda: dist.LogNormal(0.0, 2.0),
)
LIMIT = Prior(
    "limit",
    "the detection limit on the standardised scale (fixed)",
    "N(0, 10²)",
    lambda: dist.Normal(0.0, 10.0),
)


class MissingValues(MaskModifier):
    field = "missing"
    slope_field = "strength"
    spec_model = MissingEntry
    description = "Missing values: each entry hides cells of chosen columns (MCAR/MAR/MNAR)."
    priors = (INTERCEPT, STRENGTH, CENTRE, SCALE, LIMIT)
    truth_field = "missingness"
    prefix = "miss"

    def summary(self, group: MissingEntry) -> str:
        driver = f" on {group.depends_on}" if group.depends_on else ""
        named = f"{group.name}: " if group.name else ""
        form = " (detection limit)" if group.form == "detection_limit" else ""
        slope = "" if group.mechanism == "mcar" else f", strength {group.slope:g}"
        exact = ", exact" if group.exact else ""
        return (
            f"missing: {named}{group.mechanism}{driver}{form}, rate {group.rate:g}{slope}"
            f"{exact}, affects {group.affects}"
        )

    # -- layout
    def layout(
        self,
        group: MissingEntry,
        index: int,
        blocks: list[Block],
        selectors: dict[str, str],
        columns: Callable[[Block], list[str]],
        has_column: Callable[[Block, str], bool],
        design_names: dict[str, int] | None = None,
    ) -> MissingLayout:
        path = f"missing[{index}]"
        affected = affected_ranges(
            group.affects, blocks, selectors, columns, f"{path}.affects", has_column
        )
        if not affected:
            raise SpecError(f"{path}.affects", group.affects, "selects no column")
        driver, column = "", -1
        if group.mechanism == "mnar":
            driver = "own"
        elif group.mechanism == "mar" and group.depends_on is None:
            allowed = drivers(blocks, columns, design_names or {})
            raise SpecError(f"{path}.depends_on", None, f"mar needs one: {allowed}")
        elif group.depends_on is not None:
            driver, column = driver_of(
                group.depends_on, blocks, columns, has_column, design_names or {}, path
            )
        return MissingLayout(
            self.entry_name(group, index),
            group.mechanism,
            group.form,
            affected,
            driver,
            column,
            group.exact,
        )

    def check_scene(
        self, groups: list[MissingEntry], statics: list[Any], spec: Any, taken: set[str]
    ) -> None:
        """A driving column is observed (no entry hides it) and a class driver varies;
        entry names are unique and take no block's or modifier's site prefix."""
        hidden = [r for static in statics for r in static.affected]  # ranges: never listed
        names: set[str] = set()
        for i, static in enumerate(statics):
            if static.name in names:
                raise SpecError(f"missing[{i}].name", static.name, "entry names must be unique")
            if static.name in taken:
                raise SpecError(
                    f"missing[{i}].name",
                    static.name,
                    "names a block or a modifier (their sites share the prefix); rename it",
                )
            names.add(static.name)
            if static.driver == "y" and len(spec.classes) < 2:
                raise SpecError(
                    f"missing[{i}].depends_on", "class", "needs two or more classes to vary"
                )
            if static.driver == "column" and any(a <= static.driver_column < b for a, b in hidden):
                raise SpecError(
                    f"missing[{i}].depends_on",
                    groups[i].depends_on,
                    "is hidden by a missing entry itself; mar needs an observed column",
                )

    # -- parameters
    def fixed_sites(self, group: MissingEntry, static: MissingLayout) -> dict[str, Any]:
        if static.driver == "":
            rate = np.full(static.n_affected, solver.logit(group.rate))
            return {f"{static.name}.intercept": rate}
        return {f"{static.name}.strength": group.slope}

    def needs_rows(self, static: MissingLayout) -> bool:
        return static.driver != ""

    def needs_values(self, static: MissingLayout) -> bool:
        return static.driver == "own"

    def placeholder_sites(self, static: MissingLayout) -> dict[str, Any]:
        n, name = static.n_affected, static.name
        values: dict[str, Any] = {}
        if static.form != "detection_limit":
            values[f"{name}.intercept"] = np.full(n, -np.inf)
        if static.standardised:
            width = n if static.driver == "own" else 1
            values |= {f"{name}.centre": np.zeros(width), f"{name}.scale": np.ones(width)}
        if static.form == "detection_limit":
            values[f"{name}.limit"] = np.full(n, -np.inf)
        return values

    def solve(
        self,
        group: MissingEntry,
        static: MissingLayout,
        codes: dict[str, tuple[np.ndarray, np.ndarray]],
        values: np.ndarray | None,
    ) -> dict[str, Any]:
        name, n, b, rate = static.name, static.n_affected, group.slope, group.rate
        if static.driver == "":
            return {}
        if not static.standardised:
            levels, counts = codes[static.driver]
            z = np.asarray(levels, dtype=np.float64)[:, None]
            return {f"{name}.intercept": np.repeat(solver.intercepts(z, b, rate, counts), n)}
        assert values is not None
        if static.driver == "column":
            driver = values[:, [static.driver_column]]
        else:
            driver = values[:, static.indices]
        centre, scale = solver.standardise(driver)
        # z as the model computes it: in the values' dtype, from the stored constants
        dtype = values.dtype
        z = (driver - centre.astype(dtype)) / scale.astype(dtype)
        out = {f"{name}.centre": centre, f"{name}.scale": scale}
        if static.form == "detection_limit":
            limit = solver.limits(z, b, rate)
            shares = solver.limit_shares(z, b, limit)
            off = np.abs(shares - rate) > max(2.0 / len(z), 0.01)
            if off.any():
                warnings.warn(
                    f"missing entry {name!r}: tied values at the detection limit make it "
                    f"hide {shares[off].min():.3g}-{shares[off].max():.3g} instead of "
                    f"{rate:g} of the cells in {int(off.sum())} column(s)",
                    UserWarning,
                    stacklevel=2,
                )
            out[f"{name}.limit"] = limit
            return out
        a = solver.intercepts(z, b, rate)
        out[f"{name}.intercept"] = a if static.driver == "own" else np.repeat(a, n)
        return out

    def constant_sites(self, static: MissingLayout) -> list[str]:
        names = [f"{static.name}.centre", f"{static.name}.scale"] if static.standardised else []
        return names + ([f"{static.name}.limit"] if static.form == "detection_limit" else [])

    def estimate_constants(
        self, static: MissingLayout, observed: np.ndarray
    ) -> dict[str, np.ndarray]:
        """The driver's centre and sd from the observed cells (biased under MNAR, where the
        missing cells are not like the observed ones: a generated Dataset's fit uses the
        truth's instead)."""
        if not static.standardised:
            return {}
        idx = static.indices if static.driver == "own" else [static.driver_column]
        values = observed[:, idx].astype(np.float64)
        with np.errstate(all="ignore"):
            centre, scale = np.nanmean(values, axis=0), np.nanstd(values, axis=0)
        centre = np.nan_to_num(centre, nan=0.0)
        scale = np.where(np.isfinite(scale) & (scale > 0), scale, 1.0)
        return {f"{static.name}.centre": centre, f"{static.name}.scale": scale}

    def fit_check(self, group: MissingEntry, static: MissingLayout, path: str) -> None:
        if static.exact:
            raise SpecError(
                f"{path}.exact",
                True,
                "exact counts are a selection without replacement with no Bernoulli "
                "likelihood; fit with missing='ignore', or generate without exact to fit it",
            )
        if static.form == "detection_limit":
            raise SpecError(
                f"{path}.form",
                "detection_limit",
                "a detection limit is deterministic and has no likelihood to fit; fit it as "
                "form: logistic with a large |strength|, or fix its sites",
            )

    # -- the model
    def sample(
        self,
        static: MissingLayout,
        X: Array,
        codes: dict[str, Array],
        plate: numpyro.plate,
    ) -> Array:
        """``<name>.mask`` (rows, n_affected), True where the cell is missing."""
        name, n = static.name, static.n_affected
        if static.form == "detection_limit":
            strength, z = self._driver_term(static, X, codes)
            limit = numpyro.sample(f"{name}.limit", LIMIT.make().expand([n]).to_event(1))
            with plate:
                beyond = jnp.where(strength < 0, z < limit, z > limit)
                mask = jnp.broadcast_to(beyond, (X.shape[0], n))
                return numpyro.deterministic(f"{name}.mask", mask)
        logits = self.logits(static, X, codes)
        with plate:
            mask = numpyro.sample(f"{name}.mask", dist.Bernoulli(logits=logits).to_event(1))
        return mask.astype(bool)

    def logits(self, static: MissingLayout, X: Array, codes: dict[str, Array]) -> Array:
        """a_j + b·z_ij, (rows, n_affected), sampling the parameter sites."""
        name, n = static.name, static.n_affected
        strength, z = self._driver_term(static, X, codes)
        intercept = numpyro.sample(f"{name}.intercept", INTERCEPT.make().expand([n]).to_event(1))
        return jnp.broadcast_to(intercept + strength * z, (X.shape[0], n))

    def scores(
        self, static: MissingLayout, X: Array, codes: dict[str, Array], plate: numpyro.plate
    ) -> Array:
        """``exact`` entries: a + b·z + Gumbel noise (rows, n_affected); the cells with the
        largest k scores per column go missing (successive sampling with weights exp(a +
        b·z); a detection limit's score is ±z, the cells beyond the k-th value)."""
        name, n = static.name, static.n_affected
        if static.form == "detection_limit":
            strength, z = self._driver_term(static, X, codes)
            numpyro.sample(f"{name}.limit", LIMIT.make().expand([n]).to_event(1))
            return jnp.broadcast_to(jnp.where(strength < 0, -z, z), (X.shape[0], n))
        logits = self.logits(static, X, codes)
        with plate:
            noise = numpyro.sample(
                f"{name}.gumbel", dist.Gumbel(0.0, 1.0).expand(logits.shape).to_event(1)
            )
        return logits + noise

    def _driver_term(
        self, static: MissingLayout, X: Array, codes: dict[str, Array]
    ) -> tuple[Array | float, Array | float]:
        """(b, z): the strength site and the driver, (rows, 1) or (rows, n_affected)."""
        name, n = static.name, static.n_affected
        if not static.driver:
            return 0.0, 0.0
        strength = numpyro.sample(f"{name}.strength", STRENGTH.make())
        if not static.standardised:
            return strength, codes[static.driver][:, None].astype(X.dtype)
        width = n if static.driver == "own" else 1
        centre = numpyro.sample(f"{name}.centre", CENTRE.make().expand([width]).to_event(1))
        scale = numpyro.sample(f"{name}.scale", SCALE.make().expand([width]).to_event(1))
        idx = static.indices if static.driver == "own" else [static.driver_column]
        return strength, (X[:, jnp.asarray(idx)] - centre) / scale

    def exact_count(self, group: MissingEntry, n_rows: int) -> int:
        """Missing cells per column of an ``exact`` entry: round(rate · rows)."""
        return int(np.floor(group.rate * n_rows + 0.5))  # halves round up

    # -- truth
    def truth(
        self,
        group: MissingEntry,
        static: MissingLayout,
        sites: dict[str, np.ndarray],
        columns: list[str],
    ) -> dict[str, Any]:
        """Mechanism, driver, target rate, and per column: a_j (and c_j, s_j, the limit)."""
        idx = static.indices
        names = [columns[j] for j in idx]
        table = pd.DataFrame(index=pd.Index(names, name="column"))
        for param in ("intercept", "centre", "scale", "limit"):
            site = f"{static.name}.{param}"
            if site in sites:
                table[param] = np.broadcast_to(np.asarray(sites[site], float), (len(idx),))
        return {
            "mechanism": group.mechanism,
            "form": group.form,
            "depends_on": group.depends_on,
            "rate": group.rate,
            "strength": group.slope if static.driver else 0.0,
            "exact": group.exact,
            "columns": table,
        }

    def truth_to_json(self, value: Any, frame_out: Callable[[Any], Any]) -> Any:
        if not value:
            return None
        return {k: {**v, "columns": frame_out(v["columns"])} for k, v in value.items()}

    def truth_from_json(self, data: Any, frame_in: Callable[[Any], Any]) -> Any:
        if not data:
            return None
        out = {}
        for key, entry in data.items():
            table = frame_in(entry["columns"])
            table.index.name = "column"
            out[key] = {**entry, "columns": table}
        return out


PROCESS = MissingValues()
