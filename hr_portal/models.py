"""Import every module's tables so SQLModel.metadata is complete (Alembic and tests use this)."""

from hr_portal.core import audit, files, mail, scheduler  # noqa: F401  (tables defined in core)
from hr_portal.modules import submodules

MODELS = [m.__name__ for m in submodules("models")]
