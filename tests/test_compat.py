"""skvision._compat: every private name taken from a dependency still exists as it was written against.

A skorch release that drops, renames or changes one of the private methods in
``SKORCH_PRIVATES`` fails here with the name, instead of silently skipping an
override (a renamed ``_get_scheduler`` would leave skvision's never called) or
failing deep inside a training. A second test keeps the list complete: every
private skorch name that skvision's neural classes override or use is listed.
"""

import ast
import importlib
import inspect
import pkgutil
import textwrap

import pytest

from skvision._compat import SKLEARN_PRIVATES, SKORCH_PRIVATES


@pytest.mark.parametrize("name", sorted(SKLEARN_PRIVATES))
def test_listed_sklearn_private_exists_with_the_expected_signature(name):
    import sklearn

    expected, used_by = SKLEARN_PRIVATES[name]
    owner, attribute = _resolve(name)
    installed = f"scikit-learn {sklearn.__version__}"
    if not hasattr(owner, attribute):
        pytest.fail(f"{name} is gone in {installed}; skvision relies on it ({used_by}).")
    value = inspect.getattr_static(owner, attribute)
    function = value.__func__ if isinstance(value, (classmethod, staticmethod)) else value
    found = str(inspect.signature(function))
    assert found == expected, (
        f"{name} changed its signature in {installed}: {found} (skvision was written against {expected}). "
        f"Check skvision's use ({used_by}), then update skvision._compat.SKLEARN_PRIVATES."
    )


def test_the_private_feature_count_hook_is_still_read():
    # ClassNamePrefixFeaturesOutMixin names outputs from the private _n_features_out: an estimator that
    # defines it gets names of that width.
    from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin

    class Three(ClassNamePrefixFeaturesOutMixin, BaseEstimator):
        _n_features_out = 3

        def fit(self, X=None, y=None):
            self.fitted_ = True
            return self

    assert list(Three().fit().get_feature_names_out()) == ["three0", "three1", "three2"]


skorch = pytest.importorskip("skorch")


def _resolve(dotted):
    """``'skorch.callbacks.LRScheduler._get_scheduler'`` -> (the class, the attribute name)."""
    *class_path, attribute = dotted.split(".")
    module = importlib.import_module(class_path[0])
    owner = module
    for part in class_path[1:]:
        owner = getattr(owner, part)
    return owner, attribute


@pytest.mark.parametrize("name", sorted(SKORCH_PRIVATES))
def test_listed_skorch_private_exists_with_the_expected_signature(name):
    expected, used_by = SKORCH_PRIVATES[name]
    owner, attribute = _resolve(name)
    installed = f"skorch {skorch.__version__}"
    assert inspect.isclass(owner), f"{name}: {owner!r} is not a class in {installed}"
    if not hasattr(owner, attribute):
        pytest.fail(f"{name} is gone in {installed}; skvision relies on it ({used_by}).")
    value = inspect.getattr_static(owner, attribute)
    if expected == "list":
        assert isinstance(value, list), (
            f"{name} is no longer a list in {installed} but {type(value).__name__}; "
            f"skvision relies on it ({used_by})."
        )
        return
    assert callable(value), f"{name} is no longer a method in {installed}; skvision relies on it ({used_by})."
    found = str(inspect.signature(value))
    assert found == expected, (
        f"{name} changed its signature in {installed}: {found} (skvision was written against {expected}). "
        f"Check skvision's use ({used_by}), then update skvision._compat.SKORCH_PRIVATES."
    )


def _neural_classes_on_skorch():
    """The classes of skvision.neural that subclass a skorch class."""
    import skvision.neural

    for info in pkgutil.walk_packages(skvision.neural.__path__, "skvision.neural."):
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            if not (inspect.isclass(value) and value.__module__ == module.__name__):
                continue
            if any(base.__module__.startswith("skorch") for base in value.__mro__):
                yield value


def _private_names_used(cls):
    """Non-dunder ``_names`` read, called or defined in the body of ``cls``."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            names.add(node.attr)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            names.add(node.name)
    return {n for n in names if n.startswith("_") and not n.startswith("__")}


def _skorch_owner(name, classes):
    """The first skorch class in ``classes``' MROs that defines ``name`` (overridden or not), or None."""
    for cls in classes:
        for klass in cls.__mro__:
            if klass.__module__.startswith("skorch") and name in vars(klass):
                return klass
    return None


def test_every_skorch_private_used_by_skvision_is_listed():
    listed = {".".join(name.split(".")[-2:]) for name in SKORCH_PRIVATES}
    classes = list(_neural_classes_on_skorch())
    assert classes, "found no skvision.neural class built on skorch: the scan is broken"
    unlisted = set()
    for cls in classes:
        # The bodies of skvision's classes in its MRO: a mixin (ImageNetMixin) is not built on skorch itself.
        own = [klass for klass in cls.__mro__ if klass.__module__.startswith("skvision")]
        for name in set().union(*map(_private_names_used, own)):
            # The class's own MRO first (self._x, super()._x), then skorch's net (net._x in a callback).
            owner = _skorch_owner(name, [cls, skorch.NeuralNet])
            if owner is not None and f"{owner.__name__}.{name}" not in listed:
                unlisted.add(
                    f"{cls.__module__}.{cls.__name__} uses {owner.__module__}.{owner.__name__}.{name}"
                )
    assert not unlisted, (
        "skorch private names used but not listed in skvision._compat.SKORCH_PRIVATES: "
        + "; ".join(sorted(unlisted))
    )


def test_the_scan_sees_a_known_private():
    # The completeness test above is only as good as its scan: it must see the override of _get_scheduler.
    from skvision.neural._callbacks import _BatchSteppedLRScheduler

    assert "_get_scheduler" in _private_names_used(_BatchSteppedLRScheduler)
    owner = _skorch_owner("_get_scheduler", [_BatchSteppedLRScheduler])
    assert owner is skorch.callbacks.LRScheduler
