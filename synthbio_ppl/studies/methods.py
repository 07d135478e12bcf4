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

import functools
import importlib
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from synthbio_ppl.core.errors import SpecError, short_repr

__all__ = [
    "PRESETS",
    "FitMethod",
    "Method",
    "build_method",
    "build_methods",
    "canonical",
    "described",
    "seeded",
]

SELECTS, SCORES, PREDICTS, FITS = "selects", "scores", "predicts", "fits"
"""What a method gives: a feature set, per-feature scores, class predictions, a fit."""


@dataclass(frozen=True)
class FitMethod:
    """The scene's own model fitted back by ``sb.fit(data, method, **settings)`` (the
    fit's ``seed`` is the cell's); scored by the coverage and bias of its parameters."""

    method: str = "svi"
    settings: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Method:
    """A named method and what it gives (``SELECTS``, ``SCORES``, ``PREDICTS``, ``FITS``)."""

    name: str
    estimator: Any
    gives: frozenset[str]

    @property
    def kind(self) -> str:
        if FITS in self.gives:
            return "fit"
        if PREDICTS in self.gives:
            return "classifier"
        return "selector"


def _preset_selector(k: int, score: Callable[..., Any]) -> Any:
    from sklearn.feature_selection import SelectKBest

    return SelectKBest(score, k=k)


def _t_test(k: int = 10) -> Any:
    from sklearn.feature_selection import f_classif

    return _preset_selector(k, f_classif)  # two classes: F = t², the same ranking


def _mutual_information(k: int = 10) -> Any:
    from sklearn.feature_selection import mutual_info_classif

    return _preset_selector(k, mutual_info_classif)


def _l1_logistic(k: int = 10, C: float = 1.0) -> Any:
    from sklearn.feature_selection import SelectFromModel
    from sklearn.linear_model import LogisticRegression

    # the lasso's own selection: non-zero coefficients only, the k largest of them
    return SelectFromModel(
        LogisticRegression(**_l1_penalty(), solver="liblinear", C=C),
        max_features=k,
        threshold=1e-12,
    )


def _l1_penalty() -> dict[str, Any]:
    """The L1 penalty as the installed scikit-learn spells it (1.8 deprecates ``penalty``
    for ``l1_ratio``; before 1.8 ``l1_ratio`` alone is ignored)."""
    import sklearn

    major, minor = (int(p) for p in sklearn.__version__.split(".")[:2])
    return {"l1_ratio": 1.0} if (major, minor) >= (1, 8) else {"penalty": "l1"}


def _random_forest(k: int = 10, n_estimators: int = 200) -> Any:
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.feature_selection import SelectFromModel

    model = RandomForestClassifier(n_estimators=n_estimators)
    return SelectFromModel(model, max_features=k, threshold=-float("inf"))


def _logistic_regression() -> Any:
    from synthbio_ppl.core.estimators import default_estimator

    return default_estimator()


PRESETS: dict[str, Callable[..., Any]] = {
    "t_test": _t_test,
    "l1_logistic": _l1_logistic,
    "random_forest": _random_forest,
    "mutual_information": _mutual_information,
    "logistic_regression": _logistic_regression,
}
"""Named methods: the four selectors of the lesson (the top ``k`` features by the univariate
F-test, by |coefficient| of an L1 logistic regression (at most ``k``: its non-zero ones),
by random-forest importance, by mutual information) and the default classifier
(standardise, L2 logistic regression)."""


def _import(path: str, where: str) -> Any:
    module_name, _, name = path.rpartition(".")
    if not module_name:
        raise SpecError(where, path, "give the full import path (sklearn.svm.SVC)")
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        raise SpecError(where, path, f"no module {module_name!r} can be imported") from None
    if not hasattr(module, name):
        raise SpecError(where, path, f"module {module_name!r} has no {name!r}")
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
            raise SpecError(where, entry, f"not a preset; presets: {', '.join(PRESETS)}")
        return PRESETS[entry]()
    if not isinstance(entry, Mapping):
        return entry
    if "preset" in entry:
        preset = entry["preset"]
        if preset not in PRESETS:
            raise SpecError(f"{where}.preset", preset, f"presets: {', '.join(PRESETS)}")
        options = {k: v for k, v in entry.items() if k != "preset"}
        allowed = list(inspect.signature(PRESETS[preset]).parameters)
        for key in options:
            if key not in allowed:
                raise SpecError(
                    f"{where}.{key}", options[key], f"preset {preset!r} takes {allowed or 'none'}"
                )
        return PRESETS[preset](**options)
    if "fit" in entry:
        if set(entry) != {"fit"}:
            raise SpecError(where, sorted(entry), "a fit method is {fit: {method: ..., ...}}")
        settings = dict(entry["fit"] or {})
        return FitMethod(str(settings.pop("method", "svi")), settings)
    if "class" in entry:
        return _built(entry, where)
    raise SpecError(where, dict(entry), "give a preset, {class: ..., params: ...} or {fit: ...}")


def build_method(name: str, entry: Any, where: str | None = None) -> Method:
    """One method and what it gives; SpecError (path ``methods.<name>``) for an object
    that neither selects features, classifies, nor fits."""
    where = where or f"methods.{name}"
    estimator = _from_entry(name, entry, where)
    if isinstance(estimator, FitMethod):
        if estimator.method not in ("nuts", "svi", "map"):
            raise SpecError(f"{where}.fit.method", estimator.method, "nuts, svi or map")
        return Method(name, estimator, frozenset({FITS}))
    from sklearn.base import is_classifier
    from sklearn.feature_selection import SelectorMixin

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
    steps = [s for _, s in getattr(estimator, "steps", [])] or [estimator]
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
    return Method(name, estimator, frozenset(gives))


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


def _code(fn: Any) -> str:
    """A digest of a function's source (its bytecode where the source is not at hand), so
    that an edited function is another method."""
    import hashlib

    try:
        text = inspect.getsource(fn)
    except (OSError, TypeError):
        code = getattr(fn, "__code__", None)
        text = code.co_code.hex() if code is not None else ""
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _name(obj: Any) -> str:
    return f"{getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', repr(obj))}"


def canonical(value: Any) -> Any:
    """A description of a method, parameter or metric that is the same in every process
    (no memory addresses) and changes when the code of a user's function changes: what a
    study's fingerprint is made of."""
    if isinstance(value, FitMethod):
        return {"fit": value.method, "settings": canonical(dict(value.settings))}
    if hasattr(value, "get_params") and not inspect.isclass(value):
        params = value.get_params(deep=False)
        return {
            "class": _name(type(value)),
            "params": {k: canonical(params[k]) for k in sorted(params)},
        }
    if isinstance(value, functools.partial):
        return {
            "partial": canonical(value.func),
            "args": [canonical(a) for a in value.args],
            "keywords": {k: canonical(v) for k, v in sorted(value.keywords.items())},
        }
    if isinstance(value, list | tuple):
        return [canonical(v) for v in value]
    if isinstance(value, dict):
        return {str(k): canonical(v) for k, v in value.items()}
    if inspect.isfunction(value) or inspect.ismethod(value):
        return {"function": _name(value), "code": _code(value)}
    if inspect.isclass(value):
        return {"type": _name(value)}
    if callable(value) and not isinstance(value, str | int | float | bool):
        state = canonical(vars(value)) if hasattr(value, "__dict__") else None
        return {"callable": _name(type(value)), "code": _code(type(value)), "state": state}
    return repr(value)


def described(estimator: Any) -> str:
    """A method as one line of text: scikit-learn's repr (functions by name, not address),
    or a function's qualified name."""
    import re

    if hasattr(estimator, "get_params") or isinstance(estimator, FitMethod):
        text = " ".join(repr(estimator).split())
        return re.sub(r"<function (\S+) at 0x[0-9a-fA-F]+>", r"\1", text)
    return getattr(estimator, "__qualname__", None) or type(estimator).__qualname__
