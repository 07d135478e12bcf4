"""JAX's persistent compilation cache, so a fresh process skips recompiling the generator.

The cache lives in the user's cache folder (``~/.cache/synthbio_ppl/jax`` on Linux,
``~/Library/Caches/synthbio_ppl/jax`` on macOS, ``%LOCALAPPDATA%\\synthbio_ppl\\Cache\\jax``
on Windows). ``SYNTHBIO_CACHE_DIR`` overrides the folder; ``SYNTHBIO_CACHE_DIR=off``
disables it. It is switched on when synthbio_ppl generates, never on import, and never
replaces a cache folder the user already gave JAX.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ENV_VAR = "SYNTHBIO_CACHE_DIR"
_OFF = {"off", "0", "false", "no", "none", ""}
_enabled: Path | None = None
_checked = False


def default_cache_dir() -> Path:
    """The platform's user cache folder for synthbio_ppl's compiled programs."""
    home = Path.home()
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA", home / "AppData" / "Local"))
        return base / "synthbio_ppl" / "Cache" / "jax"
    if sys.platform == "darwin":
        return home / "Library" / "Caches" / "synthbio_ppl" / "jax"
    base = Path(os.environ.get("XDG_CACHE_HOME") or home / ".cache")
    return base / "synthbio_ppl" / "jax"


def cache_dir() -> Path | None:
    """The folder to use (``SYNTHBIO_CACHE_DIR`` or the default), or None when disabled."""
    value = os.environ.get(ENV_VAR)
    if value is None:
        return default_cache_dir()
    if value.strip().lower() in _OFF:
        return None
    return Path(value).expanduser()


def enable_compilation_cache() -> Path | None:
    """Point JAX's persistent compilation cache at :func:`cache_dir` (idempotent).

    Programs are cached however quickly they compiled, so even the small ones a fresh
    process needs are read back. Returns the folder in use, or None when disabled.
    """
    global _enabled, _checked
    if _checked:
        return _enabled
    _checked = True
    import jax

    configured = jax.config.jax_compilation_cache_dir
    if configured:  # the user's own choice wins
        _enabled = Path(configured)
        return _enabled
    folder = cache_dir()
    if folder is None:
        return None
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    jax.config.update("jax_compilation_cache_dir", str(folder))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", -1)
    _enabled = folder
    return _enabled
