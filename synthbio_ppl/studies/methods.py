"""A study's methods: what each one does (selects features, classifies, fits the model),
built from Python objects, presets or a study file's ``{class: ..., params: ...}``.

A method is one of:

- a scikit-learn feature selector (``SelectKBest``, ``SelectFromModel``, or a Pipeline
  holding one): its selected set and, where it keeps one, its per-feature score
  (``scores_``, the model's ``feature_importances_`` or |``coef_``|);
- a scikit-learn classifier or a Pipeline ending in one: cross-validated scores (and the
  selected set, when the Pipeline holds a selector);
- a callable ``f(X, y)`` returning the selected features (names or a boolean mask), or a
  mapping ``{"selected": ..., "scores": ...}``;
- ``FitMethod``: the scene's own model fitted back (``sb.fit``), scored by coverage and
  bias of its parameters.
"""

from __future__ import annotations

import difflib
import functools
import importlib
import inspect
from collections.abc import Mapping
from typing import Any

from synthbio_ppl.core.errors import SpecError, short_repr
from synthbio_ppl.studies.fingerprints import described
from synthbio_ppl.studies.method_types import FITS, PREDICTS, SCORES, SELECTS, FitMethod, Method
from synthbio_ppl.studies.presets import PRESETS

__all__ = ["build_method", "build_methods", "seeded"]


def _presets_hint(given: Any) -> str:
    near = difflib.get_close_matches(given, PRESETS, n=1) if isinstance(given, str) else []
    return (f"did you mean {near[0]!r}? " if near else "") + f"presets: {', '.join(PRESETS)}"


def _import(path: str, where: str) -> Any:
    module_name, _, name = path.rpartition(".")
    if not module_name:
        raise SpecError(where, path, "give the full import path (sklearn.svm.SVC)")
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        raise SpecError(where, path, f"no module {module_name!r} can be imported") from None
    if not hasattr(module, name):
        public = [n for n in dir(module) if not n.startswith("_")]
        near = difflib.get_close_matches(name, public, n=1)
        hint = f"; did you mean {module_name}.{near[0]}?" if near else ""
        raise SpecError(where, path, f"module {module_name!r} has no {name!r}{hint}")
    return getattr(module, name)


def _built(entry: Any, where: str) -> Any:
    """A study file's parameter value: ``{class: path, params: {...}}`` an estimator,
    ``{function: path}`` a scikit-learn function (a score function), else the value."""
    if isinstance(entry, list):
        return [_built(v, f"{where}[{i}]") for i, v in enumerate(entry)]
    if not isinstance(entry, Mapping):
        return entry
    if "class" in entry:
        extra = set(entry) - {"class", "params"}
        if extra:
            raise SpecError(f"{where}.{sorted(extra)[0]}", "", "allowed keys: class, params")
        from sklearn.base import BaseEstimator

        cls = _import(str(entry["class"]), f"{where}.class")
        if not (inspect.isclass(cls) and issubclass(cls, BaseEstimator)):
            raise SpecError(
                f"{where}.class", entry["class"], "must name a scikit-learn estimator class"
            )
        params = entry.get("params") or {}
        if not isinstance(params, Mapping):
            raise SpecError(f"{where}.params", params, "must be a mapping of parameters")
        built = {k: _built(v, f"{where}.params.{k}") for k, v in params.items()}
        try:
            return cls(**built)
        except TypeError as exc:
            raise SpecError(f"{where}.params", short_repr(params), str(exc)) from None
    if set(entry) == {"function"}:
        path = str(entry["function"])
        if not path.startswith("sklearn."):
            raise SpecError(
                f"{where}.function", path, "must name a scikit-learn function (sklearn....)"
            )
        fn = _import(path, f"{where}.function")
        if not callable(fn) or inspect.isclass(fn):
            raise SpecError(f"{where}.function", path, "must name a function")
        return fn
    return {k: _built(v, f"{where}.{k}") for k, v in entry.items()}


def _from_entry(name: str, entry: Any, where: str) -> Any:
    """A Python object, a preset name, or a study file's mapping as an estimator."""
    if isinstance(entry, str):
        if entry not in PRESETS:
            raise SpecError(where, entry, f"not a preset; {_presets_hint(entry)}")
        return PRESETS[entry]()
    if not isinstance(entry, Mapping):
        return entry
    if "preset" in entry:
        preset = entry["preset"]
        if not isinstance(preset, str) or preset not in PRESETS:
            raise SpecError(f"{where}.preset", preset, _presets_hint(preset))
        options = {k: v for k, v in entry.items() if k != "preset"}
        allowed = list(inspect.signature(PRESETS[preset]).parameters)
        for key in options:
            if key not in allowed:
                raise SpecError(
                    f"{where}.{key}", options[key], f"preset {preset!r} takes {allowed or 'none'}"
                )
        return PRESETS[preset](**options)
    if "fit" in entry:
        settings = entry["fit"] if entry["fit"] is not None else {}
        if set(entry) != {"fit"} or not isinstance(settings, Mapping):
            raise SpecError(where, entry, "a fit method is {fit: {method: svi, svi_steps: ...}}")
        settings = dict(settings)
        return FitMethod(settings.pop("method", "svi"), settings)
    if "class" in entry:
        return _built(entry, where)
    raise SpecError(where, dict(entry), "give a preset, {class: ..., params: ...} or {fit: ...}")


def build_method(name: str, entry: Any, where: str | None = None) -> Method:
    """One method and what it gives; SpecError (path ``methods.<name>``) for an object
    that neither selects features, classifies, nor fits."""
    where = where or f"methods.{name}"
    estimator = _from_entry(name, entry, where)
    if isinstance(estimator, FitMethod):
        _check_fit(estimator, f"{where}.fit")
        return Method(name, estimator, frozenset({FITS}))
    from sklearn.base import is_classifier
    from sklearn.feature_selection import SelectorMixin

    if inspect.isclass(estimator):
        raise SpecError(
            where, estimator.__name__, f"is a class; give an instance ({estimator.__name__}())"
        )
    is_estimator = hasattr(estimator, "get_params")
    if is_estimator and not callable(getattr(estimator, "fit", None)):
        raise SpecError(where, type(estimator).__name__, "has no fit method")
    if not is_estimator:
        if callable(estimator):
            return Method(name, estimator, frozenset({SELECTS, SCORES}))  # scores if it gives them
        raise SpecError(
            where,
            estimator,
            "a method is a scikit-learn selector or classifier, a callable f(X, y) -> "
            "selected features, a preset or sb.FitMethod",
        )
    try:
        steps = [s for _, s in getattr(estimator, "steps", [])] or [estimator]
    except (TypeError, ValueError):
        _check_params(estimator, where)  # steps that are not (name, estimator) pairs
        raise

    gives = set()
    if any(isinstance(step, SelectorMixin) for step in steps):
        gives |= {SELECTS, SCORES}
    if is_classifier(estimator):
        gives.add(PREDICTS)
    if not gives:
        raise SpecError(
            where,
            type(estimator).__name__,
            "neither selects features (a SelectorMixin, or a Pipeline holding one) nor "
            "classifies (a classifier, or a Pipeline ending in one)",
        )
    _check_params(estimator, where)
    return Method(name, estimator, frozenset(gives))


def _check_params(estimator: Any, where: str) -> None:
    """scikit-learn's own check of an estimator's parameters and of those of the
    estimators inside it (otherwise done by ``fit``, in the first cell)."""
    from sklearn.base import BaseEstimator

    try:
        inner = [
            v for v in estimator.get_params(deep=True).values() if isinstance(v, BaseEstimator)
        ]
        for model in [estimator, *inner]:
            check = getattr(model, "_validate_params", None)
            if callable(check):
                check()
    except (ValueError, TypeError, AttributeError) as exc:
        text = " ".join(str(exc).split())[:300]
        raise SpecError(where, described(estimator), f"scikit-learn refuses it: {text}") from None


FIT_OPTIONS = {
    "num_samples": "a whole number of draws",
    "guide": "auto, normal or mvn",
    "noncentred": "true or false",
    "missing": "model or ignore",
}
"""``fit``'s arguments a fit method may set besides the per-method ones (the study sets
``seed`` and ``progress``)."""


def _check_fit(method: FitMethod, where: str) -> None:
    """A fit method's method and settings, checked as ``fit`` checks them."""
    from synthbio_ppl.core.fit_settings import MODEL_FIT_SETTINGS, resolve_settings

    if method.method not in ("nuts", "svi"):
        raise SpecError(f"{where}.method", method.method, "nuts or svi")
    if not isinstance(method.settings, Mapping):
        raise SpecError(f"{where}.settings", method.settings, "a mapping of fit settings")
    per_method = {s.name for s in MODEL_FIT_SETTINGS}
    allowed = sorted(per_method | set(FIT_OPTIONS))
    for key, value in method.settings.items():
        if key not in allowed:
            raise SpecError(f"{where}.{key}", value, f"fit settings are {', '.join(allowed)}")
        whole = key in ("num_samples", "svi_steps", "num_warmup")
        if whole and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise SpecError(f"{where}.{key}", value, "a whole number, at least 1")
    checks = {"guide": ("auto", "normal", "mvn"), "missing": ("model", "ignore")}
    for key, choices in checks.items():
        if key in method.settings and method.settings[key] not in choices:
            raise SpecError(f"{where}.{key}", method.settings[key], f"one of {', '.join(choices)}")
    if "noncentred" in method.settings and not isinstance(method.settings["noncentred"], bool):
        raise SpecError(f"{where}.noncentred", method.settings["noncentred"], "true or false")
    given = {k: v for k, v in method.settings.items() if k in per_method}
    try:
        resolve_settings(MODEL_FIT_SETTINGS, method.method, given)
    except SpecError as exc:
        raise exc.under(where) from None


def build_methods(methods: Mapping[str, Any]) -> list[Method]:
    """Every method of a study, in the order given; SpecError for none or a bad name."""
    if not isinstance(methods, Mapping) or not methods:
        raise SpecError("methods", methods, "give a mapping {name: method} of at least one")
    out = []
    for name, entry in methods.items():
        if not isinstance(name, str) or not name or name in ("oracle",):
            raise SpecError("methods", name, "a method's name is a non-empty text, not 'oracle'")
        out.append(build_method(name, entry))
    return out


def seeded(estimator: Any, seed: int) -> Any:
    """A clone of ``estimator`` whose unset ``random_state`` parameters (nested ones too)
    are ``seed``, and whose function parameters that take a ``random_state`` (a score
    function such as ``mutual_info_classif``) get it, so its result depends on the cell,
    not on the worker that ran it."""
    from sklearn.base import clone

    model = clone(estimator)
    unset: dict[str, Any] = {}
    for key, value in model.get_params(deep=True).items():
        if (key == "random_state" or key.endswith("__random_state")) and value is None:
            unset[key] = seed
        elif inspect.isfunction(value) and "random_state" in inspect.signature(value).parameters:
            unset[key] = functools.partial(value, random_state=seed)
    return model.set_params(**unset) if unset else model
