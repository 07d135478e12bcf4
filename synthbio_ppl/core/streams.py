"""Names of the random streams: a stable id per name, the rows plate and its key chunk.

No JAX here: the row design (numpy) names its permutations with the same ids.
"""

from __future__ import annotations

import zlib

ROWS = "rows"
"""Name of the rows plate."""
ROW_CHUNK = 256
"""Rows per key chunk. Part of the stream definition: changing it changes every value."""


def stable_id(name: str) -> int:
    """A 32-bit integer for a name, stable across processes and Python versions."""
    return zlib.crc32(name.encode("utf-8"))
