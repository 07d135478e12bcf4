"""Cold start: the CLI's light commands do not import JAX, and generation uses a persistent
compilation cache (``SYNTHBIO_CACHE_DIR``; ``off`` disables it) that a fresh process reads."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TINY = {
    "name": "tiny",
    "classes": [{"name": "a", "n": 5}, {"name": "b", "n": 5}],
    "informative": [{"n": 2}],
    "noise": [{"n": 3}],
}


def python(code: str, *args: str, cache: str | None = None) -> str:
    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    env.pop("SYNTHBIO_CACHE_DIR", None)
    if cache is not None:
        env["SYNTHBIO_CACHE_DIR"] = cache
    run = subprocess.run(
        [sys.executable, "-c", code, *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr[-3000:]
    return run.stdout


LIGHT_COMMANDS = """
import contextlib, io, sys
from synthbio_ppl.cli.app import main
with contextlib.redirect_stdout(io.StringIO()):
    assert main(["validate", sys.argv[1]]) == 0
    try:
        main(["--help"])
    except SystemExit:
        pass
    assert main(["describe", sys.argv[1]]) == 0
print(sorted(m for m in ("jax", "jaxlib", "numpyro") if m in sys.modules))
"""


def test_validating_a_spec_imports_neither_numpy_nor_pandas() -> None:
    """Validation is pydantic alone: the process modules name numpy, pandas and JAX
    through ``core.lazy``, so ``synthbio validate`` starts in about 0.1 s."""
    code = (
        "import sys, synthbio_ppl as sb; sb.load_spec(sys.argv[1]); "
        "print(sorted(m for m in ('numpy', 'pandas', 'scipy', 'jax') if m in sys.modules))"
    )
    assert python(code, str(ROOT / "models" / "kitchen_sink.yaml")).strip() == "[]"


def test_validate_describe_and_help_do_not_import_jax() -> None:
    assert python(LIGHT_COMMANDS, str(ROOT / "models" / "demo.yaml")).strip() == "[]"


GENERATE = """
import json, sys
import jax
events = []
jax.monitoring.register_event_listener(lambda event, **kw: events.append(event))
import synthbio_ppl as sb
from synthbio_ppl.engine import draw as engine  # importing the engine does not switch the cache on
before = jax.config.jax_compilation_cache_dir
sb.generate(json.loads(sys.argv[1]))
print(json.dumps({
    "before": before,
    "after": jax.config.jax_compilation_cache_dir,
    "requests": events.count("/jax/compilation_cache/compile_requests_use_cache"),
    "hits": events.count("/jax/compilation_cache/cache_hits"),
}))
"""


def test_a_fresh_process_reads_every_program_from_the_cache(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = json.loads(python(GENERATE, json.dumps(TINY), cache=str(cache)))
    assert first["before"] is None and first["after"] == str(cache)
    assert first["hits"] == 0 and first["requests"] > 0
    assert any(cache.iterdir())
    second = json.loads(python(GENERATE, json.dumps(TINY), cache=str(cache)))
    assert second["hits"] == second["requests"] == first["requests"]


DISABLED = """
from synthbio_ppl.core.cache import enable_compilation_cache
assert enable_compilation_cache() is None
import jax
print(jax.config.jax_compilation_cache_dir)
"""


def test_cache_can_be_switched_off() -> None:
    assert python(DISABLED, cache="off").strip() == "None"


def test_default_cache_folder_is_the_users_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from synthbio_ppl.core.cache import cache_dir, default_cache_dir

    monkeypatch.delenv("SYNTHBIO_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_dir() == default_cache_dir()
    if sys.platform.startswith("linux"):
        assert cache_dir() == tmp_path / "synthbio_ppl" / "jax"
    monkeypatch.setenv("SYNTHBIO_CACHE_DIR", str(tmp_path / "mine"))
    assert cache_dir() == tmp_path / "mine"
    monkeypatch.setenv("SYNTHBIO_CACHE_DIR", "off")
    assert cache_dir() is None
