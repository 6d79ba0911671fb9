"""Every code block of docs/*.md runs; the API page lists every public name; the README snippet is checked."""

import doctest
import os
import re
import subprocess
import sys
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

import matplotlib.pyplot as plt

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
BLOCK = re.compile(r"^```(\w+)\n(.*?)^```", re.MULTILINE | re.DOTALL)
PAGES = sorted(p for p in DOCS.glob("*.md") if p.name != "api.md")


def code_blocks(page):
    blocks = BLOCK.findall(page.read_text())
    return [(language, code) for language, code in blocks if language in ("python", "bash")]


def test_docs_exist_and_have_code():
    names = {p.stem for p in PAGES}
    assert {"getting-started", "handcrafted", "learned", "transfer-learning", "comparing", "scaling"} <= names
    for page in PAGES:
        if page.stem != "index":
            assert code_blocks(page), f"{page.name} has no code block"


@pytest.mark.parametrize("page", PAGES, ids=[p.stem for p in PAGES])
def test_code_blocks_run(page, tmp_path, monkeypatch):
    import tempfile

    monkeypatch.chdir(tmp_path)
    # The pages' tempfile.mkdtemp() folders land in tmp_path, which pytest cleans, not in /tmp.
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    namespace = {"__name__": f"docs_{page.stem.replace('-', '_')}"}
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    try:
        for number, (language, code) in enumerate(code_blocks(page), start=1):
            if language == "python":
                exec(compile(code, f"{page.name}:block{number}", "exec"), namespace)
            else:
                completed = subprocess.run(
                    code, shell=True, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
                )
                assert completed.returncode == 0, f"{page.name} block {number}:\n{completed.stderr[-2000:]}"
    finally:
        plt.close("all")


def test_api_page_lists_every_public_name_with_its_current_summary():
    sys.path.insert(0, str(DOCS))
    try:
        import gen_api
    finally:
        sys.path.remove(str(DOCS))
    page = (DOCS / "api.md").read_text()
    stale = [
        f"{namespace}.{name}"
        for namespace, name, obj in gen_api.entries()
        if f"### `{namespace}.{name}`" not in page or gen_api.summary(obj) not in page
    ]
    assert not stale, f"docs/api.md is out of date for {stale}; run: python docs/gen_api.py"


def test_readme_quick_start_runs():
    result = doctest.testfile(str(ROOT / "README.md"), module_relative=False, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
