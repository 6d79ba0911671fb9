"""Handcrafted image descriptors: sklearn transformers and batched functions.

Each transformer takes a batch of images ``(N, H, W)`` or ``(N, H, W, C)`` and
returns one fixed-length feature vector per image. The functional forms
(``local_binary_pattern``, ``hog``) follow scikit-image's semantics, batched.
"""

from .._lazy import attach

_NAMES = {
    # Foundation descriptors.
    "LBP": "skvision.descriptors._lbp",
    "local_binary_pattern": "skvision.descriptors._lbp",
    "HOG": "skvision.descriptors._hog",
    "hog": "skvision.descriptors._hog",
    # More descriptors.
    "GLCM": "skvision.descriptors._glcm",
    "graycomatrix": "skvision.descriptors._glcm",
    "graycoprops": "skvision.descriptors._glcm",
    "hu_moments": "skvision.descriptors._moments",
    "zernike_moments": "skvision.descriptors._moments",
    "gabor": "skvision.descriptors._gabor",
    "HuMoments": "skvision.descriptors._moments",
    "ZernikeMoments": "skvision.descriptors._moments",
    "GaborBank": "skvision.descriptors._gabor",
    "LPQ": "skvision.descriptors._lpq",
    "local_phase_quantization": "skvision.descriptors._lpq",
    "WLD": "skvision.descriptors._wld",
    "weber_local_descriptor": "skvision.descriptors._wld",
    "BSIF": "skvision.descriptors._bsif",
    "ColorHistogram": "skvision.descriptors._color",
    "BagOfVisualWords": "skvision.descriptors._bovw",
    "BaseDescriptor": "skvision.descriptors._base",
}

__getattr__, __dir__, __all__ = attach(__name__, _NAMES)
