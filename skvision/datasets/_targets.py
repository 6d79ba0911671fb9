"""Images with a number each: a folder of image files and a CSV of their targets (regression)."""

from __future__ import annotations

import csv
import math
import os
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

#: Header names taken for the column of file paths (else the first column).
FILE_COLUMNS = ("file", "filename", "filepath", "path", "image", "image_path")


def _columns(header, target_column, csv_path):
    """``(file column index, target column index)`` from the CSV's header row."""
    names = [name.strip() for name in header]
    if len(names) < 2:
        raise ValueError(
            f"{csv_path}: expected a header row of at least two columns, the image files and their targets "
            f"(e.g. 'file,target'); got {header!r}."
        )
    lowered = [name.lower() for name in names]
    file_index = next((lowered.index(name) for name in FILE_COLUMNS if name in lowered), 0)
    others = [i for i in range(len(names)) if i != file_index]
    if target_column is None:
        if len(others) > 1:
            raise ValueError(
                f"{csv_path} has several target columns ({', '.join(names[i] for i in others)}): a "
                "comparison scores one; name it (target_column=, or --target-column)."
            )
        return file_index, others[0]
    if target_column not in names:
        raise ValueError(
            f"target column {target_column!r} is not in {csv_path}; its columns are {', '.join(names)}."
        )
    target_index = names.index(target_column)
    if target_index == file_index:
        raise ValueError(f"target column {target_column!r} is the column of the image files in {csv_path}.")
    return file_index, target_index


def _rows(csv_path, target_column):
    """``(file names as written, float targets, CSV line numbers, the target column's name)``."""
    try:
        with open(csv_path, newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle)
            header = next(reader, None)
            if header is None:
                raise ValueError(f"{csv_path} is empty: expected a header row and one row per image.")
            file_index, target_index = _columns(header, target_column, csv_path)
            names, targets, lines, bad = [], [], [], []
            for row in reader:
                if not any(cell.strip() for cell in row):
                    continue  # a blank line
                line = reader.line_num
                if len(row) <= max(file_index, target_index):
                    bad.append(f"line {line}: {len(row)} column(s)")
                    continue
                name, text = row[file_index].strip(), row[target_index].strip()
                try:
                    value = float(text)
                except ValueError:
                    value = math.nan
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
    if bad:
        raise ValueError(
            f"{csv_path}: {len(bad)} row(s) without a file or a finite number in column {column!r}: "
            f"{_listing(bad, limit=5)}. Every image needs its target; remove those rows."
        )
    if not names:
        raise ValueError(f"{csv_path} lists no image: expected one row per image after its header.")
    return names, np.asarray(targets, dtype=np.float64), lines, column


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
    relative to ``path`` (or absolute), and a column of numbers, one row per
    image. The file column is the one named ``file``, ``filename``,
    ``filepath``, ``path``, ``image`` or ``image_path`` (any case), else the
    first; the target column is ``target_column``, else the only other one.
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
        A CSV without a header and two columns, a row without a file or a
        finite number (all named), a file listed twice, several target
        columns and no ``target_column``, images of different sizes without
        ``image_size``.
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
    names, target, lines, column = _rows(csv_path, target_column)
    files = [str(given / name) for name in names]
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
        lines_out.append(f"Left out: {len(problems)} bad file(s) and their rows.")
    return Bunch(
        images=images,
        target=target,
        target_name=column,
        filenames=filenames,
        skipped_files=problems,
        groups=copy_groups(len(images), copies),
        DESCR="\n".join(lines_out),
    )
