import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from skvision import cli
from skvision.cli import build_parser, main


def option_strings(parser):
    return [s for action in parser._actions for s in action.option_strings if s not in ("-h", "--help")]


def test_help_explains_every_option(capsys):
    parser = build_parser()
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    assert "compare" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exit_info:
        main(["compare", "--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    compare_parser = parser._subparsers._group_actions[0].choices["compare"]
    options = option_strings(compare_parser)
    required = {"--dataset", "--features", "--classifier", "--cv", "--n-jobs", "--device", "--seed", "--out"}
    assert required <= set(options)
    for action in compare_parser._actions:
        assert action.help, f"{action.option_strings} has no help"
    for option in options:
        assert option in text
    for family in ("lbp", "hog", "cnn", "autoencoder", "pretrained", "glcm", "bovw"):
        assert family in text


@pytest.mark.parametrize(
    "argv, message",
    [
        (["compare", "--cv", "1"], "argument --cv: must be at least 2"),
        (["compare", "--cv", "three"], "argument --cv: expected an integer"),
        (["compare", "--features", "lbp,sift"], "unknown feature family 'sift'"),
        (["compare", "--features", ","], "argument --features: an empty name in ','"),
        (["compare", "--classifier", "tree"], "argument --classifier: invalid choice"),
        (["compare", "--dataset", "no/such/folder"], "neither a bundled data set"),
        (["compare", "--device", "gpu"], "argument --device: expected auto, cpu"),
        (["compare", "--n-jobs", "0"], "argument --n-jobs: 0 is not a number of jobs"),
        (["compare", "--image-size", "64x"], "argument --image-size"),
        (["compare", "--image-size", "32x32"], "apply to image folders"),
        (["compare", "--max-samples", "20", "--cv", "5"], "and --cv 5 needs 5: raise --max-samples"),
        (
            ["compare", "--bogus"],
            "skvision compare: error: unrecognized arguments: --bogus (see 'skvision compare",
        ),
        # A typo named the top command ("skvision: error:", "see 'skvision --help'") and guessed nothing.
        (
            ["compare", "--featurs", "lbp"],
            "--featurs lbp; --featurs: did you mean --features? (see 'skvision compare",
        ),
        (
            ["compare", "--features", "lbp,", "hog"],
            "'hog' stands alone: a list of values takes no space after a comma",
        ),
        (["compare", "--repeats", "0"], "argument --repeats: must be at least 1"),
        (["compare", "--seed", "-1"], "argument --seed: must be at least 0"),
        (
            ["compare", "--image-size", "99999x99999"],
            "argument --image-size: 99999x99999 is 9,999,800,001 pixels",
        ),
        (["compare", "--seed", str(2**32)], "argument --seed: must be at most 2**32 - 1"),
        (["compare", "--tune", "--tune-budget", "0"], "argument --tune-budget: must be at least 1"),
        (["compare", "--tune", "--tune-cv", "1"], "argument --tune-cv: must be at least 2"),
        (["compare", "--tune-budget", "5"], "--tune-budget and --tune-cv apply with --tune"),
        (["compare", "--quiet", "--verbose"], "argument --verbose: not allowed with argument --quiet"),
        (["compare", "--features", "hog+sift"], "unknown feature family 'sift'; "),  # named once
        (["compare", "--features", "lbp+lbp"], "'lbp+lbp' fuses a family with itself"),
        (["compare", "--features", "lbp,,hog"], "argument --features: an empty name in 'lbp,,hog'"),
        (["compare", "--features", "lbp+,hog"], "argument --features: an empty name"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        ([], "choose a command"),
    ],
)
def test_bad_argument_exits_2_with_one_line(argv, message, capsys):
    try:
        status = main(argv)
    except SystemExit as exc:
        status = exc.code
    err = capsys.readouterr().err
    assert status == 2
    assert err.count("\n") == 1 and message in err and "Traceback" not in err
    assert err.startswith("skvision")


def test_cuda_request_without_a_gpu_is_a_bad_argument(capsys):
    import torch

    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    assert main(["compare", "--device", "cuda"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "argument --device: --device cuda was requested but torch sees no CUDA device" in err
    assert "Use --device cpu or --device auto" in err


def test_mps_request_without_apples_gpu_is_a_bad_argument(capsys):
    import torch

    if torch.backends.mps.is_available():
        pytest.skip("Apple's GPU is present")
    assert main(["compare", "--device", "mps"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "argument --device: --device mps asks for Apple's GPU" in err


def test_console_command_reports_a_bad_argument_without_traceback():
    completed = subprocess.run(
        [sys.executable, "-m", "skvision", "compare", "--dataset", "nowhere"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 2
    assert completed.stderr.count("\n") == 1 and "Traceback" not in completed.stderr
    assert "'nowhere' is neither a bundled data set" in completed.stderr


def test_console_command_ends_quietly_when_its_reader_leaves():
    # `skvision features | head -1`: the reader closes the pipe before the command writes to it.
    command = subprocess.Popen(
        [sys.executable, "-m", "skvision", "features"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    command.stdout.close()
    stderr = command.stderr.read()
    assert command.wait(timeout=120) == 1
    assert stderr == "", stderr


def test_the_command_kills_the_comparison_workers_at_its_end(monkeypatch, capsys):
    # Workers outlive a comparison for reuse; the command has no more use for them, and waiting for
    # each to exit by itself took 1.7 s at the end of every `compare --n-jobs 2`.
    from skvision.compare._scheduler import SplitScheduler

    stopped = []
    monkeypatch.setattr(SplitScheduler, "stop_workers", classmethod(lambda cls: stopped.append(cls)))
    assert main(["compare", "--dataset", "nowhere"]) == 2
    assert stopped == [SplitScheduler]


def test_compare_spawns_its_workers_before_reading_the_images(monkeypatch, capsys, tmp_path):
    # The workers' imports (scikit-learn, torch) run while this process reads the images.
    from skvision import _workers

    events = []
    monkeypatch.setattr(
        _workers, "spawn_early", lambda n_jobs, features: events.append(("spawn", n_jobs, features))
    )

    def load(args):
        events.append("load")
        raise KeyboardInterrupt  # stop here: what came before is the point

    monkeypatch.setattr(cli, "_load_data", load)
    arguments = [
        "--dataset",
        "digits",
        "--n-jobs",
        "2",
        "--features",
        "hog,cnn",
        "--out",
        str(tmp_path / "r"),
    ]
    assert main(["compare", *arguments]) == 130
    assert events == [("spawn", 2, "hog,cnn"), "load"]


def test_compare_on_a_bundled_dataset_prints_the_table_and_writes_the_report(tmp_path, capsys):
    out = tmp_path / "report"
    status = main(
        [
            "compare",
            "--dataset",
            "faces",
            "--features",
            "pixels,hog,cnn",
            "--cv",
            "3",
            "--embedding",
            "pca",
            "--fast",
            "--device",
            "cpu",
            "--out",
            str(out),
        ]
    )
    printed = capsys.readouterr().out
    assert status == 0
    table = printed[printed.index("feature set") :]
    for name in ("pixels", "hog", "cnn"):
        assert f"\n{name} " in table
    assert "accuracy" in table and "transform images/s" in table
    report = (out / "report.md").read_text()
    assert "## cnn" in report and "training_cnn.png" in report
    hog_accuracy = float(table.split("\nhog ")[1].split("±")[0].split()[-1])
    assert hog_accuracy > 0.9


def test_stdout_holds_the_table_and_stderr_the_progress(tmp_path, capsys):
    argv = ["compare", "--dataset", "faces", "--features", "pixels,hog", "--cv", "2", "--embedding", "pca"]
    assert main([*argv, "--out", str(tmp_path)]) == 0
    out, err = capsys.readouterr()
    table, report = out.split("\n\nReport: ")
    lines = table.splitlines()
    assert lines[0].startswith("feature set") and set(lines[1]) == {"-", " "}
    assert sorted(line.split()[0] for line in lines[2:]) == ["hog", "pixels"]
    assert report.startswith(str(tmp_path / "report.md")) and report.count("\n") == 1
    assert "faces: 200 images of 25x25" in err
    for line in ("pixels: fold 1/2: accuracy", "hog: fold 2/2: accuracy", "hog: accuracy"):
        assert line in err
    for stage in ("writing the report to", "writing the figures: scores", "PCA map of hog (100 points)"):
        assert stage in err
    assert "epoch" not in err
    assert main([*argv, "--out", str(tmp_path), "--quiet"]) == 0
    quiet = capsys.readouterr()
    assert quiet.err == "" and quiet.out.split("\n\nReport: ")[0].splitlines()[0].startswith("feature set")


def test_verbose_adds_the_networks_epochs_on_stderr(tmp_path, capsys):
    argv = ["compare", "--dataset", "faces", "--features", "cnn", "--cv", "2", "--fast", "--device", "cpu"]
    assert main([*argv, "--embedding", "none", "--out", str(tmp_path), "--verbose"]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("feature set") and "epoch" not in out and "train_loss" not in out
    assert "train_loss" in err and "cnn: fold 2/2: accuracy" in err


def test_tuned_repeated_fused_comparison_from_the_command_line(tmp_path, capsys):
    argv = ["compare", "--dataset", "faces", "--features", "lbp+hog", "--cv", "2", "--repeats", "2"]
    argv += ["--tune", "--tune-budget", "2", "--tune-cv", "2", "--embedding", "none", "--out", str(tmp_path)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert sorted(line.split()[0] for line in out.split("\n\nReport")[0].splitlines()[2:]) == [
        "hog",
        "lbp",
        "lbp+hog",
    ]
    assert "fused" in out
    report = (tmp_path / "report.md").read_text()
    assert "## Tuned settings" in report and "| lbp+hog | 2 | 2 |" in report and "C=" in report
    assert "2-fold CV repeated 2 times" in report
    assert len(list((tmp_path / "folds").rglob("*.pkl"))) == 3 * 4


def test_an_interrupted_compare_says_how_to_resume(tmp_path, capsys, monkeypatch):
    import skvision.compare

    def interrupted(*args, store, **kwargs):
        store.mkdir(parents=True)
        raise KeyboardInterrupt

    monkeypatch.setattr(skvision.compare, "compare_features", interrupted)
    assert main(["compare", "--dataset", "faces", "--features", "hog", "--out", str(tmp_path)]) == 130
    err = capsys.readouterr().err
    assert err.rstrip().endswith(
        f"interrupted; the finished folds are stored in {tmp_path / 'folds'}: add --resume to go on"
    )


def write_image_folder(root, n_per_class=8):
    from skvision.datasets import load_textures

    X, y = load_textures(patch_size=24, n_per_class=n_per_class, return_X_y=True)
    names = ["brick", "grass", "gravel"]
    for i, (image, label) in enumerate(zip(X, y)):
        folder = root / names[label]
        folder.mkdir(parents=True, exist_ok=True)
        # Colour files of two sizes: the command must resize them.
        size = 24 if i % 2 else 30
        rgb = np.repeat(np.asarray(Image.fromarray(image).resize((size, size)))[..., None], 3, axis=2)
        Image.fromarray(rgb).save(folder / f"{i}.png")


def test_compare_on_an_image_folder(tmp_path, capsys):
    write_image_folder(tmp_path / "data")
    argv = [
        "compare",
        "--dataset",
        str(tmp_path / "data"),
        "--features",
        "lbp,color",
        "--cv",
        "2",
        "--embedding",
        "none",
        "--out",
        str(tmp_path / "out"),
        "--quiet",
    ]
    assert main(argv) == 2
    assert "different sizes" in capsys.readouterr().err
    assert main([*argv, "--image-size", "24x24"]) == 0
    printed = capsys.readouterr().out
    assert "\nlbp " in printed and "\ncolor " in printed
    import torch

    used = "cuda:0" if torch.cuda.is_available() else "cpu"
    report = (tmp_path / "out" / "report.md").read_text()
    assert f"device: {used}" in report, "the device used, not 'auto'"
    assert "images read at 24x24 (--image-size): files of another size were resized to it" in report
    assert (tmp_path / "out" / "errors_lbp.png").exists() or "0 of" in (
        tmp_path / "out" / "report.md"
    ).read_text()


def test_a_class_folder_linked_from_elsewhere_is_read_with_follow_symlinks(tmp_path, capsys):
    # The warning said "pass follow_symlinks=True", which the command had no way to pass.
    write_image_folder(tmp_path / "elsewhere")
    (tmp_path / "data").mkdir()
    for name in ("brick", "grass"):
        (tmp_path / "data" / name).symlink_to(tmp_path / "elsewhere" / name, target_is_directory=True)
    (tmp_path / "data" / "gravel").symlink_to(tmp_path / "elsewhere" / "gravel", target_is_directory=True)
    argv = [
        "compare",
        "--dataset",
        str(tmp_path / "data"),
        "--features",
        "color",
        "--cv",
        "2",
        "--embedding",
        "none",
        "--image-size",
        "24x24",
        "--quiet",
        "--out",
        str(tmp_path / "out"),
    ]
    assert main(argv) == 2
    assert "pass --follow-symlinks to read them" in capsys.readouterr().err
    assert main([*argv, "--follow-symlinks"]) == 0
    assert "24 images" in (tmp_path / "out" / "report.md").read_text()


def test_features_command_lists_the_families(capsys):
    assert main(["features"]) == 0
    lines = capsys.readouterr().out.splitlines()
    names = [line.split()[0] for line in lines]
    assert {"lbp", "hog", "cnn", "autoencoder", "pretrained"} <= set(names)
    assert all(("available" in line) or ("not installed" in line) for line in lines)


@pytest.mark.slow
def test_demo_on_digits_shows_every_family_with_its_score(tmp_path, capsys):
    """What `make demo` runs: every family that applies to the digits, scored, in one report."""
    from skvision.compare import FEATURE_FAMILIES

    assert main(["compare", "--dataset", "digits", "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    table = printed[printed.index("feature set") :]
    scores = {
        line.split()[0]: float(line.split("±")[0].split()[-1])
        for line in table.splitlines()[2:]
        if "±" in line
    }
    expected = set(FEATURE_FAMILIES) - {"color", "bovw"}  # grey 8x8 images: these two do not apply
    assert set(scores) == expected, table
    assert scores["cnn"] >= 0.98 and scores["hog"] >= 0.95 and scores["lbp"] >= 0.95
    report = (tmp_path / "report.md").read_text()
    assert all(f"## {name}" in report for name in expected)


def test_compare_over_several_datasets_ranks_the_families(tmp_path, capsys):
    out = tmp_path / "out"
    argv = ["compare", "--dataset", "digits,faces", "--features", "pixels,hog,lbp", "--cv", "2"]
    argv += ["--max-samples", "40", "--embedding", "none", "--device", "cpu", "--out", str(out)]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "== digits ==" in printed and "== faces ==" in printed
    ranks = printed[printed.index("Over 2 data sets") :]
    assert ranks.splitlines()[2].split()[:4] == ["feature", "set", "average", "rank"]
    assert {line.split()[0] for line in ranks.splitlines()[4:7]} == {"pixels", "hog", "lbp"}
    assert "Friedman test over 2 data sets and 3 feature sets" in ranks
    for folder in ("digits", "faces"):
        assert "## Scores" in (out / folder / "report.md").read_text()
        assert (out / folder / "report.html").exists()
        # The data set's own counts are not the 40 images compared: said so (they read as the comparison's).
        assert (
            "(The whole data set; compared: the --max-samples subset below.)"
            in (out / folder / "report.md").read_text()
        )
    # The misclassified images of a bundled set's subset by their index in the set, not in the subset.
    import csv

    from skvision.datasets import load_dataset

    digits = load_dataset("digits")
    with open(out / "digits" / "misclassified.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows and all(set(row) >= {"index", "true"} for row in rows)
    assert max(int(row["index"]) for row in rows) >= 40
    assert all(str(digits.target_names[digits.target[int(row["index"])]]) == row["true"] for row in rows)
    with open(out / "digits" / "fold-assignment.csv", newline="") as handle:
        assigned = {(row["index"], row["fold"]) for row in csv.DictReader(handle)}
    assert len(assigned) == 40 and len({index for index, _ in assigned}) == 40  # each image, one fold
    assert {(row["index"], row["fold"]) for row in rows} <= assigned
    report = (out / "report.md").read_text()
    assert "- [digits](digits/report.md): best" in report and "![critical difference diagram]" in report
    assert 'href="faces/report.html"' in (out / "report.html").read_text()
    assert (out / "critical_difference.png").exists() and (out / "ranks.csv").exists()


def test_several_datasets_repeat_and_resume_per_dataset(tmp_path, capsys):
    out = tmp_path / "out"
    argv = ["compare", "--dataset", "digits,faces", "--features", "pixels,hog", "--cv", "2", "--repeats", "2"]
    argv += ["--max-samples", "40", "--embedding", "none", "--device", "cpu", "--out", str(out)]
    assert main(argv) == 0
    first = capsys.readouterr()
    for folder in ("digits", "faces"):
        assert len(list((out / folder / "folds").rglob("*.pkl"))) == 2 * 4  # 2 families x 2 repeats x 2 folds
        assert "same 4 splits" in (out / folder / "report.md").read_text()  # the t-test over every repeat
    assert "2-fold stratified CV repeated 2 times" in (out / "report.md").read_text()
    assert main([*argv, "--resume"]) == 0
    resumed = capsys.readouterr()
    assert resumed.err.count("stored by an earlier run") == 2 * 2 * 4  # data sets x families x splits
    ranks = first.out[first.out.index("Over 2 data sets") :].split("\n\nReport:")[0]
    assert resumed.out[resumed.out.index("Over 2 data sets") :].split("\n\nReport:")[0] == ranks


@pytest.mark.parametrize(
    "dataset, message",
    [
        ("digits,nowhere", "'nowhere' is neither a bundled data set"),
        ("digits,digits", "a data set is named twice"),
        ("digits,", "empty name"),
    ],
)
def test_bad_list_of_datasets_exits_2_with_one_line(dataset, message, capsys):
    assert main(["compare", "--dataset", dataset]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err


def test_a_long_read_says_it_is_still_reading_in_a_log(tmp_path, capsys, monkeypatch):
    import time

    import skvision.datasets
    from skvision.compare import _progress

    write_image_folder(tmp_path / "data")
    real = skvision.datasets.load_image_folder

    def slow_read(*args, **kwargs):  # thousands of photos: minutes, where this folder takes ms
        time.sleep(0.7)
        return real(*args, **kwargs)

    monkeypatch.setattr(skvision.datasets, "load_image_folder", slow_read)
    monkeypatch.setattr(_progress, "HEARTBEAT_SECONDS", 0.2)
    argv = ["compare", "--dataset", str(tmp_path / "data"), "--features", "lbp", "--cv", "2"]
    argv += ["--image-size", "24x24", "--embedding", "none", "--out", str(tmp_path / "out")]
    assert main(argv) == 0
    err = capsys.readouterr().err.splitlines()
    said = [line for line in err if line.startswith(f"reading {tmp_path / 'data'}: still running, ")]
    assert 1 <= len(said) <= 5 and said[0].endswith(" s so far")
    assert err.index(said[-1]) < next(i for i, line in enumerate(err) if "images of 24x24" in line)
    assert main([*argv, "--quiet"]) == 0
    assert "still running" not in capsys.readouterr().err


def test_imbalanced_classes_are_pointed_out_and_scoring_chooses_the_score(tmp_path, capsys):
    """On 60/40/30/20/8/3 images lbp read 0.857 accuracy with a recall of 0 on two classes, and the
    command had no way to rank by anything but accuracy."""
    from skvision.datasets import load_textures

    X, y = load_textures(patch_size=24, n_per_class=16, return_X_y=True)
    keep = np.flatnonzero((y != 2) | (np.cumsum(y == 2) <= 4))  # gravel: 4 images of 16
    for i in keep:
        folder = tmp_path / "data" / ["brick", "grass", "gravel"][y[i]]
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(X[i]).save(folder / f"{i}.png")
    argv = ["compare", "--dataset", str(tmp_path / "data"), "--features", "lbp", "--cv", "2"]
    argv += ["--embedding", "none", "--out", str(tmp_path / "out")]
    assert main(argv) == 0
    out, err = capsys.readouterr()
    note = "the classes are imbalanced (brick: 16 images, gravel: 4)"
    assert note in err and note in (tmp_path / "out" / "report.md").read_text()
    assert "accuracy" in out.splitlines()[0] and "balanced" not in out.splitlines()[0]
    assert main([*argv, "--scoring", "balanced_accuracy"]) == 0
    out, err = capsys.readouterr()
    assert "balanced_accuracy" in out.splitlines()[0] and note not in err
    report = (tmp_path / "out" / "report.md").read_text()
    assert "| balanced_accuracy |" in report and note not in report
    with pytest.raises(SystemExit) as stop:
        main([*argv, "--scoring", "roc_auc"])
    assert stop.value.code == 2 and "invalid choice: 'roc_auc'" in capsys.readouterr().err


def test_warnings_name_the_command_lines_options_not_python_keywords(tmp_path, capsys):
    # "Pass color_mode='gray' ..." reached the command's user, who has --color-mode.
    from skvision.datasets import load_textures

    X, y = load_textures(patch_size=24, n_per_class=6, return_X_y=True)
    for i, (image, label) in enumerate(zip(X, y)):
        folder = tmp_path / "data" / ["brick", "grass", "gravel"][label]
        folder.mkdir(parents=True, exist_ok=True)
        picture = Image.fromarray(image)
        (picture.convert("RGB") if i == 0 else picture).save(folder / f"{i}.png")  # one colour file
    argv = ["compare", "--dataset", str(tmp_path / "data"), "--features", "lbp", "--cv", "2"]
    assert main([*argv, "--embedding", "none", "--quiet", "--out", str(tmp_path / "out")]) == 0
    err = capsys.readouterr().err
    assert "colour among grey ones" in err
    assert "Pass --color-mode gray to read them all grey" in err and "color_mode=" not in err


def test_version(capsys):
    import skvision

    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0 and capsys.readouterr().out == f"skvision {skvision.__version__}\n"


def test_a_column_of_no_differences_says_it_is_not_a_tie(tmp_path, capsys):
    # Every family "n.s." in a default run read as "all equivalent" (hu 0.810 against hog 0.995).
    argv = [
        "compare",
        "--dataset",
        "faces",
        "--features",
        "pixels,lbp,hog,hu",
        "--cv",
        "3",
        "--embedding",
        "none",
    ]
    assert main([*argv, "--out", str(tmp_path / "out")]) == 0
    captured = capsys.readouterr()
    assert "n.s." in captured.out and "worse" not in captured.out
    assert (
        "vs best: no feature set was shown worse than hog (3 splits, p-values adjusted over the 6 pairs), "
        in (captured.err)
    )
    assert "vs best:" not in captured.out  # the table alone on stdout


def test_no_such_line_when_the_tests_tell_a_set_apart():
    from sklearn.decomposition import PCA
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    from skvision import compare_features
    from skvision.cli import _untold_note
    from skvision.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    flat = FunctionTransformer(lambda images: images.reshape(len(images), -1) / 255)
    sets = {"pixels": flat, "pca2": make_pipeline(flat, PCA(2)), "pca16": make_pipeline(flat, PCA(16))}
    result = compare_features(X[:300], y[:300], sets, estimator="logreg", cv=3)
    assert result.significance().mark("pca2") == "worse"
    assert _untold_note(result) == ""
