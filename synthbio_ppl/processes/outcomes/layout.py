"""The outcome's static layout: which columns and design levels its terms read.

Names resolve here once: a feature column, a whole block (every column, one coefficient
each) or ``design=level`` (``class=case``, ``batch=b1``, ``smoker=current``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from synthbio_ppl.core.errors import SpecError
from synthbio_ppl.processes.block import Block
from synthbio_ppl.processes.outcomes.spec import Outcome
from synthbio_ppl.processes.selection import merge_ranges

CLASS = "class"
"""How a term names the class design (its codes are the design's ``y``)."""


@dataclass(frozen=True)
class Linear:
    """Linear terms: ``columns`` feature indices (−1 for a design level), ``levels``
    (design code name, level) for the −1 entries, ``names`` one label per term,
    ``sources`` the index of the spec entry each term comes from (a block gives many)."""

    columns: tuple[int, ...]
    levels: tuple[tuple[str, int], ...]
    names: tuple[str, ...]
    sources: tuple[int, ...] = ()


@dataclass(frozen=True)
class Cause:
    """One cause of failure: its name (site prefix), baseline family and linear terms."""

    name: str
    family: str
    linear: Linear


@dataclass(frozen=True)
class OutcomeLayout:
    field: str
    name: str
    kind: str
    linear: Linear
    interactions: tuple[tuple[int, int], ...] = ()
    quadratic: tuple[int, ...] = ()
    thresholds: tuple[int, ...] = ()
    xor: tuple[tuple[int, int], ...] = ()
    term_names: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """(site suffix, entry labels) of the nonlinear terms."""
    link: str = "logit"
    exact: bool = False
    solve_intercept: bool = False
    solve_noise: bool = False
    n_batches: int = 0
    causes: tuple[Cause, ...] = ()
    end_of_study: bool = False
    random_censoring: bool = False
    censoring_target: bool = False
    """A censored share is asked for (0 included): the pilot checks the end of study."""
    reads: tuple[str, ...] = ()
    """The feature columns its terms read (any cause), in column order."""
    bio_columns: tuple[tuple[int, int], ...] = ()
    """Column runs whose values the outcome reads after undoing column effects."""


def _resolver(
    blocks: list[Block], columns: Callable[[Block], list[str]], design: dict[str, list[str]]
) -> Callable[[str, str, bool], list[tuple[int, tuple[str, int] | None, str]]]:
    index: dict[str, int] = {}
    by_block: dict[str, list[int]] = {}
    for block in blocks:
        names = columns(block)
        by_block[block.name] = list(range(block.start, block.stop))
        for j, name in enumerate(names):
            index[name] = block.start + j

    def resolve(name: str, path: str, whole: bool) -> list[tuple[int, tuple[str, int] | None, str]]:
        if name in index:
            return [(index[name], None, name)]
        if whole and name in by_block:
            all_names = {j: n for n, j in index.items()}
            return [(j, None, all_names[j]) for j in by_block[name]]
        if whole and "=" in name:
            column, _, level = name.partition("=")
            if column in design and level in design[column]:
                return [(-1, (column, design[column].index(level)), name)]
            if column in design:
                raise SpecError(path, name, f"{column} has the levels {design[column]}")
        allowed = "feature column" + (", block or design=level" if whole else "")
        known = [*list(index)[:3], "..."] if len(index) > 3 else list(index)
        raise SpecError(path, name, f"names no {allowed} of this scene (columns: {known})")

    return resolve


def build_outcome_layout(
    group: Outcome,
    field: str,
    blocks: list[Block],
    columns: Callable[[Block], list[str]],
    design: dict[str, list[str]],
    n_batches: int,
    affected: Callable[[int], str],
) -> OutcomeLayout:
    """The static layout of ``group``; SpecError names an unknown column or level.
    ``affected(j)`` says which column effect (batches) acts on feature j: "" none,
    "affine" (undone before the terms read it), "counts" (cannot be undone: refused)."""
    resolve = _resolver(blocks, columns, design)
    reads: list[tuple[str, int]] = []  # (spec path, feature column) of every term

    def linear(terms: dict[str, float], path: str) -> Linear:
        found = [
            (i, t) for i, name in enumerate(terms) for t in resolve(name, f"{path}.{name}", True)
        ]
        seen: dict[Any, str] = {}
        for i, (j, level, label) in found:
            key = level if j < 0 else j
            name = list(terms)[i]
            if key in seen:
                raise SpecError(
                    f"{path}.{name}",
                    label,
                    f"is a term already (through {seen[key]}); give each column once",
                )
            seen[key] = name
            if j >= 0:
                reads.append((f"{path}.{name}", j))
        return Linear(
            tuple(j for _, (j, _, _) in found),
            tuple(level for _, (_, level, _) in found if level is not None),
            tuple(label for _, (*_, label) in found),
            tuple(i for i, _ in found),
        )

    def one(name: str, path: str) -> int:
        j = resolve(name, path, False)[0][0]
        reads.append((path, j))
        return j

    main = linear(group.coefficients, f"{field}.coefficients")
    pairs = [
        (
            one(t.features[0], f"{field}.interactions[{i}].features"),
            one(t.features[1], f"{field}.interactions[{i}].features"),
        )
        for i, t in enumerate(group.interactions)
    ]
    quadratic = [
        one(t.feature, f"{field}.quadratic[{i}].feature") for i, t in enumerate(group.quadratic)
    ]
    steps = [
        one(t.feature, f"{field}.thresholds[{i}].feature") for i, t in enumerate(group.thresholds)
    ]
    xors = [
        (
            one(t.features[0], f"{field}.xor[{i}].features"),
            one(t.features[1], f"{field}.xor[{i}].features"),
        )
        for i, t in enumerate(group.xor)
    ]
    names = (  # the constants (c) are in the truth's terms table, not in the layout
        ("interactions", tuple(f"{a}*{b}" for a, b in (t.features for t in group.interactions))),
        ("quadratic", tuple(f"({t.feature}-c)^2" for t in group.quadratic)),
        ("thresholds", tuple(f"{t.feature}>c" for t in group.thresholds)),
        ("xor", tuple(f"{a} xor {b}" for a, b in (t.features for t in group.xor))),
    )
    causes: tuple[Cause, ...] = ()
    censoring = group.censoring
    if group.kind == "survival":
        baseline = group.baseline.distribution if group.baseline else "weibull"
        causes = (
            Cause(group.name, baseline, main),
            *(
                Cause(
                    r.name,
                    r.baseline.distribution,
                    linear(r.coefficients, f"{field}.competing_risks[{i}].coefficients"),
                )
                for i, r in enumerate(group.competing_risks)
            ),
        )
    read = sorted(
        {j for j in main.columns if j >= 0}
        | {j for pair in (*pairs, *xors) for j in pair}
        | set(quadratic)
        | set(steps)
        | {j for c in causes for j in c.linear.columns if j >= 0}
    )
    counts = next(((path, j) for path, j in reads if affected(j) == "counts"), None)
    if counts is not None:
        path, j = counts
        raise SpecError(
            path,
            _column_name(blocks, columns, j),
            "reads a count column under batch effects; a batch multiplies counts, which the "
            "outcome cannot undo: drop the count block from batches.affects or from the terms",
        )
    return OutcomeLayout(
        field=field,
        name=group.name,
        kind=group.kind,
        linear=main,
        interactions=tuple(pairs),
        quadratic=tuple(quadratic),
        thresholds=tuple(steps),
        xor=tuple(xors),
        term_names=tuple((suffix, labels) for suffix, labels in names if labels),
        link=group.link,
        exact=group.cases is not None,
        solve_intercept=group.prevalence is not None,
        solve_noise=group.kind == "continuous" and group.noise_sd is None,
        n_batches=n_batches if group.batch_effect > 0 else 0,
        causes=causes,
        end_of_study=bool(censoring and censoring.end_of_study is not None),
        random_censoring=bool(censoring and censoring.fraction),
        censoring_target=bool(censoring and censoring.fraction is not None),
        reads=tuple(_column_name(blocks, columns, j) for j in read),
        bio_columns=merge_ranges([(j, j + 1) for j in read if affected(j)]),
    )


def _column_name(blocks: list[Block], columns: Callable[[Block], list[str]], j: int) -> str:
    return next(columns(b)[j - b.start] for b in blocks if b.start <= j < b.stop)


def linear_names(static: OutcomeLayout) -> dict[str, tuple[str, ...]]:
    """``{site: entry labels}`` of every coefficient vector."""
    out = {f"{static.name}.coefficients": static.linear.names}
    for suffix, labels in static.term_names:
        out[f"{static.name}.{suffix}"] = labels
    for cause in static.causes[1:]:
        out[f"{cause.name}.coefficients"] = cause.linear.names
    return out


def outcome_columns(static: OutcomeLayout) -> set[int]:
    """Every feature column a term of any cause reads."""
    pairs = [j for pair in (*static.interactions, *static.xor) for j in pair]
    linear = [j for c in (static.linear, *(c.linear for c in static.causes)) for j in c.columns]
    return {j for j in [*linear, *pairs, *static.quadratic, *static.thresholds] if j >= 0}


def describe_terms(group: Outcome) -> str:
    singular = {"interactions": "interaction", "quadratic": "quadratic", "thresholds": "threshold"}
    parts = [f"{len(group.coefficients)} linear"]
    for name in ("interactions", "quadratic", "thresholds", "xor"):
        count = len(getattr(group, name))
        if count:
            parts.append(f"{count} {singular.get(name, 'XOR') if count == 1 else name}")
    return ", ".join(parts)
