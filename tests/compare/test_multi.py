"""Several data sets: the rank table, the Friedman test and its report."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from scipy.stats import rankdata

from skvision.compare import MultiDatasetResult, friedman_test

from .test_stats import fake_result

SCORES = {  # data set -> feature set -> per-fold scores
    "one": {"a": [0.9, 0.92, 0.91], "b": [0.8, 0.82, 0.81], "c": [0.7, 0.72, 0.71]},
    "two": {"a": [0.95, 0.96, 0.94], "b": [0.96, 0.97, 0.95], "c": [0.5, 0.5, 0.52], "extra": [0.99] * 3},
    "three": {"a": [0.6, 0.61, 0.62], "b": [0.5, 0.52, 0.5], "c": [0.55, 0.56, 0.57]},
    "four": {"a": [0.8, 0.8, 0.8], "b": [0.7, 0.7, 0.7], "c": [0.75, 0.74, 0.76]},
}


@pytest.fixture(scope="module")
def multi():
    return MultiDatasetResult(
        {name: fake_result(scores) for name, scores in SCORES.items()},
        reports={name: f"{name}/report.md" for name in SCORES},
    )


def test_ranks_and_friedman_come_from_the_mean_scores(multi):
    names, scores = multi.score_table()
    assert names == ["a", "b", "c"] and multi.feature_sets()[1] == {
        "extra": "did not run on one, three, four"
    }
    expected = np.array([[np.mean(SCORES[d][n]) for n in names] for d in SCORES])
    np.testing.assert_allclose(scores, expected)
    friedman = multi.friedman()
    reference = friedman_test(expected, names=names)
    np.testing.assert_allclose(friedman.average_ranks, reference.average_ranks)
    assert friedman.chi2 == pytest.approx(reference.chi2)
    # a: 1, 2, 1, 1 -> 1.25; b: 2, 1, 3, 3 -> 2.25; c: 3, 3, 2, 2 -> 2.5
    np.testing.assert_allclose(friedman.average_ranks, [1.25, 2.25, 2.5])
    rows = multi.rows()
    assert [row["feature set"] for row in rows] == ["a", "b", "c"]
    assert rows[1]["two rank"] == 1 and rows[1]["two"] == pytest.approx(0.96)
    np.testing.assert_allclose([row["average rank"] for row in rows], rankdata(-expected, axis=1).mean(0))


def test_equal_fold_scores_in_another_order_tie():
    """np.mean of 5 fold accuracies in two orders gave 0.78 and 0.7799999999999999: ranks 1 and 2, not 1.5."""
    folds = [24 / 30, 21 / 30, 20 / 30, 24 / 30, 28 / 30]
    assert np.mean(folds) != np.mean(folds[::-1])  # what the ranking must not see
    tied = MultiDatasetResult({name: fake_result({"a": folds, "b": folds[::-1]}) for name in ("x", "y", "z")})
    assert [row["average rank"] for row in tied.rows()] == [1.5, 1.5]
    assert tied.friedman().chi2 == 0.0


def test_table_prints_ranks_per_data_set(multi):
    text = str(multi)
    assert text.splitlines()[0].split() == [
        "feature",
        "set",
        "average",
        "rank",
        "one",
        "two",
        "three",
        "four",
        "mean",
        "accuracy",
    ]
    assert "(not ranked: extra did not run on one, three, four)" in text
    assert multi.to_markdown().splitlines()[2].startswith("| a | 1.25 | 0.910 (1) | 0.950 (2)")
    assert "chi-square_F" in multi.friedman_text() and "CD = " in multi.friedman_text()


def test_report_links_the_data_sets_and_draws_the_cd_diagram(multi, tmp_path):
    report = multi.write_report(tmp_path, notes=["a note"])
    text = report.read_text()
    assert "## Average ranks" in text and "- a note" in text and "Iman-Davenport F_F" in text
    assert "![critical difference diagram](critical_difference.png)" in text
    assert "- [one](one/report.md): best a" in text and "- [two](two/report.md): best extra" in text
    assert (tmp_path / "critical_difference.png").stat().st_size > 5000
    assert (tmp_path / "ranks.csv").read_text().startswith("feature set,average rank,one,one rank")
    page = (tmp_path / "report.html").read_text()
    assert 'href="one/report.html"' in page and "data:image/png;base64," in page and "http" not in page


def test_one_data_set_or_one_feature_set_has_no_friedman_test(tmp_path):
    single = MultiDatasetResult({"one": fake_result(SCORES["one"])})
    assert not single.can_test()
    text = single.write_report(tmp_path).read_text()
    assert "needs at least two data sets" in text and not (tmp_path / "critical_difference.png").exists()
    with pytest.raises(ValueError, match="at least 2 data sets"):
        single.friedman()


def test_a_report_written_over_another_leaves_none_of_its_diagram_or_page(multi, tmp_path):
    """Written over a report that had them, the diagram and the HTML page of the earlier results stayed."""
    multi.write_report(tmp_path)
    assert (tmp_path / "critical_difference.png").exists() and (tmp_path / "report.html").exists()
    MultiDatasetResult({"one": fake_result(SCORES["one"])}).write_report(tmp_path, html=False)
    assert not (tmp_path / "critical_difference.png").exists() and not (tmp_path / "report.html").exists()
    assert "needs at least two data sets" in (tmp_path / "report.md").read_text()


def test_data_sets_must_share_their_score():
    regression = fake_result(SCORES["one"])
    regression.scoring = "r2"
    with pytest.raises(ValueError, match="scored alike"):
        MultiDatasetResult({"one": fake_result(SCORES["one"]), "two": regression})
    with pytest.raises(ValueError, match="non-empty dict"):
        MultiDatasetResult({})


def test_critical_difference_display_groups_match_nemenyi(multi):
    friedman = multi.friedman()
    display = multi.plot_critical_difference()
    # CD for 3 methods over 4 data sets: 2.343 sqrt(3 x 4 / 24) = 1.657 > every rank gap: one group.
    assert friedman.critical_difference == pytest.approx(2.3437 * np.sqrt(0.5), abs=1e-3)
    assert display.groups_ == [["a", "b", "c"]]
