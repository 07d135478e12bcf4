"""The spec reference, rendered from the pydantic models themselves."""

from __future__ import annotations

import functools
import operator
import re
import types
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from synthbio_ppl.families.standardised import SHAPE_PRIOR
from synthbio_ppl.model.scene import Spec
from synthbio_ppl.processes.registry import BLOCK_PROCESSES, spec_order
from synthbio_ppl.spec.fields import ClassSpec


def _sections() -> list[tuple[str, type[BaseModel]]]:
    sections: list[tuple[str, type[BaseModel]]] = [("top level", Spec), ("classes[]", ClassSpec)]
    for process in spec_order():
        sections += process.reference_sections()
    return sections


def prior_table() -> str:
    """Markdown table of every parameter site's prior, from the processes' declarations."""
    rows = ["| site | meaning | prior |", "|---|---|---|"]
    for process in spec_order():
        prefix = process.site_prefix
        for prior in process.priors:
            rows.append(f"| `{prefix}.{prior.param}` | {prior.meaning} | {prior.text} |")
    rows.append(f"| `<block>.{SHAPE_PRIOR.param}` | {SHAPE_PRIOR.meaning} | {SHAPE_PRIOR.text} |")
    return "\n".join(dict.fromkeys(rows)) + "\n"  # processes may share a prior


def heading(title: str) -> str:
    """A section title as the reference writes it: a field path as code (``<name>`` and
    ``{by: ...}`` would otherwise read as HTML on the documentation site)."""
    return (
        f"`{title}`"
        if any(c in title for c in "<{[.") or (title.islower() and " " not in title)
        else title
    )


def spec_reference() -> str:
    """Markdown: one table per section with field, type, default, allowed values, meaning."""
    out = [
        "# Spec reference",
        "",
        "Generated from the spec models by `synthbio reference`; do not edit by hand.",
    ]
    for title, model in _sections():
        out += ["", f"## {heading(title)}", "", (model.__doc__ or "").strip().splitlines()[0], ""]
        out += ["| field | type | default | allowed | meaning |", "|---|---|---|---|---|"]
        for name, info in model.model_fields.items():
            out.append(
                f"| `{name}` | {_type(info.annotation)} | {_default(info)} | "
                f"{_allowed(info)} | {(info.description or '').replace('|', '/')} |"
            )
    out += [
        "",
        "## Block kinds",
        "",
        "Names `batches.affects` and `missing[].affects` accept for all blocks of a kind.",
        "",
    ]
    out += [_block_kinds()]
    out += ["## Priors for fitting", "", "Declared by each process next to its model.", ""]
    return "\n".join(out) + "\n" + prior_table()


def _plain(annotation: Any) -> Any:
    """The annotation without ``Annotated[...]`` wrappers (constraints show under allowed)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _plain(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return functools.reduce(operator.or_, map(_plain, typing.get_args(annotation)))
    return annotation


def _type(annotation: Any) -> str:
    annotation = _plain(annotation)
    text = getattr(annotation, "__name__", None) or str(annotation)
    text = str(annotation) if text in ("Optional", "Union", "Literal") else text
    text = re.sub(r"synthbio_ppl(\.\w+)*\.", "", text)
    for noise in ("typing.", "<class '", "'>"):
        text = text.replace(noise, "")
    return text.replace("|", "or")


def _default(info: Any) -> str:
    if info.default is PydanticUndefined and info.default_factory is None:
        return "required"
    value = info.default if info.default_factory is None else info.default_factory()
    if isinstance(value, list) and value and isinstance(value[0], BaseModel):
        value = [v.model_dump() for v in value]
    return f"`{value}`"


def _allowed(info: Any) -> str:
    bits = []
    for item in info.metadata:
        for attr, sign in (("ge", "≥"), ("gt", ">"), ("le", "≤"), ("lt", "<")):
            if getattr(item, attr, None) is not None:
                bits.append(f"{sign} {getattr(item, attr)}")
        if getattr(item, "min_length", None):
            bits.append(f"at least {item.min_length}")
        if getattr(item, "pattern", None):
            bits.append("a name (letters, digits, _)")
    return ", ".join(bits) or "-"


def _block_kinds() -> str:
    rows = ["| `batches.affects` | process | spec field |", "|---|---|---|"]
    for process in BLOCK_PROCESSES:
        if process.selector is not None:
            rows.append(f"| `{process.selector}` | {process.kind} | `{process.field}` |")
    return "\n".join(rows) + "\n"


def write_prior_table(path: str | Path) -> None:
    """Replace the prior table in the Markdown file ``path`` by ``prior_table()``."""
    target = Path(path)
    text = target.read_text()
    start = text.index("| site | meaning | prior |")
    end = text.find("\n\n", start)
    end = len(text) if end < 0 else end + 1
    target.write_text(text[:start] + prior_table() + text[end:])


if __name__ == "__main__":
    import sys

    write_prior_table(sys.argv[1])
