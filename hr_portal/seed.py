"""Demo data: one organization, two companies, four departments, ~40 people in a real reporting tree.

Idempotent: running it again changes nothing once the demo admin exists.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from sqlmodel import Session

from hr_portal.auth.models import Role, User
from hr_portal.auth.service import get_user_by_email
from hr_portal.core import audit
from hr_portal.core.security import hash_password
from hr_portal.employees.models import Department, Employee, EmploymentType
from hr_portal.org.models import Company, Organization

DEMO_PASSWORD = "Portal-demo-2026"
DEMO_DOMAIN = "acme.example"
DEMO_ACCOUNTS = [
    ("admin", f"admin@{DEMO_DOMAIN}"),
    ("hr_manager", f"hr@{DEMO_DOMAIN}"),
    ("manager", f"manager@{DEMO_DOMAIN}"),
    ("employee", f"employee@{DEMO_DOMAIN}"),
]

_FIRST = ["Ava", "Noah", "Mia", "Liam", "Emma", "Lucas", "Sofia", "Elias", "Hannah", "Jonas", "Lea", "Felix", "Clara",
          "Paul", "Marie", "Leon", "Ella", "Ben", "Lina", "Finn", "Amira", "Omar", "Priya", "Ravi", "Chen", "Yuki",
          "Diego", "Lucia", "Kofi", "Zara", "Mateo", "Ines", "Tomas", "Nora", "Ivan", "Maya"]
_LAST = ["Schmidt", "Weber", "Fischer", "Meyer", "Wagner", "Becker", "Hoffmann", "Koch", "Richter", "Klein", "Wolf",
         "Neumann", "Schwarz", "Braun", "Kaya", "Nguyen", "Patel", "Okafor", "Silva", "Rossi", "Dubois", "Novak",
         "Jensen", "Tanaka", "Garcia", "Lopez", "Mensah", "Haddad", "Kowalski", "Larsen"]


def seed_demo(session: Session) -> bool:
    """Create the demo organization unless it exists. Returns True when it created it."""
    if get_user_by_email(session, DEMO_ACCOUNTS[0][1]) is not None:
        return False
    rng = random.Random(2026)
    pw_hash = hash_password(DEMO_PASSWORD)

    org = Organization(name="Acme Robotics")
    session.add(org)
    session.flush()
    berlin = Company(organization_id=org.id, name="Acme Robotics GmbH", timezone="Europe/Berlin", weekly_off_days="6,7", country="DE")
    austin = Company(organization_id=org.id, name="Acme Robotics Inc.", timezone="America/Chicago", weekly_off_days="6,7", country="US")
    session.add_all([berlin, austin])
    session.flush()
    depts = {name: Department(organization_id=org.id, company_id=company.id, name=name)
             for name, company in [("Engineering", berlin), ("People", berlin), ("Sales", austin), ("Operations", austin)]}
    session.add_all(depts.values())
    session.flush()

    counter = iter(range(1, 1000))
    used_names: set[tuple[str, str]] = set()

    def person(first: str | None, last: str | None, *, role: Role, dept: str, company: Company, manager: Employee | None,
               designation: str, email: str | None = None, etype: EmploymentType = EmploymentType.full_time) -> Employee:
        while first is None or (first, last) in used_names:
            first, last = rng.choice(_FIRST), rng.choice(_LAST)
        used_names.add((first, last))
        email = email or f"{first}.{last}@{DEMO_DOMAIN}".lower()
        user = User(organization_id=org.id, email=email, password_hash=pw_hash, role=role)
        session.add(user)
        session.flush()
        joined = date(2019, 1, 7) + timedelta(days=rng.randint(0, 2400))
        emp = Employee(
            organization_id=org.id, company_id=company.id, department_id=depts[dept].id,
            manager_id=manager.id if manager else None, user_id=user.id, employee_code=f"AC-{next(counter):04d}",
            first_name=first, last_name=last, email=email, designation=designation, employment_type=etype,
            phone=f"+49 30 {rng.randint(1000000, 9999999)}" if company is berlin else f"+1 512 555 {rng.randint(1000, 9999)}",
            date_of_joining=joined, date_of_birth=date(1975, 1, 1) + timedelta(days=rng.randint(0, 9000)),
            city="Berlin" if company is berlin else "Austin", country="Germany" if company is berlin else "United States",
        )
        session.add(emp)
        session.flush()
        return emp

    ceo = person("Alex", "Morgan", role=Role.admin, dept="Operations", company=austin, manager=None,
                 designation="Chief Executive Officer", email=DEMO_ACCOUNTS[0][1])
    hr_head = person("Hana", "Richter", role=Role.hr_manager, dept="People", company=berlin, manager=ceo,
                     designation="Head of People", email=DEMO_ACCOUNTS[1][1])
    eng_head = person("Max", "Keller", role=Role.manager, dept="Engineering", company=berlin, manager=ceo,
                      designation="Engineering Manager", email=DEMO_ACCOUNTS[2][1])
    emp_demo = person("Eva", "Lang", role=Role.employee, dept="Engineering", company=berlin, manager=eng_head,
                      designation="Software Engineer", email=DEMO_ACCOUNTS[3][1])
    sales_head = person(None, None, role=Role.manager, dept="Sales", company=austin, manager=ceo, designation="Sales Director")
    ops_head = person(None, None, role=Role.manager, dept="Operations", company=austin, manager=ceo, designation="Operations Manager")
    person(None, None, role=Role.hr_manager, dept="People", company=berlin, manager=hr_head, designation="HR Generalist")
    person(None, None, role=Role.employee, dept="People", company=berlin, manager=hr_head, designation="Recruiter")
    platform_lead = person(None, None, role=Role.manager, dept="Engineering", company=berlin, manager=eng_head,
                           designation="Team Lead, Platform")

    team = [(eng_head, "Engineering", berlin, ["Software Engineer", "Senior Software Engineer", "QA Engineer"], 8),
            (platform_lead, "Engineering", berlin, ["Site Reliability Engineer", "Software Engineer"], 6),
            (sales_head, "Sales", austin, ["Account Executive", "Sales Development Rep"], 8),
            (ops_head, "Operations", austin, ["Operations Specialist", "Office Manager"], 5)]
    for manager, dept, company, titles, n in team:
        for i in range(n):
            etype = EmploymentType.intern if i == n - 1 and dept == "Engineering" else (
                EmploymentType.part_time if i == n - 2 and dept == "Operations" else EmploymentType.full_time)
            person(None, None, role=Role.employee, dept=dept, company=company, manager=manager,
                   designation=rng.choice(titles), etype=etype)
    depts["Engineering"].head_employee_id = eng_head.id
    depts["People"].head_employee_id = hr_head.id
    depts["Sales"].head_employee_id = sales_head.id
    depts["Operations"].head_employee_id = ops_head.id
    session.add_all(depts.values())
    session.flush()
    # Each module adds its own demo data (leave types, holidays, attendance history, ...).
    from hr_portal.modules import submodules

    for module_seed in submodules("seed"):
        module_seed.seed(session, org.id)
    audit.record(session, action="demo.seeded", organization_id=org.id, entity_type="organization", entity_id=org.id)
    _ = emp_demo
    return True
