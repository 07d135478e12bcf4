"""``sb.twin``'s fit settings, its memory refusal's advice, and piles on a column's bounds.

A new-user review found: a fit setting given with a method it does not apply to
(``num_warmup`` with MAP, ``svi_steps`` with NUTS) silently ignored, where the command line
refused it; a memory refusal that could not be met (the fixed part alone over the limit,
advice of fewer samples for MAP); "1 draws"; and an integer column uniform on 30…84 whose
twin piled 8.6% of its rows on each end, because any bound holding 2% of the values was
taken for a pile. Fits here are tiny (40 or 400 rows, few steps).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import synthbio_ppl as sb
import synthbio_ppl.twins.fitting as fitting
from synthbio_ppl.engine.budget import LIMIT_VARIABLE
from synthbio_ppl.twins.budget import (
    Spelling,
    check_twin_budget,
    least_twin_bytes,
    twin_bytes,
)
from synthbio_ppl.twins.columns import piled_on
from synthbio_ppl.twins.settings import FIT_SETTINGS, METHODS

GIVEN = {"svi_steps": 10, "learning_rate": 0.05, "num_warmup": 10, "num_samples": 10}


def table(n: int = 40) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    return pd.DataFrame(
        {
            "a": rng.normal(size=n),
            "b": rng.normal(size=n),
            "c": rng.lognormal(size=n),
            "y": np.repeat(["p", "q"], n // 2),
        }
    )


class Fitted(Exception):
    """Raised in place of the fit: the arguments were accepted."""


@pytest.fixture
def no_fit(monkeypatch: pytest.MonkeyPatch) -> None:
    def fit(*args: object, **kwargs: object) -> None:
        raise Fitted

    monkeypatch.setattr(fitting, "_fit_program", fit)


# --------------------------------------------------------------------------- fit settings


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("setting", FIT_SETTINGS, ids=lambda s: s.name)
def test_a_setting_is_refused_exactly_where_it_does_not_apply(no_fit, method, setting) -> None:
    """Each of the 12 pairs: accepted (the fit starts) where the shared table says the
    setting applies, else a SpecError naming it and the methods it applies to."""
    kwargs = {"method": method, setting.name: GIVEN[setting.name]}
    if method in setting.methods:
        with pytest.raises(Fitted):
            sb.twin(table(), "y", **kwargs)
        return
    with pytest.raises(sb.SpecError) as info:
        sb.twin(table(), "y", **kwargs)
    assert info.value.path == setting.name
    message = str(info.value)
    assert f"not {method!r}" in message and "drop it" in message, message
    assert all(repr(m) in message for m in setting.methods), message


def test_the_reviewed_combinations_are_refused(no_fit) -> None:
    with pytest.raises(sb.SpecError, match=r"^num_warmup: 100 is not allowed; applies to "):
        sb.twin(table(), label="y", num_warmup=100)  # the default method, map
    with pytest.raises(sb.SpecError, match=r"^svi_steps: 10 is not allowed; .* not 'nuts'"):
        sb.twin(table(), label="y", method="nuts", svi_steps=10)


def test_the_fit_records_the_settings_it_used() -> None:
    """Given values, defaults where a setting applies, None where not; "1 draw"."""
    fit = sb.twin(table(), "y", svi_steps=5, rank=1)
    assert fit.fit_settings == {
        "svi_steps": 5,
        "learning_rate": 0.01,
        "num_warmup": None,
        "num_samples": None,
    }
    assert len(fit.stats["loss"]) == 5
    assert ", 1 draw, " in repr(fit)
    svi = sb.twin(table(), "y", method="svi", svi_steps=5, num_samples=3, rank=1)
    assert svi.fit_settings == {
        "svi_steps": 5,
        "learning_rate": 0.01,
        "num_warmup": None,
        "num_samples": 3,
    }
    assert ", 3 draws, " in repr(svi)


# --------------------------------------------------------------------------- memory advice


def test_a_limit_below_the_fixed_part_says_only_a_higher_limit_helps(monkeypatch) -> None:
    monkeypatch.setenv(LIMIT_VARIABLE, "390M")  # under the runtime's fixed ~400 MiB
    least = least_twin_bytes(2)
    assert least > 390 * 2**20
    with pytest.raises(sb.SpecError) as info:
        sb.twin(table(), "y", method="map", svi_steps=5)
    message = str(info.value)
    assert info.value.path == "data"
    assert f"at least about {least / 2**20:.0f} MiB whatever the table and settings" in message
    assert message.endswith(f"raise {LIMIT_VARIABLE}"), message
    for advice in ("fewer", "smaller", "method="):
        assert advice not in message, message
    assert "(rank 2, 1 draw)" in message  # 3 columns: default rank 2


def _advised(message: str) -> str:
    return message.split("; give ", 1)[1]


@pytest.mark.parametrize("method", ["map", "svi"])
def test_the_advice_names_what_applies_and_would_succeed(no_fit, monkeypatch, method) -> None:
    """Just above the least a twin needs, a small table is refused; the advice names the
    changes that would bring it under (fewer columns or rows; for SVI, MAP or fewer
    draws), never fewer samples for MAP; and each advised change would succeed."""
    extra = {"num_samples": 50} if method == "svi" else {}
    monkeypatch.setenv(LIMIT_VARIABLE, str(least_twin_bytes(2) + 1))
    with pytest.raises(sb.SpecError) as info:
        sb.twin(table(), "y", method=method, rank=2, **extra)
    advice = _advised(str(info.value))
    for change in ("fewer columns", "fewer rows", "a smaller rank"):
        assert change in advice, advice
    assert ("method='map'" in advice) == (method == "svi"), advice
    assert ("fewer num_samples" in advice) == (method == "svi"), advice
    assert "--" not in advice  # Python's names, not the command line's


def test_advice_is_in_the_callers_names_and_only_what_succeeds(monkeypatch) -> None:
    """500 rows × 2,000 columns at rank 800: under 16 GiB each of fewer columns, a smaller
    rank, MAP or fewer draws succeeds alone; the command line's spelling replaces the
    argument names."""
    monkeypatch.setenv(LIMIT_VARIABLE, "16G")
    sizes = (500, 2000, 0, 2, 800, 500)
    cli = Spelling(data="REAL", rank="--rank", map="--method map", samples="--samples")
    with pytest.raises(sb.SpecError) as python:
        check_twin_budget(*sizes)
    with pytest.raises(sb.SpecError) as command:
        check_twin_budget(*sizes, cli)
    assert python.value.path == "data" and command.value.path == "REAL"
    assert _advised(str(python.value)) == (
        "fewer columns, a smaller rank, method='map' or fewer num_samples, "
        f"or raise {LIMIT_VARIABLE}"
    )
    assert _advised(str(command.value)) == (
        "fewer columns, a smaller --rank, --method map or fewer --samples, "
        f"or raise {LIMIT_VARIABLE}"
    )
    assert twin_bytes(500, 2000, 0, 2, 800, 1) <= 16 * 2**30  # MAP alone succeeds
    # with MAP already, only columns and rank are left to change
    with pytest.raises(sb.SpecError) as caught:
        check_twin_budget(500, 10_000, 0, 2, 4_000, 1, cli)
    assert _advised(str(caught.value)).startswith("fewer columns or a smaller --rank, or ")
    assert "(rank 4000, 1 draw)" in str(caught.value)


# --------------------------------------------------------------------------- piles


def test_a_pile_is_a_bound_far_above_its_neighbours() -> None:
    rng = np.random.default_rng(0)
    n = 400
    uniform_seeds = []
    for seed in range(30):  # 2% of 400 rows is 8; each end holds 7.3 on average
        ages = np.random.default_rng(seed).integers(30, 85, n).astype(float)
        uniform_seeds += [piled_on(ages, 30.0), piled_on(ages, 84.0)]
    assert not any(uniform_seeds)
    zeros = np.where(rng.random(n) < 0.35, 0, rng.poisson(6, n)).astype(float)
    assert piled_on(zeros, 0.0)
    capped = np.clip(rng.normal(8.0, 2.5, n), 0, 10)  # a score capped at 10: 21% on it
    assert piled_on(capped, 10.0) and not piled_on(capped, 0.0)
    floor = np.where(rng.random(n) < 0.05, 0.0, rng.gamma(2.0, 1.0, n))  # concavity = 0
    assert piled_on(floor, 0.0)
    visits = rng.poisson(2, n).astype(float)  # zeros rarer than ones: a count, not a pile
    assert not piled_on(visits, 0.0)


def test_a_uniform_integer_column_keeps_its_ends_and_a_floor_of_zeros_its_pile() -> None:
    """Seed 22 puts 9 and 11 of 400 rows (2.2%, 2.8%) on 30 and 84: piles by the old rule,
    whose twin put 5% of its rows on each end here (8% to 29% in the review's table). The
    twin's share at each end must lie within 3 binomial sds of the true share 1/55 (the sd
    of the difference of a 400-row and a 20,000-row sample): it is 0.6% to 0.7% (about
    1.8 sds below; the copula's marginal, a transformed Gaussian, thins out towards the
    ends of a uniform), the old pile 4.7 sds above. The zero-inflated column's 35% zeros
    stay a pile: 0 is the twin's most common value (the smooth marginal spreads the rest
    of the pile over 1…4, so its share stays below the real one)."""
    rng = np.random.default_rng(22)
    n, m = 400, 20_000
    real = pd.DataFrame({"age": rng.integers(30, 85, n)})
    real["alcohol"] = np.where(rng.random(n) < 0.35, 0, rng.poisson(6, n))
    real["y"] = np.repeat(["p", "q"], n // 2)
    assert (real["age"] == 30).sum() == 9 and (real["age"] == 84).sum() == 11
    fit = sb.twin(real, "y", rank=1, svi_steps=300, learning_rate=0.05)
    piles = {c.name: c.piled for c in fit.layout.numeric}
    assert piles == {"age": (False, False), "alcohol": (True, False)}
    synthetic = fit.sample(m, seed=3)
    share = 1 / 55
    tolerance = 3 * math.sqrt(share * (1 - share) * (1 / n + 1 / m))
    for end in (30, 84):
        ours = (synthetic["age"] == end).mean()
        assert abs(ours - share) < tolerance, (end, ours, tolerance)
    drinks = synthetic["alcohol"].value_counts(normalize=True)
    assert drinks.idxmax() == 0 and drinks[0] > 0.1  # redrawn, not piled: 8.6%, below 1…4
