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


# ---- pages and navigation -------------------------------------------------------------------
# Each module declares its pages in its pages.py with `register_page`; deny by default: a page key
# that was never registered admits nobody. Nav entries are ordered by `order`, then label.

PAGE_ROLES: dict[str, frozenset[Role]] = {}
_NAV: list[tuple[int, str, str, str, frozenset[Role]]] = []


def register_page(key: str, roles: frozenset[Role] | set[Role], *, nav: tuple[str, str, str] | None = None,
                  order: int = 100) -> None:
    """Declare who may open page `key`; `nav=(label, path, icon)` also puts it in the sidebar for those roles."""
    PAGE_ROLES[key] = frozenset(roles)
    if nav is not None:
        label, path, icon = nav
        _NAV[:] = [e for e in _NAV if e[2] != path]
        _NAV.append((order, label, path, icon, frozenset(roles)))
        _NAV.sort(key=lambda e: (e[0], e[1]))


def nav_for(role: Role) -> list[dict[str, str]]:
    return [{"label": label, "path": path, "icon": icon} for _o, label, path, icon, roles in _NAV if role in roles]


register_page("home", ALL_ROLES, nav=("Home", "/", "house"), order=0)
register_page("account", ALL_ROLES)
