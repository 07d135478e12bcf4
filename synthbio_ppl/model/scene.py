"""The whole scene's spec, assembled from the registered processes; YAML in and out.

``Spec`` has the shared fields (name, seed, shuffle, dtype, classes) and one field per
registered process (``informative: [InformativeGroup]``, ``batches: Batches | None``, ...),
in registry order. The YAML shape is the public contract: fields may be added, never
removed. Every field carries a description, and ``synthbio reference`` renders them.
"""

from __future__ import annotations

import re
from collections.abc import Hashable
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field, ValidationError, create_model, model_validator

from synthbio_ppl.core.errors import SpecError, from_validation_error
from synthbio_ppl.core.streams import stable_id
from synthbio_ppl.model.layout import build_layout, groups_of
from synthbio_ppl.processes.registry import (
    BLOCK_PROCESSES,
    MASKS,
    MODIFIERS,
    RESPONSES,
    modifier_of,
    process_of,
    response_of,
    spec_order,
)
from synthbio_ppl.spec.fields import (
    IMPLICIT_CLASS,
    MAX_ROWS,
    TOO_MANY_ROWS,
    ClassSpec,
    Count,
    Flag,
    Strict,
)
from synthbio_ppl.spec.ranges import check_numbers_in_range


class SceneFields(Strict):
    """A whole dataset: classes, feature blocks, modifiers (batches)."""

    name: str = Field("dataset", min_length=1, description="Dataset name.")
    seed: Count = Field(0, ge=0, lt=2**32, description="Root seed; every stream derives from it.")
    shuffle: Flag = Field(True, description="Shuffle rows; false keeps them grouped by class.")
    dtype: Literal["float32", "float64"] = Field("float32", description="Feature dtype.")
    classes: list[ClassSpec] = Field(
        default_factory=lambda: [ClassSpec(name="healthy", n=50), ClassSpec(name="diseased", n=50)],
        min_length=1,
        description="Two or more classes with exact counts. A structural scene may omit them "
        f"(one implicit class `{IMPLICIT_CLASS}` of `structure.n` rows, y constant).",
    )

    @model_validator(mode="before")
    @classmethod
    def _implicit_class(cls, data: Any) -> Any:
        """A spec without ``classes`` gets one class of the rows a process declares."""
        if not isinstance(data, dict) or "classes" in data:
            return data
        for process in [*BLOCK_PROCESSES, *RESPONSES]:
            raw = data.get(process.field)
            n = None if raw is None or process.many else process.implicit_rows(raw)
            if n is not None:
                return {**data, "classes": [{"name": IMPLICIT_CLASS, "n": n}]}
        return data

    @property
    def class_names(self) -> list[str]:
        return [c.name for c in self.classes]

    @property
    def n_rows(self) -> int:
        return sum(c.n for c in self.classes)

    @property
    def label_names(self) -> list[str] | None:
        """The levels of ``y``: the class names, or a binary outcome's labels where it
        replaces the classes; None where a continuous outcome does (``y`` is a number)."""
        layout = build_layout(self)
        if layout.response is not None:
            process = response_of(layout.response.field)
            if process.replaces_labels(layout.response):
                return process.label_names(getattr(self, process.field))
        return self.class_names

    @model_validator(mode="after")
    def _check_whole(self) -> SceneFields:
        names = self.class_names
        if len(set(names)) != len(names):
            raise SpecError("classes", names, "class names must be unique")
        present = [p for p in BLOCK_PROCESSES if groups_of(self, p)]
        responses = [r for r in RESPONSES if getattr(self, r.field) is not None]
        if len(names) < 2 and not any(p.allows_one_class for p in present) and not responses:
            raise SpecError("classes", names, "give two or more classes")
        if self.n_rows > MAX_ROWS:
            raise SpecError("classes", f"{self.n_rows:,} rows in all", TOO_MANY_ROWS)
        for process in present:
            for i, group in enumerate(groups_of(self, process)):
                path = f"{process.field}[{i}]" if process.many else process.field
                process.check(group, path, names)
                process.check_dtype(group, path, self.dtype)
                process.check_rows(group, self.n_rows)
        if not present:
            raise SpecError("", "no feature blocks", "add at least one block of features")
        for modifier in MODIFIERS:
            if getattr(self, modifier.field) is not None:
                modifier.check_rows(getattr(self, modifier.field), self.n_rows)
        layout = build_layout(self)
        taken = {b.name for b in layout.blocks} | {m.site_prefix for m in MODIFIERS}
        for mask in MASKS:
            statics = [m for m in layout.masks if m.field == mask.field]
            mask.check_scene(list(getattr(self, mask.field)), statics, self, taken)
        _check_block_names(self, layout)
        _check_column_names(layout)
        _check_design_names(layout)
        taken |= {entry.name for entry in layout.masks}
        for response in responses:
            response.check_scene(getattr(self, response.field), self)
            for path, name in response.site_prefixes(getattr(self, response.field)):
                if name in taken:
                    raise SpecError(
                        path, name, "names a block, modifier or missing entry; choose another"
                    )
            _check_outcome_columns(response, layout)
        # last: a process's own check of its numbers says more (a time scale, a clip)
        check_numbers_in_range(self.model_dump(by_alias=True), self.dtype)
        return self

    def to_yaml(self) -> str:
        """The spec as YAML text (every field, defaults included)."""
        return yaml.safe_dump(self.model_dump(mode="json"), sort_keys=False)

    def with_seed(self, seed: int | None) -> Spec:
        """A copy with another root seed (``None`` keeps this one)."""
        return self if seed is None else validate_spec({**self.model_dump(), "seed": seed})


def _check_block_names(spec: Any, layout: Any) -> None:
    """Block names are unique (they name columns, sites and random streams)."""
    blocks = iter(layout.blocks)
    seen: set[str] = set()
    streams: dict[int, str] = {}
    named = []
    for process in BLOCK_PROCESSES:
        for i in range(len(groups_of(spec, process))):
            block = next(blocks)
            path = f"{process.field}[{i}].name" if process.many else f"{process.field}.name"
            if block.name in seen:
                raise SpecError(path, block.name, "block names must be unique")
            # streams are keyed by a name's 32-bit id: one id would draw the same values
            other = streams.setdefault(stable_id(block.name), block.name)
            if other != block.name:
                why = f"has the same stream id (CRC-32) as block {other!r}, so the two would"
                raise SpecError(path, block.name, f"{why} draw the same values; rename one")
            seen.add(block.name)
            named.append((process, block, path))
    # ``affects: [name]`` and ``do`` would mean both the block (or factor) and the column
    for process, block, path in named:
        owner = _column_owner(layout, block.name, besides=block)
        if owner is not None:
            raise SpecError(path, block.name, f"is a column of block {owner.name!r}")
        # a numbered block's variables are its columns; a scene's also its factors
        for name in process.variable_names(block) if block.columns else ():
            if process.has_column(block, name):  # a column clash is checked later
                continue
            owner = _column_owner(layout, name, besides=block)
            if owner is not None:
                path = process.variable_path(block, name)
                raise SpecError(path, name, f"is a column of block {owner.name!r}")


def _column_owner(layout: Any, name: str, besides: Any) -> Any:
    """The block other than ``besides`` that has a column ``name``, or None."""
    return next(
        (b for b in layout.blocks if b is not besides and process_of(b.kind).has_column(b, name)),
        None,
    )


def _check_column_names(layout: Any) -> None:
    """Column names the user chose (a scene's biomarkers) clash with no other column, and
    no column takes a design column's name (y, batch, ...). Numbered columns of blocks with
    unique names cannot clash with each other, so they are never listed: a block may have
    millions."""
    design = ["y", *(name for m in MODIFIERS for name in m.design_names)]
    for block in layout.blocks:
        design += process_of(block.kind).design_columns(block)
    named = [block for block in layout.blocks if block.columns]
    for block in named:
        owner = process_of(block.kind)
        repeated = sorted({c for c in block.columns if block.columns.count(c) > 1})
        if repeated:
            raise SpecError(owner.columns_path(block), repeated[0], "names two columns")
        for other in layout.blocks:
            clash = next(
                (c for c in block.columns if process_of(other.kind).has_column(other, c)), None
            )
            if other is not block and clash is not None:
                raise SpecError(
                    owner.columns_path(block), clash, "clashes with another column name"
                )
    for name in design:
        for block in layout.blocks:
            if process_of(block.kind).has_column(block, name):
                path = process_of(block.kind).columns_path(block)
                raise SpecError(path, name, "is a design column's name (y, batch, ...)")


def _check_outcome_columns(response: Any, layout: Any) -> None:
    """The outcome's own table columns (time, event) are no feature's or design column's."""
    design = [name for m in layout.modifiers for name in modifier_of(m.field).design_columns(m)]
    for block in layout.blocks:
        design += process_of(block.kind).design_columns(block)
    for column in response.columns(layout.response):
        if column == "y":
            continue
        owner = next((b for b in layout.blocks if process_of(b.kind).has_column(b, column)), None)
        if owner is not None or column in design:
            path = process_of(owner.kind).columns_path(owner) if owner else response.field
            raise SpecError(path, column, f"is a column of the {response.field}; rename it")


def _check_design_names(layout: Any) -> None:
    """Design columns (covariates, batch, <block>_group) must not take each other's names."""
    reserved = ["y", *(name for m in MODIFIERS for name in m.design_names)]
    suffixes = [(p, p.design_suffix) for p in BLOCK_PROCESSES if p.design_suffix]
    rule = ", ".join([*reserved, *(f"*{suffix}" for _, suffix in suffixes)])
    seen: list[str] = []
    for block in layout.blocks:
        process = process_of(block.kind)
        for column in process.design_columns(block):
            path = process.design_path(block, column)
            clash = any(column.endswith(s) for q, s in suffixes if q is not process)
            if column in reserved or clash:
                raise SpecError(path, column, f"is reserved ({rule})")
            if column in seen:
                raise SpecError(path, column, "names another design column")
            seen.append(column)


def _process_fields() -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for process in spec_order():
        if getattr(process, "many", False):
            kind = list[process.spec_model]  # type: ignore[name-defined]
            fields[process.field] = (
                kind,
                Field(default_factory=list, description=process.description),
            )
        else:
            fields[process.field] = (
                process.spec_model | None,
                Field(None, description=process.description),
            )
    return fields


Spec = create_model(  # type: ignore[call-overload]
    "Spec",
    __base__=SceneFields,
    __module__=__name__,
    __doc__="A whole dataset: classes, feature blocks, batches.",
    **_process_fields(),
)
"""The validated spec of a scene (a pydantic model; one field per registered process)."""

SpecLike = Spec | dict[str, Any] | str | Path


def validate_spec(data: Spec | dict[str, Any]) -> Spec:
    """A validated Spec from a dict (or the Spec itself); raise SpecError when invalid."""
    if isinstance(data, Spec):
        return data
    if isinstance(data, str | Path):
        raise SpecError(
            "", data, "a spec must be a mapping of fields; read a YAML file with sb.load_spec"
        )
    if not isinstance(data, dict):
        raise SpecError("", data, "a spec must be a mapping of fields")
    try:
        return Spec.model_validate(data)
    except ValidationError as exc:
        raise from_validation_error(exc, Spec) from None


def load_spec(source: str | Path) -> Spec:
    """Read and validate a YAML spec file; SpecError names the file, line or field."""
    return validate_spec(read_yaml(source, "a spec is a YAML file", "a spec"))


def read_yaml(source: str | Path, kind: str, what: str) -> Any:
    """The document of a YAML file, read by YAML's safe loader with the spec's rules (a
    key given twice, aliases that expand too far, 4,300-digit numbers refused); SpecError
    names the file and the line. ``kind`` says what the file should be ("a spec is a
    YAML file"), ``what`` the thing read ("a spec", "a study")."""
    path = Path(source)
    if path.exists() and not path.is_file():  # a folder, a pipe, a device: never read
        raise SpecError("", str(path), f"not a regular file ({kind})")
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SpecError("", str(path), f"cannot read the file ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise SpecError("", str(path), f"not a text file ({what} is UTF-8 YAML)") from None
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)
    except _BadDocument as exc:
        raise SpecError("", str(path), str(exc)) from None
    except RecursionError:
        raise SpecError("", str(path), f"nested too deeply to be {what}") from None
    except ValueError:  # an integer of more digits than Python converts (4,300)
        raise SpecError("", str(path), "holds a number of more than 4,300 digits") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise SpecError("", str(path), f"not valid YAML{where}") from None


class _BadDocument(Exception):
    """A YAML document the loader refuses: a key twice, a key that is a list or mapping,
    aliases that expand too far."""


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML's safe loader that refuses a key given twice in one mapping (YAML's own rule;
    PyYAML would keep the last value silently) and a document whose aliases expand to more
    than ``MAX_NODES`` values (a "billion laughs" document grows exponentially)."""

    MAX_NODES = 1_000_000

    def get_single_node(self) -> yaml.Node | None:
        node = super().get_single_node()
        if node is not None and _expanded_size(node, {}) > self.MAX_NODES:
            raise _BadDocument(
                f"its aliases expand to more than {self.MAX_NODES:,} values; write them out"
            )
        return node

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key, Hashable):
                line = key_node.start_mark.line + 1
                raise _BadDocument(
                    f"a key is a {type(key).__name__} (line {line}); keys are names or numbers"
                )
            if key in seen:
                line = key_node.start_mark.line + 1
                raise _BadDocument(f"key {key!r} is given twice (line {line})")
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


# YAML 1.2 reads 5e-2 and 1E3 as numbers; PyYAML (YAML 1.1) wants a dot (5.0e-2) and
# would hand a field the text "5e-2"
_UniqueKeyLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$"),
    list("-+0123456789."),
)


def _expanded_size(node: yaml.Node, sizes: dict[int, int]) -> int:
    """Values in ``node`` once every alias is expanded (an aliased node counted each time)."""
    if id(node) not in sizes:
        sizes[id(node)] = 1  # a node that holds itself counts once
        if isinstance(node, yaml.MappingNode):
            children = [child for pair in node.value for child in pair]
        elif isinstance(node, yaml.SequenceNode):
            children = node.value
        else:
            children = []
        sizes[id(node)] = 1 + sum(_expanded_size(child, sizes) for child in children)
    return sizes[id(node)]


def save_spec(spec: Spec, path: str | Path) -> None:
    """Write the spec as YAML; SpecError when ``path`` is a folder or cannot be written."""
    target = Path(path)
    if target.is_dir():
        raise SpecError("path", str(target), "is a folder; give a file name (spec.yaml)")
    try:
        target.write_text(validate_spec(spec).to_yaml())
    except OSError as exc:
        raise SpecError("path", str(target), f"cannot be written ({exc.strerror})") from None


def as_spec(spec: SpecLike) -> Spec:
    """A validated Spec from a Spec, a dict, or a YAML path."""
    if isinstance(spec, str | Path):
        return load_spec(spec)
    return validate_spec(spec)
