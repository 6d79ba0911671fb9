"""report.html: the comparison in one self-contained page.

Figures are embedded as base64 PNG; the page loads nothing from the network
(no scripts, fonts or styles from elsewhere). A few lines of vanilla
JavaScript sort the tables (click a header) and switch each feature set's
figures (tabs); without JavaScript every figure is still shown.
"""

from __future__ import annotations

import base64
import html
import math

import numpy as np

from ._stats import format_p

__all__ = ["page", "table", "image", "write_comparison_html"]

_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto; max-width: 72em;
       padding: 0 1em; color: #222; line-height: 1.45; }
h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #ddd; padding-bottom: .2em; margin-top: 2em; }
table { border-collapse: collapse; margin: .8em 0; font-size: .92em; }
th, td { border: 1px solid #ddd; padding: .3em .6em; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
table.sortable th { cursor: pointer; user-select: none; background: #f4f4f4; white-space: nowrap; }
table.sortable th::after { content: " \\2195"; color: #aaa; }
table.sortable th[aria-sort="ascending"]::after { content: " \\2191"; color: #333; }
table.sortable th[aria-sort="descending"]::after { content: " \\2193"; color: #333; }
.mark { border-radius: .8em; padding: .05em .6em; white-space: nowrap; }
.mark-best { background: #1a7f37; color: white; } .mark-ns { background: #ccebd4; }
.mark-worse { background: #eee; color: #555; }
.tab-buttons button { font: inherit; border: 1px solid #bbb; background: #f4f4f4; padding: .3em .9em;
       margin-right: .3em; border-radius: .3em .3em 0 0; cursor: pointer; }
.tab-buttons button[aria-selected="true"] { background: white; border-bottom-color: white; font-weight: 600; }
.tab-panel { border: 1px solid #bbb; padding: .8em; }
.tab-panel img, figure img { max-width: 100%; height: auto; }
figure { margin: 1em 0; } figcaption, .caption { color: #555; font-size: .9em; }
.notes { color: #444; } .notes li { white-space: pre-line; }
details { margin: .8em 0; } summary { cursor: pointer; }
td.win { font-weight: 600; background: #ccebd4; }
"""

_SCRIPT = """
(function () {
  "use strict";
  function key(cell) {
    var value = cell.getAttribute("data-value");
    if (value === null) { return cell.textContent.trim().toLowerCase(); }
    if (value === "") { return -Infinity; }
    var number = Number(value);
    return isNaN(number) ? value.toLowerCase() : number;
  }
  document.querySelectorAll("table.sortable").forEach(function (table) {
    var headers = table.tHead.rows[0].cells;
    Array.prototype.forEach.call(headers, function (th, column) {
      th.setAttribute("title", "click to sort");
      th.addEventListener("click", function () {
        var ascending = th.getAttribute("aria-sort") !== "ascending";
        Array.prototype.forEach.call(headers, function (other) { other.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = key(a.cells[column]), y = key(b.cells[column]);
          var order = (typeof x === "number" && typeof y === "number") ? (x > y) - (x < y)
                    : String(x).localeCompare(String(y));
          return ascending ? order : -order;
        });
        rows.forEach(function (row) { body.appendChild(row); });
      });
    });
  });
  document.querySelectorAll(".tabs").forEach(function (tabs) {
    var buttons = tabs.querySelectorAll(".tab-buttons button");
    var panels = tabs.querySelectorAll(".tab-panel");
    function show(index) {
      buttons.forEach(function (button, i) { button.setAttribute("aria-selected", String(i === index)); });
      panels.forEach(function (panel, i) { panel.hidden = i !== index; });
    }
    buttons.forEach(function (button, i) { button.addEventListener("click", function () { show(i); }); });
    show(0);
  });
})();
"""


def escape(text):
    return html.escape(str(text), quote=True)


def page(title, body):
    """A whole HTML document: ``title``, the inline style and script, and ``body`` (HTML)."""
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<link rel="icon" href="data:,">\n'
        f"<title>{escape(title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n{body}\n"
        f"<script>{_SCRIPT}</script>\n</body>\n</html>\n"
    )


def _sort_value(value):
    if value is None:
        return None
    if isinstance(value, (int, float, np.integer, np.floating)):
        value = float(value)
        if math.isnan(value):
            return ""
        return "Infinity" if value == math.inf else repr(value)
    return str(value)


def table(header, rows, *, sortable=True, numeric=(), html_cells=(), classes=None):
    """An HTML table.

    ``rows`` hold cells: a value, or ``(shown, sort_value)``. Columns in
    ``numeric`` are right-aligned; cells of columns in ``html_cells`` are
    HTML already (not escaped). ``classes`` gives a CSS class per cell
    (a list of lists of str or None), optional.
    """
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = []
    for r, row in enumerate(rows):
        cells = []
        for c, cell in enumerate(row):
            shown, value = cell if isinstance(cell, tuple) else (cell, None)
            attributes = []
            css = ["num"] if c in numeric else []
            if classes is not None and classes[r][c]:
                css.append(classes[r][c])
            if css:
                attributes.append(f'class="{" ".join(css)}"')
            value = _sort_value(value)
            if value is not None:
                attributes.append(f'data-value="{escape(value)}"')
            text = str(shown) if c in html_cells else escape(shown)
            cells.append(f"<td {' '.join(attributes)}>{text}</td>" if attributes else f"<td>{text}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    css = ' class="sortable"' if sortable else ""
    return (
        f"<table{css}>\n<thead><tr>{head}</tr></thead>\n<tbody>\n" + "\n".join(body) + "\n</tbody>\n</table>"
    )


def image(path, alt):
    """An ``<img>`` holding the PNG at ``path`` as a data URI."""
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{escape(alt)}">'


def _slug(name):
    return "fs-" + "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in name)


def _mark_html(mark, p):
    if mark == "best":
        return '<span class="mark mark-best">best</span>'
    label, why = (
        ("n.s.", "not significantly worse than the best")
        if mark == "n.s."
        else ("worse", "significantly worse")
    )
    css = "ns" if mark == "n.s." else mark
    return f'<span class="mark mark-{css}" title="{why}">{label}</span> p {escape(format_p(p))}'


def _score_table(result, tests):
    scoring = result.scoring
    rows_in = result.rows()
    searched = any("search s" in row for row in rows_in)  # with tuning, as the text table (_result.py)
    header = ["feature set", "kind", "dims (split 1)" if searched else "dims", f"{scoring} mean", "std"]
    header += ["fit s / fold"] + (["search s / fold"] if searched else []) + ["transform images/s"]
    numeric = set(range(2, len(header)))
    if tests is not None:
        header.append("vs best (Holm p)")
    rows = []
    for row in rows_in:
        name = row["feature set"]
        cells = [
            (f'<a href="#{_slug(name)}">{escape(name)}</a>', name),
            row["kind"],
            (str(row["dims"]), row["dims"]),
            (f"{row[f'{scoring} mean']:.3f}", row[f"{scoring} mean"]),
            (f"{row[f'{scoring} std']:.3f}", row[f"{scoring} std"]),
            (f"{row['fit s']:.2f}", row["fit s"]),
        ]
        if searched:
            cells.append((f"{row['search s']:.2f}", row["search s"]) if "search s" in row else "-")
        cells.append((_rate(row["images/s"]), row["images/s"]))
        if tests is not None:
            p = row["p vs best (Holm)"]
            cells.append((_mark_html(row["vs best"], p), p) if row["vs best"] else "")
        rows.append(cells)
    html_cells = {0, len(header) - 1} if tests is not None else {0}
    return table(header, rows, numeric=numeric, html_cells=html_cells)


def _tuning_section(result):
    """The settings the inner search chose in every outer split (``--tune``), as a sortable table."""
    rows = []
    for name, r in result.results.items():
        inner = r.tune_scores if r.tune_scores is not None else np.full(len(r.scores), np.nan)
        for (repeat, fold, params), score in zip(result.chosen_settings(name), inner):
            shown = ", ".join(f"{k}={v!r}" for k, v in params.items()) or "(nothing to tune)"
            rows.append(
                [name, (repeat + 1, repeat + 1), (fold + 1, fold + 1), shown, (f"{score:.3f}", score)]
            )
    return (
        "<h2>Tuned settings</h2><p>"
        + escape(
            f"Each family's settings were chosen on the training images of every outer split by an inner "
            f"{result.tuning['cv']}-fold search over at most {result.tuning['budget']} candidates (the whole "
            "grid when it is smaller, a random sample of it otherwise)."
        )
        + "</p>"
        + table(["feature set", "repeat", "fold", "chosen settings", "inner score"], rows, numeric=(1, 2, 4))
    )


def _rate(rate):
    if not math.isfinite(rate):
        return "inf"
    return f"{rate:,.0f}" if rate >= 10 else f"{rate:.2g}"


def _pairwise_table(tests):
    header = ["Holm-adjusted p"] + tests.names
    rows = []
    for i, name in enumerate(tests.names):
        cells = [name]
        for j in range(len(tests.names)):
            p = tests.pvalue_holm[i, j]
            cells.append(("", None) if i == j else (format_p(p), p))
        rows.append(cells)
    return table(header, rows, sortable=False, numeric=set(range(1, len(header))))


def _per_class_table(per_class):
    header = ["class", "n"] + [f"{name} P / R" for name in per_class.names] + ["best F1"]
    rows, classes = [], []
    for c, class_name in enumerate(per_class.class_names):
        winners = per_class.winners(c)
        cells = [class_name, (str(per_class.support[c]), per_class.support[c])]
        css = [None, None]
        for i, name in enumerate(per_class.names):
            shown = per_class.cell(i, c)
            cells.append((shown, per_class.f1[i, c]))
            css.append("win" if name in winners else None)
        cells.append(", ".join(winners) or "none (F1 0)")
        css.append(None)
        rows.append(cells)
        classes.append(css)
    numeric = set(range(1, len(header) - 1))
    return table(header, rows, numeric=numeric, classes=classes)


def _tabs(figures, out_dir):
    buttons = "".join(f'<button type="button">{escape(label)}</button>' for label, _, _ in figures)
    panels = "".join(
        f'<div class="tab-panel">{image(out_dir / png, label)}<p class="caption">{escape(caption)}</p></div>'
        for label, png, caption in figures
    )
    return f'<div class="tabs"><div class="tab-buttons">{buttons}</div>{panels}</div>'


def write_comparison_html(result, out_dir, *, title, notes, figures, tests, per_class=None, scores_png=None):
    """Write ``out_dir / 'report.html'`` from the result and the figures already saved in ``out_dir``.

    ``figures`` maps a feature set to ``[(tab label, png file name, caption), ...]``.
    """
    parts = [f"<h1>{escape(title)}</h1>"]
    if notes:
        parts.append('<ul class="notes">' + "".join(f"<li>{escape(note)}</li>" for note in notes) + "</ul>")
    parts.append("<h2>Scores</h2>")
    if result.results:
        parts.append(
            "<p>Click a column header to sort; click a feature set for its figures. Scores are means and "
            "standard deviations over the splits (every repeat and fold).</p>"
        )
        parts.append(_score_table(result, tests))
    if tests is not None:
        from ._report import significance_text

        parts.append(f"<p><em>vs best</em>: {escape(significance_text(tests))}</p>")
        parts.append(
            "<details><summary>Every pair (Holm-adjusted p-values)</summary>"
            + _pairwise_table(tests)
            + "</details>"
        )
    if result.skipped:
        parts.append(
            "<p>Left out:</p><ul>"
            + "".join(
                f"<li><strong>{escape(n)}</strong>: {escape(why)}</li>" for n, why in result.skipped.items()
            )
            + "</ul>"
        )
    if not result.results:
        parts.append("<p>No feature set ran.</p>")
    if getattr(result, "tuning", None):
        parts.append(_tuning_section(result))
    if scores_png:
        parts.append(f"<figure>{image(out_dir / scores_png, 'scores')}</figure>")
    if per_class is not None:
        wins = per_class.wins()
        summary = ", ".join(
            f"{escape(name)} {count}" for name, count in sorted(wins.items(), key=lambda kv: -kv[1])
        )
        parts.append("<h2>Per class</h2>")
        parts.append(
            "<p>Precision / recall of each feature set on each class, from the out-of-fold predictions; "
            "the winner of a class (shaded) has the highest F1 there. Sorting a feature set's column sorts "
            f"by its F1. Classes won (ties count for each): {summary}.</p>"
        )
        parts.append(_per_class_table(per_class))
    for row in result.rows() if result.results else []:
        name = row["feature set"]
        r = result.results[name]
        parts.append(f'<section id="{_slug(name)}"><h2>{escape(name)}</h2>')
        fold_scores = ", ".join(f"{s:.3f}" for s in np.ravel(r.scores))
        parts.append(f"<p>{r.n_features} features; {escape(result.scoring)} per fold: {fold_scores}</p>")
        if figures.get(name):
            parts.append(_tabs(figures[name], out_dir))
        parts.append("</section>")
    path = out_dir / "report.html"
    path.write_text(page(title, "\n".join(parts)), encoding="utf-8")
    return path


def write_multi_html(multi, out_dir, *, title, notes, alpha, cd_png):
    """Write ``out_dir / 'report.html'`` of a :class:`~skvision.compare.MultiDatasetResult`."""
    from ._multi import _CANNOT_TEST

    parts = [f"<h1>{escape(title)}</h1>"]
    if notes:
        parts.append('<ul class="notes">' + "".join(f"<li>{escape(note)}</li>" for note in notes) + "</ul>")
    parts.append("<h2>Average ranks</h2>")
    parts.append(
        f"<p>{escape(multi.scoring)} on each data set, with the feature set's rank there (1 = best). Click a "
        "column header to sort.</p>"
    )
    header = ["feature set", "average rank"] + multi.datasets + [f"mean {multi.scoring}"]
    rows = []
    for row in multi.rows():
        cells = [row["feature set"], (f"{row['average rank']:.2f}", row["average rank"])]
        cells += [(f"{row[d]:.3f} ({row[f'{d} rank']:g})", row[d]) for d in multi.datasets]
        cells.append((f"{row[f'mean {multi.scoring}']:.3f}", row[f"mean {multi.scoring}"]))
        rows.append(cells)
    parts.append(table(header, rows, numeric=set(range(1, len(header)))))
    _, left_out = multi.feature_sets()
    if left_out:
        parts.append(
            "<p>Not ranked:</p><ul>"
            + "".join(f"<li><strong>{escape(n)}</strong>: {escape(why)}</li>" for n, why in left_out.items())
            + "</ul>"
        )
    parts.append("<h2>Friedman test and critical difference</h2>")
    if cd_png:
        parts.append(f"<p>{escape(multi.friedman_text(alpha))}</p>")
        parts.append(f"<figure>{image(out_dir / cd_png, 'critical difference diagram')}</figure>")
    else:
        parts.append(f"<p>{escape(_CANNOT_TEST)}</p>")
    parts.append("<h2>Data sets</h2><ul>")
    for dataset in multi.datasets:
        report = multi.reports.get(dataset)
        if report and report.endswith(".md"):
            report = report[: -len(".md")] + ".html"
        result = multi.results[dataset]
        best = result.best() if result.results else "none ran"
        link = f'<a href="{escape(report)}">{escape(dataset)}</a>' if report else escape(dataset)
        parts.append(f"<li>{link}: best {escape(best)}</li>")
    parts.append("</ul>")
    path = out_dir / "report.html"
    path.write_text(page(title, "\n".join(parts)), encoding="utf-8")
    return path
