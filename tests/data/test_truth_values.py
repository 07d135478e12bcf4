"""Truth reports the values the spec set as set: 0.7, not float32's 0.699999988…"""

from __future__ import annotations

import json

import numpy as np

import synthbio_ppl as sb
from synthbio_ppl.data.truth import as_reported

SPEC = {
    "name": "as_set",
    "seed": 1,
    "classes": [{"name": "a", "n": 30}, {"name": "b", "n": 30}],
    "informative": [{"name": "inf", "n": 2, "effect_size": 0.7}],
    "clusters": [{"name": "clu", "n": 3, "correlation": 0.7, "anchor_effect": 0.3}],
    "batches": {"n": 2, "strength": 0.7, "confounding": 0.3},
}


def test_values_the_spec_set_are_reported_as_set() -> None:
    data = sb.generate(SPEC)
    text = data.truth.to_json()
    assert "0.699999" not in text and "0.300000" not in text and "0.29999" not in text
    parameters = json.loads(text)["parameters"]
    assert parameters["inf.effect_size"] == [0.7]
    assert parameters["batch.strength"] == 0.7
    assert parameters["clu.correlation"] == [0.7, 0.7]
    assert data.truth.batch["strength"] == 0.7
    assert data.truth.features.loc["inf_0", "effect_size"] == 0.7


def test_computed_values_keep_float32_precision_and_other_dtypes_pass() -> None:
    computed = np.float32(1.0) / np.float32(3.0)
    assert as_reported(computed) == float("0.33333334")  # float32's shortest decimal
    assert np.float32(as_reported(computed)) == computed  # the same float32 value
    values = np.array([0.7, np.inf, np.nan], dtype=np.float32)
    reported = as_reported(values)
    assert reported.dtype == np.float64 and reported[0] == 0.7
    assert np.isinf(reported[1]) and np.isnan(reported[2])
    whole = np.array([1, 2], dtype=np.int32)
    assert as_reported(whole) is not None and as_reported(whole).dtype == np.int32
