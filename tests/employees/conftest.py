"""Fixtures for the employees module: an organization with a small reporting tree, and actors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlmodel import Session

from hr_portal.auth import service as auth_service
from hr_portal.auth.models import Role
from hr_portal.core.authz import Actor
from hr_portal.core.db import get_engine
from tests import factories
from tests.factories import Person


def actor_of(person: Person) -> Actor:
    """The Actor the app derives for a person (fresh read of role and employee)."""
    with Session(get_engine()) as session:
        try:
            return auth_service.actor_for(session, session.get(auth_service.User, person.user_id))
        finally:
            session.rollback()


@pytest.fixture
def tree(people: dict[str, Person], org: factories.OrgBundle) -> dict[str, Person]:
    """`people` (admin <- hr_manager; admin <- manager <- employee) plus:
    lead (manager role) reporting to manager, junior reporting to lead (a skip-level report of manager),
    and outsider reporting to admin (same organization, outside the manager's line)."""
    with Session(get_engine(), expire_on_commit=False) as s:
        lead = factories.create_person(s, org, role=Role.manager, manager=people["manager"], first_name="Lena",
                                       last_name="Lead")
        junior = factories.create_person(s, org, role=Role.employee, manager=lead, first_name="Jon",
                                         last_name="Junior")
        outsider = factories.create_person(s, org, role=Role.employee, manager=people["admin"], first_name="Olga",
                                           last_name="Outside")
        s.commit()
    return {**people, "lead": lead, "junior": junior, "outsider": outsider}


@pytest.fixture
def foreigner(other_org: factories.OrgBundle) -> Person:
    """An admin of another organization, with one more employee there."""
    with Session(get_engine(), expire_on_commit=False) as s:
        admin = factories.create_person(s, other_org, role=Role.admin, first_name="Fritz", last_name="Foreign")
        factories.create_person(s, other_org, role=Role.employee, manager=admin, first_name="Frida",
                                last_name="Foreign")
        s.commit()
    return admin


@pytest.fixture
def run() -> Callable[..., Any]:
    """`run(fn, **kwargs)`: call a service function in its own committed unit of work (like the UI does)."""
    from hr_portal.core.db import session_scope

    def call(fn, /, **kwargs):
        with session_scope() as session:
            return fn(session=session, **kwargs)

    return call
