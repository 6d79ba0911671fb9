"""Batch augmentation on the training device (kornia), for training and test-time augmentation.

Every transform draws its random parameters per sample and runs on the whole
batch at once, on the device the batch lives on, so augmentation costs one
batched kernel call per transform instead of a Python loop over images.
Mixup is applied by the net itself (see :mod:`skvision.neural._net`) because it
mixes targets as well as images.
"""

from __future__ import annotations

import copy
import hashlib

import torch
from torch import nn

__all__ = ["AUGMENT_PRESETS", "augment_each_image", "build_augmentation", "image_seeds", "tta_augmentation"]

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


def image_seeds(batch, seed, copy):
    """One seed per image of ``batch``: a hash of its pixels keyed by ``seed`` and ``copy``.

    Parameters
    ----------
    batch : Tensor of shape (N, C, H, W)
    seed : int
        The call's seed (from the estimator's ``random_state``).
    copy : int
        Which augmented copy (test-time augmentation draws several per image).

    Returns
    -------
    list of int
        Seeds in ``[0, 2**63)``; equal images get equal seeds.
    """
    key = f"{seed}:{copy}".encode()
    pixels = batch.detach().cpu().reshape(len(batch), -1).numpy()
    return [
        int.from_bytes(hashlib.blake2b(image.tobytes(), digest_size=8, key=key).digest(), "little") >> 1
        for image in pixels
    ]


def _merged_parameters(per_image, n_images):
    """kornia parameter dicts drawn for single images, joined into one for the batch."""
    merged = {}
    for name, first in per_image[0].items():
        if name == "forward_input_shape":  # the batch's shape, not a per-image draw
            shape = first.clone()
            shape[0] = n_images
            merged[name] = shape
        else:
            merged[name] = torch.cat([params[name] for params in per_image])
    return merged


def _each_image_seeded(module, batch, seeds):
    """``module`` applied image by image, torch's generators (CPU, and the batch's GPU) seeded per image."""
    cuda = batch.device if batch.is_cuda else None
    # fork_rng restores the GPU's generator too, which torch.cuda.manual_seed below reseeds.
    with torch.random.fork_rng(devices=[cuda] if cuda is not None else []):
        images = []
        for image, seed in zip(batch, seeds):
            torch.default_generator.manual_seed(seed)
            if cuda is not None:
                with torch.cuda.device(cuda):
                    torch.cuda.manual_seed(seed)
            images.append(module(image[None]))
    return torch.cat(images)


def augment_each_image(augmentation, batch, seeds):
    """Augment a batch, each image with random draws from its own seed.

    An image's augmented copy then depends on the image and its seed only:
    not on the other images of the batch, their order or the batch size (as a
    batch's single random stream would). kornia modules draw their parameters
    per image and transform the whole batch in one call; other modules are
    applied image by image. The caller's random state is left as it was.

    Parameters
    ----------
    augmentation : nn.Sequential
        From :func:`build_augmentation`.
    batch : Tensor of shape (N, C, H, W)
    seeds : sequence of int
        One per image (:func:`image_seeds`).

    Returns
    -------
    Tensor of shape (N, C, H, W)

    Examples
    --------
    >>> import torch
    >>> aug = build_augmentation("light")
    >>> batch = torch.rand(6, 1, 8, 8)
    >>> seeds = image_seeds(batch, seed=0, copy=1)
    >>> whole = augment_each_image(aug, batch, seeds)
    >>> torch.equal(whole[2:4], augment_each_image(aug, batch[2:4], seeds[2:4]))
    True
    """
    from kornia.augmentation.base import _BasicAugmentationBase

    generator = torch.default_generator  # kornia draws its parameters on the CPU
    state = generator.get_state()
    try:
        for index, module in enumerate(augmentation):
            # Each module its own seeds, so two modules of one kind do not draw alike.
            module_seeds = [(seed + index * 0x9E3779B97F4A7C15) % 2**63 for seed in seeds]
            if isinstance(module, _BasicAugmentationBase):
                draws = []
                for seed in module_seeds:
                    generator.manual_seed(seed)
                    draws.append(module.forward_parameters((1, *batch.shape[1:])))
                batch = module(batch, params=_merged_parameters(draws, len(batch)))
            else:
                batch = _each_image_seeded(module, batch, module_seeds)
    finally:
        generator.set_state(state)
    return batch
