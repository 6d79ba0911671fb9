"""compare_features: the cross-validation of every feature set, on the same folds."""

import numpy as np
import pytest
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import StratifiedKFold, cross_val_predict, cross_val_score
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from skvision import compare_features
from skvision.compare import FeatureSet
from skvision.compare._workflow import _check_precomputable
from skvision.datasets import load_digits, load_faces


def flatten(images):
    return images.reshape(len(images), -1) / 255.0


def failing(images):
    raise RuntimeError("this transformer always fails")


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
    # The rate: the first test fold described again once the splits have run (0.1 s or 100 times).
    assert r.throughput > 0 and r.n_transformed % len(r.embedding_indices) == 0


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


def test_a_target_of_several_columns_or_with_missing_values_is_refused_before_any_fold():
    # Two columns ran every fold with logreg/knn/rf, then the report's figures failed on them.
    X, _ = load_faces(return_X_y=True)
    y = X.mean(axis=(1, 2)) / 255.0
    features = {"pixels": FunctionTransformer(failing)}  # no fold may run
    for bad, match in (
        (np.column_stack([y, y]), r"one target per image, shape \(200,\); got shape \(200, 2\).*y\[:, 0\]"),
        (y[:, None], r"got shape \(200, 1\).*y\.ravel\(\)"),
    ):
        for estimator in ("logreg", "svc"):
            with pytest.raises(ValueError, match=match):
                compare_features(X, bad, features, estimator=estimator, cv=3)
    missing = y.copy()
    missing[[3, 7]] = [np.nan, np.inf]
    with pytest.raises(ValueError, match=r"2 missing or infinite value\(s\) .*at index 3, 7"):
        compare_features(X, missing, features, cv=3)


def test_whole_number_floats_are_classes_with_a_warning_and_a_regressor_makes_them_a_regression():
    from sklearn.linear_model import Ridge

    X, _ = load_faces(return_X_y=True)
    ages = np.round(X.mean(axis=(1, 2)) / 4.0)  # whole numbers as float64, like ages or counts
    features = {"pixels": FunctionTransformer(flatten)}
    bright = (ages > np.median(ages)).astype(np.float64)
    with pytest.warns(UserWarning, match=r"floats that are all whole numbers: compared as 2 classes .*SVR"):
        as_classes = compare_features(X, bright, features, cv=3)
    assert as_classes.task == "classification" and as_classes.scoring == "accuracy"
    # A regressor says the task: before, it was refused as "not a classifier".
    result = compare_features(X, ages, features, estimator=Ridge(), cv=3)
    assert result.task == "regression" and result.scoring == "r2"
    assert result.results["pixels"].scores.mean() > 0.9


def test_task_says_what_y_holds():
    X, _ = load_faces(return_X_y=True)
    counts = np.round(X.mean(axis=(1, 2)) / 8.0).astype(int)  # whole numbers: classes unless told
    features = {"pixels": FunctionTransformer(flatten)}
    result = compare_features(X, counts, features, cv=3, task="regression")
    assert result.task == "regression" and result.scoring == "r2"
    assert result.results["pixels"].scores.mean() > 0.9
    floats = compare_features(X, counts.astype(float), features, estimator="logreg", cv=3, task="regression")
    assert floats.task == "regression"
    with pytest.raises(ValueError, match="task must be 'classification', 'regression' or None"):
        compare_features(X, counts, features, task="ranking")
    with pytest.raises(ValueError, match="task='classification' needs class labels"):
        compare_features(X, X.mean(axis=(1, 2)) / 255.0, features, task="classification")
    with pytest.raises(ValueError, match="task='regression' needs numbers"):
        compare_features(X, np.where(counts > 10, "bright", "dark"), features, task="regression")
    with pytest.raises(ValueError, match="is a classifier"):
        compare_features(X, counts, features, estimator=LogisticRegression(), task="regression")


def test_logreg_for_a_regression_chooses_its_ridge_penalty():
    # More features than training images: a ridge of alpha 1 scored R^2 -1.2 where alpha 100 gave 0.8.
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from skvision.compare._estimators import make_estimator
    from skvision.datasets import load_textures

    X, _ = load_textures(patch_size=24, n_per_class=30, random_state=0, return_X_y=True)
    y = X.reshape(len(X), -1).mean(axis=1) / 255 + np.random.default_rng(0).normal(0, 0.01, len(X))
    features = {"pixels": FunctionTransformer(flatten)}  # 576 features, 60 training images a fold
    chosen = compare_features(X, y, features, estimator="logreg", cv=3).results["pixels"].scores
    fixed = make_pipeline(StandardScaler(), Ridge(alpha=1.0))
    plain = compare_features(X, y, features, estimator=fixed, cv=3).results["pixels"].scores
    assert chosen.mean() > plain.mean() + 0.05 and chosen.min() > 0.8
    assert type(make_estimator("logreg", "regression")[-1]).__name__ == "RidgeCV"


def test_failing_feature_set_is_skipped_or_raised(digits):
    X, y = digits
    features = {"ok": FunctionTransformer(flatten), "broken": FunctionTransformer(failing)}
    with pytest.raises(RuntimeError, match="always fails"):
        compare_features(X, y, features, cv=2)
    result = compare_features(X, y, features, cv=2, on_error="skip")
    assert list(result.results) == ["ok"]
    assert "RuntimeError: this transformer always fails" in result.skipped["broken"]
    assert "(skipped broken" in str(result)


def test_precompute_given_as_one_name_is_refused(digits):
    X, y = digits
    with pytest.raises(TypeError, match=r"precompute must be a list of feature set names; got 'p': \['p'\]"):
        compare_features(X, y, {"p": FunctionTransformer(flatten)}, precompute="p")


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"features": {}}, "non-empty dict"),
        ({"y": np.zeros(3)}, "y has 3 entries"),
        ({"estimator": Ridge()}, "not a classifier"),
        ({"estimator": "tree"}, "Unknown estimator 'tree'"),
        ({"cv": 1}, "at least 2 folds"),
        ({"on_error": "ignore"}, "on_error"),
        # target_names that do not fit the labels were dropped from the figures silently.
        (
            {"target_names": list("abc")},
            r"labels 0 to 2 for these 3 names; y holds the labels 0, 1, 2, 3, 4, 5, \.\.\.",
        ),
        ({"target_names": list("0123456789"), "y": "shifted"}, r"y holds the labels 1, 2, 3"),
        ({"target_names": ["a"], "y": "continuous"}, "y is continuous"),
        (
            {"target_names": list("0123456789"), "y": "floats"},
            r"integer label.*y holds float64 .*y.astype\(int\)",
        ),
        (
            {"kinds": {"sift": "handcrafted"}},
            r"kinds names feature sets that are not in features: \['sift'\]",
        ),
    ],
)
def test_bad_arguments(digits, kwargs, match):
    X, y = digits
    arguments = {"features": {"pixels": FunctionTransformer(flatten)}, "y": y, **kwargs}
    targets = {"shifted": y + 1, "continuous": np.linspace(0, 1, len(y)), "floats": y.astype(float)}
    if isinstance(arguments["y"], str):
        arguments["y"] = targets[arguments["y"]]
    features = arguments.pop("features")
    with pytest.raises(ValueError, match=match):
        compare_features(X, arguments.pop("y"), features, **arguments)


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


def test_precompute_refuses_a_set_that_learns_from_labels_and_warns_about_one_that_may_learn(digits):
    """A precomputed CNNFeatures was trained once on every image and label: 0.96 against 0.79 per fold."""
    import warnings

    from skvision import BSIF, CNNFeatures, PretrainedFeatures, Resize

    X, y = digits
    cnn = make_pipeline(Resize(8), CNNFeatures(max_epochs=1))  # a pipeline learns what its steps learn
    with pytest.raises(ValueError, match=r"precompute names 'cnn', whose fit learns from the labels"):
        compare_features(X, y, {"cnn": cnn}, precompute=["cnn"])
    with pytest.warns(UserWarning, match=r"precompute names 'bsif', whose fit may learn from the images"):
        compare_features(
            X[:60], y[:60], {"bsif": BSIF(filter_size=3, n_filters=4)}, cv=2, precompute=["bsif"]
        )
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # stateless: no word
        _check_precomputable("pretrained", make_pipeline(Resize(32), PretrainedFeatures()))
        _check_precomputable("flat", FunctionTransformer(flatten))


def test_feature_sets_carry_their_kind_precompute_and_reason(digits):
    X, y = digits
    sets = [
        FeatureSet("full", FunctionTransformer(flatten), kind="baseline"),
        FeatureSet("gone", kind="learned", skipped="not available in this installation"),
        FeatureSet("once", FunctionTransformer(flatten), kind="handcrafted", precompute=True),
    ]
    result = compare_features(X, y, sets, estimator="logreg", cv=3, skipped={"other": "left out by hand"})
    assert list(result.results) == ["full", "once"]
    assert result.skipped == {"other": "left out by hand", "gone": "not available in this installation"}
    assert result.kinds["full"] == "baseline" and result.kinds["once"] == "handcrafted"
    # Precomputed: described once (every image in one go), same scores as the full pipeline.
    assert result.results["once"].n_transformed == len(X)
    np.testing.assert_allclose(result.results["once"].scores, result.results["full"].scores)
    with pytest.raises(ValueError, match="FeatureSet objects carry their own"):
        compare_features(X, y, sets, precompute=["once"])
    with pytest.raises(ValueError, match="No feature set can run: gone not available"):
        compare_features(X, y, [sets[1]])
    with pytest.raises(ValueError, match="list of FeatureSet"):
        compare_features(X, y, [FunctionTransformer(flatten)])


def test_the_first_folds_training_history_is_recorded():
    from skvision import CNNFeatures

    X, y = load_digits(return_X_y=True)
    cnn = CNNFeatures(
        max_epochs=2, module__filters=4, module__fc_units=(8,), batch_size=32, random_state=0, device="cpu"
    )
    result = compare_features(X[:90], y[:90], {"cnn": cnn, "pixels": FunctionTransformer(flatten)}, cv=2)
    history = result.results["cnn"].training_history
    expected = result.results["cnn"].estimators[0].named_steps["features"].estimator_.net_.history
    assert [row["epoch"] for row in history] == [1, 2]
    assert [row["train_loss"] for row in history] == [row["train_loss"] for row in expected]
    assert all("batches" not in row for row in history)
    assert result.results["pixels"].training_history is None


def test_each_split_predicts_its_held_out_images_once():
    # The scorer predicted them again after the split's own predict: a GAN fold's 3,584 features on 600
    # images by an SVC took 4.6 s twice, none of it shown in "fit s / fold".
    from unittest import mock

    from sklearn.model_selection import StratifiedKFold
    from sklearn.preprocessing import FunctionTransformer
    from sklearn.svm import SVC

    from skvision import compare_features
    from skvision.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    held_out = sorted({len(test) for _, test in StratifiedKFold(3, shuffle=True, random_state=0).split(X, y)})
    sizes = []
    real_predict = SVC.predict

    def counting(self, features):
        sizes.append(len(features))
        return real_predict(self, features)

    flatten = FunctionTransformer(lambda a: a.reshape(len(a), -1))
    with mock.patch.object(SVC, "predict", counting):
        result = compare_features(X, y, {"pixels": flatten}, estimator="svc", cv=3, random_state=0)
    assert sum(size in held_out for size in sizes) == 3  # one predict per fold, not two
    # The scores are still those of the predictions: the folds' accuracies average to the whole's.
    folds = result.results["pixels"]
    assert np.mean(folds.y_true == folds.y_pred) == pytest.approx(np.mean(folds.scores), abs=1e-3)
