"""CSV import (preview, then apply) and CSV export of the directory.

Import rows are matched to existing employees by email: a known email updates that person (blank
cells leave a field unchanged), an unknown one creates a new employee with a user account. The
preview validates every row against the database and the rest of the file (duplicates, codes,
departments, companies, roles, managers given by email, reporting-line cycles) and is stored with
the upload. Apply re-checks everything in one transaction: when a row has errors nothing is written,
unless the user chose to import only the valid rows.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy import insert, update
from sqlalchemy.orm import aliased
from sqlmodel import Session, func, select

from hr_portal.auth import service as auth_service
from hr_portal.auth.models import Role, User
from hr_portal.core import audit, events, live, mail
from hr_portal.core.authz import Actor, require
from hr_portal.core.db import utcnow
from hr_portal.core.errors import Conflict, NotFound, ValidationFailed
from hr_portal.employees import service
from hr_portal.employees.models import (
    Department,
    Employee,
    EmployeeImport,
    EmployeeQuery,
    EmployeeStatus,
    EmploymentType,
)
from hr_portal.org.models import Company, Organization

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20_000
CHUNK = 500

# field name -> (CSV header, max length)
COLUMNS: dict[str, tuple[str, int]] = {
    "employee_code": ("employeeCode", 32),
    "first_name": ("firstName", 100),
    "last_name": ("lastName", 100),
    "email": ("email", 254),
    "phone": ("phone", 40),
    "designation": ("designation", 120),
    "department": ("department", 120),
    "manager_email": ("managerEmail", 254),
    "company": ("company", 200),
    "employment_type": ("employmentType", 20),
    "date_of_joining": ("dateOfJoining", 10),
    "date_of_birth": ("dateOfBirth", 10),
    "role": ("role", 20),
    "address_line1": ("addressLine1", 200),
    "address_line2": ("addressLine2", 200),
    "city": ("city", 100),
    "postal_code": ("postalCode", 20),
    "country": ("country", 60),
}
# Header spellings people use (compared lower-case, without spaces, underscores and dashes).
_ALIASES = {
    **{header.lower(): name for name, (header, _) in COLUMNS.items()},
    **{name.replace("_", ""): name for name in COLUMNS},
    "code": "employee_code", "employeeid": "employee_code", "firstname": "first_name", "givenname": "first_name",
    "lastname": "last_name", "surname": "last_name", "familyname": "last_name", "emailaddress": "email",
    "workemail": "email", "phonenumber": "phone", "mobile": "phone", "title": "designation",
    "jobtitle": "designation", "dept": "department", "departmentname": "department", "manager": "manager_email",
    "manageremailaddress": "manager_email", "type": "employment_type", "employment": "employment_type",
    "joiningdate": "date_of_joining", "startdate": "date_of_joining", "hiredate": "date_of_joining",
    "birthdate": "date_of_birth", "dob": "date_of_birth", "address": "address_line1", "zip": "postal_code",
    "zipcode": "postal_code", "postcode": "postal_code", "companyname": "company",
}
EXPORT_FIELDS = ["employee_code", "first_name", "last_name", "email", "phone", "designation", "department",
                 "manager_email", "company", "employment_type", "date_of_joining", "status"]
EXPORT_PERSONAL = ["role", "date_of_birth", "address_line1", "address_line2", "city", "postal_code", "country"]
# Columns an update may change, in the order the preview lists them.
_UPDATABLE = ["employee_code", "first_name", "last_name", "phone", "designation", "department_id", "company_id",
              "employment_type", "date_of_joining", "date_of_birth", "address_line1", "address_line2", "city",
              "postal_code", "country"]
_EMPLOYMENT_TYPES = {t.value.replace("_", ""): t for t in EmploymentType}
_ROLES = {r.value.replace("_", ""): r for r in Role}
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _key(header: str) -> str:
    return re.sub(r"[\s_\-.]", "", (header or "").strip().lower())


# ---------------------------------------------------------------- parsing


@dataclass
class ParsedFile:
    text: str
    rows: list[tuple[int, dict[str, str]]]  # (line number in the file, field -> cell)
    columns: list[str]
    ignored_columns: list[str]


def parse_csv(content: bytes) -> ParsedFile:
    """Decode (UTF-8 with or without BOM, else Windows-1252), sniff ',' ';' or tab, map headers."""
    if len(content) > MAX_BYTES:
        raise ValidationFailed.field("file", f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB. Split it.")
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = content.decode("cp1252", errors="replace")
    if not text.strip():
        raise ValidationFailed.field("file", "The file is empty.")
    first_line = text.splitlines()[0]
    delimiter = max([",", ";", "\t"], key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except csv.Error as exc:
        raise ValidationFailed.field("file", f"The file is not valid CSV: {exc}.") from exc
    mapping: dict[int, str] = {}
    ignored: list[str] = []
    for index, name in enumerate(header):
        target = _ALIASES.get(_key(name))
        if target is None or target in mapping.values():
            if name.strip():
                ignored.append(name.strip())
            continue
        mapping[index] = target
    if "email" not in mapping.values():
        raise ValidationFailed.field("file", "The file needs an 'email' column (the header row names the columns: "
                                             + ", ".join(h for h, _ in COLUMNS.values()) + ").")
    rows: list[tuple[int, dict[str, str]]] = []
    try:
        for record in reader:
            if not any(cell.strip() for cell in record):
                continue
            if len(rows) >= MAX_ROWS:
                raise ValidationFailed.field("file", f"The file has more than {MAX_ROWS:,} rows. Split it.")
            values = {name: _unescape(record[i].strip()) for i, name in mapping.items() if i < len(record)}
            rows.append((reader.line_num, values))
    except csv.Error as exc:
        raise ValidationFailed.field("file", f"The file is not valid CSV near line {reader.line_num}: {exc}.") from exc
    if not rows:
        raise ValidationFailed.field("file", "The file has a header row but no data rows.")
    return ParsedFile(text, rows, list(mapping.values()), ignored)


def _unescape(cell: str) -> str:
    """Undo the formula guard the export adds ('=... -> =...)."""
    return cell[1:] if cell[:1] == "'" and cell[1:2] in ("=", "+", "-", "@") else cell


_SAFE_SIGNED = re.compile(r"^[+-][\d\s().\-/]*$")


def _escape(value: Any) -> str:
    """Keep spreadsheet programs from running a cell as a formula; phone numbers stay as they are."""
    text = "" if value is None else str(value)
    if text[:1] in ("=", "@", "\t", "\r") or (text[:1] in ("+", "-") and not _SAFE_SIGNED.match(text)):
        return "'" + text
    return text


# ---------------------------------------------------------------- planning (shared by preview and apply)


@dataclass
class RowPlan:
    line: int
    email: str
    name: str
    action: str = "create"  # create | update | unchanged | error
    errors: list[str] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)  # normalized: field -> new value
    changes: dict[str, list[Any]] = field(default_factory=dict)  # update: field -> [old, new]
    manager_email: str | None = None
    role: Role | None = None
    new_department: str | None = None
    employee: Employee | None = None

    def fail(self, message: str) -> None:
        self.errors.append(message)
        self.action = "error"


@dataclass
class ImportPlan:
    rows: list[RowPlan]
    new_departments: list[str]
    ignored_columns: list[str]
    id_by_email: dict[str, int]  # existing employees of the organization

    def count(self, action: str) -> int:
        return sum(1 for r in self.rows if r.action == action)

    @property
    def summary(self) -> dict[str, Any]:
        return {"total": len(self.rows), "create": self.count("create"), "update": self.count("update"),
                "unchanged": self.count("unchanged"), "error": self.count("error"),
                "newDepartments": self.new_departments, "ignoredColumns": self.ignored_columns}


def _chunks(items: list, size: int = CHUNK) -> Iterable[list]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


class _Context:
    """What the plan needs from the database, loaded once per plan with a few set-based queries."""

    def __init__(self, session: Session, actor: Actor, emails: set[str]):
        org = actor.organization_id
        self.graph: dict[int, int | None] = {}
        self.status: dict[int, EmployeeStatus] = {}
        self.id_by_email: dict[str, int] = {}
        self.codes: dict[str, int] = {}
        for eid, mid, email, code, status in session.exec(
                select(Employee.id, Employee.manager_id, func.lower(Employee.email), Employee.employee_code,
                       Employee.status).where(Employee.organization_id == org)).all():
            self.graph[eid], self.status[eid], self.id_by_email[email], self.codes[code] = mid, status, eid, eid
        matched = [self.id_by_email[e] for e in emails if e in self.id_by_email]
        self.employees: dict[int, Employee] = {}
        self.roles: dict[int, Role] = {}
        for chunk in _chunks(matched):
            for emp, role in session.exec(select(Employee, User.role).outerjoin(User, User.id == Employee.user_id)
                                          .where(Employee.id.in_(chunk))).all():
                self.employees[emp.id] = emp
                if role is not None:
                    self.roles[emp.id] = Role(role)
        self.user_emails: set[str] = set()
        for chunk in _chunks(sorted(emails)):
            self.user_emails.update(session.exec(select(func.lower(User.email))
                                                 .where(func.lower(User.email).in_(chunk))).all())
        self.departments = {d.name.lower(): d for d in session.exec(
            select(Department).where(Department.organization_id == org)).all()}
        companies = session.exec(select(Company).where(Company.organization_id == org).order_by(Company.id)).all()
        self.companies = {c.name.lower(): c for c in companies}
        self.default_company = companies[0] if companies else None


def _parse_date(value: str, label: str, row: RowPlan) -> date | None:
    if not _ISO_DATE.match(value):
        row.fail(f"{label} '{value}' is not a date in the form YYYY-MM-DD.")
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        row.fail(f"{label} '{value}' is not a real date.")
        return None


def _check_row(row: RowPlan, cells: dict[str, str], ctx: _Context, actor: Actor) -> None:
    """Validate one row on its own (everything except managers and cycles) and fill row.values."""
    for name, value in cells.items():
        limit = COLUMNS[name][1]
        if len(value) > limit:
            row.fail(f"{COLUMNS[name][0]} is longer than {limit} characters.")
    existing = row.employee
    if existing is None:
        if not cells.get("first_name"):
            row.fail("First name is required for a new employee.")
        if not cells.get("last_name"):
            row.fail("Last name is required for a new employee.")
        if row.email in ctx.user_emails:
            row.fail(f"The email {row.email} is already used by another account.")
    elif existing.status != EmployeeStatus.active:
        row.fail(f"{existing.full_name} is deactivated. Reactivate them before importing changes.")
    for name in ("first_name", "last_name", "phone", "designation", "address_line1", "address_line2", "city",
                 "postal_code", "country"):
        if cells.get(name):
            row.values[name] = cells[name]
    if code := cells.get("employee_code"):
        owner = ctx.codes.get(code)
        if owner is not None and (existing is None or owner != existing.id):
            row.fail(f"The employee code {code} belongs to another employee.")
        row.values["employee_code"] = code
    if raw := cells.get("employment_type"):
        etype = _EMPLOYMENT_TYPES.get(_key(raw))
        if etype is None:
            row.fail(f"Employment type '{raw}' is not one of full_time, part_time, contract, intern.")
        else:
            row.values["employment_type"] = etype
    for name, label in (("date_of_joining", "Date of joining"), ("date_of_birth", "Date of birth")):
        if cells.get(name) and (parsed := _parse_date(cells[name], label, row)) is not None:
            row.values[name] = parsed
    if dept_name := cells.get("department"):
        dept = ctx.departments.get(dept_name.lower())
        if dept is None:
            row.new_department = dept_name
        elif dept.archived:
            row.fail(f"The department {dept.name} is archived.")
        else:
            row.values["department_id"] = dept.id
    if company_name := cells.get("company"):
        company = ctx.companies.get(company_name.lower())
        if company is None:
            row.fail(f"There is no company named '{company_name}' (see Settings).")
        else:
            row.values["company_id"] = company.id
    elif existing is None:
        if ctx.default_company is None:
            row.fail("Create a company in Settings first.")
        else:
            row.values["company_id"] = ctx.default_company.id
    if raw := cells.get("role"):
        role = _ROLES.get(_key(raw))
        if role is None:
            row.fail(f"Role '{raw}' is not one of employee, manager, hr_manager, admin.")
        else:
            current = ctx.roles.get(existing.id) if existing else None
            if role != current and (existing is not None or role != Role.employee):
                if existing is not None and existing.id == actor.employee_id:
                    row.fail("You cannot change your own role.")
                elif role == Role.admin and not actor.is_admin:
                    row.fail("Only an administrator can grant the admin role.")
                elif current == Role.admin and not actor.is_admin:
                    row.fail("Only an administrator can change an administrator's role.")
            row.role = role
    if manager := cells.get("manager_email"):
        row.manager_email = manager.lower()
        if row.manager_email == row.email:
            row.fail("A person cannot be their own manager.")


def plan_import(session: Session, actor: Actor, parsed: ParsedFile) -> ImportPlan:
    emails: set[str] = set()
    plans: list[RowPlan] = []
    seen: dict[str, int] = {}
    duplicates: set[int] = set()
    raw_cells: list[dict[str, str]] = []
    for line, cells in parsed.rows:
        name = f"{cells.get('first_name', '')} {cells.get('last_name', '')}".strip()
        row = RowPlan(line=line, email=(cells.get("email") or "").lower(), name=name)
        try:
            row.email = auth_service.normalize_email(cells.get("email", ""))
        except ValidationFailed:
            row.fail(f"'{cells.get('email', '')}' is not a valid email address." if cells.get("email")
                     else "Email is missing.")
        if row.action != "error" and row.email in seen:
            row.fail(f"The email {row.email} appears again (first on line {seen[row.email]}).")
            duplicates.add(line)
        elif row.action != "error":
            seen[row.email] = line
        emails.add(row.email)
        plans.append(row)
        raw_cells.append(cells)
    ctx = _Context(session, actor, emails | {c["manager_email"].lower() for c in raw_cells if c.get("manager_email")})
    codes_in_file: dict[str, int] = {}
    for row, cells in zip(plans, raw_cells, strict=True):
        if row.line in duplicates:
            continue
        existing_id = ctx.id_by_email.get(row.email)
        row.employee = ctx.employees.get(existing_id) if existing_id else None
        if row.employee is not None and not row.name:
            row.name = row.employee.full_name
        _check_row(row, cells, ctx, actor)
        code = row.values.get("employee_code")
        if code:
            if code in codes_in_file:
                row.fail(f"The employee code {code} appears again (first on line {codes_in_file[code]}).")
            else:
                codes_in_file[code] = row.line
    _resolve_managers(plans, ctx)
    for row in plans:
        if row.action != "error" and row.employee is not None:
            _diff_update(row, ctx)
    new_departments = sorted({r.new_department for r in plans if r.new_department and r.action != "error"},
                             key=str.lower)
    new_departments = list({d.lower(): d for d in new_departments}.values())
    return ImportPlan(plans, new_departments, parsed.ignored_columns, ctx.id_by_email)


def _resolve_managers(plans: list[RowPlan], ctx: _Context) -> None:
    """Managers given by email must be active employees or valid rows of the file, and the reporting
    line that would result must have no cycle. Repeats until stable, since one bad row can make the
    rows that point at it bad too."""
    by_email: dict[str, RowPlan] = {}
    for r in plans:
        if r.email:
            by_email.setdefault(r.email, r)  # a repeated email is an error on its later rows
    while True:
        changed = False
        # Node ids: existing employees by id, new rows by a negative line number.
        node = {r.email: (r.employee.id if r.employee else -r.line) for r in plans if r.action != "error"}
        parent = dict(ctx.graph)
        for row in plans:
            if row.action == "error" or not row.manager_email:
                continue
            target = by_email.get(row.manager_email)
            if target is not None and target.action == "error":
                row.fail(f"The manager {row.manager_email} (line {target.line}) has errors.")
                changed = True
                continue
            if target is None:
                mid = ctx.id_by_email.get(row.manager_email)
                if mid is None:
                    row.fail(f"No employee or row in this file has the manager email {row.manager_email}.")
                    changed = True
                    continue
                if ctx.status.get(mid) != EmployeeStatus.active:
                    row.fail(f"The manager {row.manager_email} is deactivated.")
                    changed = True
                    continue
            else:
                mid = node[target.email]
            parent[node[row.email]] = mid
        for row in plans:
            if row.action == "error" or not row.manager_email:
                continue
            start = node[row.email]
            current, steps = parent.get(start), 0
            while current is not None and steps <= len(parent):
                if current == start:
                    row.fail(f"Reporting to {row.manager_email} would make a cycle: {row.email} would end up "
                             "managing their own manager.")
                    changed = True
                    break
                current, steps = parent.get(current), steps + 1
        if not changed:
            return


def _diff_update(row: RowPlan, ctx: _Context) -> None:
    emp = row.employee
    for name in _UPDATABLE:
        if name in row.values and row.values[name] != getattr(emp, name):
            row.changes[name] = [getattr(emp, name), row.values[name]]
    if row.new_department:
        row.changes["department_id"] = [emp.department_id, row.new_department]
    if row.manager_email and ctx.id_by_email.get(row.manager_email, -1) != emp.manager_id:
        row.changes["manager_id"] = [emp.manager_id, row.manager_email]
    if row.role is not None and row.role != ctx.roles.get(emp.id):
        row.changes["role"] = [ctx.roles.get(emp.id), row.role]
    row.action = "update" if row.changes else "unchanged"


def _describe(row: RowPlan, names: dict[str, dict[Any, str]]) -> str:
    """One line for the preview table."""
    if row.action == "error":
        return " ".join(row.errors)
    if row.action == "unchanged":
        return "No changes."

    def show(name: str, value: Any) -> str:
        if value is None or value == "":
            return "—"
        if name in names:
            return names[name].get(value, str(value))
        return str(getattr(value, "value", value)).replace("_", " ") if name in ("employment_type", "role") else str(value)

    if row.action == "update":
        return "; ".join(f"{service.FIELD_LABELS[k]}: {show(k, old)} → {show(k, new)}"
                         for k, (old, new) in row.changes.items())
    parts = [row.values.get("designation") or ""]
    dept = row.new_department or names["department_id"].get(row.values.get("department_id"), "")
    parts.append(f"{dept} (new department)" if row.new_department else dept)
    if row.manager_email:
        parts.append(f"reports to {row.manager_email}")
    if row.role and row.role != Role.employee:
        parts.append(f"role {row.role.value.replace('_', ' ')}")
    return " · ".join(p for p in parts if p)


def _preview_rows(session: Session, actor: Actor, plan: ImportPlan) -> list[dict[str, Any]]:
    names = {
        "department_id": dict(session.exec(select(Department.id, Department.name)
                                           .where(Department.organization_id == actor.organization_id)).all()),
        "company_id": dict(session.exec(select(Company.id, Company.name)
                                        .where(Company.organization_id == actor.organization_id)).all()),
    }
    manager_ids = {r.employee.manager_id for r in plan.rows if r.employee and r.employee.manager_id}
    names["manager_id"] = service._names(session, manager_ids)
    return [{"line": r.line, "email": r.email, "name": r.name or r.email, "action": r.action,
             "errors": r.errors, "detail": _describe(r, names)} for r in plan.rows]


# ---------------------------------------------------------------- preview and apply


def preview_import(*, session: Session, actor: Actor, filename: str, content: bytes) -> dict[str, Any]:
    """Parse and check an uploaded file; store it with its per-row plan. Nothing else is written."""
    require(actor, *service.HR)
    parsed = parse_csv(content)
    plan = plan_import(session, actor, parsed)
    summary = plan.summary
    record = EmployeeImport(
        organization_id=actor.organization_id, created_by_user_id=actor.user_id, filename=(filename or "")[:200],
        content=parsed.text, total_rows=summary["total"], error_rows=summary["error"], summary=summary,
        preview=_preview_rows(session, actor, plan),
    )
    session.add(record)
    session.flush()
    return import_summary(record)


def import_summary(record: EmployeeImport) -> dict[str, Any]:
    return {"id": record.id, "filename": record.filename, "status": record.status, **record.summary,
            "result": record.result}


def _get_import(session: Session, actor: Actor, import_id: int, *, lock: bool = False) -> EmployeeImport:
    q = select(EmployeeImport).where(EmployeeImport.id == import_id,
                                     EmployeeImport.organization_id == actor.organization_id)
    record = session.exec(q.with_for_update() if lock else q).first()
    if record is None:
        raise NotFound("Import not found.")
    return record


def import_rows(*, session: Session, actor: Actor, import_id: int, action: str | None = None, page: int = 1,
                limit: int = 50) -> tuple[list[dict[str, Any]], int]:
    """A page of the stored preview, optionally only one kind of row (create, update, unchanged, error)."""
    require(actor, *service.HR)
    record = _get_import(session, actor, import_id)
    rows = record.preview if not action else [r for r in record.preview if r["action"] == action]
    limit = max(1, min(limit, 200))
    start = (max(1, page) - 1) * limit
    return rows[start:start + limit], len(rows)


def apply_import(*, session: Session, actor: Actor, import_id: int, only_valid: bool = False,
                 send_welcome: bool = True, progress: Callable[[int, int], None] | None = None,
                 on_committed: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
    """Apply a previewed import in this one transaction, after checking every row again.
    `on_committed(summary)` runs as soon as the transaction commits, before other modules' listeners of
    the import's `employees.imported` event (which run after the commit, in the committing thread)."""
    require(actor, *service.HR)
    record = _get_import(session, actor, import_id)
    # Claim the import first: of two concurrent applies exactly one proceeds.
    claimed = session.exec(update(EmployeeImport).where(EmployeeImport.id == record.id,
                                                        EmployeeImport.status == "previewed")
                           .values(status="applying")).rowcount
    if claimed != 1:
        raise Conflict("This import has already been applied. Upload the file again for a new preview.")
    service.lock_reporting_lines(session, actor.organization_id)
    plan = plan_import(session, actor, parse_csv(record.content.encode("utf-8")))
    errors = plan.count("error")
    if errors and not only_valid:
        raise ValidationFailed(
            f"{errors} row(s) have errors, so nothing was imported. Fix the file, or import only the valid rows.",
            details=[{"field": f"line {r.line}", "message": " ".join(r.errors)} for r in plan.rows
                     if r.action == "error"][:100])
    todo = [r for r in plan.rows if r.action in ("create", "update")]
    if not todo:
        raise ValidationFailed("There is nothing to import: no valid row creates or changes anyone.")
    creates = [r for r in todo if r.action == "create"]
    updates = [r for r in todo if r.action == "update"]
    # Progress units: each new row twice (inserted, then finished: audit, mail), each update once.
    total, done = 2 * len(creates) + len(updates), 0

    def tick(n: int) -> None:
        nonlocal done
        done += n
        if progress is not None:
            progress(done, total)

    with session.no_autoflush:
        departments = _create_departments(session, actor, plan)
        writer = _BulkWriter(session, actor)
        ids = dict(plan.id_by_email)  # email -> employee id, the new rows added as they are inserted
        created = _insert_rows(session, actor, creates, departments, ids, tick)
        _update_rows(session, actor, updates, departments, ids, writer, tick)
        _finish_created(session, actor, creates, created, writer, send_welcome, tick, record.id)
        notes = [note for manager_id in dict.fromkeys(ids[r.manager_email] for r in todo if r.manager_email)
                 if (note := service.grant_manager_role(session, actor, session.get(Employee, manager_id),
                                                        source="import"))]
        session.flush()
    result = {"created": len(created), "updated": len(updates), "skipped": errors, "unchanged": plan.count("unchanged"),
              "departmentsCreated": len(departments), "notes": notes[:20]}
    record.status, record.result = "applied", result
    record.applied_at, record.applied_by_user_id = utcnow(), actor.user_id
    session.add(record)
    audit.record(session, action="employees.imported", actor=actor, entity_type="employee_import",
                 entity_id=record.id, changes={**result, "filename": record.filename, "notes": len(notes)})
    live.notify(session, service._topic(actor.organization_id))
    summary = import_summary(record)
    if on_committed is not None:
        sa_event.listen(session, "after_commit", lambda _s: on_committed(summary), insert=True, once=True)
    return summary


def _create_departments(session: Session, actor: Actor, plan: ImportPlan) -> dict[str, int]:
    wanted = {r.new_department.lower(): r.new_department for r in plan.rows
              if r.new_department and r.action in ("create", "update")}
    company = session.exec(select(Company).where(Company.organization_id == actor.organization_id)
                           .order_by(Company.id)).first()
    created: dict[str, int] = {}
    for key, name in sorted(wanted.items()):
        dept = Department(organization_id=actor.organization_id, company_id=company.id if company else None, name=name)
        session.add(dept)
        session.flush()
        audit.record(session, action="department.created", actor=actor, entity_type="department", entity_id=dept.id,
                     changes={"name": name, "source": "import"})
        created[key] = dept.id
    return created


class _BulkWriter:
    """Audit entries and welcome mails of an import, written per chunk with a plain (Core) executemany on
    the tables (`audit.record_many`, `mail.enqueue_many`): building thousands of ORM objects, or the ORM's
    bulk path, costs far more than the database work (measured in docs/performance.md)."""

    def __init__(self, session: Session, actor: Actor):
        self.session, self.actor, self.now = session, actor, utcnow()
        self.audit: list[dict[str, Any]] = []

    def record(self, action: str, entity_id: int, changes: dict[str, Any]) -> None:
        """The same entry audit.record writes (actor, organization, client address)."""
        self.audit.append(audit.entry_values(action=action, actor=self.actor, entity_type="employee",
                                             entity_id=entity_id, changes=changes, created_at=self.now))

    def welcome(self, people: list[dict[str, Any]], org_name: str) -> None:
        """Welcome mails with single-use set-password links for new accounts, stored in this transaction
        (the outbox delivers them once it commits)."""
        links = auth_service.create_welcome_links(self.session, [p["user_id"] for p in people])
        mails = []
        for person, link in zip(people, links, strict=True):
            subject, text, body_html = service.welcome_message(org_name, person["first_name"], person["email"], link)
            mails.append({"to": person["email"], "subject": subject, "text": text, "html_body": body_html,
                          "organization_id": self.actor.organization_id, "kind": "welcome"})
        mail.enqueue_many(self.session, mails)

    def flush(self) -> None:
        audit.record_many(self.session, self.audit)
        self.audit = []


def _levels(rows: list[RowPlan]) -> list[list[RowPlan]]:
    """New rows grouped so that a manager who is also a new row comes in an earlier group than their
    reports (the plan has refused cycles), so every manager id is known when a row is inserted."""
    by_email = {r.email: r for r in rows}
    level: dict[str, int] = {}
    for row in rows:
        chain, current = [], row
        while current.email not in level and current.manager_email in by_email:
            chain.append(current)
            current = by_email[current.manager_email]
            if len(chain) > len(rows):
                raise ValidationFailed("The file's reporting lines form a cycle.")
        depth = level.setdefault(current.email, 0)
        for r in reversed(chain):
            depth += 1
            level[r.email] = depth
    groups: dict[int, list[RowPlan]] = {}
    for row in rows:
        groups.setdefault(level[row.email], []).append(row)
    return [groups[d] for d in sorted(groups)]


def _insert_rows(session: Session, actor: Actor, rows: list[RowPlan], departments: dict[str, int],
                 ids: dict[str, int], tick: Callable[[int], None]) -> dict[str, dict[str, Any]]:
    """Accounts and employee records of the new rows: a Core executemany per chunk (managers first), then
    one indexed SELECT for the chunk's new ids (long INSERT ... RETURNING batches cost more to send).
    Emails are stored lower-case (the plan normalized them). Adds the new ids to `ids` and returns
    email -> inserted values."""
    in_file = {r.values["employee_code"] for r in rows if r.values.get("employee_code")}
    codes = iter(service.next_employee_codes(session, actor.organization_id,
                                             sum(1 for r in rows if not r.values.get("employee_code")),
                                             also_used=in_file))
    created: dict[str, dict[str, Any]] = {}
    now, org = utcnow(), actor.organization_id
    conn, users, employees = session.connection(), User.__table__, Employee.__table__
    for group in _levels(rows):
        for chunk in _chunks(group):
            emails = [r.email for r in chunk]
            conn.execute(insert(users), [
                {"organization_id": org, "email": r.email, "password_hash": None, "role": r.role or Role.employee,
                 "is_active": True, "failed_login_count": 0, "token_version": 1, "created_at": now}
                for r in chunk])
            # lower(email): answered by the unique indexes on lower(email)
            user_ids = dict(conn.execute(select(users.c.email, users.c.id)
                                         .where(func.lower(users.c.email).in_(emails))).all())
            values = []
            for r in chunk:
                v = r.values
                values.append({
                    "organization_id": org, "company_id": v["company_id"], "user_id": user_ids[r.email],
                    "manager_id": ids[r.manager_email] if r.manager_email else None,
                    "department_id": departments[r.new_department.lower()] if r.new_department
                    else v.get("department_id"),
                    "employee_code": v.get("employee_code") or next(codes), "first_name": v["first_name"],
                    "last_name": v["last_name"], "email": r.email, "phone": v.get("phone"),
                    "designation": v.get("designation"),
                    "employment_type": v.get("employment_type", EmploymentType.full_time),
                    "status": EmployeeStatus.active, "date_of_joining": v.get("date_of_joining"),
                    "date_of_birth": v.get("date_of_birth"), "address_line1": v.get("address_line1"),
                    "address_line2": v.get("address_line2"), "city": v.get("city"),
                    "postal_code": v.get("postal_code"), "country": v.get("country"), "created_at": now,
                    "updated_at": now,
                })
            conn.execute(insert(employees), values)
            employee_ids = dict(conn.execute(select(employees.c.email, employees.c.id).where(
                employees.c.organization_id == org, func.lower(employees.c.email).in_(emails))).all())
            for r, row in zip(chunk, values, strict=True):
                ids[r.email] = employee_ids[r.email]
                created[r.email] = {**row, "id": ids[r.email], "role": r.role or Role.employee}
            tick(len(chunk))
    return created


def _finish_created(session: Session, actor: Actor, rows: list[RowPlan], created: dict[str, dict[str, Any]],
                    writer: _BulkWriter, send_welcome: bool, tick: Callable[[int], None], import_id: int) -> None:
    """Audit entries and welcome mails of the new rows, and ONE `employees.imported` event for all of them
    (other modules' listeners then work set-based instead of once per person)."""
    org = session.get(Organization, actor.organization_id)
    org_name = org.name if org else "HR Portal"
    for chunk in _chunks(rows):
        people = [created[r.email] for r in chunk]
        for p in people:
            snapshot = {k: service._jsonable(p.get(k)) for k in service.FIELD_LABELS if p.get(k) is not None}
            writer.record("employee.created", p["id"], {**snapshot, "source": "import"})
        if send_welcome:
            writer.welcome(people, org_name)
        writer.flush()
        tick(len(chunk))
    if rows:
        people = [created[r.email] for r in rows]
        events.publish(session, events.EMPLOYEES_IMPORTED, organization_id=actor.organization_id,
                       actor_user_id=actor.user_id, employee_ids=[p["id"] for p in people],
                       user_ids=[p["user_id"] for p in people], import_id=import_id, source="import")


def _update_rows(session: Session, actor: Actor, rows: list[RowPlan], departments: dict[str, int],
                 ids: dict[str, int], writer: _BulkWriter, tick: Callable[[int], None]) -> None:
    now = utcnow()
    for chunk in _chunks(rows):
        for r in chunk:
            emp = r.employee
            diff: dict[str, list[Any]] = {}
            for name, (old, new) in r.changes.items():
                if name == "role":
                    user = session.get(User, emp.user_id)
                    writer.record("employee.role_changed", emp.id,
                                  {"role": [service._jsonable(old), new.value], "source": "import"})
                    user.role = new
                    session.add(user)
                    continue
                if name == "department_id" and isinstance(new, str):
                    new = departments[new.lower()]
                elif name == "manager_id":
                    new = ids[new]
                diff[name] = [service._jsonable(old), service._jsonable(new)]
                setattr(emp, name, new)
            if diff:
                emp.updated_at = now
                session.add(emp)
                writer.record("employee.updated", emp.id, {**diff, "source": "import"})
                service.publish(session, events.EMPLOYEE_UPDATED, actor, emp, fields=sorted(diff), source="import")
        session.flush()
        writer.flush()
        tick(len(chunk))


# ---------------------------------------------------------------- export


def export_csv(*, session: Session, actor: Actor, query: EmployeeQuery) -> tuple[str, int]:
    """The filtered, scoped directory as CSV (same columns as the import, so a file can go back in).
    Personal details (birth date, address) and roles are included for HR only."""
    require(actor)
    manager = aliased(Employee)
    personal = actor.is_hr
    cols = [Employee.employee_code, Employee.first_name, Employee.last_name, Employee.email, Employee.phone,
            Employee.designation, Department.name, manager.email, Company.name, Employee.employment_type,
            Employee.date_of_joining, Employee.status]
    if personal:
        cols += [User.role, Employee.date_of_birth, Employee.address_line1, Employee.address_line2, Employee.city,
                 Employee.postal_code, Employee.country]
    q = (select(*cols).outerjoin(Department, Department.id == Employee.department_id)
         .outerjoin(manager, manager.id == Employee.manager_id).join(Company, Company.id == Employee.company_id))
    if personal:
        q = q.outerjoin(User, User.id == Employee.user_id)
    rows = session.exec(q.where(*service.directory_conditions(actor, query))
                        .order_by(*service.directory_order(query))).all()
    fields = EXPORT_FIELDS + (EXPORT_PERSONAL if personal else [])
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([COLUMNS[f][0] if f in COLUMNS else f for f in fields])
    for row in rows:
        writer.writerow([_escape(getattr(v, "value", v)) for v in row])
    return out.getvalue(), len(rows)
