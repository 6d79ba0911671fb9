import re

import numpy as np
import pytest
import skimage.filters
from skimage.color import rgb2gray
from skimage.transform import resize
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils.estimator_checks import parametrize_with_checks

from skvision._testing import expected_failed_checks
from skvision.datasets import load_digits
from skvision.preprocessing import Grayscale, Resize
from skvision.preprocessing._transforms import resize_image

RNG = np.random.default_rng(0)


@parametrize_with_checks([Resize(), Grayscale()], expected_failed_checks=expected_failed_checks)
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.mark.parametrize("interpolation, order", [("nearest", 0), ("bilinear", 1), ("bicubic", 3)])
@pytest.mark.parametrize("size", [(5, 7), (31, 40), (12, 33)])
def test_resize_matches_skimage_per_image(interpolation, order, size):
    images = RNG.random((3, 17, 21, 3))
    out = Resize(size, interpolation=interpolation).fit_transform(images)
    expected = np.stack(
        [resize(im, size, order=order, anti_aliasing=interpolation != "nearest") for im in images]
    )
    assert out.shape == (3, *size, 3)
    np.testing.assert_allclose(out, expected, atol=1e-12)


def test_resize_keeps_uint8_scale_and_dtype():
    images = RNG.integers(0, 256, (4, 20, 20), dtype=np.uint8)
    out = Resize((10, 10)).fit_transform(images)
    expected = resize(images[0].astype(float), (10, 10), anti_aliasing=True, preserve_range=True)
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(out[0], np.rint(expected).astype(np.uint8))


def test_resize_accepts_images_of_different_sizes():
    images = [np.full((10, 14), 7, np.uint8), np.full((30, 5, 3)[:2], 9, np.uint8)]
    out = Resize(6).fit_transform(images)
    assert out.shape == (2, 6, 6)
    assert out[0].max() == 7 and out[1].min() == 9


def test_resize_rejects_mixed_colour_and_grey_list():
    with pytest.raises(ValueError, match="same size"):
        Resize(4).fit_transform([np.zeros((8, 8)), np.zeros((9, 9, 3))])


@pytest.mark.parametrize("size", [0, (3,), (2, -1), (2.5, 3), "big"])
def test_resize_bad_size_names_the_parameter(size):
    with pytest.raises(ValueError, match="size"):
        Resize(size).fit(np.zeros((1, 4, 4)))


def test_resize_validates_images():
    with pytest.raises(ValueError, match="NaN"):
        Resize(4).fit(np.full((1, 4, 4), np.nan))
    with pytest.raises(ValueError, match=r"X\[1\]"):
        Resize(4).fit([np.zeros((4, 4)), np.zeros((5, 5, 7))])


def test_transform_before_fit_raises():
    for step in (Resize(4), Grayscale()):
        with pytest.raises(NotFittedError):
            step.transform(np.zeros((1, 4, 4)))


def test_grayscale_matches_skimage_rgb2gray():
    images = RNG.random((3, 6, 5, 3))
    out = Grayscale().fit_transform(images)
    np.testing.assert_allclose(out, np.stack([rgb2gray(im) for im in images]), atol=1e-12)


def test_grayscale_uint8_rounds_to_uint8_and_drops_alpha():
    rgba = RNG.integers(0, 256, (2, 4, 4, 4), dtype=np.uint8)
    out = Grayscale().fit_transform(rgba)
    expected = np.rint(rgb2gray(rgba[..., :3]) * 255)
    assert out.dtype == np.uint8
    assert np.abs(out.astype(int) - expected).max() <= 1


def test_grayscale_passes_grey_unchanged():
    images = RNG.integers(0, 256, (2, 5, 5), dtype=np.uint8)
    np.testing.assert_array_equal(Grayscale().fit_transform(images), images)


def test_feature_names_name_every_pixel():
    names = Resize((2, 3)).fit(np.zeros((1, 4, 4))).get_feature_names_out()
    assert names[0] == "pixel_0_0" and names[-1] == "pixel_1_2" and len(names) == 6
    colour = Resize((2, 3)).fit(np.zeros((1, 4, 4, 3))).get_feature_names_out()
    assert colour[0] == "pixel_0_0_c0" and colour[-1] == "pixel_1_2_c2" and len(colour) == 18
    assert Grayscale().fit(np.zeros((1, 2, 2, 3))).get_feature_names_out().tolist() == [
        "pixel_0_0",
        "pixel_0_1",
        "pixel_1_0",
        "pixel_1_1",
    ]


def test_steps_work_in_a_cross_validated_pipeline():
    X, y = load_digits(return_X_y=True)
    colour = np.repeat(X[:300, :, :, None], 3, axis=3)
    pipe = make_pipeline(
        Grayscale(),
        Resize(6),
        FunctionTransformer(lambda a: a.reshape(len(a), -1) / 255.0),
        LogisticRegression(max_iter=500),
    )
    assert cross_val_score(pipe, colour, y[:300], cv=3).mean() > 0.85


# ------------------------------------------------------------------ crop and pad
WIDE = np.arange(1, 25, dtype=np.uint8).reshape(1, 4, 6) * 10  # one 4x6 image, values 10..240


def test_crop_cuts_the_centred_box_of_the_output_aspect_ratio():
    # 4x6 to 2x2: the centred 4x4 box (columns 1-4), then halved.
    box = WIDE[0, :, 1:5]
    out = Resize((2, 2), mode="crop").fit_transform(WIDE)
    np.testing.assert_array_equal(out[0], Resize((2, 2)).fit_transform(box[None])[0])
    # Same size as the box: the box itself, pixel for pixel.
    np.testing.assert_array_equal(Resize((4, 4), mode="crop").fit_transform(WIDE)[0], box)
    tall = WIDE.transpose(0, 2, 1)  # 6x4 to 4x4: rows 1-4
    np.testing.assert_array_equal(Resize((4, 4), mode="crop").fit_transform(tall)[0], tall[0, 1:5])


def test_pad_letterboxes_with_the_fill_value():
    # 4x6 into 6x6: kept 4x6, one row of fill above and below.
    out = Resize((6, 6), mode="pad", fill_value=255).fit_transform(WIDE)[0]
    np.testing.assert_array_equal(out[1:5], WIDE[0])
    assert (out[0] == 255).all() and (out[5] == 255).all()
    # 4x6 into 2x6: scaled to 2x3 (skimage's resize of the whole image), columns 1-3.
    out = Resize((2, 6), mode="pad").fit_transform(WIDE.astype(float))[0]
    inner = resize(WIDE[0].astype(float), (2, 3), order=1, anti_aliasing=True)
    np.testing.assert_allclose(out[:, 1:4], inner, atol=1e-12)
    assert (out[:, [0, 4, 5]] == 0).all()


@pytest.mark.parametrize(
    "images, fill_value, says",
    [
        (WIDE / 255.0, 255, "float64 images with values in [0.0392157, 0.941176], 0 to 1 (0 black, 1 white)"),
        (WIDE, 300, "scale of uint8 images (0-255), 0 to 255 (255 white)"),
        (WIDE, -1, "0 to 255"),
        (WIDE.astype(np.uint16) * 257, 70000, "0 to 65535 (65535 white)"),
        # Other integers hold 8-bit grey levels: a border of 1000 on int16 images is off their scale.
        (WIDE.astype(np.int16), 1000, "scale of int16 images with values in [10, 240], 0 to 255 (255 white)"),
        (WIDE.astype(np.int64), -1, "0 to 255"),
        (WIDE / 255.0, float("nan"), "fill_value must be a finite number"),
    ],
)
def test_a_pad_fill_off_the_images_scale_is_refused(images, fill_value, says):
    # 255 on floats in [0, 1] made a border 255 times brighter than white; 300 on uint8 became 255.
    with pytest.raises(ValueError, match=re.escape(says)):
        Resize((6, 6), mode="pad", fill_value=fill_value).fit(images)
    with pytest.raises(ValueError, match=re.escape(says)):  # transform reads each batch's own scale
        Resize((6, 6), mode="pad", fill_value=fill_value).fit(np.full((1, 6, 6), 1e3)).transform(images)
    # In their units it pads; the other modes never use the fill, so they never check it.
    kind = images.dtype.kind
    white = 1.0 if kind == "f" else float(np.iinfo(images.dtype).max) if kind == "u" else 255.0
    assert (Resize((6, 6), mode="pad", fill_value=white).fit_transform(images)[:, 0] == white).all()
    assert Resize((6, 6), fill_value=fill_value).fit_transform(images).shape[1:3] == (6, 6)
    # Floats off [0, 1] are taken as given: any border in their units.
    assert Resize((6, 6), mode="pad", fill_value=300).fit_transform(WIDE * 2.0)[0, 0, 0] == 300


def test_a_pad_fill_for_boolean_masks_is_0_or_255():
    # Masks are read as uint8 0 / 255: fill_value=True (or 1) made a border of grey level 1, not white.
    masks = WIDE > 128
    with pytest.raises(TypeError, match="is a bool: give the border's grey level"):
        Resize((6, 6), mode="pad", fill_value=True).fit(masks)
    with pytest.raises(ValueError, match="on boolean masks: .* pass 0 or 255"):
        Resize((6, 6), mode="pad", fill_value=1).fit(masks)
    with pytest.raises(ValueError, match="on boolean masks"):
        Resize((6, 6), mode="pad", fill_value=1).fit(WIDE).transform(list(masks))
    padded = Resize((6, 6), mode="pad", fill_value=255).fit_transform(masks)
    assert padded.dtype == np.uint8 and (padded[:, 0] == 255).all()


@pytest.mark.parametrize("mode", ["stretch", "crop", "pad"])
def test_a_batch_and_a_list_of_the_same_images_agree(mode):
    images = RNG.integers(0, 256, (3, 9, 14, 3), dtype=np.uint8)
    batch = Resize((5, 5), mode=mode).fit_transform(images)
    one_by_one = Resize((5, 5), mode=mode).fit_transform([*images, np.zeros((7, 7, 3), np.uint8)])[:3]
    assert batch.shape == (3, 5, 5, 3) and batch.dtype == np.uint8
    np.testing.assert_array_equal(batch, one_by_one)


def test_stretch_is_skimage_resize_and_stays_the_default():
    images = RNG.random((2, 9, 14))
    expected = np.stack([resize(im, (5, 5), order=1, anti_aliasing=True) for im in images])
    np.testing.assert_allclose(Resize((5, 5)).fit_transform(images), expected, atol=1e-12)
    assert Resize().mode == "stretch"


@pytest.mark.parametrize(
    "kwargs, match", [({"mode": "fit"}, "mode"), ({"fill_value": "white"}, "fill_value")]
)
def test_bad_resize_options_name_the_parameter(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Resize(4, **kwargs).fit(np.zeros((1, 4, 4)))


def test_a_list_or_object_array_of_mixed_sizes_is_resized():
    images = [np.full((5, 9), 3, np.uint8), np.full((8, 4), 200, np.uint8)]
    as_objects = np.empty(2, dtype=object)
    as_objects[:] = images
    for X in (images, as_objects):
        out = Resize((4, 4), mode="pad", fill_value=1).fit_transform(X)
        assert (
            out.shape == (2, 4, 4) and set(np.unique(out[0])) == {1, 3} and set(np.unique(out[1])) == {1, 200}
        )


# --------------------------------------------------------------- pandas output
@pytest.mark.parametrize("step", [Resize(4), Resize(4, mode="pad"), Grayscale()], ids=repr)
def test_image_steps_return_images_under_any_output_configuration(step):
    pytest.importorskip("pandas")
    from sklearn import config_context

    images = RNG.integers(0, 256, (2, 6, 6, 3), dtype=np.uint8)
    expected = step.fit_transform(images)
    for output in ("default", "pandas"):
        np.testing.assert_array_equal(step.set_output(transform=output).fit_transform(images), expected)
        np.testing.assert_array_equal(step.transform(images), expected)
    with config_context(transform_output="pandas"):
        np.testing.assert_array_equal(step.fit_transform(images), expected)
    with pytest.raises(ValueError, match="transform must be one of"):
        step.set_output(transform="arrow")


@pytest.mark.parametrize(
    ("shape", "size"),
    [
        ((300, 400, 3), (64, 64)),  # a photo to a thumbnail: both axes shrink, by different factors
        ((301, 173), (37, 91)),  # shrinks rows, stretches columns
        ((90, 60, 3), (45, 30)),  # exactly twice
        ((500, 7), (5, 7)),  # one axis unchanged
        ((64, 64), (1, 1)),
    ],
)
def test_shrinking_an_integer_image_equals_skimage_without_its_cost(shape, size, monkeypatch):
    # The faster route (one linear operator per axis: skimage's Gaussian and bilinear reads) must
    # give skimage's values: to 1e-12 before rounding, and so the same uint8 image.
    from skvision.preprocessing import _transforms

    rng = np.random.default_rng(sum(shape))
    smooth = skimage.filters.gaussian(rng.random(shape[:2]), 3) * 255
    image = np.clip(
        smooth[..., None] * rng.uniform(0.5, 1.5, shape[2:]) if len(shape) == 3 else smooth, 0, 255
    )
    image = image.astype(np.uint8)
    expected = resize(
        image.astype(np.float64), (*size, *shape[2:]), order=1, preserve_range=True, anti_aliasing=True
    )
    values = _transforms._shrink_bilinear(image, (*size, *shape[2:]), anti_aliasing=True)
    np.testing.assert_allclose(values, expected, rtol=0, atol=1e-12 * 255)
    # The rows are taken a block at a time, each with the outputs whose band meets it: blocks of one
    # to a few rows give the same values.
    for block_values in (1, 97 * int(np.prod(shape[1:]))):
        monkeypatch.setattr(_transforms, "_ROW_BLOCK_VALUES", block_values)
        blocked = _transforms._shrink_bilinear(image, (*size, *shape[2:]), anti_aliasing=True)
        np.testing.assert_allclose(blocked, expected, rtol=0, atol=1e-12 * 255)
    monkeypatch.undo()
    monkeypatch.setattr("skimage.transform.resize", None)  # the route must not call skimage
    got = resize_image(image, size).astype(int)
    rounded = np.clip(np.rint(expected), 0, 255)
    # A value within 1e-13 of a half may round the other way (bilinear halves at even factors).
    near_half = np.abs(expected - np.floor(expected) - 0.5) < 1e-9
    np.testing.assert_array_equal(got[~near_half], rounded[~near_half])
    assert np.all(np.abs(got - expected)[near_half] <= 0.5 + 1e-9)


def test_resize_names_every_channel_of_colour_images():
    colour = np.zeros((2, 16, 16, 3), dtype=np.uint8)
    names = Resize(8).fit(colour).get_feature_names_out()
    assert len(names) == Resize(8).fit_transform(colour)[0].size == 192
    assert names[:4].tolist() == ["pixel_0_0_c0", "pixel_0_0_c1", "pixel_0_0_c2", "pixel_0_1_c0"]
    assert len(Resize(8).fit(colour[..., 0]).get_feature_names_out()) == 64


def test_a_bad_image_size_names_the_parameter_the_user_passed(tmp_path):
    from skvision.datasets import load_image_folder
    from skvision.preprocessing import ImageLoader

    with pytest.raises(ValueError, match=r"^The 'image_size' parameter of ImageLoader must be a positive"):
        ImageLoader(image_size=-1).fit([tmp_path / "any.png"])
    with pytest.raises(ValueError, match=r"^image_size of load_image_folder must be a positive"):
        load_image_folder(tmp_path, image_size=0)
    with pytest.raises(ValueError, match=r"^The 'size' parameter of Resize must be a positive"):
        Resize(0).fit(np.zeros((1, 4, 4)))
