"""Leave services: entitlements and accrual, carry-forward and expiry, balances and the ledger, request
rules, cancellation, the approval chain with delegation, allocations, events and live topics."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from hr_portal.auth.models import Role, User
from hr_portal.core import events, live
from hr_portal.core.db import get_engine
from hr_portal.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from hr_portal.employees.models import Employee, EmployeeStatus
from hr_portal.leave import service
from hr_portal.leave.models import Accrual, LeaveLedger, LeaveType, LeaveTypeInput, LedgerKind
from tests import factories
from tests.leave.helpers import NOW, TODAY, actor_of, d, run, update_type


def apply(bundle, who="employee", type_name="Annual", **kw):
    return run(service.apply_leave, actor=bundle["actors"][who], leave_type_id=bundle["types"][type_name].id,
               now=NOW, **kw)


def decide(bundle, leave_id, who="manager", status="approved", **kw):
    return run(service.decide, actor=bundle["actors"][who], leave_id=leave_id, status=status, now=NOW, **kw)


def balance_of(bundle, type_name="Annual", who="employee", year=2030):
    rows = run(service.balances, actor=bundle["actors"][who], year=year)
    return next(r for r in rows if r.leave_type_name == type_name)


def new_type(org_id: int, **values) -> LeaveType:
    with Session(get_engine(), expire_on_commit=False) as s:
        t = LeaveType(organization_id=org_id, **values)
        s.add(t)
        s.commit()
        return t


def ledger_lines(employee_id: int, type_id: int, year: int = 2030) -> list[LeaveLedger]:
    with Session(get_engine()) as s:
        return list(s.exec(select(LeaveLedger).where(LeaveLedger.employee_id == employee_id,
                                                     LeaveLedger.leave_type_id == type_id,
                                                     LeaveLedger.year == year).order_by(LeaveLedger.id)).all())


# ---------------------------------------------------------------- entitlements


def test_default_types_and_upfront_entitlement(leave_org):
    b = balance_of(leave_org)
    assert (b.entitled, b.taken, b.pending, b.available) == (24, 0, 0, 24)
    assert {t for t in leave_org["types"]} == {"Annual", "Sick", "Unpaid", "Compensatory"}
    unpaid = balance_of(leave_org, "Unpaid")
    assert unpaid.entitled == 0 and not unpaid.paid


def test_upfront_entitlement_is_pro_rata_for_someone_joining_mid_year(org, make_person):
    person = make_person(org, date_of_joining=d("2030-07-01"))
    with Session(get_engine(), expire_on_commit=False) as s:
        types = service.ensure_default_types(s, org.id)
        emp = s.get(Employee, person.employee_id)
        service.grant_entitlements(s, emp, today=d("2030-07-01"), types=types)
        s.commit()
    annual = next(t for t in types if t.name == "Annual")
    line = ledger_lines(person.employee_id, annual.id)[0]
    # 184 of 365 days of 24 = 12.1 -> nearest half day
    assert line.amount == 12.0 and "pro rata" in line.reason and "184/365" in line.reason


def test_monthly_accrual_is_pro_rata_for_a_mid_month_joiner(org, make_person):
    person = make_person(org, date_of_joining=d("2030-03-16"))
    t = new_type(org.id, name="Monthly", yearly_entitlement=12.0, accrual=Accrual.monthly)
    with Session(get_engine()) as s:
        emp = s.get(Employee, person.employee_id)
        service.grant_entitlements(s, emp, today=d("2030-05-02"), types=[s.get(LeaveType, t.id)])
        s.commit()
    lines = ledger_lines(person.employee_id, t.id)
    assert [ln.period_key for ln in lines] == ["accrual:2030-03", "accrual:2030-04", "accrual:2030-05"]
    # March: 16 of 31 days of 1 day a month; then whole months
    assert [ln.amount for ln in lines] == [0.52, 1.0, 1.0]
    assert lines[0].entry_date == d("2030-03-16") and "pro rata from joining on 16 Mar 2030" in lines[0].reason


def test_monthly_accrual_adds_up_to_the_yearly_entitlement_exactly(org, make_person):
    person = make_person(org, date_of_joining=d("2020-01-01"))
    t = new_type(org.id, name="Monthly", yearly_entitlement=20.0, accrual=Accrual.monthly)
    with Session(get_engine()) as s:
        emp = s.get(Employee, person.employee_id)
        service.grant_entitlements(s, emp, today=d("2030-12-31"), types=[s.get(LeaveType, t.id)])
        s.commit()
    lines = ledger_lines(person.employee_id, t.id)
    assert len(lines) == 12 and round(sum(ln.amount for ln in lines), 2) == 20.0


def test_entitlement_job_writes_each_period_once_and_previews_first(leave_org):
    monthly = new_type(leave_org["org"].id, name="Monthly", yearly_entitlement=12.0, accrual=Accrual.monthly)
    with Session(get_engine()) as s:
        preview = service.plan_entitlements(s, now=NOW, organization_id=leave_org["org"].id)
        assert {(p.leave_type, p.kind) for p in preview} == {("Monthly", "accrual")}
        assert len(preview) == 4 * 3  # four people, January to March
        s.rollback()
    assert ledger_lines(leave_org["people"]["employee"].employee_id, monthly.id) == []  # preview wrote nothing
    first = run(service.run_entitlements, now=NOW)
    second = run(service.run_entitlements, now=NOW)
    assert (first, second) == (12, 0)


def test_december_grants_next_years_upfront_entitlement(leave_org):
    december = dt.datetime(2030, 12, 2, 9, tzinfo=dt.UTC)
    run(service.run_entitlements, now=december)
    b = balance_of(leave_org, year=2031)
    assert b.entitled == 24


def test_registration_listener_creates_types_and_entitlements(clean_database):
    with Session(get_engine(), expire_on_commit=False) as s:
        bundle = factories.create_organization(s)
        person = factories.create_person(s, bundle, role=Role.admin, date_of_joining=dt.date(2020, 1, 1))
        s.commit()
    service.on_organization_registered({"organization_id": bundle.id, "user_id": person.user_id})
    types = run(service.list_types, actor=actor_of(person))
    assert [t.name for t in types] == ["Annual", "Compensatory", "Sick", "Unpaid"]
    rows = run(service.balances, actor=actor_of(person))
    assert {r.leave_type_name: r.entitled for r in rows}["Annual"] == 24


def test_employee_created_event_grants_entitlement(leave_org, make_person):
    person = make_person(leave_org["org"], date_of_joining=dt.date(2020, 1, 1))
    events.dispatch(events.EMPLOYEE_CREATED, {"employee_id": person.employee_id,
                                              "organization_id": leave_org["org"].id})
    rows = run(service.balances, actor=actor_of(person))
    assert {r.leave_type_name: r.entitled for r in rows}["Sick"] == 10


def _entitlement_lines_of(employee_id: int) -> list[tuple]:
    with Session(get_engine()) as s:
        return sorted((line.leave_type_id, line.year, str(line.entry_date), line.kind.value, line.amount, line.reason,
                       line.period_key) for line in s.exec(select(LeaveLedger).where(
                           LeaveLedger.employee_id == employee_id)).all())


def test_employees_imported_event_grants_the_same_lines_as_one_employee_created_each(leave_org, make_person):
    """A CSV import publishes one employees.imported for all its new people; the batch listener must write
    exactly what employee.created writes for each of them (up-front, pro rata, monthly accrual, not yet joined)."""
    org = leave_org["org"]
    new_type(org.id, name="Monthly", yearly_entitlement=12.0, accrual=Accrual.monthly)
    today = dt.datetime.now(dt.UTC).date()
    joinings = [dt.date(2020, 1, 1), today.replace(day=1), today + dt.timedelta(days=40), None]
    singles = [make_person(org, date_of_joining=day) for day in joinings]
    imported = [make_person(org, date_of_joining=day) for day in joinings]
    for person in singles:
        events.dispatch(events.EMPLOYEE_CREATED, {"employee_id": person.employee_id, "organization_id": org.id})
    payload = {"organization_id": org.id, "employee_ids": [p.employee_id for p in imported],
               "user_ids": [p.user_id for p in imported], "import_id": 1, "source": "import"}
    events.dispatch(events.EMPLOYEES_IMPORTED, payload)

    for single, batch in zip(singles, imported, strict=True):
        assert _entitlement_lines_of(batch.employee_id) == _entitlement_lines_of(single.employee_id)
    assert _entitlement_lines_of(imported[0].employee_id)  # joined long ago: something was granted
    assert _entitlement_lines_of(imported[2].employee_id) == []  # joins in the future: nothing yet
    with Session(get_engine()) as s:
        before = s.exec(select(func.count()).select_from(LeaveLedger)).one()
    events.dispatch(events.EMPLOYEES_IMPORTED, payload)  # a retried delivery writes nothing twice
    with Session(get_engine()) as s:
        assert s.exec(select(func.count()).select_from(LeaveLedger)).one() == before


def test_employees_imported_event_ignores_people_of_another_organization(leave_org, other_org, make_person):
    stranger = make_person(other_org, date_of_joining=dt.date(2020, 1, 1))
    events.dispatch(events.EMPLOYEES_IMPORTED, {"organization_id": leave_org["org"].id,
                                                "employee_ids": [stranger.employee_id]})
    assert _entitlement_lines_of(stranger.employee_id) == []


# ---------------------------------------------------------------- carry-forward and expiry


def _balance_2029(bundle, amount: float, type_name="Annual"):
    emp = bundle["people"]["employee"].employee_id
    with Session(get_engine()) as s:
        s.add(LeaveLedger(organization_id=bundle["org"].id, employee_id=emp, leave_type_id=bundle["types"][type_name].id,
                          year=2029, entry_date=d("2029-01-01"), kind=LedgerKind.allocation, amount=amount,
                          reason="2029 entitlement"))
        s.commit()
    return emp


def test_carry_forward_is_capped_and_written_once(leave_org):
    emp = _balance_2029(leave_org, 12.5)
    jan = dt.datetime(2030, 1, 1, 1, tzinfo=dt.UTC)
    with Session(get_engine()) as s:
        preview = service.preview_carry_forward(session=s, now=jan, organization_id=leave_org["org"].id)
        s.rollback()
    assert [(p.employee_id, p.amount) for p in preview] == [(emp, 5.0)]
    assert run(service.run_carry_forward, now=jan) == 1
    assert run(service.run_carry_forward, now=jan) == 0
    carry = [ln for ln in ledger_lines(emp, leave_org["types"]["Annual"].id) if ln.kind == LedgerKind.carry_forward]
    assert len(carry) == 1 and carry[0].amount == 5.0
    assert "12.5 days left, cap 5 days, 7.5 days lapsed" in carry[0].reason and "use by 31 Mar 2030" in carry[0].reason
    assert balance_of(leave_org).entitled == 29  # 24 + 5 carried


def test_carried_days_not_used_by_the_expiry_date_lapse(leave_org):
    _balance_2029(leave_org, 5)
    run(service.run_carry_forward, now=dt.datetime(2030, 1, 1, 1, tzinfo=dt.UTC))
    # 2 days taken before the expiry date (31 March) use the carried days first
    leave = apply(leave_org, start_date="2030-03-11", end_date="2030-03-12")
    decide(leave_org, leave.id)
    # a leave after the expiry date does not save carried days
    later = apply(leave_org, start_date="2030-04-08", end_date="2030-04-08")
    decide(leave_org, later.id)
    assert run(service.run_expiry, now=dt.datetime(2030, 3, 31, 12, tzinfo=dt.UTC)) == 0  # not yet
    april = dt.datetime(2030, 4, 1, 1, tzinfo=dt.UTC)
    with Session(get_engine()) as s:
        preview = service.preview_expiry(session=s, now=april, organization_id=leave_org["org"].id)
        s.rollback()
    assert [p.amount for p in preview] == [-3.0]
    assert run(service.run_expiry, now=april) == 1
    assert run(service.run_expiry, now=april) == 0
    b = balance_of(leave_org)
    assert b.balance == 24 + 5 - 2 - 1 - 3


def test_expiry_with_all_carried_days_used_writes_nothing(leave_org):
    _balance_2029(leave_org, 2)
    run(service.run_carry_forward, now=dt.datetime(2030, 1, 1, 1, tzinfo=dt.UTC))
    decide(leave_org, apply(leave_org, start_date="2030-03-11", end_date="2030-03-13").id)
    assert run(service.run_expiry, now=dt.datetime(2030, 4, 2, tzinfo=dt.UTC)) == 0


def test_no_carry_forward_for_types_without_a_cap(leave_org):
    _balance_2029(leave_org, 4, "Sick")
    run(service.run_carry_forward, now=dt.datetime(2030, 1, 1, 1, tzinfo=dt.UTC))
    assert balance_of(leave_org, "Sick").entitled == 10


# ---------------------------------------------------------------- balance, reservation, ledger


def test_pending_requests_reserve_days_and_approval_takes_them(leave_org):
    leave = apply(leave_org, start_date="2030-03-11", end_date="2030-03-15")
    b = balance_of(leave_org)
    assert (b.balance, b.pending, b.available) == (24, 5, 19)
    decide(leave_org, leave.id)
    b = balance_of(leave_org)
    assert (b.balance, b.taken, b.pending, b.available) == (19, 5, 0, 19)


def test_short_balance_is_refused_counting_pending(leave_org):
    update_type(leave_org["types"]["Annual"].id, max_consecutive_days=None, hr_approval_above_days=None)
    apply(leave_org, start_date="2030-03-11", end_date="2030-04-05")  # 20 days, pending
    with pytest.raises(ValidationFailed, match=r"Not enough Annual balance for 2030: 4 days available"):
        apply(leave_org, start_date="2030-04-15", end_date="2030-04-19")


def test_negative_balance_allowed_when_the_type_says_so(leave_org):
    leave = apply(leave_org, type_name="Unpaid", start_date="2030-03-18", end_date="2030-03-19", reason="Move")
    assert leave.days == 2
    assert balance_of(leave_org, "Unpaid").available == -2


def test_ledger_lines_explain_the_balance(leave_org):
    decide(leave_org, apply(leave_org, start_date="2030-03-11", end_date="2030-03-12", half_day_end=True).id)
    run(service.allocate, actor=leave_org["actors"]["hr_manager"], leave_type_id=leave_org["types"]["Annual"].id,
        amount=1, reason="Worked on a holiday", employee_ids=[leave_org["people"]["employee"].employee_id], year=2030)
    lines = run(service.ledger, actor=leave_org["actors"]["employee"], leave_type_id=leave_org["types"]["Annual"].id,
                year=2030)
    # ordered by date: the grant for 2030 (made before 2030) is dated 1 January
    assert [(ln.kind, ln.amount) for ln in lines] == [("allocation", 24), ("allocation", 1), ("taken", -1.5)]
    assert [ln.running_balance for ln in lines] == [24, 25, 23.5]
    assert lines[-1].running_balance == balance_of(leave_org).balance == 23.5
    assert lines[1].reason == "Worked on a holiday" and lines[1].actor_name == "HrManager Tester"
    assert "approved by Manager Tester" in lines[2].reason


def test_employee_cannot_read_someone_elses_balance(leave_org):
    with pytest.raises(NotFound):
        run(service.balances, actor=leave_org["actors"]["employee"],
            employee_id=leave_org["people"]["manager"].employee_id)
    rows = run(service.balances, actor=leave_org["actors"]["manager"],
               employee_id=leave_org["people"]["employee"].employee_id, year=2030)
    assert rows


# ---------------------------------------------------------------- request rules


def test_reversed_dates_are_refused(leave_org):
    with pytest.raises(ValidationFailed, match="end date is before the start date"):
        apply(leave_org, start_date="2030-03-12", end_date="2030-03-11")


def test_overlap_with_pending_or_approved_leave_is_refused(leave_org):
    first = apply(leave_org, start_date="2030-03-11", end_date="2030-03-13")
    with pytest.raises(ValidationFailed, match="overlap your pending leave"):
        apply(leave_org, start_date="2030-03-13", end_date="2030-03-14")
    decide(leave_org, first.id)
    with pytest.raises(ValidationFailed, match="overlap your approved leave"):
        apply(leave_org, type_name="Sick", start_date="2030-03-12", end_date="2030-03-12")


def test_notice_and_consecutive_day_rules(leave_org):
    with pytest.raises(ValidationFailed, match="needs 3 days' notice: the earliest start is 7 Mar 2030"):
        apply(leave_org, start_date="2030-03-05", end_date="2030-03-05")
    with pytest.raises(ValidationFailed, match="at most 20 days in one request"):
        apply(leave_org, start_date="2030-03-11", end_date="2030-04-12")


def test_reason_required_above_n_days(leave_org):
    with pytest.raises(ValidationFailed, match="Give a reason for Sick leave of more than 2 days"):
        apply(leave_org, type_name="Sick", start_date="2030-03-04", end_date="2030-03-06")
    assert apply(leave_org, type_name="Sick", start_date="2030-03-04", end_date="2030-03-06", reason="Flu").days == 3


def test_half_days_refused_for_whole_day_types(leave_org):
    update_type(leave_org["types"]["Annual"].id, allow_half_day=False)
    with pytest.raises(ValidationFailed, match="whole days only"):
        apply(leave_org, start_date="2030-03-11", end_date="2030-03-11", half_day_start=True)


def test_quote_shows_cost_and_balance_after_without_writing(leave_org):
    q = run(service.quote, actor=leave_org["actors"]["employee"], leave_type_id=leave_org["types"]["Annual"].id,
            start_date="2030-03-14", end_date="2030-03-18", half_day_start=True, now=NOW)
    assert (q["days"], q["available"], q["availableAfter"], q["problems"]) == (2.5, 24, 21.5, [])
    assert q["excluded"] == ["2 weekly off day(s)"]
    assert balance_of(leave_org).pending == 0


# ---------------------------------------------------------------- cancel


def test_cancel_pending_then_approved_before_start_returns_days(leave_org):
    pending = apply(leave_org, start_date="2030-03-11", end_date="2030-03-11")
    assert run(service.cancel_leave, actor=leave_org["actors"]["employee"], leave_id=pending.id, now=NOW
               ).status == "cancelled"
    approved = apply(leave_org, start_date="2030-03-12", end_date="2030-03-13")
    decide(leave_org, approved.id)
    assert balance_of(leave_org).balance == 22
    run(service.cancel_leave, actor=leave_org["actors"]["employee"], leave_id=approved.id, now=NOW)
    assert balance_of(leave_org).balance == 24
    kinds = [ln.kind for ln in ledger_lines(leave_org["people"]["employee"].employee_id,
                                            leave_org["types"]["Annual"].id)]
    assert kinds == [LedgerKind.allocation, LedgerKind.taken, LedgerKind.cancelled]
    with pytest.raises(Conflict, match="already cancelled"):
        run(service.cancel_leave, actor=leave_org["actors"]["employee"], leave_id=approved.id, now=NOW)


def test_cannot_cancel_started_leave_or_someone_elses(leave_org):
    leave = apply(leave_org, start_date="2030-03-11", end_date="2030-03-12")
    decide(leave_org, leave.id)
    with pytest.raises(Forbidden):
        run(service.cancel_leave, actor=leave_org["actors"]["manager"], leave_id=leave.id, now=NOW)
    with pytest.raises(Conflict, match="already started"):
        run(service.cancel_leave, actor=leave_org["actors"]["employee"], leave_id=leave.id,
            now=dt.datetime(2030, 3, 11, 10, tzinfo=dt.UTC))


# ---------------------------------------------------------------- approval chain


def test_manager_cannot_approve_own_leave(leave_org):
    own = apply(leave_org, who="manager", start_date="2030-03-11", end_date="2030-03-11")
    with pytest.raises(Forbidden, match="own leave"):
        decide(leave_org, own.id, who="manager")
    with pytest.raises(Forbidden, match="own leave"):
        decide(leave_org, apply(leave_org, who="hr_manager", start_date="2030-03-11", end_date="2030-03-11").id,
               who="hr_manager")
    assert decide(leave_org, own.id, who="admin").status == "approved"


def test_manager_cannot_approve_outside_their_team(leave_org, make_person):
    other_manager = make_person(leave_org["org"], role=Role.manager)
    leave = apply(leave_org, start_date="2030-03-11", end_date="2030-03-11")
    with pytest.raises(NotFound):  # not in scope at all
        run(service.decide, actor=actor_of(other_manager), leave_id=leave.id, status="approved", now=NOW)
    with pytest.raises(Forbidden):
        decide(leave_org, leave.id, who="employee")
    assert run(service.approval_queue, actor=actor_of(other_manager), now=NOW) == []


def test_skip_level_manager_sees_but_cannot_decide(leave_org, make_person):
    with Session(get_engine(), expire_on_commit=False) as s:
        lead = factories.create_person(s, leave_org["org"], role=Role.manager, manager=leave_org["people"]["manager"])
        report = factories.create_person(s, leave_org["org"], role=Role.employee, manager=lead)
        service.grant_entitlements(s, s.get(Employee, report.employee_id), today=TODAY)
        s.commit()
    leave = run(service.apply_leave, actor=actor_of(report), leave_type_id=leave_org["types"]["Annual"].id,
                start_date="2030-03-11", end_date="2030-03-11", now=NOW)
    with pytest.raises(Forbidden, match="your own team"):
        decide(leave_org, leave.id, who="manager")
    assert run(service.decide, actor=actor_of(lead), leave_id=leave.id, status="approved", now=NOW
               ).status == "approved"


def test_second_decision_is_a_conflict(leave_org):
    leave = apply(leave_org, start_date="2030-03-11", end_date="2030-03-11")
    decide(leave_org, leave.id, status="rejected", comment="Busy week")
    with pytest.raises(Conflict, match="not pending"):
        decide(leave_org, leave.id, who="hr_manager")
    got = run(service.get_request, actor=leave_org["actors"]["employee"], leave_id=leave.id)
    assert (got.status, got.approver_comment, got.approver_id) == (
        "rejected", "Busy week", leave_org["people"]["manager"].employee_id)


def test_long_leave_needs_hr_after_the_manager(leave_org):
    leave = apply(leave_org, start_date="2030-03-11", end_date="2030-03-29")  # 15 days > 10: HR step
    assert leave.steps_required == 2
    step1 = decide(leave_org, leave.id)
    assert (step1.status, step1.step) == ("pending", 2)
    assert balance_of(leave_org).pending == 15
    assert run(service.approval_queue, actor=leave_org["actors"]["manager"], now=NOW) == []
    with pytest.raises(Forbidden, match="waits for HR"):
        decide(leave_org, leave.id)
    queue = run(service.approval_queue, actor=leave_org["actors"]["hr_manager"], now=NOW)
    assert [(q["id"], q["awaiting"]) for q in queue] == [(leave.id, "HR")]
    assert decide(leave_org, leave.id, who="hr_manager").status == "approved"
    assert balance_of(leave_org).balance == 9


def test_approval_queue_pages_hold_the_earliest_requests_first_and_say_how_many_wait(leave_org):
    days = ["2030-03-18", "2030-03-11", "2030-03-13", "2030-03-12", "2030-03-14"]
    ids = {day: apply(leave_org, start_date=day, end_date=day).id for day in days}
    in_order = [ids[d] for d in sorted(days)]
    manager = leave_org["actors"]["manager"]
    pages = [run(service.approval_queue_page, actor=manager, page=n, page_size=2, now=NOW) for n in (1, 2, 3)]
    assert [[q["id"] for q in p["items"]] for p in pages] == [in_order[:2], in_order[2:4], in_order[4:]]
    assert {(p["total"], p["pages"]) for p in pages} == {(5, 3)}
    assert [q["id"] for q in run(service.approval_queue, actor=manager, now=NOW)] == in_order
    # a page past the end (its requests were decided meanwhile) is the last page; before the first, the first
    assert run(service.approval_queue_page, actor=manager, page=9, page_size=2, now=NOW)["page"] == 3
    assert run(service.approval_queue_page, actor=manager, page=0, page_size=2, now=NOW)["page"] == 1
    for leave_id in in_order[2:]:
        decide(leave_org, leave_id)
    last = run(service.approval_queue_page, actor=manager, page=3, page_size=2, now=NOW)
    assert (last["page"], last["pages"], last["total"], [q["id"] for q in last["items"]]) == (1, 1, 2, in_order[:2])
    for leave_id in in_order[:2]:
        decide(leave_org, leave_id, status="rejected")
    assert run(service.approval_queue_page, actor=manager, page=2, page_size=2, now=NOW) == {
        "items": [], "total": 0, "page": 1, "pages": 1}


def test_delegate_candidates_are_the_other_active_approvers_by_name(leave_org, make_person):
    org = leave_org["org"]
    zoe = make_person(org, role=Role.manager, first_name="Zoe", last_name="Abbott")
    amy = make_person(org, role=Role.hr_manager, first_name="Amy", last_name="Zeller")
    make_person(org, role=Role.employee, first_name="Abe", last_name="Aaron")  # not an approver
    left = make_person(org, role=Role.manager, first_name="Aaron", last_name="Left")
    locked_out = make_person(org, role=Role.manager, first_name="Al", last_name="Off")
    with Session(get_engine()) as s:
        s.get(Employee, left.employee_id).status = EmployeeStatus.inactive
        s.get(User, locked_out.user_id).is_active = False
        s.commit()
    people = leave_org["people"]
    got = run(service.delegate_candidates, actor=leave_org["actors"]["manager"])
    expected = sorted([(p.employee.first_name, p.employee.last_name, p.employee_id)
                       for p in (people["admin"], people["hr_manager"], zoe, amy)])
    assert got == [{"id": i, "name": f"{first} {last}"} for first, last, i in expected]  # never the asker
    with pytest.raises(Forbidden):
        run(service.delegate_candidates, actor=leave_org["actors"]["employee"])


def test_delegate_sees_and_decides_the_away_managers_requests(leave_org, make_person):
    delegate = make_person(leave_org["org"], role=Role.manager)
    leave = apply(leave_org, start_date="2030-03-11", end_date="2030-03-11")
    assert run(service.approval_queue, actor=actor_of(delegate), now=NOW) == []
    with pytest.raises(ValidationFailed, match="manager, HR manager or admin"):
        run(service.create_delegation, actor=leave_org["actors"]["manager"],
            delegate_employee_id=leave_org["people"]["employee"].employee_id, start_date="2030-03-01",
            end_date="2030-03-10", now=NOW)
    delegation = run(service.create_delegation, actor=leave_org["actors"]["manager"],
                     delegate_employee_id=delegate.employee_id, start_date="2030-03-01", end_date="2030-03-10",
                     now=NOW)
    queue = run(service.approval_queue, actor=actor_of(delegate), now=NOW)
    assert [q["id"] for q in queue] == [leave.id] and queue[0]["onBehalfOf"] == "Manager Tester"
    # outside the delegation's dates the delegate does not even see the request
    with pytest.raises(NotFound):
        run(service.decide, actor=actor_of(delegate), leave_id=leave.id, status="approved",
            now=dt.datetime(2030, 3, 11, 9, tzinfo=dt.UTC))
    run(service.decide, actor=actor_of(delegate), leave_id=leave.id, status="approved", now=NOW)
    with Session(get_engine()) as s:
        from hr_portal.leave.models import LeaveApproval

        approval = s.exec(select(LeaveApproval).where(LeaveApproval.leave_request_id == leave.id)).one()
        assert approval.on_behalf_of_employee_id == leave_org["people"]["manager"].employee_id
    run(service.revoke_delegation, actor=leave_org["actors"]["manager"], delegation_id=delegation["id"])
    assert run(service.list_delegations, actor=actor_of(delegate)) == []


def test_decide_many_reports_each_failure(leave_org):
    a = apply(leave_org, start_date="2030-03-11", end_date="2030-03-11")
    b = apply(leave_org, start_date="2030-03-12", end_date="2030-03-12")
    own = apply(leave_org, who="manager", start_date="2030-03-12", end_date="2030-03-12")
    result = run(service.decide_many, actor=leave_org["actors"]["manager"], leave_ids=[a.id, b.id, own.id, 99999],
                 status="approved", comment="ok")
    assert result["done"] == [a.id, b.id]
    assert [f["id"] for f in result["failed"]] == [own.id, 99999]
    assert balance_of(leave_org).balance == 22


def test_queue_shows_balance_and_overlapping_team_absences(leave_org, make_person):
    with Session(get_engine(), expire_on_commit=False) as s:
        mate = factories.create_person(s, leave_org["org"], manager=leave_org["people"]["manager"],
                                       first_name="Mate")
        service.grant_entitlements(s, s.get(Employee, mate.employee_id), today=TODAY)
        s.commit()
    run(service.apply_leave, actor=actor_of(mate), leave_type_id=leave_org["types"]["Annual"].id,
        start_date="2030-03-12", end_date="2030-03-13", now=NOW)
    mine = apply(leave_org, start_date="2030-03-11", end_date="2030-03-12")
    item = next(q for q in run(service.approval_queue, actor=leave_org["actors"]["manager"], now=NOW)
                if q["id"] == mine.id)
    assert item["balance"] == 24 and item["availableAfter"] == 22
    assert item["teamAbsences"] == ["Mate Tester 12 Mar–13 Mar (pending)"]


def test_queue_team_absences_find_long_absences_and_only_those_overlapping_each_request(leave_org):
    """A long absence that began weeks before a request still shows; an absence between two requests shows
    for neither; each request lists its own overlaps (the queue reads only the requests' periods)."""
    from hr_portal.leave.models import LeaveRequest, LeaveStatus

    with Session(get_engine(), expire_on_commit=False) as s:
        mates = [factories.create_person(s, leave_org["org"], manager=leave_org["people"]["manager"],
                                         first_name=name) for name in ("Long", "Gap", "June")]
        for mate, (start, end) in zip(mates, (("2030-01-20", "2030-03-20"), ("2030-05-04", "2030-05-06"),
                                              ("2030-06-09", "2030-06-10")), strict=True):
            s.add(LeaveRequest(organization_id=mate.organization_id, employee_id=mate.employee_id,
                               leave_type_id=leave_org["types"]["Annual"].id, start_date=dt.date.fromisoformat(start),
                               end_date=dt.date.fromisoformat(end), days=1.0, reason="test",
                               status=LeaveStatus.approved))
        s.commit()
    march = apply(leave_org, start_date="2030-03-11", end_date="2030-03-12")
    june = apply(leave_org, start_date="2030-06-10", end_date="2030-06-11")
    queue = {q["id"]: q for q in run(service.approval_queue, actor=leave_org["actors"]["manager"], now=NOW)}
    assert queue[march.id]["teamAbsences"] == ["Long Tester 20 Jan–20 Mar"]
    assert queue[june.id]["teamAbsences"] == ["June Tester 9 Jun–10 Jun"]


# ---------------------------------------------------------------- allocations, types, tenancy


def test_allocation_by_department_with_reason(leave_org):
    with Session(get_engine()) as s:
        dept = factories.create_department(s, leave_org["org"], name="Ops")
        for key in ("employee", "manager"):
            e = s.get(Employee, leave_org["people"][key].employee_id)
            e.department_id = dept.id
            s.add(e)
        s.commit()
        dept_id = dept.id
    comp = leave_org["types"]["Compensatory"].id
    count = run(service.allocate, actor=leave_org["actors"]["hr_manager"], leave_type_id=comp, amount=1.5,
                reason="Weekend release", department_id=dept_id, year=2030)
    assert count == 2 and balance_of(leave_org, "Compensatory").available == 1.5
    with pytest.raises(ValidationFailed, match="reason"):
        run(service.allocate, actor=leave_org["actors"]["hr_manager"], leave_type_id=comp, amount=1, reason=" ",
            everyone=True)
    with pytest.raises(ValidationFailed, match="whole or half"):
        run(service.allocate, actor=leave_org["actors"]["hr_manager"], leave_type_id=comp, amount=0.3, reason="x",
            everyone=True)
    with pytest.raises(Forbidden):
        run(service.allocate, actor=leave_org["actors"]["manager"], leave_type_id=comp, amount=1, reason="x",
            everyone=True)


def test_hr_creates_and_edits_types_with_validation(leave_org):
    hr = leave_org["actors"]["hr_manager"]
    created = run(service.create_type, actor=hr, data=LeaveTypeInput(
        name="Study", yearly_entitlement=5, accrual="upfront", min_notice_days=14, hr_approval_above_days=3))
    assert created.name == "Study" and created.min_notice_days == 14
    with pytest.raises(Conflict):
        run(service.create_type, actor=hr, data=LeaveTypeInput(name="study", yearly_entitlement=1))
    with pytest.raises(ValidationFailed, match="Yearly entitlement must be between"):
        run(service.update_type, actor=hr, leave_type_id=created.id, data=LeaveTypeInput(yearly_entitlement=-1))
    with pytest.raises(Forbidden):
        run(service.create_type, actor=leave_org["actors"]["employee"], data=LeaveTypeInput(name="X"))
    updated = run(service.update_type, actor=hr, leave_type_id=created.id, data=LeaveTypeInput(archived=True))
    assert updated.archived
    with pytest.raises(ValidationFailed, match="no longer offered"):
        run(service.apply_leave, actor=leave_org["actors"]["employee"], leave_type_id=created.id,
            start_date="2030-04-01", end_date="2030-04-01", now=NOW)


def test_other_organizations_leave_is_not_found(leave_org, other_org, make_person):
    stranger = make_person(other_org, role=Role.admin)
    leave = apply(leave_org, start_date="2030-03-11", end_date="2030-03-11")
    for fn, kw in ((service.get_request, {}), (service.decide, {"status": "approved", "now": NOW}),
                   (service.cancel_leave, {"now": NOW})):
        with pytest.raises(NotFound):
            run(fn, actor=actor_of(stranger), leave_id=leave.id, **kw)
    with pytest.raises(NotFound):
        run(service.apply_leave, actor=actor_of(stranger), leave_type_id=leave_org["types"]["Annual"].id,
            start_date="2030-03-11", end_date="2030-03-11", now=NOW)


# ---------------------------------------------------------------- events and live topics


def test_every_change_publishes_events_and_live_topics(leave_org, monkeypatch):
    seen_events: list[str] = []
    topics: list[set[str]] = []

    def listener(name, _payload):
        seen_events.append(name)

    monkeypatch.setattr(live.LiveHub, "publish", lambda self, t: topics.append(set(t)))
    for name in (events.LEAVE_APPLIED, events.LEAVE_APPROVED, events.LEAVE_REJECTED, events.LEAVE_CANCELLED):
        events.subscribe(name, listener)
    try:
        a = apply(leave_org, start_date="2030-03-11", end_date="2030-03-11")
        decide(leave_org, a.id)
        b = apply(leave_org, start_date="2030-03-12", end_date="2030-03-12")
        decide(leave_org, b.id, status="rejected")
        c = apply(leave_org, start_date="2030-03-13", end_date="2030-03-13")
        run(service.cancel_leave, actor=leave_org["actors"]["employee"], leave_id=c.id, now=NOW)
    finally:
        for name in (events.LEAVE_APPLIED, events.LEAVE_APPROVED, events.LEAVE_REJECTED, events.LEAVE_CANCELLED):
            events.unsubscribe(name, listener)
    assert seen_events == ["leave.applied", "leave.approved", "leave.applied", "leave.rejected", "leave.applied",
                           "leave.cancelled"]
    org_id, user_id = leave_org["org"].id, leave_org["people"]["employee"].user_id
    expected = {live.org_topic(org_id, "leave"), live.user_topic(user_id, "leave")}
    leave_topics = [t for t in topics if live.org_topic(org_id, "leave") in t]
    assert len(leave_topics) == 6 and all(expected <= t for t in leave_topics)


def test_queue_topics_reach_only_the_queues_that_show_the_request(leave_org, make_person, monkeypatch):
    """Approvals pages follow their own user's queue topic (HR also the organization's HR queue topic); a
    change goes to the requester's manager, the manager's delegates of the day and HR, not to every
    approver of the organization."""
    org_id, people = leave_org["org"].id, leave_org["people"]
    delegate = make_person(leave_org["org"], role=Role.manager, first_name="Dele")
    bystander = make_person(leave_org["org"], role=Role.manager, first_name="Other")
    published: list[set[str]] = []
    monkeypatch.setattr(live.LiveHub, "publish", lambda self, t: published.append(set(t)))

    def queue(person) -> str:
        return live.user_topic(person.user_id, service.QUEUE_TOPIC)

    hr_queue = live.org_topic(org_id, service.HR_QUEUE_TOPIC)
    assert service.approvals_page_topics(leave_org["actors"]["manager"]) == [queue(people["manager"])]
    assert service.approvals_page_topics(leave_org["actors"]["hr_manager"]) == [queue(people["hr_manager"]), hr_queue]

    everything: set[str] = set()

    def last() -> set[str]:
        """The queue topics of the last change (one commit); the notification listeners' inbox topics
        come from the event worker, in their own commits."""
        events.drain()
        mine = [t for t in published if live.org_topic(org_id, "leave") in t]
        assert len(mine) == 1, published
        everything.update(*published)
        published.clear()
        return {t for t in mine[0] if "leave_queue" in t}

    a = apply(leave_org, start_date="2030-03-11", end_date="2030-03-11")
    assert last() == {hr_queue, queue(people["manager"])}
    run(service.create_delegation, actor=leave_org["actors"]["manager"], delegate_employee_id=delegate.employee_id,
        start_date="2030-03-01", end_date="2030-03-10", now=NOW)
    assert last() == {hr_queue, queue(people["manager"]), queue(delegate)}
    b = apply(leave_org, start_date="2030-03-12", end_date="2030-03-12")
    assert last() == {hr_queue, queue(people["manager"]), queue(delegate)}
    run(service.decide, actor=actor_of(delegate), leave_id=b.id, status="approved", now=NOW)
    assert last() == {hr_queue, queue(people["manager"]), queue(delegate)}
    run(service.cancel_leave, actor=leave_org["actors"]["employee"], leave_id=a.id, now=NOW)
    assert last() == {hr_queue, queue(people["manager"]), queue(delegate)}
    # two steps: the manager's step leaves the manager's queue for HR's; HR's step concerns HR only
    long = apply(leave_org, start_date="2030-04-01", end_date="2030-04-19")  # 15 days > 10: HR step
    events.drain()
    published.clear()
    assert decide(leave_org, long.id).step == 2
    assert last() == {hr_queue, queue(people["manager"]), queue(delegate)}
    assert decide(leave_org, long.id, who="hr_manager").status == "approved"
    assert last() == {hr_queue}
    assert queue(people["employee"]) not in everything and queue(bystander) not in everything


def test_team_calendar_shows_approved_pending_and_holidays(leave_org, holiday):
    holiday(leave_org["org"], "2030-03-15", "Founders' Day")
    decide(leave_org, apply(leave_org, start_date="2030-03-11", end_date="2030-03-12", half_day_end=True).id)
    apply(leave_org, start_date="2030-03-18", end_date="2030-03-18")
    cal = run(service.team_calendar, actor=leave_org["actors"]["manager"], year=2030, month=3)
    row = next(r for r in cal["rows"] if r["employeeId"] == leave_org["people"]["employee"].employee_id)
    states = {c["day"]: c["state"] for c in row["cells"]}
    assert (states[11], states[12], states[15], states[16], states[18]) == (
        "approved", "approved_half", "holiday", "weekly_off", "pending")
    assert row["daysOff"] == 1.5 and cal["holidays"] == [{"date": "2030-03-15", "name": "Founders' Day"}]
    names = {r["name"] for r in cal["rows"]}
    assert "Admin Tester" not in names  # a manager sees self and reports only
    with pytest.raises(Forbidden):
        run(service.team_calendar, actor=leave_org["actors"]["employee"], year=2030, month=3)
