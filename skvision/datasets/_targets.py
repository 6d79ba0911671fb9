"""Images with a number each: a folder of image files and a CSV of their targets (regression)."""

from __future__ import annotations

import csv
import math
import os
import re
import warnings
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

from .._warnings import user_stacklevel
from ..preprocessing._loader import (
    DEFAULT_MAX_PIXELS,
    ON_ERROR,
    check_fill_value,
    read_images,
    report_bad_files,
)
from ..preprocessing._transforms import RESIZE_MODES, _check_size
from ._folder import _listing, copy_groups, identical_images

__all__ = ["load_image_targets"]

#: Header names taken for the column of file paths (any case; else the first named column).
FILE_COLUMNS = (
    "file",
    "filename",
    "file_name",
    "filepath",
    "file_path",
    "path",
    "image",
    "image_path",
    "image_file",
    "image_name",
    "img",
)
#: Delimiters a CSV's header row is tried with, in turn (Excel writes ';' where the decimal mark is ',').
_DELIMITERS = (",", ";", "\t")


def _columns(header, target_column, csv_path):
    """``(file column index, target column index)`` from the CSV's header row.

    Columns without a name are no target: pandas' ``to_csv`` index, a trailing
    comma's empty column.
    """
    names = [name.strip() for name in header]
    named = [i for i, name in enumerate(names) if name]
    if len(named) < 2:
        raise ValueError(
            f"{csv_path}: expected a header row of at least two named columns, the image files and their "
            f"targets (e.g. 'file,target'); got {header!r}."
        )
    lowered = [name.lower() for name in names]
    file_index = next((lowered.index(name) for name in FILE_COLUMNS if name in lowered), named[0])
    others = [i for i in named if i != file_index]
    if target_column is None:
        if len(others) > 1:
            raise ValueError(
                f"{csv_path} has several target columns ({', '.join(names[i] for i in others)}) beside the "
                f"files' ({names[file_index]}): a comparison scores one; name it (target_column=, or "
                "--target-column)."
            )
        return file_index, others[0]
    wanted = target_column.strip().lower()
    matches = [i for i in named if lowered[i] == wanted]
    if not matches:
        raise ValueError(
            f"target column {target_column!r} is not in {csv_path}; its columns are "
            f"{', '.join(names[i] for i in named)}."
        )
    target_index = names.index(target_column) if target_column in names else matches[0]
    if target_index == file_index:
        raise ValueError(f"target column {target_column!r} is the column of the image files in {csv_path}.")
    return file_index, target_index


def _is_number(text):
    try:
        float(text)
    except ValueError:
        return False
    return True


def _reader(handle):
    """A csv reader with the delimiter the header row uses (',' unless it splits into one cell)."""
    first = handle.readline()
    handle.seek(0)
    delimiter = next(
        (d for d in _DELIMITERS if len(next(csv.reader([first], delimiter=d), [])) > 1),
        ",",
    )
    return csv.reader(handle, delimiter=delimiter), delimiter


def _rows(csv_path, target_column, folder):
    """``(file names as written, float targets, CSV line numbers, the target column's name)``."""
    try:
        with open(csv_path, newline="", encoding="utf-8-sig") as handle:
            reader, delimiter = _reader(handle)
            header = next(reader, None)
            if header is None:
                raise ValueError(f"{csv_path} is empty: expected a header row and one row per image.")
            file_index, target_index = _columns(header, target_column, csv_path)
            if (folder / header[file_index].strip()).is_file() or _is_number(header[target_index]):
                # A file without a header: its first image was taken for the column names.
                raise ValueError(
                    f"{csv_path}'s first row ({delimiter.join(header)!r}) reads as an image and its number: "
                    "the file needs a header row naming its columns first, e.g. 'file,target'."
                )
            names, targets, lines, bad, split = [], [], [], [], []
            for row in reader:
                if not any(cell.strip() for cell in row):
                    continue  # a blank line
                line = reader.line_num
                if any(cell.strip() for cell in row[len(header) :]):
                    # 'a.png,3,5' (a decimal comma) or '1,000' read as 3 and 1 without this.
                    split.append(f"line {line}: {delimiter.join(row)!r}")
                    continue
                if len(row) <= max(file_index, target_index):
                    bad.append(f"line {line}: {len(row)} column(s)")
                    continue
                name, text = row[file_index].strip(), row[target_index].strip()
                value = float(text) if _is_number(text) else math.nan
                if not name or not math.isfinite(value):
                    bad.append(f"line {line}: {row[target_index]!r}" if name else f"line {line}: no file")
                    continue
                names.append(name)
                targets.append(value)
                lines.append(line)
    except UnicodeDecodeError as exc:
        raise ValueError(f"{csv_path} is not a UTF-8 text file (CSV): {exc}.") from None
    except csv.Error as exc:
        raise ValueError(f"{csv_path} is not a readable CSV file: {exc}.") from None
    column = header[target_index].strip()
    if split:
        raise ValueError(
            f"{csv_path}: {len(split)} row(s) hold more cells than its header's {len(header)}: "
            f"{_listing(split, limit=5)}. A number written with a comma ('3,5', '1,000') splits into two "
            "cells: write it with a decimal point and no thousands separator, or quote it."
        )
    if bad:
        decimal_commas = any(re.search(r"'-?\d+,\d+'", entry) for entry in bad)
        raise ValueError(
            f"{csv_path}: {len(bad)} row(s) without a file or a finite number in column {column!r}: "
            f"{_listing(bad, limit=5)}. Every image needs its target; remove those rows."
            + (" (Numbers need a decimal point, not a comma.)" if decimal_commas else "")
        )
    if not names:
        raise ValueError(f"{csv_path} lists no image: expected one row per image after its header.")
    return names, np.asarray(targets, dtype=np.float64), lines, column


def _on_disk(folder, name):
    """The path of ``name`` in ``folder``; a Windows path's backslashes read as separators when that
    names a file and the name as written does not."""
    path = folder / name
    if "\\" in name and os.sep != "\\" and not path.exists():
        posix = folder / name.replace("\\", "/")
        if posix.exists():
            return posix
    return path


def load_image_targets(
    path,
    targets,
    *,
    target_column=None,
    image_size=None,
    resize_mode="stretch",
    fill_value=0,
    color_mode="auto",
    on_error="raise",
    max_pixels=DEFAULT_MAX_PIXELS,
    n_jobs=None,
    verbose=0,
    return_X_y=False,
):
    """Load the images of a folder with a number each, listed in a CSV file (a regression data set).

    ``targets`` is a CSV file with a header row: a column of image files,
    relative to ``path`` (or absolute; Windows' backslashes read too), and a
    column of numbers, one row per image. Cells are separated by ``,``, or by
    ``;`` or tabs when the header row is (as spreadsheets write them where the
    decimal mark is a comma); numbers take a decimal point. The file column is
    the one named as in :data:`FILE_COLUMNS` (``file``, ``filename``,
    ``file_name``, ``path``, ``image``, ... in any case), else the first named
    column; the target column is ``target_column`` (any case), else the only
    other named column (columns without a name, pandas' index, are left out).
    Only the files listed are read, in the order of the rows; files are read as
    :func:`~skvision.datasets.load_image_folder` reads them (every format
    Pillow reads, upright by their EXIF orientation, uint8).

    Parameters
    ----------
    path : str or path-like
        The folder the CSV's file names are relative to.
    targets : str or path-like
        The CSV file.
    target_column : str or None, default=None
        The header name of the targets' column; required when the CSV has
        more than two columns.
    image_size, resize_mode, fill_value, color_mode, on_error, max_pixels, n_jobs, verbose
        As for :func:`~skvision.datasets.load_image_folder`. With ``on_error``
        'warn' or 'skip', bad files are left out with their rows.
    return_X_y : bool, default=False
        Return ``(images, target)`` instead of the Bunch.

    Returns
    -------
    data : sklearn.utils.Bunch
        ``images`` (uint8, ``(N, H, W)`` or ``(N, H, W, 3)``), ``target``
        (float64, ``(N,)``), ``filenames`` (the paths read), ``target_name``
        (the column's header), ``skipped_files`` (bad files left out, with
        their reasons), ``groups`` (the index of the first of each set of
        identical images, for group folds) and ``DESCR``.

    Raises
    ------
    ValueError
        A CSV without a header of two named columns (a first row that reads
        as an image and its number), a row without a file or a finite number,
        a row of more cells than the header (``3,5`` unquoted), all named by
        line; a file listed twice; files listed that are not in ``path`` (with
        ``on_error='raise'``); several target columns and no
        ``target_column``; images of different sizes without ``image_size``.
    FileNotFoundError
        ``path`` or ``targets`` does not exist.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import numpy as np
    >>> from PIL import Image
    >>> root = Path(tempfile.mkdtemp())
    >>> lines = ["file,brightness"]
    >>> for k in range(6):
    ...     Image.fromarray(np.full((8, 8), 40 * k, dtype=np.uint8)).save(root / f"{k}.png")
    ...     lines.append(f"{k}.png,{40 * k / 255:.3f}")
    >>> _ = (root / "targets.csv").write_text("\\n".join(lines))
    >>> data = load_image_targets(root, root / "targets.csv")
    >>> data.images.shape, data.target[:3].tolist(), data.target_name
    ((6, 8, 8), [0.0, 0.157, 0.314], 'brightness')
    """
    if on_error not in ON_ERROR:
        raise ValueError(f"on_error must be one of {ON_ERROR}; got {on_error!r}.")
    if resize_mode not in RESIZE_MODES:
        raise ValueError(f"resize_mode must be one of {RESIZE_MODES}; got {resize_mode!r}.")
    size = None if image_size is None else _check_size(image_size, owner="image_size of load_image_targets")
    fill_value = check_fill_value(fill_value, owner="fill_value of load_image_targets")
    given = Path(os.fspath(path))
    if not given.is_dir():
        raise FileNotFoundError(f"Image folder {str(given)!r} does not exist or is not a folder.")
    csv_path = Path(os.fspath(targets))
    if not csv_path.is_file():
        raise FileNotFoundError(f"Targets file {str(csv_path)!r} does not exist or is not a file.")
    names, target, lines, column = _rows(csv_path, target_column, given)
    files = [str(_on_disk(given, name)) for name in names]
    missing = [name for name, file in zip(names, files) if not os.path.lexists(file)]
    if missing and on_error == "raise":
        # Not a bad image: the CSV and the folder disagree (the wrong folder, paths relative elsewhere).
        raise ValueError(
            f"{len(missing)} of the {len(names)} files {str(csv_path)!r} lists are not in {str(given)!r}: "
            f"{_listing(missing, limit=5)}. The CSV's paths are read relative to the folder: is it the "
            "folder they are relative to? (on_error='warn' leaves out their rows.)"
        )
    seen = {}
    twice = []
    for name, file, line in zip(names, files, lines):
        key = os.path.normcase(os.path.normpath(os.path.abspath(file)))
        if key in seen:
            twice.append(f"{name} (lines {seen[key]} and {line})")
        seen.setdefault(key, line)
    if twice:
        raise ValueError(
            f"{csv_path} lists {len(twice)} file(s) twice: {_listing(twice, limit=5)}. One row per image: "
            "a copy would sit in a training and a test fold at once."
        )
    images, kept, problems = read_images(
        files,
        color_mode=color_mode,
        image_size=size,
        resize_mode=resize_mode,
        fill_value=fill_value,
        max_pixels=max_pixels,
        on_error="skip",
        n_jobs=n_jobs,
        same_size=True,
        verbose=verbose,
    )
    report_bad_files(problems, len(files), on_error)
    target = target[kept]
    filenames = np.asarray([files[i] for i in kept])
    copies = identical_images(images)
    if copies:
        differing = sum(np.ptp(target[group]) > 0 for group in copies)
        warnings.warn(
            f"{sum(len(g) - 1 for g in copies)} images of {str(given)!r} repeat others pixel for pixel "
            f"({len(copies)} sets, {differing} with different targets), e.g. "
            f"{_listing([filenames[g[0]] + ' = ' + filenames[g[1]] for g in copies], limit=3)}: keep each "
            "set in one fold (the returned groups, with GroupKFold) or remove the copies.",
            UserWarning,
            stacklevel=user_stacklevel(),
        )
    if return_X_y:
        return images, target
    lines_out = [
        f"Image folder {str(given)!r} with targets {column!r} from {str(csv_path)!r}: {len(images)} "
        f"images of {'x'.join(map(str, images.shape[1:]))} uint8; {column} from {target.min():.4g} to "
        f"{target.max():.4g} (mean {target.mean():.4g}).",
    ]
    if problems:
        absent = sum(1 for path in problems if not os.path.lexists(path))
        lines_out.append(
            f"Left out with their rows: {len(problems)} file(s)"
            + (f", {absent} of them not in the folder" if absent else "")
            + "."
        )
    return Bunch(
        images=images,
        target=target,
        target_name=column,
        filenames=filenames,
        skipped_files=problems,
        groups=copy_groups(len(images), copies),
        DESCR="\n".join(lines_out),
    )
