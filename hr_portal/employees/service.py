"""Employee records and the reporting line. `scope_condition` is the one definition of who sees whom:
admin and hr_manager see the whole organization, a manager sees self and reports (direct, or
transitive where asked), an employee sees self. Other modules filter their queries with it."""

from __future__ import annotations

from sqlalchemy import ColumnElement, false, literal, select as sa_select, true
from sqlmodel import Session, select

from hr_portal.auth.models import Role
from hr_portal.core.authz import Actor, require
from hr_portal.core.errors import NotFound
from hr_portal.employees.models import Employee


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
