"""Float copies of 8-bit images (``X / 255``, float64 or float32) get the features of the uint8 ``X``,
bit for bit, for every descriptor; and a batch that mixes them with other float images changes no image's
features (BaseDescriptor._on_working_scale, working_scale_of_copies).

Before, bins that 8-bit values hit exactly moved by an ulp on the [0, 1] scale: HOG with a 45-degree bin
edge (up to 0.07 in a feature), WLD, LBP's 'var' and ColorHistogram in float32 (about 1e-3), LBP on the
torch path.
"""

import numpy as np
import pytest
import skimage.data
import skimage.filters

import skvision
from skvision.descriptors import BaseDescriptor

PHOTOS = np.stack([skimage.data.camera()[100:164, 100:164], skimage.data.brick()[:64, :64]])
COLOUR = np.stack([skimage.data.astronaut()[100:164, 100:164], skimage.data.coffee()[:64, :64]])

CASES = {
    "LBP": dict(P=8, R=1.5),
    "LBP-var": dict(method="var"),
    "HOG": dict(orientations=8),
    "HOG-raw": dict(orientations=12, block_norm=None),
    "HOG-max": dict(orientations=4, channels="max"),
    "GLCM": dict(),
    "GaborBank": dict(frequencies=(0.1, 0.3), orientations=2),
    "LPQ": dict(),
    "WLD": dict(),
    "BSIF": dict(n_patches=2000, random_state=0),
    "HuMoments": dict(),
    "ZernikeMoments": dict(),
    "ColorHistogram": dict(),
    "BagOfVisualWords": dict(n_words=8, random_state=0),
}
COLOUR_CASES = {"HOG-max", "ColorHistogram"}


def test_every_descriptor_is_covered():
    names = {
        name
        for name in skvision.descriptors.__all__
        if isinstance(getattr(skvision.descriptors, name), type)
        and issubclass(getattr(skvision.descriptors, name), BaseDescriptor)
        and name != "BaseDescriptor"
    }
    assert names == {case.split("-")[0] for case in CASES}


@pytest.mark.parametrize("case", list(CASES))
def test_float_copies_get_the_uint8_features_also_beside_other_images(case):
    images = COLOUR if case in COLOUR_CASES else PHOTOS
    descriptor = getattr(skvision, case.split("-")[0])(**CASES[case]).fit(images)
    expected = descriptor.transform(images)
    for copies in (images / 255.0, (images / 255.0).astype(np.float32)):
        np.testing.assert_array_equal(descriptor.transform(copies), expected)
        other = skimage.filters.gaussian(copies[:1], sigma=1.5, channel_axis=-1 if images.ndim == 4 else None)
        other = other.astype(copies.dtype)
        mixed = descriptor.transform(np.concatenate([copies, other]))
        np.testing.assert_allclose(mixed[: len(copies)], expected, rtol=1e-12, atol=1e-15)
        np.testing.assert_array_equal(mixed[len(copies) :], descriptor.transform(other))


@pytest.mark.parametrize("case", list(CASES))
def test_a_fit_on_float_copies_learns_what_the_uint8_fit_learns(case):
    """BSIF's ICA read float32 X / 255 at float32's rounding: filters 1.7e-7 off the uint8 fit's."""
    images = COLOUR if case in COLOUR_CASES else PHOTOS
    make = getattr(skvision, case.split("-")[0])
    on_levels = make(**CASES[case]).fit(images)
    expected = on_levels.transform(images)
    for copies in (images / 255.0, (images / 255.0).astype(np.float32)):
        on_copies = make(**CASES[case]).fit(copies)
        np.testing.assert_array_equal(on_copies.transform(copies), expected)
        for learned in ("filters_", "codebook_"):
            if hasattr(on_levels, learned):
                np.testing.assert_array_equal(getattr(on_copies, learned), getattr(on_levels, learned))
