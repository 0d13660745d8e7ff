"""Leave: types and rules, holiday calendars, ledger balances, requests and approvals.

Importing the package subscribes the entitlement listeners (new organization, new employee, CSV import): module
discovery imports leave.models for the metadata and leave.api for the API, so they are always in place.
"""

from __future__ import annotations

from typing import Any

from hr_portal.core import events


def _on_user_registered(_name: str, payload: dict[str, Any]) -> None:
    from hr_portal.leave import service

    service.on_organization_registered(payload)


def _on_employee_created(_name: str, payload: dict[str, Any]) -> None:
    from hr_portal.leave import service

    service.on_employee_created(payload)


def _on_employees_imported(_name: str, payload: dict[str, Any]) -> None:
    from hr_portal.leave import service

    service.on_employees_imported(payload)


events.subscribe(events.USER_REGISTERED, _on_user_registered)
events.subscribe(events.EMPLOYEE_CREATED, _on_employee_created)
events.subscribe(events.EMPLOYEES_IMPORTED, _on_employees_imported)
