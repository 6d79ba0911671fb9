# Type stub of the lazily loaded names (IDEs and type checkers read it; Python never imports it).
# Generated from _NAMES in __init__.py by `python -m skvision._lazy`; tests check it is current.

from ._autoencoder import AutoencoderFeatures as AutoencoderFeatures
from ._cnn import CNNClassifier as CNNClassifier
from ._cnn import CNNFeatures as CNNFeatures
from ._cnn import CNNRegressor as CNNRegressor
from ._estimator import TrainingInterruptedWarning as TrainingInterruptedWarning
from ._finetune import BackboneNet as BackboneNet
from ._gan import GANFeatures as GANFeatures
from ._pretrained import PretrainedFeatures as PretrainedFeatures
from .backbones import resolve_backbone as resolve_backbone

__all__ = [
    "AutoencoderFeatures",
    "BackboneNet",
    "CNNClassifier",
    "CNNFeatures",
    "CNNRegressor",
    "GANFeatures",
    "PretrainedFeatures",
    "TrainingInterruptedWarning",
    "resolve_backbone",
]
