"""Every descriptor names its features with the one scheme documented in ``skvision.descriptors``."""

import importlib
import inspect
import re
import sys
from pathlib import Path

import numpy as np
import pytest

import skvision.descriptors as descriptors
from skvision.descriptors import (
    BSIF,
    GLCM,
    HOG,
    LBP,
    LPQ,
    WLD,
    BagOfVisualWords,
    BaseDescriptor,
    ColorHistogram,
    GaborBank,
    HuMoments,
    ZernikeMoments,
)

DOCS = Path(__file__).resolve().parents[2] / "docs"

# The scheme, written out from its documentation (not from the code that builds the names):
# {prefix}_[c{k}_][block{r}_{c}_][cell{r}_{c}_]{feature}, the feature parts joined by "_".
NUMBER = r"-?\d+(?:\.\d+)?(?:e[-+]\d+)?"
WORDS = (
    "mean|var|std|skew|variance|contrast|dissimilarity|homogeneity|energy|correlation|ASM|entropy"
    "|r|g|b|h|s|v|L|a"
)
PART = (
    rf"(?:P\d+_R{NUMBER}|f{NUMBER}|d{NUMBER}|a{NUMBER}|o\d+|bin\d+(?:_\d+)*|seg\d+|matrix\d+_\d+"
    rf"|h\d+|n\d+_m\d+|word\d+|dim\d+|{WORDS})"
)
NAME = re.compile(
    rf"(?P<prefix>[a-z]+)_(?P<channel>c\d+_)?(?P<block>block\d+_\d+_)?(?P<cell>cell\d+_\d+_)?{PART}(?:_{PART})*"
)
PREFIXES = {"lbp", "hog", "glcm", "hu", "zernike", "gabor", "lpq", "wld", "bsif", "color", "bovw"}

RNG = np.random.default_rng(0)
GREY = RNG.integers(0, 256, size=(4, 24, 24), dtype=np.uint8)
COLOUR = RNG.integers(0, 256, size=(4, 24, 24, 3), dtype=np.uint8)

#: (descriptor, parameters) covering each descriptor's name parts, small enough to run quickly.
CASES = [
    (LBP, {"P": [8, 16], "R": [1, 2]}),
    (LBP, {"method": "var", "n_bins": 4}),
    (
        GLCM,
        {
            "distances": [1, 2],
            "angles": [0, np.pi / 2, -np.pi / 4],
            "levels": 3,
            "properties": ["contrast", "matrix"],
        },
    ),
    (GLCM, {"levels": 3, "rotation_average": True, "properties": ["energy", "std", "matrix"]}),
    (HuMoments, {}),
    (ZernikeMoments, {"order": 4}),
    (GaborBank, {"frequencies": [0.125, 0.3], "orientations": 3}),
    (LPQ, {"window_size": 5}),
    (WLD, {"segments": 2, "orientations": 4, "segment_bins": 2}),
    (BSIF, {"n_filters": 3, "filter_size": 3, "n_patches": 1000, "random_state": 0}),
    (ColorHistogram, {"bins": 2}),
    (ColorHistogram, {"color_space": "lab", "bins": (2, 3, 2), "histogram": "marginal"}),
    (BagOfVisualWords, {"n_words": 3, "random_state": 0}),
    (BagOfVisualWords, {"n_words": 2, "encoding": "vlad", "random_state": 0}),
    (HOG, {"pixels_per_cell": 6, "cells_per_block": 2}),
    (HOG, {"pixels_per_cell": 6, "block_norm": None, "signed": True}),
]
IDS = [f"{cls.__name__}-{k}" for k, (cls, _) in enumerate(CASES)]


def _fit(descriptor, channels=None):
    if channels is not None:
        descriptor.set_params(channels=channels)
    X = COLOUR if isinstance(descriptor, ColorHistogram) or channels == "each" else GREY
    descriptor.fit(X)
    return descriptor, descriptor.get_feature_names_out(), descriptor.transform(X)


def _check_scheme(descriptor, names, features):
    assert len(names) == features.shape[1] == descriptor.n_features_out_
    assert len(set(names)) == len(names), "duplicate feature names"
    assert descriptor._feature_prefix in PREFIXES
    parsed = [NAME.fullmatch(name) for name in names]
    off_scheme = [name for name, match in zip(names, parsed, strict=True) if match is None]
    assert not off_scheme, f"names outside the scheme: {off_scheme[:5]}"
    assert {match["prefix"] for match in parsed} == {descriptor._feature_prefix}
    return parsed


def test_every_descriptor_is_covered():
    classes = {
        obj
        for obj in (getattr(descriptors, name) for name in descriptors.__all__)
        if inspect.isclass(obj) and issubclass(obj, BaseDescriptor) and obj is not BaseDescriptor
    }
    assert classes == {cls for cls, _ in CASES}


@pytest.mark.parametrize("cls, params", CASES, ids=IDS)
def test_one_cell_names_follow_the_scheme_without_a_cell_part(cls, params):
    if cls is HOG:  # HOG's "grid" is its cells: an image of one block of one cell
        params = {**params, "pixels_per_cell": 24, "cells_per_block": 1}
    descriptor, names, features = _fit(cls(**params))
    parsed = _check_scheme(descriptor, names, features)
    assert not any(match["channel"] or match["block"] or match["cell"] for match in parsed)
    assert not any("cell" in name or "block" in name for name in names)


@pytest.mark.parametrize("cls, params", CASES, ids=IDS)
def test_grid_names_have_one_cell_part_per_cell(cls, params):
    if "grid" not in cls().get_params():
        pytest.skip(f"{cls.__name__} describes the whole image (no grid)")
    one_cell = _fit(cls(**params))[1]
    descriptor, names, features = _fit(cls(**params, grid=(2, 3)))
    parsed = _check_scheme(descriptor, names, features)
    cells = [f"cell{r}_{c}_" for r in range(2) for c in range(3)]
    assert {match["cell"] for match in parsed} == set(cells)
    # Each cell repeats the one-cell names, with the cell part after the prefix.
    for cell in cells:
        in_cell = [name.replace(cell, "", 1) for name in names if cell in name]
        assert sorted(in_cell) == sorted(one_cell)


def test_hog_blocks_and_cells_appear_only_when_there_are_several():
    one_block = _fit(HOG(orientations=3, pixels_per_cell=12, cells_per_block=2))[1]
    assert one_block.tolist()[:4] == ["hog_cell0_0_o0", "hog_cell0_0_o1", "hog_cell0_0_o2", "hog_cell0_1_o0"]
    cells_as_blocks = _fit(HOG(orientations=2, pixels_per_cell=12, cells_per_block=1))[1]
    assert cells_as_blocks.tolist()[:3] == ["hog_block0_0_o0", "hog_block0_0_o1", "hog_block0_1_o0"]
    descriptor, names, features = _fit(HOG(pixels_per_cell=6, cells_per_block=2))
    parsed = _check_scheme(descriptor, names, features)
    assert all(match["block"] and match["cell"] for match in parsed)


@pytest.mark.parametrize("cls, params", CASES, ids=IDS)
def test_channels_each_adds_the_channel_part(cls, params):
    if "channels" not in cls().get_params():
        pytest.skip(f"{cls.__name__} has no channels='each'")
    one_plane = _fit(cls(**params), channels="gray")[1]
    descriptor, names, features = _fit(cls(**params), channels="each")
    parsed = _check_scheme(descriptor, names, features)
    prefix = descriptor._feature_prefix
    expected = [name.replace(f"{prefix}_", f"{prefix}_c{k}_", 1) for k in range(3) for name in one_plane]
    assert names.tolist() == expected
    assert all(match["channel"] for match in parsed)


def test_same_notion_same_spelling():
    image_names = {
        "gabor": _fit(GaborBank(frequencies=[0.25], orientations=2))[1].tolist(),
        "glcm": _fit(GLCM(angles=[0, np.pi / 2], properties=["contrast"]))[1].tolist(),
        "hog": _fit(HOG(orientations=2, pixels_per_cell=24, cells_per_block=1))[1].tolist(),
        "wld": _fit(WLD(segments=1, orientations=2, segment_bins=1))[1].tolist(),
        "lpq": _fit(LPQ())[1].tolist()[:2],
        "lbp": _fit(LBP(P=4, R=1))[1].tolist()[:2],
    }
    assert image_names == {
        "gabor": ["gabor_f0.25_a0_mean", "gabor_f0.25_a0_var", "gabor_f0.25_a90_mean", "gabor_f0.25_a90_var"],
        "glcm": ["glcm_contrast_d1_a0", "glcm_contrast_d1_a90"],  # angles in degrees: a
        "hog": ["hog_o0", "hog_o1"],  # orientation bins: o
        "wld": ["wld_seg0_o0_bin0", "wld_seg0_o1_bin0"],
        "lpq": ["lpq_bin0", "lpq_bin1"],  # histogram bins: bin
        "lbp": ["lbp_P4_R1_bin0", "lbp_P4_R1_bin1"],
    }


def test_the_api_reference_documents_the_current_scheme():
    sys.path.insert(0, str(DOCS))
    try:
        gen_api = importlib.import_module("gen_api")
    finally:
        sys.path.remove(str(DOCS))
    scheme = "\n".join(gen_api.introduction("skvision.descriptors"))
    assert (
        "### Feature names" in scheme and "{prefix}_[c{k}_][block{r}_{c}_][cell{r}_{c}_]{feature}" in scheme
    )
    assert scheme in (DOCS / "api.md").read_text(), "docs/api.md is out of date; run: python docs/gen_api.py"
