# Type stub of the lazily loaded names (IDEs and type checkers read it; Python never imports it).
# Generated from _NAMES in __init__.py by `python -m skvision._lazy`; tests check it is current.

from ._loader import ImageLoader as ImageLoader
from ._loader import ImageReadError as ImageReadError
from ._transforms import Grayscale as Grayscale
from ._transforms import Resize as Resize

__all__ = [
    "Grayscale",
    "ImageLoader",
    "ImageReadError",
    "Resize",
]
