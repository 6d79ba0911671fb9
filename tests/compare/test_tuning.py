"""Tuning: a nested search inside every outer fold, features cached across the estimator's settings."""

import numpy as np
import pytest
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import check_scoring
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from skvision import compare_features
from skvision.compare import FEATURE_FAMILIES, DatasetInfo, build_feature_sets
from skvision.compare._families import _as_grids, downscaled_size
from skvision.compare._tuning import candidates, inner_search

from ._helpers import CountingFlatten, flatten


def pipeline(features):
    return Pipeline(
        [
            ("features", features),
            ("estimator", make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))),
        ]
    )


SPACE = {"features__pca__n_components": [4, 12], "estimator__logisticregression__C": [0.01, 1.0]}


def test_candidates_are_the_grid_or_a_seeded_sample_of_it():
    grid = {"a": [1, 2, 3], "b": ["x", "y"]}
    assert len(candidates(grid, 6, 0)) == 6 and len(candidates(grid, 100, 0)) == 6
    sample = candidates(grid, 4, 0)
    assert len(sample) == 4 and len({tuple(sorted(c.items())) for c in sample}) == 4
    assert sample == candidates(grid, 4, 0), "seeded"
    alternatives = [{"a": [1, 2]}, {"b": ["x", "y", "z"]}]
    picked = candidates(alternatives, 3, 0)
    assert len(picked) == 3 and all(
        c in [{"a": 1}, {"a": 2}, {"b": "x"}, {"b": "y"}, {"b": "z"}] for c in picked
    )
    assert candidates(None, 5, 0) == [{}]


def test_inner_search_chooses_what_grid_search_chooses(digits):
    X, y = digits
    pca = make_pipeline(FunctionTransformer(flatten), PCA(random_state=0))
    scorer = check_scoring(LogisticRegression(), scoring="accuracy")
    best, score, n = inner_search(
        pipeline(pca), SPACE, X, y, scorer=scorer, cv=3, budget=10, random_state=0, classification=True
    )
    reference = GridSearchCV(
        pipeline(pca), SPACE, cv=StratifiedKFold(3, shuffle=True, random_state=0), scoring="accuracy"
    ).fit(X, y)
    assert n == 4
    assert best == reference.best_params_
    assert score == pytest.approx(reference.best_score_, abs=1e-12)


def test_the_estimators_settings_do_not_recompute_the_features(digits):
    X, y = digits
    CountingFlatten.log.clear()
    space = {"features__scale": [1.0, 2.0], "estimator__logisticregression__C": [0.01, 0.1, 1.0]}
    scorer = check_scoring(LogisticRegression(), scoring="accuracy")
    best, _, n = inner_search(
        pipeline(CountingFlatten()),
        space,
        X,
        y,
        scorer=scorer,
        cv=3,
        budget=10,
        random_state=0,
        classification=True,
    )
    assert n == 6
    fits = [entry for entry in CountingFlatten.log if entry[0] == "fit"]
    # Two feature settings x three inner folds; the three values of C share them.
    assert len(fits) == 2 * 3
    assert sorted({scale for _, _, scale in fits}) == [1.0, 2.0]
    assert set(best) == set(space)


def test_nested_tuning_scores_what_a_hand_written_nested_cv_scores(digits):
    X, y = digits
    pca = make_pipeline(FunctionTransformer(flatten), PCA(random_state=0))
    result = compare_features(
        X, y, {"pca": pca}, estimator="logreg", cv=3, tune={"pca": SPACE}, random_state=0
    )
    r = result.results["pca"]
    outer = StratifiedKFold(3, shuffle=True, random_state=0)
    for k, (train, test) in enumerate(outer.split(X, y)):
        search = GridSearchCV(
            pipeline(pca), SPACE, cv=StratifiedKFold(3, shuffle=True, random_state=0), scoring="accuracy"
        ).fit(X[train], y[train])
        assert r.best_params[k] == search.best_params_
        assert r.scores[k] == search.score(X[test], y[test])
        assert r.tune_scores[k] == pytest.approx(search.best_score_, abs=1e-12)
    # The table: no column of blank kinds, and every number right-aligned (with the search column the
    # rate column was padded on the left side of its cell's text, the others on the right).
    header, row = str(result).splitlines()[0], str(result).splitlines()[2]
    assert header.startswith("feature set  dims (split 1)") and "kind" not in header
    assert header.endswith("transform images/s") and row[len(header) - 1] != " "
    assert "\n|---|---:|---:|---:|---:|---:|\n" in result.to_markdown()
    settings = result.chosen_settings("pca")
    assert [(rep, fold) for rep, fold, _ in settings] == [(0, 0), (0, 1), (0, 2)]
    assert set(settings[0][2]) == {"n_components", "C"}
    assert result.tuning == {"budget": 10, "cv": 3, "spaces": {"pca": SPACE}}
    text = result.tuning_markdown()
    assert "| pca | 1 | 1 |" in text and "n_components=" in text


def test_tune_true_uses_the_families_spaces_and_the_classifiers_c(digits):
    X, y = digits
    sets = build_feature_sets(["hog", "pixels"], DatasetInfo.from_data(X, y, device="cpu"))
    result = compare_features(X, y, sets, cv=2, tune=True, tune_budget=3, tune_cv=2)
    hog = result.results["hog"].best_params
    assert len(hog) == 2 and all("estimator__svc__C" in p for p in hog)
    assert all({"features__pixels_per_cell", "features__orientations"} <= set(p) for p in hog)
    # pixels declares no space: only C is searched.
    assert all(set(p) == {"estimator__svc__C"} for p in result.results["pixels"].best_params)
    untuned = compare_features(X, y, sets, cv=2)
    assert untuned.tuning is None and untuned.results["hog"].best_params is None
    # The table's "fit s / fold" is the refit only: the search has its own column (it was nowhere),
    # and the width is the first split's chosen setting's.
    header = str(result).splitlines()[0]
    assert "search s / fold" in header and "dims (split 1)" in header
    searched = {row["feature set"]: row["search s"] for row in result.rows()}
    assert searched["hog"] == pytest.approx(np.mean(result.results["hog"].tune_seconds))
    assert searched["hog"] > 0 and "search s / fold" in result.to_markdown()
    assert "search s / fold" not in str(untuned) and "search s" not in untuned.rows()[0]


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # BSIF's ICA on 12 noise images
def test_every_built_in_space_builds_working_transformers():
    """Each setting of each handcrafted family's space describes small and larger images."""
    rng = np.random.default_rng(0)
    for shape in [(8, 8), (40, 40)]:
        X = (rng.random((12, *shape)) * 255).astype(np.uint8)
        y = np.arange(12) % 2
        info = DatasetInfo.from_data(X, y, device="cpu", fast=True)
        for feature_set in build_feature_sets(None, info):
            family = FEATURE_FAMILIES[feature_set.name]
            if not feature_set.available or family.space is None:
                continue
            space = feature_set.space
            if downscaled_size(shape, family.max_side) is None:
                assert space == family.space(info)
            else:  # a network given smaller images: its parameters through the pipeline
                assert all(key.startswith("network__") for grid in _as_grids(space) for key in grid)
            for setting in candidates(space, 1000, 0):
                transformer = feature_set.transformer.set_params(**setting)
                if family.kind == "learned":
                    continue  # the parameters exist (set_params checked them); training is tested elsewhere
                features = transformer.fit_transform(X, y)
                assert features.shape[0] == len(X) and np.isfinite(features).all(), (
                    feature_set.name,
                    setting,
                )


def test_bad_tuning_arguments(digits):
    X, y = digits
    features = {"pixels": FunctionTransformer(flatten)}
    with pytest.raises(ValueError, match="tune names feature sets that are not in features"):
        compare_features(X, y, features, tune={"hog": {}})
    with pytest.raises(ValueError, match="tune_budget must be an integer of at least 1"):
        compare_features(X, y, features, tune=True, tune_budget=0)
    with pytest.raises(ValueError, match="tune_cv must be an integer of at least 2"):
        compare_features(X, y, features, tune=True, tune_cv=1)
    with pytest.raises(ValueError, match="must name a parameter of the 'features' or 'estimator' step"):
        compare_features(X, y, features, cv=2, tune={"pixels": {"C": [1, 2]}})
    # Checked before any split: the named 'svc' is a pipeline, its C is estimator__svc__C.
    with pytest.raises(ValueError, match=r"'estimator__C' must name .*; did you mean estimator__svc__C\?"):
        compare_features(X, y, features, cv=2, tune={"pixels": {"estimator__C": [1, 2]}})


def test_a_precomputed_set_tunes_its_estimator_only(digits):
    X, y = digits
    CountingFlatten.log.clear()
    space = {"features__scale": [1.0, 2.0], "estimator__logisticregression__C": [0.01, 1.0]}
    result = compare_features(
        X, y, {"once": CountingFlatten()}, estimator="logreg", cv=3, precompute=["once"], tune={"once": space}
    )
    assert all(set(p) == {"estimator__logisticregression__C"} for p in result.results["once"].best_params)
    # Described once (after the warm-up), whatever the search.
    assert [n for method, n, _ in CountingFlatten.log if method == "transform" and n > 64] == [len(X)]
