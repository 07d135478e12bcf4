"""The registry: one line adds a process.

Block processes are listed in column order (a structural scene's biomarkers come first);
column modifiers act on the columns of all of them; mask processes hide cells after; a
response process draws the outcome from the drawn features.
"""

from __future__ import annotations

from synthbio_ppl.processes import (
    batches,
    clusters,
    counts,
    informative,
    missing,
    noise,
    outcomes,
    pseudo,
    structural,
)
from synthbio_ppl.processes.base import BlockProcess
from synthbio_ppl.processes.mask import MaskModifier
from synthbio_ppl.processes.modifier import ColumnModifier
from synthbio_ppl.processes.response import ResponseProcess

BLOCK_PROCESSES: tuple[BlockProcess, ...] = (
    structural.PROCESS,
    informative.PROCESS,
    clusters.PROCESS,
    noise.PROCESS,
    pseudo.PROCESS,
    counts.PROCESS,
)
MODIFIERS: tuple[ColumnModifier, ...] = (batches.PROCESS,)
MASKS: tuple[MaskModifier, ...] = (missing.PROCESS,)
RESPONSES: tuple[ResponseProcess, ...] = (outcomes.PROCESS,)

_BY_KIND = {p.kind: p for p in BLOCK_PROCESSES}
_BY_FIELD = {m.field: m for m in MODIFIERS}
_MASK_BY_FIELD = {m.field: m for m in MASKS}
_RESPONSE_BY_FIELD = {r.field: r for r in RESPONSES}


def process_of(kind: str) -> BlockProcess:
    """The registered block process of ``Block.kind``."""
    return _BY_KIND[kind]


def modifier_of(field: str) -> ColumnModifier:
    """The registered column modifier of a spec field (``batches``)."""
    return _BY_FIELD[field]


def mask_of(field: str) -> MaskModifier:
    """The registered mask process of a spec field (``missing``)."""
    return _MASK_BY_FIELD[field]


def response_of(field: str) -> ResponseProcess:
    """The registered response process of a spec field (``outcome``)."""
    return _RESPONSE_BY_FIELD[field]


Process = BlockProcess | ColumnModifier | MaskModifier | ResponseProcess


def spec_order() -> list[Process]:
    """Every process in the order of the spec's fields and the truth's tables: processes
    with lists of groups, then modifiers, then masks, then single-group processes, then
    the outcome."""
    return [
        *(p for p in BLOCK_PROCESSES if p.many),
        *MODIFIERS,
        *MASKS,
        *(p for p in BLOCK_PROCESSES if not p.many),
        *RESPONSES,
    ]


def truth_owners() -> dict[str, Process]:
    """``{Truth attribute: the process that fills it}``, in spec order."""
    return {p.truth_field: p for p in spec_order() if p.truth_field is not None}
