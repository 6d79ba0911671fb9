import matplotlib

matplotlib.use("Agg")

import pytest
from sklearn.decomposition import PCA
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from skvision import compare_features
from skvision.datasets import load_digits


def flatten(images):
    return images.reshape(len(images), -1) / 255.0


@pytest.fixture(scope="package")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:240], y[:240]


@pytest.fixture(scope="package")
def two_sets(digits):
    """Raw pixels and an 8-component PCA, logistic regression, 3 folds."""
    X, y = digits
    features = {
        "pixels": FunctionTransformer(flatten),
        "pca8": make_pipeline(FunctionTransformer(flatten), PCA(8)),
    }
    return compare_features(
        X,
        y,
        features,
        estimator="logreg",
        cv=3,
        random_state=0,
        target_names=[str(d) for d in range(10)],
        kinds={"pixels": "baseline"},
    )
