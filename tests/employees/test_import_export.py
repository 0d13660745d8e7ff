"""CSV import (preview, apply, only-valid rows, updates by email) and CSV export of the directory."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import time

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from hr_portal.auth.models import Role, User
from hr_portal.core.audit import AuditLog
from hr_portal.core.db import get_engine
from hr_portal.core.errors import Conflict, Forbidden, ValidationFailed
from hr_portal.core.mail import OutboxEmail
from hr_portal.employees import import_export as ie
from hr_portal.employees import service
from hr_portal.employees.models import Department, Employee, EmployeeImport, EmployeeQuery, EmploymentType
from tests.employees.conftest import actor_of

HEADER = "firstName,lastName,email,employeeCode,department,managerEmail,designation,employmentType,dateOfJoining\n"


def count(model, *where) -> int:
    with Session(get_engine()) as s:
        return s.exec(select(func.count()).select_from(model).where(*where)).one()


def employee_by_email(email: str) -> Employee | None:
    with Session(get_engine()) as s:
        emp = s.exec(select(Employee).where(func.lower(Employee.email) == email.lower())).first()
        s.expunge_all()
        return emp


def preview(run, person, text: str, filename: str = "people.csv") -> dict:
    return run(ie.preview_import, actor=actor_of(person), filename=filename, content=text.encode("utf-8"))


def rows_of(run, person, import_id: int, action: str | None = None) -> list[dict]:
    rows, _ = run(ie.import_rows, actor=actor_of(person), import_id=import_id, action=action, limit=200)
    return rows


def bad_file(tree) -> str:
    manager = tree["manager"].email
    return HEADER + "\n".join([
        f"Ann,Able,ann@example.com,,Research,{manager},Analyst,full_time,2025-02-01",      # 2 ok (new dept)
        "Bob,Baker,bob@example.com,,Research,ann@example.com,Assistant,intern,2025-03-01",  # 3 ok, manager in file
        ",Nameless,nameless@example.com,,,,,,",                                             # 4 first name missing
        "Cat,Cole,not-an-email,,,,,,",                                                      # 5 bad email
        "Dan,Dup,ann@example.com,,,,,,",                                                    # 6 duplicate email
        "Eve,Early,eve@example.com,,,,,weekly,2025-13-01",                                  # 7 type and date
        "Fay,Far,fay@example.com,,,nobody@example.com,,,",                                  # 8 unknown manager
        "Gus,Gap,gus@example.com,,,nameless@example.com,,,",                                # 9 manager row is bad
    ]) + "\n"


# =============================================================================== preview


def test_preview_of_a_file_with_bad_rows_lists_each_problem_and_writes_nothing(run, tree):
    before = count(Employee)
    summary = preview(run, tree["hr_manager"], bad_file(tree))
    assert (summary["total"], summary["create"], summary["error"]) == (8, 2, 6)
    assert summary["newDepartments"] == ["Research"]
    errors = {r["line"]: r["detail"] for r in rows_of(run, tree["hr_manager"], summary["id"], "error")}
    assert "First name is required" in errors[4]
    assert "not a valid email" in errors[5]
    assert "appears again (first on line 2)" in errors[6]
    assert "Employment type 'weekly'" in errors[7] and "not a real date" in errors[7]
    assert "nobody@example.com" in errors[8]
    assert "line 4" in errors[9] and "has errors" in errors[9]
    creates = rows_of(run, tree["hr_manager"], summary["id"], "create")
    assert [r["email"] for r in creates] == ["ann@example.com", "bob@example.com"]
    assert "Research (new department)" in creates[0]["detail"]
    assert count(Employee) == before and count(Department, Department.name == "Research") == 0


def test_apply_with_errors_writes_nothing_unless_only_valid_rows_are_chosen(run, tree, outbox):
    hr = actor_of(tree["hr_manager"])
    summary = preview(run, tree["hr_manager"], bad_file(tree))
    before = count(Employee)
    committed: list[dict] = []
    with pytest.raises(ValidationFailed, match="6 row"):
        run(ie.apply_import, actor=hr, import_id=summary["id"], on_committed=committed.append)
    assert committed == []
    assert count(Employee) == before and count(Department, Department.name == "Research") == 0

    seen: list[tuple[int, int]] = []
    result = run(ie.apply_import, actor=hr, import_id=summary["id"], only_valid=True,
                 progress=lambda done, total: seen.append((done, total)))
    assert result["result"]["created"] == 2 and result["result"]["skipped"] == 6
    assert seen[-1][0] == seen[-1][1] > 0
    ann, bob = employee_by_email("ann@example.com"), employee_by_email("bob@example.com")
    assert ann.manager_id == tree["manager"].employee_id and bob.manager_id == ann.id
    assert bob.employment_type == EmploymentType.intern and str(bob.date_of_joining) == "2025-03-01"
    with Session(get_engine()) as s:
        dept = s.exec(select(Department).where(Department.name == "Research")).one()
        assert ann.department_id == dept.id == bob.department_id
        assert s.get(User, ann.user_id).role == Role.manager  # ann got a direct report
        assert s.get(User, bob.user_id).password_hash is None
        welcome = s.exec(select(OutboxEmail.to_address).where(OutboxEmail.kind == "welcome")).all()
    assert sorted(welcome) == ["ann@example.com", "bob@example.com"]
    history = run(service.employee_history, actor=hr, employee_id=bob.id)
    assert history[-1]["action"] == "Created" and history[-1]["note"] == "CSV import"


def test_an_import_is_applied_once(run, tree):
    hr = actor_of(tree["admin"])
    summary = preview(run, tree["admin"], HEADER + "Zoe,Zed,zoe@example.com,,,,,,\n")
    committed: list[dict] = []
    run(ie.apply_import, actor=hr, import_id=summary["id"], send_welcome=False, on_committed=committed.append)
    assert [c["result"]["created"] for c in committed] == [1]  # told once, after the commit
    with pytest.raises(Conflict, match="already been applied"):
        run(ie.apply_import, actor=hr, import_id=summary["id"])
    assert count(Employee, Employee.email == "zoe@example.com") == 1


def test_existing_emails_update_only_the_given_fields_and_unchanged_rows_are_reported(run, tree):
    hr = actor_of(tree["hr_manager"])
    junior, lead = employee_by_email(tree["junior"].email), employee_by_email(tree["lead"].email)
    text = ("email,designation,phone,managerEmail\n"
            f"{tree['junior'].email.upper()},Platform Engineer,+49 30 555,{tree['outsider'].email}\n"
            f"{tree['lead'].email},{lead.designation or ''},,\n")
    summary = preview(run, tree["hr_manager"], text)
    assert (summary["update"], summary["unchanged"], summary["error"]) == (1, 1, 0)
    update_row = rows_of(run, tree["hr_manager"], summary["id"], "update")[0]
    assert "Designation: — → Platform Engineer" in update_row["detail"]
    assert f"Manager: Lena Lead → {tree['outsider'].email}" in update_row["detail"]
    run(ie.apply_import, actor=hr, import_id=summary["id"])
    after = employee_by_email(tree["junior"].email)
    assert (after.designation, after.phone, after.manager_id) == ("Platform Engineer", "+49 30 555",
                                                                  tree["outsider"].employee_id)
    assert (after.first_name, after.last_name) == (junior.first_name, junior.last_name)
    with Session(get_engine()) as s:
        assert s.get(User, tree["outsider"].user_id).role == Role.manager


def test_import_refuses_a_reporting_line_cycle(run, tree):
    # The manager would report to the junior, who (via lead) reports to the manager.
    text = f"email,managerEmail\n{tree['manager'].email},{tree['junior'].email}\n"
    summary = preview(run, tree["hr_manager"], text)
    assert summary["error"] == 1
    assert "cycle" in rows_of(run, tree["hr_manager"], summary["id"])[0]["detail"]
    # A cycle made entirely of new rows is refused too.
    text = HEADER + "Al,One,al@example.com,,,bo@example.com,,,\nBo,Two,bo@example.com,,,al@example.com,,,\n"
    assert preview(run, tree["hr_manager"], text)["error"] == 2


def test_import_role_rules_match_the_form(run, tree):
    text = "firstName,lastName,email,role\nAda,Admin,ada@example.com,admin\nHal,Hr,hal@example.com,HR Manager\n"
    summary = preview(run, tree["hr_manager"], text)
    rows = {r["email"]: r for r in rows_of(run, tree["hr_manager"], summary["id"])}
    assert rows["ada@example.com"]["action"] == "error" and "Only an administrator" in rows["ada@example.com"]["detail"]
    assert rows["hal@example.com"]["action"] == "create"
    mine = preview(run, tree["admin"], f"email,role\n{tree['admin'].email},employee\n")
    assert mine["error"] == 1


def test_import_codes_must_be_unique_in_the_file_and_the_organization(run, tree):
    code = employee_by_email(tree["junior"].email).employee_code
    text = HEADER + f"Al,One,al@example.com,{code},,,,,\nBo,Two,bo@example.com,X-1,,,,,\nCy,Three,cy@example.com,X-1,,,,,\n"
    summary = preview(run, tree["hr_manager"], text)
    errors = {r["line"]: r["detail"] for r in rows_of(run, tree["hr_manager"], summary["id"], "error")}
    assert "belongs to another employee" in errors[2] and "appears again" in errors[4]


def test_generated_codes_skip_codes_given_in_the_same_file(run, tree):
    hr = actor_of(tree["admin"])
    text = HEADER + "Al,One,al@example.com,EMP-0001,,,,,\nBo,Two,bo@example.com,,,,,,\n"
    summary = preview(run, tree["admin"], text)
    run(ie.apply_import, actor=hr, import_id=summary["id"], send_welcome=False)
    assert employee_by_email("bo@example.com").employee_code == "EMP-0002"


def test_semicolons_bom_header_aliases_and_windows_1252_are_understood(run, tree):
    text = "\ufeffFirst Name;Surname;E-mail;Job title;Start date\nJosé;Núñez;jose@example.com;Chef;2024-05-06\n"
    summary = run(ie.preview_import, actor=actor_of(tree["admin"]), filename="x.csv", content=text.encode("utf-8"))
    assert summary["create"] == 1 and summary["ignoredColumns"] == []
    cp = "firstName,lastName,email\nRené,Müller,rene@example.com\n".encode("cp1252")
    assert run(ie.preview_import, actor=actor_of(tree["admin"]), filename="y.csv", content=cp)["create"] == 1


def test_unreadable_files_are_refused_with_a_clear_message(run, tree):
    hr = actor_of(tree["admin"])
    for content, message in ((b"", "empty"), (b"name,phone\nA,1\n", "email"), (b"email\n", "no data rows")):
        with pytest.raises(ValidationFailed, match=message):
            run(ie.preview_import, actor=hr, filename="f.csv", content=content)


def test_only_hr_imports(run, tree):
    with pytest.raises(Forbidden):
        preview(run, tree["manager"], HEADER + "A,B,ab@example.com,,,,,,\n")


def test_another_organization_cannot_see_or_apply_an_import(run, tree, foreigner):
    from hr_portal.core.errors import NotFound

    summary = preview(run, tree["admin"], HEADER + "A,B,ab@example.com,,,,,,\n")
    with pytest.raises(NotFound):
        run(ie.apply_import, actor=actor_of(foreigner), import_id=summary["id"])
    assert count(EmployeeImport, EmployeeImport.status == "previewed") == 1


# =============================================================================== export


def parse(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_export_is_the_filtered_scoped_directory(run, tree):
    text, n = run(ie.export_csv, actor=actor_of(tree["admin"]), query=EmployeeQuery(search="lena"))
    rows = parse(text)
    assert n == 1 and rows[0]["email"] == tree["lead"].email and rows[0]["managerEmail"] == tree["manager"].email
    assert "role" in rows[0] and rows[0]["role"] == "manager"
    text, n = run(ie.export_csv, actor=actor_of(tree["manager"]), query=EmployeeQuery())
    assert n == 3 and "dateOfBirth" not in parse(text)[0] and "role" not in parse(text)[0]
    text, n = run(ie.export_csv, actor=actor_of(tree["employee"]), query=EmployeeQuery())
    assert [r["email"] for r in parse(text)] == [tree["employee"].email]


def test_exported_file_imports_back_without_changes(run, tree):
    hr = actor_of(tree["admin"])
    text, _ = run(ie.export_csv, actor=hr, query=EmployeeQuery())
    summary = run(ie.preview_import, actor=hr, filename="export.csv", content=text.encode())
    assert (summary["unchanged"], summary["error"], summary["create"], summary["update"]) == (7, 0, 0, 0)
    assert summary["ignoredColumns"] == ["status"]


def test_export_neutralizes_formulas_but_keeps_phone_numbers(run, tree):
    hr = actor_of(tree["admin"])
    from hr_portal.employees.models import EmployeeUpdate

    run(service.update_employee, actor=hr, employee_id=tree["junior"].employee_id,
        data=EmployeeUpdate(designation="=HYPERLINK(\"http://evil\")", phone="+49 (30) 123-45"))
    row = parse(run(ie.export_csv, actor=hr, query=EmployeeQuery(search="junior"))[0])[0]
    assert row["designation"].startswith("'=") and row["phone"] == "+49 (30) 123-45"
    # and the guard is undone when the file comes back
    summary = run(ie.preview_import, actor=hr, filename="e.csv",
                  content=run(ie.export_csv, actor=hr, query=EmployeeQuery(search="junior"))[0].encode())
    assert summary["unchanged"] == 1


def test_import_audit_summarizes_the_run(run, tree):
    hr = actor_of(tree["admin"])
    summary = preview(run, tree["admin"], HEADER + "A,B,ab@example.com,,,,,,\n")
    run(ie.apply_import, actor=hr, import_id=summary["id"], send_welcome=False)
    with Session(get_engine()) as s:
        entry = s.exec(select(AuditLog).where(AuditLog.action == "employees.imported")).one()
    assert entry.changes["created"] == 1 and entry.entity_id == summary["id"]


def test_the_demo_csv_in_docs_imports_cleanly_into_the_demo_organization(run, clean_database, outbox, monkeypatch):
    """docs/demo-employees.csv is what a new user tries first (README): every row must be valid."""
    import hr_portal.modules
    from hr_portal.auth.service import get_user_by_email
    from hr_portal.core.config import ROOT_DIR
    from hr_portal.core.db import session_scope
    from hr_portal.seed import seed_demo
    from tests.factories import Person

    # The foundation's people only: the file refers to nothing the other modules' demo data adds.
    every = hr_portal.modules.submodules
    monkeypatch.setattr(hr_portal.modules, "submodules", lambda name: iter(()) if name == "seed" else every(name))
    with session_scope() as s:
        seed_demo(s)
    with Session(get_engine()) as s:
        user = get_user_by_email(s, "hr@acme.example")
        hr = Person(user, s.exec(select(Employee).where(Employee.user_id == user.id)).one(), "")
        s.expunge_all()
    content = (ROOT_DIR / "docs" / "demo-employees.csv").read_bytes()
    summary = run(ie.preview_import, actor=actor_of(hr), filename="demo-employees.csv", content=content)
    assert summary["error"] == 0 and summary["create"] == 40 and summary["update"] == 1
    assert summary["newDepartments"] == ["Customer Success"]
    result = run(ie.apply_import, actor=actor_of(hr), import_id=summary["id"])["result"]
    assert (result["created"], result["updated"], result["departmentsCreated"]) == (40, 1, 1)
    carmen = employee_by_email("carmen.costa@acme.example")
    assert count(Employee, Employee.manager_id == carmen.id) == 8


@pytest.mark.race
def test_two_applies_of_one_import_at_once_write_it_exactly_once(run, tree):
    import threading

    hr = actor_of(tree["admin"])
    summary = preview(run, tree["admin"], HEADER + "".join(f"P{i},Race,race{i}@example.com,,,,,,\n" for i in range(20)))
    barrier = threading.Barrier(2)
    outcomes: list[object] = [None, None]

    def apply(i: int) -> None:
        barrier.wait(10)
        try:
            run(ie.apply_import, actor=hr, import_id=summary["id"], send_welcome=False)
            outcomes[i] = "ok"
        except Conflict as exc:
            outcomes[i] = exc

    threads = [threading.Thread(target=apply, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert outcomes.count("ok") == 1, outcomes
    assert count(Employee, Employee.last_name == "Race") == 20


def test_new_rows_may_report_to_rows_further_down_the_file(run, tree):
    text = HEADER + ("Cid,Three,cid@example.com,,,bea@example.com,,,\n"
                     "Bea,Two,bea@example.com,,,abe@example.com,,,\n"
                     f"Abe,One,abe@example.com,,,{tree['admin'].email},,,\n")
    summary = preview(run, tree["admin"], text)
    assert summary["create"] == 3 and summary["error"] == 0
    run(ie.apply_import, actor=actor_of(tree["admin"]), import_id=summary["id"], send_welcome=False)
    abe, bea, cid = (employee_by_email(f"{n}@example.com") for n in ("abe", "bea", "cid"))
    assert (abe.manager_id, bea.manager_id, cid.manager_id) == (tree["admin"].employee_id, abe.id, bea.id)


# =============================================================================== import = single creates, in bulk


def _ledger_of(employee_id: int) -> list[tuple]:
    from hr_portal.leave.models import LeaveLedger

    with Session(get_engine()) as s:
        return sorted((line.leave_type_id, line.year, str(line.entry_date), line.kind.value, line.amount, line.reason,
                       line.period_key) for line in s.exec(select(LeaveLedger).where(
                           LeaveLedger.employee_id == employee_id)).all())


def _notification_rows_of(user_id: int) -> tuple[list, list]:
    from hr_portal.notifications.models import Notification, NotificationPreference

    with Session(get_engine()) as s:
        prefs = sorted((p.kind, p.channel.value) for p in s.exec(select(NotificationPreference).where(
            NotificationPreference.user_id == user_id)).all())
        notes = sorted((n.kind, n.title) for n in s.exec(select(Notification).where(
            Notification.user_id == user_id)).all())
    return prefs, notes


def _created_entry(employee_id: int) -> dict:
    with Session(get_engine()) as s:
        return s.exec(select(AuditLog.changes).where(AuditLog.action == "employee.created",
                                                     AuditLog.entity_id == employee_id)).one()


def test_an_import_gives_new_people_what_a_single_create_gives_them(run, tree, outbox):
    """Leave entitlements, notification settings, account, audit entry and welcome mail of an imported person
    are those of the same person created with the form (the import's listeners work set-based)."""
    from hr_portal.employees.models import EmployeeCreate
    from hr_portal.notifications import service as notifications

    hr = actor_of(tree["hr_manager"])
    today = dt.datetime.now(dt.UTC).date()
    joinings = {"long": "2020-01-01", "recent": today.replace(day=1).isoformat(), "none": ""}
    singles = {}
    for key, joined in joinings.items():
        data = EmployeeCreate(first_name="Sam", last_name=f"Single{key}", email=f"single-{key}@example.com",
                              designation="Analyst", manager_id=tree["manager"].employee_id,
                              date_of_joining=joined or None)
        run(service.create_employee, actor=hr, data=data)
        singles[key] = employee_by_email(f"single-{key}@example.com")
    text = HEADER + "".join(f"Sam,Imported{key},imported-{key}@example.com,,,{tree['manager'].email},Analyst,,{joined}\n"
                            for key, joined in joinings.items())
    summary = preview(run, tree["hr_manager"], text)
    run(ie.apply_import, actor=hr, import_id=summary["id"])

    for key in joinings:
        single, imported = singles[key], employee_by_email(f"imported-{key}@example.com")
        assert _ledger_of(imported.id) == _ledger_of(single.id), key
        assert _notification_rows_of(imported.user_id) == _notification_rows_of(single.user_id), key
        with Session(get_engine()) as s:
            a, b = s.get(User, single.user_id), s.get(User, imported.user_id)
            assert (b.role, b.is_active, b.token_version, b.password_hash) == (a.role, a.is_active, a.token_version,
                                                                               a.password_hash)
            assert s.get(Employee, imported.id).status == s.get(Employee, single.id).status
        single_entry, imported_entry = _created_entry(single.id), _created_entry(imported.id)
        assert set(imported_entry) - {"source"} == set(single_entry) - {"source"}, key
        assert imported_entry["source"] == "import"
        effective = [[(p.kind, p.channel) for p in run(notifications.get_preferences, actor=actor_of_user(uid))]
                     for uid in (single.user_id, imported.user_id)]
        assert effective[0] == effective[1] and effective[0], key
    assert _ledger_of(employee_by_email("imported-long@example.com").id)  # entitlements were really granted
    with Session(get_engine()) as s:
        subjects = s.exec(select(OutboxEmail.to_address, OutboxEmail.subject).where(OutboxEmail.kind == "welcome")).all()
    by_address = dict(subjects)
    for key in joinings:
        assert by_address[f"imported-{key}@example.com"] == by_address[f"single-{key}@example.com"]


def actor_of_user(user_id: int):
    from hr_portal.auth import service as auth_service

    with Session(get_engine()) as s:
        try:
            return auth_service.actor_for(s, s.get(User, user_id))
        finally:
            s.rollback()


def test_an_import_publishes_one_batch_event_instead_of_one_per_person(run, tree):
    from hr_portal.core import events

    seen: list[tuple[str, dict]] = []

    def listener(name, payload):
        seen.append((name, payload))

    events.subscribe("*", listener)
    try:
        summary = preview(run, tree["admin"], HEADER + "".join(f"P{i},Batch,batch{i}@example.com,,,,,,\n"
                                                               for i in range(5)))
        run(ie.apply_import, actor=actor_of(tree["admin"]), import_id=summary["id"], send_welcome=False)
    finally:
        events.unsubscribe("*", listener)
    names = [n for n, _ in seen if n.startswith("employee")]
    assert names == [events.EMPLOYEES_IMPORTED]
    payload = seen[[n for n, _ in seen].index(events.EMPLOYEES_IMPORTED)][1]
    people = [employee_by_email(f"batch{i}@example.com") for i in range(5)]
    assert sorted(payload["employee_ids"]) == sorted(p.id for p in people)
    assert sorted(payload["user_ids"]) == sorted(p.user_id for p in people)
    assert (payload["organization_id"], payload["import_id"], payload["source"]) == (
        tree["admin"].organization_id, summary["id"], "import")


def test_imported_welcome_mails_are_delivered_after_the_commit_and_their_links_set_a_password(run, tree, outbox):
    from hr_portal.auth import service as auth_service
    from tests.factories import outbox_messages, text_body

    n = 60  # more than one delivery batch (50)
    summary = preview(run, tree["admin"], HEADER + "".join(f"W{i},Welcome,welcome{i}@example.com,,,,,,\n"
                                                           for i in range(n)))
    run(ie.apply_import, actor=actor_of(tree["admin"]), import_id=summary["id"])
    deadline = time.monotonic() + 20  # the scheduler is off in tests: only the after-commit kick delivers
    while len(messages := outbox_messages(outbox)) < n and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(messages) == n
    message = next(m for m in messages if m["To"] == "welcome7@example.com")
    token = re.search(r"/reset-password\?token=([\w\-]+)", text_body(message)).group(1)
    run(auth_service.confirm_password_reset, token=token, new_password="Imported-Start-77")
    signed_in = run(auth_service.login, email="welcome7@example.com", password="Imported-Start-77")
    assert signed_in.user.employee_id == employee_by_email("welcome7@example.com").id
    with pytest.raises(ValidationFailed):  # single-use
        run(auth_service.confirm_password_reset, token=token, new_password="Second-Try-88")


def test_nothing_is_mailed_when_an_import_fails(run, tree, outbox):
    from tests.factories import outbox_messages

    summary = preview(run, tree["admin"], bad_file(tree))
    with pytest.raises(ValidationFailed):
        run(ie.apply_import, actor=actor_of(tree["admin"]), import_id=summary["id"])
    time.sleep(0.5)
    assert outbox_messages(outbox) == [] and count(OutboxEmail) == 0
