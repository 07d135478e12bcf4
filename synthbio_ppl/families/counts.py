"""Fast, exact Poisson, gamma and gamma–Poisson (negative binomial) sampling in JAX.

``jax.random.gamma``/``poisson`` split one key per element and loop per element. Here each
attempt is vectorised: every cell gets a candidate from one fused Threefry counter hash,
accepted cells are kept, rejected ones redrawn from compact buffers until none is left, in
cache-sized chunks (``lax.map``). Exact up to rounding (uniforms: 23 bits in float32, 52 in
float64), jit-able with static shapes, deterministic given the key.

- Gamma(α, 1): Marsaglia & Tsang (2000), "A simple method for generating gamma variables",
  ACM TOMS 26(3), 363–372; for α < 1 the boost Gamma(α+1)·U^(1/α).
- Poisson(λ): λ < 10, inversion by sequential search (a loop over k with no further random
  numbers); λ ≥ 10, the transformed rejection PTRS of Hörmann (1993), "The transformed
  rejection method for generating Poisson random variables", Insurance: Mathematics and
  Economics 12, 39–45, testing the log-pmf in the stable stirlerr/bd0 form of Loader (2000),
  "Fast and accurate computation of binomial probabilities" (accurate in float32).
- Negative binomial (mean μ, concentration r): Poisson(Gamma(r, 1)·μ/r).
"""

from __future__ import annotations

import math
from functools import partial

import jax
import jax.numpy as jnp
import numpyro.distributions as dist
from jax import Array, lax

_CHUNK = 2**18  # cells per lax.map step (tuned on a 2-core CPU)
_SMALL = 10.0  # λ below this: inversion; at or above: PTRS
_LOG_FACT = tuple(math.lgamma(k + 1.0) for k in range(10))  # log k!, k < 10
_ROT = ((13, 15, 26, 6), (17, 29, 16, 24))


def _threefry(seed: Array, x0: Array, x1: Array) -> tuple[Array, Array]:
    """Threefry-2x32 as in ``jax.random``, unrolled so XLA fuses it (JAX's CPU one loops)."""
    ks = (seed[0], seed[1], seed[0] ^ seed[1] ^ jnp.uint32(0x1BD11BDA))
    x0, x1 = x0 + ks[0], x1 + ks[1]
    for i in range(5):
        for r in _ROT[i % 2]:
            x0 = x0 + x1
            x1 = x0 ^ ((x1 << r) | (x1 >> (32 - r)))
        x0, x1 = x0 + ks[(i + 1) % 3], x1 + ks[(i + 2) % 3] + jnp.uint32(i + 1)
    return x0, x1


def _fold(seed: Array, tag) -> Array:
    """A new seed (uint32[2]) for ``tag``; the word 2³²−1 keeps it off the cell streams."""
    return jnp.stack(_threefry(seed, jnp.asarray(tag, jnp.uint32), jnp.uint32(0xFFFFFFFF)))


def _uniforms(seed: Array, n: int, dtype, count: int) -> list[Array]:
    """``count`` independent (n,) uniforms on the open grid (j + ½)·ε, j = 0 … 1/ε − 1,
    hashing (cell, stream): float32 takes 23 bits (two per hash), float64 52 (one)."""
    cells, wide, out = jnp.arange(n, dtype=jnp.uint32), jnp.dtype(dtype).itemsize > 4, []
    for c in range(count if wide else (count + 1) // 2):
        w0, w1 = _threefry(seed, cells, jnp.full((), c, jnp.uint32))
        if wide:
            w = (w0.astype(jnp.uint64) << 20) | (w1 >> 12).astype(jnp.uint64)
            out.append(lax.bitcast_convert_type(w | 0x3FF0000000000000, jnp.float64))
        else:
            out += [lax.bitcast_convert_type((w >> 9) | 0x3F800000, jnp.float32) for w in (w0, w1)]
    x = jnp.stack(out[:count])
    x = (x - (1 - jnp.finfo(x.dtype).eps / 2)).astype(dtype)
    # Written at an offset XLA cannot prove is 0 (x is never NaN), x is stored once instead
    # of the hash being re-run inside every consumer that XLA fuses it into.
    at = (x[0, 0] != x[0, 0]).astype(jnp.int32)
    x = lax.dynamic_update_slice(jnp.zeros((count, n + 1), x.dtype), x, (jnp.int32(0), at))
    return list(x[:, :n])


def _chunked(fn, key: Array, *params: Array) -> Array:
    """Apply ``fn(seed, *flat_params)`` chunk by chunk over equally shaped arrays."""
    seed = jax.random.bits(key, (2,), jnp.uint32)  # any key type; then our own hash only
    shape, n = params[0].shape, params[0].size
    flat = [p.reshape(-1) if n else jnp.ones(1, p.dtype) for p in params]  # n = 0: one dummy
    if n <= _CHUNK:
        return fn(seed, *flat)[:n].reshape(shape)
    m = -(-n // _CHUNK)
    flat = [jnp.pad(f, (0, m * _CHUNK - n), mode="edge").reshape(m, _CHUNK) for f in flat]
    out = lax.map(lambda a: fn(_fold(seed, a[0]), *a[1:]), (jnp.arange(m), *flat))
    return out.reshape(-1)[:n].reshape(shape)


def _redraw(seed: Array, val: Array, acc: Array, params: tuple, propose, first: int) -> Array:
    """Redraw the cells not yet accepted, with ``propose(seed, *params)``, until all are:
    cells are grouped by 32, a group's rejected cells kept as bits of a uint32 (no scan);
    each round gives the first ``first`` (later 1) rejected cells of every group a fresh
    candidate in a compact buffer, scatters back the accepted ones and clears their bits."""
    n, pad, bit = val.shape[0], -val.shape[0] % 32, jnp.arange(32, dtype=jnp.uint32)
    rejected = jnp.pad(~acc, (0, pad)).reshape(-1, 32).astype(jnp.uint32)
    word = jnp.sum(rejected << bit, axis=1, dtype=jnp.uint32)
    params = [jnp.pad(p, (0, pad), mode="edge").reshape(-1, 32) for p in params]
    base = jnp.arange(0, n + pad, 32)[:, None]

    def round_(i, val, word, slots):
        pos, w = [], word
        for _ in range(slots):  # index of the j-th rejected cell of each group (32: none)
            pos.append(lax.population_count((w & (~w + 1)) - 1))
            w = w & (w - 1)
        pos = jnp.stack(pos, 1)
        idx = jnp.minimum(pos, 31).astype(jnp.int32)
        value, ok = propose(
            _fold(seed, i), *(jnp.take_along_axis(p, idx, 1).ravel() for p in params)
        )
        ok = ok.reshape(pos.shape) & (pos < 32)
        # a scatter (not a gather) writes back, so XLA cannot re-run ``propose`` per cell
        dest = jnp.where(ok, base + idx, n + pad).ravel()
        val = val.at[dest].set(value, mode="drop", unique_indices=True)
        return val, word & ~jnp.sum(ok.astype(jnp.uint32) << pos, axis=1, dtype=jnp.uint32)

    state = (1, *round_(0, jnp.pad(val, (0, pad)), word, first))
    body = lambda s: (s[0] + 1, *round_(s[0], s[1], s[2], 1))  # noqa: E731
    return lax.while_loop(lambda s: jnp.any(s[2] != 0), body, state)[1][:n]


def _mt_propose(seed: Array, d: Array) -> tuple[Array, Array]:
    """One Marsaglia–Tsang candidate for Gamma(d + 1/3), d ≥ 2/3: (value, accepted)."""
    z, u = _uniforms(seed, d.shape[0], d.dtype, 2)
    x = jnp.sqrt(2.0).astype(d.dtype) * lax.erf_inv(2 * z - 1)  # standard normal
    w = x * lax.rsqrt(9.0 * d)
    # log U < x²/2 + d(1 - v + log v), v = (1+w)³, rearranged to avoid cancellation
    ok = (w > -1) & (jnp.log(u) < x * x / 6 - d * w * w * w + 3 * d * (jnp.log1p(w) - w))
    return d * (1 + w) ** 3, ok


def _gamma_flat(seed: Array, alpha: Array) -> Array:
    bad = ~((alpha > 0) & (alpha < jnp.inf))  # NaN, α ≤ 0 or α = ∞ give NaN
    alpha = jnp.where(bad, 1, alpha)
    d = jnp.where(alpha < 1, alpha + 1, alpha) - 1.0 / 3.0
    val, ok = _mt_propose(_fold(seed, 0), d)
    val = _redraw(_fold(seed, 1), jnp.where(ok, val, 0), ok, (d,), _mt_propose, 2)

    def boost(val):  # Gamma(α) = Gamma(α+1)·U^(1/α) for α < 1
        u = _uniforms(_fold(seed, 2), alpha.size, alpha.dtype, 1)[0]
        return jnp.where(alpha < 1, val * jnp.exp(jnp.log(u) / alpha), val)

    return jnp.where(bad, jnp.nan, lax.cond(jnp.any(alpha < 1), boost, lambda v: v, val))


def _inversion(lam: Array, u: Array) -> Array:
    """Poisson(λ) as #{k : F(k) < u}, summing the pmf until every cell's F exceeds u."""

    def body(s):
        k, p, cdf, count = s
        for j in range(4):  # unrolled: terms past F ≥ u do not change the count
            p = p * (lam * (1.0 / (k + j)))
            cdf, last = cdf + p, cdf
            count = count + ((cdf < u) & (cdf > last))  # rounded F below u: stop at its top
        return k + 4, p, cdf, count

    p = jnp.exp(-lam)
    s = (jnp.asarray(1.0, lam.dtype), p, p, (p < u).astype(lam.dtype))
    more = lambda s: jnp.any((s[2] < u) & (s[2] + s[1] > s[2])) & (s[0] < 64)  # noqa: E731
    return lax.while_loop(more, body, s)[3]


def _log_pmf(k: Array, lam: Array) -> Array:
    """log Poisson pmf for integer-valued k ≥ 0 and λ ≥ 10 (Loader's stirlerr/bd0 form)."""
    log_fact = sum(jnp.where(k == j, c, 0.0) for j, c in enumerate(_LOG_FACT))  # k < 10
    kk = jnp.maximum(k, 10.0)
    stirlerr = (1 / 12 - (1 / 360 - 1 / (1260 * kk * kk)) / (kk * kk)) / kk
    v = (kk - lam) / (kk + lam)
    ej, series = 2 * kk * v, (kk - lam) * v
    for j in range(1, 5 if lam.dtype == jnp.float32 else 9):  # |v| < 0.1: v^(2j) below ε
        ej = ej * v * v
        series = series + ej / (2 * j + 1)
    bd0 = jnp.where(jnp.abs(v) < 0.1, series, kk * jnp.log(kk / lam) + lam - kk)
    large = -0.5 * jnp.log(2 * math.pi * kk) - stirlerr - bd0
    return jnp.where(k < 10, k * jnp.log(lam) - lam - log_fact, large)


def _ptrs(u: Array, v: Array, lam: Array) -> tuple[Array, Array]:
    """One PTRS candidate (Hörmann 1993) for λ ≥ 10 from uniforms u, v: (k, accepted)."""
    b = 0.931 + 2.53 * jnp.sqrt(lam)
    a = -0.059 + 0.02483 * b
    inv_alpha = 1.1239 + 1.1328 / (b - 3.4)
    v_r = 0.9277 - 3.6224 / (b - 2)
    uc, whole = u - 0.5, jnp.floor(lam)  # λ split so that the floor is exact in float32
    us = 0.5 - jnp.abs(uc)
    k = jnp.floor((2 * a / us + b) * uc + (lam - whole) + 0.43) + whole
    quick = (us >= 0.07) & (v <= v_r)
    possible = (k >= 0) & ~((us < 0.013) & (v > us))
    test = jnp.log(v * inv_alpha / (a / (us * us) + b)) <= _log_pmf(jnp.maximum(k, 0), lam)
    return k, quick | (possible & test)


_ptrs_propose = lambda s, lam: _ptrs(*_uniforms(s, lam.size, lam.dtype, 2), lam)  # noqa: E731


def _poisson_flat(seed: Array, lam: Array) -> Array:
    bad = ~((lam >= 0) & (lam < jnp.inf))  # NaN, λ < 0 or λ = ∞ give -1
    lam = jnp.where(bad, 0, lam)
    small = lam < _SMALL
    u, v = _uniforms(_fold(seed, 3), lam.shape[0], lam.dtype, 2)
    count = _inversion(jnp.where(small, lam, 0), jnp.where(small, u, 0))

    def large(count):  # the first PTRS candidate reuses u, unused by the large cells
        lam_l = jnp.where(small, _SMALL, lam)
        k, ok = _ptrs(u, v, lam_l)
        k = _redraw(_fold(seed, 4), jnp.where(ok, k, 0), ok | small, (lam_l,), _ptrs_propose, 6)
        return jnp.where(small, count, k)

    count = lax.cond(jnp.any(~small), large, lambda c: c, count)
    return jnp.where(bad, -1, count.astype(jnp.int32))


@partial(jax.jit, static_argnums=2)
def _gamma(key: Array, alpha: Array, shape: tuple[int, ...]) -> Array:
    alpha = jnp.broadcast_to(alpha.astype(jnp.result_type(alpha, float)), shape)
    return _chunked(_gamma_flat, key, alpha)


def gamma(key: Array, shape_param, size_shape: tuple[int, ...]) -> Array:
    """Gamma(α, 1) draws of shape ``size_shape`` (α broadcast to it), in α's float dtype
    (the default float for an integer α): float32, or float64 under x64; invalid α: NaN."""
    return _gamma(key, jnp.asarray(shape_param), tuple(size_shape))


@jax.jit
def poisson(key: Array, rate) -> Array:
    """Poisson(λ) counts of ``rate``'s shape, int32; λ = 0 gives 0, an invalid λ -1."""
    return _chunked(_poisson_flat, key, jnp.asarray(rate, jnp.result_type(rate, float)))


@jax.jit
def _negative_binomial(key: Array, concentration: Array, rate: Array) -> Array:
    nb = lambda seed, r, rate: _poisson_flat(seed, _gamma_flat(seed, r) / rate)  # noqa: E731
    return _chunked(nb, key, concentration, rate)  # gamma and Poisson use distinct seed tags


class FastPoisson(dist.Poisson):
    """``numpyro.distributions.Poisson`` with the vectorised exact sampler."""

    def sample(self, key: Array, sample_shape: tuple[int, ...] = ()) -> Array:
        """int32 counts of shape ``sample_shape + batch_shape``."""
        return poisson(key, jnp.broadcast_to(self.rate, tuple(sample_shape) + self.batch_shape))


class FastNegativeBinomial2(dist.NegativeBinomial2):
    """``NegativeBinomial2(mean, concentration)`` with the vectorised exact sampler: counts
    are Poisson(Gamma(r, 1)/rate) with rate = r/μ, so μ = 0 gives rate = ∞ and count 0."""

    def sample(self, key: Array, sample_shape: tuple[int, ...] = ()) -> Array:
        """int32 counts of shape ``sample_shape + batch_shape``."""
        shape = tuple(sample_shape) + self.batch_shape
        dtype = jnp.result_type(self.concentration, self.rate, float)
        conc, rate = (jnp.asarray(p, dtype) for p in (self.concentration, self.rate))
        return _negative_binomial(key, jnp.broadcast_to(conc, shape), jnp.broadcast_to(rate, shape))
