import numpy as np
import pytest

from skvision.datasets import load_dataset, load_digits, load_faces, load_textures


def test_digits_rescaled_from_sklearn():
    from sklearn.datasets import load_digits as sk

    data = load_digits()
    ref = sk()
    assert data.images.dtype == np.uint8 and data.images.shape == (1797, 8, 8)
    np.testing.assert_array_equal(data.images, np.rint(ref.images * 255 / 16).astype(np.uint8))
    np.testing.assert_array_equal(data.target, ref.target)


def test_faces_labels_match_skimage_order():
    X, y = load_faces(return_X_y=True)
    assert X.shape == (200, 25, 25) and X.dtype == np.uint8
    assert y[:100].tolist() == [1] * 100 and y[100:].tolist() == [0] * 100


def test_textures_are_cut_from_the_sources_and_seeded():
    import skimage.data

    data = load_textures(patch_size=20, n_per_class=4, random_state=3)
    again = load_textures(patch_size=20, n_per_class=4, random_state=3)
    np.testing.assert_array_equal(data.images, again.images)
    assert data.images.shape == (12, 20, 20)
    # Each patch occurs in its source image.
    brick = skimage.data.brick()
    patch = data.images[0]
    windows = np.lib.stride_tricks.sliding_window_view(brick, (20, 20))
    assert (windows == patch).all(axis=(2, 3)).any()
    assert list(data.target_names) == ["brick", "grass", "gravel"]


def test_textures_never_repeat_a_patch():
    # Positions drawn with replacement gave 2 identical patches of 450 at 64 px (the folder reader then
    # warned that copies make scores optimistic); the default set is unchanged by the redraw.
    from skvision.datasets._folder import identical_images

    X, _ = load_textures(patch_size=64, n_per_class=150, return_X_y=True)
    assert identical_images(X) == []
    X, _ = load_textures(patch_size=480, n_per_class=400, return_X_y=True)  # 33 x 33 positions per source
    assert identical_images(X) == []
    with pytest.raises(ValueError, match="do not fit in brick's 512x512 pixels without repeating"):
        load_textures(patch_size=510, n_per_class=10)


def test_textures_rotations_quadruple_with_same_labels():
    X, y = load_textures(patch_size=16, n_per_class=3, rotations=True, return_X_y=True)
    assert X.shape == (36, 16, 16)
    np.testing.assert_array_equal(X[9], np.rot90(X[0]))
    np.testing.assert_array_equal(y[9:18], y[:9])


@pytest.mark.parametrize(
    "kwargs, pattern",
    [
        ({"patch_size": 4}, "patch_size"),
        ({"n_per_class": 0}, "n_per_class"),
        ({"n_per_class": True}, "n_per_class must be a positive integer; got True"),  # was numpy's TypeError
        ({"rotations": "no"}, "rotations must be True or False; got 'no'"),  # "no" added the rotations
    ],
)
def test_textures_bad_parameters(kwargs, pattern):
    with pytest.raises((ValueError, TypeError), match=pattern):
        load_textures(**kwargs)


def test_unknown_dataset_name():
    with pytest.raises(ValueError, match="Unknown dataset 'mnist'"):
        load_dataset("mnist")
