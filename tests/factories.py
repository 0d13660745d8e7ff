"""Test data builders and API helpers shared by every module's tests.

Import them directly (``from tests.factories import create_person``) or use the fixtures in
``tests/conftest.py`` that wrap them (``org``, ``people``, ``other_org``).

Builders take a ``Session`` and *flush* (ids are set) but never commit: the caller decides. The
conftest fixtures commit for you. Remember that on SQLite every transaction takes the database
write lock (``BEGIN IMMEDIATE``, see ``hr_portal/core/db.py``): commit or roll back a session
before making API calls or starting threads, or they will wait on that lock.
"""

from __future__ import annotations

import base64
import itertools
import json
import time
from dataclasses import dataclass
from datetime import date
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import jwt
from sqlmodel import Session

from hr_portal.auth.models import Role, User
from hr_portal.core.config import get_settings
from hr_portal.core.security import hash_password
from hr_portal.employees.models import Department, Employee, EmployeeStatus
from hr_portal.org.models import Company, Organization

API = "/api/v1"
PASSWORD = "Correct-Horse-42"  # satisfies the password policy; every factory user has it by default

_seq = itertools.count(1)
_hash_cache: dict[str, str] = {}


def unique(prefix: str = "x") -> str:
    """A process-unique suffix, so records built in different tests never clash."""
    return f"{prefix}{next(_seq)}"


def unique_email(prefix: str = "user") -> str:
    return f"{unique(prefix)}@example.com"


def password_hash(password: str = PASSWORD) -> str:
    """bcrypt hash of ``password`` (cached: the same hash verifies fine for every user)."""
    if password not in _hash_cache:
        _hash_cache[password] = hash_password(password)
    return _hash_cache[password]


# ------------------------------------------------------------------------------ database builders


@dataclass
class OrgBundle:
    organization: Organization
    company: Company

    @property
    def id(self) -> int:
        return self.organization.id


@dataclass
class Person:
    user: User
    employee: Employee
    password: str

    @property
    def email(self) -> str:
        return self.user.email

    @property
    def user_id(self) -> int:
        return self.user.id

    @property
    def employee_id(self) -> int:
        return self.employee.id

    @property
    def organization_id(self) -> int:
        return self.user.organization_id

    @property
    def role(self) -> Role:
        return Role(self.user.role)


def create_organization(session: Session, *, name: str | None = None, timezone: str = "UTC") -> OrgBundle:
    """An organization with one company."""
    name = name or f"Org {unique()}"
    org = Organization(name=name)
    session.add(org)
    session.flush()
    company = Company(organization_id=org.id, name=f"{name} Ltd", timezone=timezone)
    session.add(company)
    session.flush()
    return OrgBundle(org, company)


def create_department(session: Session, org: OrgBundle, *, name: str | None = None) -> Department:
    dept = Department(organization_id=org.id, company_id=org.company.id, name=name or unique("Dept "))
    session.add(dept)
    session.flush()
    return dept


def create_person(
    session: Session,
    org: OrgBundle,
    *,
    role: Role = Role.employee,
    email: str | None = None,
    password: str | None = PASSWORD,
    first_name: str | None = None,
    last_name: str = "Tester",
    manager: Person | Employee | None = None,
    department: Department | None = None,
    is_active: bool = True,
    status: EmployeeStatus = EmployeeStatus.active,
    date_of_joining: date | None = date(2024, 1, 15),
) -> Person:
    """A user account of ``role`` with its employee record. ``password=None`` gives an account
    without a password (as after an invitation, before the welcome link is used)."""
    email = (email or unique_email(role.value)).lower()
    user = User(organization_id=org.id, email=email, role=role, is_active=is_active,
                password_hash=password_hash(password) if password is not None else None)
    session.add(user)
    session.flush()
    manager_id = manager.employee.id if isinstance(manager, Person) else (manager.id if manager else None)
    employee = Employee(
        organization_id=org.id, company_id=org.company.id, user_id=user.id,
        department_id=department.id if department else None, manager_id=manager_id,
        employee_code=unique("E-"), first_name=first_name or role.value.replace("_", " ").title().replace(" ", ""),
        last_name=last_name, email=email, status=status, date_of_joining=date_of_joining,
    )
    session.add(employee)
    session.flush()
    return Person(user, employee, password or "")


def create_people(session: Session, org: OrgBundle) -> dict[str, Person]:
    """One person per role, in a small reporting line: admin <- hr_manager, admin <- manager <- employee."""
    admin = create_person(session, org, role=Role.admin)
    hr = create_person(session, org, role=Role.hr_manager, manager=admin)
    manager = create_person(session, org, role=Role.manager, manager=admin)
    employee = create_person(session, org, role=Role.employee, manager=manager)
    return {"admin": admin, "hr_manager": hr, "manager": manager, "employee": employee}


# ------------------------------------------------------------------------------ API helpers


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def register_body(**overrides: Any) -> dict[str, Any]:
    body = {"organizationName": unique("Org "), "firstName": "Ada", "lastName": "Lovelace",
            "email": unique_email("founder"), "password": PASSWORD}
    body.update(overrides)
    return body


def register(client, **overrides: Any):
    """POST /auth/register with a valid body (fields overridable); returns the response."""
    return client.post(f"{API}/auth/register", json=register_body(**overrides))


def login(client, email: str, password: str = PASSWORD) -> dict[str, Any]:
    """Log in through the API and return ``data`` ({user, accessToken, refreshToken, expiresIn})."""
    response = client.post(f"{API}/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return response.json()["data"]


def login_headers(client, person_or_email: Person | str, password: str | None = None) -> dict[str, str]:
    """Authorization headers for a person (or email) after a real API login."""
    if isinstance(person_or_email, Person):
        email, password = person_or_email.email, password or person_or_email.password
    else:
        email, password = person_or_email, password or PASSWORD
    return bearer(login(client, email, password)["accessToken"])


# ------------------------------------------------------------------------------ tokens


def claims_of(token: str) -> dict[str, Any]:
    """The claims of a JWT without checking anything (to build variants of a real token)."""
    return jwt.decode(token, options={"verify_signature": False})


def sign(claims: dict[str, Any], *, key: str | None = None, algorithm: str = "HS256",
         headers: dict[str, Any] | None = None) -> str:
    """Sign ``claims`` with the test secret (or ``key``)."""
    return jwt.encode(claims, key if key is not None else get_settings().secret_key, algorithm=algorithm,
                      headers=headers)


def unsigned_token(claims: dict[str, Any]) -> str:
    """An ``alg: none`` JWT (header.payload. with an empty signature), built by hand."""
    def part(obj: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj, separators=(",", ":")).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


# ------------------------------------------------------------------------------ mail


def outbox_messages(outbox_dir: str | Path) -> list[EmailMessage]:
    """Parsed .eml files of the file outbox, oldest first."""
    path = Path(outbox_dir)
    if not path.exists():
        return []
    return [message_from_bytes(p.read_bytes(), policy=policy.default)
            for p in sorted(path.glob("*.eml"))]


def deliver_and_collect(outbox_dir: str | Path, *, to: str | None = None, expect: int | None = None,
                        wait: float = 1.0) -> list[EmailMessage]:
    """Deliver pending mail synchronously and return the outbox's messages (to ``to`` when given).

    Delivery is also kicked in a background thread after each commit; ``deliver_pending`` shares a
    lock with it, so once it returns every due mail is on disk. When ``expect`` is given, poll
    briefly (at most ``wait`` seconds) until that many messages are there.
    """
    from hr_portal.core import events
    from hr_portal.core.mail import deliver_pending

    events.drain()  # mails queued by background event listeners (notifications) are in the outbox first
    deadline = time.monotonic() + wait
    while True:
        deliver_pending()
        messages = [m for m in outbox_messages(outbox_dir) if to is None or m["To"] == to]
        if expect is None or len(messages) >= expect or time.monotonic() >= deadline:
            return messages
        time.sleep(0.05)


def text_body(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    return part.get_content() if part is not None else ""


def html_body(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    return part.get_content() if part is not None else ""


# ------------------------------------------------------------------------------ checks without side effects


def access_token_accepted(token: str) -> bool:
    """Whether the API would accept ``token`` as a bearer token (the same check as the API's
    dependency, in a separate session), without using it up the way a call to logout would."""
    from hr_portal.auth import service
    from hr_portal.core.db import get_engine
    from hr_portal.core.errors import Unauthorized

    with Session(get_engine()) as session:
        try:
            service.actor_from_access_token(session=session, token=token)
        except Unauthorized:
            return False
        finally:
            session.rollback()
    return True


def actor_of(token: str):
    """The Actor the API derives from ``token`` (raises Unauthorized when it is refused)."""
    from hr_portal.auth import service
    from hr_portal.core.db import get_engine

    with Session(get_engine()) as session:
        try:
            return service.actor_from_access_token(session=session, token=token)[0]
        finally:
            session.rollback()
