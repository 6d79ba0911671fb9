"""Write docs/api.md, the API reference, from the docstrings of skvision's public names.

Run ``python docs/gen_api.py`` after changing a public name or its docstring;
``tests/test_docs.py`` checks that the page lists every public name with its
current summary line.
"""

from __future__ import annotations

import importlib
import inspect
import sys
from pathlib import Path

#: Namespaces documented, in order, with a one-line description.
NAMESPACES = [
    ("skvision", "Top-level names: every estimator, and the comparison workflow."),
    ("skvision.descriptors", "Handcrafted descriptors and their batched functions."),
    ("skvision.neural", "Learned features: CNNs, autoencoders, pretrained backbones."),
    ("skvision.preprocessing", "Pipeline steps on images and file paths."),
    ("skvision.datasets", "Bundled data sets and the image-folder reader."),
    ("skvision.plotting", "Display objects (matplotlib)."),
    ("skvision.compare", "The comparison workflow behind `skvision compare`."),
    ("skvision.distributed", "Running on a Dask cluster."),
]

#: Namespaces whose package docstring, past its first paragraph, opens their section
#: (conventions that hold for all of their names, such as the descriptors' feature names).
INTRODUCED = {"skvision.descriptors"}


def public_names(namespace):
    try:
        module = importlib.import_module(namespace)
    except ImportError:
        return []  # an optional part not in this installation
    return [
        name for name in getattr(module, "__all__", []) if not name.startswith("_") and name != "__version__"
    ]


def summary(obj):
    doc = inspect.getdoc(obj) or ""
    return doc.strip().split("\n\n")[0].replace("\n", " ") if doc else "(no docstring)"


def introduction(namespace):
    """The markdown lines of a namespace's docstring past its first paragraph (``INTRODUCED`` only).

    numpydoc section titles (a line underlined with dashes) become ``###`` headings, and
    a paragraph ending in ``::`` (a literal block follows) ends in ``:``.
    """
    if namespace not in INTRODUCED:
        return []
    doc = inspect.getdoc(importlib.import_module(namespace)) or ""
    if "\n\n" not in doc:
        return []
    lines = doc.split("\n\n", 1)[1].strip("\n").split("\n")
    out = []
    for line in lines:
        title = out[-1] if out else ""
        if title and line == "-" * len(title):
            out[-1:] = [f"### {title}", ""]
        else:
            out.append(line[:-1] if line.endswith("::") else line)
    return out + [""]


def entries():
    """``(namespace, name, object)`` for every public name, each object documented once."""
    seen = set()
    for namespace, _ in NAMESPACES:
        for name in public_names(namespace):
            module = importlib.import_module(namespace)
            try:
                obj = getattr(module, name)
            except (ImportError, AttributeError):
                continue  # a name whose module is not in this installation
            key = (getattr(obj, "__module__", namespace), getattr(obj, "__qualname__", name))
            if key in seen or not (inspect.isclass(obj) or inspect.isfunction(obj) or callable(obj)):
                continue
            seen.add(key)
            yield namespace, name, obj


def render():
    lines = [
        "# API reference",
        "",
        "Generated from the docstrings by `python docs/gen_api.py`; each name is listed under the",
        "first namespace that exports it.",
        "",
    ]
    by_namespace = {}
    for namespace, name, obj in entries():
        by_namespace.setdefault(namespace, []).append((name, obj))
    for namespace, description in NAMESPACES:
        if namespace not in by_namespace:
            continue
        lines += [f"## `{namespace}`", "", description, ""]
        lines += introduction(namespace)
        for name, obj in by_namespace[namespace]:
            try:
                signature = str(inspect.signature(obj))
            except (TypeError, ValueError):
                signature = "(...)"
            kind = "class" if inspect.isclass(obj) else "function"
            lines += [f"### `{namespace}.{name}`", "", f"*{kind}* `{name}{signature}`", "", summary(obj), ""]
            doc = inspect.getdoc(obj) or ""
            rest = doc.split("\n\n", 1)[1] if "\n\n" in doc else ""
            if rest.strip():
                lines += [
                    "<details><summary>Full docstring</summary>",
                    "",
                    "```text",
                    rest.rstrip(),
                    "```",
                    "",
                    "</details>",
                    "",
                ]
    return "\n".join(lines).rstrip() + "\n"


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    target = Path(__file__).with_name("api.md")
    target.write_text(render())
    print(f"wrote {target}")
