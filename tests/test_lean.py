"""The lean install (`pip install skvision`, no torch): what it promises works, and never loads torch.

CI runs this module twice: in the full environment, where the checks run in a child interpreter and
watch that torch is not imported, and in `.ci/lean`'s venv, where torch is not installed at all.
"""

import importlib.util
import subprocess
import sys
import textwrap

import pytest

TORCH_INSTALLED = importlib.util.find_spec("torch") is not None


def _python(code):
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()


def test_descriptors_and_a_handcrafted_comparison_never_load_torch():
    lines = _python(
        """
        import sys
        import numpy as np
        import skvision
        from skvision.compare import DatasetInfo, build_feature_sets
        from skvision.datasets import load_textures
        X, y = load_textures(return_X_y=True)
        X, y = X[::3], y[::3]
        names = ["pixels", "lbp", "hog", "glcm", "lpq"]
        feature_sets = build_feature_sets(names, DatasetInfo.from_data(X, y, device="cpu"))
        result = skvision.compare_features(X, y, feature_sets, estimator="logreg", cv=3)
        for name, r in result.results.items():
            print(name, round(float(r.scores.mean()), 2))
        print("torch loaded:", "torch" in sys.modules)
        """
    )
    assert lines[-1] == "torch loaded: False"
    scores = dict(line.split() for line in lines[:-1])
    assert set(scores) == {"pixels", "lbp", "hog", "glcm", "lpq"}
    # Three texture classes: every family is well above chance (1/3).
    assert all(float(score) > 0.5 for score in scores.values()), scores


@pytest.mark.skipif(TORCH_INSTALLED, reason="checks the lean install, where torch is absent (.ci/lean)")
def test_learned_families_are_left_out_with_the_extra_named():
    from skvision.compare import DatasetInfo, build_feature_sets
    from skvision.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    lbp, cnn = build_feature_sets(["lbp", "cnn"], DatasetInfo.from_data(X, y, device="cpu"))
    assert lbp.available and not cnn.available
    assert "not available in this installation" in cnn.skipped
    with pytest.raises(ImportError, match=r"pip install 'skvision\[neural\]'"):
        import skvision

        skvision.CNNClassifier  # noqa: B018 - the attribute access is what raises
