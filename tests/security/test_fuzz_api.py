"""Schemathesis fuzzing of the legacy API (/api/v1) against its own OpenAPI schema.

Every operation of the schema is fuzzed in-process (ASGI) twice: signed in as an admin and as an
employee of a seeded organization (a department, one person per role). Positive and negative
cases (values outside the schema: wrong types, missing fields, out-of-range numbers) run every
built-in response check: no 5xx, status code documented, content type documented, response body
matching its declared schema, declared response headers, security actually enforced (the same
request without the token must be refused), negative data rejected, positive data accepted.

Size: ``HR_FUZZ_MAX_EXAMPLES`` examples per operation and role (default 15; about two minutes for the
whole file). The number of generated cases is printed at the end of the run (docs/security.md).
"""

from __future__ import annotations

import os
from collections import Counter

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from hr_portal.api import create_api
from tests import factories

MAX_EXAMPLES = int(os.environ.get("HR_FUZZ_MAX_EXAMPLES", "15"))
ROLES = ("admin", "employee")

CASES: Counter[str] = Counter()


@pytest.fixture(scope="module", autouse=True)
def _report_case_count(request):
    yield
    if CASES:
        capture = request.config.pluginmanager.get_plugin("capturemanager")
        with capture.global_and_fixture_disabled():
            print(f"\nschemathesis: {sum(CASES.values())} cases generated over {len(CASES)} operation/role pairs")


@pytest.fixture(params=ROLES)
def fuzz_role(request) -> str:
    return request.param


@pytest.fixture
def signed_in(client, people, fuzz_role) -> dict:
    """A seeded organization and the bearer headers of its ``fuzz_role`` person."""
    person = people[fuzz_role]
    return {"person": person, "client": client, "headers": factories.login_headers(client, person)}


# Every check is on, with two documented allowances:
# - Schema-valid data may still break a business rule the schema cannot express (a password over
#   72 UTF-8 bytes, latitude without longitude, a reversed or overdrawn leave, a rejection without a
#   comment, an upload whose bytes are not an allowed image/PDF): the API answers those with the
#   contract's 400 envelope (413/415 for uploads), so those count as answers to positive data.
# - Negative cases do not add unknown query parameters: the legacy API ignores parameters it does
#   not know (old clients send cache-busters such as `_=`), as the contract allows.
CONFIG = schemathesis.Config.from_str("""
[generation]
allow-extra-parameters = false

[checks.positive_data_acceptance]
expected-statuses = ["2xx", "400", "401", "403", "404", "409", "413", "415", "429"]
""")

# The app's own schema, served by the app (built under the test settings of tests/conftest.py).
schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", create_api(), config=CONFIG)


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, database=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_schema(case, fuzz_role, signed_in):
    headers = dict(signed_in["headers"])
    if case.path == "/api/v1/auth/logout":
        # Logging out revokes the token: spend a separate one so the next cases stay signed in.
        headers = factories.login_headers(signed_in["client"], signed_in["person"])
    CASES[f"{fuzz_role} {case.operation.label}"] += 1
    case.call_and_validate(headers=headers)


# ------------------------------------------------------------------------------ what the fuzzer found
# Plain regression tests for each bug the fuzzer found, so they stay fixed at any example count.


def test_schema_documents_the_contract_errors_not_fastapis_422(api_app):
    operations = api_app.openapi()["paths"]
    login = operations["/api/v1/auth/login"]["post"]["responses"]
    assert "422" not in login and {"400", "401", "423", "429"} <= set(login)
    assert login["400"]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorEnvelope")
    check_in = operations["/api/v1/attendance/check-in"]["post"]["responses"]
    assert {"400", "401", "403", "404", "409"} <= set(check_in)
    assert "422" not in check_in
    # Success answers are documented as the contract's envelopes (so the fuzzer checks their shape).
    assert check_in["201"]["content"]["application/json"]["schema"]["$ref"].endswith("/SuccessEnvelope")
    listing = operations["/api/v1/leave"]["get"]["responses"]["200"]
    assert listing["content"]["application/json"]["schema"]["$ref"].endswith("/PageEnvelope")
    assert set(operations["/api/v1/health"]["get"]["responses"]) == {"200", "503"}


@pytest.mark.parametrize(("method", "path", "allow"), [
    ("PUT", "/api/v1/health", "GET"),
    ("POST", "/api/v1/leave/types", "GET"),
    ("DELETE", "/api/v1/leave/types", "GET"),
    ("PATCH", "/api/v1/employees/1", "DELETE, GET, PUT"),
    ("OPTIONS", "/api/v1/employees", "GET, POST"),
])
def test_known_path_with_another_method_is_405_with_allow(client, people, method, path, allow):
    response = client.request(method, path, headers=factories.login_headers(client, people["admin"]))
    assert response.status_code == 405, response.text
    assert response.headers["allow"] == allow
    assert response.json()["error"]["code"] == "METHOD_NOT_ALLOWED"


def test_unknown_path_is_still_404(client):
    response = client.put("/api/v1/no-such-thing")
    assert response.status_code == 404 and response.json()["error"]["code"] == "NOT_FOUND"


@pytest.mark.parametrize("path", ["/api/v1/leave?startDate=0", "/api/v1/attendance?endDate=1700000000",
                                  "/api/v1/leave?startDate=2026-1-5"])
def test_dates_that_are_not_yyyy_mm_dd_are_refused(client, people, path):
    # Pydantic's lax mode read numbers as Unix timestamps: startDate=0 silently meant 1970-01-01.
    response = client.get(path, headers=factories.login_headers(client, people["employee"]))
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"


def test_check_in_refuses_a_boolean_where_a_number_belongs(client, people):
    headers = factories.login_headers(client, people["employee"])
    response = client.post("/api/v1/attendance/check-in", headers=headers, json={"accuracy": False})
    assert response.status_code == 400, response.text
    assert client.post("/api/v1/attendance/check-in", headers=headers,
                       json={"latitude": 52, "longitude": 13.4, "accuracy": 10}).status_code == 201


@pytest.mark.parametrize("path", ["/api/v1/leave?leaveTypeId=2147483648", "/api/v1/attendance/summary?employeeId=2147483648",
                                  "/api/v1/leave/2147483648", "/api/v1/leave/balance?employeeId=99999999999"])
def test_ids_beyond_32_bits_are_refused_not_a_server_error(client, people, path):
    # On PostgreSQL these reached the query and failed there ("integer out of range": a 500).
    response = client.get(path, headers=factories.login_headers(client, people["admin"]))
    assert response.status_code == 400, response.text


def test_a_value_the_database_refuses_is_a_400(client, people):
    # The safety net behind the schemas: a body id beyond 32 bits on a field without a declared bound.
    headers = factories.login_headers(client, people["admin"])
    response = client.post("/api/v1/employees", headers=headers,
                           json={"firstName": "A", "lastName": "B", "email": "big-id@example.com",
                                 "departmentId": 2**40})
    assert response.status_code in (400, 404), response.text
    assert response.json()["success"] is False
