"""Lazy attribute loading for package namespaces.

Public names are listed once, with the private module that defines them; the module
is imported on first access. This keeps ``import skvision`` free of torch for users
who only need descriptors, and lets ``dir()`` and tab completion show every name.
"""

from __future__ import annotations

import importlib


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
        return getattr(importlib.import_module(module_path), name)

    def __dir__():
        return sorted(names_to_modules)

    return __getattr__, __dir__, sorted(names_to_modules)
