"""The image-input contract: what check_images accepts and the error each bad input gets."""

import re

import numpy as np
import pytest
import scipy.sparse as sp

from skvision._images import (
    LUMINANCE_WEIGHTS,
    ImageShapeError,
    check_image_shape,
    check_images,
    to_grayscale,
)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.int32, np.int64, np.float32, np.float64])
def test_accepts_numeric_dtypes_unchanged(dtype):
    X = np.arange(2 * 5 * 6, dtype=dtype).reshape(2, 5, 6)
    out = check_images(X)
    assert out.dtype == dtype
    np.testing.assert_array_equal(out, X)


def test_bool_becomes_uint8_with_true_white():
    X = np.zeros((1, 3, 3), dtype=bool)
    X[0, 1, 1] = True
    out = check_images(X)
    assert out.dtype == np.uint8 and out[0, 1, 1] == 255 and out.sum() == 255


def test_list_of_images_is_stacked():
    images = [np.full((4, 5, 3), i, dtype=np.uint8) for i in range(3)]
    out = check_images(images)
    assert out.shape == (3, 4, 5, 3)
    assert out[2, 0, 0, 0] == 2


def test_single_channel_axis_is_squeezed():
    X = np.random.default_rng(0).random((2, 4, 4, 1))
    out = check_images(X)
    assert out.shape == (2, 4, 4)
    np.testing.assert_array_equal(out, X[..., 0])


def test_grey_images_3_wide_fitted_small_are_taken_whole_in_transform():
    # A fit on 7 grey 16x3 images took them as such; 20 of them at once in transform were then
    # refused as "one RGB image" (dask chunks of 5 passed).
    from skvision import LBP

    X = np.random.default_rng(0).integers(0, 256, (20, 16, 3), dtype=np.uint8)
    lbp = LBP().fit(X[:7])
    np.testing.assert_array_equal(
        lbp.transform(X), np.concatenate([lbp.transform(X[:10]), lbp.transform(X[10:])])
    )
    assert check_images(X, fitted_shape=(16, 3)).shape == (20, 16, 3)
    with pytest.raises(ValueError, match="one RGB image"):
        check_images(X, fitted_shape=(16, 3, 3))


@pytest.mark.parametrize(
    "X, error, pattern",
    [
        (None, TypeError, "X is None"),
        ("image.png", TypeError, "ImageLoader"),
        (np.zeros((4, 4)), ValueError, r"ndim=2.*image\[np.newaxis\]"),
        # One row per image (a DataFrame of pixels, sklearn's load_digits().data): the reshape.
        (np.zeros((300, 64)), ValueError, r"flattened 8x8 image, pass X\.reshape\(-1, 8, 8\)"),
        (np.zeros((300, 3072)), ValueError, r"flattened 32x32 RGB image, pass X\.reshape\(-1, 32, 32, 3\)"),
        # One colour image is not a batch of grey images 3 (or 4) pixels wide.
        (np.zeros((30, 45, 3)), ValueError, r"30 grey images of 45x3 .* one RGB image\?.*np.newaxis"),
        (np.zeros((30, 45, 4)), ValueError, r"one RGBA image\?.*pass as shape \(30, 45, 4, 1\)"),
        (np.zeros(4), ValueError, "ndim=1"),
        (np.zeros((1, 2, 3, 3, 3)), ValueError, "ndim=5"),
        (np.zeros((0, 8, 8)), ValueError, "empty batch"),
        ([], ValueError, "empty batch"),
        (np.zeros((2, 0, 8)), ValueError, "H and W must be >= 1"),
        (np.array([[[np.nan]]]), ValueError, "NaN"),
        (np.array([[[np.inf]]]), ValueError, "infinite"),
        (np.zeros((1, 2, 2), dtype=object), TypeError, "dtype object"),
        (np.array([[["a"]]]), TypeError, "dtype <U1"),
        (np.zeros((1, 2, 2), dtype=complex), ValueError, "Complex data not supported"),
        (np.zeros((1, 4, 4, 2)), ValueError, "2 channels"),
        (np.zeros((1, 4, 4, 5)), ValueError, "channels-last"),
        ([np.zeros((4, 4)), np.zeros((4, 4)), np.zeros((5, 4))], ValueError, "image 2 has shape"),
        ([np.zeros((4, 4)), "b.png"], TypeError, r"X\[1\] is a str"),
        (sp.csr_matrix(np.eye(3)), TypeError, "Sparse input is not supported"),
        (object(), TypeError, "numpy array or a list"),
    ],
)
def test_bad_input_gets_a_clear_error(X, error, pattern):
    with pytest.raises(error, match=pattern):
        check_images(X)


def test_a_dataframe_of_flattened_images_is_named_with_a_reshape_it_has():
    pd = pytest.importorskip("pandas")
    # It read "got ndarray of shape (300, 64)" and advised X.reshape, which a DataFrame lacks.
    pattern = r"got DataFrame of shape \(300, 64\).* pass np\.asarray\(X\)\.reshape\(-1, 8, 8\)\.$"
    with pytest.raises(ValueError, match=pattern):
        check_images(pd.DataFrame(np.zeros((300, 64))))


def test_grey_images_a_few_pixels_wide_pass_with_their_channel_axis():
    X = np.arange(30 * 45 * 3, dtype=np.uint8).reshape(30, 45, 3, 1)
    np.testing.assert_array_equal(check_images(X), X[..., 0])
    assert check_images(np.zeros((7, 45, 3))).shape == (7, 45, 3)  # a small batch is still a batch


def test_error_names_the_argument():
    with pytest.raises(ValueError, match="^images_test is an empty batch"):
        check_images(np.zeros((0, 3, 3)), name="images_test")


def test_allowed_channels_none_accepts_any_count():
    assert check_images(np.zeros((1, 3, 3, 7)), allowed_channels=None).shape == (1, 3, 3, 7)


def test_min_size_names_the_reason():
    with pytest.raises(
        ImageShapeError, match=re.escape("are 4x4 (HxW) but must be at least 5x3 for P=8, R=2")
    ):
        check_images(np.zeros((1, 4, 4)), min_size=(5, 3), min_size_reason="P=8, R=2")
    # ImageShapeError is a ValueError.
    with pytest.raises(ValueError):
        check_image_shape(np.zeros((1, 2, 9)), min_size=(3, 3))
    check_image_shape(np.zeros((1, 3, 3)), min_size=(3, 3))  # exactly the minimum is fine


def test_to_grayscale_matches_skimage_weights_on_input_scale():
    from skimage.color import rgb2gray

    rng = np.random.default_rng(1)
    rgb = rng.integers(0, 256, size=(3, 6, 7, 3), dtype=np.uint8)
    gray = to_grayscale(rgb)
    assert gray.shape == (3, 6, 7)
    # skimage rescales uint8 to [0, 1]; we keep 0-255, so the two differ by exactly 255.
    np.testing.assert_allclose(gray / 255.0, rgb2gray(rgb), rtol=1e-12, atol=1e-12)
    rgba = np.concatenate([rgb, np.full((3, 6, 7, 1), 7, np.uint8)], axis=-1)
    np.testing.assert_allclose(to_grayscale(rgba), gray)
    np.testing.assert_allclose(LUMINANCE_WEIGHTS.sum(), 1.0)


def test_to_grayscale_leaves_grey_untouched():
    X = np.arange(8.0).reshape(2, 2, 2)
    assert to_grayscale(X) is X


def test_import_skvision_does_not_import_torch_or_numba():
    import subprocess
    import sys

    # numba (HOG's compiled kernel) costs ~0.3 s to import: only a HOG transform loads it.
    code = (
        "import sys, skvision, skvision.descriptors, skvision.preprocessing;"
        "import skvision.descriptors._base;"
        "print('torch' in sys.modules, 'numba' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False False"


def test_a_grey_image_stored_as_rgb_is_described_as_the_grey_image():
    """R == G == B pixels keep their value exactly: LBP's ties and WLD's bins see the grey image."""
    import skvision
    from skvision.datasets import load_textures

    grey = load_textures(patch_size=24, n_per_class=10, return_X_y=True)[0]
    as_rgb = np.repeat(grey[..., np.newaxis], 3, axis=-1)
    np.testing.assert_array_equal(to_grayscale(as_rgb), grey)  # exactly, not to an ulp
    for descriptor in (skvision.LBP(), skvision.LBP(P=16, R=2), skvision.WLD()):
        np.testing.assert_array_equal(descriptor.fit_transform(as_rgb), descriptor.fit_transform(grey))
    # Colour pixels still get the luminance weights.
    rgb = np.array([[[[10, 20, 30], [7, 7, 7]]]], dtype=np.uint8)
    np.testing.assert_allclose(to_grayscale(rgb)[0, 0], [10 * 0.2125 + 20 * 0.7154 + 30 * 0.0721, 7.0])
