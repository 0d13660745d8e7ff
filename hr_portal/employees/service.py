"""Employee records and the reporting line. `scope_condition` is the one definition of who sees whom:
admin and hr_manager see the whole organization, a manager sees self and reports (direct, or
transitive where asked), an employee sees self. Other modules filter their queries with it.

The directory, profiles, create/edit/deactivate, departments and the org chart live here; the UI
(state.py) and the legacy API (api.py) call these functions and nothing else. CSV import and
export are in import_export.py.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, false, literal, literal_column, or_, true, update
from sqlalchemy import select as sa_select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased
from sqlmodel import Session, func, select

from hr_portal.auth import service as auth_service
from hr_portal.auth.models import Role, User
from hr_portal.core import audit, events, files, live, mail
from hr_portal.core.audit import AuditLog
from hr_portal.core.authz import Actor, require
from hr_portal.core.db import utcnow
from hr_portal.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from hr_portal.employees.models import (
    Department,
    DepartmentInput,
    DepartmentPublic,
    Employee,
    EmployeeCreate,
    EmployeeDetail,
    EmployeePublic,
    EmployeeQuery,
    EmployeeStatus,
    EmployeeUpdate,
    EmploymentType,
)
from hr_portal.org.models import Company, Organization

HR = (Role.admin, Role.hr_manager)
# API_CONTRACT.md: a manager sees self and direct reports; transitively only "where noted", and the
# employee endpoints do not note it. The directory, profiles and org chart follow the same rule.
DIRECTORY_TRANSITIVE = False
# What a person may change on their own record (everything else is HR's).
SELF_SERVICE_FIELDS = frozenset({"phone", "address_line1", "address_line2", "city", "postal_code", "country"})
MAX_CHART_CHILDREN = 500

EMPLOYEE_REACTIVATED = "employee.reactivated"  # created/updated/deactivated are in core/events.py

ROLE_LABELS = {Role.admin: "admin", Role.hr_manager: "HR manager", Role.manager: "manager", Role.employee: "employee"}
FIELD_LABELS = {
    "first_name": "First name", "last_name": "Last name", "email": "Email", "phone": "Phone",
    "employee_code": "Employee code", "department_id": "Department", "manager_id": "Manager",
    "designation": "Designation", "date_of_joining": "Date of joining", "date_of_birth": "Date of birth",
    "employment_type": "Employment type", "company_id": "Company", "role": "Role", "status": "Status",
    "address_line1": "Address line 1", "address_line2": "Address line 2", "city": "City",
    "postal_code": "Postal code", "country": "Country",
}


# ---------------------------------------------------------------- scope (used by every module)


def reports_subquery(manager_employee_id: int, *, transitive: bool = True):
    """SELECT of employee ids reporting to the manager (directly, or at any depth)."""
    if not transitive:
        return sa_select(Employee.id).where(Employee.manager_id == manager_employee_id)
    tree = sa_select(Employee.id.label("id")).where(Employee.manager_id == manager_employee_id).cte(
        "reports", recursive=True)
    tree = tree.union(sa_select(Employee.id).where(Employee.manager_id == tree.c.id))
    return sa_select(tree.c.id)


def scope_condition(actor: Actor, employee_id_column=Employee.id, *, transitive: bool = True) -> ColumnElement[bool]:
    """A WHERE condition on an employee-id column limiting rows to what `actor` may see.
    Callers still filter on organization_id (tenancy); this adds the role scope."""
    if actor.role in (Role.admin, Role.hr_manager):
        return true()
    if actor.employee_id is None:
        return false()
    own = employee_id_column == literal(actor.employee_id)
    if actor.role == Role.manager:
        return own | employee_id_column.in_(reports_subquery(actor.employee_id, transitive=transitive))
    return own


def get_in_scope(session: Session, actor: Actor, employee_id: int, *, transitive: bool = True) -> Employee:
    """The employee, if the actor may see them; otherwise NotFound (also for other organizations)."""
    require(actor)
    emp = session.exec(
        select(Employee).where(Employee.id == employee_id, Employee.organization_id == actor.organization_id,
                               scope_condition(actor, transitive=transitive))
    ).first()
    if emp is None:
        raise NotFound("Employee not found.")
    return emp


def is_manager_of(session: Session, manager_employee_id: int | None, employee_id: int, *, transitive: bool = False) -> bool:
    if manager_employee_id is None or manager_employee_id == employee_id:
        return False
    if not transitive:
        emp = session.get(Employee, employee_id)
        return emp is not None and emp.manager_id == manager_employee_id
    return session.exec(
        select(Employee.id).where(Employee.id == employee_id,
                                  Employee.id.in_(reports_subquery(manager_employee_id, transitive=True)))
    ).first() is not None


# ---------------------------------------------------------------- small helpers


@dataclass
class EmployeeResult:
    """A changed employee plus notes for the user (e.g. "Dana now has the manager role")."""

    employee: EmployeeDetail
    notes: list[str] = field(default_factory=list)


def _jsonable(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


def _org_employee(session: Session, actor: Actor, employee_id: int) -> Employee:
    emp = session.get(Employee, employee_id)
    if emp is None or emp.organization_id != actor.organization_id:
        raise NotFound("Employee not found.")
    return emp


def _topic(organization_id: int) -> str:
    return live.org_topic(organization_id, "employees")


def publish(session: Session, name: str, actor: Actor, emp: Employee, **extra: Any) -> None:
    """An employee.* domain event with the payload core/events.py documents (dispatched after commit)."""
    events.publish(session, name, organization_id=emp.organization_id, actor_user_id=actor.user_id,
                   employee_id=emp.id, user_id=emp.user_id, **extra)


def lock_reporting_lines(session: Session, organization_id: int) -> None:
    """Serialize reporting-line changes within an organization (PostgreSQL row lock on the organization;
    SQLite transactions are already serialized), so two concurrent edits cannot build a cycle together."""
    session.exec(select(Organization.id).where(Organization.id == organization_id).with_for_update()).first()


def manager_chain(session: Session, employee: Employee, *, limit: int = 100) -> list[Employee]:
    """The person's managers, nearest first (stops at the top or on a damaged loop)."""
    chain: list[Employee] = []
    seen = {employee.id}
    current = employee.manager_id
    while current is not None and current not in seen and len(chain) < limit:
        manager = session.get(Employee, current)
        if manager is None or manager.organization_id != employee.organization_id:
            break
        chain.append(manager)
        seen.add(current)
        current = manager.manager_id
    return chain


def check_manager(session: Session, actor: Actor, employee: Employee | None, manager_id: int | None) -> Employee | None:
    """Validate a new manager for `employee` (None while creating): same organization, active, and no
    cycle (a person cannot end up managing their own manager). Callers hold lock_reporting_lines."""
    if manager_id is None:
        return None
    manager = session.get(Employee, manager_id)
    if manager is None or manager.organization_id != actor.organization_id:
        raise ValidationFailed.field("managerId", "The selected manager does not exist.")
    if manager.status != EmployeeStatus.active:
        raise ValidationFailed.field("managerId", f"{manager.full_name} is deactivated and cannot be a manager.")
    if employee is not None:
        if manager.id == employee.id:
            raise ValidationFailed.field("managerId", "A person cannot be their own manager.")
        if any(m.id == employee.id for m in manager_chain(session, manager)):
            raise ValidationFailed.field(
                "managerId", f"{manager.full_name} reports (directly or indirectly) to {employee.full_name}, so "
                             f"{manager.first_name} cannot become {employee.first_name}'s manager: that would be a "
                             "cycle in the reporting line.")
    return manager


def grant_manager_role(session: Session, actor: Actor, manager: Employee, *, source: str = "") -> str | None:
    """A person who gets direct reports gets the manager role (audited); returns a note for the user,
    or None when nothing had to change."""
    if manager.user_id is None:
        return f"{manager.full_name} has no user account, so they could not be given the manager role."
    user = session.get(User, manager.user_id)
    if user is None:
        return None
    if user.role == Role.employee:
        user.role = Role.manager
        session.add(user)
        audit.record(session, action="employee.role_changed", actor=actor, entity_type="employee", entity_id=manager.id,
                     changes={"role": ["employee", "manager"], "reason": "has direct reports",
                              **({"source": source} if source else {})})
        return f"{manager.full_name} now has the manager role, because they have direct reports."
    return None


def _validate_department(session: Session, actor: Actor, department_id: int | None) -> Department | None:
    if department_id is None:
        return None
    dept = session.get(Department, department_id)
    if dept is None or dept.organization_id != actor.organization_id:
        raise ValidationFailed.field("departmentId", "The selected department does not exist.")
    if dept.archived:
        raise ValidationFailed.field("departmentId", f"The department {dept.name} is archived.")
    return dept


def _validate_company(session: Session, actor: Actor, company_id: int | None) -> Company:
    if company_id is None:
        company = session.exec(select(Company).where(Company.organization_id == actor.organization_id)
                               .order_by(Company.id)).first()
        if company is None:
            raise ValidationFailed.field("companyId", "Create a company in Settings first.")
        return company
    company = session.get(Company, company_id)
    if company is None or company.organization_id != actor.organization_id:
        raise ValidationFailed.field("companyId", "The selected company does not exist.")
    return company


def _check_role_change(actor: Actor, target_user: User | None, new_role: Role, *, target_is_self: bool) -> None:
    """Only admin and hr_manager change roles; only an admin grants admin or changes an admin's role;
    nobody changes their own role (an organization must not lose its last admin by accident)."""
    require(actor, *HR)
    if target_is_self:
        raise Forbidden("You cannot change your own role.")
    if new_role == Role.admin and not actor.is_admin:
        raise Forbidden("Only an administrator can grant the admin role.")
    if target_user is not None and target_user.role == Role.admin and not actor.is_admin:
        raise Forbidden("Only an administrator can change an administrator's role.")


def _email_taken(session: Session, actor: Actor, email: str, *, except_employee: Employee | None = None) -> str | None:
    """A clear message when the email is used by another employee of the organization or by any account."""
    q = select(Employee.id).where(Employee.organization_id == actor.organization_id, func.lower(Employee.email) == email)
    if except_employee is not None:
        q = q.where(Employee.id != except_employee.id)
    if session.exec(q).first() is not None:
        return f"An employee with the email {email} already exists."
    user = auth_service.get_user_by_email(session, email)
    if user is not None and (except_employee is None or user.id != except_employee.user_id):
        return f"The email {email} is already used by another account."
    return None


def _code_taken(session: Session, actor: Actor, code: str, *, except_id: int | None = None) -> bool:
    q = select(Employee.id).where(Employee.organization_id == actor.organization_id, Employee.employee_code == code)
    if except_id is not None:
        q = q.where(Employee.id != except_id)
    return session.exec(q).first() is not None


def next_employee_codes(session: Session, organization_id: int, count: int = 1, prefix: str = "EMP-",
                        also_used: Iterable[str] = ()) -> list[str]:
    """`count` unused codes like EMP-0042, continuing after the highest number in use with that prefix
    (in the organization, or in `also_used`)."""
    codes = list(session.exec(select(Employee.employee_code).where(Employee.organization_id == organization_id,
                                                                   Employee.employee_code.startswith(prefix))).all())
    codes += [c for c in also_used if c.startswith(prefix)]
    highest = max((int(c[len(prefix):]) for c in codes if c[len(prefix):].isdigit()), default=0)
    return [f"{prefix}{n:04d}" for n in range(highest + 1, highest + 1 + count)]


def welcome_message(org_name: str, first_name: str, email: str, link: str) -> tuple[str, str, str]:
    """Subject, text and HTML of the welcome mail with its set-password link."""
    text, body_html = mail.render(
        org_name=org_name, heading=f"Welcome to {org_name}, {first_name}",
        paragraphs=[
            "An HR Portal account has been created for you: check in and out, ask for leave, and keep your "
            "contact details up to date.",
            f"You sign in with {email}. Choose your password with the link below. It works once and "
            "expires in 7 days; after that, use 'Forgot password' on the sign-in page.",
        ],
        action_label="Set your password", action_url=link,
    )
    return f"Welcome to {org_name}: set your HR Portal password", text, body_html


def send_welcome(session: Session, user: User, employee: Employee, org_name: str) -> None:
    """The welcome mail with a single-use set-password link (7 days), in the same transaction."""
    link = auth_service.create_password_link(session, user, purpose="welcome")
    subject, text, body_html = welcome_message(org_name, employee.first_name, user.email, link)
    mail.enqueue(session, to=user.email, subject=subject, text=text, html_body=body_html,
                 organization_id=employee.organization_id, kind="welcome")


def _integrity_conflict(exc: IntegrityError) -> Conflict:
    text = str(exc.orig).lower()
    if "code" in text:
        return Conflict("Another employee already has this employee code.")
    return Conflict("This email is already in use.")


# ---------------------------------------------------------------- reading


def _names(session: Session, ids: set[int]) -> dict[int, str]:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    rows = session.exec(select(Employee.id, Employee.first_name, Employee.last_name).where(Employee.id.in_(ids))).all()
    return {i: f"{f} {last}".strip() for i, f, last in rows}


def _public(emp: Employee, department_name: str | None, manager_name: str | None) -> EmployeePublic:
    return EmployeePublic(
        id=emp.id, employee_code=emp.employee_code, first_name=emp.first_name, last_name=emp.last_name,
        email=emp.email, phone=emp.phone, designation=emp.designation, department_id=emp.department_id,
        department_name=department_name, manager_id=emp.manager_id, manager_name=manager_name,
        company_id=emp.company_id, employment_type=emp.employment_type, status=emp.status,
        date_of_joining=emp.date_of_joining, created_at=emp.created_at, updated_at=emp.updated_at,
        photo_url=files.url(emp.photo_file_id),
    )


# The columns of the public record (EmployeePublic) and of a profile, read as plain rows (no ORM
# objects: the list and profile reads build their answers straight from the columns).
_MANAGER = aliased(Employee, name="manager")
_PUBLIC_COLUMNS = (Employee.id, Employee.employee_code, Employee.first_name, Employee.last_name, Employee.email,
                   Employee.phone, Employee.designation, Employee.department_id, Employee.manager_id,
                   Employee.company_id, Employee.employment_type, Employee.status, Employee.date_of_joining,
                   Employee.created_at, Employee.updated_at, Employee.photo_file_id,
                   Department.name.label("department_name"), _MANAGER.first_name.label("manager_first"),
                   _MANAGER.last_name.label("manager_last"))
_PERSONAL_FIELDS = ("date_of_birth", "address_line1", "address_line2", "city", "postal_code", "country")


def _public_fields(row: Any) -> dict[str, Any]:
    """EmployeePublic's fields from a row of `_PUBLIC_COLUMNS` (same values as `_public`)."""
    return {
        "id": row.id, "employee_code": row.employee_code, "first_name": row.first_name, "last_name": row.last_name,
        "email": row.email, "phone": row.phone, "designation": row.designation, "department_id": row.department_id,
        "department_name": row.department_name, "manager_id": row.manager_id,
        "manager_name": f"{row.manager_first} {row.manager_last}".strip() if row.manager_first is not None else None,
        "company_id": row.company_id, "employment_type": row.employment_type, "status": row.status,
        "date_of_joining": row.date_of_joining, "created_at": row.created_at, "updated_at": row.updated_at,
        "photo_url": files.url(row.photo_file_id),
    }


def _with_names(statement):
    """Join a statement over employees to the department's and the manager's names."""
    return (statement.outerjoin(Department, Department.id == Employee.department_id)
            .outerjoin(_MANAGER, _MANAGER.id == Employee.manager_id))


# Built once (a statement's construction costs about as much as its execution here); each call adds its WHERE.
_PUBLIC_ROWS = _with_names(select(*_PUBLIC_COLUMNS))
_PROFILE_ROW = (_with_names(select(*_PUBLIC_COLUMNS, *(getattr(Employee, k) for k in _PERSONAL_FIELDS),
                                   Company.name.label("company_name"), User.role.label("account_role")))
                .outerjoin(Company, Company.id == Employee.company_id)
                .outerjoin(User, User.id == Employee.user_id))


def sees_personal_details(actor: Actor, employee_id: int) -> bool:
    """Home address and birth date: HR and the person themselves, not their manager."""
    return actor.is_hr or actor.employee_id == employee_id


def employee_detail(session: Session, actor: Actor, emp: Employee) -> EmployeeDetail:
    dept = session.get(Department, emp.department_id) if emp.department_id else None
    manager = session.get(Employee, emp.manager_id) if emp.manager_id else None
    company = session.get(Company, emp.company_id)
    user = session.get(User, emp.user_id) if emp.user_id else None
    base = _public(emp, dept.name if dept else None, manager.full_name if manager else None).model_dump()
    personal = {}
    if sees_personal_details(actor, emp.id):
        personal = {k: getattr(emp, k) for k in ("date_of_birth", "address_line1", "address_line2", "city",
                                                 "postal_code", "country")}
    return EmployeeDetail(**base, **personal, company_name=company.name if company else None,
                          role=Role(user.role) if user else None)


def get_employee(*, session: Session, actor: Actor, employee_id: int) -> EmployeeDetail:
    """A profile in one statement (the person, department, manager, company and account role)."""
    require(actor)
    row = session.exec(
        _PROFILE_ROW.where(Employee.id == employee_id, Employee.organization_id == actor.organization_id,
                           scope_condition(actor, transitive=DIRECTORY_TRANSITIVE))
    ).first()
    if row is None:
        raise NotFound("Employee not found.")
    personal = {k: getattr(row, k) for k in _PERSONAL_FIELDS} if sees_personal_details(actor, row.id) else {}
    return EmployeeDetail(**_public_fields(row), **personal, company_name=row.company_name,
                          role=Role(row.account_role) if row.account_role is not None else None)


def viewer_timezone(session: Session, actor: Actor) -> str:
    """Times on screen use the time zone of the viewer's company (the organization's first as a fallback)."""
    company_id = session.exec(select(Employee.company_id).where(Employee.id == actor.employee_id)).first() \
        if actor.employee_id else None
    q = select(Company.timezone).where(Company.organization_id == actor.organization_id)
    tz = session.exec(q.where(Company.id == company_id) if company_id else q.order_by(Company.id)).first()
    return tz or "UTC"


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# What the directory search looks in (every word of the search must occur in it). One expression rather
# than four, so an expression index (e.g. a PostgreSQL trigram index) could serve it; at 20,000 people the
# planner prefers a scan (docs/performance.md). Literal separators keep the SQL identical on every call.
_SPACE = literal_column("' '")
SEARCH_TEXT = func.lower(Employee.first_name + _SPACE + Employee.last_name + _SPACE + Employee.email + _SPACE
                         + Employee.employee_code)


def directory_conditions(actor: Actor, query: EmployeeQuery) -> list[ColumnElement[bool]]:
    """WHERE conditions of the (scoped) directory: tenancy, role scope, search and filters."""
    conds: list[ColumnElement[bool]] = [Employee.organization_id == actor.organization_id,
                                        scope_condition(actor, Employee.id, transitive=DIRECTORY_TRANSITIVE)]
    for token in (query.search or "").lower().split()[:6]:
        conds.append(SEARCH_TEXT.like(f"%{_escape_like(token)}%", escape="\\"))
    if query.department_id is not None:
        conds.append(Employee.department_id == query.department_id)
    if query.manager_id is not None:
        conds.append(Employee.manager_id == query.manager_id)
    if query.status is not None:
        conds.append(Employee.status == query.status)
    if query.employment_type is not None:
        conds.append(Employee.employment_type == query.employment_type)
    if query.company_id is not None:
        conds.append(Employee.company_id == query.company_id)
    return conds


_SORT_COLUMNS = {"firstName": Employee.first_name, "lastName": Employee.last_name,
                 "dateOfJoining": Employee.date_of_joining, "employeeCode": Employee.employee_code,
                 "createdAt": Employee.created_at}


def directory_order(query: EmployeeQuery) -> list:
    """ORDER BY of the directory; name order is served by ix_employee_org_name (organization, last name,
    first name, id). Only a nullable column gets NULLS LAST (it would keep the index from giving the order)."""
    column = _SORT_COLUMNS[query.sort_by]
    primary = column.desc() if query.sort_order == "desc" else column.asc()
    if query.sort_by == "dateOfJoining":
        primary = primary.nulls_last()
    return [primary, *[c for c in (Employee.last_name, Employee.first_name, Employee.id) if c is not column]]


def list_employees(*, session: Session, actor: Actor, query: EmployeeQuery, page: int = 1,
                   limit: int = 20) -> tuple[list[EmployeePublic], int]:
    """One page of the scoped directory and the total number of matches."""
    require(actor)
    if page < 1 or not 1 <= limit <= 100:
        raise ValidationFailed.field("page", "page starts at 1 and limit is between 1 and 100.")
    conds = directory_conditions(actor, query)
    order, offset = directory_order(query), (page - 1) * limit
    # The page's ids first, from the employees table alone; then the joins for those rows only (not for
    # every match before the LIMIT).
    if query.search:
        # Search: find the matches once (materialized), and take both the count and the page from them;
        # otherwise the planner may walk the name index testing the pattern row by row, then scan again
        # to count.
        matches = select(Employee.id).where(*conds).cte("matches").prefix_with("MATERIALIZED")
        found = session.exec(
            select(Employee.id, select(func.count()).select_from(matches).scalar_subquery())
            .where(Employee.organization_id == actor.organization_id, Employee.id.in_(select(matches.c.id)))
            .order_by(*order).offset(offset).limit(limit)
        ).all()
        if not found:
            return [], session.exec(select(func.count()).select_from(Employee).where(*conds)).one()
        ids, total = [i for i, _ in found], found[0][1]
    else:
        total = session.exec(select(func.count()).select_from(Employee).where(*conds)).one()
        if offset >= total:
            return [], total
        # One statement: the page's ids as a subquery (the LIMIT keeps PostgreSQL from flattening it,
        # so it still walks the name index alone), the joins for those rows.
        ids = select(Employee.id).where(*conds).order_by(*order).offset(offset).limit(limit)
    rows = session.exec(_PUBLIC_ROWS.where(Employee.id.in_(ids)).order_by(*order)).all()
    return [EmployeePublic(**_public_fields(row)) for row in rows], total


def search_people(*, session: Session, actor: Actor, text: str, limit: int = 8, exclude_id: int | None = None,
                  include_inactive: bool = False) -> list[dict[str, Any]]:
    """Picker and search results: active people in scope whose name, email or code matches."""
    require(actor)
    query = EmployeeQuery(search=(text or "")[:200], status=None if include_inactive else EmployeeStatus.active)
    conds = directory_conditions(actor, query)
    if exclude_id is not None:
        conds.append(Employee.id != exclude_id)
    rows = session.exec(
        select(Employee.id, Employee.first_name, Employee.last_name, Employee.email, Employee.designation,
               Employee.status).where(*conds).order_by(Employee.last_name, Employee.first_name, Employee.id)
        .limit(max(1, min(limit, 50)))
    ).all()
    return [{"id": i, "name": f"{f} {last}".strip(), "email": e, "designation": d or "", "status": s.value if
             isinstance(s, enum.Enum) else s} for i, f, last, e, d, s in rows]


def reporting_line(*, session: Session, actor: Actor, employee_id: int) -> dict[str, list[dict[str, Any]]]:
    """Managers above (nearest first) and direct reports below. The person's own manager is always
    shown; further levels and the reports only as far as the viewer's scope reaches."""
    emp = get_in_scope(session, actor, employee_id, transitive=DIRECTORY_TRANSITIVE)
    chain = manager_chain(session, emp)
    visible = _visible_ids(session, actor, {m.id for m in chain})
    above = [_person(m, m.id in visible) for i, m in enumerate(chain) if i == 0 or m.id in visible]
    reports = session.exec(
        select(Employee).where(Employee.organization_id == actor.organization_id, Employee.manager_id == emp.id,
                               scope_condition(actor, Employee.id, transitive=DIRECTORY_TRANSITIVE))
        .order_by(Employee.status, Employee.last_name, Employee.first_name)
    ).all()
    return {"above": above, "reports": [_person(r, True) for r in reports]}


def _visible_ids(session: Session, actor: Actor, ids: set[int]) -> set[int]:
    if not ids:
        return set()
    if actor.is_hr:
        return set(ids)
    return set(session.exec(select(Employee.id).where(
        Employee.id.in_(ids), scope_condition(actor, Employee.id, transitive=DIRECTORY_TRANSITIVE))).all())


def _person(emp: Employee, linkable: bool) -> dict[str, Any]:
    return {"id": emp.id, "name": emp.full_name, "designation": emp.designation or "", "status": emp.status.value,
            "linkable": linkable, "photo": files.url(emp.photo_file_id) or ""}


def employee_history(*, session: Session, actor: Actor, employee_id: int, limit: int = 100) -> list[dict[str, Any]]:
    """Who changed which field when (from the audit log), newest first. HR and the person themselves."""
    emp = get_in_scope(session, actor, employee_id, transitive=DIRECTORY_TRANSITIVE)
    if not (actor.is_hr or actor.employee_id == emp.id):
        raise Forbidden("Only HR and the person themselves see the change history.")
    entries = session.exec(
        select(AuditLog).where(AuditLog.organization_id == actor.organization_id, AuditLog.entity_type == "employee",
                               AuditLog.entity_id == emp.id)
        .order_by(AuditLog.created_at.desc(), AuditLog.id.desc()).limit(max(1, min(limit, 500)))
    ).all()
    # Names of the people who acted and of managers/departments/companies mentioned in the changes.
    user_ids = {e.actor_user_id for e in entries if e.actor_user_id}
    actor_names = {}
    if user_ids:
        for uid, first, last, email in session.exec(
                select(User.id, Employee.first_name, Employee.last_name, User.email)
                .outerjoin(Employee, Employee.user_id == User.id).where(User.id.in_(user_ids))).all():
            actor_names[uid] = f"{first} {last}".strip() if first else email
    ref_ids: dict[str, set[int]] = {"manager_id": set(), "department_id": set(), "company_id": set()}
    for e in entries:
        for key, ids in ref_ids.items():
            value = e.changes.get(key)
            ids.update(v for v in (value if isinstance(value, list) else [value]) if isinstance(v, int))
    labels = {"manager_id": _names(session, ref_ids["manager_id"]),
              "department_id": _labels(session, Department, ref_ids["department_id"]),
              "company_id": _labels(session, Company, ref_ids["company_id"])}
    history = []
    for e in entries:
        changes = []
        for key, value in e.changes.items():
            if key not in FIELD_LABELS:
                continue
            if e.action == "employee.created" and not isinstance(value, list):
                value = [None, value]  # the initial values of a new record
            if not isinstance(value, list) or len(value) != 2:
                continue
            old, new = value
            if key in labels:
                old, new = labels[key].get(old, old), labels[key].get(new, new)
            changes.append({"field": FIELD_LABELS[key], "old": _display(old), "new": _display(new)})
        history.append({
            "id": e.id, "at": e.created_at, "action": _ACTION_LABELS.get(e.action, e.action),
            "by": actor_names.get(e.actor_user_id, "System") if e.actor_user_id else "System",
            "changes": changes, "note": _note(e.changes),
        })
    return history


_ACTION_LABELS = {
    "employee.created": "Created", "employee.updated": "Updated", "employee.deactivated": "Deactivated",
    "employee.reactivated": "Reactivated", "employee.role_changed": "Role changed",
    "employee.reports_moved": "Direct report moved",
}


def _labels(session: Session, model: type[Department] | type[Company], ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(session.exec(select(model.id, model.name).where(model.id.in_(ids))).all())


_ENUM_LABELS = {**{r.value: label for r, label in ROLE_LABELS.items()},
                **{t.value: t.value.replace("_", " ") for t in EmploymentType},
                **{s.value: s.value for s in EmployeeStatus}}


def _display(value: Any) -> str:
    if value is None or value == "":
        return "—"
    return _ENUM_LABELS.get(value, str(value)) if isinstance(value, str) else str(value)


def _note(changes: dict) -> str:
    parts = []
    if changes.get("source") == "import":
        parts.append("CSV import")
    if changes.get("reason"):
        parts.append(str(changes["reason"]))
    return " · ".join(parts)


# ---------------------------------------------------------------- create, update, deactivate


def _require_names(first: str | None, last: str | None) -> None:
    problems = []
    if not first:
        problems.append({"field": "firstName", "message": "First name is required."})
    if not last:
        problems.append({"field": "lastName", "message": "Last name is required."})
    if problems:
        raise ValidationFailed(problems[0]["message"], details=problems)


def create_employee(*, session: Session, actor: Actor, data: EmployeeCreate, send_welcome_mail: bool = True,
                    source: str = "") -> EmployeeResult:
    """Create the employee record and its user account (role default employee), and mail the welcome link."""
    require(actor, *HR)
    _require_names(data.first_name, data.last_name)
    email = auth_service.normalize_email(data.email)
    role = data.role or Role.employee
    if role != Role.employee:
        _check_role_change(actor, None, role, target_is_self=False)
    lock_reporting_lines(session, actor.organization_id)
    company = _validate_company(session, actor, data.company_id)
    dept = _validate_department(session, actor, data.department_id)
    manager = check_manager(session, actor, None, data.manager_id)
    taken = _email_taken(session, actor, email)
    if taken:
        raise Conflict(taken, details=[{"field": "email", "message": taken}])
    code = data.employee_code or next_employee_codes(session, actor.organization_id)[0]
    if _code_taken(session, actor, code):
        message = f"Another employee already has the employee code {code}."
        raise Conflict(message, details=[{"field": "employeeCode", "message": message}])

    user = User(organization_id=actor.organization_id, email=email, password_hash=None, role=role)
    session.add(user)
    try:
        session.flush()
    except IntegrityError as exc:
        raise _integrity_conflict(exc) from exc
    now = utcnow()
    emp = Employee(
        organization_id=actor.organization_id, company_id=company.id, department_id=dept.id if dept else None,
        manager_id=manager.id if manager else None, user_id=user.id, employee_code=code,
        first_name=data.first_name, last_name=data.last_name, email=email, phone=data.phone,
        designation=data.designation, employment_type=data.employment_type, date_of_joining=data.date_of_joining,
        date_of_birth=data.date_of_birth, address_line1=data.address_line1, address_line2=data.address_line2,
        city=data.city, postal_code=data.postal_code, country=data.country, created_at=now, updated_at=now,
    )
    session.add(emp)
    try:
        session.flush()
    except IntegrityError as exc:
        raise _integrity_conflict(exc) from exc
    notes = []
    if manager is not None and (note := grant_manager_role(session, actor, manager, source=source)):
        notes.append(note)
    snapshot = {k: _jsonable(getattr(emp, k)) for k in FIELD_LABELS if hasattr(emp, k) and getattr(emp, k) is not None}
    snapshot["role"] = role.value
    if source:
        snapshot["source"] = source
    audit.record(session, action="employee.created", actor=actor, entity_type="employee", entity_id=emp.id,
                 changes=snapshot)
    if send_welcome_mail:
        org = session.get(Organization, actor.organization_id)
        send_welcome(session, user, emp, org.name if org else "HR Portal")
    publish(session, events.EMPLOYEE_CREATED, actor, emp)
    live.notify(session, _topic(actor.organization_id))
    return EmployeeResult(employee_detail(session, actor, emp), notes)


def update_employee(*, session: Session, actor: Actor, employee_id: int, data: EmployeeUpdate) -> EmployeeResult:
    """Partial update. HR changes anything; a person changes only their own phone and address (other
    fields sent with unchanged values are accepted as no-ops, so a client may send the whole record back)."""
    require(actor)
    emp = get_in_scope(session, actor, employee_id, transitive=DIRECTORY_TRANSITIVE)
    sent = {name: getattr(data, name) for name in data.model_fields_set}
    user = session.get(User, emp.user_id) if emp.user_id else None
    current = {name: getattr(emp, name) for name in sent if hasattr(emp, name)}
    if "role" in sent:
        current["role"] = Role(user.role) if user else None
    if "email" in sent and isinstance(sent["email"], str):
        sent["email"] = auth_service.normalize_email(sent["email"])
    changed = {k: v for k, v in sent.items() if current.get(k) != v}
    if not actor.is_hr:
        if actor.employee_id != emp.id:
            raise Forbidden("Only HR can change another person's record.")
        not_allowed = sorted(set(changed) - SELF_SERVICE_FIELDS)
        if not_allowed:
            names = ", ".join(FIELD_LABELS.get(n, n).lower() for n in not_allowed)
            raise Forbidden(f"You can change only your phone number and address (not: {names}).")
    notes: list[str] = []
    status = changed.pop("status", None) if "status" in changed else False
    if status is None:
        raise ValidationFailed.field("status", "Status must be active or inactive.")
    if changed:
        _apply_update(session, actor, emp, user, changed, notes)
    if status:  # the status change last, with the rules of deactivate/reactivate
        change = deactivate_employee if status == EmployeeStatus.inactive else reactivate_employee
        result = change(session=session, actor=actor, employee_id=emp.id)
        result.notes[:0] = notes
        return result
    return EmployeeResult(employee_detail(session, actor, emp), notes)


def _apply_update(session: Session, actor: Actor, emp: Employee, user: User | None, changed: dict[str, Any],
                  notes: list[str]) -> None:
    for required, label in (("first_name", "firstName"), ("last_name", "lastName"), ("email", "email")):
        if required in changed and not changed[required]:
            raise ValidationFailed.field(label, f"{FIELD_LABELS[required]} is required.")
    if "employment_type" in changed and changed["employment_type"] is None:
        raise ValidationFailed.field("employmentType", "Employment type is required.")
    diff: dict[str, list[Any]] = {}
    if "role" in changed:
        new_role = changed.pop("role")
        if new_role is None:
            raise ValidationFailed.field("role", "Role is required.")
        if user is None:
            raise ValidationFailed.field("role", f"{emp.full_name} has no user account.")
        _check_role_change(actor, user, new_role, target_is_self=actor.employee_id == emp.id)
        audit.record(session, action="employee.role_changed", actor=actor, entity_type="employee", entity_id=emp.id,
                     changes={"role": [Role(user.role).value, new_role.value]})
        user.role = new_role
        session.add(user)
    if "email" in changed:
        taken = _email_taken(session, actor, changed["email"], except_employee=emp)
        if taken:
            raise Conflict(taken, details=[{"field": "email", "message": taken}])
    if "employee_code" in changed:
        code = changed["employee_code"]
        if not code:
            raise ValidationFailed.field("employeeCode", "Employee code cannot be empty.")
        if _code_taken(session, actor, code, except_id=emp.id):
            message = f"Another employee already has the employee code {code}."
            raise Conflict(message, details=[{"field": "employeeCode", "message": message}])
    if "company_id" in changed:
        if changed["company_id"] is None:
            raise ValidationFailed.field("companyId", "Company is required.")
        _validate_company(session, actor, changed["company_id"])
    if "department_id" in changed:
        _validate_department(session, actor, changed["department_id"])
    new_manager = None
    if "manager_id" in changed:
        lock_reporting_lines(session, actor.organization_id)
        new_manager = check_manager(session, actor, emp, changed["manager_id"])
    for name, value in changed.items():
        diff[name] = [_jsonable(getattr(emp, name)), _jsonable(value)]
        setattr(emp, name, value)
    if not diff:
        return
    emp.updated_at = utcnow()
    session.add(emp)
    if user is not None and "email" in diff:
        user.email = emp.email
        session.add(user)
    try:
        session.flush()
    except IntegrityError as exc:
        raise _integrity_conflict(exc) from exc
    if new_manager is not None and (note := grant_manager_role(session, actor, new_manager)):
        notes.append(note)
    audit.record(session, action="employee.updated", actor=actor, entity_type="employee", entity_id=emp.id,
                 changes=diff)
    publish(session, events.EMPLOYEE_UPDATED, actor, emp, fields=sorted(diff))
    live.notify(session, _topic(actor.organization_id))


def active_direct_reports(session: Session, employee: Employee) -> list[Employee]:
    return list(session.exec(select(Employee).where(Employee.manager_id == employee.id,
                                                    Employee.status == EmployeeStatus.active)
                             .order_by(Employee.last_name, Employee.first_name)).all())


def deactivation_plan(*, session: Session, actor: Actor, employee_id: int) -> dict[str, Any]:
    """What the confirmation dialog shows: direct reports who must move first, and where they could go."""
    require(actor, *HR)
    emp = _org_employee(session, actor, employee_id)
    reports = active_direct_reports(session, emp)
    manager = session.get(Employee, emp.manager_id) if emp.manager_id else None
    return {"name": emp.full_name, "reports": [r.full_name for r in reports], "report_count": len(reports),
            "manager_name": manager.full_name if manager else "", "is_self": actor.employee_id == emp.id}


def deactivate_employee(*, session: Session, actor: Actor, employee_id: int,
                        move_reports_to_manager: bool = False) -> EmployeeResult:
    """Soft delete: status inactive, the account can no longer sign in, and every token and UI session
    of the person ends at once (token_version bump). History stays. Direct reports must be moved first,
    or (move_reports_to_manager) they move to the deactivated person's own manager."""
    require(actor, *HR)
    lock_reporting_lines(session, actor.organization_id)
    emp = _org_employee(session, actor, employee_id)
    if actor.employee_id == emp.id:
        raise Forbidden("You cannot deactivate yourself.")
    user = session.get(User, emp.user_id) if emp.user_id else None
    if user is not None and user.role == Role.admin and not actor.is_admin:
        raise Forbidden("Only an administrator can deactivate an administrator.")
    if emp.status != EmployeeStatus.active:
        raise Conflict(f"{emp.full_name} is already deactivated.")
    reports = active_direct_reports(session, emp)
    if reports and not move_reports_to_manager:
        names = ", ".join(r.full_name for r in reports[:5]) + (f" and {len(reports) - 5} more" if len(reports) > 5 else "")
        raise Conflict(f"{emp.full_name} still has {len(reports)} direct report(s) ({names}). Reassign them first, "
                       "or move them to their manager.",
                       details=[{"field": "directReports", "message": f"{len(reports)} active direct report(s)"}])
    # Conditional update: of two concurrent deactivations exactly one proceeds.
    done = session.exec(update(Employee).where(Employee.id == emp.id, Employee.status == EmployeeStatus.active)
                        .values(status=EmployeeStatus.inactive, updated_at=utcnow())).rowcount
    if done != 1:
        raise Conflict(f"{emp.full_name} is already deactivated.")
    notes: list[str] = []
    if reports:
        new_manager_id = emp.manager_id
        for r in reports:
            audit.record(session, action="employee.reports_moved", actor=actor, entity_type="employee", entity_id=r.id,
                         changes={"manager_id": [emp.id, new_manager_id],
                                  "reason": f"{emp.full_name} was deactivated"})
            r.manager_id, r.updated_at = new_manager_id, utcnow()
            session.add(r)
        new_manager = session.get(Employee, new_manager_id) if new_manager_id else None
        notes.append(f"{len(reports)} direct report(s) moved to "
                     f"{new_manager.full_name if new_manager else 'the top of the organization'}.")
        if new_manager is not None and (note := grant_manager_role(session, actor, new_manager)):
            notes.append(note)
    session.refresh(emp)
    heads = session.exec(select(Department).where(Department.head_employee_id == emp.id)).all()
    for dept in heads:
        dept.head_employee_id = None
        session.add(dept)
        audit.record(session, action="department.updated", actor=actor, entity_type="department", entity_id=dept.id,
                     changes={"head_employee_id": [emp.id, None], "reason": f"{emp.full_name} was deactivated"})
        notes.append(f"{dept.name} no longer has a head.")
    if user is not None:
        user.is_active = False
        user.token_version += 1  # every access/refresh token and UI session of the person stops working
        session.add(user)
    audit.record(session, action="employee.deactivated", actor=actor, entity_type="employee", entity_id=emp.id,
                 changes={"status": ["active", "inactive"]})
    publish(session, events.EMPLOYEE_DEACTIVATED, actor, emp)
    live.notify(session, _topic(actor.organization_id))
    return EmployeeResult(employee_detail(session, actor, emp), notes)


def reactivate_employee(*, session: Session, actor: Actor, employee_id: int) -> EmployeeResult:
    require(actor, *HR)
    lock_reporting_lines(session, actor.organization_id)
    emp = _org_employee(session, actor, employee_id)
    user = session.get(User, emp.user_id) if emp.user_id else None
    if user is not None and user.role == Role.admin and not actor.is_admin:
        raise Forbidden("Only an administrator can reactivate an administrator.")
    done = session.exec(update(Employee).where(Employee.id == emp.id, Employee.status == EmployeeStatus.inactive)
                        .values(status=EmployeeStatus.active, updated_at=utcnow())).rowcount
    if done != 1:
        session.refresh(emp)
        raise Conflict(f"{emp.full_name} is already active.")
    session.refresh(emp)
    notes = []
    changes: dict[str, Any] = {"status": ["inactive", "active"]}
    manager = session.get(Employee, emp.manager_id) if emp.manager_id else None
    if manager is not None and manager.status != EmployeeStatus.active:
        changes["manager_id"] = [manager.id, None]
        emp.manager_id = None
        session.add(emp)
        notes.append(f"Their former manager {manager.full_name} is deactivated: choose a new manager.")
    if user is not None:
        user.is_active = True
        session.add(user)
    audit.record(session, action="employee.reactivated", actor=actor, entity_type="employee", entity_id=emp.id,
                 changes=changes)
    publish(session, EMPLOYEE_REACTIVATED, actor, emp)
    live.notify(session, _topic(actor.organization_id))
    return EmployeeResult(employee_detail(session, actor, emp), notes)


# ---------------------------------------------------------------- departments


def _department_public(dept: Department, headcount: int, head_name: str | None, company_name: str | None) -> DepartmentPublic:
    return DepartmentPublic(id=dept.id, name=dept.name, company_id=dept.company_id, company_name=company_name,
                            head_employee_id=dept.head_employee_id, head_name=head_name, archived=dept.archived,
                            headcount=headcount)


def list_departments(*, session: Session, actor: Actor, include_archived: bool = True) -> list[DepartmentPublic]:
    """Departments with their active headcount (every role: the directory filters by department)."""
    require(actor)
    counts = dict(session.exec(
        select(Employee.department_id, func.count()).where(Employee.organization_id == actor.organization_id,
                                                           Employee.status == EmployeeStatus.active,
                                                           Employee.department_id.is_not(None))
        .group_by(Employee.department_id)).all())
    q = select(Department).where(Department.organization_id == actor.organization_id)
    if not include_archived:
        q = q.where(Department.archived.is_(False))
    depts = session.exec(q.order_by(Department.archived, func.lower(Department.name))).all()
    heads = _names(session, {d.head_employee_id for d in depts if d.head_employee_id})
    companies = dict(session.exec(select(Company.id, Company.name)
                                  .where(Company.organization_id == actor.organization_id)).all())
    return [_department_public(d, counts.get(d.id, 0), heads.get(d.head_employee_id), companies.get(d.company_id))
            for d in depts]


def _department(session: Session, actor: Actor, department_id: int) -> Department:
    dept = session.get(Department, department_id)
    if dept is None or dept.organization_id != actor.organization_id:
        raise NotFound("Department not found.")
    return dept


def _check_department_name(session: Session, actor: Actor, name: str | None, *, except_id: int | None = None) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationFailed.field("name", "Department name is required.")
    q = select(Department.id).where(Department.organization_id == actor.organization_id,
                                    func.lower(Department.name) == name.lower())
    if except_id is not None:
        q = q.where(Department.id != except_id)
    if session.exec(q).first() is not None:
        message = f"A department named {name} already exists."
        raise Conflict(message, details=[{"field": "name", "message": message}])
    return name


def _check_head(session: Session, actor: Actor, head_id: int | None) -> Employee | None:
    if head_id is None:
        return None
    head = session.get(Employee, head_id)
    if head is None or head.organization_id != actor.organization_id:
        raise ValidationFailed.field("headEmployeeId", "The selected person does not exist.")
    if head.status != EmployeeStatus.active:
        raise ValidationFailed.field("headEmployeeId", f"{head.full_name} is deactivated.")
    return head


def _department_result(session: Session, actor: Actor, dept: Department) -> DepartmentPublic:
    return next(d for d in list_departments(session=session, actor=actor) if d.id == dept.id)


def create_department(*, session: Session, actor: Actor, data: DepartmentInput) -> DepartmentPublic:
    require(actor, *HR)
    name = _check_department_name(session, actor, data.name)
    company = _validate_company(session, actor, data.company_id)
    _check_head(session, actor, data.head_employee_id)
    dept = Department(organization_id=actor.organization_id, company_id=company.id, name=name,
                      head_employee_id=data.head_employee_id)
    session.add(dept)
    try:
        session.flush()
    except IntegrityError as exc:
        raise Conflict(f"A department named {name} already exists.") from exc
    audit.record(session, action="department.created", actor=actor, entity_type="department", entity_id=dept.id,
                 changes={"name": name, "company_id": company.id, "head_employee_id": data.head_employee_id})
    live.notify(session, _topic(actor.organization_id))
    return _department_result(session, actor, dept)


def update_department(*, session: Session, actor: Actor, department_id: int, data: DepartmentInput) -> DepartmentPublic:
    """Rename, move to another company, or set/clear the head (fields present in the input only)."""
    require(actor, *HR)
    dept = _department(session, actor, department_id)
    sent = data.model_fields_set
    diff: dict[str, list[Any]] = {}
    if "name" in sent:
        name = _check_department_name(session, actor, data.name, except_id=dept.id)
        if name != dept.name:
            diff["name"] = [dept.name, name]
            dept.name = name
    if "company_id" in sent and data.company_id != dept.company_id:
        company = _validate_company(session, actor, data.company_id)
        diff["company_id"] = [dept.company_id, company.id]
        dept.company_id = company.id
    if "head_employee_id" in sent and data.head_employee_id != dept.head_employee_id:
        _check_head(session, actor, data.head_employee_id)
        diff["head_employee_id"] = [dept.head_employee_id, data.head_employee_id]
        dept.head_employee_id = data.head_employee_id
    if diff:
        session.add(dept)
        try:
            session.flush()
        except IntegrityError as exc:
            raise Conflict("A department with this name already exists.") from exc
        audit.record(session, action="department.updated", actor=actor, entity_type="department", entity_id=dept.id,
                     changes=diff)
        live.notify(session, _topic(actor.organization_id))
    return _department_result(session, actor, dept)


def set_department_archived(*, session: Session, actor: Actor, department_id: int, archived: bool) -> DepartmentPublic:
    """Archive (hidden from pickers, kept for history) once nobody active works in it; or restore."""
    require(actor, *HR)
    dept = _department(session, actor, department_id)
    if dept.archived == archived:
        return _department_result(session, actor, dept)
    if archived:
        active = session.exec(select(func.count()).select_from(Employee).where(
            Employee.department_id == dept.id, Employee.status == EmployeeStatus.active)).one()
        if active:
            raise Conflict(f"{dept.name} still has {active} active people. Move them to another department first.")
    dept.archived = archived
    session.add(dept)
    audit.record(session, action="department.archived" if archived else "department.restored", actor=actor,
                 entity_type="department", entity_id=dept.id, changes={"archived": [not archived, archived]})
    live.notify(session, _topic(actor.organization_id))
    return _department_result(session, actor, dept)


# ---------------------------------------------------------------- org chart


def _chart_nodes(session: Session, actor: Actor, employees: list[Employee]) -> list[dict[str, Any]]:
    ids = [e.id for e in employees]
    counts: dict[int, int] = {}
    if ids:
        counts = dict(session.exec(
            select(Employee.manager_id, func.count()).where(
                Employee.manager_id.in_(ids), Employee.status == EmployeeStatus.active,
                Employee.organization_id == actor.organization_id,
                scope_condition(actor, Employee.id, transitive=DIRECTORY_TRANSITIVE))
            .group_by(Employee.manager_id)).all())
    dept_ids = {e.department_id for e in employees if e.department_id}
    depts = dict(session.exec(select(Department.id, Department.name).where(Department.id.in_(dept_ids))).all()) \
        if dept_ids else {}
    return [{"id": e.id, "name": e.full_name, "designation": e.designation or "",
             "department": depts.get(e.department_id, ""), "reports": counts.get(e.id, 0),
             "initials": (e.first_name[:1] + e.last_name[:1]).upper(), "photo": files.url(e.photo_file_id) or ""}
            for e in employees]


def org_chart_roots(*, session: Session, actor: Actor) -> list[dict[str, Any]]:
    """The top of the chart: for HR, the active people without an (active) manager; for everyone else,
    themselves (the chart shows what the directory shows)."""
    require(actor)
    if not actor.is_hr:
        if actor.employee_id is None:
            return []
        emp = session.get(Employee, actor.employee_id)
        return _chart_nodes(session, actor, [emp] if emp and emp.status == EmployeeStatus.active else [])
    manager = aliased(Employee)
    roots = session.exec(
        select(Employee).outerjoin(manager, manager.id == Employee.manager_id)
        .where(Employee.organization_id == actor.organization_id, Employee.status == EmployeeStatus.active,
               or_(Employee.manager_id.is_(None), manager.status != EmployeeStatus.active))
        .order_by(Employee.last_name, Employee.first_name).limit(MAX_CHART_CHILDREN)
    ).all()
    return _chart_nodes(session, actor, list(roots))


def org_chart_node(*, session: Session, actor: Actor, employee_id: int) -> dict[str, Any]:
    """One person as a chart node (to start the chart from them)."""
    emp = get_in_scope(session, actor, employee_id, transitive=DIRECTORY_TRANSITIVE)
    if emp.status != EmployeeStatus.active:
        raise ValidationFailed.field("employeeId", f"{emp.full_name} is deactivated and not on the org chart.")
    return _chart_nodes(session, actor, [emp])[0]


def org_chart_children(*, session: Session, actor: Actor, employee_id: int) -> list[dict[str, Any]]:
    """Active direct reports of a person, as far as the viewer's scope reaches."""
    get_in_scope(session, actor, employee_id, transitive=DIRECTORY_TRANSITIVE)
    children = session.exec(
        select(Employee).where(Employee.organization_id == actor.organization_id, Employee.manager_id == employee_id,
                               Employee.status == EmployeeStatus.active,
                               scope_condition(actor, Employee.id, transitive=DIRECTORY_TRANSITIVE))
        .order_by(Employee.last_name, Employee.first_name).limit(MAX_CHART_CHILDREN)
    ).all()
    return _chart_nodes(session, actor, list(children))


def org_chart_path(*, session: Session, actor: Actor, employee_id: int) -> list[int]:
    """Ids from a chart root down to the person (inclusive), to expand the chart to them."""
    emp = get_in_scope(session, actor, employee_id, transitive=DIRECTORY_TRANSITIVE)
    if emp.status != EmployeeStatus.active:
        raise ValidationFailed.field("employeeId", f"{emp.full_name} is deactivated and not on the org chart.")
    path = [emp.id]
    if not actor.is_hr:
        if emp.id != actor.employee_id:
            path.insert(0, actor.employee_id)
        return path
    for manager in manager_chain(session, emp):
        if manager.status != EmployeeStatus.active:
            break
        path.insert(0, manager.id)
    return path


# ---------------------------------------------------------------- profile photo


def _photo_target(session: Session, actor: Actor, employee_id: Any) -> Employee:
    """A person may change their own photo; HR (admin, hr_manager) anyone's in the organization."""
    require(actor)
    try:
        employee_id = int(employee_id)
    except (TypeError, ValueError) as exc:
        raise NotFound("Employee not found.") from exc
    emp = _org_employee(session, actor, employee_id)
    if not actor.is_hr and actor.employee_id != emp.id:
        get_in_scope(session, actor, emp.id)  # out of scope: 404, as for any record the actor cannot see
        raise Forbidden("You can change only your own photo.")
    return emp


def set_photo(*, session: Session, actor: Actor, employee_id: Any, filename: str | None, data: bytes) -> str:
    """Upload or replace a profile photo (PNG, JPEG or WebP, checked by content). Returns its URL."""
    emp = _photo_target(session, actor, employee_id)
    meta = files.store(session, organization_id=emp.organization_id, purpose=files.FilePurpose.photo, data=data,
                       filename=filename, uploaded_by_user_id=actor.user_id, linked=True)
    old = emp.photo_file_id
    emp.photo_file_id = meta.id
    emp.updated_at = utcnow()
    session.add(emp)
    session.flush()
    files.delete(session, old)
    audit.record(session, action="employee.photo_changed", actor=actor, entity_type="employee", entity_id=emp.id,
                 changes={"photo": ["replaced" if old else "none", "uploaded"]})
    live.notify(session, _topic(emp.organization_id))
    return files.url(meta.id) or ""


def remove_photo(*, session: Session, actor: Actor, employee_id: Any) -> None:
    emp = _photo_target(session, actor, employee_id)
    if not emp.photo_file_id:
        return
    old, emp.photo_file_id = emp.photo_file_id, None
    emp.updated_at = utcnow()
    session.add(emp)
    session.flush()
    files.delete(session, old)
    audit.record(session, action="employee.photo_removed", actor=actor, entity_type="employee", entity_id=emp.id)
    live.notify(session, _topic(emp.organization_id))


def photo_readable(session: Session, actor: Actor, meta: files.StoredFile) -> bool:
    """Profile photos are seen by everyone signed in to the same organization (directory, org chart, queues)."""
    require(actor)
    return meta.purpose == files.FilePurpose.photo and meta.organization_id == actor.organization_id
