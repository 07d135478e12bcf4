"""JAX and NumPyro as modules imported on first use.

Process modules hold their spec model next to their NumPyro function. Validating a spec
(``import synthbio_ppl``, ``synthbio validate``) must not load JAX, so those modules name
``jnp``, ``numpyro`` and ``dist`` (and numpy and pandas, which validation does not need
either) through these proxies: the real module is imported the first time one of its
attributes is read, which happens when a model runs or a truth is built.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any


class LazyModule:
    """A stand-in for the module ``name`` that imports it when an attribute is first read."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attribute: str) -> Any:
        return getattr(import_module(self._name), attribute)

    def __repr__(self) -> str:
        return f"<lazy module {self._name!r}>"


np = LazyModule("numpy")
pd = LazyModule("pandas")
jax = LazyModule("jax")
jnp = LazyModule("jax.numpy")
numpyro = LazyModule("numpyro")
dist = LazyModule("numpyro.distributions")
