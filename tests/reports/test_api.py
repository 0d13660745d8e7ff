"""GET /api/v1/reports/attendance-sheet: the monthly sheet as a streamed CSV, with the page's rules."""

from __future__ import annotations

import csv
import io
from datetime import date

from sqlmodel import Session

from hr_portal.auth import service as auth_service
from hr_portal.core.db import get_engine
from hr_portal.reports import service as reports
from tests import factories
from tests.factories import API, login_headers
from tests.reports.test_service import TEAM, run

URL = f"{API}/reports/attendance-sheet"


def _people(text: str) -> list[list[str]]:
    return [r for r in csv.reader(io.StringIO(text)) if r and r[0].startswith("E-")]


def test_hr_downloads_the_whole_sheet_as_the_service_builds_it(client, world):
    r = client.get(URL, params={"month": "2026-03"}, headers=login_headers(client, world.people["hr"]))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    assert r.headers["content-disposition"] == 'attachment; filename="attendance-sheet-2026-03.csv"'
    _, expected = run(reports.monthly_sheet_csv, actor=world.actor("hr"), month=date(2026, 3, 1))
    assert r.text == expected
    assert len(_people(r.text)) == 9


def test_a_manager_gets_only_their_team_and_filters_apply(client, world):
    h = login_headers(client, world.people["manager"])
    r = client.get(URL, params={"month": "2026-03"}, headers=h)
    assert r.status_code == 200, r.text
    assert len(_people(r.text)) == len(TEAM)
    sales = client.get(URL, params={"month": "2026-03", "departmentId": world.departments["Sales"].id},
                       headers=login_headers(client, world.people["hr"]))
    assert [row[1] for row in _people(sales.text)] == [world.people["e4"].employee.full_name]


def test_employees_unsigned_and_bad_input_are_refused_with_the_envelope(client, world, other_org):
    r = client.get(URL, params={"month": "2026-03"}, headers=login_headers(client, world.people["e1"]))
    assert r.status_code == 403 and r.json()["error"]["code"] == "FORBIDDEN"
    assert client.get(URL, params={"month": "2026-03"}).status_code == 401
    hr = login_headers(client, world.people["hr"])
    bad = client.get(URL, params={"month": "March"}, headers=hr)
    assert bad.status_code == 400 and bad.json()["error"]["details"][0]["field"] == "month"
    foreign = client.get(URL, params={"month": "2026-03", "companyId": other_org.company.id}, headers=hr)
    assert foreign.status_code == 400 and foreign.json()["error"]["details"][0]["field"] == "companyId"


def test_the_sign_in_cookie_works_like_on_the_page(client, world):
    with Session(get_engine(), expire_on_commit=False) as s:
        token, _ = auth_service.create_ui_session(session=s, email=world.people["hr"].email,
                                                  password=factories.PASSWORD)
        s.commit()
    client.cookies.set("hr_session", token)
    try:
        r = client.get(URL, params={"month": "2026-03"})
        assert r.status_code == 200 and len(_people(r.text)) == 9
        client.cookies.set("hr_session", "forged")
        assert client.get(URL, params={"month": "2026-03"}).status_code == 401
    finally:
        client.cookies.clear()
