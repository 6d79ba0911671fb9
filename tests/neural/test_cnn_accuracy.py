"""Accuracy targets of the CNN estimators on real images (fixed seeds, CPU).

The full targets train many networks and are marked slow (``make test-slow``);
one fast regression check stays in the default run.
"""

import time

import numpy as np
import pytest
import skimage.data
from skimage.transform import rotate
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import r2_score
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline

from skvision import CNNClassifier, CNNFeatures, CNNRegressor
from skvision.datasets import load_digits, load_faces


def rotated_bricks(n_images, *, size=32, max_angle=40.0, seed=0):
    """Patches of skimage's brick wall rotated by a random angle (the regression target, degrees)."""
    rng = np.random.default_rng(seed)
    source = skimage.data.brick()
    # Cut a patch large enough that the rotated square crop has no empty corners.
    big = int(np.ceil(size * np.sqrt(2))) + 2
    offset = (big - size) // 2
    images, angles = [], []
    for _ in range(n_images):
        row, col = rng.integers(0, source.shape[0] - big, size=2)
        angle = rng.uniform(-max_angle, max_angle)
        patch = rotate(source[row : row + big, col : col + big], angle, preserve_range=True, order=1)
        images.append(patch[offset : offset + size, offset : offset + size])
        angles.append(angle)
    return np.rint(np.stack(images)).astype(np.uint8), np.array(angles)


def test_rotation_angle_regression_fast():
    X, y = rotated_bricks(300, size=24, seed=1)
    reg = CNNRegressor(module__filters=8, max_epochs=15, batch_size=32, random_state=0).fit(X[:240], y[:240])
    assert r2_score(y[240:], reg.predict(X[240:])) >= 0.6


@pytest.mark.slow
def test_digits_defaults_5fold_cv():
    X, y = load_digits(return_X_y=True)
    start = time.perf_counter()
    scores = cross_val_score(CNNClassifier(random_state=0), X, y, cv=5)
    elapsed = time.perf_counter() - start
    print(
        f"digits 5-fold CV accuracy {scores.mean():.4f} {np.round(scores, 4)} "
        f"in {elapsed:.1f} s (1 torch thread)"
    )
    assert scores.mean() >= 0.98


@pytest.mark.slow
def test_faces_5fold_cv():
    X, y = load_faces(return_X_y=True)
    scores = cross_val_score(CNNClassifier(random_state=0), X, y, cv=5)
    print(f"faces 5-fold CV accuracy {scores.mean():.4f} {np.round(scores, 4)}")
    assert scores.mean() >= 0.95


@pytest.mark.slow
def test_rotation_angle_regression_r2():
    X, y = rotated_bricks(600)
    reg = CNNRegressor(random_state=0).fit(X[:480], y[:480])
    r2 = r2_score(y[480:], reg.predict(X[480:]))
    print(f"brick rotation angle R^2 {r2:.4f}")
    assert r2 >= 0.9


@pytest.mark.slow
def test_cnn_features_then_logistic_regression_on_digits():
    X, y = load_digits(return_X_y=True)
    pipe = make_pipeline(CNNFeatures(random_state=0), LogisticRegression(max_iter=1000))
    scores = cross_val_score(pipe, X, y, cv=5)
    print(
        f"CNNFeatures -> LogisticRegression digits 5-fold CV accuracy {scores.mean():.4f} "
        f"{np.round(scores, 4)}"
    )
    assert scores.mean() >= 0.97
