# Type stub of the lazily loaded names (IDEs and type checkers read it; Python never imports it).
# Generated from _NAMES in __init__.py by `python -m skvision._lazy`; tests check it is current.

from ._builtin import DATASETS as DATASETS
from ._builtin import load_dataset as load_dataset
from ._builtin import load_digits as load_digits
from ._builtin import load_faces as load_faces
from ._builtin import load_textures as load_textures
from ._folder import load_image_folder as load_image_folder
from ._targets import load_image_targets as load_image_targets

__all__ = [
    "DATASETS",
    "load_dataset",
    "load_digits",
    "load_faces",
    "load_image_folder",
    "load_image_targets",
    "load_textures",
]
