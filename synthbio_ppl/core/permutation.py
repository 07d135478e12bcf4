"""A keyed random permutation of [0, n) evaluated at any indices, without building it.

``permuted(seed, name, n, index)`` is π(index) for a pseudo-random bijection π of
{0, …, n-1} chosen by (seed, name). Each value costs O(1) time and memory, so the row
design of a streamed table of 10⁸ rows is computed chunk by chunk instead of held whole.

π is a balanced Feistel network (Luby & Rackoff 1988, "How to construct pseudorandom
permutations from pseudorandom functions", SIAM J. Comput. 17(2)) on the smallest even
number of bits covering n, restricted to [0, n) by cycle walking (Black & Rogaway 2002,
"Ciphers with arbitrary finite domains", CT-RSA): a value that lands outside is sent
through the network again until it lands inside, which keeps the map a bijection. The
domain is below 4n, so a value walks fewer than four times on average. The round function
is the SplitMix64 finaliser (Steele, Lea & Flood 2014) of the half-block xor a round key.
Numpy: the design is bookkeeping before the draw, not a model process.
"""

from __future__ import annotations

import numpy as np

from synthbio_ppl.core.streams import stable_id

ROUNDS = 6
"""Feistel rounds; four already give a pseudo-random permutation, six mix small domains."""

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def _mix(x: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser: a bijective avalanche of uint64 values."""
    x = (x ^ (x >> np.uint64(30))) * _M1
    x = (x ^ (x >> np.uint64(27))) * _M2
    return x ^ (x >> np.uint64(31))


def _feistel(x: np.ndarray, keys: np.ndarray, half: int) -> np.ndarray:
    shift, mask = np.uint64(half), np.uint64((1 << half) - 1)
    left, right = x >> shift, x & mask
    for key in keys:
        left, right = right, left ^ (_mix(right ^ key) & mask)
    return (left << shift) | right


def round_keys(seed: int, name: str) -> np.ndarray:
    """The ``ROUNDS`` uint64 round keys of the permutation named ``name`` under ``seed``."""
    rng = np.random.default_rng([seed, stable_id(name)])
    return rng.integers(0, 2**64, size=ROUNDS, dtype=np.uint64, endpoint=False)


def permuted(seed: int, name: str, n: int, index: np.ndarray) -> np.ndarray:
    """π(index) for the permutation of [0, n) keyed by (``seed``, ``name``).

    ``index``: int array of any shape with values in [0, n); returns int64 of its shape.
    Raises ValueError for an index outside [0, n).
    """
    index = np.asarray(index, dtype=np.int64)
    if index.size and (index.min() < 0 or index.max() >= n):
        raise ValueError(f"indices must lie in [0, {n})")
    if n <= 1:
        return index.copy()
    half = max(1, -(-int(n - 1).bit_length() // 2))
    keys = round_keys(seed, name)
    bound = np.uint64(n)
    with np.errstate(over="ignore"):  # the multiplications wrap modulo 2**64 by design
        out = _feistel(index.astype(np.uint64), keys, half)
        outside = np.flatnonzero(out >= bound)
        while outside.size:
            out[outside] = _feistel(out[outside], keys, half)
            outside = outside[out[outside] >= bound]
    return out.astype(np.int64)
