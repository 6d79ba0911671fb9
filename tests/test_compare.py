import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import StratifiedKFold, cross_val_predict, cross_val_score
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from skvision import compare_features
from skvision.compare import (
    FEATURE_FAMILIES,
    DatasetInfo,
    build_feature_sets,
    make_estimator,
    register_feature_family,
)
from skvision.datasets import load_digits, load_faces


def flatten(images):
    return images.reshape(len(images), -1) / 255.0


def failing(images):
    raise RuntimeError("this transformer always fails")


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:240], y[:240]


@pytest.fixture(scope="module")
def two_sets(digits):
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


def test_scores_and_predictions_match_sklearn_on_the_same_folds(digits, two_sets):
    X, y = digits
    folds = StratifiedKFold(3, shuffle=True, random_state=0)
    for name, steps in [
        ("pixels", [FunctionTransformer(flatten)]),
        ("pca8", [FunctionTransformer(flatten), PCA(8)]),
    ]:
        reference = make_pipeline(*steps, StandardScaler(), LogisticRegression(max_iter=2000))
        np.testing.assert_allclose(two_sets.results[name].scores, cross_val_score(reference, X, y, cv=folds))
        expected = cross_val_predict(reference, X, y, cv=folds)
        r = two_sets.results[name]
        np.testing.assert_array_equal(r.y_pred, expected[r.test_indices])
        np.testing.assert_array_equal(r.y_true, y[r.test_indices])
    assert two_sets.results["pca8"].n_features == 8
    np.testing.assert_array_equal(
        two_sets.results["pixels"].test_indices, two_sets.results["pca8"].test_indices
    )


def test_result_holds_held_out_features_and_fitted_pipelines(digits, two_sets):
    X, _ = digits
    r = two_sets.results["pca8"]
    assert len(r.estimators) == 3 and isinstance(r.estimators[0], Pipeline)
    first_fold = r.test_indices[: len(r.embedding_indices)]
    np.testing.assert_array_equal(first_fold, r.embedding_indices)
    np.testing.assert_allclose(r.embedding, r.estimators[0].named_steps["features"].transform(X[first_fold]))
    assert r.throughput > 0 and r.n_transformed == len(X)


def test_result_prints_as_a_table(two_sets, tmp_path):
    text = str(two_sets)
    header = text.splitlines()[0]
    for column in ("feature set", "dims", "accuracy", "fit s", "images/s"):
        assert column in header
    rows = two_sets.rows()
    assert rows[0]["accuracy mean"] >= rows[1]["accuracy mean"] and two_sets.best() == rows[0]["feature set"]
    mean = np.mean(two_sets.results["pixels"].scores)
    assert f"{mean:.3f}" in text and "baseline" in text
    assert two_sets.to_markdown().count("\n") == 3
    two_sets.to_csv(tmp_path / "r.csv")
    assert (tmp_path / "r.csv").read_text().splitlines()[0].startswith("feature set,kind,dims,accuracy mean")


def test_confusion_matrix_is_sklearns_on_out_of_fold_predictions(two_sets):
    from sklearn.metrics import confusion_matrix

    display = two_sets.plot_confusion_matrix("pixels")
    r = two_sets.results["pixels"]
    np.testing.assert_array_equal(display.confusion_matrix, confusion_matrix(r.y_true, r.y_pred))
    assert display.confusion_matrix.sum() == len(r.y_true)


def test_report_is_written_with_its_figures(two_sets, tmp_path):
    report = two_sets.write_report(tmp_path / "out", embedding="pca", notes=["a note"])
    text = report.read_text()
    assert "| pixels |" in text and "- a note" in text
    images = [line.split("](")[1].rstrip(")") for line in text.splitlines() if line.startswith("![")]
    assert {"scores.png", "confusion_pixels.png", "embedding_pca8.png", "errors_pixels.png"} <= set(images)
    for name in images:
        assert (tmp_path / "out" / name).stat().st_size > 1000
    assert (tmp_path / "out" / "results.csv").exists()


def test_regression_target_is_scored_with_r2():
    X, _ = load_faces(return_X_y=True)
    y = X.mean(axis=(1, 2)) / 255.0  # brightness: a continuous target
    result = compare_features(X, y, {"pixels": FunctionTransformer(flatten)}, estimator="logreg", cv=3)
    assert result.task == "regression" and result.scoring == "r2"
    assert result.results["pixels"].scores.mean() > 0.95
    assert "r2" in str(result).splitlines()[0]
    display = result.plot_prediction_error("pixels")
    assert display.y_true.shape == y.shape
    with pytest.raises(ValueError, match="classification"):
        result.plot_confusion_matrix("pixels")


def test_failing_feature_set_is_skipped_or_raised(digits):
    X, y = digits
    features = {"ok": FunctionTransformer(flatten), "broken": FunctionTransformer(failing)}
    with pytest.raises(RuntimeError, match="always fails"):
        compare_features(X, y, features, cv=2)
    result = compare_features(X, y, features, cv=2, on_error="skip")
    assert list(result.results) == ["ok"]
    assert "RuntimeError: this transformer always fails" in result.skipped["broken"]
    assert "(skipped broken" in str(result)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"features": {}}, "non-empty dict"),
        ({"y": np.zeros(3)}, "y has 3 entries"),
        ({"estimator": Ridge()}, "not a classifier"),
        ({"estimator": "tree"}, "Unknown estimator 'tree'"),
        ({"cv": 1}, "at least 2 folds"),
        ({"on_error": "ignore"}, "on_error"),
    ],
)
def test_bad_arguments(digits, kwargs, match):
    X, y = digits
    arguments = {"features": {"pixels": FunctionTransformer(flatten)}, "y": y, **kwargs}
    features = arguments.pop("features")
    with pytest.raises(ValueError, match=match):
        compare_features(X, arguments.pop("y"), features, **arguments)


def test_named_estimators():
    assert make_estimator("rf", "regression").__class__.__name__ == "RandomForestRegressor"
    assert make_estimator("knn").steps[-1][1].__class__.__name__ == "KNeighborsClassifier"


def test_registry_notes_families_that_are_missing_or_do_not_apply():
    @register_feature_family(
        "future",
        estimator="skvision.descriptors._not_written_yet:Future",
        kind="handcrafted",
        summary="not there",
    )
    def _future(cls, info):  # pragma: no cover - never built
        return cls()

    try:
        info = DatasetInfo(image_shape=(8, 8), n_samples=10)
        features, notes = build_feature_sets(["pixels", "future", "color"], info)
    finally:
        del FEATURE_FAMILIES["future"]
    assert list(features) == ["pixels"]
    assert notes["future"].startswith("not available in this installation")
    assert "colour" in notes["color"]
    with pytest.raises(ValueError, match="Unknown feature set.*'nope'"):
        build_feature_sets(["nope"], info)


def test_every_available_family_describes_small_images():
    X, y = load_digits(return_X_y=True)
    X, y = X[:60], y[:60]
    info = DatasetInfo.from_data(X, y, device="cpu", fast=True)
    features, notes = build_feature_sets(None, info)
    learned = {name for name, family in FEATURE_FAMILIES.items() if family.kind == "learned"}
    assert {"pixels", "lbp", "hog"} <= set(features)
    for name, transformer in features.items():
        if name in learned:
            continue  # trained in tests/test_cli.py and the slow demo test
        out = transformer.fit_transform(X, y)
        assert out.shape[0] == len(X) and out.ndim == 2 and np.isfinite(out).all(), name


def test_precomputed_features_give_the_scores_of_the_full_pipeline(digits):
    X, y = digits
    result = compare_features(
        X,
        y,
        {"full": FunctionTransformer(flatten), "once": FunctionTransformer(flatten)},
        estimator="logreg",
        cv=3,
        precompute=["once"],
    )
    full, once = result.results["full"], result.results["once"]
    np.testing.assert_allclose(once.scores, full.scores)
    np.testing.assert_array_equal(once.y_pred, full.y_pred)
    np.testing.assert_allclose(once.embedding, full.embedding)
    assert once.n_transformed == len(X) and isinstance(once.estimators[0], Pipeline)
    np.testing.assert_array_equal(once.estimators[1].predict(X[:5]), full.estimators[1].predict(X[:5]))
    with pytest.raises(ValueError, match="precompute names"):
        compare_features(X, y, {"a": FunctionTransformer(flatten)}, precompute=["b"])
