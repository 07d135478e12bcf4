"""The public API: every exported name resolves, and importing the package stays light."""

from __future__ import annotations

import subprocess
import sys

import pytest

import synthbio_ppl as sb


def test_every_exported_name_resolves() -> None:
    assert sb.__all__ == sorted(sb._EXPORTS)
    for name in sb.__all__:
        assert getattr(sb, name) is not None, name


def test_unknown_attribute_is_an_attribute_error() -> None:
    try:
        sb.no_such_thing  # noqa: B018
    except AttributeError as exc:
        assert "no_such_thing" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("expected AttributeError")


def test_import_and_validate_do_not_load_jax() -> None:
    code = (
        "import sys, synthbio_ppl as sb; from synthbio_ppl.cli.app import main; "
        "main(['validate', 'models/demo.yaml']); sb.load_spec('models/kitchen_sink.yaml'); "
        "print('jax' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().endswith("False")


def test_generate_stays_a_function_after_its_module_is_imported() -> None:
    import synthbio_ppl.engine.generation  # noqa: F401

    assert callable(sb.generate) and sb.generate.__module__ == "synthbio_ppl.engine.generation"


def test_a_path_given_as_the_data_of_a_fit_says_to_load_it() -> None:
    with pytest.raises(sb.SpecError, match=r"load it first, sb\.load_dataset\(path\)"):
        sb.fit(None, "out/demo")


def test_too_few_samples_say_how_many_classes_and_which_shares() -> None:
    with pytest.raises(sb.SpecError, match=r"each of 2 classes to get a row \(equal shares\)"):
        sb.make_biomedical_classification(n_samples=1)
