"""The static layout of a structural scene and the spec's numbers as its sites' values."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from synthbio_ppl.core.errors import SpecError
from synthbio_ppl.core.precision import beyond_range, range_phrase
from synthbio_ppl.families.table import family_params
from synthbio_ppl.processes.structural.spec import (
    ByLevel,
    Dependency,
    Levelled,
    StructuralSpec,
    topological_order,
)


@dataclass(frozen=True)
class StructuralLayout:
    """The static shape of a structural scene (hashable: a jit static argument).

    Parameter values (probabilities, means, loadings, ...) are not here: they are sites.
    Clip bounds and dependency centres are constants of the formulas, so they are here.
    """

    name: str
    covariates: tuple[str, ...]
    n_levels: tuple[int, ...]
    level_names: tuple[tuple[str, ...], ...]
    parents: tuple[int, ...]
    """Index of each covariate's parent covariate, -1 for none."""
    factors: tuple[str, ...]
    mean_by: tuple[int, ...]
    """Covariate index that picks each factor's mean, -1 for a single mean."""
    sd_by: tuple[int, ...]
    biomarkers: tuple[str, ...]
    families: tuple[str, ...]
    order: tuple[int, ...]
    """Biomarker indices in evaluation (topological) order."""
    loadings: tuple[tuple[int, int], ...]
    """(biomarker, factor) of each entry of the ``<name>.loading`` site."""
    shifts: tuple[tuple[int, int, int], ...]
    """(biomarker, covariate, level) of each entry of the ``<name>.shift`` site."""
    edges: tuple[tuple[int, int, float], ...]
    """(child, parent, centre) of each entry of the ``<name>.coef`` site."""
    clips: tuple[tuple[float | None, float | None], ...]

    @property
    def n_biomarkers(self) -> int:
        return len(self.biomarkers)


def structural_layout(spec: StructuralSpec) -> StructuralLayout:
    """The static layout of a validated structural spec."""
    covs = list(spec.covariates)
    levels = spec.level_names()
    factors = list(spec.factors)
    markers = list(spec.biomarkers)

    def by_index(value: Levelled) -> int:
        return covs.index(value.by) if isinstance(value, ByLevel) else -1

    loadings, shifts, edges = [], [], []
    for b, marker in enumerate(spec.biomarkers.values()):
        loadings += [(b, factors.index(f)) for f in marker.loadings]
        for cov, table in marker.shifts.items():
            c = covs.index(cov)
            shifts += [(b, c, levels[cov].index(level)) for level in table]
        edges += [(b, markers.index(p), float(d.centre)) for p, d in marker.dependencies().items()]
    return StructuralLayout(
        name=spec.name,
        covariates=tuple(covs),
        n_levels=tuple(len(levels[c]) for c in covs),
        level_names=tuple(tuple(levels[c]) for c in covs),
        parents=tuple(
            -1 if cov.by is None else covs.index(cov.by) for cov in spec.covariates.values()
        ),
        factors=tuple(factors),
        mean_by=tuple(by_index(f.mean) for f in spec.factors.values()),
        sd_by=tuple(by_index(f.sd) for f in spec.factors.values()),
        biomarkers=tuple(markers),
        families=tuple(m.family for m in spec.biomarkers.values()),
        order=tuple(markers.index(b) for b in topological_order(spec)),
        loadings=tuple(loadings),
        shifts=tuple(shifts),
        edges=tuple(edges),
        clips=tuple(
            (None, None) if m.clip is None else (_num(m.clip[0]), _num(m.clip[1]))
            for m in spec.biomarkers.values()
        ),
    )


def _num(value: float | None) -> float | None:
    return None if value is None else float(value)


def structural_fixed_sites(spec: StructuralSpec) -> dict[str, Any]:
    """The spec's numbers as values of the scene's parameter sites (plain lists/floats).

    ``<s>.<covariate>.probs``, ``<s>.<factor>.mean``/``.sd`` (one per level of ``by`` or a
    scalar), ``<s>.baseline``/``.noise`` (one per biomarker), ``<s>.loading``/``.shift``/
    ``.coef`` (one per declared entry, in StructuralLayout order), ``<s>.<biomarker>.<param>``
    for family shape parameters.
    """
    s = spec.name
    levels = spec.level_names()
    values: dict[str, Any] = {}
    for name, cov in spec.covariates.items():
        parent = None if cov.by is None else levels[cov.by]
        values[f"{s}.{name}.probs"] = cov.probabilities(parent)
    for name, factor in spec.factors.items():
        for attr in ("mean", "sd"):
            value = getattr(factor, attr)
            if isinstance(value, ByLevel):
                values[f"{s}.{name}.{attr}"] = [value.values[lv] for lv in levels[value.by]]
            else:
                values[f"{s}.{name}.{attr}"] = float(value)
    markers = spec.biomarkers.values()
    values[f"{s}.baseline"] = [m.baseline for m in markers]
    values[f"{s}.noise"] = [m.noise for m in markers]
    loading = [v for m in markers for v in m.loadings.values()]
    shift = [v for m in markers for table in m.shifts.values() for v in table.values()]
    coef = [d.coef for m in markers for d in m.dependencies().values()]
    for site, entries in (("loading", loading), ("shift", shift), ("coef", coef)):
        if entries:
            values[f"{s}.{site}"] = entries
    for name, marker in spec.biomarkers.items():
        for param, value in family_params(marker.family, marker.params, True).items():
            values[f"{s}.{name}.{param}"] = value
    return values


def entry_path(spec: StructuralSpec, layout: StructuralLayout, param: str, entry: int) -> str:
    """The field (under ``structure``) of the entry ``entry`` of the site ``<s>.<param>``,
    as the user wrote it; "" for a site whose entries do not come from separate fields."""
    markers, covs = layout.biomarkers, layout.covariates
    if param in ("baseline", "noise"):
        return f"biomarkers.{markers[entry]}.{param}"
    if param == "loading":
        b, f = layout.loadings[entry]
        return f"biomarkers.{markers[b]}.loadings.{layout.factors[f]}"
    if param == "shift":
        b, c, level = layout.shifts[entry]
        return f"biomarkers.{markers[b]}.shifts.{covs[c]}.{layout.level_names[c][level]}"
    if param == "coef":
        child, parent, _ = layout.edges[entry]
        written = spec.biomarkers[markers[child]].depends_on[markers[parent]]
        where = f"biomarkers.{markers[child]}.depends_on.{markers[parent]}"
        return f"{where}.coef" if isinstance(written, Dependency) else where
    factor, _, attr = param.partition(".")
    value = getattr(spec.factors[factor], attr) if factor in spec.factors else None
    if attr in ("mean", "sd") and isinstance(value, ByLevel):
        return f"factors.{factor}.{attr}.{spec.level_names()[value.by][entry]}"
    return ""


def check_constants(spec: StructuralSpec, path: str, dtype: str) -> None:
    """SpecError at the first clip bound or dependency centre beyond ``dtype``'s finite
    range: they are constants of the formulas, computed in ``dtype``."""
    for name, marker in spec.biomarkers.items():
        where = f"{path}.biomarkers.{name}"
        for side, bound in enumerate(marker.clip or ()):
            if bound is not None and beyond_range(bound, dtype):
                raise SpecError(f"{where}.clip[{side}]", bound, range_phrase(dtype))
        for parent, term in marker.depends_on.items():
            if isinstance(term, Dependency) and beyond_range(term.centre, dtype):
                raise SpecError(
                    f"{where}.depends_on.{parent}.centre", term.centre, range_phrase(dtype)
                )
