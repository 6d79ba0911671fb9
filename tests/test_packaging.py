"""Packaging: the lean install without torch, extras named in errors, type stubs, one version,
the estimator table."""

import importlib
import importlib.metadata
import inspect
import subprocess
import sys
import textwrap

import pytest
from sklearn.base import BaseEstimator

import skvision
from skvision._lazy import LAZY_PACKAGES, expected_stubs
from tests._estimators import IDS

# Makes torch and friends unimportable in a child interpreter, as in an install without the 'neural' extra.
_WITHOUT_TORCH = textwrap.dedent(
    """
    import sys
    from importlib.abc import MetaPathFinder

    class Block(MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.partition(".")[0] in {"torch", "torchvision", "skorch", "timm", "kornia"}:
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None

    sys.meta_path.insert(0, Block())
    """
)


def _run_without_torch(code):
    result = subprocess.run(
        [sys.executable, "-c", _WITHOUT_TORCH + textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_descriptors_preprocessing_and_handcrafted_comparison_run_without_torch():
    out = _run_without_torch(
        """
        import numpy as np
        import skvision
        from skvision.datasets import load_digits
        from skvision.preprocessing import Grayscale, Resize
        X, y = load_digits(return_X_y=True)
        X, y = X[:120], y[:120]
        hog = skvision.HOG(pixels_per_cell=(4, 4), cells_per_block=(2, 2))
        for est in (skvision.LBP(), hog, skvision.GLCM()):
            assert est.fit_transform(Resize((16, 16)).fit_transform(Grayscale().fit_transform(X))).ndim == 2
        features = {"lbp": skvision.LBP(), "hog": hog}
        result = skvision.compare_features(X, y, features, estimator="logreg", cv=3)
        print(sorted(result.results), "torch" in sys.modules)
        """
    )
    assert out.split() == ["['hog',", "'lbp']", "False"]


@pytest.mark.parametrize(
    "name", ["CNNClassifier", "AutoencoderFeatures", "GANFeatures", "PretrainedFeatures"]
)
def test_neural_estimator_without_the_extra_names_the_extra(name):
    out = _run_without_torch(
        f"""
        import skvision
        try:
            skvision.{name}
        except ImportError as exc:
            print(exc)
        """
    )
    assert f"{name} needs torch" in out
    assert "pip install 'skvision[neural]'" in out


def test_stubs_are_current():
    for path, text in expected_stubs().items():
        assert path.exists(), f"{path} is missing: run `python -m skvision._lazy`"
        assert path.read_text() == text, f"{path} is out of date: run `python -m skvision._lazy`"


@pytest.mark.parametrize("package_name", LAZY_PACKAGES)
def test_every_lazy_name_resolves_and_dir_lists_it(package_name):
    package = importlib.import_module(package_name)
    for name in package._NAMES:
        assert getattr(package, name) is not None
    assert set(package._NAMES) <= set(dir(package))
    assert set(package._NAMES) <= set(package.__all__)


def test_one_version():
    assert importlib.metadata.version("skvision") == skvision.__version__


def test_every_public_estimator_is_in_the_contract_table():
    """A new public estimator that takes images must join tests/_estimators.py (bad input, persistence,
    determinism tables)."""
    public = {
        name
        for name in skvision.__all__
        if inspect.isclass(getattr(skvision, name)) and issubclass(getattr(skvision, name), BaseEstimator)
    }
    # Steps that take images but are covered by their own test tables.
    covered_elsewhere = {"Grayscale", "Resize", "ImageLoader"}
    missing = public - set(IDS) - covered_elsewhere
    assert not missing, f"add {sorted(missing)} to tests/_estimators.py"
    assert set(IDS) <= public
