"""Named offline datasets and image-folder readers (classes by folder, or targets from a CSV).

All named loaders return uint8 images so that every estimator sees the same value
scale (0-255) whatever the source.
"""

from .._lazy import attach

_NAMES = {
    "load_digits": "skvision.datasets._builtin",
    "load_faces": "skvision.datasets._builtin",
    "load_textures": "skvision.datasets._builtin",
    "load_dataset": "skvision.datasets._builtin",
    "DATASETS": "skvision.datasets._builtin",
    "load_image_folder": "skvision.datasets._folder",
    "load_image_targets": "skvision.datasets._targets",
}

__getattr__, __dir__, __all__ = attach(__name__, _NAMES)
