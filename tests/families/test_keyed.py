"""ColumnKeyedNormal: normal draws, each column from its own key, the normal's density."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist
from numpyro.infer.reparam import LocScaleReparam

from synthbio_ppl.families.keyed import ColumnKeyedNormal, column_ids


def test_column_ids_list_each_segment_in_order() -> None:
    blocks, index = column_ids(((7, 0, 2), (9, 3, 3)))
    assert blocks.tolist() == [7, 7, 9, 9, 9]
    assert index.tolist() == [0, 1, 3, 4, 5]
    assert column_ids(())[0].shape == (0,)


def test_draws_are_normal_with_the_given_loc_and_scale() -> None:
    blocks, index = column_ids(((1, 0, 200),))
    d = ColumnKeyedNormal(jnp.full((500, 200), 2.0), 3.0, block_ids=blocks, indices=index)
    x = np.asarray(d.sample(jax.random.key(0)), np.float64)
    n = x.size  # 100,000 draws: the mean's standard error is 3/√n ≈ 0.0095
    assert abs(x.mean() - 2.0) < 4 * 3.0 / np.sqrt(n)
    assert abs(x.std() - 3.0) < 4 * 3.0 / np.sqrt(2 * n)
    # columns are independent: correlations of neighbours within ±4/√500
    r = np.corrcoef(x[:, :-1].ravel(), x[:, 1:].ravel())[0, 1]
    assert abs(r) < 4 / np.sqrt(x[:, 1:].size)


def test_a_column_depends_only_on_its_block_and_index() -> None:
    key = jax.random.key(5)
    few = ColumnKeyedNormal(jnp.zeros((4, 3)), 1.0, block_ids=jnp.array([1, 1, 2], jnp.uint32),
                            indices=jnp.array([0, 1, 0], jnp.uint32))  # fmt: skip
    many_ids = column_ids(((3, 0, 10), (1, 0, 5), (2, 0, 1)))
    many = ColumnKeyedNormal(jnp.zeros((4, 16)), 1.0, block_ids=many_ids[0], indices=many_ids[1])
    a, b = few.sample(key), many.sample(key)
    np.testing.assert_array_equal(a, b[:, [10, 11, 15]])
    assert not np.array_equal(b[:, 0], b[:, 10])


def test_density_and_reparametrisation_are_the_normals() -> None:
    blocks, index = column_ids(((1, 0, 3),))
    d = ColumnKeyedNormal(jnp.zeros((2, 3)), 0.7, block_ids=blocks, indices=index)
    x = jnp.arange(6.0).reshape(2, 3) / 5
    np.testing.assert_allclose(d.log_prob(x), dist.Normal(0.0, 0.7).log_prob(x), rtol=1e-6)
    with numpyro.handlers.seed(rng_seed=0):  # a fit's non-centred form rebuilds it
        value = LocScaleReparam(0.0)("site", d, None)[1]
    assert value.shape == (2, 3) and np.isfinite(value).all()
