"""A study's scenarios: the base spec with fields overridden by path, one spec per scenario.

A grid ``{"informative[0].effect_size": [0.2, 0.5], "noise[0].n": [100, 1000]}`` gives the
full factorial design (every combination, the first path varying slowest), as in
Morris, White & Crowther (2019), "Using simulation studies to evaluate statistical
methods", Stat. Med. 38:2074. A list of mappings gives the scenarios one by one instead.
"""

from __future__ import annotations

import copy
import itertools
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from synthbio_ppl.core.errors import SpecError
from synthbio_ppl.model.scene import Spec, validate_spec
from synthbio_ppl.spec.fields import IMPLICIT_CLASS

__all__ = ["MAX_SCENARIOS", "Scenario", "parse_path", "scenarios"]

MAX_SCENARIOS = 100_000
"""More scenarios than this are refused: a study that size is a typo, not a plan."""

_PART = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)|\[([0-9]+)\]")
SET_BY_THE_STUDY = {"seed": "a study sets each replicate's seed (cell_seed); vary `replicates`"}
"""Spec paths a grid may not vary, and why."""


@dataclass(frozen=True)
class Scenario:
    """One point of the grid: its index, the overridden values by path, and its spec."""

    index: int
    values: dict[str, Any]
    spec: Spec

    @property
    def label(self) -> str:
        """``path=value, ...`` (the base spec's own values where the grid is empty)."""
        return ", ".join(f"{k}={_text(v)}" for k, v in self.values.items()) or "base"


def parse_path(path: str) -> tuple[str | int, ...]:
    """``"informative[0].effect_size"`` -> ``("informative", 0, "effect_size")``.

    Raises SpecError (path ``grid``) when the path is not dotted names and ``[i]`` indices.
    """
    if not isinstance(path, str) or not path:
        raise SpecError("grid", path, "a grid key is a spec field path such as noise[0].n")
    parts: list[str | int] = []
    at = 0
    for match in _PART.finditer(path):
        gap = path[at : match.start()]
        name = match.group(1) is not None
        # a name follows a dot (the first one nothing); an index follows directly
        if gap != ("." if name and parts else ""):
            break
        parts.append(match.group(1) if match.group(1) else int(match.group(2)))
        at = match.end()
    if at != len(path) or not parts or isinstance(parts[0], int):
        raise SpecError(
            "grid",
            path,
            "a grid key is a spec field path: names joined by dots, list entries as [i] "
            "(informative[0].effect_size, batches.confounding)",
        )
    return tuple(parts)


def _text_of(parts: tuple[str | int, ...]) -> str:
    """A parsed path written back (``noise[00].n`` -> ``noise[0].n``)."""
    out = ""
    for part in parts:
        out = f"{out}[{part}]" if isinstance(part, int) else (f"{out}.{part}" if out else part)
    return out


def _check_paths(parsed: dict[str, tuple[str | int, ...]]) -> None:
    """Refuse a path the study sets itself, and two paths that set the same field (one
    the same as, or inside, the other): the second would override the first unseen."""
    for path, parts in parsed.items():
        if parts[0] in SET_BY_THE_STUDY:
            raise SpecError(f"grid.{path}", path, SET_BY_THE_STUDY[str(parts[0])])
    items = list(parsed.items())
    for i, (path, parts) in enumerate(items):
        for other, theirs in items[i + 1 :]:
            short, long = sorted((parts, theirs), key=len)
            if long[: len(short)] == short:
                raise SpecError(
                    f"grid.{other}",
                    other,
                    f"sets the same field as grid path {path!r} ({_text_of(short)}); "
                    "give each field once",
                )


def _get(tree: Any, parts: tuple[str | int, ...]) -> Any:
    """The value at ``parts`` in the dumped spec, or None where the path is absent."""
    node = tree
    for part in parts:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return None
    return node


def _set(tree: Any, path: str, parts: tuple[str | int, ...], value: Any) -> None:
    """Put ``value`` at ``parts`` in the dumped spec ``tree``; the path must exist there."""
    node = tree
    walked = ""
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        if isinstance(part, int):
            if not isinstance(node, list):
                raise SpecError(f"grid.{path}", value, f"{walked} is not a list; drop [{part}]")
            if part >= len(node) and not node:
                raise SpecError(
                    f"grid.{path}",
                    value,
                    f"the base spec has no {walked}; add a `{walked}:` entry to vary it",
                )
            if part >= len(node):
                raise SpecError(
                    f"grid.{path}",
                    value,
                    f"the base spec's {walked} has {len(node)} entr"
                    f"{'y' if len(node) == 1 else 'ies'}; index from 0 to {len(node) - 1}",
                )
        else:
            if not isinstance(node, dict):
                raise SpecError(f"grid.{path}", value, f"{walked} holds no fields")
            if part not in node:
                known = ", ".join(sorted(map(str, node))) or "none"
                where = f"{walked} has" if walked else "a spec has"
                raise SpecError(
                    f"grid.{path}", value, f"{where} no field {part!r} (its fields: {known})"
                )
        walked = _text_of(parts[: depth + 1])
        if last:
            node[part] = value
        elif node[part] is None:
            raise SpecError(
                f"grid.{path}",
                value,
                f"the base spec has no {walked}; add one to it to vary its fields",
            )
        else:
            node = node[part]


def _levels(path: str, values: Any) -> list[Any]:
    listed = isinstance(values, Sequence) or (
        hasattr(values, "__iter__") and hasattr(values, "shape")
    )
    if (
        isinstance(values, str | bytes | Mapping)
        or not listed
        or (hasattr(values, "shape") and np.ndim(values) != 1)
    ):
        raise SpecError(f"grid.{path}", values, "give a list of the values to try")
    values = list(values)
    if not values:
        raise SpecError(f"grid.{path}", values, "give at least one value to try")
    return [_plain(v) for v in values]


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python number it holds (the spec's fields take those)."""
    item = getattr(value, "item", None)
    return item() if callable(item) and getattr(value, "shape", None) == () else value


def scenarios(
    base: Spec, grid: Mapping[str, Sequence[Any]] | Sequence[Mapping[str, Any]] | None
) -> list[Scenario]:
    """Every scenario of ``grid`` over ``base``, each spec validated.

    ``grid``: ``{path: [values]}`` (full factorial, in the order given: the last path varies
    fastest) or a list of ``{path: value}`` mappings (one scenario each); None or empty:
    the base spec alone. Raises SpecError naming ``grid.<path>`` and the value for a path
    the base spec does not have, or a value its field refuses (with the field's own
    message).
    """
    if grid is None or (isinstance(grid, Mapping | list | tuple) and not grid):
        points: list[dict[str, Any]] = [{}]
    elif isinstance(grid, Mapping):
        axes = {path: _levels(path, values) for path, values in grid.items()}
        size = math.prod(len(levels) for levels in axes.values())
        if size > MAX_SCENARIOS:
            raise SpecError(
                "grid", f"{size:,} scenarios", f"at most {MAX_SCENARIOS:,}: split the study"
            )
        points = [
            dict(zip(axes, combo, strict=True)) for combo in itertools.product(*axes.values())
        ]
    elif isinstance(grid, Sequence) and not isinstance(grid, str | bytes):
        points = []
        for i, point in enumerate(grid):
            if not isinstance(point, Mapping):
                raise SpecError(f"grid[{i}]", point, "a scenario is a mapping {path: value}")
            points.append({path: _plain(value) for path, value in point.items()})
    else:
        raise SpecError("grid", grid, "a mapping {path: [values]} or a list of {path: value}")
    parsed = {path: parse_path(path) for point in points for path in point}
    _check_paths(parsed)
    dumped = base.model_dump(mode="json")
    touched = {parsed[p][0] for p in parsed}
    if base.class_names == [IMPLICIT_CLASS] and "classes" not in touched:
        del dumped["classes"]  # implicit: the rows come from the block (outcome.n), as given
    out = []
    for index, point in enumerate(points):
        tree = copy.deepcopy(dumped)
        for path, value in point.items():
            _set(tree, path, parsed[path], value)
        try:
            spec = validate_spec(tree)
        except SpecError as exc:
            values = ", ".join(f"{k}={_text(v)}" for k, v in point.items())
            raise SpecError(
                f"grid (scenario {index}: {values})", exc.value, f"{exc.path}: {exc.allowed}"
            ) from None
        # a listed scenario that leaves a path alone has the base's value there
        given = {p: point[p] if p in point else _get(dumped, parsed[p]) for p in parsed}
        out.append(Scenario(index, given, spec))
    return out


def _text(value: Any) -> str:
    return json.dumps(value) if isinstance(value, dict | list) else str(value)
