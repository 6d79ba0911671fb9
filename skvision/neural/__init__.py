"""Learned features: CNN estimators, autoencoders and pretrained backbones (torch + skorch).

Importing this subpackage imports torch; ``import skvision`` alone does not.
"""

from .._lazy import attach

_NAMES = {
    "CNNClassifier": "skvision.neural._cnn",
    "CNNRegressor": "skvision.neural._cnn",
    "CNNFeatures": "skvision.neural._cnn",
    "AutoencoderFeatures": "skvision.neural._autoencoder",
    "GANFeatures": "skvision.neural._gan",
    "PretrainedFeatures": "skvision.neural._pretrained",
    "resolve_backbone": "skvision.neural.backbones",
    "BackboneNet": "skvision.neural._finetune",
    "TrainingInterruptedWarning": "skvision.neural._estimator",
}

__getattr__, __dir__, __all__ = attach(__name__, _NAMES)
