"""The dashboard tests use the reports tests' organization (tests/reports/conftest.py)."""

from tests.reports.conftest import world  # noqa: F401  (fixture)
