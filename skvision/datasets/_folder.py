"""Read a labelled image folder: one sub-folder per class.

The folder is read as a user sees it in a file browser:

* every visible sub-folder of the root that holds images is a class; images in
  folders nested inside a class folder belong to that class;
* operating-system debris is neither a class nor an image: names starting with
  ``'.'`` (``.DS_Store``, ``._x.png`` resource forks, hidden folders),
  ``__MACOSX``, ``Thumbs.db``, ``desktop.ini`` and the like;
* a folder holding an skvision report (marked by :data:`REPORT_MARKER`: the
  ``skvision compare --out`` folder, put inside the data) is neither;
* every other file is tried as an image, by its content: a file that cannot be
  read is a *bad file*, handled by ``on_error`` once every file was tried.
"""

from __future__ import annotations

import os
import unicodedata
import warnings
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

from .._warnings import user_stacklevel
from .._workers import check_n_jobs
from ..preprocessing._loader import (
    COLOR_MODES,
    DEFAULT_MAX_PIXELS,
    ON_ERROR,
    check_fill_value,
    describe_problems,
    different_sizes_error,
    read_images,
    report_bad_files,
)
from ..preprocessing._transforms import RESIZE_MODES, _check_size

__all__ = ["load_image_folder", "is_debris", "REPORT_MARKER", "SPLIT_NAMES"]

#: The file that marks a folder as an skvision report (written by ``write_report`` and the
#: command): such a folder inside an image folder is not read, or its figures would become
#: images of a class of their own.
REPORT_MARKER = ".skvision-report"

#: Names (lower case) of the folders of a data set's splits, not of its classes.
SPLIT_NAMES = frozenset({"train", "training", "test", "testing", "val", "valid", "validation", "dev", "eval"})

#: Names (lower case) that operating systems and archivers leave in folders.
DEBRIS_NAMES = frozenset(
    {
        "__macosx",
        "thumbs.db",
        "ehthumbs.db",
        "ehthumbs_vista.db",
        "desktop.ini",
        "$recycle.bin",
        "system volume information",
        "@eadir",
        "icon\r",
    }
)
LABEL_MODES = ("int", "name")
#: 8-byte words of each image hashed to find candidate copies (all of them for small images);
#: only candidates are hashed whole, then compared pixel by pixel.
_SAMPLED_WORDS = 1024
#: Sets of identical images named in the warning about copies.
_LISTED_COPIES = 3
# Names listed in one warning or DESCR line before the rest are counted.
_LISTED = 10


def is_debris(name: str) -> bool:
    """True for hidden names (``'.'`` first) and the files and folders operating systems leave behind."""
    return name.startswith(".") or name.startswith("~$") or name.lower() in DEBRIS_NAMES


def _near_misses(folders, classes):
    """`` 'X' differs from the class 'x' only in case or spaces...`` for such folders, or ''.

    Examples
    --------
    >>> _near_misses(["Grass", "gravel "], ["grass", "gravel", "brick"])[:62]
    " 'Grass' differs from the class 'grass' only in case or spaces"
    >>> _near_misses(["sand"], ["grass"])
    ''
    """
    key = {name.strip().casefold(): name for name in classes}
    pairs = [(folder, key[near]) for folder in folders if (near := folder.strip().casefold()) in key]
    if not pairs:
        return ""
    (first, first_class), *rest = pairs
    others = "".join(f", {folder!r} from {name!r}" for folder, name in rest)
    return (
        f" {first!r} differs from the class {first_class!r} only in case or spaces{others}: rename "
        "the folders or pass classes as the folders spell them."
    )


def class_name(folder_name: str) -> str:
    """A class folder's name as a class name: Unicode-normalised to NFC.

    macOS writes names decomposed (NFD: ``'cafe\u0301'``), and zip and tar archives keep them
    so; Linux and Windows keep them as typed, composed (NFC: ``'caf\u00e9'``). The two print alike
    but never compare equal: a test folder unpacked from a Mac matched none of the training classes.
    """
    return unicodedata.normalize("NFC", folder_name)


def _count(n, singular, plural=None):
    """``'1 folder'``, ``'2 folders'``."""
    return f"{n} {singular if n == 1 else plural or singular + 's'}"


def _listing(names, limit=_LISTED):
    names = list(names)
    shown = ", ".join(map(str, names[:limit]))
    return f"{shown}, ... ({len(names)} in all)" if len(names) > limit else shown


def _within(path, *folders):
    """``path`` relative to the first of ``folders`` it lies in (POSIX form), else its name."""
    for folder in folders:
        try:
            return Path(path).relative_to(folder).as_posix()
        except ValueError:
            continue
    return Path(path).name


def _word_hash(words):
    """One uint64 per row of ``words``: a sum of the words times fixed odd multipliers (mod 2**64)."""
    multipliers = np.random.default_rng(0).integers(1, 2**63, words.shape[1], dtype=np.uint64) * 2 + 1
    hashes = np.empty(len(words), dtype=np.uint64)
    rows = max(1, 2**21 // max(1, words.shape[1]))  # ~16 MB of products at a time
    for start in range(0, len(words), rows):
        block = words[start : start + rows]
        hashes[start : start + rows] = (block * multipliers).sum(axis=1, dtype=np.uint64)
    return hashes


def _groups_of_equal(keys, candidates):
    """Index arrays (two or more each) of ``candidates`` whose ``keys`` are equal."""
    order = np.argsort(keys, kind="stable")
    keys, candidates = keys[order], candidates[order]
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    sizes = np.diff(np.r_[starts, len(keys)])
    return [candidates[start : start + size] for start, size in zip(starts, sizes) if size > 1]


def identical_images(images):
    """Sets of images whose every pixel is equal: a list of index arrays, two or more indices each.

    A hash of sampled 8-byte words finds the candidates, a hash of all their
    words narrows them, and a pixel-by-pixel comparison confirms each set: a few
    milliseconds for thousands of images.

    Parameters
    ----------
    images : ndarray of shape (N, ...)

    Returns
    -------
    sets : list of ndarray of int
        Ascending indices; sets ordered by their first index.

    Examples
    --------
    >>> import numpy as np
    >>> images = np.zeros((4, 3, 3), dtype=np.uint8); images[1] = 7; images[3] = 7
    >>> [s.tolist() for s in identical_images(images)]
    [[0, 2], [1, 3]]
    """
    n = len(images)
    if n < 2:
        return []
    rows = np.ascontiguousarray(images).reshape(n, -1)
    if rows.dtype != np.uint8:
        rows = rows.view(np.uint8)
    width = rows.shape[1]
    if width < 8 * 8:
        words = rows.astype(np.uint64)  # tiny images: each byte a word
    else:
        # The whole 8-byte words of each row, read in place (unaligned when the row width is not a
        # multiple of 8); the bytes past them are compared below.
        words = np.ndarray((n, width // 8), dtype=np.uint64, buffer=rows, strides=(width, 8))
    step = max(1, words.shape[1] // _SAMPLED_WORDS)
    sets = []
    for candidates in _groups_of_equal(_word_hash(words[:, ::step]), np.arange(n)):
        if step > 1:
            narrowed = _groups_of_equal(_word_hash(words[candidates]), candidates)
        else:
            narrowed = [candidates]
        for group in narrowed:
            # Equal hashes: confirmed pixel by pixel, each against the first one left.
            while len(group) > 1:
                same = (rows[group] == rows[group[0]]).all(axis=1)
                if same.sum() > 1:
                    sets.append(np.sort(group[same]))
                group = group[~same]
    return sorted(sets, key=lambda s: s[0])


def copy_groups(n_images, copies):
    """One group label per image: its own index, or the first index of its set of copies.

    Parameters
    ----------
    n_images : int
    copies : list of ndarray of int
        Sets of identical images, as :func:`identical_images` returns them.

    Returns
    -------
    groups : ndarray of shape (n_images,), int64

    Examples
    --------
    >>> copy_groups(5, [np.array([1, 3])]).tolist()
    [0, 1, 2, 1, 4]
    """
    groups = np.arange(n_images, dtype=np.int64)
    for group in copies:
        groups[group] = group[0]
    return groups


def _copies_message(given, copies, labels, filenames):
    """The warning about sets of identical images: how many, which, and why it matters."""
    across = [group for group in copies if len(set(labels[group].tolist())) > 1]
    within = [group for group in copies if len(set(labels[group].tolist())) == 1]

    def named(group):
        names = [os.path.relpath(filenames[i], given) for i in group[:3]]
        return " = ".join(names) + (" = ..." if len(group) > 3 else "")

    n_copies = sum(len(group) - 1 for group in copies)
    copies_are = f"{n_copies} images of {str(given)!r} are exact copies of others"
    if n_copies == 1:
        copies_are = f"1 image of {str(given)!r} is an exact copy of another"
    sets = f"{len(copies)} sets of identical images" if len(copies) > 1 else "1 set of identical images"
    if across:
        sets += ", in more than one class" if len(copies) == 1 else f", {len(across)} in more than one class"
    return (
        f"{copies_are} ({sets}), e.g. {'; '.join(map(named, (across + within)[:_LISTED_COPIES]))}. Copies on "
        "both sides of a cross-validation split make its scores optimistic"
        + (", and copies with different labels cap them" if across else "")
        + ": remove the copies, or keep each set in one fold (the returned groups, with StratifiedGroupKFold "
        "or compare_features(groups=...); skvision compare does this)."
    )


def _is_folder(entry) -> bool:
    """A folder, or a link to one (the listing's cached type, a stat only for links)."""
    try:
        return entry.is_dir()
    except OSError:  # a link to itself (ELOOP): not a folder; read as a file, it is a bad file
        return False


class _Scan:
    """What a walk through the folder found besides the candidate image files."""

    def __init__(self, root: Path, follow_symlinks: bool, extensions):
        self.root = root
        self.follow_symlinks = follow_symlinks
        self.extensions = extensions
        self.debris: list[Path] = []
        self.other_extensions: list[Path] = []
        self.links_out: list[str] = []
        self.link_cycles: list[str] = []
        self.reports: list[Path] = []
        self.problems: dict[str, str] = {}

    def entries(self, folder: Path):
        """Sorted entries (``os.DirEntry``) of ``folder``: no debris, no links this walk must not follow."""
        try:
            with os.scandir(folder) as listing:
                entries = sorted(listing, key=lambda entry: entry.name)
        except OSError as exc:
            self.problems[str(folder)] = f"folder cannot be read ({exc.strerror or exc})"
            return
        for entry in entries:
            if is_debris(entry.name):
                self.debris.append(Path(entry.path))
                continue
            if _is_folder(entry) and os.path.isfile(os.path.join(entry.path, REPORT_MARKER)):
                self.reports.append(Path(entry.path))
                continue
            if entry.is_symlink() and not self.follow_symlinks:
                try:
                    target = Path(entry.path).resolve()
                except (OSError, RuntimeError):  # a link to itself: reading it names the loop
                    target = None
                if target is not None and not target.is_relative_to(self.root):
                    self.links_out.append(f"{entry.path} -> {target}")
                    continue
            yield entry

    def real_folder(self, entry, ancestors):
        """The real location of a folder to enter; None for a link back to a folder above (recorded)."""
        real = Path(entry.path).resolve()
        if real in ancestors:
            self.link_cycles.append(f"{entry.path} -> {real}")
            return None
        return real

    def files(self, folder: Path, ancestors, depth=0):
        """``(path, depth)`` of every candidate image file under ``folder``, depth-first and sorted.

        ``ancestors`` holds the real paths of the folders above: a symbolic link
        back to one of them (a cycle) is not entered. A broken or looping link is
        not a folder: it is read as a file, and reported as a bad one.
        """
        for entry in self.entries(folder):
            if _is_folder(entry):
                real = self.real_folder(entry, ancestors)
                if real is not None:
                    yield from self.files(Path(entry.path), ancestors | {real}, depth + 1)
            elif self.extensions is not None and not entry.name.lower().endswith(self.extensions):
                self.other_extensions.append(Path(entry.path))
            else:
                yield Path(entry.path), depth


def split_folders(root) -> list[str]:
    """The folders of ``root`` when they are a data set's splits holding class folders, else ``[]``.

    ``data/train/cat/*.png``, ``data/test/cat/*.png``: every folder of ``data``
    is named as a split (``SPLIT_NAMES``) and holds folders but no image file
    of its own. Read from ``data``, such splits would become the classes.

    Examples
    --------
    >>> split_folders(".")  # a folder that is not a data set
    []
    """
    root = Path(root)
    try:
        with os.scandir(root) as listing:
            folders = [entry for entry in listing if not is_debris(entry.name) and _is_folder(entry)]
    except OSError:
        return []
    if not folders or any(entry.name.lower() not in SPLIT_NAMES for entry in folders):
        return []
    for folder in folders:
        try:
            with os.scandir(folder.path) as listing:
                inner = [entry for entry in listing if not is_debris(entry.name)]
        except OSError:
            return []
        files = [entry.path for entry in inner if not _is_folder(entry)]
        if not any(_is_folder(entry) for entry in inner) or _image_names(files, None):
            return []
    return sorted(entry.name for entry in folders)


def _image_names(paths, extensions):
    """The names of the files of ``paths`` that look like images by their name (not read).

    ``extensions`` when given, else the file name endings of the formats Pillow reads.
    """
    if extensions is None:
        from PIL import Image

        extensions = tuple(Image.registered_extensions())
    return [os.path.basename(path) for path in paths if os.path.basename(path).lower().endswith(extensions)]


def _sibling_split_message(given: Path, names) -> str | None:
    """A warning for a split folder whose classes sit at other label positions in a sibling split.

    ``data/test`` missing one of ``data/train``'s classes numbers the others differently:
    a model fitted on one and scored on the other is then scored against wrong labels,
    silently. Only the class-folder names of the siblings are listed (no file is read).
    """
    folder = given.resolve()
    if folder.name.lower() not in SPLIT_NAMES:
        return None
    here = {name: label for label, name in enumerate(names)}
    try:
        siblings = sorted(
            entry.path
            for entry in os.scandir(folder.parent)
            if entry.name != folder.name and entry.name.lower() in SPLIT_NAMES and _is_folder(entry)
        )
    except OSError:
        return None
    for sibling in siblings:
        try:
            with os.scandir(sibling) as listing:
                theirs = {class_name(e.name) for e in listing if _is_folder(e) and not is_debris(e.name)}
            theirs = sorted(theirs)
        except OSError:
            continue
        there = {name: label for label, name in enumerate(theirs)}
        moved = [name for name in names if name in there and there[name] != here[name]]
        if not moved:
            continue
        example = moved[0]
        only_here = sorted(set(names) - set(there))
        only_there = sorted(set(there) - set(names))
        differences = "; ".join(
            part
            for part in (
                f"only here: {_listing(only_here)}" if only_here else "",
                f"only in {Path(sibling).name!r}: {_listing(only_there)}" if only_there else "",
            )
            if part
        )
        shown = str(given.parent / Path(sibling).name)  # written as the caller wrote ``path``
        return (
            f"The classes of {str(given)!r} are not those of the split beside it, {shown!r} "
            f"({differences}): labels are positions in each folder's own list of classes, so they mean "
            f"other classes in the two ({example!r} is {here[example]} here and {there[example]} there) and "
            "scores of a model fitted on one and tested on the other would be wrong. Read both with the "
            "training split's classes, e.g. load_image_folder(test_folder, classes=train.target_names), "
            "or with label_mode='name'."
        )
    return None


def _all_bad_message(given: Path, names, keep, found, label_mode) -> str:
    """The warning for class folders left out because every file in them is a bad file."""
    dropped = [f"{name} ({len(found[name])} bad files)" for name, k in zip(names, keep) if not k]
    message = (
        f"Class folders of {str(given)!r} whose every file is a bad file are left out, and are not "
        f"classes: {_listing(dropped)}."
    )
    after = [(name, old, new) for old, (name, new) in enumerate(zip(names, np.cumsum(keep) - 1)) if keep[old]]
    moved = [(name, old, new) for name, old, new in after if old != new]
    if moved and label_mode == "int":
        name, old, new = moved[0]
        message += (
            f" The labels of the classes after them move: {name!r} is {new} here, {old} with them; a model "
            "fitted on a split that has them would be scored against wrong labels. Read this folder with "
            "the training split's classes, e.g. classes=train.target_names, or with label_mode='name'."
        )
    return message


def _check_classes(classes):
    if classes is None:
        return None
    if isinstance(classes, (str, bytes)) or not hasattr(classes, "__iter__"):
        raise TypeError(
            f"classes must be a list of class (folder) names, e.g. train.target_names; got {classes!r}."
        )
    if isinstance(classes, (set, frozenset)):
        # A set's order changes from one process to the next (string hashing is salted): the labels,
        # positions in it, would mean other classes in another run.
        raise TypeError(
            f"classes must be an ordered sequence of class (folder) names (a list or tuple: a label is a "
            f"position in it); got a {type(classes).__name__}, whose order is not fixed: "
            f"classes=sorted({type(classes).__name__}) or train.target_names."
        )
    names = [str(name) if isinstance(name, np.str_) else name for name in classes]
    bad = [name for name in names if not isinstance(name, str) or not name]
    if bad:
        raise TypeError(f"classes must hold non-empty folder names (str); got {bad[0]!r}.")
    names = [class_name(name) for name in names]  # as the folders' names are matched
    if not names:
        raise ValueError("classes is empty: expected the list of class (folder) names.")
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValueError(f"classes names {_listing(duplicates)} more than once; each class must appear once.")
    return names


def _check_extensions(extensions):
    if extensions is None:
        return None
    if isinstance(extensions, str):
        extensions = (extensions,)
    return tuple(e.lower() if e.startswith(".") else f".{e.lower()}" for e in extensions)


#: Grey shares of two classes this far apart make the file mode a feature (see _grey_by_class_message).
_GREY_SHARE_GAP = 0.5


def _grey_by_class_message(given, images, labels, names):
    """The warning for colour images of which some classes hold far more grey files than others, or None.

    Grey files read as colour are R = G = B. Where one class is mostly grey files and another mostly
    colour ones, a feature that sees colour tells the classes by how their files were saved, and grey
    descriptors see two conversions (the grey files' own, skvision's luminance for colour files).
    """
    if images.ndim != 4 or len(names) < 2:
        return None
    grey = np.empty(len(images), dtype=bool)
    for start in range(0, len(images), 256):  # bounded temporaries
        block = images[start : start + 256]
        grey[start : start + 256] = (block[..., 0] == block[..., 1]).all(axis=(1, 2)) & (
            block[..., 1] == block[..., 2]
        ).all(axis=(1, 2))
    if grey.all() or not grey.any():
        return None
    counts = np.bincount(labels, minlength=len(names))
    greys = np.bincount(labels, weights=grey, minlength=len(names)).astype(int)
    shares = np.divide(greys, counts, out=np.zeros(len(names)), where=counts > 0)
    present = counts > 0
    if shares[present].max() - shares[present].min() < _GREY_SHARE_GAP:
        return None
    listed = _listing(f"{name} {g} of {n}" for name, g, n in zip(names, greys, counts) if n)
    return (
        f"Grey and colour files are not spread alike over the classes of {str(given)!r} (grey files per "
        f"class: {listed}): a colour feature can tell the classes by how their files were saved, and grey "
        "features see two conversions (grey files keep their own, colour ones get skvision's luminance), "
        "so scores may measure the file mode. Save the files alike, or read them all as grey "
        "(color_mode='gray'; --color-mode gray in the command) and leave colour features out."
    )


def load_image_folder(
    path,
    *,
    classes=None,
    label_mode="int",
    image_size=None,
    resize_mode="stretch",
    fill_value=0,
    color_mode="auto",
    extensions=None,
    on_error="raise",
    follow_symlinks=False,
    max_pixels=DEFAULT_MAX_PIXELS,
    n_jobs=None,
    verbose=0,
    return_X_y=False,
):
    """Load a folder of images with one sub-folder per class.

    ``path/<class name>/.../<image file>``: every visible sub-folder of ``path``
    that holds images is a class, and every image inside it, in nested folders
    too (``cats/indoor/1.png`` is a cat), is one sample. Files are identified by
    their content, so every format Pillow reads is accepted (PNG, JPEG, TIFF,
    BMP, WebP, GIF, ...); animated and multi-page files give their first frame
    or page. With ``n_jobs``, files are decoded in worker processes too when
    the folder is large enough to repay them.

    Left out, and counted in ``DESCR``: operating-system debris (names starting
    with ``'.'`` such as ``.DS_Store`` and hidden folders, ``__MACOSX``,
    ``Thumbs.db``, ``desktop.ini``), files at the top level of ``path`` (a warning
    names those whose names are an image format's), and class folders with no
    file (a warning names them).

    Parameters
    ----------
    path : str or path-like
        The root folder.
    classes : sequence of str or None, default=None
        The class names, in label order: the label of an image is the position of
        its folder's name in this list, whatever folders ``path`` holds. Pass the
        training set's ``target_names`` when loading a test folder, so that labels
        mean the same in both (like torchvision's ``ImageFolder.find_classes`` and
        Keras' ``class_names``). Folders not in the list are left out with a
        warning; classes of the list with no images here keep their label, with a
        warning (scores on such a folder are still right). ``None``: the sorted
        names of the folders that hold images. A set is refused (TypeError): its
        order changes from one Python process to the next.
    label_mode : {'int', 'name'}, default='int'
        ``target`` holds label numbers (positions in ``target_names``) or the
        class names themselves.
    image_size : int, tuple of (int, int) or None, default=None
        Resize every image to ``(height, width)`` (bilinear, anti-aliased). Without
        it all images must have one size.
    resize_mode : {'stretch', 'crop', 'pad'}, default='stretch'
        How an image of another aspect ratio reaches ``image_size``: the ``mode``
        of :class:`~skvision.preprocessing.Resize` (stretch it; cut the centred
        box of the right aspect ratio; or fit it inside and pad the border).
    fill_value : float, default=0
        The border's grey level (0-255) with ``resize_mode='pad'``; another
        value raises a ValueError.
    color_mode : {'auto', 'gray', 'rgb'}, default='auto'
        'auto': grey ``(N, H, W)`` when every file is grey (grey, 1-bit and
        16-bit modes), else ``(N, H, W, 3)`` (alpha dropped, palettes expanded,
        grey files repeated). 'gray' converts colour with skvision's luminance
        weights; 'rgb' repeats grey. Unsigned 16-bit grey files are scaled by
        /257 (0-65535 to 0-255), one rule for every file so that images stay
        comparable; those whose values stay within 0-4095 (12-bit data or less)
        keep at most 17 grey levels, and one warning lists them. Files of 32-bit
        integers, signed integers or floats (a 32-bit TIFF) are bad files (see
        ``on_error``): they have no range that says which value is white.
    extensions : sequence of str or None, default=None
        ``None`` tries every file as an image. A list of file name endings
        (case-insensitive, e.g. ``('.png', '.jpg')``) reads only those and leaves
        other files out (counted in ``DESCR``).
    on_error : {'raise', 'warn', 'skip'}, default='raise'
        Bad files (not an image, empty, truncated or corrupt, unreadable, too
        large): every file is tried, then 'raise' raises one
        :class:`~skvision.preprocessing.ImageReadError` (a ValueError)
        listing every bad file with its reason (the first 20, then a count);
        'warn' leaves them out with one warning listing them; 'skip' leaves them
        out silently. Both record them in ``skipped_files``. A class folder whose
        every file is bad is left out too, with a warning whatever ``on_error``
        says: with ``classes=None`` the classes after it are renumbered.
    follow_symlinks : bool, default=False
        Read symbolic links (files or folders) that lead outside ``path``. By
        default they are left out with a warning; links that stay inside ``path``
        are always read. A link back to a folder above it (a cycle) is never
        entered, with a warning.
    max_pixels : int or None, default=89_478_485
        Files with more pixels are refused before decoding (decompression bombs).
    n_jobs : int or None, default=None
        Processes reading files, this one included (joblib's convention). The
        first files are read here and timed; workers join only when the rest
        is estimated to take long enough to repay them, so ``n_jobs`` never
        makes the read much slower than one process.
    verbose : int, default=0
        A tqdm bar over the files (on stderr) when reading lasts over a second.
    return_X_y : bool, default=False
        Return ``(images, target)`` instead of a Bunch.

    Returns
    -------
    data : Bunch
        ``images`` uint8 (N, H, W) or (N, H, W, 3); ``target`` (N,) int64 labels
        (or str with ``label_mode='name'``); ``target_names`` the class list used;
        ``filenames`` (N,) str; ``skipped_files`` dict of bad file -> reason;
        ``groups`` (N,) int64: one group per image, shared by exact copies (the
        index of the set's first image), for ``GroupKFold``-style splitters and
        :func:`~skvision.compare_features`'s ``groups``, so that no copy lands
        on both sides of a split; ``DESCR``: the images per class and everything
        left out.
        Or ``(images, target)`` with ``return_X_y=True``.

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist or is not a folder.
    ValueError
        No class folder (the message names symbolic links not followed and
        image files at the top level) or no image; bad files with ``on_error='raise'`` (all of
        them named); images of different sizes without ``image_size``.

    Warns
    -----
    UserWarning
        Class folders with no files or only bad files, image files at the top
        level, folders not in ``classes``, classes with no images, symbolic
        links not followed, bad files with ``on_error='warn'``, 16-bit files
        holding 12-bit data or less (see ``color_mode``), and
        images that are exact copies of others (the same pixels after any
        resize; a file saved twice, a link inside the folder): copies on both
        sides of a cross-validation split make its scores optimistic, and
        copies in two classes cap them. They are kept, counted in ``DESCR``,
        and share a label of ``groups``.

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np
    >>> from PIL import Image
    >>> from skvision.datasets import load_image_folder
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> for shade, label in ((0, "cats"), (20, "dogs")):
    ...     (root / label).mkdir()
    ...     for i in range(3):
    ...         pixels = np.full((10, 12, 3), 40 * i + shade, dtype=np.uint8)
    ...         Image.fromarray(pixels).save(root / label / f"{i}.png")
    >>> data = load_image_folder(root, image_size=(8, 8))
    >>> data.images.shape, data.target.tolist(), data.target_names.tolist()
    ((6, 8, 8, 3), [0, 0, 0, 1, 1, 1], ['cats', 'dogs'])

    A test folder with a class missing keeps the training labels, and says so:

    >>> import shutil, warnings
    >>> shutil.rmtree(root / "cats")
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     test = load_image_folder(root, classes=data.target_names, image_size=(8, 8))
    >>> test.target.tolist(), test.target_names.tolist()
    ([1, 1, 1], ['cats', 'dogs'])
    >>> str(caught[0].message).startswith("Classes with no images")
    True
    >>> shutil.rmtree(root)
    """
    if color_mode not in COLOR_MODES:
        raise ValueError(f"color_mode must be one of {COLOR_MODES}; got {color_mode!r}.")
    if on_error not in ON_ERROR:
        raise ValueError(f"on_error must be one of {ON_ERROR}; got {on_error!r}.")
    if label_mode not in LABEL_MODES:
        raise ValueError(f"label_mode must be one of {LABEL_MODES}; got {label_mode!r}.")
    if resize_mode not in RESIZE_MODES:
        raise ValueError(f"resize_mode must be one of {RESIZE_MODES}; got {resize_mode!r}.")
    size = None if image_size is None else _check_size(image_size, owner="image_size of load_image_folder")
    fill_value = check_fill_value(fill_value, owner="fill_value of load_image_folder")
    n_jobs = check_n_jobs(n_jobs)
    wanted = _check_classes(classes)
    given = Path(os.fspath(path))
    if not given.is_dir():
        raise FileNotFoundError(f"Image folder {str(given)!r} does not exist or is not a folder.")
    root = given.resolve()
    scan = _Scan(root, follow_symlinks, _check_extensions(extensions))

    # Class folders and their files, as a file browser shows them.
    found, spellings, top_level_files = {}, {}, []
    for entry in scan.entries(given):
        if not _is_folder(entry):
            top_level_files.append(entry.path)
            continue
        real = scan.real_folder(entry, {root})
        if real is not None:
            # Classes go by their NFC names; the files keep their paths on disk.
            name = class_name(entry.name)
            spellings.setdefault(name, []).append(entry.name)
            found.setdefault(name, []).extend(scan.files(Path(entry.path), {root, real}))
    found = dict(sorted(found.items()))  # label order: the sorted NFC names, whichever form is on disk
    if not found:
        hints = ""
        if scan.links_out:
            # Class folders linked from elsewhere (a split built without copying) are such links.
            hints += (
                f" It holds {len(scan.links_out)} symbolic link(s) leading out of it, not followed: "
                f"{_listing(scan.links_out)}; pass follow_symlinks=True to read them."
            )
        images = _image_names(top_level_files, scan.extensions)
        if images:
            hints += (
                f" The image files at its top level ({_listing(images)}) are in no class folder. To "
                "read images without classes (new images to predict), give their paths to "
                "skvision.preprocessing.ImageLoader or read_images, e.g. sorted(Path(folder).glob('*.jpg'))."
            )
        raise ValueError(
            f"No class folders in {str(given)!r}: expected one sub-folder per class, each "
            "holding that class's images." + hints
        )
    messages = []
    if scan.links_out:
        messages.append(
            f"Not following {len(scan.links_out)} symbolic link(s) that lead out of {root}: "
            f"{_listing(scan.links_out)}; pass follow_symlinks=True to read them."
        )
    if scan.link_cycles:
        messages.append(
            f"Not entering {len(scan.link_cycles)} symbolic link(s) to a folder above them "
            f"(a cycle): {_listing(scan.link_cycles)}."
        )
    top_level_images = _image_names(top_level_files, scan.extensions)
    if top_level_images:
        messages.append(
            (
                f"{len(top_level_images)} image files at the top level of {str(given)!r} are left out: "
                if len(top_level_images) > 1
                else f"1 image file at the top level of {str(given)!r} is left out: "
            )
            + f"{_listing(top_level_images)}. Only the files inside class folders are read, one sub-folder "
            "per class; move these into the folders of their classes."
            + (
                # imgs/grass given for imgs: its nested/ read as the one class, its own images left out.
                f" (Or is {given.name!r} itself the folder of one class? Then read the folder above it.)"
                if len(found) == 1 and len(top_level_images) > sum(map(len, found.values()))
                else ""
            )
        )
    merged = [name for name, names in spellings.items() if len(names) > 1]
    if merged:
        messages.append(
            f"Folders of {str(given)!r} whose names differ only in their Unicode form (composed and "
            f"decomposed accents) are read as one class: {_listing(merged)}."
        )
    empty = [name for name, files in found.items() if not files]
    ignored = {}
    if wanted is None:
        names = [name for name, files in found.items() if files]
        if empty:
            if scan.extensions is None:
                messages.append(f"Folders with no files are not classes: {_listing(empty)}.")
            else:
                messages.append(
                    f"Folders with no files ending in {', '.join(scan.extensions)} are not classes: "
                    f"{_listing(empty)}."
                )
    else:
        names = wanted
        ignored = {name: len(files) for name, files in found.items() if files and name not in wanted}
        if ignored:
            listed = _listing(f"{name!r} ({n} files)" for name, n in ignored.items())
            messages.append(
                f"Folders of {str(given)!r} not in classes are left out: {listed}."
                + _near_misses(ignored, [name for name in wanted if not found.get(name)])
            )
    for message in messages:
        warnings.warn(message, UserWarning, stacklevel=user_stacklevel())

    files, labels, depths = [], [], []
    for label, name in enumerate(names):
        for file, depth in found.get(name, ()):
            files.append(file)
            labels.append(label)
            depths.append(depth)
    if not files:
        raise ValueError(
            f"No files in the class folders of {str(given)!r}"
            + (f" named in classes ({_listing(names)})." if wanted is not None else ".")
        )
    # Every file is tried first; then the bad ones (unreadable folders too) are reported at once.
    images, kept, read_problems = read_images(
        files,
        color_mode=color_mode,
        image_size=size,
        resize_mode=resize_mode,
        fill_value=fill_value,
        max_pixels=max_pixels,
        on_error="skip",
        n_jobs=n_jobs,
        same_size=False,
        verbose=verbose,
    )
    problems = {**scan.problems, **read_problems}
    report_bad_files(problems, len(files) + len(scan.problems), on_error)
    if isinstance(images, list):
        raise different_sizes_error(images, [str(files[i]) for i in kept])
    labels = np.asarray(labels, dtype=np.int64)[kept]
    counts = np.bincount(labels, minlength=len(names))
    is_nested = (np.asarray(depths)[kept] > 0).astype(float)
    nested = np.bincount(labels, weights=is_nested, minlength=len(names)).astype(int)
    all_bad = []
    if wanted is None and (counts == 0).any():
        # Folders whose every file was bad (and left out) are not classes either; that renumbers the
        # classes after them, so it is said whatever on_error says.
        all_bad = [name for name, count in zip(names, counts) if count == 0]
        keep = counts > 0
        labels = (np.cumsum(keep) - 1)[labels]
        warnings.warn(
            _all_bad_message(given, names, keep, found, label_mode), UserWarning, stacklevel=user_stacklevel()
        )
        names = [name for name, k in zip(names, keep) if k]
        counts, nested = counts[keep], nested[keep]
    if wanted is None and label_mode == "int":
        # With the classes as they finally are: a folder of bad files dropped moves labels too.
        split_message = _sibling_split_message(given, names)
        if split_message:
            warnings.warn(split_message, UserWarning, stacklevel=user_stacklevel())
    if wanted is not None and (counts == 0).any():
        missing = [name for name, count in zip(names, counts) if count == 0]
        warnings.warn(
            f"Classes with no images in {str(given)!r}: {_listing(missing)}. Their labels stay reserved, "
            "so labels still mean what they mean in classes (scores on these images stay right).",
            UserWarning,
            stacklevel=user_stacklevel(),
        )

    filenames = [str(files[i]) for i in kept]
    copies = identical_images(images)
    if copies:
        warnings.warn(
            _copies_message(given, copies, labels, filenames), UserWarning, stacklevel=user_stacklevel()
        )
    grey_message = _grey_by_class_message(given, images, labels, names)
    if grey_message:
        warnings.warn(grey_message, UserWarning, stacklevel=user_stacklevel())
    if all(name.lower() in SPLIT_NAMES for name in names) and np.array_equal(nested, counts):
        # split/train/cats/*.png read from split/: "train" and "test" compared as two classes.
        warnings.warn(
            f"The class folders of {str(given)!r} are named {_listing(names)}, as a data set's splits "
            "are, and hold their images in sub-folders: is this a folder of splits, each with one "
            f"sub-folder per class? Then read one split, e.g. {str(given / names[0])!r}.",
            UserWarning,
            stacklevel=user_stacklevel(),
        )
    target_names = np.asarray(names)
    target = target_names[labels] if label_mode == "name" else labels
    if return_X_y:
        return images, target
    lines = [
        f"Image folder {str(given)!r}: {len(images)} images of {'x'.join(map(str, images.shape[1:]))} "
        f"uint8 in {_count(len(names), 'class', 'classes')}.",
        *(
            f"  {name}: {count} images" + (f" ({n} from nested folders)" if n else "")
            for name, count, n in zip(names, counts, nested)
        ),
    ]
    if copies:
        across = sum(len(set(labels[group].tolist())) > 1 for group in copies)
        lines.append(
            f"Exact copies: {sum(len(group) - 1 for group in copies)} images repeat others "
            f"({len(copies)} sets of identical images, {across} spanning classes)."
        )
    left_out = []
    if problems:
        left_out.append(f"{_count(len(problems), 'bad file')} (listed below)")
    if scan.debris:
        left_out.append(
            f"{_count(len(scan.debris), 'system file or folder', 'system files or folders')} "
            # Paths within the folder: ".DS_Store, .DS_Store" named two files as one.
            f"({_listing(_within(p, root, given) for p in scan.debris)})"
        )
    if empty:
        left_out.append(f"{_count(len(empty), 'folder')} with no files ({_listing(empty)})")
    if all_bad:
        left_out.append(f"{_count(len(all_bad), 'folder')} with only bad files ({_listing(all_bad)})")
    if ignored:
        left_out.append(f"{_count(len(ignored), 'folder')} not in classes ({_listing(ignored)})")
    if top_level_files:
        left_out.append(f"{_count(len(top_level_files), 'file')} at the top level")
    if scan.other_extensions:
        left_out.append(
            f"{_count(len(scan.other_extensions), 'file')} with other extensions than {scan.extensions}"
        )
    if scan.links_out or scan.link_cycles:
        left_out.append(
            f"{_count(len(scan.links_out) + len(scan.link_cycles), 'symbolic link')} not followed"
        )
    if scan.reports:
        left_out.append(f"{_count(len(scan.reports), 'skvision report folder')} ({_listing(scan.reports)})")
    if left_out:
        lines.append("Left out: " + "; ".join(left_out) + ".")
    if problems:
        # Their own lines, after the one line of what was left out: a reason never runs into it.
        lines.append("Bad files:\n" + describe_problems(problems))
    return Bunch(
        images=images,
        target=target,
        target_names=target_names,
        filenames=np.asarray(filenames),
        skipped_files=problems,
        groups=copy_groups(len(images), copies),
        DESCR="\n".join(lines),
    )
