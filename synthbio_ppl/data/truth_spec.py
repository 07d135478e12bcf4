"""truth.json checked against spec.yaml: a folder's two files are written together, so its
truth is the one the spec gives.

Every parameter is a number, or a list of them of one shape (JSON reads text, null and a
400-digit number as well). The sites the spec fixes hold its values, as reported (in the
factual world: a counterfactual one may set them, a replicated dataset holds a posterior
draw's; a site solved from the rows, such as a
mask's intercept, holds another). The rest of the truth, its tables (features, class
means, effect sizes) and each process's own entry, is what ``data.truth.build_truth``
gives from the spec and the truth's parameters: it is rebuilt so (with the spec's value
for a site the spec declares that the truth lacks or holds in another shape) and compared
entry by entry, each table at once, so a truth edited after generation, a spec edited
since (a mask's ``affects``, a censoring time) or a truth without the spec's outcome is
refused, naming the first entry that differs. Not compared: what a run adds after the
rows are drawn (an outcome's scores and survival curve, which the rebuilt truth leaves
empty) and a counterfactual world's record. A block whose every parameter the spec fixes
(a raw-scale noise block, a structural scene) keeps its class means as written: they
follow from the spec, and a raw family's mean would import JAX. A parameter no entry of
the truth reads (a count block's per-gene DE states, say) is checked as numbers only.
"""

from __future__ import annotations

import dataclasses
import numbers
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from synthbio_ppl.core.errors import SpecError, short_repr
from synthbio_ppl.data.checks import AS_WRITTEN, plain
from synthbio_ppl.data.parts import brief
from synthbio_ppl.data.truth import Truth, as_reported, build_truth
from synthbio_ppl.model.design import design_rule
from synthbio_ppl.model.parameters import fixed_sites, spec_path
from synthbio_ppl.processes.registry import mask_of, response_of, truth_owners

DISAGREE = (
    f"spec.yaml and truth.json were not written together (one was edited since); {AS_WRITTEN}"
    "restore both as generated"
)
NUMBERS = "a truth parameter is a finite number, or a list of them of one shape (as generated)"

Difference = tuple[str, Any, str]
"""Where the stored truth first differs, its value there, and the rebuilt one in words."""


def check_truth(folder: Path, spec: Any, layout: Any, truth: Truth) -> None:
    """SpecError naming truth.json's first entry that is not what spec.yaml gives with
    the truth's parameters (module docstring), its value and the value expected."""
    path = str(folder / "truth.json")
    sites = _parameters(path, truth.parameters)
    fixed, solved = _declared(folder, spec, layout)
    if truth.world is None and truth.posterior_draw is None:  # neither holds the spec's
        _check_fixed(path, spec, truth.parameters, sites, fixed, set(solved))
    given = dict(sites)
    for site, value in {**fixed, **solved}.items():
        if site not in given or given[site].shape != value.shape:
            given[site] = value  # the spec's: the comparison names the difference
    means = _class_means(path, truth, layout, spec.class_names)
    taken = {}  # blocks whose every parameter the spec fixes: level means as written
    for block in layout.blocks if means is not None else []:
        own = [site for site in given if site.startswith(f"{block.name}.")]
        if own and all(site in fixed for site in own):  # (a raw family's mean needs JAX)
            taken[block.name] = means[:, block.start : block.stop]
    rebuilt = _rebuilt(path, spec, layout, given, taken)
    static = layout.response
    later = None if static is None else response_of(static.field).truth_field
    for name in ("features", "effect_sizes", "class_means", *truth_owners(), "parameters"):
        stored = getattr(truth, name)
        found = _difference(stored, getattr(rebuilt, name), name, lenient=name == later)
        if found is not None:
            where, value, expected = found
            raise SpecError(
                f"{path} entry {where}",
                value,
                f"spec.yaml and truth.json's parameters give {expected} there: {DISAGREE}",
            )


def _parameters(path: str, parameters: Any) -> dict[str, np.ndarray]:
    """The truth's parameters as arrays; SpecError naming one that is not numbers."""
    if not isinstance(parameters, dict):
        raise SpecError(f"{path} entry parameters", parameters, "maps each site to its value")
    out = {}
    for site, value in parameters.items():
        try:
            array = np.asarray(value)
        except (ValueError, TypeError, OverflowError):  # a ragged list
            array = np.asarray(None)
        if array.dtype.kind not in "iuf":  # text, null, true/false, a 400-digit number
            raise SpecError(f"{path} entry parameters.{site}", value, NUMBERS)
        out[str(site)] = array
    return out


def _declared(folder: Path, spec: Any, layout: Any) -> tuple[dict, dict]:
    """``(fixed, solved)``: the sites the spec fixes and those solved from the rows (their
    placeholders), as the truth reports them."""
    try:
        fixed = fixed_sites(spec)
    except SpecError as exc:  # a value the spec's dtype cannot hold: spec.yaml edited
        raise SpecError(f"{folder / 'spec.yaml'} {exc.path}", exc.value, exc.allowed) from None
    solved: dict[str, Any] = {}
    for static in layout.masks:
        solved.update(mask_of(static.field).placeholder_sites(static))
    if layout.response is not None:
        solved.update(response_of(layout.response.field).placeholder_sites(layout.response))
    dtype = spec.dtype
    return (
        {site: as_reported(value) for site, value in fixed.items()},
        {site: as_reported(np.asarray(value, dtype=dtype)) for site, value in solved.items()},
    )


def _check_fixed(
    path: str,
    spec: Any,
    written: dict[str, Any],
    sites: dict[str, np.ndarray],
    fixed: dict[str, np.ndarray],
    solved: set[str],
) -> None:
    """Each site the spec fixes (not one solved from the rows) holds the spec's value,
    where it has the spec's shape (the comparison names another shape)."""
    for site, want in fixed.items():
        got = sites.get(site)
        if site in solved or got is None or got.shape != want.shape:
            continue
        differ = got.reshape(-1) != want.reshape(-1)
        if differ.any():
            entry = int(np.flatnonzero(differ)[0])
            field, whole = spec_path(spec, site, entry)
            shown = want.tolist() if whole else plain(want.reshape(-1)[entry])
            raise SpecError(
                f"{path} entry parameters.{site}",
                written[site],
                f"spec.yaml's {field} gives {short_repr(shown)}: {DISAGREE}",
            )


def _class_means(path: str, truth: Truth, layout: Any, classes: list[str]) -> np.ndarray | None:
    """The truth's class means, (classes, features), where labelled as the spec's (else
    None: the comparison names the labels). SpecError naming a cell of the class means or
    effect sizes that is not a number (NaN, as a mean without a closed form is written,
    is compared with the rebuilt truth)."""
    for name in ("class_means", "effect_sizes"):
        table = getattr(truth, name)
        cells = table.to_numpy()
        bad = np.zeros(cells.shape, dtype=bool) if _numeric(cells) is not None else ~_number(cells)
        if bad.any():
            j, i = np.argwhere(bad.T)[0]
            row, column = plain(table.index[i]), plain(table.columns[j])
            raise SpecError(
                f"{path} entry {name}[{row!r}, {column!r}]",
                plain(table.iat[i, j]),
                "the truth's class means and effect sizes are numbers",
            )
    table = truth.class_means
    labelled = list(table.index) == list(layout.columns) and list(table.columns) == classes
    return table.to_numpy(dtype=np.float64).T if labelled else None


@np.vectorize(otypes=[bool])
def _number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_)


def _rebuilt(
    path: str, spec: Any, layout: Any, sites: dict[str, np.ndarray], taken: dict[str, np.ndarray]
) -> Truth:
    """The truth the spec gives with these parameters, the level means of the blocks in
    ``taken`` as given (SpecError where it cannot be built from them: a parameter it
    reads absent, or of a shape it cannot use)."""
    try:
        return build_truth(spec, layout, design_rule(spec), sites, taken)
    except KeyError as exc:
        raise SpecError(
            f"{path} entry parameters.{exc.args[0]}",
            None,
            f"spec.yaml's truth reads this parameter, which truth.json lacks: {DISAGREE}",
        ) from None
    except (ValueError, TypeError, IndexError, ArithmeticError) as exc:
        raise SpecError(
            f"{path} entry parameters",
            "(of these shapes)",
            f"spec.yaml's truth cannot be rebuilt from them ({brief(exc)}): {DISAGREE}",
        ) from None


def _difference(a: Any, b: Any, where: str, lenient: bool = False) -> Difference | None:
    """Where the stored ``a`` first differs from the rebuilt ``b`` (None: nowhere). Empty
    entries (None, {}, an empty table) are alike; with ``lenient``, a key ``b`` leaves
    empty is what a run fills after drawing the rows, not compared."""
    if _empty(a) and _empty(b):
        return None
    if isinstance(a, pd.DataFrame) or isinstance(b, pd.DataFrame):
        return _table_difference(a, b, where)
    if dataclasses.is_dataclass(a) and type(a) is type(b):
        return _difference(vars(a), vars(b), where, lenient)
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        for key in dict.fromkeys([*b, *a]):
            if lenient and _empty(b.get(key)):
                continue
            found = _difference(a.get(key), b.get(key), f"{where}.{key}")
            if found is not None:
                return found
        return None
    if isinstance(a, list | tuple | np.ndarray) and isinstance(b, list | tuple | np.ndarray):
        return _list_difference(a, b, where)
    return None if _same(a, b) else (where, _value(a), _words(b))


def _list_difference(a: Any, b: Any, where: str) -> Difference | None:
    x, y = _numeric(a), _numeric(b)
    if x is not None and y is not None:
        if x.shape != y.shape:
            return where, _value(a), _words(b)
        same = _alike(x, y)
        if same.all():
            return None
        at = np.unravel_index(int(np.argmin(same)), same.shape)
        place = "".join(f"[{i}]" for i in at)
        return f"{where}{place}", plain(np.asarray(a)[at]), _words(np.asarray(b)[at])
    if len(a) != len(b):
        return where, _value(a), _words(b)
    for i, (p, q) in enumerate(zip(a, b, strict=True)):
        found = _difference(p, q, f"{where}[{i}]")
        if found is not None:
            return found
    return None


def _table_difference(a: Any, b: Any, where: str) -> Difference | None:
    """The first row label, column label or cell (``name['row', 'column']``) where two
    tables differ, each column compared at once."""
    if not (isinstance(a, pd.DataFrame) and isinstance(b, pd.DataFrame)):
        return where, _value(a), _words(b)
    if list(a.index) != list(b.index):
        return where, list(a.index), f"the rows {short_repr(list(b.index))}"
    if list(a.columns) != list(b.columns):
        return where, list(a.columns), f"the columns {short_repr(list(b.columns))}"
    kinds = zip(a.dtypes, b.dtypes, strict=True)
    numeric = [j for j, (s, t) in enumerate(kinds) if s.kind in "biuf" and t.kind in "biuf"]
    found = []  # (column, row) of the first difference in the numeric columns, the others
    if numeric:  # at once: a wide table (a batch's effect on every feature) in one step
        same = _alike(a.iloc[:, numeric].to_numpy(), b.iloc[:, numeric].to_numpy())
        found += [(numeric[j], i) for j, i in np.argwhere(~same.T)[:1]]
    for j in sorted(set(range(b.shape[1])) - set(numeric)):
        same = _alike(a.iloc[:, j].to_numpy(), b.iloc[:, j].to_numpy())
        if not same.all():
            found.append((j, int(np.argmin(same))))
            break
    if not found:
        return None
    j, i = min(found)
    row, label = plain(b.index[i]), plain(b.columns[j])
    return f"{where}[{row!r}, {label!r}]", plain(a.iat[i, j]), _words(b.iat[i, j])


def _alike(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Which cells of two arrays of one shape hold the same value (NaN alike)."""
    p, q = _numeric(x), _numeric(y)
    if p is not None and q is not None:
        return (p == q) | (np.isnan(p) & np.isnan(q))
    flat = [_same(u, v) for u, v in zip(x.reshape(-1), y.reshape(-1), strict=True)]
    return np.array(flat, dtype=bool).reshape(x.shape)


def _numeric(value: Any) -> np.ndarray | None:
    """Numbers (true/false among them) as float64, or None for anything else."""
    try:
        array = np.asarray(value)
    except (ValueError, TypeError, OverflowError):
        return None
    return array.astype(np.float64) if array.dtype.kind in "biuf" else None


def _same(a: Any, b: Any) -> bool:
    """Two values alike: numbers by value (NaN alike), true/false only as true/false."""
    if isinstance(a, bool | np.bool_) or isinstance(b, bool | np.bool_):
        return isinstance(a, bool | np.bool_) and isinstance(b, bool | np.bool_) and a == b
    if isinstance(a, numbers.Real) and isinstance(b, numbers.Real):
        try:
            x, y = float(a), float(b)
        except OverflowError:  # a 400-digit number JSON read as an int
            return bool(a == b)
        return x == y or (np.isnan(x) and np.isnan(y))
    if isinstance(a, numbers.Real) or isinstance(b, numbers.Real) or a is None or b is None:
        return a is b  # a number and text, say
    try:
        return bool(a == b)
    except (ValueError, TypeError):  # arrays compared: the caller compares lists
        return False


def _empty(value: Any) -> bool:
    if isinstance(value, pd.DataFrame):
        return value.empty
    return value is None or (isinstance(value, dict | list | tuple) and not value)


def _value(value: Any) -> Any:
    """A stored value as a message shows it (a table or an object by what it is)."""
    if isinstance(value, pd.DataFrame):
        return f"a table of {len(value)} rows"
    if dataclasses.is_dataclass(value):
        return f"an entry ({type(value).__name__})"
    return value.tolist() if isinstance(value, np.ndarray) else plain(value)


def _words(value: Any) -> str:
    """A rebuilt value in a message's words."""
    if value is None:
        return "no entry"
    if isinstance(value, pd.DataFrame) or dataclasses.is_dataclass(value):
        return _value(value)
    return short_repr(_value(value))
