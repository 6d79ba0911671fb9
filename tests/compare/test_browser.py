"""report.html in a real browser: headless chromium, driven by playwright.

Marked ``browser``: it runs wherever the ``playwright`` package and a chromium
executable are found (Debian's ``chromium`` package; no browser download) and
is skipped with the reason elsewhere. ``SKVISION_CHROMIUM`` names another
executable.
"""

import dataclasses
import importlib.util
import os
import shutil

import pytest

from skvision.compare import ComparisonResult, MultiDatasetResult

from .test_stats import fake_result

pytestmark = pytest.mark.browser

ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chromium_executable():
    for candidate in (os.environ.get("SKVISION_CHROMIUM"), "chromium", "chromium-browser"):
        if candidate and shutil.which(candidate):
            return shutil.which(candidate)
    return None


@pytest.fixture(scope="module")
def browser():
    if importlib.util.find_spec("playwright") is None:
        pytest.skip("the playwright package is not installed (pip install playwright)")
    executable = chromium_executable()
    if executable is None:
        pytest.skip("no chromium executable on PATH (apt-get install chromium, or set SKVISION_CHROMIUM)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=ARGS)
        yield browser
        browser.close()


def open_page(browser, path):
    """The page at ``path``, with the console errors and uncaught exceptions it raised while loading."""
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    problems = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("requestfailed", lambda request: problems.append(f"failed request {request.url}"))
    page.goto(path.resolve().as_uri())
    page.wait_for_load_state("load")
    return page, problems


def first_column(page, table=0):
    return page.evaluate(
        f"""Array.from(document.querySelectorAll('table.sortable')[{table}].tBodies[0].rows)
            .map(row => row.cells[0].textContent.trim())"""
    )


def click_header(page, text, table=0):
    page.locator("table.sortable").nth(table).locator("th", has_text=text).first.click()


@pytest.fixture(scope="module")
def comparison_page(two_sets, tmp_path_factory):
    history = [
        {"epoch": 1, "train_loss": 1.0, "valid_loss": 1.2, "valid_acc": 0.5, "dur": 0.1},
        {"epoch": 2, "train_loss": 0.5, "valid_loss": 0.9, "valid_acc": 0.7, "dur": 0.1},
    ]
    results = dict(two_sets.results)
    results["pixels"] = dataclasses.replace(results["pixels"], training_history=history)
    result = ComparisonResult(
        results,
        skipped={"cnn": "not available"},
        task=two_sets.task,
        scoring=two_sets.scoring,
        X=two_sets.X,
        target_names=two_sets.target_names,
        kinds=two_sets.kinds,
    )
    out = tmp_path_factory.mktemp("html")
    result.write_report(out, embedding="pca", notes=["browser test"])
    return out / "report.html", result


def test_comparison_page_loads_without_errors_and_every_figure_renders(browser, comparison_page):
    path, result = comparison_page
    page, problems = open_page(browser, path)
    n_images = page.evaluate("document.images.length")
    # scores + per feature set: confusion, map, errors (+ training curves for pixels)
    assert n_images == 1 + 3 * len(result.results) + 1
    assert page.evaluate("Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)")
    # Every tab shows its figure when clicked, and hides the others.
    for section in page.locator("section").all():
        buttons = section.locator(".tab-buttons button")
        panels = section.locator(".tab-panel")
        for i in range(buttons.count()):
            buttons.nth(i).click()
            assert panels.nth(i).is_visible()
            box = panels.nth(i).locator("img").bounding_box()
            assert box["width"] > 50 and box["height"] > 50
            hidden = [j for j in range(panels.count()) if j != i]
            assert all(not panels.nth(j).is_visible() for j in hidden)
    assert problems == []
    page.close()


def test_score_table_sorts_on_a_header_click(browser, comparison_page):
    path, result = comparison_page
    page, problems = open_page(browser, path)
    best_first = [row["feature set"] for row in result.rows()]
    assert first_column(page) == best_first
    dims = {name: r.n_features for name, r in result.results.items()}
    click_header(page, "dims")
    assert first_column(page) == sorted(dims, key=dims.get)
    click_header(page, "dims")
    assert first_column(page) == sorted(dims, key=dims.get, reverse=True)
    click_header(page, "feature set")
    assert first_column(page) == sorted(dims)
    click_header(page, "accuracy mean")
    assert first_column(page) == best_first[::-1]
    # The per-class table sorts too: by a feature set's F1, then back by class name.
    click_header(page, "pixels P / R", table=1)
    f1 = result.per_class().f1[result.per_class().names.index("pixels")]
    order = first_column(page, table=1)
    names = result.per_class().class_names
    assert [f1[names.index(n)] for n in order] == sorted(f1)
    click_header(page, "class", table=1)
    assert first_column(page, table=1) == sorted(names)
    # A feature set's name in the table leads to its figures.
    page.locator("table.sortable").first.locator("a", has_text="pca8").click()
    assert page.evaluate("location.hash") == "#fs-pca8"
    assert problems == []
    page.close()


def test_multi_dataset_page_loads_and_sorts(browser, tmp_path):
    from .test_multi import SCORES

    multi = MultiDatasetResult({name: fake_result(scores) for name, scores in SCORES.items()})
    multi.write_report(tmp_path)
    page, problems = open_page(browser, tmp_path / "report.html")
    assert page.evaluate("document.images.length") == 1
    assert page.evaluate("Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)")
    assert first_column(page) == ["a", "b", "c"]
    click_header(page, "average rank")  # ascending: already in that order
    click_header(page, "average rank")
    assert first_column(page) == ["c", "b", "a"]
    click_header(page, "three")
    assert first_column(page) == ["b", "c", "a"]  # 0.507, 0.56, 0.61
    assert problems == []
    page.close()
