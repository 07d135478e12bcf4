"""Argument types shared by the subcommands: each refuses a bad value in one line."""

from __future__ import annotations

import argparse

SEED_LIMIT = 2**32


def seed(text: str) -> int:
    """A random seed: a whole number in [0, 2^32)."""
    value = _whole(text)
    if not 0 <= value < SEED_LIMIT:
        raise argparse.ArgumentTypeError(f"{text!r}: a seed must lie in [0, 2^32)")
    return value


def positive(text: str) -> int:
    """A whole number ≥ 1."""
    value = _whole(text)
    if not 1 <= value < 2**31:  # steps and draws: compiled loops count in int32
        raise argparse.ArgumentTypeError(f"{text!r}: must be a whole number from 1 to 2^31 − 1")
    return value


def _whole(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: must be a whole number") from None
