"""The statistics of a comparison: is a difference real, or noise of the folds?

On one data set, every pair of feature sets is compared on the same folds with
Nadeau & Bengio's corrected resampled t-test, and the p-values are adjusted for
the number of pairs with Holm's step-down method (:func:`pairwise_tests`).
Across several data sets, the average ranks go through the Friedman test (its
chi-square form and Iman & Davenport's F form) and Nemenyi's critical
difference (:func:`friedman_test`), as Demšar (2006) recommends.

References
----------
C. Nadeau and Y. Bengio, "Inference for the generalization error", Machine
Learning 52 (2003) 239-281. R. R. Bouckaert and E. Frank, "Evaluating the
replicability of significance tests for comparing learning algorithms", PAKDD
2004 (the same correction for repeated k-fold). S. Holm, "A simple sequentially
rejective multiple test procedure", Scand. J. Statist. 6 (1979) 65-70.
J. Demšar, "Statistical comparisons of classifiers over multiple data sets",
JMLR 7 (2006) 1-30.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from itertools import combinations

import numpy as np

from ._markdown import markdown_table

__all__ = [
    "TTestResult",
    "corrected_ttest",
    "holm",
    "PairwiseTests",
    "pairwise_tests",
    "FriedmanResult",
    "friedman_test",
    "nemenyi_critical_difference",
    "PerClassScores",
    "per_class_scores",
]

#: The significance level of the marks in the tables, unless told otherwise.
ALPHA = 0.05


def _check_alpha(alpha):
    if not (isinstance(alpha, (int, float)) and 0 < alpha < 1):
        raise ValueError(f"alpha must be a number strictly between 0 and 1; got {alpha!r}.")
    return float(alpha)


@dataclass(frozen=True)
class TTestResult:
    """A corrected resampled t-test of two sets of scores on the same splits.

    Attributes
    ----------
    statistic : float
        The corrected t statistic (positive when the first set scores higher).
    pvalue : float
        Two-sided p-value from Student's t with ``df`` degrees of freedom.
    df : int
        Number of splits minus one.
    mean_difference : float
        Mean of the per-split differences ``a - b``.
    """

    statistic: float
    pvalue: float
    df: int
    mean_difference: float


def corrected_ttest(scores_a, scores_b, *, n_train, n_test, resolution=None):
    """Nadeau & Bengio's corrected resampled t-test of two score sets on the same splits.

    The ``J`` train/test splits of (repeated) cross-validation share most of their
    training images, so their scores are correlated and the paired t-test's
    variance ``s^2 / J`` is far too small: it finds differences that are not
    there. Nadeau & Bengio (2003) correct the variance of the mean difference to
    ``(1/J + n_test/n_train) s^2``, where ``s^2`` is the sample variance of the
    per-split differences; with ``r`` repeats of ``k``-fold cross-validation
    ``J = k r`` (Bouckaert & Frank, 2004).

    Scores that move in steps (an accuracy on ``n_test`` images: ``1/n_test``,
    one image more or less) can give every split the same difference, ``s^2 =
    0``, and ``p = 0``: on a small folder, three splits each one image apart.
    With ``resolution`` (the step) ``s^2`` is taken as at least the rounding
    noise of two such scores, ``resolution^2 / 6``; where the differences spread
    by more than a step, as on most data, this changes nothing.

    Parameters
    ----------
    scores_a, scores_b : array-like of shape (J,)
        Scores of two models on the same ``J`` splits, in the same order (any
        shape: ``(r, k)`` is flattened).
    n_train, n_test : int or array-like of shape (J,)
        Training and test set sizes (per split: their mean ratio is used).
    resolution : float or None, default=None
        The smallest step of a score (``1 / n_test`` for an accuracy), whose
        rounding noise bounds ``s^2`` from below; ``None``: no bound (a constant
        nonzero difference then gives ``p = 0``).

    Returns
    -------
    result : TTestResult

    Examples
    --------
    Five folds of 20 test and 80 training images. The paired t-test would call
    this difference significant (p = 0.047); the corrected one does not:

    >>> a = [0.92, 0.91, 0.93, 0.90, 0.94]
    >>> b = [0.90, 0.90, 0.90, 0.90, 0.90]
    >>> result = corrected_ttest(a, b, n_train=80, n_test=20)
    >>> round(result.statistic, 3), round(result.pvalue, 3), result.df
    (1.886, 0.132, 4)

    Three folds of 50 test images, each one image apart: certain without a
    resolution, weak evidence with it.

    >>> a, b = [0.90, 0.86, 0.94], [0.88, 0.84, 0.92]
    >>> corrected_ttest(a, b, n_train=100, n_test=50).pvalue
    0.0
    >>> round(corrected_ttest(a, b, n_train=100, n_test=50, resolution=1 / 50).pvalue, 3)
    0.115
    """
    from scipy import stats

    a = np.ravel(np.asarray(scores_a, dtype=float))
    b = np.ravel(np.asarray(scores_b, dtype=float))
    if a.shape != b.shape:
        raise ValueError(
            f"The two score sets must come from the same splits; got {a.size} and {b.size} scores."
        )
    n_splits = a.size
    if n_splits < 2:
        raise ValueError(f"The corrected t-test needs at least 2 splits; got {n_splits}.")
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        raise ValueError("The scores must be finite numbers; got NaN or infinity.")
    n_train = np.asarray(n_train, dtype=float)
    n_test = np.asarray(n_test, dtype=float)
    if np.any(n_train <= 0) or np.any(n_test <= 0):
        raise ValueError(f"n_train and n_test must be positive; got {n_train} and {n_test}.")
    ratio = float(np.mean(n_test / n_train))
    differences = a - b
    mean = float(differences.mean())
    df = n_splits - 1
    scale = max(float(np.abs(a).max()), float(np.abs(b).max()))
    variance = float(differences.var(ddof=1))
    if resolution is not None:
        variance = max(variance, float(resolution) ** 2 / 6.0)
    if math.sqrt(variance) <= 1e-12 * scale:
        # Every split gives the same difference (up to float rounding): none (t = 0, p = 1), or a
        # constant one (p = 0).
        if abs(mean) <= 1e-12 * scale:
            return TTestResult(0.0, 1.0, df, mean)
        return TTestResult(math.copysign(math.inf, mean), 0.0, df, mean)
    statistic = mean / math.sqrt((1.0 / n_splits + ratio) * variance)
    pvalue = float(2.0 * stats.t.sf(abs(statistic), df))
    return TTestResult(float(statistic), min(pvalue, 1.0), df, mean)


def holm(pvalues):
    """Holm's step-down adjustment of p-values for multiple comparisons.

    Sort the ``m`` p-values, multiply the ``i``-th smallest (from 0) by ``m - i``,
    keep the running maximum so that the order is kept, and cap at 1. A
    hypothesis is rejected at level ``alpha`` when its adjusted p-value is below
    ``alpha``: this controls the family-wise error rate, like Bonferroni, with
    more power. The same numbers as ``statsmodels``'
    ``multipletests(method="holm")``.

    Parameters
    ----------
    pvalues : array-like of shape (m,)

    Returns
    -------
    adjusted : ndarray of shape (m,)
        In the order given.

    Examples
    --------
    >>> holm([0.01, 0.04, 0.03, 0.005]).round(3).tolist()
    [0.03, 0.06, 0.06, 0.02]
    """
    p = np.asarray(pvalues, dtype=float)
    if p.ndim != 1:
        raise ValueError(f"pvalues must be a 1-D sequence; got shape {p.shape}.")
    if np.any((p < 0) | (p > 1) | np.isnan(p)):
        raise ValueError("p-values must lie in [0, 1].")
    m = p.size
    if m == 0:
        return p.copy()
    order = np.argsort(p, kind="stable")
    stepped = np.maximum.accumulate(p[order] * (m - np.arange(m)))
    adjusted = np.empty(m)
    adjusted[order] = np.minimum(stepped, 1.0)
    return adjusted


def _split_sizes(result, names):
    """Mean ``n_test / n_train`` and mean ``n_test`` of the comparison's splits (recorded, or inferred)."""
    for name in names:
        r = result.results[name]
        n_train, n_test = getattr(r, "n_train", None), getattr(r, "n_test", None)
        if n_train is not None and n_test is not None:
            n_train, n_test = np.asarray(n_train, dtype=float), np.asarray(n_test, dtype=float)
            return float(np.mean(n_test / n_train)), float(np.mean(n_test))
    # Not recorded: each split tests len(y_true) / k images (y_true holds one repeat of the k folds) and
    # trains on the rest of X.
    r = result.results[names[0]]
    n_repeats = getattr(r, "n_repeats", 1) or 1
    n_test = len(r.y_true) * n_repeats / np.size(r.scores)
    n_total = len(result.X)
    if not 0 < n_test < n_total:
        raise ValueError("Cannot tell the training and test set sizes of this comparison's splits.")
    return n_test / (n_total - n_test), float(n_test)


def _score_step(result, names, n_test):
    """The smallest step of a split's score (see ``corrected_ttest``'s ``resolution``), or None.

    An accuracy moves by one test image, ``1 / n_test``. A balanced accuracy is the
    mean of the K classes' recalls, the recall of a class of ``n_c`` test images
    moving by ``1 / n_c``: its finest step is ``1 / (K n_c)`` of the largest class;
    a macro F1 moves by about as much. (Without a step there, a constant difference
    gave p = 0 under balanced_accuracy where accuracy gave 0.115.)
    """
    scoring = getattr(result, "scoring", None)
    if scoring == "accuracy":
        return 1.0 / n_test
    if scoring not in ("balanced_accuracy", "f1_macro"):
        return None
    _, counts = np.unique(np.asarray(result.results[names[0]].y_true), return_counts=True)
    if len(counts) < 2:
        return None
    largest = n_test * counts.max() / counts.sum()  # test images of the largest class per split
    return 1.0 / (len(counts) * largest)


@dataclass(frozen=True)
class PairwiseTests:
    """Every pair of feature sets of one comparison, tested on the same splits.

    Attributes
    ----------
    names : list of str
        Feature sets, best mean score first.
    means : ndarray of shape (K,)
    statistic, pvalue, pvalue_holm : ndarray of shape (K, K)
        Corrected t statistic of row minus column, its two-sided p-value, and
        the p-value adjusted with Holm's method over the ``K (K - 1) / 2`` pairs
        (1 on the diagonal).
    alpha : float
        Significance level of :attr:`tied_with_best`.
    n_splits : int
        ``J``, the number of train/test splits (folds times repeats).
    test_train_ratio : float
        Mean ``n_test / n_train`` of the splits.
    """

    names: list
    means: np.ndarray
    statistic: np.ndarray
    pvalue: np.ndarray
    pvalue_holm: np.ndarray
    alpha: float
    n_splits: int
    test_train_ratio: float

    @property
    def best(self):
        """The feature set with the highest mean score."""
        return self.names[0]

    def vs_best(self, name):
        """Holm-adjusted p-value of ``name`` against the best (NaN for the best itself)."""
        i = self.names.index(name)
        return math.nan if i == 0 else float(self.pvalue_holm[0, i])

    @property
    def tied_with_best(self):
        """Feature sets not significantly worse than the best (adjusted p >= alpha), the best first."""
        return [self.best] + [n for n in self.names[1:] if self.vs_best(n) >= self.alpha]

    def mark(self, name):
        """``'best'``, ``'n.s.'`` (not significantly worse, which is not a tie) or ``'worse'``."""
        if name == self.best:
            return "best"
        return "n.s." if self.vs_best(name) >= self.alpha else "worse"

    def to_markdown(self):
        """The matrix of Holm-adjusted p-values as Markdown (row vs column)."""
        rows = [
            [name] + ["" if i == j else format_p(self.pvalue_holm[i, j]) for j in range(len(self.names))]
            for i, name in enumerate(self.names)
        ]
        return markdown_table(["Holm-adjusted p", *self.names], rows, ["---"] + ["---:"] * len(self.names))


def format_p(p):
    """A p-value for a table: two significant digits, ``< 0.001`` below."""
    if not np.isfinite(p):
        return ""
    return "< 0.001" if p < 0.001 else f"{p:.2g}"


def pairwise_tests(result, alpha=ALPHA):
    """Test every pair of feature sets of a comparison: corrected t-test, Holm-adjusted.

    Parameters
    ----------
    result : ComparisonResult
        Its feature sets were scored on the same splits (``compare_features``
        draws them once).
    alpha : float, default=0.05
        Significance level of :attr:`PairwiseTests.tied_with_best`.

    Returns
    -------
    tests : PairwiseTests or None
        ``None`` with fewer than two feature sets.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.decomposition import PCA
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import FunctionTransformer
    >>> from skvision import compare_features
    >>> from skvision.datasets import load_digits
    >>> X, y = load_digits(return_X_y=True)
    >>> flat = FunctionTransformer(lambda images: images.reshape(len(images), -1) / 255)
    >>> result = compare_features(X[:300], y[:300], {"pixels": flat, "pca2": make_pipeline(flat, PCA(2))},
    ...                           estimator="logreg", cv=3)
    >>> tests = pairwise_tests(result)
    >>> tests.best, tests.mark("pca2"), bool(tests.vs_best("pca2") < 0.05)
    ('pixels', 'worse', True)
    """
    alpha = _check_alpha(alpha)
    names = sorted(result.results, key=lambda n: -float(np.mean(result.results[n].scores)))
    if len(names) < 2:
        return None
    scores = [np.ravel(np.asarray(result.results[n].scores, dtype=float)) for n in names]
    sizes = {s.size for s in scores}
    if len(sizes) != 1:
        raise ValueError(
            "The feature sets were not scored on the same splits: "
            + ", ".join(f"{n} {s.size}" for n, s in zip(names, scores))
            + " scores."
        )
    ratio, n_test = _split_sizes(result, names)
    resolution = _score_step(result, names, n_test)
    k = len(names)
    statistic = np.zeros((k, k))
    pvalue = np.ones((k, k))
    pairs = list(combinations(range(k), 2))
    for i, j in pairs:
        test = corrected_ttest(scores[i], scores[j], n_train=1.0, n_test=ratio, resolution=resolution)
        statistic[i, j], statistic[j, i] = test.statistic, -test.statistic
        pvalue[i, j] = pvalue[j, i] = test.pvalue
    adjusted = holm([pvalue[i, j] for i, j in pairs])
    pvalue_holm = np.ones((k, k))
    for (i, j), p in zip(pairs, adjusted):
        pvalue_holm[i, j] = pvalue_holm[j, i] = p
    return PairwiseTests(
        names=names,
        means=np.array([s.mean() for s in scores]),
        statistic=statistic,
        pvalue=pvalue,
        pvalue_holm=pvalue_holm,
        alpha=alpha,
        n_splits=sizes.pop(),
        test_train_ratio=ratio,
    )


# ------------------------------------------------------------------ several data sets
def nemenyi_critical_difference(n_methods, n_datasets, alpha=ALPHA):
    """Nemenyi's critical difference of average ranks: ``q_alpha sqrt(k (k + 1) / (6 N))``.

    ``q_alpha`` is the Studentized range statistic for ``k`` means and infinite
    degrees of freedom, divided by ``sqrt(2)`` (Demšar 2006, Table 5a).

    Parameters
    ----------
    n_methods : int
        ``k``, the number of methods compared (at least 2).
    n_datasets : int
        ``N``, the number of data sets (at least 1).
    alpha : float, default=0.05

    Returns
    -------
    critical_difference : float
    q_alpha : float

    Examples
    --------
    Demšar's example, four classifiers on 14 data sets:

    >>> cd, q = nemenyi_critical_difference(4, 14)
    >>> round(q, 3), round(cd, 2)
    (2.569, 1.25)
    """
    from scipy.stats import studentized_range

    alpha = _check_alpha(alpha)
    if int(n_methods) != n_methods or n_methods < 2:
        raise ValueError(f"n_methods must be an integer of at least 2; got {n_methods!r}.")
    if int(n_datasets) != n_datasets or n_datasets < 1:
        raise ValueError(f"n_datasets must be a positive integer; got {n_datasets!r}.")
    q_alpha = float(studentized_range.ppf(1.0 - alpha, int(n_methods), np.inf)) / math.sqrt(2.0)
    return q_alpha * math.sqrt(n_methods * (n_methods + 1) / (6.0 * n_datasets)), q_alpha


@dataclass(frozen=True)
class FriedmanResult:
    """The Friedman test of several methods over several data sets, with Nemenyi's post-hoc.

    Attributes
    ----------
    names : list of str
        The methods, in the order of the score columns.
    average_ranks : ndarray of shape (k,)
        Rank 1 is the best (highest score); ties share the mean rank.
    chi2 : float
        Friedman's statistic ``12 N / (k (k + 1)) [sum_j R_j^2 - k (k + 1)^2 / 4]``.
    chi2_pvalue : float
        From chi-square with ``k - 1`` degrees of freedom.
    f_statistic : float
        Iman & Davenport's ``F_F = (N - 1) chi2 / (N (k - 1) - chi2)``.
    f_pvalue : float
        From F with ``k - 1`` and ``(k - 1)(N - 1)`` degrees of freedom.
    n_datasets, n_methods : int
    alpha : float
    critical_difference : float
        Nemenyi's critical difference at ``alpha``.
    q_alpha : float
    scores : ndarray of shape (N, k)
        The scores tested.
    """

    names: list
    average_ranks: np.ndarray
    chi2: float
    chi2_pvalue: float
    f_statistic: float
    f_pvalue: float
    n_datasets: int
    n_methods: int
    alpha: float
    critical_difference: float
    q_alpha: float
    scores: np.ndarray = field(repr=False)

    @property
    def significant(self):
        """Whether the Iman-Davenport F test rejects "all methods are equivalent" at ``alpha``."""
        return self.f_pvalue < self.alpha

    def different(self, a, b):
        """Whether Nemenyi's test tells methods ``a`` and ``b`` apart (rank gap above the CD)."""
        ranks = dict(zip(self.names, self.average_ranks))
        return abs(ranks[a] - ranks[b]) > self.critical_difference

    def plot_critical_difference(self, ax=None, *, best_on_right=False):
        """Demšar's critical-difference diagram of the average ranks (see CriticalDifferenceDisplay)."""
        from ..plotting import CriticalDifferenceDisplay

        return CriticalDifferenceDisplay(
            names=self.names,
            average_ranks=self.average_ranks,
            critical_difference=self.critical_difference,
            alpha=self.alpha,
            n_datasets=self.n_datasets,
        ).plot(ax=ax, best_on_right=best_on_right)


def friedman_test(scores, names=None, alpha=ALPHA):
    """The Friedman test of ``k`` methods over ``N`` data sets, Iman-Davenport's F, and Nemenyi's CD.

    Within each data set the methods are ranked, 1 for the highest score, tied
    scores sharing their mean rank. Under the null hypothesis (all methods are
    equivalent) every average rank ``R_j`` is ``(k + 1) / 2``. Friedman's
    statistic (without the tie correction, as in Demšar 2006; the correction
    would only raise it, so this is the conservative form) is chi-square with
    ``k - 1`` degrees of freedom for large ``N`` and ``k``; Iman & Davenport's
    ``F_F``, which Demšar recommends as less conservative, is F with ``k - 1``
    and ``(k - 1)(N - 1)`` degrees of freedom. Nemenyi's post-hoc test tells
    two methods apart when their average ranks differ by more than the
    critical difference.

    Parameters
    ----------
    scores : array-like of shape (N, k)
        One row per data set, one column per method; higher is better.
    names : sequence of str or None
        Method names (``'0'``, ``'1'``, ... by default).
    alpha : float, default=0.05
        Level of the critical difference and of :attr:`FriedmanResult.significant`.

    Returns
    -------
    result : FriedmanResult

    Examples
    --------
    Three methods on four data sets, the first always best:

    >>> result = friedman_test([[0.9, 0.8, 0.7], [0.95, 0.9, 0.85], [0.8, 0.7, 0.75], [0.9, 0.7, 0.8]],
    ...                        names=["a", "b", "c"])
    >>> result.average_ranks.tolist(), round(result.chi2, 2)
    ([1.0, 2.5, 2.5], 6.0)

    Two data sets that rank three methods alike: as likely as 1 in 6 by chance.

    >>> agree = friedman_test([[0.9, 0.8, 0.7], [0.8, 0.7, 0.6]])
    >>> agree.f_statistic, round(agree.f_pvalue, 4), agree.significant
    (inf, 0.1667, False)
    """
    from scipy import stats

    alpha = _check_alpha(alpha)
    scores = np.asarray(scores, dtype=float)
    if scores.ndim != 2:
        raise ValueError(f"scores must be a 2-D array (data sets x methods); got shape {scores.shape}.")
    n, k = scores.shape
    if n < 2 or k < 2:
        raise ValueError(f"The Friedman test needs at least 2 data sets and 2 methods; got {n} and {k}.")
    if not np.all(np.isfinite(scores)):
        raise ValueError("scores must be finite numbers; got NaN or infinity.")
    names = [str(i) for i in range(k)] if names is None else [str(name) for name in names]
    if len(names) != k:
        raise ValueError(f"{len(names)} names for {k} methods.")
    ranks = stats.rankdata(-scores, axis=1)
    average = ranks.mean(axis=0)
    chi2 = 12.0 * n / (k * (k + 1)) * (float(np.sum(average**2)) - k * (k + 1) ** 2 / 4.0)
    chi2 = max(chi2, 0.0)  # rounding of an exact 0
    chi2_pvalue = float(stats.chi2.sf(chi2, k - 1))
    denominator = n * (k - 1) - chi2
    if denominator <= 1e-12:
        # Every data set ranks the methods alike (no ties: ties lower chi2): the F form is infinite,
        # and its p-value is the exact chance that N random rankings all agree, (1 / k!)^(N - 1).
        # Reported as 0 it read "the feature sets differ" from two data sets (exactly 1/6 for k = 3).
        f_statistic = math.inf
        f_pvalue = float(math.exp(-(n - 1) * math.lgamma(k + 1)))
    else:
        f_statistic = (n - 1) * chi2 / denominator
        f_pvalue = float(stats.f.sf(f_statistic, k - 1, (k - 1) * (n - 1)))
    cd, q_alpha = nemenyi_critical_difference(k, n, alpha)
    return FriedmanResult(
        names=names,
        average_ranks=average,
        chi2=float(chi2),
        chi2_pvalue=chi2_pvalue,
        f_statistic=float(f_statistic),
        f_pvalue=f_pvalue,
        n_datasets=n,
        n_methods=k,
        alpha=alpha,
        critical_difference=cd,
        q_alpha=q_alpha,
        scores=scores,
    )


# ----------------------------------------------------------------------- per class
@dataclass(frozen=True)
class PerClassScores:
    """Per-class precision and recall of each feature set, from out-of-fold predictions.

    Attributes
    ----------
    classes : ndarray
        Class labels.
    class_names : list of str
        Display names of the classes.
    names : list of str
        Feature sets.
    precision, recall, f1 : ndarray of shape (n_feature_sets, n_classes)
    support : ndarray of shape (n_classes,)
        Out-of-fold predictions of each class (every image once per repeat).
    predicted : ndarray of shape (n_feature_sets, n_classes) or None
        How often each feature set predicted each class; where never, its
        precision (0 / 0) is undefined, shown as "-" (0 in ``precision``).
    """

    classes: np.ndarray
    class_names: list
    names: list
    precision: np.ndarray
    recall: np.ndarray
    f1: np.ndarray
    support: np.ndarray
    predicted: np.ndarray | None = None

    def cell(self, i, c):
        """``"precision / recall"`` of feature set ``i`` on class ``c`` (precision ``-``: never predicted)."""
        never = self.predicted is not None and self.predicted[i, c] == 0
        return f"{'-' if never else f'{self.precision[i, c]:.2f}'} / {self.recall[i, c]:.2f}"

    def winners(self, c):
        """Feature sets with the highest F1 on the ``c``-th class (several when tied); none when
        that F1 is 0 (no feature set found a single image of the class: nothing was won)."""
        column = self.f1[:, c]
        top = column.max()
        if top <= 0:
            return []
        return [name for name, value in zip(self.names, column) if np.isclose(value, top, rtol=0, atol=1e-12)]

    def wins(self):
        """Feature set -> number of classes it wins (a tie counts for each)."""
        counts = dict.fromkeys(self.names, 0)
        for c in range(len(self.classes)):
            for name in self.winners(c):
                counts[name] += 1
        return counts

    def to_markdown(self):
        """One row per class: precision / recall of each feature set, and the winner by F1."""
        header = ["class", "n", *(f"{name} P / R" for name in self.names), "best F1"]
        rows = [
            [
                class_name,
                self.support[c],
                *(self.cell(i, c) for i in range(len(self.names))),
                ", ".join(self.winners(c)) or "none (F1 0)",
            ]
            for c, class_name in enumerate(self.class_names)
        ]
        return markdown_table(header, rows, ["---", "---:"] + ["---:"] * len(self.names) + ["---"])


def _pooled_predictions(r):
    """Targets and out-of-fold predictions of every split of a FeatureResult, and the repeats pooled.

    With repeated k-fold every repeat predicts every image once; the first
    repeat's ``y_true`` gives the target of each image. Without the per-split
    record (or when the first repeat does not cover the images tested later),
    the first repeat alone.
    """
    fold_predictions = getattr(r, "fold_predictions", None)
    fold_tests = getattr(r, "fold_test_indices", None)
    repeats = int(getattr(r, "n_repeats", 1) or 1)
    if repeats <= 1 or fold_predictions is None or fold_tests is None:
        return r.y_true, r.y_pred, 1
    tested = np.concatenate([np.asarray(t) for t in fold_tests])
    known = np.asarray(r.test_indices)
    if not np.isin(tested, known).all():
        return r.y_true, r.y_pred, 1
    order = np.argsort(known, kind="stable")
    where = order[np.searchsorted(known, tested, sorter=order)]
    y_true = np.asarray(r.y_true)[where]
    return y_true, np.concatenate([np.asarray(p) for p in fold_predictions]), repeats


def per_class_scores(result):
    """Per-class precision, recall and F1 of each feature set of a classification comparison.

    From the out-of-fold predictions, pooled over the folds (and the repeats of a
    repeated k-fold: every image counts once per repeat), with
    :func:`sklearn.metrics.precision_recall_fscore_support`; a class never
    predicted has precision 0. The winner of a class is the feature set with the
    highest F1 there (the harmonic mean of precision and recall).

    Parameters
    ----------
    result : ComparisonResult

    Returns
    -------
    scores : PerClassScores or None
        ``None`` for a regression or an empty comparison.
    """
    from sklearn.metrics import precision_recall_fscore_support

    if result.task != "classification" or not result.results:
        return None
    names = sorted(result.results, key=lambda n: -float(np.mean(result.results[n].scores)))
    classes = np.unique(np.concatenate([np.asarray(result.results[n].y_true) for n in names]))
    precision, recall, f1, predicted = [], [], [], []
    support = None
    for name in names:
        r = result.results[name]
        y_true, y_pred, repeats = _pooled_predictions(r)
        p, rc, f, s = precision_recall_fscore_support(y_true, y_pred, labels=classes, zero_division=0.0)
        predicted.append((np.asarray(y_pred)[:, None] == classes[None, :]).sum(axis=0))
        precision.append(p)
        recall.append(rc)
        f1.append(f)
        support = s // repeats if support is None else support
    target_names = result.target_names
    integer = np.issubdtype(classes.dtype, np.integer)
    if target_names is not None and integer and classes.min() >= 0 and classes.max() < len(target_names):
        class_names = [str(target_names[c]) for c in classes]
    else:
        class_names = [str(c) for c in classes]
    return PerClassScores(
        classes=classes,
        class_names=class_names,
        names=names,
        precision=np.array(precision),
        recall=np.array(recall),
        f1=np.array(f1),
        support=np.asarray(support),
        predicted=np.array(predicted),
    )
