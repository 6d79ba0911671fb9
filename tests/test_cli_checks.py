"""`skvision compare` checks its arguments before it works, and says what is wrong in its own words.

Every refusal is one line on stderr with exit status 2, before any fitting; a folder's classes are
counted the same on stdout, in the report and in the loaded data; a reused --out loses the files of
the earlier report, and nothing else.
"""

from __future__ import annotations

import os
import re

import numpy as np
import pytest
from PIL import Image

from skvision.cli import main
from skvision.compare._report import REPORT_FILES, remove_stale_report
from skvision.datasets._folder import REPORT_MARKER


def _run(argv, capsys):
    try:
        status = main(argv)
    except SystemExit as exc:
        status = exc.code
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def _one_line_error(status, err):
    """Exit status 2 and one error line (after one line per warning of the folder reader)."""
    assert status == 2, err
    lines = err.splitlines()
    assert err.endswith("\n") and lines[-1].startswith("skvision compare: error:") and "Traceback" not in err
    assert all(line.startswith("skvision compare: warning:") for line in lines[:-1]), err


def _write_folder(root, classes=("a", "b"), n=6, size=(16, 16), seed=0):
    """A folder of small grey PNGs, ``n`` per class, each class a different mean brightness."""
    rng = np.random.default_rng(seed)
    for k, name in enumerate(classes):
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(n):
            image = np.clip(rng.normal(60 + 120 * k, 30, size), 0, 255).astype(np.uint8)
            Image.fromarray(image).save(folder / f"{i}.png")
    return root


_QUICK = ["--features", "pixels", "--cv", "2", "--embedding", "none", "--device", "cpu", "--quiet"]


@pytest.fixture
def no_work(monkeypatch):
    """Fail the test if the command gets as far as loading data or comparing."""
    import skvision.compare
    import skvision.datasets

    def refuse(*args, **kwargs):
        raise AssertionError("the command started working before checking its arguments")

    monkeypatch.setattr(skvision.datasets, "load_dataset", refuse)
    monkeypatch.setattr(skvision.datasets, "load_image_folder", refuse)
    monkeypatch.setattr(skvision.compare, "compare_features", refuse)


# ------------------------------------------------------------------ --out
def test_an_out_folder_that_cannot_be_made_is_refused_before_any_work(no_work, capsys):
    status, _, err = _run(["compare", "--out", "/proc/x/y", *_QUICK], capsys)
    _one_line_error(status, err)
    assert "argument --out: cannot write the report to '/proc/x/y'" in err


def test_an_out_that_is_a_file_is_refused(tmp_path, no_work, capsys):
    (tmp_path / "report").write_text("mine")
    status, _, err = _run(["compare", "--out", str(tmp_path / "report"), *_QUICK], capsys)
    _one_line_error(status, err)
    assert "exists and is not a folder" in err and (tmp_path / "report").read_text() == "mine"


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="needs a non-root POSIX user")
def test_a_read_only_out_folder_is_refused(tmp_path, no_work, capsys):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        status, _, err = _run(["compare", "--out", str(locked / "report"), *_QUICK], capsys)
    finally:
        locked.chmod(0o755)
    _one_line_error(status, err)
    assert "argument --out: cannot write the report" in err


def test_a_run_refused_after_the_out_check_leaves_no_empty_folder(tmp_path, capsys):
    out = tmp_path / "new" / "report"
    status, _, err = _run(["compare", "--out", str(out), "--max-samples", "5", *_QUICK], capsys)
    _one_line_error(status, err)
    assert not out.exists()


def test_a_reused_out_loses_the_earlier_reports_files_and_keeps_the_users(tmp_path, capsys):
    out = tmp_path / "report"
    out.mkdir()
    (out / REPORT_MARKER).touch()  # a folder an earlier report wrote
    stale = ["report.md", "results.csv", "scores.png", "confusion_gone.png", "embedding_gone.png"]
    mine = ["notes.txt", "photo.png", "my-results.csv"]
    for name in stale + mine:
        (out / name).write_text("old")
    data = _write_folder(tmp_path / "data")
    status, out_text, err = _run(["compare", "--dataset", str(data), "--out", str(out), *_QUICK], capsys)
    assert status == 0, err
    written = sorted(p.name for p in out.iterdir())
    assert "confusion_gone.png" not in written and "embedding_gone.png" not in written
    for name in mine:
        assert (out / name).read_text() == "old", name
    assert (out / "report.md").read_text() != "old" and (out / "results.csv").read_text() != "old"
    # Every file the report wrote is one remove_stale_report knows, so a later run can clean it.
    ours = [name for name in written if name not in mine]
    assert remove_stale_report(out)
    # What is left: the user's files, and the fold store (--resume's; a run without --resume clears it).
    # and the mark that keeps a folder of images from reading the report back.
    assert sorted(p.name for p in out.iterdir()) == sorted([*mine, "folds", REPORT_MARKER]), ours
    assert (out / "folds").is_dir()
    assert REPORT_FILES[:2] == ("report.md", "results.csv")


def test_an_out_that_no_report_wrote_keeps_files_of_a_reports_names(tmp_path, no_work, capsys):
    # A folder of the user's with its own report.md and results.csv, and no report's mark: they were
    # deleted as "files of an earlier report" and replaced.
    out = tmp_path / "mydocs"
    out.mkdir()
    for name in ("report.md", "results.csv", "scores.png", "notes.md"):
        (out / name).write_text("mine")
    status, _, err = _run(["compare", "--out", str(out), *_QUICK], capsys)
    _one_line_error(status, err)
    assert "holds report.md, results.csv, scores.png, which no skvision report wrote there" in err
    assert all((out / name).read_text() == "mine" for name in ("report.md", "results.csv", "scores.png"))
    assert sorted(p.name for p in out.iterdir()) == ["notes.md", "report.md", "results.csv", "scores.png"]


def test_several_data_sets_check_out_and_folder_options_before_any_work(tmp_path, no_work, capsys):
    status, _, err = _run(["compare", "--dataset", "digits,faces", "--out", "/proc/x/y", *_QUICK], capsys)
    _one_line_error(status, err)
    assert "argument --out: cannot write the report to '/proc/x/y'" in err
    status, _, err = _run(
        ["compare", "--dataset", "digits,faces", "--on-error", "skip", "--out", str(tmp_path), *_QUICK],
        capsys,
    )
    _one_line_error(status, err)
    assert "apply to image folders, not bundled data sets" in err


def test_several_data_sets_refused_on_the_first_leave_no_empty_folder(tmp_path, capsys):
    out = tmp_path / "new" / "report"
    argv = ["compare", "--dataset", "digits,faces", "--out", str(out), "--max-samples", "5", *_QUICK]
    status, _, err = _run(argv, capsys)
    _one_line_error(status, err)
    assert "argument --max-samples" in err and not out.exists()


def test_a_reused_out_of_several_data_sets_loses_the_ranking_files(tmp_path):
    for name in ("report.md", "report.html", "ranks.csv", "critical_difference.png", "mine.csv"):
        (tmp_path / name).write_text("old")
    (tmp_path / "digits").mkdir()  # a data set's sub-report: cleaned by its own run, not here
    removed = sorted(path.name for path in remove_stale_report(tmp_path))
    assert removed == ["critical_difference.png", "ranks.csv", "report.html", "report.md"]
    assert sorted(path.name for path in tmp_path.iterdir()) == ["digits", "mine.csv"]


def test_a_reused_out_loses_the_sub_reports_of_an_earlier_run_over_several_data_sets(tmp_path, capsys):
    # Before, a single data set's report into the folder of a report over cats,dogs left the cats/ and
    # dogs/ sub-reports in place: old numbers beside the new report.
    cats, dogs = _write_folder(tmp_path / "cats"), _write_folder(tmp_path / "dogs", seed=1)
    out = tmp_path / "report"
    argv = ["compare", "--dataset", f"{cats},{dogs}", "--out", str(out), *_QUICK]
    status, _, err = _run(argv, capsys)
    assert status == 0, err
    assert (out / "cats" / "report.md").is_file() and (out / "dogs" / "report.md").is_file()
    (out / "dogs" / "my-notes.txt").write_text("mine")
    status, _, err = _run(["compare", "--dataset", str(cats), "--out", str(out), *_QUICK], capsys)
    assert status == 0, err
    # What stays in each: the fold store (--resume's) and the user's file.
    assert sorted(p.name for p in (out / "cats").iterdir()) == [REPORT_MARKER, "folds"]
    assert sorted(p.name for p in (out / "dogs").iterdir()) == [REPORT_MARKER, "folds", "my-notes.txt"]
    assert (out / "report.md").is_file() and not (out / "ranks.csv").exists()


def test_max_samples_over_the_data_set_compares_it_whole_and_says_no_subset(tmp_path, capsys):
    out = tmp_path / "r"
    status, _, _ = _run(
        ["compare", "--dataset", "faces", "--max-samples", "5000", "--out", str(out), *_QUICK], capsys
    )
    assert status == 0
    report = (out / "report.md").read_text()
    assert "200 images of" in report and "--max-samples subset" not in report


def test_max_samples_that_would_drop_a_small_class_is_refused_naming_it(tmp_path, monkeypatch, capsys):
    # A stratified subset of 10 kept none of the 3 images of 'rare': the comparison ran on two
    # classes, exit 0, without a word.
    import skvision.compare

    monkeypatch.setattr(skvision.compare, "compare_features", lambda *a, **k: pytest.fail("compared"))
    data = _write_folder(tmp_path / "data", classes=("a", "b"), n=60)
    _write_folder(tmp_path / "data", classes=("rare",), n=3, seed=1)
    argv = ["compare", "--dataset", str(data), "--max-samples", "10", "--out", str(tmp_path / "r"), *_QUICK]
    status, _, err = _run(argv, capsys)
    _one_line_error(status, err)
    assert "keeps 0 of the 3 images of class 'rare', and --cv 2 needs 2" in err
    assert "raise --max-samples to about 82 or leave the class out with --classes" in err


def test_the_report_lists_the_misclassified_files(tmp_path, capsys):
    # The error figure showed "true -> predicted" thumbnails and no file names anywhere.
    import csv

    data = _write_folder(tmp_path / "data", classes=("a", "b", "c"), n=8)
    for i in range(8):  # c looks like a: errors to list
        Image.open(data / "a" / f"{i}.png").save(data / "c" / f"{i}.png")
    out = tmp_path / "report"
    status, _, err = _run(["compare", "--dataset", str(data), "--out", str(out), *_QUICK], capsys)
    assert status == 0, err
    with open(out / "misclassified.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows and {row["feature set"] for row in rows} == {"pixels"}
    for row in rows:
        assert row["true"] != row["predicted"]
        assert os.path.basename(os.path.dirname(row["file"])) == row["true"]
        assert os.path.isfile(row["file"]) and row["fold"] in ("1", "2")
    summary = re.search(r"(\d+) of 24 held-out images misclassified", (out / "report.md").read_text())
    assert summary and int(summary.group(1)) == len(rows)
    assert "listed, by file, in misclassified.csv" in (out / "report.md").read_text()


def test_a_folder_named_like_a_bundled_data_set_is_refused_with_both_spellings(tmp_path, monkeypatch, capsys):
    # Before, the bundled faces ran in place of the user's ./faces, without a word.
    monkeypatch.chdir(tmp_path)
    _write_folder(tmp_path / "faces", classes=("alice", "bob"))
    for dataset in ("faces", "faces,digits"):
        status, _, err = _run(["compare", "--dataset", dataset, "--out", "out", *_QUICK], capsys)
        _one_line_error(status, err)
        assert "names both a bundled data set and the folder" in err and "'./faces' for the folder" in err
        assert not (tmp_path / "out").exists()
    status, out_text, err = _run(["compare", "--dataset", "./faces", "--out", "out", *_QUICK], capsys)
    assert status == 0, err
    assert "2 classes (alice, bob)" in (tmp_path / "out" / "report.md").read_text()


def test_an_out_folder_inside_the_image_folder_is_not_read_back(tmp_path, monkeypatch, capsys):
    # Before, the second run read the first run's figures as a class "skvision-report" (or, with
    # --on-error raise, refused them as bad files), and the first warned of an empty folder.
    data = _write_folder(tmp_path / "data", n=8)
    monkeypatch.chdir(data)
    argv = ["compare", "--dataset", ".", *_QUICK[:-1]]
    for _ in range(2):
        status, _, err = _run(argv, capsys)
        assert status == 0, err
        assert "warning" not in err
        assert ".: 16 images of 16x16, 2 classes (a, b);" in err
    report = (data / "skvision-report" / "report.md").read_text()
    assert report.startswith("# skvision compare: data\n")  # the folder's name, not ''
    assert "1 skvision report folder" in report
    for on_error in ("skip", "raise"):
        nested = ["compare", "--dataset", str(data), "--out", str(data / "a" / "run"), "--on-error", on_error]
        status, _, err = _run([*nested, *_QUICK], capsys)
        assert status == 0, err
    assert "16 images" in (data / "a" / "run" / "report.md").read_text()


def test_an_out_that_is_the_image_folder_or_one_of_its_classes_is_refused(tmp_path, no_work, capsys):
    # --out data/b marked class b as a report: the run compared the other classes and exited 0;
    # --out data put the report's files among the classes, read as bad images by the next run.
    data = _write_folder(tmp_path / "data", classes=("a", "b", "c"))
    refusals = ((data / "b", "is the class folder 'b' of --dataset"), (data, "is the --dataset folder"))
    for out, says in refusals:
        status, _, err = _run(["compare", "--dataset", str(data), "--out", str(out), *_QUICK], capsys)
        _one_line_error(status, err)
        assert says in err and not (out / REPORT_MARKER).exists()
    several = ["compare", "--dataset", f"digits,{data}", "--out", str(data / "c"), *_QUICK]
    status, _, err = _run(several, capsys)
    _one_line_error(status, err)
    assert "is the class folder 'c'" in err


def test_a_folder_of_splits_is_refused_not_compared_as_two_classes(tmp_path, no_work, capsys):
    # data/train/a, data/test/a, ...: read from data, "train" and "test" were the classes (a warning,
    # then a whole comparison of how well each feature set tells training images from test images).
    data = tmp_path / "data"
    for split in ("train", "test"):
        _write_folder(data / split)
    (data / "train" / "README.txt").write_text("not an image")  # a stray file keeps it a split
    for dataset in (str(data), f"digits,{data}"):
        argv = ["compare", "--dataset", dataset, "--out", str(tmp_path / "out"), *_QUICK]
        status, _, err = _run(argv, capsys)
        _one_line_error(status, err)
        assert "are test, train, a data set's splits" in err and f"--dataset {data / 'train'}" in err
        assert not (tmp_path / "out").exists()
    # Classes named like splits that hold their images, or a split folder beside a class: compared.
    from skvision.datasets._folder import split_folders

    assert split_folders(data) == ["test", "train"] and split_folders(data / "train") == []
    (data / "test" / "stray.png").write_bytes(b"")
    assert split_folders(data) == []
    assert split_folders(_write_folder(tmp_path / "plain", classes=("train", "test"))) == []


def test_remove_stale_report_leaves_a_folder_without_a_report_alone(tmp_path):
    (tmp_path / "scores.png").write_text("a user's own file")
    assert remove_stale_report(tmp_path) == []
    assert (tmp_path / "scores.png").exists()


# ------------------------------------------------------------------ arguments in CLI words
def test_max_samples_below_the_number_of_classes_says_so_in_cli_words(no_work, monkeypatch, capsys):
    import skvision.datasets

    monkeypatch.undo()  # the digits are loaded (the check needs the classes), nothing is fitted
    import skvision.compare

    monkeypatch.setattr(skvision.compare, "compare_features", lambda *a, **k: pytest.fail("compared"))
    status, _, err = _run(["compare", "--max-samples", "5", *_QUICK], capsys)
    _one_line_error(status, err)
    assert "argument --max-samples: a stratified subset of 5 of the 1797 images" in err
    assert "10 classes" in err and "pass a number from 10 to 1787" in err
    assert "train_size" not in err and "test_size" not in err
    assert skvision.datasets.load_dataset  # still the real one


def test_mixed_sizes_ask_for_image_size_in_cli_words(tmp_path, capsys):
    data = _write_folder(tmp_path / "data", n=3)
    _write_folder(tmp_path / "data", classes=("b",), n=2, size=(20, 12), seed=1)
    status, _, err = _run(["compare", "--dataset", str(data), "--out", str(tmp_path / "o"), *_QUICK], capsys)
    _one_line_error(status, err)
    assert "different sizes" in err and "pass --image-size HxW" in err and "image_size=(" not in err

    # With --on-error warn, the bad files left out are named before the size error, not lost with it.
    (data / "a" / "notes.txt").write_text("not an image")
    argv = ["compare", "--dataset", str(data), "--out", str(tmp_path / "o"), "--on-error", "warn", *_QUICK]
    status, _, err = _run(argv, capsys)
    warning, error = err.splitlines()
    assert status == 2 and warning.startswith("skvision compare: warning: Skipped 1 file")
    assert "notes.txt" in warning
    assert "different sizes" in error and "notes.txt" not in error


def test_bad_files_are_listed_at_once_and_on_error_decides(tmp_path, capsys):
    data = _write_folder(tmp_path / "data")
    (data / "a" / "notes.txt").write_text("not an image")
    (data / "b" / "empty.png").write_bytes(b"")
    argv = ["compare", "--dataset", str(data), "--out", str(tmp_path / "o"), *_QUICK]
    status, _, err = _run(argv, capsys)
    _one_line_error(status, err)
    assert "notes.txt" in err and "empty.png" in err and "--on-error warn" in err and "on_error=" not in err
    assert "could not be read as images: " in err and ":;" not in err  # the list follows its colon
    # Files are items of the list ("; "), the advice a sentence of its own.
    assert re.search(r"notes\.txt: [^;]*; \S*empty\.png: .*\)\. Pass --on-error warn", err), err

    status, printed, err = _run([*argv, "--on-error", "warn"], capsys)
    assert status == 0, err
    assert err.startswith("skvision compare: warning: Skipped 2 files") and "notes.txt" in err
    assert err.count("\n") == 1, "one line per warning"

    status, _, err = _run([*argv, "--on-error", "skip"], capsys)
    assert status == 0 and err == ""


def test_exact_copies_stay_in_one_fold(tmp_path, monkeypatch, capsys):
    import skvision.compare

    data = _write_folder(tmp_path / "data", n=8)
    for source, copy in (("a/0.png", "b/copy.png"), ("a/1.png", "a/again.png"), ("b/2.png", "b/twice.png")):
        (data / copy).write_bytes((data / source).read_bytes())
    seen = {}
    original = skvision.compare.compare_features

    def spy(X, y, features, **kwargs):
        seen["groups"] = kwargs["groups"]
        return original(X, y, features, **kwargs)

    monkeypatch.setattr(skvision.compare, "compare_features", spy)
    out = tmp_path / "o"
    argv = ["compare", "--dataset", str(data), "--out", str(out), "--features", "pixels", "--cv", "2"]
    status, _, err = _run([*argv, "--embedding", "none", "--device", "cpu"], capsys)
    assert status == 0, err
    assert "warning: 3 images of" in err and "skvision compare does this" in err
    assert "(the 3 exact copies stay in the fold of the image they copy: group folds)" in err
    assert "stratified, exact copies kept in one fold (seed 0)" in (out / "report.md").read_text()
    # 19 images in 16 groups: each copy shares its original's group.
    assert len(seen["groups"]) == 19 and len(set(seen["groups"].tolist())) == 16

    # Without copies the folds stay the plain stratified ones (and the notes say nothing of groups).
    for copy in ("b/copy.png", "a/again.png", "b/twice.png"):
        (data / copy).unlink()
    status, _, err = _run([*argv, "--embedding", "none", "--device", "cpu"], capsys)
    assert status == 0 and seen["groups"] is None and "exact copies" not in err


def test_a_class_of_fewer_distinct_images_than_folds_is_refused(tmp_path, capsys):
    # Four files of class b, but two of them copies: group folds left b out of a test fold, and
    # its per-class scores read 0 for every feature set.
    data = _write_folder(tmp_path / "data", n=6)
    for i in range(2, 6):
        (data / "b" / f"{i}.png").unlink()
    for i in range(2):
        (data / "b" / f"copy{i}.png").write_bytes((data / "b" / f"{i}.png").read_bytes())
    quick = ["--features", "pixels", "--embedding", "none", "--device", "cpu", "--out", str(tmp_path / "o")]
    status, _, err = _run(["compare", "--dataset", str(data), "--cv", "3", *quick], capsys)
    _one_line_error(status, err)
    assert "3 folds need at least 3 distinct images of every class" in err
    assert "class 'b' has 2, the other 2 of its images copies of them" in err


def test_a_class_of_fewer_images_than_folds_is_named(tmp_path, capsys):
    """'the smallest class has 1' left the user to find which of 16 folders it was."""
    data = _write_folder(tmp_path / "data", classes=("a", "b", "tiny"), n=6)
    for i in range(1, 6):
        (data / "tiny" / f"{i}.png").unlink()
    quick = ["--features", "pixels", "--embedding", "none", "--device", "cpu", "--out", str(tmp_path / "o")]
    status, _, err = _run(["compare", "--dataset", str(data), "--cv", "3", *quick], capsys)
    _one_line_error(status, err)
    assert "the smallest class has 1 ('tiny' has fewer than 3: lower --cv, or add images)" in err


def test_the_command_says_which_networks_see_downscaled_images(tmp_path, monkeypatch, capsys):
    import skvision.compare

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt  # stop before any training: the lines before are the point

    monkeypatch.setattr(skvision.compare, "compare_features", interrupted)
    data = _write_folder(tmp_path / "data", size=(80, 40))
    out = str(tmp_path / "o")
    argv = ["compare", "--dataset", str(data), "--features", "hog,gan", "--cv", "2", "--out", out]
    _, _, err = _run(argv, capsys)
    assert "(the networks trained from scratch see the images downscaled: gan to 32x16)" in err


def test_folder_options_on_a_bundled_data_set_are_refused(no_work, capsys):
    for option in (["--on-error", "skip"], ["--classes", "a,b"]):
        status, _, err = _run(["compare", *option, *_QUICK], capsys)
        _one_line_error(status, err)
        assert "apply to image folders, not bundled data sets" in err


# ------------------------------------------------------------------ classes
def test_a_folder_that_leaves_one_class_is_a_cli_error(tmp_path, capsys):
    data = _write_folder(tmp_path / "data", classes=("only",))
    (data / "empty").mkdir()
    (data / "__MACOSX").mkdir()
    status, _, err = _run(["compare", "--dataset", str(data), "--out", str(tmp_path / "o"), *_QUICK], capsys)
    _one_line_error(status, err)
    assert "holds images of a single class ('only')" in err
    assert "number of classes has to be greater than one" not in err


def test_classes_printed_reported_and_loaded_agree(tmp_path, capsys):
    from skvision.datasets import load_image_folder

    data = _write_folder(tmp_path / "data", classes=("c0", "c1"))
    (data / "__MACOSX" / "c0").mkdir(parents=True)
    (data / "__MACOSX" / "c0" / "._0.png").write_bytes(b"\x00\x05")
    (data / "empty").mkdir()
    (data / ".DS_Store").write_bytes(b"\x00")
    out = tmp_path / "o"
    argv = ["compare", "--dataset", str(data), "--out", str(out), "--features", "pixels", "--cv", "2"]
    status, printed, err = _run([*argv, "--embedding", "none", "--device", "auto"], capsys)
    assert status == 0, err
    with pytest.warns(UserWarning, match="Folders with no files are not classes: empty"):
        loaded = load_image_folder(data)
    assert loaded.target_names.tolist() == ["c0", "c1"]
    assert "12 images of 16x16, 2 classes" in err  # the run's header is progress: stderr
    report = (out / "report.md").read_text()
    assert "in 2 classes (c0, c1)" in report and "__MACOSX" not in report.split("## Scores")[1]
    # The device the run used, not the option's 'auto'.
    from skvision._device import resolve_device

    assert re.search(rf"device: {resolve_device('auto')}\b", report) and "device: auto" not in report
    assert "warning: Folders with no files are not classes: empty" in err


def test_the_order_of_classes_changes_no_score(tmp_path, capsys):
    """--classes b,a read b first: other folds, other scores for the same images (lbp 0.583 against 0.479)."""
    import csv

    rng = np.random.default_rng(1)
    data = tmp_path / "data"
    for k, name in enumerate(("a", "b", "c")):
        (data / name).mkdir(parents=True)
        for i in range(9):
            noisy = np.clip(rng.normal(100 + 15 * k, 40, (12, 12)), 0, 255).astype(np.uint8)
            Image.fromarray(noisy).save(data / name / f"{i}.png")
    (data / "c" / "copy.png").write_bytes((data / "a" / "0.png").read_bytes())  # a copy: groups move too
    scores = []
    for order in ("a,b,c", "c,a,b", "b,c,a"):
        out = tmp_path / order.replace(",", "")
        argv = [
            "compare",
            "--dataset",
            str(data),
            "--classes",
            order,
            "--out",
            str(out),
            "--features",
            "pixels",
        ]
        options = ["--cv", "3", "--repeats", "2", "--max-samples", "24", "--embedding", "none", "--quiet"]
        status, _, err = _run([*argv, *options, "--device", "cpu"], capsys)
        assert status == 0, err
        with open(out / "fold-scores.csv") as rows:
            scores.append([row["accuracy"] for row in csv.DictReader(rows)])
    assert len(scores[0]) == 6 and scores[0] == scores[1] == scores[2]


def test_classes_option_picks_folders_and_refuses_a_class_without_images(tmp_path, capsys):
    data = _write_folder(tmp_path / "data", classes=("a", "b", "c"))
    out = tmp_path / "o"
    argv = ["compare", "--dataset", str(data), "--out", str(out), "--embedding", "none", "--device", "cpu"]
    status, printed, err = _run([*argv, "--features", "pixels", "--cv", "2", "--classes", "c,a"], capsys)
    assert status == 0, err
    assert "12 images of 16x16, 2 classes" in err  # the run's header is progress: stderr
    assert "in 2 classes (c, a)" in (out / "report.md").read_text()
    assert "not in --classes are left out: 'b' (6 files)" in err

    status, _, err = _run([*argv, "--features", "pixels", "--classes", "a,zebra"], capsys)
    _one_line_error(status, err)
    assert "argument --classes: no images of 'zebra'" in err
    assert "Classes with no images" not in err  # not a warning that "scores stay right", then an error
    status, _, err = _run([*argv, "--features", "pixels", "--classes", "a,b,a"], capsys)
    _one_line_error(status, err)
    assert "argument --classes: 'a' named more than once" in err


def _write_regression(root, n=40, seed=0):
    """``root/imgs/k.png`` of a brightness that grows with its number, and ``targets.csv`` of them."""
    rng = np.random.default_rng(seed)
    (root / "imgs").mkdir(parents=True)
    lines = ["file,level,noise"]
    for k in range(n):
        level = int(rng.integers(0, 9))
        image = np.clip(rng.normal(20 + 25 * level, 8, (12, 12)), 0, 255).astype(np.uint8)
        Image.fromarray(image).save(root / "imgs" / f"{k}.png")
        lines.append(f"imgs/{k}.png,{level},{rng.random():.3f}")
    (root / "targets.csv").write_text("\n".join(lines) + "\n")
    return root


def test_targets_compare_a_regression_of_whole_numbers(tmp_path, capsys):
    # The levels are whole numbers, which a folder of classes would compare as 9 classes: --targets
    # says they are numbers.
    data = _write_regression(tmp_path / "my data")  # a space: the recorded command quotes it
    out = tmp_path / "r"
    argv = ["compare", "--dataset", str(data), "--targets", str(data / "targets.csv"), "--target-column"]
    argv += ["level", "--out", str(out), *_QUICK]
    status, table, err = _run(argv, capsys)
    assert status == 0, err
    header, _, pixels = table.splitlines()[:3]
    assert header.split()[4] == "r2" and float(pixels.split()[3]) > 0.9, table
    report = (out / "report.md").read_text()
    assert "40 images of 12x12, target 'level' from 0 to 8" in report and "2-fold CV, shuffled" in report
    assert not (out / "misclassified.csv").exists() and (out / "fold-scores.csv").exists()
    # What a rerun needs: the command as given to main (quoted for a shell), the versions and threads.
    import shlex

    assert (
        f"- command: skvision {shlex.join(argv)}" in report
        and f"--dataset {shlex.quote(str(data))}" in report
    )
    assert re.search(
        r"- software: skvision \S+, Python [\d.]+, numpy .*scikit-learn .*; machine: .*, \d+ cores", report
    )
    # The same folds and scores as compare_features on the numbers (shuffled KFold, seed 0).
    from sklearn.model_selection import KFold, cross_val_score

    from skvision.compare import make_estimator
    from skvision.datasets import load_image_targets

    loaded = load_image_targets(data, data / "targets.csv", target_column="level")
    order = np.argsort(loaded.filenames, kind="stable")  # the command takes the images by file
    loaded.images, loaded.target, loaded.filenames = (
        loaded.images[order],
        loaded.target[order],
        loaded.filenames[order],
    )
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    flat = FunctionTransformer(lambda images: images.reshape(len(images), -1) / 255.0)
    pipeline = make_pipeline(flat, make_estimator("svc", "regression", 0))
    folds = KFold(2, shuffle=True, random_state=0)
    expected = cross_val_score(pipeline, loaded.images, loaded.target, cv=folds)
    # Each image's test fold, by file: the same folds, rebuilt whatever the files are named later.
    import csv

    with open(out / "fold-assignment.csv", newline="") as handle:
        assigned = {row["file"]: int(row["fold"]) for row in csv.DictReader(handle) if row["repeat"] == "1"}
    assert len(assigned) == 40
    for fold, (_, test) in enumerate(folds.split(loaded.images), start=1):
        assert {loaded.filenames[i] for i in test} == {f for f, k in assigned.items() if k == fold}
    # The CSV's rows in another order: the same folds and scores (they follow the files).
    header, *rows = (data / "targets.csv").read_text().splitlines()
    (data / "reversed.csv").write_text("\n".join([header, *rows[::-1]]) + "\n")
    again = tmp_path / "again"
    argv = [*argv[: argv.index("--targets") + 1], str(data / "reversed.csv"), "--target-column", "level"]
    status, _, err = _run([*argv, "--out", str(again), *_QUICK], capsys)
    assert status == 0, err
    assert (again / "fold-scores.csv").read_text().split("\n")[1].split(",")[6] == (
        out / "fold-scores.csv"
    ).read_text().split("\n")[1].split(",")[6]
    np.testing.assert_allclose(
        np.loadtxt(out / "fold-scores.csv", delimiter=",", skiprows=1, usecols=6), expected
    )


@pytest.mark.parametrize(
    "extra, message",
    [
        (
            ["--scoring", "accuracy"],
            "argument --scoring: accuracy scores classes; a regression (--targets) is scored by r2",
        ),
        (["--classes", "a,b"], "--classes applies to a folder of classes, not with --targets"),
        (["--target-column", "height"], "argument --targets: target column 'height' is not in"),
        ([], "several target columns (level, noise)"),
    ],
)
def test_targets_options_that_do_not_fit_are_refused(tmp_path, capsys, extra, message):
    data = _write_regression(tmp_path / "data", n=6)
    argv = ["compare", "--dataset", str(data), "--targets", str(data / "targets.csv"), *extra]
    status, _, err = _run([*argv, "--out", str(tmp_path / "r"), *_QUICK], capsys)
    _one_line_error(status, err)
    assert message in err


def test_regression_words_without_targets_are_refused(tmp_path, capsys):
    data = _write_regression(tmp_path / "data", n=6)
    for argv, message in (
        (
            ["--scoring", "r2"],
            "argument --scoring: r2 scores a regression; give each image's number with --targets",
        ),
        (["--target-column", "level"], "--target-column applies with --targets"),
        (["--dataset", "digits", "--targets", str(data / "targets.csv")], "is not one"),
        (["--dataset", "digits,faces", "--targets", str(data / "targets.csv")], "not of several data sets"),
    ):
        status, _, err = _run(["compare", *argv, "--out", str(tmp_path / "r"), *_QUICK], capsys)
        _one_line_error(status, err)
        assert message in err
