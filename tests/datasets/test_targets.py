"""load_image_targets: a folder of images and a CSV of their numbers (a regression data set)."""

import numpy as np
import pytest
from PIL import Image

from skvision.datasets import load_image_targets
from skvision.preprocessing import ImageReadError


def _folder(tmp_path, n=6, size=(8, 8)):
    """``n`` grey images ``k.png`` of level 30 k in ``tmp_path/imgs``."""
    (tmp_path / "imgs").mkdir()
    for k in range(n):
        Image.fromarray(np.full(size, 30 * k, dtype=np.uint8)).save(tmp_path / "imgs" / f"{k}.png")
    return tmp_path


def _csv(path, text):
    path.write_text(text)
    return path


def test_rows_give_the_order_the_targets_and_the_files(tmp_path):
    root = _folder(tmp_path)
    rows = ["brightness,path"] + [f"{30 * k / 255:.4f},imgs/{k}.png" for k in (3, 1, 4, 0)]
    # A byte-order mark from Excel, and the file column found by its name though it is not the first.
    targets = tmp_path / "t.csv"
    targets.write_bytes(("\n".join(rows) + "\n\n").encode("utf-8-sig"))
    data = load_image_targets(root, targets)
    assert data.images.shape == (4, 8, 8) and data.images.dtype == np.uint8
    np.testing.assert_array_equal(data.images[:, 0, 0], [90, 30, 120, 0])
    np.testing.assert_allclose(data.target, data.images[:, 0, 0] / 255, atol=1e-4)
    assert data.target.dtype == np.float64 and data.target_name == "brightness"
    assert [name.rsplit("/", 1)[1] for name in data.filenames] == ["3.png", "1.png", "4.png", "0.png"]
    assert "targets 'brightness'" in data.DESCR and "4 images of 8x8" in data.DESCR
    images, target = load_image_targets(root, targets, return_X_y=True)
    np.testing.assert_array_equal(target, data.target)
    # Absolute paths are taken as they are.
    _csv(targets, f"file,y\n{root / 'imgs' / '2.png'},7\n{root / 'imgs' / '5.png'},-1.5\n")
    np.testing.assert_array_equal(load_image_targets(tmp_path / "imgs", targets).target, [7.0, -1.5])


def test_the_target_column_is_named_when_there_are_several(tmp_path):
    root = _folder(tmp_path)
    targets = _csv(tmp_path / "t.csv", "file,age,weight\nimgs/0.png,3,10\nimgs/1.png,4,11\n")
    with pytest.raises(ValueError, match=r"several target columns \(age, weight\).*target_column="):
        load_image_targets(root, targets)
    np.testing.assert_array_equal(load_image_targets(root, targets, target_column="weight").target, [10, 11])
    with pytest.raises(ValueError, match=r"target column 'height' is not in .*columns are file, age, weight"):
        load_image_targets(root, targets, target_column="height")
    with pytest.raises(ValueError, match="is the column of the image files"):
        load_image_targets(root, targets, target_column="file")


@pytest.mark.parametrize(
    "text, match",
    [
        (
            "file,y\nimgs/0.png,1\nimgs/1.png,\nimgs/2.png,abc\nimgs/3.png,nan\n",
            r"3 row\(s\) .*line 3: ''.*line 4",
        ),
        ("file,y\nimgs/0.png,1\n,2\n", r"line 3: no file"),
        ("file,y\nimgs/0.png,1\nimgs/1.png\n", r"line 3: 1 column"),
        ("file\nimgs/0.png\n", "at least two named columns"),
        ("", "is empty"),
        ("file,y\n", "lists no image"),
        (
            "file,y\nimgs/0.png,1\n./imgs/0.png,2\n",
            r"lists 1 file\(s\) twice: \./imgs/0\.png \(lines 2 and 3\)",
        ),
    ],
)
def test_rows_that_cannot_be_used_are_named(tmp_path, text, match):
    root = _folder(tmp_path)
    with pytest.raises(ValueError, match=match):
        load_image_targets(root, _csv(tmp_path / "t.csv", text))


def test_bad_files_follow_on_error_and_leave_their_rows_out(tmp_path):
    root = _folder(tmp_path)
    (root / "imgs" / "note.png").write_text("not an image")
    targets = _csv(
        tmp_path / "t.csv", "file,y\nimgs/0.png,0\nimgs/note.png,5\nimgs/gone.png,6\nimgs/2.png,2\n"
    )
    # A file not in the folder is the CSV and the folder disagreeing, not a bad image.
    with pytest.raises(
        ValueError, match=r"1 of the 4 files .* lists are not in .*: imgs/gone.png\. .*relative to"
    ):
        load_image_targets(root, targets)
    with pytest.raises(ImageReadError, match="1 file of 3 could not be read"):
        load_image_targets(
            root, _csv(tmp_path / "t3.csv", "file,y\nimgs/0.png,0\nimgs/note.png,5\nimgs/2.png,2\n")
        )
    with pytest.warns(UserWarning, match="Skipped 2 files of 4"):
        data = load_image_targets(root, targets, on_error="warn")
    np.testing.assert_array_equal(data.target, [0, 2])  # each image keeps its own number
    np.testing.assert_array_equal(data.images[:, 0, 0], [0, 60])
    assert set(data.skipped_files) == {str(root / "imgs" / "note.png"), str(root / "imgs" / "gone.png")}
    assert "Left out with their rows: 2 file(s), 1 of them not in the folder." in data.DESCR
    with pytest.raises(FileNotFoundError, match="Targets file"):
        load_image_targets(root, tmp_path / "missing.csv")


def test_copies_are_grouped_and_sizes_must_agree(tmp_path):
    root = _folder(tmp_path)
    Image.fromarray(np.full((8, 8), 30, dtype=np.uint8)).save(root / "imgs" / "copy.png")
    targets = _csv(tmp_path / "t.csv", "file,y\nimgs/1.png,1\nimgs/2.png,2\nimgs/copy.png,1.5\n")
    with pytest.warns(
        UserWarning, match=r"1 images of .* repeat others pixel for pixel \(1 sets, 1 with different"
    ):
        data = load_image_targets(root, targets)
    assert data.groups.tolist() == [0, 1, 0]
    Image.fromarray(np.zeros((5, 9), dtype=np.uint8)).save(root / "imgs" / "wide.png")
    targets = _csv(tmp_path / "t.csv", "file,y\nimgs/1.png,1\nimgs/wide.png,2\n")
    with pytest.raises(ValueError, match="different sizes"):
        load_image_targets(root, targets)
    assert load_image_targets(root, targets, image_size=(4, 4)).images.shape == (2, 4, 4)


@pytest.mark.parametrize(
    "text, match",
    [
        # Unquoted decimal commas and thousands separators split a number into two cells: 20,9 read as 20.
        (
            "file,y\nimgs/0.png,20,9\nimgs/1.png,2\n",
            r"1 row\(s\) hold more cells than its header's 2: line 2",
        ),
        ("file,y\nimgs/0.png,1,000\n", "decimal point and no thousands separator"),
        # No header: the first image was taken for the column names, one image lost.
        ("imgs/0.png,3\nimgs/1.png,4\n", "reads as an image and its number: the file needs a header row"),
        ("a,b\nimgs/0.png,3,5\n", "hold more cells"),
        ("file;y\nimgs/0.png;3,5\n", r"'3,5'.*\(Numbers need a decimal point, not a comma\.\)"),
    ],
)
def test_numbers_split_or_taken_for_a_header_are_refused(tmp_path, text, match):
    root = _folder(tmp_path)
    with pytest.raises(ValueError, match=match):
        load_image_targets(root, _csv(tmp_path / "t.csv", text))


def test_csv_as_spreadsheets_and_pandas_write_them(tmp_path):
    root = _folder(tmp_path)
    for text in (
        "file;y\r\nimgs/1.png;1.5\r\nimgs/2.png;2\r\n",  # Excel in a locale of decimal commas
        "file\ty\nimgs/1.png\t1.5\nimgs/2.png\t2\n",  # tabs
        ",file,y\n0,imgs/1.png,1.5\n1,imgs/2.png,2\n",  # pandas' to_csv() index
        "file,y,\nimgs/1.png,1.5,\nimgs/2.png,2,\n",  # a trailing comma
        "y,file_name\n1.5,imgs/1.png\n2,imgs/2.png\n",  # Hugging Face's column name, not first
        "file,y\nimgs\\1.png,1.5\nimgs\\2.png,2\n",  # Windows' separators
    ):
        data = load_image_targets(root, _csv(tmp_path / "t.csv", text))
        np.testing.assert_array_equal(data.target, [1.5, 2.0], err_msg=text)
        np.testing.assert_array_equal(data.images[:, 0, 0], [30, 60], err_msg=text)
    both = _csv(tmp_path / "t.csv", "file,Age,Weight\nimgs/1.png,3,10\n")
    assert load_image_targets(root, both, target_column="age").target.tolist() == [3.0]  # any case
