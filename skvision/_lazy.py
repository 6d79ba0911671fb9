"""Lazy attribute loading for package namespaces.

Public names are listed once, with the private module that defines them; the module
is imported on first access. This keeps ``import skvision`` free of torch for users
who only need descriptors, and lets ``dir()`` and tab completion show every name.
"""

from __future__ import annotations

import importlib

#: Optional dependency (top-level module) -> the extra of skvision that installs it.
EXTRAS = {
    "torch": "neural",
    "torchvision": "neural",
    "skorch": "neural",
    "timm": "neural",
    "kornia": "neural",
    "matplotlib": "plot",
    "pandas": "pandas",
    "dask": "distributed",
    "distributed": "distributed",
    "numba": "fast",
}


def missing_extra_error(what: str, exc: ModuleNotFoundError) -> ImportError:
    """An ImportError saying which extra brings the module ``exc`` found missing, or ``exc`` itself.

    Examples
    --------
    >>> exc = ModuleNotFoundError("No module named 'torch'", name="torch")
    >>> print(missing_extra_error("skvision.CNNClassifier", exc))
    skvision.CNNClassifier needs torch, which is not installed: pip install 'skvision[neural]'
    """
    missing = (exc.name or "").partition(".")[0]
    extra = EXTRAS.get(missing)
    if extra is None:
        return exc
    return ImportError(f"{what} needs {missing}, which is not installed: pip install 'skvision[{extra}]'")


def attach(package_name: str, names_to_modules: dict[str, str]):
    """Return ``(__getattr__, __dir__, __all__)`` for a package namespace.

    Parameters
    ----------
    package_name : str
        ``__name__`` of the package.
    names_to_modules : dict
        Public name -> absolute module path that defines it.

    Examples
    --------
    >>> getattr_, dir_, all_ = attach("pkg", {"sqrt": "math"})
    >>> getattr_("sqrt")(4.0)
    2.0
    """

    def __getattr__(name):
        try:
            module_path = names_to_modules[name]
        except KeyError:
            raise AttributeError(f"module {package_name!r} has no attribute {name!r}") from None
        try:
            module = importlib.import_module(module_path)
        except ModuleNotFoundError as exc:
            raise missing_extra_error(f"{package_name}.{name}", exc) from exc
        return getattr(module, name)

    def __dir__():
        return sorted(names_to_modules)

    return __getattr__, __dir__, sorted(names_to_modules)


# ---------------------------------------------------------------------------- type stubs
#: The packages whose public names are loaded lazily, each with a ``__init__.pyi`` stub.
LAZY_PACKAGES = (
    "skvision",
    "skvision.descriptors",
    "skvision.neural",
    "skvision.preprocessing",
    "skvision.datasets",
    "skvision.plotting",
)

_STUB_HEADER = (
    "# Type stub of the lazily loaded names (IDEs and type checkers read it; Python never imports it).\n"
    "# Generated from _NAMES in __init__.py by `python -m skvision._lazy`; tests check it is current.\n"
)


def stub_text(package_name: str, names_to_modules: dict[str, str], extra_lines=()) -> str:
    """The text of ``__init__.pyi`` that re-exports every lazy name of ``package_name``.

    Examples
    --------
    >>> print(stub_text("pkg", {"f": "pkg._impl"}), end="")
    # Type stub ...
    ...
    from ._impl import f as f
    <BLANKLINE>
    __all__ = [
        "f",
    ]
    """

    def import_order(name):
        # The order of ruff's isort: by module, then constants, classes, functions.
        kind = 0 if name.isupper() else 1 if name[0].isupper() else 2
        return names_to_modules[name], kind, name

    lines = [_STUB_HEADER]
    for name in sorted(names_to_modules, key=import_order):
        module = names_to_modules[name]
        relative = "." + module[len(package_name) + 1 :]
        lines.append(f"from {relative} import {name} as {name}")
    lines.extend(["", *extra_lines] if extra_lines else [])
    public = sorted([*names_to_modules, *(line.split(":")[0] for line in extra_lines)])
    lines.append("")
    lines.append("__all__ = [")
    lines.extend(f'    "{name}",' for name in public)
    lines.append("]")
    return "\n".join(lines) + "\n"


def expected_stubs():
    """``{path of __init__.pyi: expected text}`` for every package of :data:`LAZY_PACKAGES`."""
    import pathlib

    stubs = {}
    for package_name in LAZY_PACKAGES:
        package = importlib.import_module(package_name)
        extra = ["__version__: str"] if package_name == "skvision" else []
        path = pathlib.Path(package.__file__).with_suffix(".pyi")
        stubs[path] = stub_text(package_name, package._NAMES, extra)
    return stubs


def write_stubs():
    """Rewrite every ``__init__.pyi`` from the lazy names (after adding a public name)."""
    for path, text in expected_stubs().items():
        path.write_text(text)
        print(f"wrote {path}")


if __name__ == "__main__":  # python -m skvision._lazy
    write_stubs()
