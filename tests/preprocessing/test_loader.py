import struct
import warnings
import zlib

import numpy as np
import pytest
from PIL import Image
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils.estimator_checks import parametrize_with_checks

from skvision._images import to_grayscale
from skvision._testing import expected_failed_checks
from skvision.preprocessing import Grayscale, ImageLoader, Resize
from skvision.preprocessing._loader import ImageReadError, read_image, read_images
from skvision.preprocessing._transforms import resize_image

RNG = np.random.default_rng(0)

# ImageLoader reads file paths, so sklearn's checks that feed numbers cannot apply.
PATH_INPUT = "feeds numeric arrays; ImageLoader takes file paths"
LOADER_XFAILS = {
    "check_complex_data": PATH_INPUT,
    "check_estimator_sparse_array": PATH_INPUT,
    "check_estimator_sparse_matrix": PATH_INPUT,
    "check_estimator_sparse_tag": PATH_INPUT,
    "check_fit1d": PATH_INPUT,
    "check_fit2d_predict1d": PATH_INPUT,
    "check_requires_y_none": PATH_INPUT,
    "check_n_features_in_after_fitting": PATH_INPUT,
}


@parametrize_with_checks(
    [ImageLoader()], expected_failed_checks=lambda est: expected_failed_checks(est, LOADER_XFAILS)
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


def png_with_header_only(path, width, height):
    """A PNG that claims width x height pixels but holds almost no data (a bomb's header)."""

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )
    return path


@pytest.mark.parametrize("suffix", [".png", ".tif"])
def test_lossless_formats_round_trip(tmp_path, suffix):
    rgb = RNG.integers(0, 256, (9, 7, 3), dtype=np.uint8)
    grey = RNG.integers(0, 256, (9, 7), dtype=np.uint8)
    Image.fromarray(rgb).save(tmp_path / f"c{suffix}")
    Image.fromarray(grey).save(tmp_path / f"g{suffix}")
    np.testing.assert_array_equal(read_image(tmp_path / f"c{suffix}"), rgb)
    np.testing.assert_array_equal(read_image(tmp_path / f"g{suffix}"), grey)
    expected_grey = np.rint(to_grayscale(rgb[None])[0]).astype(np.uint8)
    np.testing.assert_array_equal(read_image(tmp_path / f"c{suffix}", color_mode="gray"), expected_grey)
    np.testing.assert_array_equal(read_image(tmp_path / f"g{suffix}", color_mode="rgb")[..., 2], grey)


def test_jpeg_is_read_close_to_the_original(tmp_path):
    smooth = np.tile(np.linspace(0, 255, 32).astype(np.uint8), (32, 1))
    Image.fromarray(smooth).save(tmp_path / "a.jpg", quality=95)
    assert np.abs(read_image(tmp_path / "a.jpg").astype(int) - smooth).mean() < 2


def test_sixteen_bit_png_is_scaled_to_uint8(tmp_path):
    values = np.array([[0, 257 * 10], [65535, 257 * 200]], dtype=np.uint16)
    Image.fromarray(values).save(tmp_path / "deep.png")
    np.testing.assert_array_equal(read_image(tmp_path / "deep.png"), [[0, 10], [255, 200]])


def test_alpha_and_palette_images_become_rgb(tmp_path):
    rgba = RNG.integers(0, 256, (4, 4, 4), dtype=np.uint8)
    Image.fromarray(rgba).save(tmp_path / "a.png")
    Image.fromarray(rgba[..., :3]).convert("P").save(tmp_path / "p.png")
    np.testing.assert_array_equal(read_image(tmp_path / "a.png"), rgba[..., :3])
    assert read_image(tmp_path / "p.png").shape == (4, 4, 3)


def test_resize_on_reading(tmp_path):
    Image.fromarray(np.full((40, 30), 90, dtype=np.uint8)).save(tmp_path / "a.png")
    out = read_image(tmp_path / "a.png", image_size=(8, 6))
    assert out.shape == (8, 6) and (out == 90).all()


@pytest.mark.parametrize(
    "content, match",
    [
        (b"not an image at all", r"not an image, or a corrupt one \(Pillow cannot identify its format\)"),
        (b"GIF89a" + b"\0" * 40, "not an image, or a corrupt one"),
        (b"", r"empty file \(0 bytes\)"),
    ],
)
def test_unreadable_file_error_names_it(tmp_path, content, match):
    path = tmp_path / "broken.png"
    path.write_bytes(content)
    with pytest.raises(ImageReadError, match=f"broken.png: {match}"):
        read_image(path)


def test_truncated_file_error_names_it(tmp_path):
    path = tmp_path / "cut.png"
    Image.fromarray(RNG.integers(0, 256, (64, 64), dtype=np.uint8)).save(path)
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(ImageReadError, match="cut.png: truncated or corrupt image data"):
        read_image(path)


def test_content_not_the_name_decides_the_format(tmp_path):
    grey = RNG.integers(0, 256, (4, 5), dtype=np.uint8)
    Image.fromarray(grey).save(tmp_path / "x.png", format="BMP")
    np.testing.assert_array_equal(read_image(tmp_path / "x.png"), grey)


def test_eps_is_never_opened(tmp_path):
    # Pillow renders EPS with Ghostscript, an external program: refused whatever is installed.
    (tmp_path / "x.eps").write_bytes(b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 4 4\n")
    with pytest.raises(ImageReadError, match="x.eps: not an image"):
        read_image(tmp_path / "x.eps")


def test_decompression_bomb_is_refused_before_decoding(tmp_path):
    bomb = png_with_header_only(tmp_path / "bomb.png", 100_000, 100_000)
    with pytest.raises(ImageReadError, match="bomb.png: .*decompression bomb"):
        read_image(bomb)
    small = png_with_header_only(tmp_path / "small.png", 200, 200)
    with pytest.raises(
        ImageReadError, match=r"small.png: image of 200x200 = 40,000 pixels exceeds max_pixels=1,000"
    ):
        read_image(small, max_pixels=1_000)


def test_missing_file_is_named(tmp_path):
    with pytest.raises(ImageReadError, match="nowhere.png: no such file"):
        read_image(tmp_path / "nowhere.png")


def write_digits(folder, n=60):
    from skvision.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    paths = []
    for i in range(n):
        path = folder / f"{i:03d}.png"
        Image.fromarray(X[i]).save(path)
        paths.append(str(path))
    return np.asarray(paths), X[:n], y[:n]


def test_loader_reads_the_same_pixels_in_parallel(tmp_path):
    paths, X, _ = write_digits(tmp_path, n=12)
    loader = ImageLoader(n_jobs=2).fit(paths)
    assert loader.color_mode_ == "gray"
    np.testing.assert_array_equal(loader.transform(paths), X)
    np.testing.assert_array_equal(ImageLoader(n_jobs=1).fit_transform(paths), X)


def test_loader_colour_mode_is_learned_in_fit(tmp_path):
    Image.fromarray(np.zeros((5, 5, 3), dtype=np.uint8)).save(tmp_path / "c.png")
    Image.fromarray(np.full((5, 5), 77, dtype=np.uint8)).save(tmp_path / "g.png")
    loader = ImageLoader().fit([tmp_path / "c.png", tmp_path / "g.png"])
    assert loader.color_mode_ == "rgb"
    with pytest.warns(UserWarning, match="1 file of 1 is grey, read as colour"):
        assert loader.transform([tmp_path / "g.png"]).shape == (1, 5, 5, 3)
    assert ImageLoader(color_mode="gray").fit_transform([tmp_path / "c.png"]).shape == (1, 5, 5)


def test_loader_in_a_cross_validated_pipeline_over_paths(tmp_path):
    paths, _, y = write_digits(tmp_path, n=60)
    pipe = make_pipeline(
        ImageLoader(),
        FunctionTransformer(lambda a: a.reshape(len(a), -1) / 255.0),
        LogisticRegression(max_iter=500),
    )
    assert cross_val_score(pipe, paths, y, cv=2).mean() > 0.6


def test_loader_sizes_differ_without_image_size(tmp_path):
    Image.fromarray(np.zeros((5, 5), dtype=np.uint8)).save(tmp_path / "a.png")
    Image.fromarray(np.zeros((6, 5), dtype=np.uint8)).save(tmp_path / "b.png")
    paths = [tmp_path / "a.png", tmp_path / "b.png"]
    images = ImageLoader().fit_transform(paths)
    assert isinstance(images, list) and [im.shape for im in images] == [(5, 5), (6, 5)]
    assert ImageLoader(image_size=4).fit_transform(paths).shape == (2, 4, 4)


def test_loader_skip_option_warns_and_leaves_the_file_out(tmp_path):
    Image.fromarray(np.zeros((5, 5), dtype=np.uint8)).save(tmp_path / "a.png")
    (tmp_path / "bad.png").write_bytes(b"garbage")
    paths = [tmp_path / "a.png", tmp_path / "bad.png"]
    with pytest.raises(ImageReadError, match="bad.png"):
        ImageLoader().fit(paths)
    with pytest.warns(UserWarning, match="(?s)Skipped 1 file of 2 .*bad.png: not an image") as record:
        loader = ImageLoader(on_error="warn")
        assert loader.fit_transform(paths).shape == (1, 5, 5)
    assert len(record) == 1 and list(loader.skipped_files_) == [str(tmp_path / "bad.png")]


@pytest.mark.parametrize(
    "X, error, match",
    [
        ("one/path.png", TypeError, "single path"),
        ([1, 2], TypeError, r"X\[0\] is a int"),
        ([], ValueError, "empty"),
        (np.zeros((2, 8, 8)), ValueError, "1-D sequence of image file paths"),
    ],
)
def test_loader_bad_input(X, error, match):
    with pytest.raises(error, match=match):
        ImageLoader().fit(X)


@pytest.mark.parametrize("fill_value", [300, -1, float("nan")])
def test_loader_fill_value_is_a_grey_level(tmp_path, fill_value):
    paths, _, _ = write_digits(tmp_path, n=1)
    with pytest.raises(
        ValueError, match="'fill_value' parameter of ImageLoader must be a grey level within 0-255"
    ):
        ImageLoader(image_size=(8, 12), resize_mode="pad", fill_value=fill_value).fit(paths)
    with pytest.raises(ValueError, match="fill_value must be a grey level within 0-255"):
        read_image(paths[0], image_size=(8, 12), resize_mode="pad", fill_value=fill_value)


def test_loader_unfitted_and_feature_names(tmp_path):
    paths, _, _ = write_digits(tmp_path, n=2)
    with pytest.raises(NotFittedError):
        ImageLoader().transform(paths)
    assert len(ImageLoader().fit(paths).get_feature_names_out()) == 64  # one size: 8x8
    assert len(ImageLoader(image_size=(2, 3)).fit(paths).get_feature_names_out()) == 6
    Image.fromarray(np.zeros((3, 3), np.uint8)).save(tmp_path / "small.png")
    with pytest.raises(ValueError, match="different sizes in fit.*set image_size"):
        ImageLoader().fit([*paths, tmp_path / "small.png"]).get_feature_names_out()


def test_a_column_of_paths_works_inside_a_column_transformer(tmp_path):
    # ColumnTransformer hands ["path"] over as an (N, 1) DataFrame, which was refused as not 1-D.
    pd = pytest.importorskip("pandas")
    from sklearn.compose import ColumnTransformer

    from skvision import HOG

    paths, _, _ = write_digits(tmp_path, n=12)
    table = pd.DataFrame({"path": [str(p) for p in paths], "age": np.arange(12.0)})
    images = make_pipeline(ImageLoader(), HOG(pixels_per_cell=(4, 4), cells_per_block=(2, 2))).fit(paths)
    columns = ColumnTransformer(
        [
            (
                "image",
                make_pipeline(ImageLoader(), HOG(pixels_per_cell=(4, 4), cells_per_block=(2, 2))),
                ["path"],
            ),
            ("age", "passthrough", ["age"]),
        ]
    )
    features = columns.fit_transform(table)
    np.testing.assert_array_equal(features[:, :-1], images.transform(paths))
    np.testing.assert_array_equal(features[:, -1], table["age"])
    np.testing.assert_array_equal(
        ImageLoader().fit(paths).transform(np.array(paths)[:, None]), images[0].transform(paths)
    )
    with pytest.raises(
        ValueError, match=r"1-D sequence of image file paths; got DataFrame of shape \(12, 2\)"
    ):
        ImageLoader().fit(table)


def test_pandas_output_refuses_a_table_index_the_images_cannot_carry(tmp_path):
    # Under set_output("pandas") the features after ImageLoader are numbered 0..n-1; ColumnTransformer
    # lined them up with the passthrough columns by index label: a sorted table gave every row another
    # image's features, without a word.
    pd = pytest.importorskip("pandas")
    import sklearn
    from sklearn.compose import ColumnTransformer

    from skvision import HOG

    paths, _, _ = write_digits(tmp_path, n=12)
    table = pd.DataFrame({"path": [str(p) for p in paths], "id": np.arange(12.0)})
    shuffled = table.sample(frac=1, random_state=0)

    def columns():
        hog = make_pipeline(ImageLoader(), HOG(pixels_per_cell=(4, 4), cells_per_block=(2, 2)))
        return ColumnTransformer([("image", hog, ["path"]), ("id", "passthrough", ["id"])])

    truth = columns().fit_transform(table)  # numpy output: rows by position, right
    with pytest.raises(
        ValueError, match=r"indexed \d+, \d+, \d+, \.\.\., not 0\.\.11.*reset_index\(drop=True\)"
    ):
        columns().set_output(transform="pandas").fit_transform(shuffled)
    with sklearn.config_context(transform_output="pandas"), pytest.raises(ValueError, match="not 0..11"):
        columns().fit_transform(shuffled)
    with pytest.raises(ValueError, match=r"indexed 0, 2, 4, \.\.\., not 0\.\.5"):  # a train_test_split subset
        columns().set_output(transform="pandas").fit_transform(table.iloc[::2])
    # What the message says to do gives each row its own image's features.
    out = columns().set_output(transform="pandas").fit_transform(shuffled.reset_index(drop=True))
    rows = out["id__id"].to_numpy().astype(int)
    np.testing.assert_array_equal(out.to_numpy()[:, :-1], truth[rows, :-1])
    # Without pandas output the rows go by position, whatever the index.
    np.testing.assert_array_equal(
        columns().fit_transform(shuffled), truth[shuffled["id"].to_numpy().astype(int)]
    )
    assert clone(ImageLoader().set_output(transform="pandas"))._sklearn_output_config == {
        "transform": "pandas"
    }


def write_mixed_sizes(folder):
    sizes = [(12, 9), (20, 31), (9, 9), (16, 12)]
    paths = []
    for i, size in enumerate(sizes):
        paths.append(folder / f"{i}.png")
        Image.fromarray(RNG.integers(0, 256, (*size, 3), dtype=np.uint8)).save(paths[-1])
    return paths


@pytest.mark.parametrize("mode", ["stretch", "crop", "pad"])
def test_loader_without_image_size_then_resize_in_a_pipeline(tmp_path, mode):
    paths = write_mixed_sizes(tmp_path)
    pipe = make_pipeline(ImageLoader(), Resize((8, 8), mode=mode))
    out = pipe.fit_transform(paths)
    assert out.shape == (4, 8, 8, 3) and out.dtype == np.uint8
    # The same as resizing on reading, and as resizing each file's pixels.
    np.testing.assert_array_equal(out, ImageLoader(image_size=(8, 8), resize_mode=mode).fit_transform(paths))
    for image, path in zip(out, paths):
        np.testing.assert_array_equal(image, resize_image(read_image(path), (8, 8), mode=mode))


def test_loader_fit_lists_every_unreadable_header(tmp_path):
    paths, _, _ = write_digits(tmp_path, n=3)
    for name in ("x.txt", "y.png"):
        (tmp_path / name).write_bytes(b"nothing")
    with pytest.raises(
        ImageReadError, match=r"(?s)2 files of 5 .*x.txt: not an image.*y.png: not an image"
    ) as info:
        ImageLoader().fit([*paths, tmp_path / "x.txt", tmp_path / "y.png"])
    assert sorted(info.value.problems) == [str(tmp_path / "x.txt"), str(tmp_path / "y.png")]


def test_loader_skip_is_silent_but_records_the_files(tmp_path):
    import warnings

    paths, X, _ = write_digits(tmp_path, n=3)
    (tmp_path / "cut.png").write_bytes((tmp_path / "000.png").read_bytes()[:60])
    loader = ImageLoader(on_error="skip")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = loader.fit_transform([*paths, tmp_path / "cut.png"])
    np.testing.assert_array_equal(out, X[:3])
    assert list(loader.skipped_files_) == [str(tmp_path / "cut.png")]


def test_pipeline_from_paths_to_a_dataframe_of_descriptor_features(tmp_path):
    pd = pytest.importorskip("pandas")
    from sklearn.preprocessing import StandardScaler

    from skvision.descriptors import HOG, LBP

    paths = write_mixed_sizes(tmp_path)
    for descriptor in (LBP(), HOG()):
        pipe = make_pipeline(ImageLoader(), Resize((32, 32)), Grayscale(), descriptor, StandardScaler())
        expected = pipe.fit_transform(paths)
        frame = pipe.set_output(transform="pandas").fit_transform(paths)
        assert isinstance(frame, pd.DataFrame)
        assert frame.columns.tolist() == pipe[-2].get_feature_names_out().tolist()
        np.testing.assert_allclose(frame.to_numpy(), expected)
        # With one size on reading, the pipeline names its columns too.
        pipe.set_params(imageloader__image_size=(40, 40))
        assert pipe.fit_transform(paths).columns.tolist() == pipe.get_feature_names_out().tolist()


def test_loader_returns_images_under_pandas_output(tmp_path):
    pytest.importorskip("pandas")
    from sklearn import config_context

    paths, X, _ = write_digits(tmp_path, n=3)
    np.testing.assert_array_equal(ImageLoader().set_output(transform="pandas").fit_transform(paths), X)
    with config_context(transform_output="pandas"):
        np.testing.assert_array_equal(ImageLoader(image_size=8).fit_transform(paths), X)


def test_exif_orientation_is_applied_and_known_from_the_header(tmp_path):
    image = Image.fromarray(RNG.integers(0, 256, (4, 6, 3), dtype=np.uint8))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise on display
    image.save(tmp_path / "r.jpg", exif=exif, quality=95)
    loader = ImageLoader().fit([tmp_path / "r.jpg"])
    assert loader.image_shape_ == (6, 4) and loader.transform([tmp_path / "r.jpg"]).shape == (1, 6, 4, 3)


# Bit depth: one /257 rule for unsigned 16-bit files, a warning when it leaves few grey levels,
# and no 32-bit or floating-point file read as if it were 16-bit.


def save_16bit(path, values):
    Image.fromarray(np.asarray(values, dtype=np.uint16)).save(path)
    with Image.open(path) as image:  # 'I;16' since Pillow 10.3, 'I' before (both 16-bit)
        assert image.mode in {"I;16", "I"}, image.mode
    return path


def by_257(values):
    return np.rint(np.asarray(values, dtype=np.float64) / 257).astype(np.uint8)


def test_twelve_bit_data_in_16bit_pngs_warns_once_and_keeps_the_257_rule(tmp_path):
    twelve_bit = [RNG.integers(0, 4096, (6, 5)) for _ in range(7)]
    twelve_bit[0][0, 0] = 4095  # the largest 12-bit value is still "12-bit data"
    paths = [save_16bit(tmp_path / f"{i}.png", x) for i, x in enumerate(twelve_bit)]
    loader = ImageLoader(n_jobs=2).fit(paths)  # files decoded in workers, one warning from the caller
    with pytest.warns(UserWarning) as record:
        images = loader.transform(paths)
    assert len(record) == 1 and record[0].filename == __file__  # points at the user's line
    message = str(record[0].message)
    assert message.startswith("All 7 16-bit files read hold values only up to 4095 (12-bit data")
    assert "at most 17 grey levels" in message and "x >> 4 for 12-bit data" in message
    assert (
        f"{paths[0]}: values up to 4095" in message and "... and 2 more" in message
    )  # 5 named, then a count
    np.testing.assert_array_equal(images, [by_257(x) for x in twelve_bit])
    assert images.max() <= 16  # what the warning is about


def test_8bit_values_in_a_16bit_file_warn_and_come_out_nearly_black(tmp_path):
    path = save_16bit(tmp_path / "eight.png", np.linspace(0, 240, 30).reshape(5, 6))
    with pytest.warns(
        UserWarning, match=r"(?s)^The 16-bit file holds values only up to 4095.*eight.png: values up to 240\n"
    ):
        image = read_image(path)
    np.testing.assert_array_equal(image, by_257(np.linspace(0, 240, 30).reshape(5, 6)))
    assert set(np.unique(image)) == {0, 1}


def test_only_the_low_range_16bit_files_of_a_read_are_named(tmp_path):
    low = save_16bit(tmp_path / "low.png", RNG.integers(0, 4096, (4, 4)))
    full = save_16bit(tmp_path / "full.png", RNG.integers(0, 65536, (4, 4)))
    eight = tmp_path / "eight.png"
    Image.fromarray(RNG.integers(0, 16, (4, 4), dtype=np.uint8)).save(eight)  # a dark 8-bit file: fine
    with pytest.warns(UserWarning, match=r"^1 of the 2 16-bit files read hold") as record:
        read_images([low, full, eight])
    assert (
        len(record) == 1 and "low.png" in str(record[0].message) and "full.png" not in str(record[0].message)
    )


def save_16bit_colour_png(path, values, colour_type=2):
    """A 16-bit PNG of (H, W, C) values (colour type 2: RGB, 4: grey + alpha); Pillow cannot write one."""

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    values = np.asarray(values, dtype=">u2")
    height, width = values.shape[:2]
    rows = b"".join(b"\0" + row.tobytes() for row in values)
    header = struct.pack(">IIBBBBB", width, height, 16, colour_type, 0, 0, 0)
    body = chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + body)
    return path


def test_twelve_bit_data_in_16bit_colour_files_warns_as_grey_files_do(tmp_path):
    import warnings

    twelve_bit = RNG.integers(0, 4096, (5, 6, 3))
    low = save_16bit_colour_png(tmp_path / "low.png", twelve_bit)
    grey_alpha = save_16bit_colour_png(tmp_path / "ga.png", twelve_bit[..., :2], colour_type=4)
    full = save_16bit_colour_png(tmp_path / "full.png", RNG.integers(0, 65536, (5, 6, 3)))
    expected = r"^2 of the 3 16-bit files read hold values only up to 4095"
    with pytest.warns(UserWarning, match=expected) as record:
        images = read_images([low, grey_alpha, full], color_mode="rgb")[0]
    message = str(record[0].message)
    assert "low.png: values up to 4095" in message and "ga.png" in message and "full.png" not in message
    # Pillow keeps each sample's high byte: what the warning is about, 12-bit data left at 0-15.
    np.testing.assert_array_equal(images[0], twelve_bit >> 8)
    assert images[:2].max() <= 15
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        read_image(full)


def write_pgm(path, values, maxval):
    values = np.asarray(values, dtype=">u2")
    path.write_bytes(f"P5\n{values.shape[1]} {values.shape[0]}\n{maxval}\n".encode() + values.tobytes())
    return path


def test_full_range_16bit_files_load_by_257_without_a_warning(tmp_path):
    import warnings

    values = RNG.integers(0, 65536, (6, 5))
    values[0, 0], values[0, 1] = 0, 65535
    png = save_16bit(tmp_path / "a.png", values)
    tif = tmp_path / "a.tif"
    Image.fromarray(values.astype(np.uint16)).save(tif)
    # A PGM of maxval 65535 opens in Pillow's 32-bit mode 'I', yet holds 16 bits: read, not refused.
    pgm = write_pgm(tmp_path / "a.pgm", values, 65535)
    with Image.open(pgm) as image:
        assert image.mode == "I"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        images = ImageLoader().fit_transform([png, tif, pgm])
        assert read_image(png)[0, 1] == 255
    np.testing.assert_array_equal(images, [by_257(values)] * 3)


def test_16bit_png_opened_in_mode_i_as_pillow_before_10_3_does(tmp_path, monkeypatch):
    from PIL import PngImagePlugin

    values = RNG.integers(0, 65536, (6, 5))
    path = save_16bit(tmp_path / "a.png", values)
    monkeypatch.setitem(PngImagePlugin._MODES, (16, 0), ("I", "I;16B"))  # Pillow < 10.3's entry
    with Image.open(path) as image:
        assert image.mode == "I"
    np.testing.assert_array_equal(read_image(path), by_257(values))


@pytest.mark.parametrize(
    "values, match",
    [
        # 0-255 in 32 bits used to come out as 0-1; values above 65535 were clipped to 255.
        (
            np.arange(30, dtype=np.int32).reshape(5, 6) * 8,
            r"32-bit or signed integer pixels \(Pillow mode 'I', from a TIFF file\)",
        ),
        (
            np.arange(30, dtype=np.int32).reshape(5, 6) * 10_000,
            r"32-bit or signed integer pixels \(Pillow mode 'I', from a TIFF file\)",
        ),
        (
            np.linspace(0, 1, 30, dtype=np.float32).reshape(5, 6),
            r"32-bit floating-point pixels \(Pillow mode 'F'\)",
        ),
    ],
    ids=["int32 0-255", "int32 beyond 16 bits", "float32"],
)
def test_32bit_tiffs_are_bad_files_not_16bit_ones(tmp_path, values, match):
    path = tmp_path / "deep.tif"
    Image.fromarray(values).save(path)
    good = save_16bit(tmp_path / "good.png", RNG.integers(0, 65536, (5, 6)))
    with pytest.raises(
        ImageReadError, match=f"deep.tif: {match} are not supported: they have no fixed range"
    ):
        read_image(path)
    # Refused from the header, so fit already names it; then on_error decides, as for any bad file.
    with pytest.raises(ImageReadError, match=f"1 file of 2 could not be read.*\n.*deep.tif: {match}"):
        ImageLoader().fit([path, good])
    with pytest.warns(UserWarning, match=f"Skipped 1 file of 2 .*\n.*deep.tif: {match}"):
        loader = ImageLoader(on_error="warn")
        images = loader.fit_transform([path, good])
    assert images.shape == (1, 5, 6) and list(loader.skipped_files_) == [str(path)]


def test_load_image_folder_warns_once_about_12bit_files(tmp_path):
    from skvision.datasets import load_image_folder

    for label in ("a", "b"):
        (tmp_path / label).mkdir()
        for i in range(2):
            save_16bit(tmp_path / label / f"{i}.png", RNG.integers(0, 4096, (4, 4)))
    with pytest.warns(UserWarning, match="All 4 16-bit files read hold values only up to 4095") as record:
        data = load_image_folder(tmp_path)
    assert len(record) == 1 and record[0].filename == __file__
    assert data.images.shape == (4, 4, 4) and data.images.max() <= 16


# Orientation: every EXIF / TIFF orientation is read upright, whatever the format, depth or compression.

#: What makes the stored pixels upright, for each EXIF orientation (the EXIF definition, by hand).
UPRIGHT = {
    1: lambda a: a,
    2: lambda a: a[:, ::-1],
    3: lambda a: a[::-1, ::-1],
    4: lambda a: a[::-1],
    5: lambda a: np.swapaxes(a, 0, 1),
    6: lambda a: np.rot90(a, -1),
    7: lambda a: np.swapaxes(a[::-1, ::-1], 0, 1),
    8: lambda a: np.rot90(a, 1),
}
ORIENTED_FILES = {
    # name: (stored pixels, save options); 16-bit pixels are expected scaled by /257
    "L.tif": (np.arange(24, dtype=np.uint8).reshape(4, 6) * 10, {}),
    "I16.tif": (np.arange(24, dtype=np.uint16).reshape(4, 6) * 2570, {}),
    "RGB.tif": (RNG.integers(0, 256, (4, 6, 3), dtype=np.uint8), {}),
    "L_lzw.tif": (np.arange(24, dtype=np.uint8).reshape(4, 6) * 10, {"compression": "tiff_lzw"}),
    "I16_lzw.tif": (np.arange(24, dtype=np.uint16).reshape(4, 6) * 2570, {"compression": "tiff_lzw"}),
    "RGB_lzw.tif": (RNG.integers(0, 256, (4, 6, 3), dtype=np.uint8), {"compression": "tiff_lzw"}),
    "L.png": (np.arange(24, dtype=np.uint8).reshape(4, 6) * 10, {}),
    "RGB.png": (RNG.integers(0, 256, (4, 6, 3), dtype=np.uint8), {}),
    # JPEG: a smooth ramp, compared within a tolerance.
    "RGB.jpg": (np.dstack([np.tile(np.linspace(0, 250, 16), (8, 1)).astype(np.uint8)] * 3), {"quality": 95}),
}


def save_oriented(path, pixels, orientation, **options):
    exif = Image.Exif()
    exif[0x0112] = orientation
    Image.fromarray(pixels).save(path, exif=exif, **options)
    return path


def open_paths():
    """The paths this process holds open (Linux), to check that a read closes its file."""
    import os

    folder = "/proc/self/fd"
    if not os.path.isdir(folder):
        pytest.skip("needs /proc/self/fd")
    paths = set()
    for fd in os.listdir(folder):
        try:
            paths.add(os.readlink(os.path.join(folder, fd)))
        except OSError:
            pass
    return paths


@pytest.mark.parametrize("orientation", range(1, 9))
@pytest.mark.parametrize("name", ORIENTED_FILES)
def test_every_orientation_is_read_upright(tmp_path, name, orientation):
    pixels, options = ORIENTED_FILES[name]
    path = save_oriented(tmp_path / name, pixels, orientation, **options)
    expected = UPRIGHT[orientation](by_257(pixels) if pixels.dtype == np.uint16 else pixels)
    loader = ImageLoader().fit([path])
    images = loader.transform([path])
    # The size fit reads from the header is the decoded one (a TIFF's used to be swapped twice).
    assert loader.image_shape_ == expected.shape[:2]
    for image in (read_image(path), images[0]):
        assert image.shape == expected.shape
        if name.endswith(".jpg"):
            assert np.abs(image.astype(int) - expected).max() <= 8
        else:
            np.testing.assert_array_equal(image, expected)
    assert str(path) not in open_paths()  # the file object the loader opened is closed


def test_a_rotated_tiff_and_an_upright_png_of_one_size_have_feature_names(tmp_path):
    tif = save_oriented(tmp_path / "photo.tif", np.zeros((2, 3, 3), np.uint8), 6)  # upright: 3 x 2
    png = tmp_path / "upright.png"
    Image.fromarray(np.zeros((3, 2, 3), np.uint8)).save(png)
    loader = ImageLoader().fit([png, tif])
    assert loader.transform([png, tif]).shape == (2, 3, 2, 3) and loader.image_shape_ == (3, 2)
    assert loader.get_feature_names_out()[-1] == "pixel_2_1_c2"


def png_with_late_exif(path, pixels, orientation):
    """A PNG whose eXIf chunk comes after the pixel data (IDAT), where Pillow finds it only on decoding."""
    save_oriented(path, pixels, orientation)
    data = path.read_bytes()
    chunks, offset = [], 8
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        chunks.append(data[offset : offset + 12 + length])
        offset += 12 + length
    exif = [c for c in chunks if c[4:8] == b"eXIf"]
    others = [c for c in chunks if c[4:8] != b"eXIf"]
    assert len(exif) == 1 and others[-1][4:8] == b"IEND"
    path.write_bytes(data[:8] + b"".join(others[:-1]) + exif[0] + others[-1])
    with Image.open(path) as image:
        assert "exif" not in image.info  # not seen at opening: after the pixels
    return path


def test_fit_reads_png_headers_without_decoding_their_pixels(tmp_path, monkeypatch):
    from PIL import PngImagePlugin

    pixels = RNG.integers(0, 256, (4, 6, 3), dtype=np.uint8)
    plain = tmp_path / "plain.png"
    Image.fromarray(pixels).save(plain)
    early = save_oriented(tmp_path / "early.png", pixels, 6)
    late = png_with_late_exif(tmp_path / "late.png", pixels, 6)
    loads = []
    original = PngImagePlugin.PngImageFile.load

    def counting_load(self, *args, **kwargs):
        loads.append(self.filename)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(PngImagePlugin.PngImageFile, "load", counting_load)
    for path, shape in ((plain, (4, 6)), (early, (6, 4)), (late, (6, 4))):
        loader = ImageLoader().fit([path])
        assert loader.image_shape_ == shape, path.name
    assert loads == []  # Image.getexif() used to decode every PNG in fit
    # The orientation of a late eXIf chunk is applied on reading too.
    np.testing.assert_array_equal(loader.transform([late])[0], np.rot90(pixels, -1))
    np.testing.assert_array_equal(read_image(plain), pixels)


def tiff_by_hand(path, data, height, width, bits, photometric):
    """An uncompressed one-strip grey TIFF with the PhotometricInterpretation given (Pillow writes none
    of MinIsWhite at 16 bits)."""
    entries = [
        (256, 3, width),
        (257, 3, height),
        (258, 3, bits),
        (259, 3, 1),  # no compression
        (262, 3, photometric),
        (273, 4, 8),  # the strip, right after the header
        (277, 3, 1),
        (278, 3, height),
        (279, 4, len(data)),
    ]
    ifd = struct.pack("<H", len(entries))
    for tag, kind, value in entries:
        packed = struct.pack("<HH", value, 0) if kind == 3 else struct.pack("<I", value)
        ifd += struct.pack("<HHI", tag, kind, 1) + packed
    path.write_bytes(b"II*\x00" + struct.pack("<I", 8 + len(data)) + data + ifd + struct.pack("<I", 0))
    return path


@pytest.mark.parametrize("bits", [8, 16])
def test_min_is_white_tiffs_are_read_with_white_as_white(tmp_path, bits):
    stored = np.array([[0, 64, 128, 255], [255, 128, 64, 0]], np.uint8)  # ink as the scanner wrote it
    data = stored.tobytes() if bits == 8 else (stored.astype("<u2") * 257).tobytes()
    path = tiff_by_hand(tmp_path / "scan.tif", data, 2, 4, bits, photometric=0)
    # Pillow inverts an 8-bit file itself; a 16-bit one came out inverted (as if it were MinIsBlack).
    np.testing.assert_array_equal(read_image(path), 255 - stored)
    normal = tiff_by_hand(tmp_path / "normal.tif", data, 2, 4, bits, photometric=1)
    np.testing.assert_array_equal(read_image(normal), stored)


@pytest.mark.parametrize(
    "name, content, format_name",
    [
        ("model.h5", b"\x89HDF\r\n\x1a\n" + bytes(200), "HDF5"),
        ("data.bufr", b"BUFR" + bytes(200), "BUFR"),
    ],
)
def test_data_files_pillow_only_identifies_are_not_images(tmp_path, name, content, format_name):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ImageReadError, match=rf"{name}: a data file \({format_name}\), not an image") as info:
        read_image(path)
    assert "floating-point" not in str(info.value)  # what they were reported as
    with pytest.raises(ImageReadError, match=rf"a data file \({format_name}\), not an image"):
        ImageLoader().fit([path])


def test_png_orientation_from_text_chunks_is_known_from_the_header(tmp_path):
    """EXIF in a 'Raw profile type exif' text chunk (ImageMagick) and XMP's tiff:Orientation: Pillow
    applies both on reading, so the size fit reads must be the rotated one too."""
    from PIL import PngImagePlugin

    exif = Image.Exif()
    exif[0x0112] = 6
    data = exif.tobytes()
    raw = PngImagePlugin.PngInfo()
    raw.add_text("Raw profile type exif", f"\nexif\n{len(data):8d}\n{data.hex()}\n")
    xmp = PngImagePlugin.PngInfo()
    xmp.add_itxt("XML:com.adobe.xmp", '<x:xmpmeta><rdf:Description tiff:Orientation="6"/></x:xmpmeta>')
    pixels = RNG.integers(0, 256, (2, 3), dtype=np.uint8)
    for name, info in (("raw.png", raw), ("xmp.png", xmp)):
        Image.fromarray(pixels).save(tmp_path / name, pnginfo=info)
        loader = ImageLoader().fit([tmp_path / name])
        assert loader.image_shape_ == (3, 2), name
        np.testing.assert_array_equal(loader.transform([tmp_path / name])[0], np.rot90(pixels, -1))


def test_bad_files_among_paths_say_what_leaving_them_out_does(tmp_path):
    """The error told users to pass on_error='skip', after which a folder's .DS_Store and ._photo0.png
    went missing from the output: predictions zipped with the paths paired .DS_Store with a label."""
    for i in range(3):
        Image.fromarray(np.full((6, 6), 40 * i, dtype=np.uint8)).save(tmp_path / f"photo{i}.png")
    (tmp_path / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    (tmp_path / "._photo0.png").write_bytes(b"\x00\x05\x16\x07")
    paths = sorted(tmp_path.iterdir())
    loader = ImageLoader().fit(paths[2:])
    with pytest.raises(ImageReadError) as raised:
        loader.transform(paths)
    message = str(raised.value)
    assert "2 of them operating-system files such as '.DS_Store'" in message
    assert "no longer line up with the paths" in message and "skipped_files_" in message
    with pytest.raises(ImageReadError, match="no longer line up with the paths"):
        ImageLoader().fit(paths)
    with pytest.warns(UserWarning, match=r"3 images come back for 5 paths: their rows.*no longer line up"):
        images = ImageLoader(on_error="warn").fit(paths[2:]).transform(paths)
    assert len(images) == 3


def test_grey_files_after_a_fit_on_colour_files_are_said(tmp_path):
    """A colour model behind ImageLoader read grey test files as colour without a word (0.77 -> 0.47)."""
    rng = np.random.default_rng(0)
    colour = [tmp_path / f"c{i}.png" for i in range(3)]
    for path in colour:
        Image.fromarray(rng.integers(0, 256, (6, 6, 3), dtype=np.uint8)).save(path)
    grey = tmp_path / "g.png"
    Image.fromarray(rng.integers(0, 256, (6, 6), dtype=np.uint8)).save(grey)
    loader = ImageLoader().fit(colour)
    with pytest.warns(UserWarning, match=r"(?s)1 file of 3 is grey, read as colour.*g\.png: grey"):
        images = loader.transform([colour[0], grey, colour[1]])
    assert images.shape == (3, 6, 6, 3) and (images[1] == images[1][..., :1]).all()
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # asked for colour, or grey all along: nothing to say
        ImageLoader(color_mode="rgb").fit(colour).transform([grey])
        ImageLoader().fit([grey]).transform([grey])
        loader.transform(colour)


def test_an_iterator_of_paths_is_refused_with_what_to_pass():
    """A generator of paths read as "got generator of shape ()"."""
    with pytest.raises(TypeError, match=r"X is an iterator \(generator\).*pass list\(X\)"):
        ImageLoader().fit(path for path in ["a.png"])


def test_a_warning_of_pillow_shows_once_per_read_not_once_per_file(tmp_path):
    # Each file's own catch_warnings block reset Python's record of the warnings shown: Pillow's
    # palette-transparency warning came once per file (800 lines for 800 files).
    rng = np.random.default_rng(0)
    paths = []
    for i in range(12):
        image = Image.fromarray(rng.integers(0, 4, (8, 8), dtype=np.uint8), mode="P")
        image.putpalette([0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0, 255])
        image.save(tmp_path / f"{i}.png", transparency=bytes([0, 0, 255, 255]))  # two: kept as bytes
        paths.append(str(tmp_path / f"{i}.png"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        images, _, _ = read_images(paths)
    assert images.shape == (12, 8, 8, 3)
    assert len([w for w in caught if "Transparency expressed in bytes" in str(w.message)]) == 1
