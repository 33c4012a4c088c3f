"""Find the modules of a listener package, so each feature module registers itself."""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType


def submodules(package: ModuleType, hook: str = "register") -> list[ModuleType]:
    """The package's direct submodules that define ``hook``, in name order."""
    found = []
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        if callable(getattr(module, hook, None)):
            found.append(module)
    return found
