# Type stub of the lazily loaded names (IDEs and type checkers read it; Python never imports it).
# Generated from _NAMES in __init__.py by `python -m skvision._lazy`; tests check it is current.

from ._images import ImageScale as ImageScale
from ._images import ImageScaleError as ImageScaleError
from ._images import ImageScaleWarning as ImageScaleWarning
from ._tags import SkvisionTags as SkvisionTags
from ._tags import get_tags as get_tags
from .compare import ComparisonResult as ComparisonResult
from .compare import compare_features as compare_features
from .descriptors import BSIF as BSIF
from .descriptors import GLCM as GLCM
from .descriptors import HOG as HOG
from .descriptors import LBP as LBP
from .descriptors import LPQ as LPQ
from .descriptors import WLD as WLD
from .descriptors import BagOfVisualWords as BagOfVisualWords
from .descriptors import ColorHistogram as ColorHistogram
from .descriptors import GaborBank as GaborBank
from .descriptors import HuMoments as HuMoments
from .descriptors import ZernikeMoments as ZernikeMoments
from .neural import AutoencoderFeatures as AutoencoderFeatures
from .neural import CNNClassifier as CNNClassifier
from .neural import CNNFeatures as CNNFeatures
from .neural import CNNRegressor as CNNRegressor
from .neural import PretrainedFeatures as PretrainedFeatures
from .preprocessing import Grayscale as Grayscale
from .preprocessing import ImageLoader as ImageLoader
from .preprocessing import Resize as Resize

__version__: str

__all__ = [
    "AutoencoderFeatures",
    "BSIF",
    "BagOfVisualWords",
    "CNNClassifier",
    "CNNFeatures",
    "CNNRegressor",
    "ColorHistogram",
    "ComparisonResult",
    "GLCM",
    "GaborBank",
    "Grayscale",
    "HOG",
    "HuMoments",
    "ImageLoader",
    "ImageScale",
    "ImageScaleError",
    "ImageScaleWarning",
    "LBP",
    "LPQ",
    "PretrainedFeatures",
    "Resize",
    "SkvisionTags",
    "WLD",
    "ZernikeMoments",
    "__version__",
    "compare_features",
    "get_tags",
]
