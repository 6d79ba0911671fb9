"""compare_features(groups=...): images of one group (exact copies, say) never on both sides of a split."""

import numpy as np
import pytest
from sklearn.model_selection import GroupKFold, StratifiedGroupKFold
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from skvision import compare_features
from skvision.compare._tuning import inner_search
from skvision.compare._workflow import _splits


def flatten(images):
    return images.reshape(len(images), -1) / 255.0


@pytest.fixture(scope="module")
def copied_noise():
    """120 noise images with random labels (nothing to learn), each saved three times."""
    rng = np.random.default_rng(0)
    originals = rng.integers(0, 256, (120, 6, 6), dtype=np.uint8)
    labels = rng.integers(0, 4, 120)
    order = rng.permutation(360)
    images, y, groups = np.repeat(originals, 3, axis=0), np.repeat(labels, 3), np.repeat(np.arange(120), 3)
    return images[order], y[order], groups[order]


def test_copies_inflate_the_scores_without_groups_and_not_with_them(copied_noise):
    X, y, groups = copied_noise
    features = {"pixels": FunctionTransformer(flatten)}
    one_nn = KNeighborsClassifier(1)
    leaky = compare_features(X, y, features, estimator=one_nn, cv=5)
    honest = compare_features(X, y, features, estimator=one_nn, cv=5, groups=groups)
    # The labels are noise: a copy of each test image among the training images is all 1-NN finds.
    assert leaky.results["pixels"].scores.mean() > 0.9
    assert honest.results["pixels"].scores.mean() < 0.45
    # Every image was still tested once.
    assert sorted(honest.results["pixels"].test_indices.tolist()) == list(range(len(y)))


@pytest.mark.parametrize("repeats", [1, 3])
def test_group_folds_keep_groups_whole_and_follow_the_seed(copied_noise, repeats):
    _, y, groups = copied_noise
    splits, ids, n_repeats, n_folds = _splits(4, y, "classification", 7, repeats, groups)
    assert (n_repeats, n_folds, len(splits)) == (repeats, 4, 4 * repeats)
    assert ids == [(r, f) for r in range(repeats) for f in range(4)]
    for train, test in splits:
        assert not set(groups[train]) & set(groups[test])
    for r in range(repeats):  # each repeat tests every image once
        tested = np.concatenate([test for _, test in splits[4 * r : 4 * r + 4]])
        assert sorted(tested.tolist()) == list(range(len(y)))
    if repeats == 1:
        expected = StratifiedGroupKFold(4, shuffle=True, random_state=7).split(y, y, groups)
        for (_, test), (_, test_ref) in zip(splits, expected):
            np.testing.assert_array_equal(test, test_ref)
    else:  # the repeats are different shuffles
        first_folds = [frozenset(splits[4 * r][1].tolist()) for r in range(repeats)]
        assert len(set(first_folds)) == repeats


def test_a_regression_target_gets_group_k_fold(copied_noise):
    _, y, groups = copied_noise
    target = y.astype(float) + 0.5
    splits, *_ = _splits(3, target, "regression", 0, 1, groups)
    expected = list(GroupKFold(3, shuffle=True, random_state=0).split(target, target, groups))
    for (_, test), (_, test_ref) in zip(splits, expected):
        np.testing.assert_array_equal(test, test_ref)


def test_the_inner_search_keeps_groups_whole(copied_noise):
    X, y, groups = copied_noise
    pipeline = Pipeline([("features", FunctionTransformer(flatten)), ("estimator", KNeighborsClassifier())])
    space = {"estimator__n_neighbors": [1, 2]}
    kwargs = dict(
        scorer=lambda estimator, F, target: float((estimator.predict(F) == target).mean()),
        cv=3,
        budget=5,
        random_state=0,
        classification=True,
    )
    best, leaky_score, _ = inner_search(pipeline, space, X, y, **kwargs)
    assert best == {"estimator__n_neighbors": 1} and leaky_score > 0.8
    _, honest_score, _ = inner_search(pipeline, space, X, y, groups=groups, **kwargs)
    assert honest_score < 0.45


@pytest.mark.parametrize(
    ("groups", "error", "match"),
    [
        (np.zeros(5), ValueError, r"one group label per image, shape \(360,\); got shape \(5,\)"),
        (np.full(360, np.nan), ValueError, "groups holds NaN"),
        (np.arange(360) % 3, ValueError, "cv=5 folds need at least 5 groups; groups holds 3"),
    ],
)
def test_bad_groups_are_refused(copied_noise, groups, error, match):
    X, y, _ = copied_noise
    with pytest.raises(error, match=match):
        compare_features(X, y, {"pixels": FunctionTransformer(flatten)}, estimator="knn", cv=5, groups=groups)
