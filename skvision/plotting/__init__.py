"""sklearn-style Display objects for images, features and comparisons (matplotlib optional).

Each Display follows scikit-learn's pattern: ``from_estimator`` /
``from_predictions`` / ``from_features`` compute what to show and draw it, and
``plot(ax=...)`` redraws on the axes you give. Confusion matrices use
:class:`sklearn.metrics.ConfusionMatrixDisplay` directly.

matplotlib is an optional dependency (``pip install 'skvision[plot]'``);
importing this package does not import it, and drawing without it raises an
ImportError that says how to install it.
"""

from .._lazy import attach

_NAMES = {
    "CriticalDifferenceDisplay": "skvision.plotting._critical_difference",
    "EmbeddingDisplay": "skvision.plotting._embedding",
    "ImageGridDisplay": "skvision.plotting._grid",
    "TrainingCurveDisplay": "skvision.plotting._training",
    "ScoresDisplay": "skvision.plotting._scores",
    "HOGDisplay": "skvision.plotting._descriptors",
    "LBPDisplay": "skvision.plotting._descriptors",
}

__getattr__, __dir__, __all__ = attach(__name__, _NAMES)
