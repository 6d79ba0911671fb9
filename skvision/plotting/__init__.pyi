# Type stub of the lazily loaded names (IDEs and type checkers read it; Python never imports it).
# Generated from _NAMES in __init__.py by `python -m skvision._lazy`; tests check it is current.

from ._critical_difference import CriticalDifferenceDisplay as CriticalDifferenceDisplay
from ._descriptors import HOGDisplay as HOGDisplay
from ._descriptors import LBPDisplay as LBPDisplay
from ._embedding import EmbeddingDisplay as EmbeddingDisplay
from ._grid import ImageGridDisplay as ImageGridDisplay
from ._scores import ScoresDisplay as ScoresDisplay
from ._training import TrainingCurveDisplay as TrainingCurveDisplay

__all__ = [
    "CriticalDifferenceDisplay",
    "EmbeddingDisplay",
    "HOGDisplay",
    "ImageGridDisplay",
    "LBPDisplay",
    "ScoresDisplay",
    "TrainingCurveDisplay",
]
