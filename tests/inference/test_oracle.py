"""The Bayes classifier from the dataset model: its per-class log-likelihood against the
closed form, its AUC against the theory, and the scenes where it does not exist."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.special import logsumexp
from scipy.stats import norm
from sklearn.metrics import roc_auc_score

import synthbio_ppl as sb
from synthbio_ppl.inference.oracle import class_log_likelihood, class_posterior, oracle_unavailable
from synthbio_ppl.model.layout import build_layout

TWO = [{"name": "a", "n": 3000}, {"name": "b", "n": 3000}]


def _normal_ll(X: np.ndarray, means: np.ndarray) -> np.ndarray:
    """log N(x; μ, I) per row: every feature of these scenes is standardised."""
    return norm.logpdf(X - means).sum(axis=1)


def test_log_likelihood_is_the_closed_form_without_batches() -> None:
    data = sb.generate(
        {
            "classes": [{"name": "a", "n": 40}, {"name": "b", "n": 40}],
            "informative": [{"n": 3, "effect_size": 0.7}],
            "noise": [{"n": 4}],
        },
        seed=2,
    )
    ll = class_log_likelihood(data)
    X = data.X.to_numpy(dtype=float)
    for k, name in enumerate(["a", "b"]):
        expected = _normal_ll(X, data.truth.class_means[name].to_numpy())
        np.testing.assert_allclose(ll[:, k], expected, rtol=1e-5, atol=1e-4)


def test_batches_are_summed_out_with_each_class_s_batch_shares() -> None:
    spec = {
        "classes": [{"name": "a", "n": 60}, {"name": "b", "n": 60}],
        "informative": [{"n": 2, "effect_size": 0.8}],
        "noise": [{"n": 2}],
        "batches": {"n": 3, "strength": 0.8, "confounding": 0.6},
    }
    data = sb.generate(spec, seed=5)
    ll = class_log_likelihood(data)
    X = data.X.to_numpy(dtype=float)
    offsets = np.asarray(data.truth.parameters["batch.offset"], dtype=float)  # (batches, p)
    batch = pd.Categorical(
        data.covariates["batch"], categories=["batch0", "batch1", "batch2"]
    ).codes
    y = np.asarray(data.y.astype(str))
    for k, name in enumerate(["a", "b"]):
        share = np.bincount(batch[y == name], minlength=3) / np.sum(y == name)
        mean = data.truth.class_means[name].to_numpy()
        terms = np.stack([_normal_ll(X, mean + offsets[b]) for b in range(3)], axis=1)
        with np.errstate(divide="ignore"):
            expected = logsumexp(terms + np.log(share), axis=1)
        np.testing.assert_allclose(ll[:, k], expected, rtol=1e-5, atol=1e-4)


def test_bayes_auc_matches_the_theory() -> None:
    """Independent unit-variance features, shift d_j: AUC = Φ(√(Σ d_j²) / √2)."""
    d = np.array([0.5, 0.5, 0.3, 0.3])
    spec = {
        "classes": TWO,
        "informative": [{"n": 2, "effect_size": 0.5}, {"n": 2, "effect_size": 0.3}],
        "noise": [{"n": 3}],
    }
    data = sb.generate(spec, seed=7)
    ll = class_log_likelihood(data)
    auc = roc_auc_score(np.asarray(data.y.astype(str)) == "b", ll[:, 1] - ll[:, 0])
    theory = norm.cdf(np.sqrt(np.sum(d**2)) / np.sqrt(2))
    # Hanley & McNeil (1982) standard error of an AUC from 3000 + 3000 rows
    q1, q2 = theory / (2 - theory), 2 * theory**2 / (1 + theory)
    se = np.sqrt(
        (theory * (1 - theory) + 2999 * (q1 - theory**2) + 2999 * (q2 - theory**2)) / 3000**2
    )
    assert abs(auc - theory) < 4 * se


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        ({"pseudo_classes": [{"n": 2, "groups": 2, "effect_size": 1.0}]}, "latent row groups"),
        ({"missing": [{"mechanism": "mcar", "rate": 0.1}]}, "hides cells"),
        ({"counts": [{"n": 5}]}, "per-row latent values"),
    ],
)
def test_scenes_without_a_closed_form_are_named(extra: dict, reason: str) -> None:
    spec = sb.validate_spec(
        {
            "classes": [{"name": "a", "n": 20}, {"name": "b", "n": 20}],
            "informative": [{"n": 2, "effect_size": 0.5}],
            **extra,
        }
    )
    assert reason in oracle_unavailable(build_layout(spec), 2)
    with pytest.raises(sb.SpecError, match=reason):
        class_log_likelihood(sb.generate(spec, seed=0))


def test_an_outcome_that_is_y_gives_its_own_probability() -> None:
    """The outcome's truth reports the AUC of its true probabilities on this table."""
    data = sb.generate("models/risk_score.yaml")
    posterior = class_posterior(data)
    assert posterior.shape == (len(data.y), 2)
    np.testing.assert_allclose(posterior.sum(axis=1), 1.0)
    auc = roc_auc_score(np.asarray(data.y.astype(str)) == "positive", posterior[:, 1])
    assert auc == pytest.approx(data.truth.outcome.scores["realised_bayes_auc"], abs=1e-9)


def test_class_posterior_weighs_the_likelihood_by_the_class_shares() -> None:
    spec = {
        "classes": [{"name": "a", "n": 30}, {"name": "b", "n": 10}],
        "informative": [{"n": 2, "effect_size": 1.0}],
    }
    data = sb.generate(spec, seed=1)
    ll = class_log_likelihood(data)
    odds = np.exp(ll[:, 1] - ll[:, 0]) * (10 / 30)
    np.testing.assert_allclose(class_posterior(data)[:, 1], odds / (1 + odds), rtol=1e-9)


def test_a_row_outside_a_class_s_support_is_impossible_there() -> None:
    """A shifted lognormal: a value below one class's lower bound has density 0 there
    (log-likelihood −inf, not NaN), and the posterior is certain of the other class."""
    spec = {
        "classes": [{"name": "a", "n": 200}, {"name": "b", "n": 200}],
        "informative": [{"n": 3, "effect_size": 0.5, "distribution": "lognormal"}],
    }
    data = sb.generate(spec, seed=1)
    ll = class_log_likelihood(data)
    assert not np.isnan(ll).any()
    assert np.isneginf(ll).any()  # some rows lie outside one class's support
    posterior = class_posterior(data)
    assert np.isfinite(posterior).all()
    certain = np.isneginf(ll).any(axis=1)
    np.testing.assert_allclose(posterior[certain].max(axis=1), 1.0)
