"""A fit's draws are checked: impossible ones refused, doubtful ones warned about."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import synthbio_ppl as sb
from synthbio_ppl.inference.diagnostics import check_draws, still_falling

RNG = np.random.default_rng(0)


def test_a_falling_trace_is_told_from_a_flat_noisy_one() -> None:
    steps = np.arange(2000)
    noise = RNG.normal(0.0, 5.0, steps.size)
    assert still_falling(300.0 - 0.01 * steps + noise)  # 10 units over the half, SE ~0.4
    assert not still_falling(300.0 + noise)
    assert not still_falling(np.full(100, 7.0))


def test_a_fall_within_one_steps_noise_is_converged() -> None:
    """Over 20,000 steps a fall of 2 units under noise of sd 5 is significant (slope about
    9 standard errors), but smaller than one step's noise: the demo's SVI trace at its
    default 5,000 steps (2.3 nats over the half, noise sd 3.7) was warned about."""
    steps = np.arange(20000)
    noise = RNG.normal(0.0, 5.0, steps.size)
    trace = 300.0 - 2.0 * steps / 10000 + noise
    from scipy.stats import linregress

    half = linregress(steps[10000:], trace[10000:])
    assert -half.slope > 3 * half.stderr  # significant: the old rule warned
    assert not still_falling(trace)
    trace[::50] = np.nan  # steps skipped by the stable update are left out
    assert not still_falling(trace)
    falling = 300.0 - 0.01 * np.arange(2000) + RNG.normal(0.0, 5.0, 2000)
    falling[::50] = np.nan
    assert still_falling(falling)


def test_nuts_draws_that_never_moved_are_refused() -> None:
    """A value far below a lognormal's support: the log density is -inf at every start."""
    spec = {"classes": [{"name": "a", "n": 20}, {"name": "b", "n": 20}],
            "noise": [{"n": 2, "distribution": "lognormal"}]}  # fmt: skip
    data = sb.generate(spec)
    X = data.X.copy()
    X.iloc[0, 0] = -50.0
    with pytest.raises(sb.SpecError, match="never moved"):
        sb.fit(spec, X, labels=data.y, num_warmup=50, num_samples=50, progress=False)


def test_divergences_and_a_drifting_chain_are_warned_about() -> None:
    draws = {"a": RNG.normal(size=(1, 400, 1)) + np.linspace(0, 3, 400)[None, :, None]}
    stats = {"diverging": np.r_[np.zeros(390, bool), np.ones(10, bool)][None, :]}
    with pytest.warns(RuntimeWarning) as record:
        check_draws(draws, ["a"], stats, None, "nuts")
    text = " ".join(str(w.message) for w in record)
    assert "10 of 400 NUTS transitions diverged" in text and "R̂" in text
    assert "or several chains" in text  # one chain: more chains would tell


def test_chains_that_have_not_mixed_are_not_told_to_run_several() -> None:
    drift = np.linspace(0, 3, 400)[None, :, None]
    draws = {"a": RNG.normal(size=(2, 400, 1)) + np.r_[drift, -drift]}
    with pytest.warns(RuntimeWarning, match="the chains have not mixed") as record:
        check_draws(draws, ["a"], {}, None, "nuts")
    assert "several chains" not in str(record[0].message)


@pytest.mark.parametrize(
    ("method", "setting", "value"),
    [("svi", "num_warmup", 10), ("svi", "num_chains", 2), ("svi", "target_accept", 0.9),
     ("nuts", "svi_steps", 10), ("nuts", "learning_rate", 0.1)],
)  # fmt: skip
def test_a_setting_of_the_other_method_is_refused(method: str, setting: str, value) -> None:
    """They were ignored silently (the twin refused them); before anything is fitted."""
    spec = {"classes": [{"name": "a", "n": 20}, {"name": "b", "n": 20}], "noise": [{"n": 2}]}
    with pytest.raises(sb.SpecError, match=rf"^{setting}: .*applies to method") as info:
        sb.fit(spec, sb.generate(spec), method, progress=False, **{setting: value})
    assert info.value.value == value


def test_a_clean_chain_passes_silently() -> None:
    draws = {"a": RNG.normal(size=(1, 400, 2))}
    stats = {"diverging": np.zeros((1, 400), bool)}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_draws(draws, ["a"], stats, None, "nuts")


def test_sbc_verdict_counts_divergent_simulations() -> None:
    import pandas as pd

    from synthbio_ppl.inference.calibration import Calibration, rank_tests

    ranks = pd.DataFrame({"a": RNG.integers(0, 100, 200)})
    tests = rank_tests(ranks, 99)
    clean = Calibration(ranks, ranks, 99, tests, np.zeros(200, int))
    diverged = Calibration(ranks, ranks, 99, tests, np.r_[np.ones(12, int), np.zeros(188, int)])
    assert clean.passes() and clean.divergent_sims == 0
    assert not diverged.passes() and diverged.divergent_sims == 12
    assert diverged.passes(max_divergent=0.1)


def test_sbc_verdict_says_what_failed_and_what_to_do() -> None:
    import pandas as pd

    from synthbio_ppl.inference.calibration import Calibration, rank_tests

    uniform = pd.DataFrame({"a": RNG.integers(0, 100, 200), "b": RNG.integers(0, 100, 200)})
    skewed = uniform.assign(b=RNG.integers(0, 20, 200))  # every rank in the lowest fifth
    none = np.zeros(200, int)
    clean = Calibration(uniform, uniform, 99, rank_tests(uniform, 99), none)
    assert clean.verdict().startswith("passes: 2 parameters")
    biased = Calibration(skewed, skewed, 99, rank_tests(skewed, 99), none)
    assert not biased.passes()
    assert biased.verdict().startswith("fails: ranks not uniform for ['b']")
    diverged = Calibration(
        uniform, uniform, 99, rank_tests(uniform, 99), none + (RNG.random(200) < 0.1)
    )
    assert "simulations' NUTS fits diverged" in diverged.verdict()
    assert "target_accept" in diverged.verdict()


def test_calibrate_warns_when_simulations_diverge() -> None:
    """A step-size target of 1% makes NUTS diverge on every simulation."""
    spec = {
        "name": "d",
        "seed": 1,
        "informative": [{"n": 1}],
        "classes": [{"name": "a", "n": 5}, {"name": "b", "n": 5}],
    }
    with pytest.warns(RuntimeWarning, match=r"2 of 2 simulations' NUTS fits diverged"):
        result = sb.calibrate(
            spec, n_sims=2, num_warmup=10, num_samples=9, n_draws=9, target_accept=0.01
        )
    assert result.divergent_sims == 2 and not result.passes()


def test_sbc_verdict_and_passes_agree_and_check_their_levels() -> None:
    import pandas as pd

    from synthbio_ppl.core.errors import SpecError
    from synthbio_ppl.inference.calibration import Calibration, rank_tests

    ranks = pd.DataFrame({"a": RNG.integers(0, 100, 200)})
    tests = rank_tests(ranks, 99)
    undefined = Calibration(ranks, ranks, 99, tests.assign(chi2_p=np.nan), np.zeros(200, int))
    assert not undefined.passes() and undefined.verdict().startswith("fails: ranks not uniform")
    some = Calibration(ranks, ranks, 99, tests, np.r_[np.ones(10, int), np.zeros(190, int)])
    assert some.passes(max_divergent=0.1)
    assert some.verdict(max_divergent=0.1).endswith("10 of 200 diverged (allowed)")
    for alpha in (0, 1, 1.5, -0.1, True, float("nan")):
        with pytest.raises(SpecError, match="alpha"):
            some.verdict(alpha=alpha)
    for share in (-1, 1.5, float("nan")):
        with pytest.raises(SpecError, match="max_divergent"):
            some.passes(max_divergent=share)
    with pytest.raises(SpecError, match="bins"):
        sb.calibrate({"name": "x", "informative": [{"n": 1}]}, n_sims=2, n_draws=9, bins=11)


def test_calibration_repr_is_a_few_lines_with_the_verdict() -> None:
    """Printing a Calibration gives its sizes, the smallest p-value and the verdict, not the
    rank table (here 300 simulations × 40 parameters)."""
    import pandas as pd

    from synthbio_ppl.inference.calibration import Calibration, rank_tests

    ranks = pd.DataFrame({f"p{j}": RNG.integers(0, 100, 300) for j in range(40)})
    skewed = ranks.assign(p7=RNG.integers(0, 20, 300))  # every rank in the lowest fifth
    none = np.zeros(300, int)
    for table, verdict in ((ranks, "passes: 40 parameters"), (skewed, "fails: ranks not")):
        calibration = Calibration(table, table, 99, rank_tests(table, 99), none)
        text = repr(calibration)
        lines = text.splitlines()
        assert len(lines) <= 4 and len(text) < 600, text
        assert lines[0] == "Calibration (SBC): 300 simulations × 99 posterior draws, 40 parameters"
        assert verdict in text and calibration.verdict() in text
        smallest = calibration.tests[["chi2_p", "ks_p"]].to_numpy().min()
        assert f"{smallest:.3g}" in text
    assert "(p7)" in repr(Calibration(skewed, skewed, 99, rank_tests(skewed, 99), none))


def test_a_calibration_of_few_simulations_says_it_cannot_judge() -> None:
    import pandas as pd

    from synthbio_ppl.inference.calibration import FEW_SIMULATIONS, Calibration, rank_tests

    for n, warned in ((3, True), (FEW_SIMULATIONS, False)):
        ranks = pd.DataFrame({"a": RNG.integers(0, 100, n)})
        text = repr(Calibration(ranks, ranks, 99, rank_tests(ranks, 99), np.zeros(n, int)))
        assert ("can hardly fail" in text) is warned and "parameter: ranks uniform" in text
