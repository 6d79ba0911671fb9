import os
import re
import warnings

import numpy as np
import pytest
from PIL import Image

from skvision.datasets import load_image_folder
from skvision.preprocessing._loader import ImageReadError
from tests.preprocessing.test_loader import png_with_header_only

RNG = np.random.default_rng(0)


def make_folder(root, sizes=((12, 10),) * 3, colour=False):
    """root/<cat|dog>/ with PNG, JPEG-named-.jpeg and TIFF files; returns the pixel arrays by path."""
    pixels = {}
    for label in ("cat", "dog"):
        (root / label).mkdir(parents=True)
        for i, (size, suffix) in enumerate(zip(sizes, (".png", ".tif", ".png"))):
            shape = (*size, 3) if colour else size
            array = RNG.integers(0, 256, shape, dtype=np.uint8)
            path = root / label / f"{i}{suffix}"
            Image.fromarray(array).save(path)
            pixels[str(path)] = array
    return pixels


def test_reads_classes_labels_and_pixels(tmp_path):
    pixels = make_folder(tmp_path)
    (tmp_path / "README.txt").write_text("top-level files are ignored")
    data = load_image_folder(tmp_path)
    assert data.target_names.tolist() == ["cat", "dog"]
    assert data.target.tolist() == [0, 0, 0, 1, 1, 1]
    assert data.images.shape == (6, 12, 10) and data.images.dtype == np.uint8
    for image, name in zip(data.images, data.filenames):
        np.testing.assert_array_equal(image, pixels[name])
    assert "2 classes" in data.DESCR
    images, target = load_image_folder(tmp_path, return_X_y=True)
    np.testing.assert_array_equal(images, data.images)


def test_jpeg_files_are_read(tmp_path):
    (tmp_path / "a").mkdir()
    Image.fromarray(np.full((8, 8, 3), 128, dtype=np.uint8)).save(tmp_path / "a" / "x.JPG")
    data = load_image_folder(tmp_path)
    assert data.images.shape == (1, 8, 8, 3) and abs(int(data.images.mean()) - 128) <= 2


def test_parallel_reading_gives_the_same_result(tmp_path):
    make_folder(tmp_path, colour=True)
    one = load_image_folder(tmp_path, n_jobs=1)
    two = load_image_folder(tmp_path, n_jobs=2)
    np.testing.assert_array_equal(one.images, two.images)
    np.testing.assert_array_equal(one.filenames, two.filenames)


@pytest.mark.parametrize("n_jobs", [0, 1.5, True, "2"])
def test_n_jobs_that_means_nothing_is_refused_by_name(tmp_path, n_jobs):
    # n_jobs=0 read the folder serially without a word (joblib's meaning: nothing).
    from skvision.preprocessing._loader import read_images

    make_folder(tmp_path)
    with pytest.raises((ValueError, TypeError), match="n_jobs must be None"):
        load_image_folder(tmp_path, n_jobs=n_jobs)
    with pytest.raises((ValueError, TypeError), match="n_jobs must be None"):
        read_images(sorted(str(p) for p in tmp_path.rglob("*.png")), n_jobs=n_jobs)


def test_a_class_of_grey_files_among_colour_ones_is_named(tmp_path):
    # One class saved as grey files, the other as colour (the same noise): a colour histogram
    # scored 1.0 and grey pixels 0.94 from the file mode alone, without a word.
    rng = np.random.default_rng(0)
    for name, mode in (("a", "RGB"), ("b", "L")):
        (tmp_path / name).mkdir()
        for i in range(6):
            colour = Image.fromarray(rng.integers(0, 256, (8, 8, 3), dtype=np.uint8))
            colour.convert(mode).save(tmp_path / name / f"{i}.png")
    with pytest.warns(UserWarning, match=r"Grey and colour files are not spread alike .* a 0 of 6, b 6 of 6"):
        data = load_image_folder(tmp_path)
    assert data.images.shape == (12, 8, 8, 3)
    # Spread alike (half of each class grey), or all of one mode: nothing to say.
    for i in range(3):
        Image.open(tmp_path / "a" / f"{i}.png").convert("L").save(tmp_path / "a" / f"{i}.png")
        Image.fromarray(rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)).save(tmp_path / "b" / f"{i}.png")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_image_folder(tmp_path)


def test_resize_and_colour_modes(tmp_path):
    make_folder(tmp_path, sizes=((12, 10), (20, 20), (9, 31)), colour=True)
    with pytest.raises(ValueError, match=r"3 sizes \(HxW\): 12x10 \(2 files, e.g. .*cat/0.png\), 20x20"):
        load_image_folder(tmp_path)
    assert load_image_folder(tmp_path, image_size=(8, 6)).images.shape == (6, 8, 6, 3)
    assert load_image_folder(tmp_path, image_size=8, color_mode="gray").images.shape == (6, 8, 8)


def test_grey_files_join_colour_ones_as_rgb(tmp_path):
    (tmp_path / "a").mkdir()
    Image.fromarray(np.full((4, 4), 9, dtype=np.uint8)).save(tmp_path / "a" / "g.png")
    Image.fromarray(np.zeros((4, 4, 3), dtype=np.uint8)).save(tmp_path / "a" / "c.png")
    data = load_image_folder(tmp_path)
    assert data.images.shape == (2, 4, 4, 3)
    assert (data.images[data.filenames.tolist().index(str(tmp_path / "a" / "g.png"))] == 9).all()


def test_corrupt_file_error_names_it_or_is_skipped(tmp_path):
    make_folder(tmp_path)
    (tmp_path / "dog" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnonsense")
    with pytest.raises(ImageReadError, match="broken.png"):
        load_image_folder(tmp_path)
    with pytest.warns(UserWarning, match="(?s)Skipped 1 file of 7 .*broken.png"):
        data = load_image_folder(tmp_path, on_error="warn")
    assert len(data.images) == 6 and not any("broken" in f for f in data.filenames)
    assert list(data.skipped_files) == [str(tmp_path / "dog" / "broken.png")]
    assert "1 bad file" in data.DESCR


def test_extensions_select_files_and_leave_the_others_out(tmp_path):
    make_folder(tmp_path)
    (tmp_path / "cat" / "notes.txt").write_text("not an image")
    data = load_image_folder(tmp_path, extensions=(".png", "TIF"))
    assert len(data.images) == 6 and data.skipped_files == {}
    assert "1 file with other extensions" in data.DESCR
    only_png = load_image_folder(tmp_path, extensions=[".PNG"])
    assert len(only_png.images) == 4
    # A folder whose files all have other endings: the warning says which endings, not "no files".
    (tmp_path / "bird").mkdir()
    (tmp_path / "bird" / "0.jpeg").write_bytes((tmp_path / "cat" / "0.png").read_bytes())
    with pytest.warns(UserWarning, match=r"Folders with no files ending in \.png are not classes: bird"):
        assert load_image_folder(tmp_path, extensions=[".png"]).target_names.tolist() == ["cat", "dog"]


def test_decompression_bomb_is_refused(tmp_path):
    make_folder(tmp_path)
    png_with_header_only(tmp_path / "cat" / "bomb.png", 60_000, 60_000)
    with pytest.raises(ImageReadError, match="bomb.png: .*decompression bomb"):
        load_image_folder(tmp_path)
    with pytest.raises(ImageReadError, match="0.png: .*exceeds max_pixels=100"):
        load_image_folder(tmp_path, max_pixels=100)


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symbolic links")
def test_symlinks_leading_out_are_not_followed_unless_asked(tmp_path):
    root, outside = tmp_path / "data", tmp_path / "elsewhere"
    make_folder(root)
    (outside / "secret").mkdir(parents=True)
    Image.fromarray(np.zeros((12, 10), dtype=np.uint8)).save(outside / "secret" / "s.png")
    Image.fromarray(np.zeros((12, 10), dtype=np.uint8)).save(outside / "x.png")
    (root / "secret").symlink_to(outside / "secret", target_is_directory=True)
    (root / "cat" / "link.png").symlink_to(outside / "x.png")
    (root / "dog" / "inside.png").symlink_to(root / "cat" / "0.png")

    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        data = load_image_folder(root)
    assert len(record) == 2 and str(record[0].message).startswith(
        "Not following 2 symbolic link(s) that lead out"
    )
    assert "link.png" in str(record[0].message) and "secret" in str(record[0].message)
    # The link inside puts a cat's image in 'dog' too: the same pixels in two classes.
    assert "1 image of" in str(record[1].message) and "cat/0.png = dog/inside.png" in str(record[1].message)
    assert data.target_names.tolist() == ["cat", "dog"]
    assert len(data.images) == 7  # the link that stays inside the folder is read
    with pytest.warns(UserWarning, match="2 images of .* are exact copies"):
        followed = load_image_folder(root, follow_symlinks=True)
    assert followed.target_names.tolist() == ["cat", "dog", "secret"] and len(followed.images) == 9


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symbolic links")
def test_no_class_folders_names_the_links_not_followed(tmp_path):
    """A split built of links to class folders kept elsewhere: "No class folders", and no word of the
    links (their warning came after that check)."""
    make_folder(tmp_path / "store")
    (tmp_path / "split").mkdir()
    for name in ("cat", "dog"):
        (tmp_path / "split" / name).symlink_to(tmp_path / "store" / name, target_is_directory=True)
    with pytest.raises(
        ValueError, match=r"No class folders in .*It holds 2 symbolic link\(s\) leading out"
    ) as info:
        load_image_folder(tmp_path / "split")
    assert "split/cat -> " in str(info.value) and "pass follow_symlinks=True to read them" in str(info.value)
    data = load_image_folder(tmp_path / "split", follow_symlinks=True)
    assert data.target_names.tolist() == ["cat", "dog"] and len(data.images) == 6


def test_image_files_at_the_top_level_are_left_out_with_a_warning(tmp_path):
    """Twenty images at the top level and one sub-folder: one class of two images, and the twenty
    left out with only a line in DESCR."""
    for i in range(20):
        Image.fromarray(np.full((8, 8), i * 10, np.uint8)).save(tmp_path / f"img{i:02d}.png")
    (tmp_path / "labels.csv").write_text("file,label\n")  # not an image: not named
    (tmp_path / "thumbnails").mkdir()
    for i in range(2):
        Image.fromarray(np.full((8, 8), i * 7, np.uint8)).save(tmp_path / "thumbnails" / f"t{i}.png")
    with pytest.warns(
        UserWarning, match=r"^20 image files at the top level of .* are left out: img00.png, "
    ) as record:
        data = load_image_folder(tmp_path)
    assert len(record) == 1 and record[0].filename == __file__
    assert "(20 in all)" in str(record[0].message) and "labels.csv" not in str(record[0].message)
    # More images at the top than in the one class folder: perhaps a class's folder given for its parent.
    assert f"(Or is {tmp_path.name!r} itself the folder of one class? Then read the folder above it.)" in str(
        record[0].message
    )
    assert data.target_names.tolist() == ["thumbnails"] and "21 files at the top level" in data.DESCR
    # No sub-folder at all: the error says where the images are.
    for path in (tmp_path / "thumbnails").iterdir():
        path.unlink()
    (tmp_path / "thumbnails").rmdir()
    with pytest.raises(
        ValueError, match=r"No class folders .* The image files at its top level \(img00.png"
    ) as info:
        load_image_folder(tmp_path)
    # New images to predict often come as such a folder: where to read them.
    assert "give their paths to skvision.preprocessing.ImageLoader or read_images" in str(info.value)


def test_missing_or_empty_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_image_folder(tmp_path / "nowhere")
    with pytest.raises(ValueError, match="No class folders"):
        load_image_folder(tmp_path)
    (tmp_path / "empty_class").mkdir()
    with pytest.raises(ValueError, match="No files in the class folders"):
        with pytest.warns(UserWarning, match="Folders with no files are not classes: empty_class"):
            load_image_folder(tmp_path)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"color_mode": "cmyk"}, "color_mode"),
        ({"on_error": "ignore"}, "on_error"),
        ({"label_mode": "categorical"}, "label_mode"),
        ({"resize_mode": "fit"}, "resize_mode"),
        ({"classes": ["cat", "cat"]}, "more than once"),
        ({"classes": []}, "classes is empty"),
        ({"image_size": (0, 3)}, "size"),
        # Clipped to 255 and 0, and NaN cast to 0 with numpy's RuntimeWarning, before.
        (
            {"fill_value": 300},
            r"fill_value of load_image_folder must be a grey level within 0-255 \(images are read as uint8\)"
            "; got 300",
        ),
        ({"fill_value": -5}, r"within 0-255.*got -5"),
        ({"fill_value": float("nan")}, r"within 0-255.*got nan"),
    ],
)
def test_bad_options(tmp_path, kwargs, match):
    make_folder(tmp_path)
    with pytest.raises(ValueError, match=match):
        load_image_folder(tmp_path, **kwargs)


@pytest.mark.parametrize("fill_value", [(255, 0, 0), "white", None, True])
def test_fill_value_of_the_wrong_type(tmp_path, fill_value):
    make_folder(tmp_path)
    with pytest.raises(TypeError, match="fill_value of load_image_folder must be a real number"):
        load_image_folder(tmp_path, image_size=(8, 8), resize_mode="pad", fill_value=fill_value)


@pytest.mark.parametrize("classes", ["cat", [1, 2], ["cat", ""], {"cat", "dog"}, frozenset({"cat"})])
def test_classes_of_the_wrong_type(tmp_path, classes):
    make_folder(tmp_path)
    with pytest.raises(TypeError, match="classes must"):
        load_image_folder(tmp_path, classes=classes)


def test_classes_as_a_set_are_refused_for_their_order_changes_from_run_to_run(tmp_path):
    """A set's order follows the salted string hash: 'cat' was label 0, 1 or 2 process to process."""
    make_folder(tmp_path)
    with pytest.raises(TypeError, match=r"got a set, whose order is not fixed: classes=sorted\(set\)"):
        load_image_folder(tmp_path, classes={"cat", "dog"})
    ordered = load_image_folder(tmp_path, classes=dict.fromkeys(["dog", "cat"]))  # a dict keeps its order
    assert list(ordered.target_names) == ["dog", "cat"]


def write_digit_folder(root, images, labels):
    for i, (image, label) in enumerate(zip(images, labels)):
        folder = root / str(label)
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(folder / f"{i:04d}.png")


def test_a_test_folder_missing_a_class_scores_right_with_the_training_classes(tmp_path):
    """The failure that motivated ``classes=``: a test folder without one class renumbered the
    labels (sorted folder names), and a model that scores ~0.9 scored ~0.1, silently."""
    from sklearn.linear_model import LogisticRegression

    from skvision.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    write_digit_folder(tmp_path / "train", X[:500], y[:500])
    test_images, test_labels = X[500:800], y[500:800]
    keep = test_labels != 0
    write_digit_folder(tmp_path / "test", test_images[keep], test_labels[keep])

    # The training split already says that its sibling numbers the classes otherwise.
    with pytest.warns(UserWarning, match=r"not those of the split beside it, .*test.* \(only here: 0\)"):
        train = load_image_folder(tmp_path / "train")
    model = LogisticRegression(max_iter=1000).fit(
        train.images.reshape(len(train.images), -1) / 255, train.target
    )
    reference = model.score(test_images[keep].reshape(keep.sum(), -1) / 255, test_labels[keep])
    assert reference > 0.8

    with pytest.warns(
        UserWarning, match=r"Classes with no images in .*test.*: 0\. Their labels stay reserved"
    ):
        test = load_image_folder(tmp_path / "test", classes=train.target_names)
    assert test.target_names.tolist() == train.target_names.tolist()
    assert model.score(test.images.reshape(len(test.images), -1) / 255, test.target) == pytest.approx(
        reference
    )

    # Without classes=: positions of the folders found, shifted by the missing class, and a warning
    # that names a class whose label moved and the two ways out.
    with pytest.warns(UserWarning, match=r"'1' is 0 here and 1 there.*classes=train.target_names.*'name'"):
        shifted = load_image_folder(tmp_path / "test")
    assert shifted.target_names.tolist() == [str(d) for d in range(1, 10)]
    assert model.score(shifted.images.reshape(len(shifted.images), -1) / 255, shifted.target) < 0.2


def test_splits_with_the_same_classes_or_name_labels_say_nothing_of_each_other(tmp_path):
    for split in ("train", "test"):
        make_folder(tmp_path / split)
    (tmp_path / "test" / "dog").rename(tmp_path / "test" / "zebra")  # positions unchanged: 0 and 1
    make_folder(tmp_path / "notes")  # not a split's name: not compared
    (tmp_path / "notes" / "cat").rename(tmp_path / "notes" / "ant")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_image_folder(tmp_path / "train")
        load_image_folder(tmp_path / "test")
    (tmp_path / "test" / "cat").rename(tmp_path / "test" / "bat")  # cat was 0; its sibling has no cat
    (tmp_path / "test" / "zebra").rename(tmp_path / "test" / "cat")  # now cat is 1 here, 0 there
    with pytest.warns(UserWarning, match=r"'cat' is 1 here and 0 there"):
        load_image_folder(tmp_path / "test")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        names = load_image_folder(tmp_path / "test", label_mode="name").target
    assert sorted(set(names)) == ["bat", "cat"]


def test_class_names_as_labels(tmp_path):
    make_folder(tmp_path)
    data = load_image_folder(tmp_path, label_mode="name")
    assert data.target.tolist() == ["cat"] * 3 + ["dog"] * 3
    assert data.target_names.tolist() == ["cat", "dog"]
    images, target = load_image_folder(tmp_path, classes=["dog", "cat"], return_X_y=True)
    assert target.tolist() == [0, 0, 0, 1, 1, 1]  # positions in the list given: dogs first
    np.testing.assert_array_equal(images[:3], data.images[3:])


def test_a_test_folder_with_an_unknown_class_warns_and_leaves_it_out(tmp_path):
    make_folder(tmp_path)
    with pytest.warns(UserWarning, match=r"not in classes are left out: 'dog' \(3 files\)"):
        data = load_image_folder(tmp_path, classes=["cat"])
    assert data.target.tolist() == [0, 0, 0] and "1 folder not in classes (dog)" in data.DESCR


def test_a_folder_that_differs_from_a_class_only_in_case_or_spaces_is_pointed_at(tmp_path):
    """A test folder 'Dog' (or 'dog ') for the class 'dog' was left out, and the class said empty, with no
    word that the two were one class spelt differently."""
    make_folder(tmp_path)
    (tmp_path / "dog").rename(tmp_path / "Dog ")
    with pytest.warns(UserWarning) as caught:
        data = load_image_folder(tmp_path, classes=["cat", "dog"])
    said = " ".join(str(w.message) for w in caught)
    assert "'Dog ' (3 files)" in said and "'Dog ' differs from the class 'dog' only in case or spaces" in said
    assert data.target.tolist() == [0, 0, 0]


def test_a_folder_of_splits_read_as_classes_warns(tmp_path):
    # split/train/cats, split/test/cats: read from split/, "train" and "test" would be compared as
    # two classes without a word.
    for split in ("train", "test"):
        for label, value in (("cats", 40), ("dogs", 200)):
            folder = tmp_path / "split" / split / label
            folder.mkdir(parents=True)
            for i in range(2):
                shade = value + i + (10 if split == "test" else 0)
                Image.fromarray(np.full((6, 6), shade, np.uint8)).save(folder / f"{i}.png")
    with pytest.warns(UserWarning, match=r"named test, train, as a data set's splits.*'.*split/test'"):
        data = load_image_folder(tmp_path / "split")
    assert data.target_names.tolist() == ["test", "train"]
    # A split's own classes, and classes with nested folders of their own, raise no such warning.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert load_image_folder(tmp_path / "split" / "train").target_names.tolist() == ["cats", "dogs"]
        # "train" holding one image of its own besides its sub-folders: a class after all.
        Image.fromarray(np.full((6, 6), 90, np.uint8)).save(tmp_path / "split" / "train" / "own.png")
        assert load_image_folder(tmp_path / "split").target_names.tolist() == ["test", "train"]


def _brute_force_sets(images):
    sets, seen = [], set()
    for i in range(len(images)):
        same = [j for j in range(i, len(images)) if j not in seen and np.array_equal(images[i], images[j])]
        if len(same) > 1:
            sets.append(same)
            seen.update(same)
    return sets


@pytest.mark.parametrize("shape", [(3, 3), (9, 7, 3), (28, 28), (33, 31), (64, 64), (150, 150, 3)])
def test_identical_images_equal_a_brute_force_search(shape):
    from skvision.datasets._folder import identical_images

    rng = np.random.default_rng(0)
    images = rng.integers(0, 3 if np.prod(shape) < 20 else 256, (50, *shape), dtype=np.uint8)
    for source, copy in [(1, 5), (5, 9), (10, 11), (30, 49)]:
        images[copy] = images[source]
    # One byte apart (the last: past the whole 8-byte words, or in one the sampled hash skips).
    images[41] = images[40]
    images[41].reshape(-1)[-1] ^= 1
    assert [s.tolist() for s in identical_images(images)] == _brute_force_sets(images)
    assert identical_images(images[:1]) == [] and identical_images(images[[0, 2, 3]]) == []


def test_copies_across_classes_and_within_a_class_are_named(tmp_path):
    rng = np.random.default_rng(0)
    for name in ("cat", "dog"):
        (tmp_path / name).mkdir()
        for i in range(3):
            Image.fromarray(rng.integers(0, 256, (8, 8), dtype=np.uint8)).save(tmp_path / name / f"{i}.png")
    (tmp_path / "dog" / "again.png").write_bytes((tmp_path / "cat" / "1.png").read_bytes())
    (tmp_path / "dog" / "twice.png").write_bytes((tmp_path / "dog" / "2.png").read_bytes())
    with pytest.warns(UserWarning, match="exact cop") as record:
        data = load_image_folder(tmp_path)
    message = str(record[0].message)
    assert len(record) == 1
    assert message.startswith(f"2 images of {str(tmp_path)!r} are exact copies of others")
    assert "(2 sets of identical images, 1 in more than one class)" in message
    # The set that spans classes comes first: it also caps the scores.
    assert "e.g. cat/1.png = dog/again.png; dog/2.png = dog/twice.png." in message
    assert "copies with different labels cap them" in message
    assert (
        "Exact copies: 2 images repeat others (2 sets of identical images, 1 spanning classes)." in data.DESCR
    )
    assert len(data.images) == 8  # copies are reported, not removed
    # Each copy shares the group of the image it copies; every other image is a group of its own.
    names = [os.path.relpath(f, tmp_path) for f in data.filenames]
    group_of = dict(zip(names, data.groups.tolist()))
    assert group_of["dog/again.png"] == group_of["cat/1.png"]
    assert group_of["dog/twice.png"] == group_of["dog/2.png"]
    assert len(set(data.groups.tolist())) == 6 and data.groups.dtype == np.int64

    (tmp_path / "dog" / "again.png").unlink()
    with pytest.warns(UserWarning, match=r"^1 image of .* is an exact copy of another \(1 set") as record:
        load_image_folder(tmp_path)
    assert "cap them" not in str(record[0].message)
    (tmp_path / "dog" / "twice.png").unlink()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        alone = load_image_folder(tmp_path)
    assert "Exact copies" not in alone.DESCR
    assert alone.groups.tolist() == list(range(6))


def test_rotated_grey_tiffs_are_read_upright(tmp_path):
    """An uncompressed grey TIFF with Orientation 5-8 came out scrambled: the upright pixels poured
    into the stored shape (Pillow's memory map of a path-opened file), while PNG and LZW were right."""
    from PIL import ImageOps

    stored = np.arange(24, dtype=np.uint8).reshape(4, 6) * 10
    exif = Image.Exif()
    exif[0x0112] = 6
    (tmp_path / "scans").mkdir()
    for name, options in (("page.png", {}), ("page.tif", {}), ("page_lzw.tif", {"compression": "tiff_lzw"})):
        Image.fromarray(stored).save(tmp_path / "scans" / name, exif=exif, **options)
    reference = Image.fromarray(stored)
    reference.info["exif"] = exif.tobytes()
    upright = np.asarray(ImageOps.exif_transpose(reference))
    assert upright.shape == (6, 4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the three files are copies of one another
        data = load_image_folder(tmp_path)
    for filename, image in zip(data.filenames, data.images):
        np.testing.assert_array_equal(image, upright, err_msg=filename)


def test_class_names_in_either_unicode_form_are_one_class(tmp_path):
    """A test folder unpacked from a Mac archive names its folders decomposed (NFD); the training
    folder, typed on Linux, composed (NFC). They print alike and matched nothing: accuracy 0 with
    label_mode='name', no image with classes=, and integer labels in another order."""
    import unicodedata

    for split, form in (("train", "NFC"), ("test", "NFD")):
        for k, name in enumerate(("café", "cafz")):  # NFC: 'café' after 'cafz'; NFD: before it
            folder = tmp_path / split / unicodedata.normalize(form, name)
            folder.mkdir(parents=True)
            for i in range(2):
                Image.fromarray(np.full((4, 4), 100 * k + i, np.uint8)).save(folder / f"{i}.png")
    assert unicodedata.normalize("NFD", "café") in os.listdir(tmp_path / "test")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the two splits have the same classes: no warning
        train = load_image_folder(tmp_path / "train")
        test = load_image_folder(tmp_path / "test")
        named = load_image_folder(tmp_path / "test", label_mode="name")
        given = load_image_folder(tmp_path / "test", classes=train.target_names)
    assert train.target_names.tolist() == test.target_names.tolist() == ["cafz", "café"]  # NFC
    for data in (test, given):
        assert data.target.tolist() == train.target.tolist() == [0, 0, 1, 1]
        np.testing.assert_array_equal(data.images, train.images)
    assert set(named.target) <= set(train.target_names)
    # classes= in either form; the files are read from their folders as they are named on disk.
    nfd = [unicodedata.normalize("NFD", name) for name in train.target_names]
    data = load_image_folder(tmp_path / "train", classes=nfd)
    assert data.target_names.tolist() == ["cafz", "café"] and data.target.tolist() == [0, 0, 1, 1]
    assert all(os.path.exists(f) for f in given.filenames)


def test_two_folders_whose_names_differ_only_in_unicode_form_are_one_class(tmp_path):
    import unicodedata

    for form in ("NFC", "NFD"):
        folder = tmp_path / unicodedata.normalize(form, "café")
        try:
            folder.mkdir()
        except FileExistsError:
            pytest.skip("this file system takes the two forms for one name (macOS)")
        Image.fromarray(np.full((4, 4), 9 if form == "NFC" else 99, np.uint8)).save(folder / "0.png")
    with pytest.warns(UserWarning, match="differ only in their Unicode form .* one class: café"):
        data = load_image_folder(tmp_path)
    assert data.target_names.tolist() == ["café"] and data.target.tolist() == [0, 0]


@pytest.mark.parametrize("on_error", ["warn", "skip"])
def test_a_class_folder_of_bad_files_left_out_says_that_labels_move(tmp_path, on_error):
    """Every file of the test split's first class unreadable (HEIC photos, a failed copy): the folder
    was dropped and the classes after it renumbered, with no word of it (the check of the sibling
    split ran before the files were read)."""
    for split in ("train", "test"):
        for k, name in enumerate(("apple", "banana", "cherry")):
            folder = tmp_path / split / name
            folder.mkdir(parents=True)
            for i in range(2):
                if split == "test" and name == "apple":
                    (folder / f"{i}.heic").write_bytes(b"\x00\x00\x00\x18ftypheic" + bytes(64))
                else:
                    Image.fromarray(np.full((4, 4), 60 * k + i, np.uint8)).save(folder / f"{i}.png")
    train = load_image_folder(tmp_path / "train")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        test = load_image_folder(tmp_path / "test", on_error=on_error)
    messages = [str(w.message) for w in caught]
    assert all(w.filename == __file__ for w in caught)
    if on_error == "warn":
        assert messages.pop(0).startswith("Skipped 2 files of 6")
    assert len(messages) == 2, messages
    assert re.search(
        r"every file is a bad file are left out, and are not classes: apple \(2 bad files\)\. The labels of "
        r"the classes after them move: 'banana' is 0 here, 1 with them.*classes=train.target_names.*'name'",
        messages[0],
    )
    # The check of the split beside it sees the classes as they are once the folder is left out.
    assert re.search(
        r"not those of the split beside it.*only in 'train': apple.*'banana' is 0 here", messages[1]
    )
    assert test.target_names.tolist() == ["banana", "cherry"]
    # The fix the warnings name: the training classes keep the labels.
    with pytest.warns(UserWarning):
        fixed = load_image_folder(tmp_path / "test", on_error="skip", classes=train.target_names)
    assert fixed.target.tolist() == [1, 1, 2, 2]


def test_a_few_colour_files_among_grey_ones_are_named(tmp_path):
    """One RGB file among 29 grey ones made every image colour; a grey model then refused them all,
    naming no file."""
    rng = np.random.default_rng(0)
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        for i in range(5):
            Image.fromarray(rng.integers(0, 256, (8, 8), dtype=np.uint8)).save(tmp_path / name / f"{i}.png")
    Image.fromarray(rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)).save(tmp_path / "b" / "odd.png")
    said = r"(?s)1 file of 11 is colour among grey ones.*odd\.png: colour.*'gray'"
    with pytest.warns(UserWarning, match=said):
        data = load_image_folder(tmp_path)
    assert data.images.shape == (11, 8, 8, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert load_image_folder(tmp_path, color_mode="gray").images.shape == (11, 8, 8)
