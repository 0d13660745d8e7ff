"""hr_portal.employees.service against a real database: directory scope, profiles, create/edit,
reporting-line rules, deactivation, departments, org chart."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from hr_portal.auth import service as auth_service
from hr_portal.auth.models import PasswordResetToken, Role, User
from hr_portal.core.audit import AuditLog
from hr_portal.core.db import get_engine
from hr_portal.core.errors import Conflict, Forbidden, NotFound, Unauthorized, ValidationFailed
from hr_portal.employees import service
from hr_portal.employees.models import (
    Department,
    DepartmentInput,
    Employee,
    EmployeeCreate,
    EmployeeQuery,
    EmployeeStatus,
    EmployeeUpdate,
    EmploymentType,
)
from tests import factories
from tests.employees.conftest import actor_of
from tests.factories import PASSWORD, deliver_and_collect, text_body


def names(items) -> set[str]:
    return {f"{e.first_name} {e.last_name}" for e in items}


def listing(run, person, **query):
    items, total = run(service.list_employees, actor=actor_of(person), query=EmployeeQuery(**query), limit=100)
    return items, total


def new_employee(**overrides) -> EmployeeCreate:
    body = {"first_name": "Nina", "last_name": "Neu", "email": factories.unique_email("nina")}
    body.update(overrides)
    return EmployeeCreate(**body)


def fresh(model, ident):
    with Session(get_engine()) as s:
        obj = s.get(model, ident)
        s.expunge_all()
        return obj


# =============================================================================== scope


def test_admin_and_hr_manager_see_the_whole_organization_in_the_directory(run, tree, foreigner):
    for role in ("admin", "hr_manager"):
        items, total = listing(run, tree[role])
        assert total == 7
        assert {e.id for e in items} == {p.employee_id for p in tree.values()}


def test_manager_sees_self_and_direct_reports_only(run, tree, foreigner):
    items, total = listing(run, tree["manager"])
    assert {e.id for e in items} == {tree[k].employee_id for k in ("manager", "employee", "lead")}
    assert total == 3  # not the skip-level junior, not the outsider, not another organization


def test_employee_sees_only_themselves(run, tree, foreigner):
    items, total = listing(run, tree["employee"])
    assert [e.id for e in items] == [tree["employee"].employee_id] and total == 1


def test_detail_outside_scope_or_of_another_organization_is_not_found(run, tree, foreigner):
    manager = actor_of(tree["manager"])
    assert run(service.get_employee, actor=manager, employee_id=tree["lead"].employee_id).id == tree["lead"].employee_id
    for target in (tree["junior"], tree["outsider"], tree["admin"], foreigner):
        with pytest.raises(NotFound):
            run(service.get_employee, actor=manager, employee_id=target.employee_id)
    with pytest.raises(NotFound):
        run(service.get_employee, actor=actor_of(tree["admin"]), employee_id=foreigner.employee_id)
    with pytest.raises(NotFound):
        run(service.get_employee, actor=actor_of(tree["employee"]), employee_id=tree["manager"].employee_id)


def test_personal_details_are_shown_to_hr_and_the_person_but_not_their_manager(run, tree):
    run(service.update_employee, actor=actor_of(tree["employee"]), employee_id=tree["employee"].employee_id,
        data=EmployeeUpdate(city="Lyon", address_line1="3 Rue Haute"))
    eid = tree["employee"].employee_id
    assert run(service.get_employee, actor=actor_of(tree["hr_manager"]), employee_id=eid).city == "Lyon"
    assert run(service.get_employee, actor=actor_of(tree["employee"]), employee_id=eid).address_line1 == "3 Rue Haute"
    seen_by_manager = run(service.get_employee, actor=actor_of(tree["manager"]), employee_id=eid)
    assert seen_by_manager.city is None and seen_by_manager.address_line1 is None


# =============================================================================== search, filters, sort, pages


def test_search_matches_name_email_and_code_case_insensitively_and_by_every_word(run, tree):
    hr = tree["hr_manager"]
    assert names(listing(run, hr, search="LENA")[0]) == {"Lena Lead"}
    assert names(listing(run, hr, search="lead")[0]) == {"Lena Lead"}
    assert names(listing(run, hr, search=tree["junior"].email.upper())[0]) == {"Jon Junior"}
    code = fresh(Employee, tree["outsider"].employee_id).employee_code
    assert names(listing(run, hr, search=code.lower())[0]) == {"Olga Outside"}
    assert names(listing(run, hr, search="jon junior")[0]) == {"Jon Junior"}
    assert listing(run, hr, search="jon outside")[1] == 0


def test_search_treats_like_wildcards_as_plain_text(run, tree):
    hr = tree["hr_manager"]
    assert listing(run, hr, search="%")[1] == 0
    assert listing(run, hr, search="ad_")[1] == 0  # as a wildcard it would match "admin..."
    assert listing(run, hr, search="hr_")[1] == 1  # the hr_manager's email, literally


def test_filters_by_department_manager_status_type_and_company(run, tree, db, org):
    dept = factories.create_department(db, org, name="Research")
    for key in ("lead", "junior"):
        emp = db.get(Employee, tree[key].employee_id)
        emp.department_id = dept.id
        db.add(emp)
    junior = db.get(Employee, tree["junior"].employee_id)
    junior.employment_type = EmploymentType.intern
    outsider = db.get(Employee, tree["outsider"].employee_id)
    outsider.status = EmployeeStatus.inactive
    db.commit()
    hr = tree["hr_manager"]
    assert names(listing(run, hr, department_id=dept.id)[0]) == {"Lena Lead", "Jon Junior"}
    assert names(listing(run, hr, manager_id=tree["lead"].employee_id)[0]) == {"Jon Junior"}
    assert names(listing(run, hr, status="inactive")[0]) == {"Olga Outside"}
    assert listing(run, hr, status="active")[1] == 6
    assert names(listing(run, hr, employment_type="intern")[0]) == {"Jon Junior"}
    assert listing(run, hr, company_id=org.company.id)[1] == 7
    assert listing(run, hr, company_id=org.company.id + 999)[1] == 0


def test_sorting_and_pagination_are_stable_and_count_everything(run, tree):
    actor = actor_of(tree["admin"])
    by_first = [e.first_name for e in run(service.list_employees, actor=actor,
                                          query=EmployeeQuery(sort_by="firstName"), limit=100)[0]]
    assert by_first == sorted(by_first)
    desc = [e.first_name for e in run(service.list_employees, actor=actor,
                                      query=EmployeeQuery(sort_by="firstName", sort_order="desc"), limit=100)[0]]
    assert desc == list(reversed(by_first))
    pages = [run(service.list_employees, actor=actor, query=EmployeeQuery(), page=p, limit=3) for p in (1, 2, 3)]
    ids = [e.id for items, _ in pages for e in items]
    assert [total for _, total in pages] == [7, 7, 7]
    assert len(ids) == 7 and len(set(ids)) == 7


def test_list_rejects_a_page_size_over_one_hundred(run, tree):
    with pytest.raises(ValidationFailed):
        run(service.list_employees, actor=actor_of(tree["admin"]), query=EmployeeQuery(), limit=101)


# =============================================================================== create


def test_creating_an_employee_creates_the_account_and_mails_a_single_use_welcome_link(run, tree, outbox):
    data = new_employee(email="Nina.Neu@Example.com", department_id=None, designation="Analyst",
                        manager_id=tree["manager"].employee_id)
    result = run(service.create_employee, actor=actor_of(tree["hr_manager"]), data=data)
    emp = result.employee
    assert (emp.email, emp.status, emp.role, emp.manager_id) == ("nina.neu@example.com", "active", Role.employee,
                                                                 tree["manager"].employee_id)
    assert re.fullmatch(r"EMP-\d{4}", emp.employee_code)
    stored = fresh(Employee, emp.id)
    user = fresh(User, stored.user_id)
    assert user.email == "nina.neu@example.com" and user.password_hash is None and user.is_active

    mails = deliver_and_collect(outbox, to="nina.neu@example.com", expect=1)
    assert len(mails) == 1 and "Welcome" in mails[0]["Subject"]
    link = re.search(r"https?://\S+/reset-password\?token=[\w\-]+", text_body(mails[0])).group(0)
    token = link.split("token=")[1]
    with Session(get_engine()) as s:
        assert s.exec(select(PasswordResetToken.purpose).where(PasswordResetToken.user_id == user.id)).one() == "welcome"
    run(auth_service.confirm_password_reset, token=token, new_password="Fresh-Start-77")
    assert run(auth_service.login, email="nina.neu@example.com", password="Fresh-Start-77").user.employee_id == emp.id
    with pytest.raises(ValidationFailed):  # single-use
        run(auth_service.confirm_password_reset, token=token, new_password="Second-Try-88")


def test_create_refuses_a_duplicate_email_or_employee_code_with_a_clear_message(run, tree):
    hr = actor_of(tree["hr_manager"])
    with pytest.raises(Conflict, match="already exists") as exc:
        run(service.create_employee, actor=hr, data=new_employee(email=tree["employee"].email.upper()))
    assert exc.value.details[0]["field"] == "email"
    code = fresh(Employee, tree["employee"].employee_id).employee_code
    with pytest.raises(Conflict, match="employee code") as exc:
        run(service.create_employee, actor=hr, data=new_employee(employee_code=code))
    assert exc.value.details[0]["field"] == "employeeCode"


def test_create_refuses_an_email_used_by_an_account_of_another_organization(run, tree, foreigner):
    with pytest.raises(Conflict) as exc:
        run(service.create_employee, actor=actor_of(tree["admin"]), data=new_employee(email=foreigner.email))
    assert "another account" in exc.value.message and "Org B" not in exc.value.message


def test_only_hr_creates_employees(run, tree):
    for role in ("manager", "employee"):
        with pytest.raises(Forbidden):
            run(service.create_employee, actor=actor_of(tree[role]), data=new_employee())


def test_only_an_admin_grants_the_admin_role(run, tree):
    with pytest.raises(Forbidden, match="Only an administrator"):
        run(service.create_employee, actor=actor_of(tree["hr_manager"]), data=new_employee(role=Role.admin))
    created = run(service.create_employee, actor=actor_of(tree["admin"]), data=new_employee(role=Role.admin))
    assert created.employee.role == Role.admin
    with pytest.raises(Forbidden):
        run(service.update_employee, actor=actor_of(tree["hr_manager"]), employee_id=tree["manager"].employee_id,
            data=EmployeeUpdate(role=Role.admin))
    with pytest.raises(Forbidden):  # nor demotes one
        run(service.update_employee, actor=actor_of(tree["hr_manager"]), employee_id=tree["admin"].employee_id,
            data=EmployeeUpdate(role=Role.employee))


def test_role_changes_are_audited_and_nobody_changes_their_own_role(run, tree):
    run(service.update_employee, actor=actor_of(tree["hr_manager"]), employee_id=tree["employee"].employee_id,
        data=EmployeeUpdate(role=Role.hr_manager))
    assert fresh(User, tree["employee"].user_id).role == Role.hr_manager
    with Session(get_engine()) as s:
        entry = s.exec(select(AuditLog).where(AuditLog.action == "employee.role_changed",
                                              AuditLog.entity_id == tree["employee"].employee_id)).one()
    assert entry.changes["role"] == ["employee", "hr_manager"] and entry.actor_user_id == tree["hr_manager"].user_id
    with pytest.raises(Forbidden, match="your own role"):
        run(service.update_employee, actor=actor_of(tree["admin"]), employee_id=tree["admin"].employee_id,
            data=EmployeeUpdate(role=Role.employee))


def test_create_validates_names_department_and_manager(run, tree, db, org):
    hr = actor_of(tree["hr_manager"])
    with pytest.raises(ValidationFailed):
        run(service.create_employee, actor=hr, data=new_employee(email="not-an-email"))
    with pytest.raises(ValidationFailed, match="does not exist"):
        run(service.create_employee, actor=hr, data=new_employee(manager_id=999999))
    archived = factories.create_department(db, org, name="Old")
    archived.archived = True
    db.add(archived)
    db.commit()
    with pytest.raises(ValidationFailed, match="archived"):
        run(service.create_employee, actor=hr, data=new_employee(department_id=archived.id))


# =============================================================================== update rules


def test_employee_changes_own_phone_and_address(run, tree):
    me = tree["employee"]
    result = run(service.update_employee, actor=actor_of(me), employee_id=me.employee_id,
                 data=EmployeeUpdate(phone="+49 30 1234567", address_line1="Hauptstr. 1", city="Berlin",
                                     postal_code="10115", country="Germany"))
    assert result.employee.phone == "+49 30 1234567" and result.employee.city == "Berlin"


def test_employee_cannot_change_any_other_field_of_their_own_record(run, tree):
    me = tree["employee"]
    before = fresh(Employee, me.employee_id)
    for data in (EmployeeUpdate(designation="CEO"), EmployeeUpdate(first_name="Mallory"),
                 EmployeeUpdate(manager_id=None), EmployeeUpdate(role=Role.admin),
                 EmployeeUpdate(phone="+1 555 0100", email="me@evil.example")):
        with pytest.raises(Forbidden):
            run(service.update_employee, actor=actor_of(me), employee_id=me.employee_id, data=data)
    after = fresh(Employee, me.employee_id)
    assert (after.designation, after.first_name, after.manager_id, after.phone, after.email) == (
        before.designation, before.first_name, before.manager_id, before.phone, before.email)
    assert fresh(User, me.user_id).role == Role.employee


def test_sending_back_unchanged_values_is_not_an_error_for_self_service(run, tree):
    me = tree["employee"]
    emp = fresh(Employee, me.employee_id)
    result = run(service.update_employee, actor=actor_of(me), employee_id=me.employee_id,
                 data=EmployeeUpdate(first_name=emp.first_name, last_name=emp.last_name, email=emp.email,
                                     role=Role.employee, phone="+1 555 0199"))
    assert result.employee.phone == "+1 555 0199"


def test_manager_cannot_edit_a_direct_report_and_nobody_edits_out_of_scope(run, tree):
    with pytest.raises(Forbidden):
        run(service.update_employee, actor=actor_of(tree["manager"]), employee_id=tree["employee"].employee_id,
            data=EmployeeUpdate(phone="123"))
    with pytest.raises(NotFound):
        run(service.update_employee, actor=actor_of(tree["employee"]), employee_id=tree["outsider"].employee_id,
            data=EmployeeUpdate(phone="123"))


def test_hr_update_is_partial_and_recorded_in_the_change_history(run, tree):
    hr = tree["hr_manager"]
    target = tree["outsider"]
    run(service.update_employee, actor=actor_of(hr), employee_id=target.employee_id,
        data=EmployeeUpdate(designation="Buyer", manager_id=tree["manager"].employee_id))
    emp = fresh(Employee, target.employee_id)
    assert emp.designation == "Buyer" and emp.last_name == "Outside" and emp.manager_id == tree["manager"].employee_id
    history = run(service.employee_history, actor=actor_of(hr), employee_id=target.employee_id)
    latest = history[0]
    assert latest["action"] == "Updated" and latest["by"] == "HrManager Tester"
    changes = {c["field"]: (c["old"], c["new"]) for c in latest["changes"]}
    assert changes["Designation"] == ("—", "Buyer")
    assert changes["Manager"] == ("Admin Tester", "Manager Tester")


def test_history_is_for_hr_and_the_person_only(run, tree):
    eid = tree["employee"].employee_id
    assert run(service.employee_history, actor=actor_of(tree["employee"]), employee_id=eid) == []
    with pytest.raises(Forbidden):
        run(service.employee_history, actor=actor_of(tree["manager"]), employee_id=eid)


def test_email_change_moves_the_sign_in_email_too(run, tree):
    run(service.update_employee, actor=actor_of(tree["admin"]), employee_id=tree["employee"].employee_id,
        data=EmployeeUpdate(email="New.Address@Example.com"))
    assert fresh(User, tree["employee"].user_id).email == "new.address@example.com"
    run(auth_service.login, email="new.address@example.com", password=PASSWORD)


# =============================================================================== reporting line


def test_a_cycle_in_the_reporting_line_is_refused(run, tree):
    hr = actor_of(tree["hr_manager"])
    # admin <- manager <- lead <- junior: making junior the manager's manager closes a loop.
    with pytest.raises(ValidationFailed, match="cycle"):
        run(service.update_employee, actor=hr, employee_id=tree["manager"].employee_id,
            data=EmployeeUpdate(manager_id=tree["junior"].employee_id))
    with pytest.raises(ValidationFailed, match="own manager"):
        run(service.update_employee, actor=hr, employee_id=tree["lead"].employee_id,
            data=EmployeeUpdate(manager_id=tree["lead"].employee_id))
    assert fresh(Employee, tree["manager"].employee_id).manager_id == tree["admin"].employee_id


def test_getting_direct_reports_grants_the_manager_role_and_says_so(run, tree):
    result = run(service.update_employee, actor=actor_of(tree["hr_manager"]), employee_id=tree["junior"].employee_id,
                 data=EmployeeUpdate(manager_id=tree["outsider"].employee_id))
    assert fresh(User, tree["outsider"].user_id).role == Role.manager
    assert any("now has the manager role" in n for n in result.notes)
    with Session(get_engine()) as s:
        entry = s.exec(select(AuditLog).where(AuditLog.action == "employee.role_changed",
                                              AuditLog.entity_id == tree["outsider"].employee_id)).one()
    assert entry.changes["role"] == ["employee", "manager"]


def test_a_deactivated_person_cannot_become_a_manager(run, tree):
    hr = actor_of(tree["admin"])
    run(service.deactivate_employee, actor=hr, employee_id=tree["outsider"].employee_id)
    with pytest.raises(ValidationFailed, match="deactivated"):
        run(service.update_employee, actor=hr, employee_id=tree["junior"].employee_id,
            data=EmployeeUpdate(manager_id=tree["outsider"].employee_id))


def test_reporting_line_shows_managers_above_and_reports_below_within_scope(run, tree):
    line = run(service.reporting_line, actor=actor_of(tree["hr_manager"]), employee_id=tree["lead"].employee_id)
    assert [p["name"] for p in line["above"]] == ["Manager Tester", "Admin Tester"]
    assert [p["name"] for p in line["reports"]] == ["Jon Junior"]
    mine = run(service.reporting_line, actor=actor_of(tree["employee"]), employee_id=tree["employee"].employee_id)
    assert [(p["name"], p["linkable"]) for p in mine["above"]] == [("Manager Tester", False)]


# =============================================================================== deactivate / reactivate


def test_deactivation_ends_sign_in_sessions_and_tokens_but_keeps_history(run, tree):
    target = tree["outsider"]
    token, _ = run(auth_service.create_ui_session, email=target.email, password=PASSWORD)
    access = run(auth_service.login, email=target.email, password=PASSWORD).access_token
    run(service.deactivate_employee, actor=actor_of(tree["hr_manager"]), employee_id=target.employee_id)

    assert run(auth_service.actor_from_ui_session, token=token) is None
    assert not factories.access_token_accepted(access)
    with pytest.raises(Unauthorized):
        run(auth_service.login, email=target.email, password=PASSWORD)
    user = fresh(User, target.user_id)
    assert user.is_active is False and user.token_version == 2
    assert fresh(Employee, target.employee_id).status == EmployeeStatus.inactive
    history = run(service.employee_history, actor=actor_of(tree["hr_manager"]), employee_id=target.employee_id)
    assert history[0]["action"] == "Deactivated"
    assert target.employee_id not in {p["id"] for p in run(service.search_people, actor=actor_of(tree["admin"]),
                                                           text="Olga")}


def test_deactivation_requires_reports_to_move_first_or_moves_them_to_the_manager(run, tree):
    hr = actor_of(tree["hr_manager"])
    with pytest.raises(Conflict, match="direct report"):
        run(service.deactivate_employee, actor=hr, employee_id=tree["lead"].employee_id)
    assert fresh(Employee, tree["lead"].employee_id).status == EmployeeStatus.active
    plan = run(service.deactivation_plan, actor=hr, employee_id=tree["lead"].employee_id)
    assert plan["reports"] == ["Jon Junior"] and plan["manager_name"] == "Manager Tester"
    result = run(service.deactivate_employee, actor=hr, employee_id=tree["lead"].employee_id,
                 move_reports_to_manager=True)
    assert fresh(Employee, tree["junior"].employee_id).manager_id == tree["manager"].employee_id
    assert any("moved to Manager Tester" in n for n in result.notes)


def test_deactivation_rules_self_admin_and_twice(run, tree):
    with pytest.raises(Forbidden):
        run(service.deactivate_employee, actor=actor_of(tree["hr_manager"]), employee_id=tree["hr_manager"].employee_id)
    with pytest.raises(Forbidden):
        run(service.deactivate_employee, actor=actor_of(tree["hr_manager"]), employee_id=tree["admin"].employee_id)
    with pytest.raises(Forbidden):
        run(service.deactivate_employee, actor=actor_of(tree["manager"]), employee_id=tree["employee"].employee_id)
    run(service.deactivate_employee, actor=actor_of(tree["admin"]), employee_id=tree["junior"].employee_id)
    with pytest.raises(Conflict, match="already"):
        run(service.deactivate_employee, actor=actor_of(tree["admin"]), employee_id=tree["junior"].employee_id)


def test_deactivating_a_department_head_clears_the_head(run, tree, db, org):
    dept = factories.create_department(db, org, name="Ops")
    dept.head_employee_id = tree["outsider"].employee_id
    db.add(dept)
    db.commit()
    result = run(service.deactivate_employee, actor=actor_of(tree["admin"]), employee_id=tree["outsider"].employee_id)
    assert fresh(Department, dept.id).head_employee_id is None
    assert any("no longer has a head" in n for n in result.notes)


def test_reactivation_lets_the_person_sign_in_again(run, tree):
    target = tree["outsider"]
    admin = actor_of(tree["admin"])
    run(service.deactivate_employee, actor=admin, employee_id=target.employee_id)
    run(service.reactivate_employee, actor=admin, employee_id=target.employee_id)
    assert run(auth_service.login, email=target.email, password=PASSWORD).user.employee_id == target.employee_id
    with pytest.raises(Conflict):
        run(service.reactivate_employee, actor=admin, employee_id=target.employee_id)


def test_status_in_an_update_goes_through_the_deactivation_rules(run, tree):
    hr = actor_of(tree["hr_manager"])
    with pytest.raises(Conflict, match="direct report"):
        run(service.update_employee, actor=hr, employee_id=tree["lead"].employee_id,
            data=EmployeeUpdate(status=EmployeeStatus.inactive))
    run(service.update_employee, actor=hr, employee_id=tree["junior"].employee_id,
        data=EmployeeUpdate(status=EmployeeStatus.inactive, designation="Former intern"))
    junior = fresh(Employee, tree["junior"].employee_id)
    assert junior.status == EmployeeStatus.inactive and junior.designation == "Former intern"
    assert fresh(User, tree["junior"].user_id).is_active is False


# =============================================================================== departments


def test_departments_create_rename_head_archive_with_headcount(run, tree):
    hr = actor_of(tree["hr_manager"])
    dept = run(service.create_department, actor=hr, data=DepartmentInput(name="Finance"))
    with pytest.raises(Conflict, match="already exists"):
        run(service.create_department, actor=hr, data=DepartmentInput(name="finance"))
    dept = run(service.update_department, actor=hr, department_id=dept.id,
               data=DepartmentInput(name="Finance & Legal", head_employee_id=tree["outsider"].employee_id))
    assert (dept.name, dept.head_name) == ("Finance & Legal", "Olga Outside")
    run(service.update_employee, actor=hr, employee_id=tree["junior"].employee_id,
        data=EmployeeUpdate(department_id=dept.id))
    listed = {d.name: d for d in run(service.list_departments, actor=hr)}
    assert listed["Finance & Legal"].headcount == 1
    with pytest.raises(Conflict, match="active people"):
        run(service.set_department_archived, actor=hr, department_id=dept.id, archived=True)
    run(service.update_employee, actor=hr, employee_id=tree["junior"].employee_id, data=EmployeeUpdate(department_id=None))
    archived = run(service.set_department_archived, actor=hr, department_id=dept.id, archived=True)
    assert archived.archived
    assert "Finance & Legal" not in {d.name for d in run(service.list_departments, actor=hr, include_archived=False)}
    with pytest.raises(ValidationFailed, match="archived"):
        run(service.update_employee, actor=hr, employee_id=tree["junior"].employee_id,
            data=EmployeeUpdate(department_id=dept.id))


def test_only_hr_manages_departments_and_other_organizations_are_not_found(run, tree, foreigner):
    dept = run(service.create_department, actor=actor_of(tree["admin"]), data=DepartmentInput(name="Legal"))
    with pytest.raises(Forbidden):
        run(service.create_department, actor=actor_of(tree["manager"]), data=DepartmentInput(name="Mine"))
    with pytest.raises(NotFound):
        run(service.update_department, actor=actor_of(foreigner), department_id=dept.id,
            data=DepartmentInput(name="Stolen"))


# =============================================================================== org chart


def test_org_chart_for_hr_starts_at_the_top_and_expands(run, tree):
    hr = actor_of(tree["hr_manager"])
    roots = run(service.org_chart_roots, actor=hr)
    assert [(n["name"], n["reports"]) for n in roots] == [("Admin Tester", 3)]
    children = run(service.org_chart_children, actor=hr, employee_id=tree["admin"].employee_id)
    assert {n["name"] for n in children} == {"HrManager Tester", "Manager Tester", "Olga Outside"}
    path = run(service.org_chart_path, actor=hr, employee_id=tree["junior"].employee_id)
    assert path == [tree[k].employee_id for k in ("admin", "manager", "lead", "junior")]


def test_org_chart_for_a_manager_is_their_own_scope(run, tree):
    manager = actor_of(tree["manager"])
    roots = run(service.org_chart_roots, actor=manager)
    assert [(n["name"], n["reports"]) for n in roots] == [("Manager Tester", 2)]
    kids = run(service.org_chart_children, actor=manager, employee_id=tree["manager"].employee_id)
    lead = next(n for n in kids if n["name"] == "Lena Lead")
    assert lead["reports"] == 0  # the skip level is outside a manager's scope
    with pytest.raises(NotFound):
        run(service.org_chart_children, actor=manager, employee_id=tree["admin"].employee_id)


def test_deactivated_people_leave_the_org_chart(run, tree):
    admin = actor_of(tree["admin"])
    run(service.deactivate_employee, actor=admin, employee_id=tree["outsider"].employee_id)
    children = run(service.org_chart_children, actor=admin, employee_id=tree["admin"].employee_id)
    assert "Olga Outside" not in {n["name"] for n in children}


# =============================================================================== races


@pytest.mark.race
def test_two_opposite_manager_assignments_at_once_cannot_build_a_cycle(run, tree):
    """lead -> outsider and outsider -> lead at the same moment: exactly one may succeed."""
    import threading

    hr = actor_of(tree["hr_manager"])
    a, b = tree["lead"].employee_id, tree["outsider"].employee_id
    barrier = threading.Barrier(2)
    outcomes: list[object] = [None, None]

    def assign(i: int, who: int, boss: int) -> None:
        barrier.wait(10)
        try:
            run(service.update_employee, actor=hr, employee_id=who, data=EmployeeUpdate(manager_id=boss))
            outcomes[i] = "ok"
        except ValidationFailed as exc:
            outcomes[i] = exc

    threads = [threading.Thread(target=assign, args=(0, a, b)), threading.Thread(target=assign, args=(1, b, a))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert outcomes.count("ok") == 1, outcomes
    lead, outsider = fresh(Employee, a), fresh(Employee, b)
    assert not (lead.manager_id == b and outsider.manager_id == a)


@pytest.mark.race
def test_concurrent_creates_with_one_email_create_exactly_one_employee(run, tree):
    import threading

    hr = actor_of(tree["hr_manager"])
    n = 6
    barrier = threading.Barrier(n)
    outcomes: list[object] = [None] * n

    def create(i: int) -> None:
        barrier.wait(10)
        try:
            run(service.create_employee, actor=hr, data=new_employee(email="same@example.com"),
                send_welcome_mail=False)
            outcomes[i] = "ok"
        except Conflict as exc:
            outcomes[i] = exc

    threads = [threading.Thread(target=create, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert outcomes.count("ok") == 1, outcomes
    assert all(isinstance(o, Conflict) for o in outcomes if o != "ok")
    with Session(get_engine()) as s:
        assert s.exec(select(func.count()).select_from(Employee).where(Employee.email == "same@example.com")).one() == 1
