"""Who is acting, and what they may do. Every service function calls `require` (or `scope`) first."""

from __future__ import annotations

from dataclasses import dataclass

from hr_portal.auth.models import Role
from hr_portal.core.errors import Forbidden

ALL_ROLES = frozenset(Role)
HR_ROLES = frozenset({Role.admin, Role.hr_manager})
APPROVER_ROLES = frozenset({Role.admin, Role.hr_manager, Role.manager})


@dataclass(frozen=True)
class Actor:
    """The authenticated caller, always derived server-side (JWT or UI session), never from client input."""

    user_id: int
    organization_id: int
    role: Role
    employee_id: int | None
    email: str = ""
    ip: str | None = None
    user_agent: str | None = None

    @property
    def is_hr(self) -> bool:
        return self.role in HR_ROLES

    @property
    def is_admin(self) -> bool:
        return self.role == Role.admin


def require(actor: Actor | None, *roles: Role) -> Actor:
    """Deny by default: the actor must exist and, when roles are given, hold one of them."""
    if actor is None:
        from hr_portal.core.errors import Unauthorized

        raise Unauthorized("Sign in to continue.")
    if roles and actor.role not in roles:
        raise Forbidden("Your role does not allow this action.")
    return actor


# Navigation entries per role: (label, path, icon). Modules not built yet are absent.
NAV: list[tuple[str, str, str, frozenset[Role]]] = [
    ("Home", "/", "house", ALL_ROLES),
    ("Settings", "/settings", "settings", frozenset({Role.admin})),
]


# Pages restricted to some roles, by key (deny by default: a key missing here admits nobody).
PAGE_ROLES: dict[str, frozenset[Role]] = {
    "home": ALL_ROLES,
    "account": ALL_ROLES,
    "settings": frozenset({Role.admin}),
}


def nav_for(role: Role) -> list[dict[str, str]]:
    return [{"label": label, "path": path, "icon": icon} for label, path, icon, roles in NAV if role in roles]
