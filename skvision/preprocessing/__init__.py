"""Image preprocessing steps for pipelines: Grayscale, Resize, ImageLoader (and its ImageReadError)."""

from .._lazy import attach

_NAMES = {
    "Grayscale": "skvision.preprocessing._transforms",
    "Resize": "skvision.preprocessing._transforms",
    "ImageLoader": "skvision.preprocessing._loader",
    "ImageReadError": "skvision.preprocessing._loader",
}

__getattr__, __dir__, __all__ = attach(__name__, _NAMES)
