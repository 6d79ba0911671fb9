"""skvision: scikit-learn compatible image classification and regression.

Handcrafted descriptors (LBP, HOG, ...) and learned features (CNNs, autoencoders,
pretrained backbones) behind one sklearn API, ready for ``Pipeline``,
``GridSearchCV`` and ``cross_validate``.

Every public name is loaded on first use: ``import skvision`` does not import
torch, and neither do the descriptors.
"""

from ._lazy import attach

__version__ = "0.1.0.dev0"

_DESCRIPTORS = "LBP HOG GLCM HuMoments ZernikeMoments GaborBank LPQ WLD BSIF ColorHistogram BagOfVisualWords"

_NAMES = {name: "skvision.descriptors" for name in _DESCRIPTORS.split()}
_NAMES.update(
    {
        # Learned features (torch + skorch): imported only when asked for.
        "CNNClassifier": "skvision.neural",
        "CNNRegressor": "skvision.neural",
        "CNNFeatures": "skvision.neural",
        "AutoencoderFeatures": "skvision.neural",
        "PretrainedFeatures": "skvision.neural",
        # Preprocessing.
        "Grayscale": "skvision.preprocessing",
        "Resize": "skvision.preprocessing",
        "ImageLoader": "skvision.preprocessing",
        # Comparison workflow.
        "compare_features": "skvision.compare",
        "ComparisonResult": "skvision.compare",
        # The value-scale rule of the image contract: what a scale mismatch raises or warns.
        "ImageScale": "skvision._images",
        "ImageScaleError": "skvision._images",
        "ImageScaleWarning": "skvision._images",
        # Estimator tags: sklearn's, plus the kinds of device and statelessness.
        "get_tags": "skvision._tags",
        "SkvisionTags": "skvision._tags",
    }
)

__getattr__, __dir__, __all__ = attach(__name__, _NAMES)
__all__ = [*__all__, "__version__"]
