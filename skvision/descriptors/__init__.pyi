# Type stub of the lazily loaded names (IDEs and type checkers read it; Python never imports it).
# Generated from _NAMES in __init__.py by `python -m skvision._lazy`; tests check it is current.

from ._base import BaseDescriptor as BaseDescriptor
from ._bovw import BagOfVisualWords as BagOfVisualWords
from ._bsif import BSIF as BSIF
from ._color import ColorHistogram as ColorHistogram
from ._gabor import GaborBank as GaborBank
from ._gabor import gabor as gabor
from ._glcm import GLCM as GLCM
from ._glcm import graycomatrix as graycomatrix
from ._glcm import graycoprops as graycoprops
from ._hog import HOG as HOG
from ._hog import hog as hog
from ._lbp import LBP as LBP
from ._lbp import local_binary_pattern as local_binary_pattern
from ._lpq import LPQ as LPQ
from ._lpq import local_phase_quantization as local_phase_quantization
from ._moments import HuMoments as HuMoments
from ._moments import ZernikeMoments as ZernikeMoments
from ._moments import hu_moments as hu_moments
from ._moments import zernike_moments as zernike_moments
from ._wld import WLD as WLD
from ._wld import weber_local_descriptor as weber_local_descriptor

__all__ = [
    "BSIF",
    "BagOfVisualWords",
    "BaseDescriptor",
    "ColorHistogram",
    "GLCM",
    "GaborBank",
    "HOG",
    "HuMoments",
    "LBP",
    "LPQ",
    "WLD",
    "ZernikeMoments",
    "gabor",
    "graycomatrix",
    "graycoprops",
    "hog",
    "hu_moments",
    "local_binary_pattern",
    "local_phase_quantization",
    "weber_local_descriptor",
    "zernike_moments",
]
