"""Module discovery: every package under hr_portal/ may contribute tables (`models`), a legacy API
router (`api.router`), pages (`pages.register(app)`) and demo data (`seed.seed(session, org_id)`).
Assembly code iterates over these instead of listing modules, so adding a module touches only its folder.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator
from types import ModuleType

import hr_portal

# Order matters where modules depend on each other's tables or pages (foundation first).
_FIRST = ["core", "org", "auth", "employees"]


def module_names() -> list[str]:
    found = [m.name for m in pkgutil.iter_modules(hr_portal.__path__) if m.ispkg]
    return [n for n in _FIRST if n in found] + sorted(n for n in found if n not in _FIRST)


def submodules(name: str) -> Iterator[ModuleType]:
    """Import `hr_portal.<module>.<name>` for every module that has it."""
    for module in module_names():
        qualified = f"hr_portal.{module}.{name}"
        try:
            spec = importlib.util.find_spec(qualified)
        except ModuleNotFoundError:
            spec = None
        if spec is not None:
            yield importlib.import_module(qualified)
