"""ComparisonResult: the table and the pictures, from what the workflow recorded."""

import numpy as np


def test_result_prints_as_a_table(two_sets, tmp_path):
    text = str(two_sets)
    header = text.splitlines()[0]
    for column in ("feature set", "dims", "accuracy", "fit s", "images/s"):
        assert column in header
    rows = two_sets.rows()
    assert rows[0]["accuracy mean"] >= rows[1]["accuracy mean"] and two_sets.best() == rows[0]["feature set"]
    mean = np.mean(two_sets.results["pixels"].scores)
    assert f"{mean:.3f}" in text and "baseline" in text
    assert two_sets.to_markdown().count("\n") == 3
    two_sets.to_csv(tmp_path / "r.csv")
    assert (tmp_path / "r.csv").read_text().splitlines()[0].startswith("feature set,kind,dims,accuracy mean")


def test_confusion_matrix_is_sklearns_on_out_of_fold_predictions(two_sets):
    from sklearn.metrics import confusion_matrix

    display = two_sets.plot_confusion_matrix("pixels")
    r = two_sets.results["pixels"]
    np.testing.assert_array_equal(display.confusion_matrix, confusion_matrix(r.y_true, r.y_pred))
    assert display.confusion_matrix.sum() == len(r.y_true)
