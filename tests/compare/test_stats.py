"""The statistics, against worked examples from the papers and hand computations."""

import itertools
import math

import numpy as np
import pytest
from scipy import stats

from skvision.compare import (
    ComparisonResult,
    FeatureResult,
    corrected_ttest,
    friedman_test,
    holm,
    nemenyi_critical_difference,
    pairwise_tests,
    per_class_scores,
)

# Demšar (2006), Table 6: AUC of C4.5 with and without cut-off (m) and confidence (cf) tuning on 14 UCI
# data sets. Columns: C4.5, C4.5+m, C4.5+cf, C4.5+m+cf.
DEMSAR_NAMES = ["C4.5", "C4.5+m", "C4.5+cf", "C4.5+m+cf"]
DEMSAR_AUC = np.array(
    [
        [0.763, 0.768, 0.771, 0.798],  # adult (sample)
        [0.599, 0.591, 0.590, 0.569],  # breast cancer
        [0.954, 0.971, 0.968, 0.967],  # breast cancer wisconsin
        [0.628, 0.661, 0.654, 0.657],  # cmc
        [0.882, 0.888, 0.886, 0.898],  # ionosphere
        [0.936, 0.931, 0.916, 0.931],  # iris
        [0.661, 0.668, 0.609, 0.685],  # liver disorders
        [0.583, 0.583, 0.563, 0.625],  # lung cancer
        [0.775, 0.838, 0.866, 0.875],  # lymphography
        [1.000, 1.000, 1.000, 1.000],  # mushroom
        [0.940, 0.962, 0.965, 0.962],  # primary tumor
        [0.619, 0.666, 0.614, 0.669],  # rheum
        [0.972, 0.981, 0.975, 0.975],  # voting
        [0.957, 0.978, 0.946, 0.970],  # wine
    ]
)


# ---------------------------------------------------------------- Nadeau & Bengio
def test_corrected_ttest_against_a_hand_computation():
    # Differences 0.02, 0.01, 0.03, 0.00, 0.04: mean 0.02, sample variance
    # (0 + 1e-4 + 1e-4 + 4e-4 + 4e-4) / 4 = 2.5e-4. Five folds of 20 test, 80 training images:
    # factor 1/5 + 20/80 = 0.45, so t = 0.02 / sqrt(0.45 * 2.5e-4) = 1.88562, 4 degrees of freedom.
    a = [0.92, 0.91, 0.93, 0.90, 0.94]
    b = [0.90, 0.90, 0.90, 0.90, 0.90]
    result = corrected_ttest(a, b, n_train=80, n_test=20)
    assert result.statistic == pytest.approx(0.02 / math.sqrt(0.45 * 2.5e-4), rel=1e-9)
    assert result.statistic == pytest.approx(1.885618, abs=1e-6)
    assert result.df == 4 and result.mean_difference == pytest.approx(0.02)
    assert result.pvalue == pytest.approx(2 * stats.t.sf(1.885618, 4), abs=1e-6)
    assert 0.13 < result.pvalue < 0.135
    # The naive paired t-test (factor 1/5 only) calls the same difference significant.
    naive = stats.ttest_rel(a, b)
    assert naive.pvalue < 0.05
    assert naive.statistic == pytest.approx(result.statistic * math.sqrt(0.45 / 0.2))


def test_corrected_ttest_is_the_paired_ttest_with_an_inflated_variance():
    rng = np.random.default_rng(0)
    a, b = rng.normal(0.9, 0.02, 10), rng.normal(0.88, 0.02, 10)
    paired = stats.ttest_rel(a, b)
    corrected = corrected_ttest(a, b, n_train=90, n_test=10)
    factor = 1 / 10 + 10 / 90
    assert corrected.statistic == pytest.approx(paired.statistic * math.sqrt((1 / 10) / factor))
    assert corrected.pvalue > paired.pvalue


def test_repeated_kfold_uses_every_split():
    """r repeats of k folds are J = k r splits: a (r, k) array is the same test as its k r scores."""
    rng = np.random.default_rng(1)
    a, b = rng.normal(0.9, 0.02, (3, 5)), rng.normal(0.89, 0.02, (3, 5))
    two_d = corrected_ttest(a, b, n_train=80, n_test=20)
    flat = corrected_ttest(a.ravel(), b.ravel(), n_train=80, n_test=20)
    assert two_d == flat and two_d.df == 14
    d = (a - b).ravel()
    expected = d.mean() / math.sqrt((1 / 15 + 0.25) * d.var(ddof=1))
    assert two_d.statistic == pytest.approx(expected)


@pytest.mark.parametrize("n_datasets, k", [(2, 3), (3, 3), (2, 4)])
def test_friedman_p_of_rankings_that_all_agree_is_their_exact_chance(n_datasets, k):
    # Every combination of the data sets' rankings, equally likely under the null hypothesis:
    # the share whose chi-square reaches that of rankings that all agree.
    ranking = list(range(k, 0, -1))
    agree = friedman_test([ranking] * n_datasets)
    rankings = list(itertools.permutations(range(1, k + 1)))
    chis = [friedman_test(list(rows)).chi2 for rows in itertools.product(rankings, repeat=n_datasets)]
    exact = np.mean(np.asarray(chis) >= agree.chi2 - 1e-9)
    assert agree.f_pvalue == pytest.approx(exact) and agree.significant == (exact < agree.alpha)


def test_a_constant_difference_of_one_test_image_is_weak_evidence_not_certainty():
    # Three folds of 40 test images, each one image apart: accuracies move in steps of 1/40,
    # every difference is 0.025 and the sample variance 0. Without the step p = 0 ("worse, p
    # < 0.001" on a small folder); with it, the variance is at least the steps' rounding noise.
    a, b = [0.95, 0.9, 0.925], [0.925, 0.875, 0.9]
    assert corrected_ttest(a, b, n_train=80, n_test=40).pvalue == 0
    test = corrected_ttest(a, b, n_train=80, n_test=40, resolution=1 / 40)
    expected_t = 0.025 / math.sqrt((1 / 3 + 0.5) * (1 / 40) ** 2 / 6)
    assert test.statistic == pytest.approx(expected_t) and test.pvalue > 0.05
    # Differences that spread by more than a step are tested as before.
    spread = [0.95, 0.9, 0.975], [0.9, 0.9, 0.9]
    assert corrected_ttest(*spread, n_train=80, n_test=40, resolution=1 / 40) == corrected_ttest(
        *spread, n_train=80, n_test=40
    )


def test_class_balanced_scores_have_a_step_too():
    # Three folds of 40 test images (two classes of 20), each one image apart. Under balanced_accuracy
    # or f1_macro the step was not used: p = 0 ("worse, p < 0.001") where accuracy gave p = 0.12.
    a, b = [0.95, 0.9, 0.925], [0.925, 0.875, 0.9]
    p = {}
    for scoring in ("accuracy", "balanced_accuracy", "f1_macro"):
        result = fake_result({"a": a, "b": b}, n_images=120, n_train=[80] * 3, n_test=[40] * 3)
        result.scoring = scoring
        p[scoring] = pairwise_tests(result).vs_best("b")
    # Two classes of 20 test images: a recall moves by 1/20, their mean by 1/40, as the accuracy does.
    assert p["accuracy"] == p["balanced_accuracy"] == p["f1_macro"] > 0.05
    # Imbalanced (90 and 30 of 120 images): the large class's recall moves in the finest steps, 1/30 of
    # a recall, 1/60 of their mean.
    result = fake_result({"a": a, "b": b}, n_images=120, n_train=[80] * 3, n_test=[40] * 3)
    result.scoring = "balanced_accuracy"
    for r in result.results.values():
        r.y_true = (np.arange(120) % 4 == 0).astype(int)
    expected = corrected_ttest(a, b, n_train=80, n_test=40, resolution=1 / 60).pvalue
    assert pairwise_tests(result).vs_best("b") == pytest.approx(holm([expected])[0]) and 0 < expected
    result.scoring = "r2"  # no step: as before
    assert pairwise_tests(result).vs_best("b") == 0


def test_corrected_ttest_edge_cases():
    same = corrected_ttest([0.9, 0.8, 0.7], [0.9, 0.8, 0.7], n_train=2, n_test=1)
    assert same.statistic == 0 and same.pvalue == 1
    shifted = corrected_ttest([1.0, 0.9, 0.8], [0.9, 0.8, 0.7], n_train=2, n_test=1)
    assert shifted.statistic == math.inf and shifted.pvalue == 0
    with pytest.raises(ValueError, match="same splits"):
        corrected_ttest([1, 2, 3], [1, 2], n_train=2, n_test=1)
    with pytest.raises(ValueError, match="at least 2 splits"):
        corrected_ttest([1], [2], n_train=2, n_test=1)
    with pytest.raises(ValueError, match="positive"):
        corrected_ttest([1, 2], [2, 3], n_train=0, n_test=1)


# ------------------------------------------------------------------------- Holm
def test_holm_against_a_hand_computation():
    # Sorted: 0.005 x 4 = 0.02; 0.01 x 3 = 0.03; 0.03 x 2 = 0.06; 0.04 x 1 = 0.04 -> max(0.06, 0.04) = 0.06.
    np.testing.assert_allclose(holm([0.01, 0.04, 0.03, 0.005]), [0.03, 0.06, 0.06, 0.02])
    np.testing.assert_allclose(holm([0.5, 0.9]), [1.0, 1.0])  # capped at 1
    np.testing.assert_allclose(holm([0.02]), [0.02])
    assert holm([]).size == 0


def step_down_rejections(pvalues, alpha):
    """Holm's procedure as he wrote it: reject the smallest p-values while p_(i) <= alpha / (m - i)."""
    order = np.argsort(pvalues, kind="stable")
    m = len(pvalues)
    rejected = np.zeros(m, dtype=bool)
    for i, index in enumerate(order):
        if pvalues[index] > alpha / (m - i):
            break
        rejected[index] = True
    return rejected


@pytest.mark.parametrize("seed", range(20))
def test_holm_adjusted_pvalues_reject_what_the_step_down_procedure_rejects(seed):
    rng = np.random.default_rng(seed)
    pvalues = rng.uniform(0, 0.08, size=rng.integers(2, 12))
    adjusted = holm(pvalues)
    for alpha in (0.01, 0.05, 0.1):
        np.testing.assert_array_equal(adjusted <= alpha, step_down_rejections(pvalues, alpha))
    assert np.all(adjusted >= pvalues) and np.all(adjusted <= 1)
    order = np.argsort(pvalues, kind="stable")
    assert np.all(np.diff(adjusted[order]) >= 0), "adjusted p-values keep the order of the raw ones"


def test_holm_rejects_bad_pvalues():
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        holm([0.1, 1.2])


# ---------------------------------------------------------------- Friedman / Nemenyi
def test_friedman_reproduces_demsars_worked_example():
    """Demšar (2006), section 3.2.2: average ranks 3.143, 2.000, 2.893, 1.964; chi2_F = 9.28; F_F = 3.69.

    The printed table rounds to three decimals and shows C4.5+cf and C4.5+m+cf tied at 0.975 on
    'voting', but the paper's ranks (2.893 and 1.964, not the tie's 2.929 and 1.929) rank C4.5+cf
    above C4.5+m+cf there: the unrounded AUCs differ. We give it that edge.
    """
    scores = DEMSAR_AUC.copy()
    scores[12, 2] += 1e-5
    result = friedman_test(scores, names=DEMSAR_NAMES)
    np.testing.assert_allclose(result.average_ranks, [3.143, 2.000, 2.893, 1.964], atol=5e-4)
    assert result.chi2 == pytest.approx(9.28, abs=0.005)
    assert result.f_statistic == pytest.approx(3.69, abs=0.005)
    # "With four algorithms and 14 data sets, F_F is distributed according to the F distribution with
    # 3 and 39 degrees of freedom. The critical value of F(3, 39) for alpha = 0.05 is 2.85": rejected.
    assert stats.f.ppf(0.95, 3, 39) == pytest.approx(2.85, abs=0.005)
    assert result.significant and result.f_pvalue < 0.05
    # Nemenyi: q_0.05 = 2.569, CD = 2.569 sqrt(4 x 5 / (6 x 14)) = 1.25: no pair is told apart...
    assert result.q_alpha == pytest.approx(2.569, abs=1e-3)
    assert result.critical_difference == pytest.approx(1.25, abs=0.005)
    assert not any(result.different(a, b) for a in DEMSAR_NAMES for b in DEMSAR_NAMES)
    # ... at alpha = 0.10 (q = 2.291, CD = 1.12) C4.5 is worse than C4.5+m and C4.5+m+cf.
    loose = friedman_test(scores, names=DEMSAR_NAMES, alpha=0.10)
    assert loose.critical_difference == pytest.approx(1.12, abs=0.005)
    told_apart = {(a, b) for a in DEMSAR_NAMES for b in DEMSAR_NAMES if a < b and loose.different(a, b)}
    assert told_apart == {("C4.5", "C4.5+m"), ("C4.5", "C4.5+m+cf")}


def test_friedman_on_the_printed_table_by_hand():
    """The table as printed (the 'voting' tie shares rank 2.5): the same formulas, computed by hand."""
    result = friedman_test(DEMSAR_AUC, names=DEMSAR_NAMES)
    ranks = np.array([44, 28, 41, 27]) / 14  # rank sums counted row by row, ties sharing their mean rank
    np.testing.assert_allclose(result.average_ranks, ranks)
    chi2 = 12 * 14 / (4 * 5) * (np.sum(ranks**2) - 4 * 25 / 4)
    assert result.chi2 == pytest.approx(chi2) and result.chi2 == pytest.approx(9.857, abs=1e-3)
    assert result.f_statistic == pytest.approx(13 * chi2 / (14 * 3 - chi2))
    assert result.chi2_pvalue == pytest.approx(stats.chi2.sf(chi2, 3))


def test_friedman_chi2_is_scipys_without_ties_and_conservative_with_them():
    rng = np.random.default_rng(0)
    scores = rng.random((8, 5))
    ours = friedman_test(scores)
    theirs = stats.friedmanchisquare(*scores.T)
    assert ours.chi2 == pytest.approx(theirs.statistic)
    assert ours.chi2_pvalue == pytest.approx(theirs.pvalue)
    # scipy corrects for ties (which raises the statistic); Demšar's form does not.
    assert friedman_test(DEMSAR_AUC).chi2 < stats.friedmanchisquare(*DEMSAR_AUC.T).statistic


# Demšar (2006), Table 5(a): critical values of the two-tailed Nemenyi test (q_alpha), k = 2..10.
Q_005 = [1.960, 2.343, 2.569, 2.728, 2.850, 2.949, 3.031, 3.102, 3.164]
Q_010 = [1.645, 2.052, 2.291, 2.459, 2.589, 2.693, 2.780, 2.855, 2.920]


@pytest.mark.parametrize("k", range(2, 11))
def test_nemenyi_q_alpha_matches_demsars_table(k):
    for alpha, table in ((0.05, Q_005), (0.10, Q_010)):
        cd, q = nemenyi_critical_difference(k, 10, alpha)
        assert q == pytest.approx(table[k - 2], abs=1e-3)  # the table truncates to 3 decimals
        assert cd == pytest.approx(q * math.sqrt(k * (k + 1) / 60))


def test_friedman_edge_cases():
    agree = friedman_test([[3, 2, 1], [3, 2, 1], [3, 2, 1]])
    # Three data sets ranking three methods alike: 1 in 6 x 6 by chance (it said p = 0).
    assert agree.f_statistic == math.inf and agree.f_pvalue == pytest.approx(1 / 36) and agree.chi2 == 6
    flat = friedman_test(np.ones((3, 4)))
    assert flat.chi2 == 0 and flat.chi2_pvalue == pytest.approx(1) and not flat.significant
    with pytest.raises(ValueError, match="at least 2 data sets and 2 methods"):
        friedman_test([[1, 2, 3]])
    with pytest.raises(ValueError, match="2 names for 3 methods"):
        friedman_test(np.ones((3, 3)), names=["a", "b"])
    with pytest.raises(ValueError, match="alpha"):
        friedman_test(np.ones((3, 3)), alpha=5)


# ----------------------------------------------------------------- on a comparison
def fake_result(scores, *, n_images=100, n_train=None, n_test=None):
    """A comparison whose feature sets scored ``scores`` (name -> per-fold scores) on the same folds."""
    results = {}
    for name, values in scores.items():
        values = np.asarray(values, dtype=float)
        y = np.arange(n_images) % 2
        results[name] = FeatureResult(
            name=name,
            n_features=2,
            scores=values,
            fit_times=np.zeros(values.size),
            transform_seconds=1.0,
            n_transformed=n_images,
            y_true=y,
            y_pred=y,
            test_indices=np.arange(n_images),
            embedding=np.zeros((3, 2)),
            embedding_indices=np.arange(3),
            estimators=[],
            n_train=n_train,
            n_test=n_test,
        )
    return ComparisonResult(
        results, skipped={}, task="classification", scoring="accuracy", X=np.zeros((n_images, 4, 4))
    )


def test_pairwise_tests_mark_the_best_and_those_not_significantly_worse():
    best = [0.95, 0.96, 0.94, 0.95, 0.97]
    close = [0.94, 0.96, 0.95, 0.93, 0.96]
    far = [0.70, 0.72, 0.69, 0.71, 0.70]
    result = fake_result({"far": far, "best": best, "close": close})
    tests = pairwise_tests(result)
    assert tests.names == ["best", "close", "far"] and tests.best == "best"
    assert tests.tied_with_best == ["best", "close"]
    assert [tests.mark(n) for n in tests.names] == ["best", "n.s.", "worse"]
    # 5 folds of 100 images: 20 test, 80 training (inferred from the predictions and the images).
    assert tests.n_splits == 5 and tests.test_train_ratio == pytest.approx(0.25)
    raw = [
        # Accuracies on 20 test images move in steps of 1/20 (the variance's floor).
        corrected_ttest(a, b, n_train=80, n_test=20, resolution=1 / 20).pvalue
        for a, b in ((best, close), (best, far), (close, far))
    ]
    np.testing.assert_allclose(
        [tests.pvalue_holm[0, 1], tests.pvalue_holm[0, 2], tests.pvalue_holm[1, 2]], holm(raw)
    )
    assert tests.vs_best("far") == pytest.approx(holm(raw)[1]) and math.isnan(tests.vs_best("best"))
    np.testing.assert_allclose(tests.pvalue_holm, tests.pvalue_holm.T)
    rows = {row["feature set"]: row for row in result.rows()}
    assert rows["far"]["vs best"] == "worse" and rows["close"]["vs best"] == "n.s."
    assert "worse (p " in str(result) and "n.s. (p " in str(result) and "vs best" in result.to_markdown()
    # The report's line names the best once, not among those "not significantly worse" than it.
    from skvision.compare._report import significance_lines

    assert "Not significantly worse than best: close." in significance_lines(tests)[0]


def test_pairwise_tests_use_the_recorded_split_sizes():
    scores = {"a": [0.9, 0.8, 0.85], "b": [0.8, 0.79, 0.7]}
    recorded = pairwise_tests(
        fake_result(scores, n_train=np.array([50, 50, 50]), n_test=np.array([10, 10, 10]))
    )
    assert recorded.test_train_ratio == pytest.approx(0.2)
    assert recorded.pvalue[0, 1] == pytest.approx(
        corrected_ttest(*scores.values(), n_train=50, n_test=10).pvalue
    )


def test_the_workflow_records_the_split_sizes(two_sets, digits):
    r = two_sets.results["pixels"]
    X, _ = digits
    np.testing.assert_array_equal(r.n_train + r.n_test, [len(X)] * 3)
    assert r.n_test.sum() == len(X)
    tests = two_sets.significance()
    assert tests.test_train_ratio == pytest.approx(np.mean(r.n_test / r.n_train))


def test_pairwise_tests_need_two_feature_sets_on_the_same_splits():
    assert pairwise_tests(fake_result({"a": [0.9, 0.8]})) is None
    with pytest.raises(ValueError, match="same splits"):
        pairwise_tests(fake_result({"a": [0.9, 0.8], "b": [0.9, 0.8, 0.7]}))


def test_per_class_scores_are_sklearns(two_sets):
    from sklearn.metrics import precision_score, recall_score

    per_class = per_class_scores(two_sets)
    assert per_class.names == [row["feature set"] for row in two_sets.rows()]
    assert per_class.class_names == [str(d) for d in range(10)]
    for i, name in enumerate(per_class.names):
        r = two_sets.results[name]
        np.testing.assert_allclose(per_class.precision[i], precision_score(r.y_true, r.y_pred, average=None))
        np.testing.assert_allclose(per_class.recall[i], recall_score(r.y_true, r.y_pred, average=None))
    for c in range(10):
        winners = per_class.winners(c)
        assert winners and all(
            per_class.f1[per_class.names.index(w), c] == per_class.f1[:, c].max() for w in winners
        )
    assert sum(per_class.wins().values()) >= 10
    table = per_class.to_markdown()
    assert table.count("\n") == 11 and "pixels P / R" in table


def test_per_class_winner_by_hand():
    y_true = np.array([0, 0, 1, 1])
    result = fake_result({"a": [0.5, 0.5], "b": [0.75, 0.75]}, n_images=4)
    result.results["a"].y_pred = np.array([0, 0, 0, 0])  # class 0: P 0.5, R 1; class 1: P 0, R 0
    result.results["b"].y_pred = np.array([0, 1, 1, 1])  # class 0: P 1, R 0.5; class 1: P 2/3, R 1
    for r in result.results.values():
        r.y_true = y_true
    per_class = per_class_scores(result)
    np.testing.assert_allclose(per_class.precision, [[1, 2 / 3], [0.5, 0]])
    np.testing.assert_allclose(per_class.recall, [[0.5, 1], [1, 0]])
    assert per_class.winners(0) == ["b", "a"] and per_class.winners(1) == ["b"]  # F1 2/3 both on class 0
    assert per_class.wins() == {"b": 2, "a": 1}
    # A class no feature set ever predicts right is won by none (each "won" it at F1 0).
    for r in result.results.values():
        r.y_pred = np.array([0, 0, 0, 0])
    per_class = per_class_scores(result)
    assert per_class.winners(1) == [] and per_class.wins() == {"b": 1, "a": 1}
    assert per_class.to_markdown().splitlines()[-1].endswith("| none (F1 0) |")
