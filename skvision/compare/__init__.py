"""Compare feature sets side by side: the job behind ``skvision compare``.

:func:`compare_features` cross-validates one pipeline per feature set,
``features -> estimator``, on the same folds (optionally repeated, tuned in
nested folds, fused, resumable), and returns a :class:`ComparisonResult` that
prints as a table, tests the differences and draws the pictures.

Feature families known to the command live in a registry
(:data:`FEATURE_FAMILIES`): each entry names the estimator it needs and builds a
transformer with defaults that suit the data set at hand (image size, task).
:func:`build_feature_sets` turns family names into :class:`FeatureSet` objects
that :func:`compare_features` takes as they are. A family whose estimator is not
importable in this installation, or that does not apply to the data (colour
histograms on grey images, say), is left out with a note instead of failing the
run.

The package, in the order the data flows::

    _estimators.py  final estimators by name (ESTIMATORS, make_estimator), task_of
    _families.py    DatasetInfo, FeatureFamily, the registry, FeatureSet, build_feature_sets
    _builtin.py     the built-in families and their size heuristics (registered on import)
    _workflow.py    compare_features: feature sets -> cross-validation -> ComparisonResult
    _result.py      FeatureResult, ComparisonResult: the table and the pictures
    _stats.py       corrected resampled t-test, Holm, Friedman/Nemenyi, per-class scores
    _multi.py       MultiDatasetResult: several data sets, average ranks, CD diagram
    _report.py      write_report: report.md, results.csv and figures, read from the result
    _html.py        report.html: the same, self-contained, sortable
"""

from . import _builtin  # noqa: F401 - registers the built-in families
from ._estimators import ESTIMATORS, make_estimator, task_of  # noqa: F401 - task_of: importable as before
from ._families import (
    FEATURE_FAMILIES,
    DatasetInfo,
    FeatureFamily,
    FeatureSet,
    build_feature_sets,
    register_feature_family,
)
from ._multi import MultiDatasetResult
from ._result import ComparisonResult, FeatureResult
from ._stats import (
    FriedmanResult,
    PairwiseTests,
    PerClassScores,
    TTestResult,
    corrected_ttest,
    friedman_test,
    holm,
    nemenyi_critical_difference,
    pairwise_tests,
    per_class_scores,
)
from ._workflow import compare_features

__all__ = [
    "compare_features",
    "ComparisonResult",
    "FeatureResult",
    "FeatureSet",
    "FeatureFamily",
    "DatasetInfo",
    "FEATURE_FAMILIES",
    "ESTIMATORS",
    "register_feature_family",
    "build_feature_sets",
    "make_estimator",
    "MultiDatasetResult",
    "corrected_ttest",
    "holm",
    "pairwise_tests",
    "PairwiseTests",
    "TTestResult",
    "friedman_test",
    "FriedmanResult",
    "nemenyi_critical_difference",
    "per_class_scores",
    "PerClassScores",
]
