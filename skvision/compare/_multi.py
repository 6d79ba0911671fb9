"""Several data sets at once: average ranks, the Friedman test and the critical-difference diagram."""

from __future__ import annotations

import math
import urllib.parse
from pathlib import Path

import numpy as np

from ._markdown import markdown_table, markdown_text
from ._stats import ALPHA, friedman_test

__all__ = ["MultiDatasetResult"]


def _order_free_mean(values):
    """The mean of ``values`` from their exactly rounded sum: the same in any order."""
    values = [float(v) for v in np.ravel(values)]
    return math.fsum(values) / len(values) if values else float("nan")


class MultiDatasetResult:
    """The comparisons of the same feature sets on several data sets, and what they say together.

    Each data set ranks the feature sets by their mean score (rank 1 the best);
    :meth:`friedman` tests the average ranks (Friedman, Iman-Davenport) and
    gives Nemenyi's critical difference, which :meth:`plot_critical_difference`
    draws. Feature sets missing from some data set (left out there, or failed)
    are left out of the ranking, with a note.

    Parameters
    ----------
    results : dict of str -> ComparisonResult
        Data set name -> its comparison, all with the same score.
    reports : dict of str -> str or None
        Data set name -> path of its report, relative to the folder of this
        report (for the links).

    Examples
    --------
    >>> from sklearn.decomposition import PCA
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import FunctionTransformer
    >>> from skvision import compare_features
    >>> from skvision.datasets import load_digits
    >>> X, y = load_digits(return_X_y=True)
    >>> flat = FunctionTransformer(lambda images: images.reshape(len(images), -1) / 255)
    >>> features = {"pixels": flat, "pca2": make_pipeline(flat, PCA(2)), "pca6": make_pipeline(flat, PCA(6))}
    >>> parts = {f"part{i}": compare_features(X[i::3][:150], y[i::3][:150], features,
    ...                                       estimator="logreg", cv=3) for i in range(3)}
    >>> multi = MultiDatasetResult(parts)
    >>> friedman = multi.friedman()
    >>> friedman.names, friedman.average_ranks.tolist()
    (['pixels', 'pca2', 'pca6'], [1.0, 3.0, 2.0])
    """

    def __init__(self, results, reports=None):
        if not isinstance(results, dict) or not results:
            raise ValueError(
                f"results must be a non-empty dict of data set -> ComparisonResult; got {results!r}."
            )
        scorings = {r.scoring for r in results.values()}
        if len(scorings) != 1:
            raise ValueError(
                "The data sets must be scored alike to be ranked together; got "
                + ", ".join(f"{name}: {r.scoring}" for name, r in results.items())
                + "."
            )
        self.results = results
        self.reports = reports or {}
        self.scoring = scorings.pop()

    @property
    def datasets(self):
        """The data set names, in order."""
        return list(self.results)

    def feature_sets(self):
        """``(ranked, left_out)``: the feature sets that ran on every data set, and the others with why."""
        everywhere, seen = None, []
        for result in self.results.values():
            names = list(result.results)
            seen += [n for n in names if n not in seen]
            everywhere = names if everywhere is None else [n for n in everywhere if n in names]
        left_out = {}
        for name in seen:
            if name not in everywhere:
                missing = [d for d, r in self.results.items() if name not in r.results]
                left_out[name] = f"did not run on {', '.join(missing)}"
        return everywhere, left_out

    def score_table(self):
        """``(feature sets, scores)``: mean score of each ranked feature set (columns) per data set (rows)."""
        names, _ = self.feature_sets()
        # fsum: the exactly rounded sum, whatever the order of the folds, so that equal fold scores in
        # another order tie (np.mean gave 0.78 and 0.7799999999999999: ranks 1 and 2 instead of 1.5).
        scores = np.array(
            [[_order_free_mean(r.results[name].scores) for name in names] for r in self.results.values()]
        ).reshape(len(self.results), len(names))
        return names, scores

    def friedman(self, alpha=ALPHA):
        """The Friedman test of the average ranks, with Nemenyi's critical difference.

        Returns
        -------
        result : FriedmanResult

        Raises
        ------
        ValueError
            Fewer than two data sets, or fewer than two feature sets that ran on all of them.
        """
        names, scores = self.score_table()
        return friedman_test(scores, names=names, alpha=alpha)

    def can_test(self):
        """Whether there are the two data sets and two ranked feature sets the Friedman test needs."""
        names, _ = self.feature_sets()
        return len(self.results) >= 2 and len(names) >= 2

    def rows(self):
        """The rank table: one dict per feature set, best average rank first."""
        from scipy.stats import rankdata

        names, scores = self.score_table()
        ranks = rankdata(-scores, axis=1) if scores.size else scores
        rows = []
        for j, name in enumerate(names):
            row = {"feature set": name, "average rank": float(ranks[:, j].mean())}
            for i, dataset in enumerate(self.datasets):
                row[dataset] = float(scores[i, j])
                row[f"{dataset} rank"] = float(ranks[i, j])
            row[f"mean {self.scoring}"] = float(scores[:, j].mean())
            rows.append(row)
        return sorted(rows, key=lambda row: row["average rank"])

    def _cells(self):
        header = ["feature set", "average rank"] + self.datasets + [f"mean {self.scoring}"]
        body = []
        for row in self.rows():
            cells = [row["feature set"], f"{row['average rank']:.2f}"]
            cells += [f"{row[d]:.3f} ({row[f'{d} rank']:g})" for d in self.datasets]
            cells.append(f"{row[f'mean {self.scoring}']:.3f}")
            body.append(cells)
        return header, body

    def friedman_text(self, alpha=ALPHA):
        """The Friedman test and Nemenyi's CD in two sentences (plain text)."""
        f = self.friedman(alpha)
        verdict = (
            "the feature sets differ"
            if f.significant
            else "no evidence that the feature sets differ (the post-hoc comparisons are then not meaningful)"
        )
        return (
            f"Friedman test over {f.n_datasets} data sets and {f.n_methods} feature sets: chi-square_F = "
            f"{f.chi2:.3f} (p = {f.chi2_pvalue:.3g}, {f.n_methods - 1} df); Iman-Davenport F_F = "
            f"{f.f_statistic:.3f} (p = {f.f_pvalue:.3g}, {f.n_methods - 1} and "
            f"{(f.n_methods - 1) * (f.n_datasets - 1)} df): at alpha = {f.alpha:g}, {verdict}. "
            f"Nemenyi's critical difference: CD = q_alpha sqrt(k (k + 1) / (6 N)) = {f.q_alpha:.3f} x "
            f"sqrt({f.n_methods} x {f.n_methods + 1} / (6 x {f.n_datasets})) = {f.critical_difference:.3f}; "
            "two feature sets whose average ranks differ by less are not told apart."
        )

    def __str__(self):
        header, body = self._cells()
        widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]
        lines = [
            "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))
            for cells in [header, *body]
        ]
        lines.insert(1, "  ".join("-" * w for w in widths))
        _, left_out = self.feature_sets()
        lines += [f"(not ranked: {name} {why})" for name, why in left_out.items()]
        return "\n".join(lines)

    def __repr__(self):
        return f"<MultiDatasetResult of {len(self.results)} data sets ({self.scoring})>\n{self}"

    def to_markdown(self):
        """The rank table as Markdown (score and rank per data set)."""
        header, body = self._cells()
        return markdown_table(header, body, ["---"] + ["---:"] * (len(header) - 1))

    def plot_critical_difference(self, ax=None, alpha=ALPHA):
        """Demšar's critical-difference diagram of the average ranks."""
        return self.friedman(alpha).plot_critical_difference(ax=ax)

    def write_report(
        self,
        out_dir,
        *,
        title="skvision feature comparison over several data sets",
        notes=(),
        alpha=ALPHA,
        html=True,
    ):
        """Write ``report.md``, ``report.html``, ``ranks.csv`` and ``critical_difference.png`` to ``out_dir``.

        The per-data-set reports are written by each comparison's own
        ``write_report`` (the command puts them in sub-folders); this one links
        to them (``reports``).

        Returns
        -------
        path : pathlib.Path
            The Markdown report.
        """
        from ._report import _figure, _save, mark_report_folder, note_lines, software_note

        notes = [*notes, software_note()]

        out_dir = Path(out_dir)
        mark_report_folder(out_dir)
        rows = self.rows()
        _, left_out = self.feature_sets()
        import csv

        with open(out_dir / "ranks.csv", "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]) if rows else ["feature set"])
            writer.writeheader()
            writer.writerows(rows)
        lines = [f"# {title}", "", *note_lines(notes), ""]
        lines += ["## Average ranks", "", f"{self.scoring} (rank on that data set; 1 = best).", ""]
        lines += [self.to_markdown(), ""]
        if left_out:
            lines += ["Not ranked:", ""] + [f"- **{name}**: {why}" for name, why in left_out.items()] + [""]
        lines += ["## Friedman test and critical difference", ""]
        cd_png = None
        if self.can_test():
            friedman = self.friedman(alpha)
            figure, ax = _figure((7.5, 1.6 + 0.3 * ((friedman.n_methods + 1) // 2 + 2)))
            friedman.plot_critical_difference(ax=ax)
            cd_png = _save(figure, out_dir / "critical_difference.png")
            lines += [self.friedman_text(alpha), "", f"![critical difference diagram]({cd_png})", ""]
        else:
            lines += [_CANNOT_TEST, ""]
        lines += ["## Data sets", ""]
        for dataset in self.datasets:
            report = self.reports.get(dataset)
            best = self.results[dataset].best() if self.results[dataset].results else "none ran"
            label = markdown_text(dataset)
            # A folder's name may hold spaces, which end a link's target unless escaped.
            link = f"[{label}]({urllib.parse.quote(str(report))})" if report else label
            lines.append(f"- {link}: best {markdown_text(best)}")
        path = out_dir / "report.md"
        path.write_text("\n".join(lines) + "\n")
        if html:
            from ._html import write_multi_html

            write_multi_html(self, out_dir, title=title, notes=notes, alpha=alpha, cd_png=cd_png)
        # An earlier report's diagram or page that this one did not write again would show its results.
        for name, written in (("critical_difference.png", cd_png is not None), ("report.html", html)):
            if not written and (out_dir / name).is_file() and not (out_dir / name).is_symlink():
                (out_dir / name).unlink()
        return path


_CANNOT_TEST = "The Friedman test needs at least two data sets and two feature sets that ran on all of them."
