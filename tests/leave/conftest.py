"""Fixtures of the leave tests: an organization with the default leave types and their 2030 entitlements."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlmodel import Session, select

from hr_portal.core.db import get_engine
from hr_portal.employees.models import Employee
from hr_portal.leave import service
from hr_portal.org.models import Holiday
from tests.leave.helpers import TODAY, actor_of, d


@pytest.fixture
def leave_org(org, people) -> dict:
    """`org` and `people` with the default leave types and their 2030 entitlements (committed)."""
    with Session(get_engine(), expire_on_commit=False) as s:
        types = service.ensure_default_types(s, org.id)
        for emp in s.exec(select(Employee).where(Employee.organization_id == org.id)).all():
            service.grant_entitlements(s, emp, today=TODAY, types=types)
        s.commit()
        by_name = {t.name: t for t in types}
    return {"org": org, "people": people, "types": by_name,
            "actors": {k: actor_of(p) for k, p in people.items()}}


@pytest.fixture
def holiday(clean_database) -> Callable[..., None]:
    def add(org, day: str, name: str = "Holiday", recurring: bool = False) -> None:
        with Session(get_engine()) as s:
            s.add(Holiday(organization_id=org.id, company_id=org.company.id, date=d(day), name=name,
                          recurring=recurring))
            s.commit()
    return add
