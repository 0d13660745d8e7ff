"""Fixtures of the cross-cutting security suites that drive the real app over its websocket.

`portal` is the browser suite's server fixture (tests/e2e/conftest.py: the app in prod mode on a
fresh seeded database). `forge_world` adds what the suites attack, written straight into that database:

- a *victim* in the demo organization (Acme): an employee outside the demo manager's team, with a
  pending leave request, a pending attendance correction, a private address, a notification and a
  failed mail, each carrying a marker string that only the people allowed to see it may receive;
- records of the demo organization that handlers take ids of (department, company, shift, site,
  holiday, leave type, a delegation);
- a second organization registered through the legacy API, whose admin is the *outsider*;
- a signed-in session cookie for each role (signed in over the websocket, as the login form does).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field

import httpx
import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from tests.e2e.conftest import Portal, portal  # noqa: F401  (the e2e server fixture, reused here)
from tests.security.forge import Fingerprint, sign_in

DEMO_PASSWORD = "Portal-demo-2026"
DEMO = {"employee": "employee@acme.example", "manager": "manager@acme.example",
        "hr_manager": "hr@acme.example", "admin": "admin@acme.example"}
ROLES = ("anonymous", "employee", "manager", "hr_manager", "admin", "outsider")

# marker -> roles that may receive it in a state delta (everyone else must never see it)
MARKERS = {
    "ZQSECRET-ADDR": {"hr_manager", "admin"},   # victim's private address
    "ZQSECRET-LEAVE": {"hr_manager", "admin"},  # victim's leave reason (hr@ is the victim's manager)
    "ZQSECRET-CORR": {"hr_manager", "admin"},   # victim's correction reason
    "ZQSECRET-NOTE": set(),                     # victim's own notification
    "ZQSECRET-MAIL": {"admin"},                 # a mail to the victim (mail outbox is admin only)
    "ZQOUTSIDE": {"outsider"},                  # the other organization's names
    "acme.example": {"employee", "manager", "hr_manager", "admin"},  # Acme people's emails
    "Acme Robotics": {"employee", "manager", "hr_manager", "admin"},
}


def leaks(role: str, text: str) -> list[str]:
    """The markers `role` may not see that appear in `text`."""
    return [m for m, allowed in MARKERS.items() if role not in allowed and m in text]


@dataclass
class World:
    base_url: str
    engine: sa.Engine
    fingerprint: Fingerprint
    org_id: int
    outsider_org_id: int
    ids: dict[str, int]
    victim_email: str
    cookies: dict[str, str] = field(default_factory=dict)

    def new_cookie(self, role: str) -> str:
        """A fresh session of `role` (for handlers that end the caller's session)."""
        if role == "anonymous":
            return ""
        email = self.outsider_email if role == "outsider" else DEMO[role]
        return sign_in(self.base_url, email, self.outsider_password if role == "outsider" else DEMO_PASSWORD)

    outsider_email: str = ""
    outsider_password: str = ""


def _build(session: Session, org_id: int) -> tuple[dict[str, int], str]:
    from hr_portal.attendance.models import AttendanceCorrection, AttendanceSite, Shift
    from hr_portal.auth.models import User
    from hr_portal.core.mail import OutboxEmail
    from hr_portal.employees.models import Employee, EmployeeStatus
    from hr_portal.leave.models import LeaveDelegation, LeaveRequest, LeaveStatus, LeaveType
    from hr_portal.notifications.models import Notification
    from hr_portal.org.models import Company, Holiday

    people = {e.email: e for e in session.exec(select(Employee).where(Employee.organization_id == org_id))}
    hr, manager = people[DEMO["hr_manager"]], people[DEMO["manager"]]
    victim = next(e for e in sorted(people.values(), key=lambda e: e.id)
                  if e.manager_id == hr.id and e.user_id and e.email not in DEMO.values()
                  and e.status == EmployeeStatus.active)
    victim.address_line1, victim.city = "ZQSECRET-ADDR 7 Hidden Lane", "Privatstadt"
    session.add(victim)
    leave_type = session.exec(select(LeaveType).where(LeaveType.organization_id == org_id)
                              .order_by(LeaveType.id)).first()
    today = dt.date.today()
    start = today + dt.timedelta(days=60)
    while start.weekday() >= 5:
        start += dt.timedelta(days=1)
    leave = LeaveRequest(organization_id=org_id, employee_id=victim.id, leave_type_id=leave_type.id,
                         start_date=start, end_date=start, days=1.0, reason="ZQSECRET-LEAVE family matter",
                         status=LeaveStatus.pending, steps_required=1, requester_user_id=victim.user_id)
    day = today - dt.timedelta(days=7)
    while day.weekday() >= 5:
        day -= dt.timedelta(days=1)
    check_in = dt.datetime.combine(day, dt.time(8, 0), tzinfo=dt.UTC)
    correction = AttendanceCorrection(organization_id=org_id, employee_id=victim.id, work_date=day,
                                      check_in=check_in, check_out=check_in + dt.timedelta(hours=8),
                                      reason="ZQSECRET-CORR doctor visit", requested_by_user_id=victim.user_id)
    company = session.get(Company, victim.company_id)
    site = AttendanceSite(organization_id=org_id, company_id=company.id, name="Forge site", latitude=52.5,
                          longitude=13.4)
    delegation = LeaveDelegation(organization_id=org_id, approver_employee_id=hr.id, delegate_employee_id=victim.id,
                                 start_date=today, end_date=today + dt.timedelta(days=30))
    note = Notification(organization_id=org_id, user_id=victim.user_id, kind="leave_decided",
                        title="ZQSECRET-NOTE your leave", body="ZQSECRET-NOTE body", link="/leave")
    mail = OutboxEmail(organization_id=org_id, to_address=victim.email, subject="ZQSECRET-MAIL payslip",
                       body_text="ZQSECRET-MAIL", body_html="<p>ZQSECRET-MAIL</p>", kind="forge", status="failed",
                       attempts=5)
    session.add_all([leave, correction, site, delegation, note, mail])
    session.flush()
    shift = session.exec(select(Shift).where(Shift.organization_id == org_id)
                         .order_by(Shift.id)).first()
    holiday = session.exec(select(Holiday).where(Holiday.organization_id == org_id).order_by(Holiday.id)).first()
    victim_user = session.get(User, victim.user_id)
    ids = {"employee": victim.id, "victim_user": victim.user_id, "leave": leave.id, "correction": correction.id,
           "department": victim.department_id, "company": company.id, "shift": shift.id, "site": site.id,
           "holiday": holiday.id, "leave_type": leave_type.id, "delegation": delegation.id,
           "notification": note.id, "mail": mail.id, "manager": manager.id, "hr": hr.id}
    return ids, victim_user.email


@pytest.fixture(scope="session")
def forge_world(portal: Portal) -> World:  # noqa: F811
    built = make_world(portal.base_url, portal.database_url)
    yield built
    built.engine.dispose()


def make_world(base_url: str, database_url: str) -> World:
    from hr_portal.org.models import Organization

    engine = sa.create_engine(database_url)
    with Session(engine) as session:
        org_id = session.exec(select(Organization.id).where(Organization.name == "Acme Robotics")).one()
        ids, victim_email = _build(session, org_id)
        session.commit()
    outsider_email = f"zqoutside-{uuid.uuid4().hex[:8]}@outside.example"
    outsider_password = "Outside-pass-2026"
    r = httpx.post(f"{base_url}/api/v1/auth/register", json={
        "organizationName": "ZQOUTSIDE Holdings", "firstName": "Zqoutside", "lastName": "Admin",
        "email": outsider_email, "password": outsider_password}, timeout=30)
    assert r.status_code == 201, r.text
    with Session(engine) as session:
        outsider_org = session.exec(select(Organization.id).where(Organization.name == "ZQOUTSIDE Holdings")).first()
    world = World(base_url=base_url, engine=engine,
                  fingerprint=Fingerprint(engine, exclude_org=outsider_org), org_id=org_id,
                  outsider_org_id=outsider_org, ids=ids, victim_email=victim_email,
                  outsider_email=outsider_email, outsider_password=outsider_password)
    world.cookies = {role: world.new_cookie(role) for role in ROLES}
    return world
