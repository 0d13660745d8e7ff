"""The legacy API as a plain ASGI app, for the failure tests' real server processes
(`granian --interface asgi tests.security.failure_app:app`). Settings come from the environment
the test gives the process (never from tests/conftest.py, which this module does not import)."""

from hr_portal.api import create_api

app = create_api()
