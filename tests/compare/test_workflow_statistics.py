"""The statistics read what the workflow records: every (repeat, fold), split sizes, fused and tuned rows."""

import numpy as np
from sklearn.decomposition import PCA
from sklearn.metrics import precision_recall_fscore_support
from sklearn.model_selection import RepeatedStratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from skvision import compare_features
from skvision.compare import FeatureSet, corrected_ttest, holm

from ._helpers import flatten


def test_significance_uses_every_repeat_the_split_sizes_and_the_fused_and_tuned_rows(digits, tmp_path):
    X, y = digits
    pixels = FeatureSet("pixels", FunctionTransformer(flatten), kind="baseline")
    pca = FeatureSet("pca", make_pipeline(FunctionTransformer(flatten), PCA(4, random_state=0)))
    fused = FeatureSet.fuse("pixels+pca", [pixels, pca])
    space = {"features__pca__n_components": [2, 6]}
    result = compare_features(
        X, y, [pixels, pca, fused], estimator="logreg", cv=3, repeats=2, tune={"pca": space}
    )
    assert result.results["pca"].best_params is not None  # a tuned row
    assert result.kinds["pixels+pca"] == "fused"
    tests = result.significance()
    assert sorted(tests.names) == ["pca", "pixels", "pixels+pca"]
    assert tests.n_splits == 6  # 3 folds x 2 repeats, not the first repeat only
    splits = list(RepeatedStratifiedKFold(n_splits=3, n_repeats=2, random_state=0).split(X, y))
    ratio = np.mean([len(test) / len(train) for train, test in splits])
    assert np.isclose(tests.test_train_ratio, ratio)
    # Each pair: the corrected t-test on the 6 scores of the same splits with their sizes, Holm over 3 pairs.
    names = tests.names
    pairs = [(0, 1), (0, 2), (1, 2)]
    raw = []
    for i, j in pairs:
        a, b = result.results[names[i]], result.results[names[j]]
        np.testing.assert_array_equal(a.repeat_index, b.repeat_index)
        test = corrected_ttest(
            a.scores, b.scores, n_train=[len(t) for t, _ in splits], n_test=[len(t) for _, t in splits]
        )
        raw.append(test.pvalue)
        assert np.isclose(tests.statistic[i, j], test.statistic)
    np.testing.assert_allclose([tests.pvalue_holm[i, j] for i, j in pairs], holm(raw))
    # The tuned and the fused rows carry a mark in the table, the report and its CSV.
    rows = {row["feature set"]: row for row in result.rows()}
    assert {rows[n]["vs best"] for n in names} <= {"best", "n.s.", "worse"}
    assert all(rows[n]["vs best"] for n in names)
    report = result.write_report(tmp_path, embedding=None).read_text()
    assert "Nadeau & Bengio" in report and "same 6 splits" in report
    assert "## Tuned settings" in report and (tmp_path / "fold-scores.csv").exists()
    html = (tmp_path / "report.html").read_text()
    assert "Tuned settings" in html and "n_components" in html


def test_the_per_class_view_pools_every_repeat(digits):
    X, y = digits
    result = compare_features(
        X,
        y,
        {"pca": make_pipeline(FunctionTransformer(flatten), PCA(3))},
        estimator="logreg",
        cv=3,
        repeats=2,
    )
    r = result.results["pca"]
    per_class = result.per_class()
    y_true = np.concatenate([y[t] for t in r.fold_test_indices])
    y_pred = np.concatenate(r.fold_predictions)
    assert len(y_true) == 2 * len(y)
    precision, recall, _, _ = precision_recall_fscore_support(y_true, y_pred, labels=per_class.classes)
    np.testing.assert_allclose(per_class.precision[0], precision)
    np.testing.assert_allclose(per_class.recall[0], recall)
    np.testing.assert_array_equal(per_class.support, np.bincount(y))  # images per class, once
