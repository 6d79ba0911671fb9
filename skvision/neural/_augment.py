"""Batch augmentation on the training device (kornia), for training and test-time augmentation.

Every transform draws its random parameters per sample and runs on the whole
batch at once, on the device the batch lives on, so augmentation costs one
batched kernel call per transform instead of a Python loop over images.
Mixup is applied by the net itself (see :mod:`skvision.neural._net`) because it
mixes targets as well as images.
"""

from __future__ import annotations

import copy

from torch import nn

__all__ = ["AUGMENT_PRESETS", "build_augmentation", "tta_augmentation"]

#: Preset names accepted by ``augment=``.
AUGMENT_PRESETS = ("none", "light", "standard")


def _light():
    import kornia.augmentation as K

    # Small shifts, rotations and zooms: label-preserving for nearly every image
    # task, digits and text included.
    return [K.RandomAffine(degrees=10.0, translate=(0.1, 0.1), scale=(0.9, 1.1), p=1.0)]


def _standard():
    import kornia.augmentation as K

    # clip_output=False: float images are not assumed to lie in [0, 1].
    return [
        K.RandomHorizontalFlip(p=0.5),
        K.RandomAffine(degrees=15.0, translate=(0.1, 0.1), scale=(0.85, 1.15), shear=10.0, p=0.8),
        K.RandomBrightness(brightness=(0.8, 1.2), clip_output=False, p=0.5),
        K.RandomContrast(contrast=(0.8, 1.2), clip_output=False, p=0.5),
        K.RandomGaussianNoise(mean=0.0, std=0.03, p=0.5),
    ]


_PRESET_BUILDERS = {"light": _light, "standard": _standard}


def build_augmentation(augment, *, name="augment"):
    """Turn an ``augment`` parameter into a module applied to NCHW batches, or None.

    Parameters
    ----------
    augment : {'none', 'light', 'standard'}, None or sequence of nn.Module
        ``'light'``: random affine (rotation +-10 degrees, shift +-10 %, zoom
        0.9-1.1) on every image. ``'standard'``: horizontal flip, a stronger
        affine with shear, brightness, contrast and Gaussian noise; its flips
        make it unsuitable for images whose meaning changes under a mirror
        (digits, text). A sequence holds kornia augmentation modules (or any
        modules mapping a batch to a batch), applied in order; they are copied,
        so the parameter itself is never modified.
    name : str
        Parameter name quoted in errors.

    Returns
    -------
    nn.Sequential or None

    Examples
    --------
    >>> import torch
    >>> aug = build_augmentation("light")
    >>> tuple(aug(torch.rand(4, 1, 8, 8)).shape)
    (4, 1, 8, 8)
    >>> build_augmentation("none") is None
    True
    """
    if augment is None or (isinstance(augment, str) and augment == "none"):
        return None
    if isinstance(augment, str):
        if augment not in _PRESET_BUILDERS:
            raise ValueError(
                f"{name}={augment!r} is not a known preset; expected one of {AUGMENT_PRESETS} "
                "or a list of kornia augmentation modules."
            )
        return nn.Sequential(*_PRESET_BUILDERS[augment]())
    if isinstance(augment, nn.Module):
        augment = [augment]
    try:
        transforms = list(augment)
    except TypeError:
        raise TypeError(
            f"{name} must be one of {AUGMENT_PRESETS} or a list of kornia augmentation modules; "
            f"got {type(augment).__name__}."
        ) from None
    for i, transform in enumerate(transforms):
        if not isinstance(transform, nn.Module):
            raise TypeError(
                f"{name}[{i}] is a {type(transform).__name__}; expected a torch nn.Module "
                "such as kornia.augmentation.RandomAffine."
            )
    if not transforms:
        return None
    return nn.Sequential(*copy.deepcopy(transforms))


def tta_augmentation(augment):
    """The transforms of test-time augmentation: the training ones, or 'light' when training had none."""
    return build_augmentation(augment) or build_augmentation("light")
