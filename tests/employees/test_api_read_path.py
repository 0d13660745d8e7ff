"""The hot read endpoints (GET /employees, GET /employees/{id}) on their one-hop path (`run_unit`):
what they cost in statements, and that authentication on that path is as strict as everywhere else
(revocation at once, a bad token refused before the parameters are looked at)."""

from __future__ import annotations

import contextlib

import pytest
from sqlalchemy import event, update
from sqlmodel import Session

from hr_portal.auth.models import RefreshFamily, User
from hr_portal.core.db import get_engine
from tests.factories import API, bearer, claims_of, login, sign

URL = f"{API}/employees"


@contextlib.contextmanager
def statements():
    """The SQL statements the application sends while the block runs (not transaction control)."""
    seen: list[str] = []

    def record(_conn, _cursor, statement, _params, _context, _many):
        head = statement.lstrip().split(None, 1)[0].upper()
        if head not in ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE"):
            seen.append(statement)

    engine = get_engine()
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


@pytest.fixture
def hr(client, tree):
    tokens = login(client, tree["hr_manager"].email)
    return tokens


def test_a_profile_read_is_two_statements_authentication_and_the_profile(client, tree, hr):
    with statements() as seen:
        response = client.get(f"{URL}/{tree['junior'].employee_id}", headers=bearer(hr["accessToken"]))
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert data["managerName"] == "Lena Lead" and data["companyName"] and data["role"] == "employee"
    assert len(seen) == 2, seen


def test_a_list_page_is_three_statements_authentication_count_and_the_page(client, tree, hr):
    everyone = [e["id"] for e in client.get(URL, headers=bearer(hr["accessToken"]), params={"limit": 100}).json()["data"]]
    with statements() as seen:
        response = client.get(URL, headers=bearer(hr["accessToken"]), params={"limit": 3, "page": 2})
    assert response.status_code == 200, response.text
    assert [e["id"] for e in response.json()["data"]] == everyone[3:6]
    assert len(seen) == 3, seen


def test_a_page_past_the_end_is_empty_without_reading_rows(client, tree, hr):
    with statements() as seen:
        response = client.get(URL, headers=bearer(hr["accessToken"]), params={"limit": 5, "page": 3})
    assert response.status_code == 200, response.text
    assert response.json()["data"] == [] and response.json()["pagination"]["total"] == 7
    assert len(seen) == 2, seen


@pytest.mark.parametrize("path", ["", "/{id}"])
def test_a_logged_out_token_is_refused_at_once_on_the_read_path(client, tree, hr, path):
    url = URL + path.format(id=tree["employee"].employee_id)
    assert client.get(url, headers=bearer(hr["accessToken"])).status_code == 200
    assert client.post(f"{API}/auth/logout", headers=bearer(hr["accessToken"])).status_code == 200
    response = client.get(url, headers=bearer(hr["accessToken"]))
    assert response.status_code == 401 and response.json()["error"]["code"] == "UNAUTHORIZED"


@pytest.mark.parametrize("change", ["deactivated", "token_version", "family_revoked"])
def test_a_token_is_refused_as_soon_as_the_database_says_so(client, tree, hr, change):
    url = f"{URL}/{tree['employee'].employee_id}"
    assert client.get(url, headers=bearer(hr["accessToken"])).status_code == 200
    with Session(get_engine()) as s:
        user_id = tree["hr_manager"].user_id
        if change == "deactivated":
            s.exec(update(User).where(User.id == user_id).values(is_active=False))
        elif change == "token_version":
            s.exec(update(User).where(User.id == user_id).values(token_version=User.token_version + 1))
        else:
            s.exec(update(RefreshFamily).where(RefreshFamily.id == claims_of(hr["accessToken"])["fam"])
                   .values(revoked_at=RefreshFamily.created_at))
        s.commit()
    for target in (url, URL):
        response = client.get(target, headers=bearer(hr["accessToken"]))
        assert response.status_code == 401, (target, response.text)


def test_a_token_of_another_users_sign_in_family_is_refused(client, tree, hr):
    """The family claim must belong to the token's own user (a family id is not a credential)."""
    other = login(client, tree["employee"].email)
    forged = sign({**claims_of(hr["accessToken"]), "fam": claims_of(other["accessToken"])["fam"]})
    assert client.get(URL, headers=bearer(forged)).status_code == 401


@pytest.mark.parametrize("path", ["?limit=1000", "/0"])
def test_a_bad_token_is_401_before_bad_parameters_are_400(client, tree, hr, path):
    forged = sign(claims_of(hr["accessToken"]), key="y" * 48)
    response = client.get(URL + path, headers=bearer(forged))
    assert response.status_code == 401, response.text
    response = client.get(URL + path, headers=bearer(hr["accessToken"]))
    assert response.status_code == 400, response.text
    assert client.get(URL + path).status_code == 401  # no token at all
