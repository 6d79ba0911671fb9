"""The ``skvision`` command.

``skvision compare`` cross-validates every feature family on a data set, prints
the table and writes a report with figures; ``skvision features`` lists the
families. Argument errors print one line and exit with status 2.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import re
import sys
import textwrap
import time
from pathlib import Path

from ._malloc import keep_freed_memory

__all__ = ["main", "build_parser"]


class _Parser(argparse.ArgumentParser):
    """argparse, but an error is one line on stderr (no usage block) and exit status 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


class _UsageError(Exception):
    """An argument that parsed but does not make sense; reported like argparse's errors."""


#: The Python words of skvision's messages, and the options that say the same on the command line.
_CLI_WORDS = (
    (re.compile(r"pass image_size=\(height, width\)"), "pass --image-size HxW"),
    (re.compile(r"image_size=\(height, width\)"), "--image-size HxW"),
    (re.compile(r"on_error='(raise|warn|skip)'"), r"--on-error \1"),
    (re.compile(r"\(or 'skip', silent\)"), "(or skip, silent)"),
    (re.compile(r"in classes\b"), "in --classes"),
    (re.compile(r"pass follow_symlinks=True"), "pass --follow-symlinks"),
    (re.compile(r"\(color_mode='gray'; --color-mode gray in the command\)"), "(--color-mode gray)"),
    (re.compile(r"(?<!\()color_mode='(gray|rgb|auto)'"), r"--color-mode \1"),
)


def _cli_message(exc) -> str:
    """An exception's message in the words of the command line, on one line."""
    text = str(exc)
    for pattern, words in _CLI_WORDS:
        text = pattern.sub(words, text)
    # A line that ends in ':' introduces the next (a list of files): joined by a space. A line that
    # starts a sentence follows a full stop; the items of a list follow "; ".
    joined = ""
    for part in (line.strip() for line in text.splitlines()):
        if not part:
            continue
        if not joined:
            joined = part
        elif joined.endswith(":"):
            joined += " " + part
        elif part[0].isupper() and not re.match(r"\S*[/\\]", part):  # a sentence, not a path
            joined += (" " if joined.endswith(".") else ". ") + part
        else:
            joined += "; " + part
    return joined


def _whole_set_note(descr):
    r"""``descr`` with its first line marked as the whole data set's (``--max-samples`` compares a subset).

    Examples
    --------
    >>> print(_whole_set_note("Image folder 'd': 30 images.\n  - a: 15 images"))
    Image folder 'd': 30 images. (The whole data set; compared: the --max-samples subset below.)
      - a: 15 images
    """
    first, newline, rest = descr.partition("\n")
    return f"{first} (The whole data set; compared: the --max-samples subset below.){newline}{rest}"


def _positive_int(minimum):
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value

    parse.__name__ = "integer"
    return parse


def _seed(text):
    """A seed numpy accepts: an integer in [0, 2**32 - 1]."""
    value = _positive_int(0)(text)
    if value > 2**32 - 1:
        raise argparse.ArgumentTypeError(f"must be at most 2**32 - 1 = {2**32 - 1}, got {value}")
    return value


_seed.__name__ = "integer"


def _n_jobs(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value == 0:
        raise argparse.ArgumentTypeError("0 is not a number of jobs (use 1, 2, ... or -1 for all cores)")
    return value


def _image_size(text):
    match = re.fullmatch(r"(\d+)(?:x(\d+))?", text.strip().lower())
    if not match or int(match.group(1)) < 1 or (match.group(2) and int(match.group(2)) < 1):
        raise argparse.ArgumentTypeError(f"expected HEIGHTxWIDTH (e.g. 64x64) or one size, got {text!r}")
    height = int(match.group(1))
    width = int(match.group(2) or height)
    from .preprocessing._loader import DEFAULT_MAX_PIXELS

    if height * width > DEFAULT_MAX_PIXELS:  # numpy's allocation error and a traceback otherwise
        raise argparse.ArgumentTypeError(
            f"{height}x{width} is {height * width:,} pixels an image, more than the {DEFAULT_MAX_PIXELS:,} "
            "a file may hold here; images are resized to it, so pass a size such as 64x64"
        )
    return (height, width)


def _device(text):
    from ._device import DEVICE_CHOICES, parse_device

    try:
        return parse_device(text, option="--device")
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {', '.join(DEVICE_CHOICES)}, got {text!r}") from None


def _family_list():
    from .compare import FEATURE_FAMILIES

    return ", ".join(FEATURE_FAMILIES)


def build_parser():
    """The argparse parser of the ``skvision`` command."""
    from .compare import ESTIMATORS
    from .datasets import DATASETS

    parser = _Parser(
        prog="skvision",
        description=(
            "skvision: scikit-learn compatible image features, handcrafted and learned. "
            "Compare them on your images with 'skvision compare'."
        ),
    )
    from . import __version__

    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    compare = commands.add_parser(
        "compare",
        help="cross-validate feature families on a data set; print a table and write a report",
        description=textwrap.fill(
            "Cross-validate each feature family (features -> classifier) on the same folds, print a "
            "table (feature set, dimensions, CV accuracy mean and std - R^2 for a regression, --targets - "
            "fit time per fold (with --tune the refit, and the inner search's time beside it), transform "
            "throughput, and whether each is significantly worse than the "
            "best) and write a report, report.md and a self-contained report.html, with figures: score "
            "bars, confusion matrices, a t-SNE map of each feature space, the misclassified images and a "
            "per-class table. Several data sets (--dataset a,b,c) are also ranked together. A folder of "
            "images with a number each (a regression) is compared with --targets, a CSV of the files and "
            "their numbers.",
            width=78,
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=(
            "examples:\n"
            "  skvision compare --dataset digits --out skvision-report\n"
            "  skvision compare --dataset faces --features lbp,hog,pretrained --classifier logreg\n"
            "  skvision compare --dataset path/to/images --image-size 64x64 --cv 3 --n-jobs 2\n"
            "  skvision compare --dataset faces --features lbp,hog,lbp+hog --tune --repeats 5 --resume\n"
            "  skvision compare --dataset path/to/images --targets ages.csv --features hog,cnn"
        ),
    )
    compare.add_argument(
        "--dataset",
        default="digits",
        metavar="NAME|PATH",
        help=(
            f"a bundled data set ({', '.join(DATASETS)}) or a folder with one sub-folder of images "
            "per class (or of images listed in --targets), in any format Pillow reads (default: digits); "
            "several, comma-separated, compare the "
            "families on each and rank them over all (Friedman test, critical-difference diagram)"
        ),
    )
    compare.add_argument(
        "--features",
        default=None,
        metavar="LIST",
        help=(
            f"comma-separated feature families among: {_family_list()}; join families with '+' to fuse "
            "them (hog+cnn: their features concatenated, each standardised; the parts run too) "
            "(default: every family that applies to the data and is installed)"
        ),
    )
    compare.add_argument(
        "--classifier",
        default="svc",
        choices=sorted(ESTIMATORS),
        help="final estimator on the features: "
        + "; ".join(f"{name}: {desc}" for name, (_, desc) in ESTIMATORS.items())
        + " (default: svc)",
    )
    compare.add_argument(
        "--scoring",
        default=None,
        choices=SCORINGS + REGRESSION_SCORINGS,
        help="the score of the table, the tests and the ranks: accuracy, or for imbalanced classes "
        "balanced_accuracy (the mean of the classes' recalls) or f1_macro (the mean of their F1); with "
        "--targets r2 or neg_mean_absolute_error (default: accuracy; r2 with --targets)",
    )
    compare.add_argument(
        "--cv",
        type=_positive_int(2),
        default=5,
        metavar="N",
        help="number of cross-validation folds, shuffled and stratified (not stratified with --targets) "
        "(default: 5)",
    )
    compare.add_argument(
        "--repeats",
        type=_positive_int(1),
        default=1,
        metavar="R",
        help="repeated k-fold: R different shuffles of the --cv folds, the same for every family; the "
        "report keeps every (repeat, fold) score (default: 1)",
    )
    compare.add_argument(
        "--tune",
        action="store_true",
        help="choose each family's settings (its search space, e.g. LBP's P/R/method/grid, and the "
        "classifier's C) by an inner cross-validation inside every outer fold; the report shows the "
        "settings chosen per fold",
    )
    compare.add_argument(
        "--tune-budget",
        type=_positive_int(1),
        default=None,
        metavar="N",
        help="with --tune: at most N candidate settings per family, the whole grid when it is smaller, "
        "else a random sample of it (default: 10)",
    )
    compare.add_argument(
        "--tune-cv",
        type=_positive_int(2),
        default=None,
        metavar="N",
        help="with --tune: inner cross-validation folds (default: 3)",
    )
    compare.add_argument(
        "--resume",
        action="store_true",
        help="read back the folds an interrupted run of the same command stored in --out (every "
        "finished fold is stored there as it completes) and compute only the others; a changed "
        "data set or setting starts afresh, with a message. Folds a run does not take back (other "
        "settings, or no --resume) are set aside, one run back: a later --resume with their "
        "settings takes them back",
    )
    compare.add_argument(
        "--n-jobs",
        type=_n_jobs,
        default=None,
        metavar="N",
        help="N processes in all (-1: all cores): the main one runs each family's first fold and "
        "N-1 workers take the other folds of every family; the workers start only when the folds "
        "waiting for them repay starting them, so quick comparisons run in one process. The "
        "transform rates are measured again in one process at the end (default: 1)",
    )
    compare.add_argument(
        "--device",
        type=_device,
        default="auto",
        metavar="DEVICE",
        help="where the work runs: auto (a CUDA GPU when torch sees one, else the CPU), cpu, cuda, "
        "cuda:N, or mps (Apple's GPU, for the learned features; the descriptors then run on the CPU). "
        "On a GPU the learned features and the descriptors with a torch path use it (default: auto)",
    )
    compare.add_argument(
        "--seed",
        type=_seed,
        default=0,
        help="random seed of the folds, subsampling and the learned models, 0 to 2**32 - 1 (default: 0)",
    )
    compare.add_argument(
        "--out",
        default="skvision-report",
        metavar="DIR",
        help="folder for report.md, report.html, results.csv, fold-scores.csv, fold-assignment.csv, "
        "misclassified.csv and the "
        "figures (and folds/, the store of --resume), created if needed and checked before any work; the "
        "files of an earlier report there are replaced, other files are left alone, and a folder no report "
        "wrote that holds files of those names is refused (default: skvision-report)",
    )
    compare.add_argument(
        "--max-samples",
        type=_positive_int(2),
        default=None,
        metavar="N",
        help="use a stratified random subset of N images (a plain one with --targets) (default: all)",
    )
    compare.add_argument(
        "--image-size",
        type=_image_size,
        default=None,
        metavar="HxW",
        help="resize a folder's images on reading, e.g. 64x64 (or 64, a square; required when their sizes "
        "differ); images of another aspect ratio are stretched to it",
    )
    compare.add_argument(
        "--follow-symlinks",
        action="store_true",
        help="read what symbolic links in a folder lead to outside it (class folders linked from "
        "elsewhere); by default they are not followed, and a warning lists them",
    )
    compare.add_argument(
        "--on-error",
        default="raise",
        choices=["raise", "warn", "skip"],
        help="files of a folder that cannot be read as images: raise (stop, naming every bad file), "
        "warn (leave them out and list them) or skip (leave them out silently) (default: raise)",
    )
    compare.add_argument(
        "--targets",
        default=None,
        metavar="CSV",
        help="a regression: a CSV file of the --dataset folder's images and their numbers (a header row, "
        "a column of files relative to the folder, named file, filename, path or image, else the first, "
        "and a column of numbers); only the files listed are read, the table shows R^2 and the folds "
        "are plain shuffled k-fold",
    )
    compare.add_argument(
        "--target-column",
        default=None,
        metavar="NAME",
        help="with --targets: the header of the targets' column, when the CSV has more than one besides "
        "the files'",
    )
    compare.add_argument(
        "--classes",
        default=None,
        metavar="LIST",
        help="comma-separated class folders of an image folder, in label order; other folders are "
        "left out (default: every folder that holds images)",
    )
    compare.add_argument(
        "--color-mode",
        default="auto",
        choices=["auto", "gray", "rgb"],
        help="colour mode of a folder's images (default: auto, grey when every file is)",
    )
    compare.add_argument(
        "--embedding",
        default="tsne",
        choices=["tsne", "pca", "none"],
        help="2-D map of each feature space in the report (default: tsne)",
    )
    compare.add_argument(
        "--fast",
        action="store_true",
        help="a sixth of the epochs for the networks trained from scratch (at least 2), and 64x64 "
        "inputs for the pretrained backbone on images under 112 pixels (a quick look, lower scores)",
    )
    talk = compare.add_mutually_exclusive_group()
    talk.add_argument(
        "--quiet", action="store_true", help="print only the final table (and the report's path)"
    )
    talk.add_argument(
        "--verbose",
        action="store_true",
        help="also show the learned families' training, epoch by epoch (progress goes to stderr, the "
        "table to stdout)",
    )

    commands.add_parser(
        "features",
        help="list the feature families and whether each is available here",
        description="List the feature families 'skvision compare --features' knows, with their kind, "
        "what they compute, and whether their estimator can be imported in this installation.",
    )
    return parser


def _show_reading_warnings(caught):
    """Warnings recorded while reading a data set: skvision's as lines, others' as Python shows them."""
    import warnings

    for record in caught:
        if issubclass(record.category, UserWarning):
            print(f"skvision compare: warning: {_cli_message(record.message)}", file=sys.stderr)
        else:  # another library's (a RuntimeWarning)
            warnings.warn_explicit(record.message, record.category, record.filename, record.lineno)


def _read_folder(args):
    """``load_image_folder`` with the command's options; its warnings printed as one line each."""
    import warnings

    from .datasets import load_image_folder

    classes = None
    if args.classes is not None:
        classes = [name.strip() for name in args.classes.split(",") if name.strip()]
        if len(classes) < 2:
            raise _UsageError(
                f"argument --classes: name at least 2 class folders, comma-separated; got {args.classes!r}"
            )
        twice = sorted({name for name in classes if classes.count(name) > 1})
        if twice:
            raise _UsageError(f"argument --classes: {', '.join(map(repr, twice))} named more than once")
    failure = None
    from .compare._progress import Progress

    # A bar on a terminal; in a log, a line every 30 s while the reading lasts (thousands of photos take
    # minutes), then the first line says how long it took.
    in_log = not args.quiet and not sys.stderr.isatty()
    with (
        warnings.catch_warnings(record=True) as caught,
        contextlib.closing(Progress(verbose=int(in_log))) as reading,
        reading.running(f"reading {args.dataset}"),
    ):
        warnings.simplefilter("always")
        try:
            data = load_image_folder(
                args.dataset,
                classes=classes,
                image_size=args.image_size,
                color_mode=args.color_mode,
                on_error=args.on_error,
                follow_symlinks=getattr(args, "follow_symlinks", False),
                # The workers spawned early read too, once the rest of the folder repays them.
                n_jobs=args.n_jobs,
                verbose=int(not args.quiet and sys.stderr.isatty()),
            )
        except (OSError, ValueError, TypeError) as exc:
            # Raised after the warnings given so far: the bad files that --on-error warn left out
            # are named even when the folder then fails (images of different sizes, say).
            failure = _UsageError(f"argument --dataset: {_cli_message(exc)}")
    empty = []
    if failure is None and classes is not None:
        empty = [name for label, name in enumerate(classes) if not (data.target == label).any()]
    # (With empty classes the error below says it, as an error: no warning that scores "stay right".)
    _show_reading_warnings(
        caught
        if not empty
        else [w for w in caught if not str(w.message).startswith("Classes with no images")]
    )
    if failure is not None:
        raise failure
    if empty:
        raise _UsageError(
            f"argument --classes: no images of {', '.join(map(repr, empty))} in {args.dataset!r}; "
            "every class compared needs images"
        )
    if classes is not None:
        _in_name_order(data)
    return data


def _in_name_order(data):
    """Put the images of ``data`` in the order of their class names (files in order within a class).

    ``--classes b,a`` reads class b first and numbers it 0; the shuffled
    stratified folds follow the order of the images, so the same images gave
    other folds (and scores) than ``--classes a,b``. In this order, with the
    folds' stratification blind to which number a class has, they do not.
    The labels keep the order given (the report shows the classes in it).
    """
    import numpy as np

    names = np.asarray(data.target_names, dtype=object)
    rank = np.empty(len(names), dtype=np.int64)
    rank[sorted(range(len(names)), key=lambda k: names[k])] = np.arange(len(names))
    order = np.argsort(rank[data.target], kind="stable")
    for key in ("images", "target", "filenames"):
        if data.get(key) is not None:
            data[key] = data[key][order]
    if data.get("groups") is not None:
        # Groups are the index of each set's first image: re-indexed in the new order.
        position = np.empty(len(order), dtype=np.int64)
        position[order] = np.arange(len(order))
        moved = position[data.groups[order]]
        _, first, inverse = np.unique(moved, return_index=True, return_inverse=True)
        data["groups"] = first[inverse].astype(data.groups.dtype)


def _is_bundled(dataset):
    """Whether ``--dataset`` names a bundled data set (else a folder); a name that is both is refused.

    A user's folder named ``faces`` beside the command would otherwise be replaced,
    without a word, by the bundled faces: minutes of work on the wrong images.
    """
    from .datasets import DATASETS

    if dataset not in DATASETS:
        return False
    if Path(dataset).is_dir():
        raise _UsageError(
            f"argument --dataset: {dataset!r} names both a bundled data set and the folder "
            f"{str(Path(dataset).resolve())!r}: pass {'./' + dataset!r} for the folder, or run from "
            "another folder for the bundled data set"
        )
    return True


def _check_not_splits(dataset):
    """A usage error for a folder of splits (``train/``, ``test/``, each with class folders).

    Read as one data set its splits would be the classes: a comparison of the
    features by how well they tell the training images from the test images.
    """
    from .datasets._folder import split_folders

    splits = split_folders(dataset)
    if splits:
        one = next((name for name in splits if name.lower().startswith("train")), splits[0])
        raise _UsageError(
            f"argument --dataset: the folders of {dataset!r} are {', '.join(splits)}, a data set's splits "
            f"with class folders inside, not classes; compare the classes of one split (--dataset "
            f"{Path(dataset) / one}): its images are cross-validated, so it needs no test split (to use "
            "every image, put the class folders of all the splits in one folder)"
        )


def _load_data(args):
    import numpy as np
    from sklearn.model_selection import train_test_split

    from .datasets import DATASETS, load_dataset

    if args.targets is not None:
        return _load_targets(args)
    if args.target_column is not None:
        raise _UsageError("--target-column applies with --targets")
    if args.scoring in REGRESSION_SCORINGS:
        raise _UsageError(
            f"argument --scoring: {args.scoring} scores a regression; give each image's number with "
            "--targets CSV (a folder of classes is scored by accuracy, balanced_accuracy or f1_macro)"
        )
    args.scoring = args.scoring or "accuracy"
    if _is_bundled(args.dataset):
        folder_options = (args.image_size, args.classes, None if args.color_mode == "auto" else 1)
        if any(option is not None for option in folder_options) or args.on_error != "raise":
            raise _UsageError(
                "--image-size, --color-mode, --classes and --on-error apply to image folders, "
                "not bundled data sets"
            )
        data = load_dataset(args.dataset)
    else:
        if not Path(args.dataset).is_dir():
            raise _UsageError(
                f"argument --dataset: {args.dataset!r} is neither a bundled data set "
                f"({', '.join(DATASETS)}) nor an existing folder"
            )
        _check_not_splits(args.dataset)
        started = time.perf_counter()
        data = _read_folder(args)
        data.read_seconds = time.perf_counter() - started
        present = np.unique(data.target)
        if len(present) < 2:
            only = ", ".join(repr(str(data.target_names[label])) for label in present)
            raise _UsageError(
                f"argument --dataset: {args.dataset!r} holds images of a single class ({only}); a comparison "
                "needs at least 2 classes, one sub-folder of images each"
            )
    X, y = data.images, data.target
    all_labels, all_counts = np.unique(y, return_counts=True)
    n_classes, smallest = len(all_labels), int(all_counts.min())
    if smallest < args.cv:
        from .datasets._folder import _listing

        short = [str(data.target_names[label]) for label, n in zip(all_labels, all_counts) if n < args.cv]
        raise _UsageError(
            f"argument --cv: {args.cv} folds need at least {args.cv} images of every class; the smallest "
            f"class has {smallest} ({_listing([repr(name) for name in short], limit=5)} "
            f"{'has' if len(short) == 1 else 'have'} fewer than {args.cv}: lower --cv, or add images)"
        )
    if args.max_samples is not None and args.max_samples < len(y):
        if not n_classes <= args.max_samples <= len(y) - n_classes:
            raise _UsageError(
                f"argument --max-samples: a stratified subset of {args.max_samples} of the {len(y)} images "
                f"must hold at least one image of each of the {n_classes} classes and leave one of each out: "
                f"pass a number from {n_classes} to {len(y) - n_classes}"
                + (f" (at least {n_classes * args.cv} for --cv {args.cv})" if args.cv > 1 else "")
                + ", or leave --max-samples out to use every image"
            )
        try:
            # Stratified by class name where --classes numbered the classes: the subset does not
            # depend on the order they were named in (by label otherwise: the same, as labels follow names).
            strata = np.asarray(data.target_names, dtype=object)[y] if args.classes is not None else y
            kept, _ = train_test_split(
                np.arange(len(y)), train_size=args.max_samples, stratify=strata, random_state=args.seed
            )
            X, y = X[kept], y[kept]
            for key in ("groups", "filenames"):  # kept beside the images they describe
                if data.get(key) is not None:
                    data[key] = np.asarray(data[key])[kept]
            if data.get("filenames") is None:
                # A bundled set's misclassified images are listed by index: its own, not the subset's.
                data["filenames"] = kept
        except ValueError as exc:
            raise _UsageError(f"argument --max-samples: {exc}") from None
        # Every class in the subset, with images enough for the folds: a class the stratified draw
        # left out (4 images of 604, 100 drawn) vanished from the comparison without a word.
        kept_counts = np.array([np.sum(y == label) for label in all_labels])
        short = int(np.argmin(kept_counts))
        if kept_counts[short] < args.cv:
            name, total = str(data.target_names[all_labels[short]]), int(all_counts[short])
            n_images = len(data.target)
            needed = min(n_images, -(-args.cv * n_images // total))  # ceil: about cv of the class
            raise _UsageError(
                f"argument --max-samples: a stratified subset of {args.max_samples} images keeps "
                f"{kept_counts[short]} of the {total} images of class {name!r}, and --cv {args.cv} needs "
                f"{args.cv}: raise --max-samples to about {needed}"
                + (", lower --cv" if kept_counts[short] > 1 else "")
                + " or leave the class out with --classes"
            )
    groups = data.get("groups")
    if groups is not None:
        # Copies of an image stay in one fold: a class of fewer distinct images than folds has none
        # in some test fold, whose per-class scores then read 0 for every feature set.
        distinct = {label: len(np.unique(groups[y == label])) for label in np.unique(y)}
        label = min(distinct, key=distinct.get)
        if distinct[label] < args.cv:
            name, n_copies = str(data.target_names[label]), int(np.sum(y == label)) - distinct[label]
            raise _UsageError(
                f"argument --cv: {args.cv} folds need at least {args.cv} distinct images of every class "
                f"(exact copies stay in one fold); class {name!r} has {distinct[label]}, the other "
                f"{n_copies} of its images copies of them (lower --cv)"
            )
    return X, y, data


def _load_targets(args):
    """The images of ``--dataset`` (a folder) and their numbers from ``--targets``: ``(X, y, data)``."""
    import warnings

    import numpy as np

    from .datasets._targets import load_image_targets

    if _is_bundled(args.dataset) or not Path(args.dataset).is_dir():
        raise _UsageError(
            f"argument --targets: the images of a regression are a folder (--dataset PATH); {args.dataset!r} "
            "is not one"
        )
    if args.classes is not None:
        raise _UsageError("--classes applies to a folder of classes, not with --targets")
    if args.scoring in SCORINGS:
        raise _UsageError(
            f"argument --scoring: {args.scoring} scores classes; a regression (--targets) is scored by "
            f"{' or '.join(REGRESSION_SCORINGS)}"
        )
    args.scoring = args.scoring or "r2"
    started = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            data = load_image_targets(
                args.dataset,
                args.targets,
                target_column=args.target_column,
                image_size=args.image_size,
                color_mode=args.color_mode,
                on_error=args.on_error,
                n_jobs=args.n_jobs,
                verbose=int(not args.quiet and sys.stderr.isatty()),
            )
        except (OSError, ValueError, TypeError) as exc:
            failure = _UsageError(f"argument --targets: {_cli_message(exc)}")
        else:
            failure = None
    _show_reading_warnings(caught)
    if failure is not None:
        raise failure
    data.read_seconds = time.perf_counter() - started
    # The folds follow the images' order: by file, as a folder of classes is read, not by the CSV's rows
    # (the same pairs in another order gave other folds, and "worse (p 0.032)" became "n.s.").
    order = np.argsort(data.filenames, kind="stable")
    for key in ("images", "target", "filenames", "groups"):
        data[key] = data[key][order]
    X, y = data.images, data.target
    if np.ptp(y) == 0:
        raise _UsageError(
            f"argument --targets: every image has the same target ({y[0]:g}); nothing to predict"
        )
    if args.max_samples is not None and args.max_samples < len(y):
        kept = np.sort(np.random.default_rng(args.seed).choice(len(y), args.max_samples, replace=False))
        X, y = X[kept], y[kept]
        data["groups"], data["filenames"] = data.groups[kept], data.filenames[kept]
    groups = data.get("groups")
    distinct = len(np.unique(groups)) if groups is not None else len(y)
    if distinct < args.cv:
        raise _UsageError(
            f"argument --cv: {args.cv} folds need at least {args.cv} distinct images; there are {distinct}"
            + (" (exact copies stay in one fold)" if distinct < len(y) else "")
        )
    return X, y, data


def _check_out(out, datasets=()):
    """Make sure ``--out`` is a folder this run can write to, before any work; True if it was created.

    It may not be one of the ``datasets`` folders, nor one of their class folders: it is marked as a
    report, which the folder's reading leaves out (a whole class, silently). A new folder beside the
    class folders, or inside one, is left out alone.
    """
    from .compare._report import REPORT_FILES, mark_report_folder
    from .datasets._folder import REPORT_MARKER

    target = out.resolve()
    for dataset in datasets:
        root = Path(dataset).resolve()
        if target == root:
            raise _UsageError(
                f"argument --out: {str(out)!r} is the --dataset folder itself: the report's files would be "
                "read as images by the next run; write it to another folder"
            )
        if target.parent == root and target.is_dir() and not (target / REPORT_MARKER).is_file():
            raise _UsageError(
                f"argument --out: {str(out)!r} is the class folder {target.name!r} of --dataset {dataset!r}, "
                "which the report would leave out of the comparison; write it to another folder"
            )

    if out.exists() and not out.is_dir():
        raise _UsageError(f"argument --out: {str(out)!r} exists and is not a folder")
    if out.is_dir() and not (out / REPORT_MARKER).is_file():
        # Not a folder a report wrote: its report.md or results.csv are someone's own files, which an
        # earlier report's clean-up deleted ("removed 2 files of an earlier report").
        clashing = sorted({p.name for pattern in REPORT_FILES for p in out.glob(pattern) if p.is_file()})
        if clashing:
            shown = ", ".join(clashing[:5]) + (f" and {len(clashing) - 5} more" if len(clashing) > 5 else "")
            raise _UsageError(
                f"argument --out: {str(out)!r} holds {shown}, which no skvision report wrote there (it has "
                f"no {REPORT_MARKER}), and the report would replace them; write it to another folder, or "
                "move them away"
            )
    created = not out.exists()
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / f".skvision-write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
        # Marked now, before the images are read: an --out inside --dataset is then left out.
        mark_report_folder(out)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise _UsageError(f"argument --out: cannot write the report to {str(out)!r}: {reason}") from None
    return created


def _dataset_label(dataset):
    """A data set's name in titles: a bundled set's name, a folder's own name (``.``: the current one's)."""
    return Path(dataset).resolve().name if Path(dataset).is_dir() else dataset


def _remove_unused_out(out):
    """Remove ``--out`` (made by this run) if it holds only its mark: no trace of a run that did not start."""
    from .datasets._folder import REPORT_MARKER

    if {path.name for path in out.iterdir()} <= {REPORT_MARKER}:
        (out / REPORT_MARKER).unlink(missing_ok=True)
        out.rmdir()


def _resolve_device(device):
    """The device the run uses (``'cpu'``, ``'cuda:N'``, ``'mps'``), by skvision's one rule."""
    from ._device import resolve_device

    try:
        return resolve_device(device, option="--device")
    except ValueError as exc:
        raise _UsageError(f"argument --device: {exc}") from None


def _run_compare(args):
    datasets = _dataset_names(args.dataset)
    if len(datasets) > 1:
        return _run_compare_datasets(args, datasets)
    return 0 if _compare_one(args).results else 1


def _compare_one(args):
    """Compare the families on the data set of ``args``: print the table, write the report; the result."""
    from . import _workers

    # First: the workers import scikit-learn, skvision and torch while this process does the same
    # and reads the images (a second or two earlier than the comparison would start them).
    _workers.spawn_early(args.n_jobs, args.features)
    from .compare import FEATURE_FAMILIES, DatasetInfo, build_feature_sets, compare_features
    from .compare._report import remove_stale_report

    started = time.perf_counter()
    names = None
    if args.features is not None:
        names = _feature_names(args.features)
        unknown = list(dict.fromkeys(p for n in names for p in n.split("+") if p not in FEATURE_FAMILIES))
        if unknown or not names:
            raise _UsageError(
                f"argument --features: unknown feature family {', '.join(map(repr, unknown)) or '(none)'}; "
                f"choose among {_family_list()}"
            )
    if not args.tune and (args.tune_budget is not None or args.tune_cv is not None):
        raise _UsageError("--tune-budget and --tune-cv apply with --tune")
    device = _resolve_device(args.device)
    out = Path(args.out)
    created = _check_out(out, [] if _is_bundled(args.dataset) else [args.dataset])
    try:
        X, y, data = _load_data(args)
    except _UsageError:
        if created:
            _remove_unused_out(out)
        raise
    stale = remove_stale_report(out)
    info = DatasetInfo.from_data(
        X,
        y,
        task="regression" if args.targets is not None else None,
        device=device,
        random_state=args.seed,
        fast=args.fast,
    )
    feature_sets = build_feature_sets(names, info)
    running = [s.name for s in feature_sets if s.available]
    if not running:
        raise _UsageError(
            "no feature family can run on this data: "
            + "; ".join(f"{s.name} {s.skipped}" for s in feature_sets)
        )
    from .compare._progress import Progress
    from .datasets._folder import _listing

    # Progress and notes go to stderr; stdout holds the table and the report's path only.
    talk = Progress(verbose=0 if args.quiet else 1)
    shape = "x".join(map(str, X.shape[1:]))
    regression = args.targets is not None
    if regression:
        classes = []
        what = f"target {data.target_name!r} from {y.min():.4g} to {y.max():.4g} (mean {y.mean():.4g})"
    else:
        classes = [_class_name(data.target_names[label]) for label in sorted(set(y.tolist()))]
        what = f"{len(classes)} classes ({_listing(classes, limit=8)})"
    cv_words = f"{args.cv}-fold CV" + (f" repeated {args.repeats} times" if args.repeats > 1 else "")
    read = data.get("read_seconds", 0.0)
    talk.say(
        f"{args.dataset}: {len(X)} images of {shape}, {what}"
        f"{f' read in {read:.1f} s' if read >= 1 else ''}; "
        f"{cv_words} of {', '.join(running)} -> {args.classifier}{', tuned' if args.tune else ''}"
    )
    if stale:
        talk.say(f"  (removed {len(stale)} files of an earlier report from {out})")
    for feature_set in feature_sets:
        if not feature_set.available:
            talk.say(f"  (leaving out {feature_set.name}: {feature_set.skipped})")

    downscaled = _downscaled_networks(feature_sets)
    if downscaled:
        talk.say(f"  ({downscaled})")
    imbalance = _imbalance_note(y, classes) if args.scoring == "accuracy" and not regression else ""
    if imbalance:
        talk.say(f"  ({imbalance})")

    # Exact copies of one image stay in one fold, or a copy on each side would inflate the scores.
    groups = data.get("groups")
    n_copies = 0 if groups is None else len(groups) - len(set(groups.tolist()))
    if n_copies:
        talk.say(f"  (the {n_copies} exact copies stay in the fold of the image they copy: group folds)")
    else:
        groups = None  # no copies: the plain stratified folds, as before
    tune_budget = args.tune_budget if args.tune_budget is not None else 10
    tune_cv = args.tune_cv if args.tune_cv is not None else 3
    with contextlib.redirect_stdout(sys.stderr):  # whatever the work prints is progress, not the table
        result = compare_features(
            X,
            y,
            feature_sets,
            estimator=args.classifier,
            cv=args.cv,
            scoring=args.scoring,
            n_jobs=args.n_jobs,
            random_state=args.seed,
            on_error="skip",
            target_names=None if regression else data.target_names,
            task="regression" if regression else None,
            verbose=0 if args.quiet else 2 if args.verbose else 1,
            repeats=args.repeats,
            tune=args.tune,
            tune_budget=tune_budget,
            tune_cv=tune_cv,
            store=out / "folds",
            resume=args.resume,
            groups=groups,
        )
    print(result, flush=True)
    untold = _untold_note(result)
    if untold and not args.quiet:
        print(untold, file=sys.stderr, flush=True)
    talk.stage(f"writing the report to {out}")
    settings = f"; tuned ({tune_budget} candidates, {tune_cv} inner folds)" if args.tune else ""
    report = result.write_report(
        out,
        n_jobs=args.n_jobs,
        filenames=data.get("filenames"),
        embedding=None if args.embedding == "none" else args.embedding,
        title=f"skvision compare: {_dataset_label(args.dataset)}",
        notes=[
            # With --max-samples the folder's counts are not the comparison's: said so, the subset's next.
            _whole_set_note(data.DESCR) if len(X) < len(data.target) else data.DESCR,
            (
                f"{len(X)} images of {shape}, {what}; {cv_words}, shuffled"
                if regression
                else f"{len(X)} images of {shape} in {len(classes)} classes ({', '.join(classes)}); "
                f"{cv_words}, stratified"
            )
            + f"{', exact copies kept in one fold' if groups is not None else ''} "
            f"(seed {args.seed}); "
            f"classifier: {args.classifier}{settings}; device: {device}{'; fast mode' if args.fast else ''}",
            *([downscaled] if downscaled else []),
            *([imbalance] if imbalance else []),
            # The images' own sizes are gone from what the report shows: said where they were changed.
            *(
                [
                    f"images read at {'x'.join(map(str, args.image_size))} (--image-size): files of another "
                    "size were resized to it, their aspect ratio stretched where it differs"
                ]
                if args.image_size is not None
                else []
            ),
            f"command: {_command_line(args.argv)}",
        ],
        progress=talk.stage,
    )
    print(f"\nReport: {report} ({time.perf_counter() - started:.0f} s in all)")
    return result


def _command_line(argv=None):
    """The command as typed (``sys.argv[1:]``), quoted for a shell to run again.

    Examples
    --------
    >>> _command_line(["compare", "--dataset", "my images", "--cv", "3"])
    "skvision compare --dataset 'my images' --cv 3"
    """
    import shlex

    argv = sys.argv[1:] if argv is None else argv
    return "skvision " + (shlex.join(argv) if argv else "compare")


def _untold_note(result):
    """A line for stderr when the tests told no feature set from the best (3 or more sets), else ''.

    A column of "n.s." in a run of 14 families read as "all equivalent" (hu 0.810 against hog 0.995:
    a raw p of 0.039, adjusted over 91 pairs). The report says how the column is computed; the
    terminal showed the column alone.
    """
    tests = result.significance()
    if tests is None or len(tests.names) < 3 or len(tests.tied_with_best) < len(tests.names):
        return ""
    n_pairs = len(tests.names) * (len(tests.names) - 1) // 2
    return (
        f"vs best: no feature set was shown worse than {tests.best} ({tests.n_splits} splits, p-values "
        f"adjusted over the {n_pairs} pairs), which is not a tie: more splits (--repeats R gives R x the "
        "folds) or fewer --features give the tests power"
    )


#: ``--scoring``'s choices: scores of a classification that the report's tests and ranks can use.
SCORINGS = ("accuracy", "balanced_accuracy", "f1_macro")
#: ... and of a regression (``--targets``): higher is better for both.
REGRESSION_SCORINGS = ("r2", "neg_mean_absolute_error")
#: Classes this many times larger than the smallest make accuracy a score of the large classes.
_IMBALANCE_RATIO = 2


def _imbalance_note(y, classes):
    """A sentence on what accuracy means when the classes are imbalanced, or ''.

    Examples
    --------
    >>> import numpy as np
    >>> _imbalance_note(np.repeat([0, 1, 2], [60, 30, 3]), ["a", "b", "c"])[:47]
    'the classes are imbalanced (a: 60 images, c: 3)'
    >>> _imbalance_note(np.repeat([0, 1], [60, 40]), ["a", "b"])
    ''
    """
    import numpy as np

    counts = np.bincount(np.asarray(y))
    present = np.flatnonzero(counts)
    largest, smallest = present[np.argmax(counts[present])], present[np.argmin(counts[present])]
    if counts[largest] < _IMBALANCE_RATIO * counts[smallest]:
        return ""
    return (
        f"the classes are imbalanced ({classes[largest]}: {counts[largest]} images, {classes[smallest]}: "
        f"{counts[smallest]}): accuracy counts every image alike, so the large classes weigh most; the "
        "per-class table shows each class, --scoring balanced_accuracy ranks by the mean of their recalls"
    )


def _class_name(name):
    """A class name for a list of names: quoted where a comma or a space at either end would blur it.

    Examples
    --------
    >>> [_class_name(name) for name in ["cats", "a,b", " sp ", "x y"]]
    ['cats', "'a,b'", "' sp '", 'x y']
    """
    name = str(name)
    return repr(name) if "," in name or name != name.strip() or not name else name


def _downscaled_networks(feature_sets):
    """One sentence naming the feature sets whose network sees downscaled images (``max_side``), or ''.

    Examples
    --------
    >>> from skvision.compare import DatasetInfo, build_feature_sets
    >>> sets = build_feature_sets(["hog", "cnn", "gan"], DatasetInfo((128, 96, 3), 100, device="cpu"))
    >>> _downscaled_networks(sets)
    'the networks trained from scratch see the images downscaled: cnn to 64x48, gan to 32x24'
    """
    sizes = []
    for feature_set in feature_sets:
        steps = getattr(feature_set.transformer, "named_steps", None)
        if steps is not None and "resize" in steps and "network" in steps:
            sizes.append(f"{feature_set.name} to {'x'.join(map(str, steps['resize'].size))}")
    return f"the networks trained from scratch see the images downscaled: {', '.join(sizes)}" if sizes else ""


# ------------------------------------------------------------- several data sets (--dataset a,b,c)
def _dataset_names(text):
    """The data sets of ``--dataset``: one name or folder, or several separated by commas."""
    if "," not in text or Path(text).is_dir():
        return [text]
    names = [name.strip() for name in text.split(",")]
    if not all(names):
        raise _UsageError(f"argument --dataset: empty name in {text!r}")
    if len(set(names)) < len(names):
        raise _UsageError(f"argument --dataset: a data set is named twice in {text!r}")
    return names


def _run_compare_datasets(args, datasets):
    """Compare the families on each data set (a report in a sub-folder each), then rank them over all."""
    import copy

    from .compare import MultiDatasetResult
    from .compare._report import remove_stale_report
    from .datasets import DATASETS

    started = time.perf_counter()
    if args.targets is not None:
        raise _UsageError("--targets gives the numbers of one --dataset folder, not of several data sets")
    bundled = {dataset for dataset in datasets if _is_bundled(dataset)}
    for dataset in datasets:
        if dataset not in bundled and not Path(dataset).is_dir():
            raise _UsageError(
                f"argument --dataset: {dataset!r} is neither a bundled data set ({', '.join(DATASETS)}) "
                "nor an existing folder"
            )
    folders = [d for d in datasets if d not in bundled]
    for folder in folders:  # before the first data set's work, not when its turn comes
        _check_not_splits(folder)
    folder_options = (args.image_size, args.classes, None if args.color_mode == "auto" else 1)
    if not folders and (any(option is not None for option in folder_options) or args.on_error != "raise"):
        raise _UsageError(
            "--image-size, --color-mode, --classes and --on-error apply to image folders, "
            "not bundled data sets"
        )
    device = _resolve_device(args.device)
    out = Path(args.out)
    created = _check_out(out, folders)
    stale = remove_stale_report(out)
    if stale and not args.quiet:
        print(f"(removed {len(stale)} files of an earlier report from {out})", flush=True)
    labels = [d if d in bundled else _dataset_label(d) or d for d in datasets]
    if len(set(labels)) < len(labels):  # two folders of one name: their paths tell them apart
        labels = list(datasets)
    results, reports = {}, {}
    for dataset, label in zip(datasets, labels):
        sub = copy.copy(args)
        sub.dataset = dataset
        if dataset in bundled:  # the folder options are for the folders
            sub.image_size, sub.color_mode, sub.classes, sub.on_error = None, "auto", None, "raise"
        folder = re.sub(r"[^A-Za-z0-9_.-]+", "_", label).strip("._") or "dataset"
        sub.out = str(out / folder)
        if not args.quiet:
            print(f"\n== {label} ==", flush=True)
        try:
            results[label] = _compare_one(sub)
        except _UsageError:
            if created:
                _remove_unused_out(out)
            raise
        reports[label] = f"{folder}/report.md"
    multi = MultiDatasetResult(results, reports)
    print(f"\nOver {len(datasets)} data sets ({multi.scoring}, rank on each; 1 = best):\n")
    print(multi)
    if multi.can_test():
        print("\n" + textwrap.fill(multi.friedman_text(), width=110))
    report = multi.write_report(
        out,
        title=f"skvision compare: {', '.join(labels)}",
        notes=[
            f"{args.cv}-fold stratified CV"
            + (f" repeated {args.repeats} times" if args.repeats > 1 else "")
            + f" (seed {args.seed}) on each data set; classifier: {args.classifier}"
            + ("; tuned in nested folds" if args.tune else "")
            + f"; device: {device}",
            f"command: {_command_line(args.argv)}",
        ],
    )
    print(f"\nReport: {report} ({time.perf_counter() - started:.0f} s in all)")
    return 0 if all(r.results for r in results.values()) else 1


def _feature_names(text):
    """The feature sets of ``--features``, each fused set's parts first (hog+cnn runs hog and cnn too)."""
    names = []
    for name in (n.strip() for n in text.split(",")):
        parts = [p.strip() for p in name.split("+")]
        if not all(parts):
            raise _UsageError(
                f"argument --features: an empty name in {text!r}; separate names with one comma"
            )
        if len(set(parts)) < len(parts):
            raise _UsageError(f"argument --features: {name!r} fuses a family with itself")
        for part in parts if len(parts) > 1 else []:
            if part not in names:
                names.append(part)
        name = "+".join(parts)
        if name not in names:
            names.append(name)
    return names


def _run_features():
    from .compare import FEATURE_FAMILIES

    width = max(map(len, FEATURE_FAMILIES))
    for name, family in FEATURE_FAMILIES.items():
        try:
            family.load_estimator()
            status = "available"
        except ImportError:
            status = "not installed"
        print(f"{name.ljust(width)}  {family.kind:<11}  {status:<13}  {family.summary}")
    return 0


def main(argv=None):
    """Run the ``skvision`` command with ``argv`` (``sys.argv[1:]`` by default); return the exit status."""
    parser = build_parser()
    args, extras = parser.parse_known_args(argv)
    if extras:
        return _unrecognized(parser, args.command, extras)
    if args.command is None:
        parser.error("choose a command: compare or features")
    # The report records the command it ran: main([...]) from Python recorded its host's sys.argv.
    args.argv = list(sys.argv[1:] if argv is None else argv)
    if argv is None:
        # Run as the command, which owns its process (not main([...]) from someone's code): freed
        # buffers stay in it instead of fresh zeroed pages per batch (a comparison of three families
        # on 800 128x128 photos: 105 s -> 80 s; see skvision._malloc).
        keep_freed_memory()
    try:
        with _warnings_as_lines(parser.prog + " " + args.command):
            if args.command == "features":
                return _run_features()
            return _run_compare(args)
    except _UsageError as exc:
        command = parser.prog + " " + args.command
        print(f"{command}: error: {exc} (see '{command} --help')", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        hint = ""
        if args.command == "compare":
            stores = [Path(args.out) / "folds", *sorted(Path(args.out).glob("*/folds"))]
            stores = [store for store in stores if store.is_dir()]
            if stores:
                where = stores[0] if len(stores) == 1 else f"{Path(args.out)}/*/folds"
                hint = f"; the finished folds are stored in {where}: add --resume to go on"
        print(f"\nskvision: interrupted{hint}", file=sys.stderr)
        return 130
    finally:
        _stop_workers()


def _unrecognized(parser, command, extras):
    """argparse's "unrecognized arguments" in the command's words, with the option likely meant.

    argparse reported a typo in an option of ``compare`` as the top command's
    (``skvision: error: ... (see 'skvision --help')``) and guessed nothing;
    ``--features lbp, hog`` left ``hog`` unrecognized without a word on the space.
    """
    import difflib

    name = parser.prog if command is None else f"{parser.prog} {command}"
    sub = parser
    if command is not None:
        sub = next(a for a in parser._subparsers._group_actions).choices[command]  # argparse's own layout
    options = [option for action in sub._actions for option in action.option_strings]
    hints = []
    if not extras[0].startswith("-"):  # a value no option took (the values after an unknown option are its)
        hints.append(
            f"{extras[0]!r} stands alone: a list of values takes no space after a comma "
            "(--features lbp,hog), or quote it"
        )
    for extra in extras:
        if extra.startswith("--"):
            close = difflib.get_close_matches(extra.split("=", 1)[0].lower(), options, n=1, cutoff=0.75)
            if close:
                hints.append(f"{extra.split('=', 1)[0]}: did you mean {close[0]}?")
    hint = "; " + "; ".join(hints) if hints else ""
    print(
        f"{name}: error: unrecognized arguments: {' '.join(extras)}{hint} (see '{name} --help')",
        file=sys.stderr,
    )
    return 2


@contextlib.contextmanager
def _warnings_as_lines(command):
    """skvision's own warnings printed as ``<command>: warning: <message>``, one line each.

    They speak to the user of the command (a font that lacks glyphs, say);
    Python's format adds the source line that raised them. Other libraries'
    warnings keep Python's format.
    """
    import warnings

    shown = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None):
        if f"{os.sep}skvision{os.sep}" in filename:  # its own (a RuntimeWarning of --tune's failed settings)
            print(f"{command}: warning: {_cli_message(message)}", file=sys.stderr)
        else:
            shown(message, category, filename, lineno, file, line)

    warnings.showwarning = show
    try:
        yield
    finally:
        warnings.showwarning = shown


def _stop_workers():
    """Kill the comparison's worker processes, kept alive for reuse: the command has no more work."""
    scheduler = sys.modules.get("skvision.compare._scheduler")
    if scheduler is not None:
        scheduler.SplitScheduler.stop_workers()
    workers = sys.modules.get("skvision._workers")
    if workers is not None:
        workers.stop_workers()  # spawned early by a command that stopped before comparing


def run(argv=None):
    """The ``skvision`` command's entry point: :func:`main`, then a quick exit.

    Python's exit collects the garbage of every module before it frees them;
    with torch, scikit-learn and matplotlib loaded that is over a second of
    tracing objects that are about to go anyway. Frozen (``gc.freeze``), they
    are still freed by their reference counts, without the tracing; only
    cycles among them stay until the process ends, as every object does after
    ``os._exit``. (Files are written inside ``with`` blocks: nothing waits for
    a collection to be flushed.)

    A reader that leaves early (``skvision features | head -3``) ends the
    command quietly, as other Unix tools do, instead of with a traceback.

    Examples
    --------
    >>> import gc
    >>> status = run(["features"])  # doctest: +ELLIPSIS
    pixels ...
    >>> status, gc.get_freeze_count() > 0
    (0, True)
    >>> gc.unfreeze()  # this process goes on: collect its garbage as usual again
    """
    try:
        status = main(argv)
        sys.stdout.flush()
    except BrokenPipeError:
        # Python would report the pipe again when it flushes stdout at exit: point it at nothing.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        status = 1
    gc.freeze()
    return status


if __name__ == "__main__":  # pragma: no cover
    sys.exit(run())
