from tests.leave.conftest import leave_org  # noqa: F401  (the organization with default leave types)
