"""Selection rules of the scheduled notifications (who gets a reminder, and who does not)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import Session, select

from hr_portal.attendance.models import AttendanceCorrection, AttendanceRecord, EmployeeShift, Shift
from hr_portal.auth.models import Role
from hr_portal.core.db import get_engine
from hr_portal.core.mail import OutboxEmail
from hr_portal.employees.models import Employee
from hr_portal.leave.models import LeaveApproval, LeaveDelegation, LeaveStatus
from hr_portal.notifications import reminders, service
from hr_portal.notifications.models import Channel, NotificationPreference
from hr_portal.org.models import Company, Holiday
from tests.notifications.conftest import actor_of, add_leave, inbox, run
from tests.sql_count import statements

UTC = dt.UTC
MONDAY = dt.date(2030, 3, 4)


def at(day: dt.date, hh: int, mm: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hh, mm, tzinfo=UTC)


def job(fn, now):
    with Session(get_engine(), expire_on_commit=False) as s:
        n = fn(session=s, now=now)
        s.commit()
        return n


def kinds(person, kind: str) -> list[str]:
    return [n.title for n in inbox(person.user_id) if n.kind == kind]


def add_record(org, person, day: dt.date, *, check_in: dt.datetime, check_out: dt.datetime | None = None):
    with Session(get_engine()) as s:
        s.add(AttendanceRecord(organization_id=org.id, employee_id=person.employee_id, work_date=day,
                               check_in=check_in, check_out=check_out, open_since=None if check_out else check_in))
        s.commit()


def set_employee(person, **values):
    with Session(get_engine()) as s:
        emp = s.get(Employee, person.employee_id)
        for k, v in values.items():
            setattr(emp, k, v)
        s.add(emp)
        s.commit()


def own_shift(org, person, start: dt.time, end: dt.time, **kw) -> None:
    with Session(get_engine()) as s:
        shift = Shift(organization_id=org.id, company_id=org.company.id, name=f"S{start:%H%M}", start_time=start,
                      end_time=end, **kw)
        s.add(shift)
        s.flush()
        s.add(EmployeeShift(employee_id=person.employee_id, organization_id=org.id, shift_id=shift.id))
        s.commit()


# ---------------------------------------------------------------- check-in (standard shift 09:00-17:30, UTC company)


def test_people_not_checked_in_after_their_shift_began_get_one_reminder(people, org):
    assert job(reminders.send_checkin_reminders, at(MONDAY, 9, 20)) == 4
    assert kinds(people["employee"], "checkin_reminder") == ["You have not checked in yet"]
    assert job(reminders.send_checkin_reminders, at(MONDAY, 9, 25)) == 0  # once per day
    assert job(reminders.send_checkin_reminders, at(MONDAY + dt.timedelta(days=1), 9, 20)) == 4  # next day again


def test_a_morning_of_many_reminders_costs_the_same_few_statements_as_one_and_stays_once_only(people, make_person,
                                                                                               org):
    """At 9:00 thousands of people of a company can be due at once: the reminders go out as one group per
    organization, day and text (the once-only keys in one INSERT), not person by person."""
    few = len(job_statements(reminders.send_checkin_reminders, at(MONDAY, 9, 20)))
    for i in range(40):
        make_person(org, first_name=f"Late{i}")
    many = job_statements(reminders.send_checkin_reminders, at(MONDAY + dt.timedelta(days=1), 9, 20))
    assert len(many) <= few, many  # 44 people instead of 4
    with statements(this_thread=True) as again:
        assert job(reminders.send_checkin_reminders, at(MONDAY + dt.timedelta(days=1), 9, 25)) == 0
    # five minutes later everyone due was reminded already: the run reads their keys, not their accounts
    assert not any("FROM users" in sql for sql in again), again
    assert all(kinds(p, "checkin_reminder") == ["You have not checked in yet"] * 2 for p in people.values()
               if p.user_id and p.employee_id)


def job_statements(fn, now) -> list[str]:
    with statements(this_thread=True) as seen:  # not the mail delivery the commit starts
        assert job(fn, now) > 0
    return seen


def test_nobody_is_reminded_before_the_grace_minutes_or_after_the_shift(people):
    assert job(reminders.send_checkin_reminders, at(MONDAY, 9, 10)) == 0
    assert job(reminders.send_checkin_reminders, at(MONDAY, 17, 30)) == 0


def test_who_checked_in_is_not_reminded(people, org):
    add_record(org, people["employee"], MONDAY, check_in=at(MONDAY, 8, 55))
    job(reminders.send_checkin_reminders, at(MONDAY, 9, 20))
    assert kinds(people["employee"], "checkin_reminder") == []
    assert kinds(people["manager"], "checkin_reminder") != []


def test_nobody_gets_a_check_in_reminder_on_a_holiday(people, org):
    with Session(get_engine()) as s:
        s.add(Holiday(organization_id=org.id, company_id=org.company.id, date=MONDAY, name="Spring day"))
        s.commit()
    assert job(reminders.send_checkin_reminders, at(MONDAY, 9, 20)) == 0


def test_nobody_gets_a_check_in_reminder_on_a_weekly_off_day(people):
    saturday = MONDAY - dt.timedelta(days=2)
    assert job(reminders.send_checkin_reminders, at(saturday, 9, 20)) == 0


def test_people_on_approved_leave_are_not_reminded_but_pending_leave_is(people, org, leave_type):
    add_leave(org, people["employee"], leave_type, start="2030-03-04", end="2030-03-05", status="approved")
    add_leave(org, people["manager"], leave_type, start="2030-03-04", end="2030-03-04", status="pending")
    job(reminders.send_checkin_reminders, at(MONDAY, 9, 20))
    assert kinds(people["employee"], "checkin_reminder") == []
    assert kinds(people["manager"], "checkin_reminder") != []


def test_the_own_shift_and_the_company_time_zone_decide_the_time(people, org):
    own_shift(org, people["employee"], dt.time(13, 0), dt.time(21, 0))
    job(reminders.send_checkin_reminders, at(MONDAY, 9, 20))
    assert kinds(people["employee"], "checkin_reminder") == []
    job(reminders.send_checkin_reminders, at(MONDAY, 13, 16))
    assert len(kinds(people["employee"], "checkin_reminder")) == 1
    with Session(get_engine()) as s:  # Chicago: 09:00 local is 15:00 UTC on 5 March 2030 (CST, UTC-6)
        company = s.get(Company, org.company.id)
        company.timezone = "America/Chicago"
        s.add(company)
        s.commit()
    tuesday = MONDAY + dt.timedelta(days=1)
    assert kinds(people["manager"], "checkin_reminder") == ["You have not checked in yet"]
    assert job(reminders.send_checkin_reminders, at(tuesday, 9, 20)) == 0
    assert job(reminders.send_checkin_reminders, at(tuesday, 14, 20)) == 0  # 08:20 local
    assert job(reminders.send_checkin_reminders, at(tuesday, 15, 20)) == 3  # 09:20 local; employee starts 13:00


def test_a_night_shift_is_reminded_after_midnight_for_the_day_it_began(people, org):
    own_shift(org, people["employee"], dt.time(22, 0), dt.time(6, 0))
    job(reminders.send_checkin_reminders, at(MONDAY + dt.timedelta(days=1), 2, 0))
    assert kinds(people["employee"], "checkin_reminder") == ["You have not checked in yet"]


def test_inactive_people_and_people_not_yet_joined_are_not_reminded(people, make_person, org):
    from hr_portal.employees.models import EmployeeStatus

    set_employee(people["employee"], status=EmployeeStatus.inactive)
    set_employee(people["manager"], date_of_joining=MONDAY + dt.timedelta(days=7))
    job(reminders.send_checkin_reminders, at(MONDAY, 9, 20))
    assert kinds(people["employee"], "checkin_reminder") == [] and kinds(people["manager"], "checkin_reminder") == []


def test_switched_off_check_in_reminders_are_not_sent(people):
    run(service.set_preference, actor=actor_of(people["employee"]), kind="checkin_reminder", channel="off")
    job(reminders.send_checkin_reminders, at(MONDAY, 9, 20))
    assert kinds(people["employee"], "checkin_reminder") == []


# ---------------------------------------------------------------- check-out (auto close at 17:30 + 60 min)


def test_still_checked_in_people_are_reminded_shortly_before_the_auto_checkout(people, org):
    add_record(org, people["employee"], MONDAY, check_in=at(MONDAY, 9, 0))
    add_record(org, people["manager"], MONDAY, check_in=at(MONDAY, 9, 0), check_out=at(MONDAY, 17, 0))
    assert job(reminders.send_checkout_reminders, at(MONDAY, 18, 0)) == 0  # 30 min before: too early
    assert job(reminders.send_checkout_reminders, at(MONDAY, 18, 20)) == 1
    assert kinds(people["employee"], "checkout_reminder") == ["You are still checked in"]
    assert job(reminders.send_checkout_reminders, at(MONDAY, 18, 25)) == 0  # once
    assert kinds(people["manager"], "checkout_reminder") == []


def test_no_check_out_reminder_once_the_day_was_closed(people, org):
    add_record(org, people["employee"], MONDAY, check_in=at(MONDAY, 9, 0))
    assert job(reminders.send_checkout_reminders, at(MONDAY, 18, 31)) == 0


# ---------------------------------------------------------------- pending approvals


def test_approvers_are_reminded_of_requests_older_than_n_days(people, org, leave_type):
    add_leave(org, people["employee"], leave_type, start="2030-03-20", end="2030-03-20",
              created_at=at(MONDAY, 9) - dt.timedelta(days=3))
    add_leave(org, people["employee"], leave_type, start="2030-03-25", end="2030-03-25",
              created_at=at(MONDAY, 9) - dt.timedelta(days=1))
    assert job(reminders.send_approval_reminders, at(MONDAY, 9)) == 1
    [n] = inbox(people["manager"].user_id)
    assert n.title == "1 request waits for your decision" and "waiting 3 days" in n.body
    assert inbox(people["hr_manager"].user_id) == []  # not old enough to escalate
    assert job(reminders.send_approval_reminders, at(MONDAY, 10)) == 0  # once a day


def test_requests_waiting_longer_than_m_days_escalate_to_hr(people, org, leave_type):
    add_leave(org, people["employee"], leave_type, start="2030-03-20", end="2030-03-20",
              created_at=at(MONDAY, 9) - dt.timedelta(days=6))
    job(reminders.send_approval_reminders, at(MONDAY, 9))
    [hr] = inbox(people["hr_manager"].user_id)
    assert hr.title.startswith("Escalation: 1 request waiting over 5 days")
    assert len(inbox(people["manager"].user_id)) == 1


def test_requests_at_the_hr_step_remind_hr_from_the_first_approval_not_the_application(people, org, leave_type):
    req = add_leave(org, people["employee"], leave_type, start="2030-03-20", end="2030-03-29", step=2,
                    steps_required=2, created_at=at(MONDAY, 9) - dt.timedelta(days=10))
    with Session(get_engine()) as s:
        s.add(LeaveApproval(organization_id=org.id, leave_request_id=req.id, step=1, decision=LeaveStatus.approved,
                            actor_user_id=people["manager"].user_id, created_at=at(MONDAY, 9) - dt.timedelta(days=1)))
        s.commit()
    assert job(reminders.send_approval_reminders, at(MONDAY, 9)) == 0
    assert job(reminders.send_approval_reminders, at(MONDAY + dt.timedelta(days=2), 9)) == 1
    [n] = inbox(people["hr_manager"].user_id)
    assert n.title == "1 request waits for your decision"  # HR is the approver: no escalation on top
    assert inbox(people["manager"].user_id) == []


def test_delegates_are_reminded_too_and_decided_requests_are_not(people, org, leave_type, make_person):
    deputy = make_person(org, role=Role.manager)
    with Session(get_engine()) as s:
        s.add(LeaveDelegation(organization_id=org.id, approver_employee_id=people["manager"].employee_id,
                              delegate_employee_id=deputy.employee_id, start_date=MONDAY - dt.timedelta(days=2),
                              end_date=MONDAY + dt.timedelta(days=2)))
        s.commit()
    add_leave(org, people["employee"], leave_type, start="2030-03-20", end="2030-03-20",
              created_at=at(MONDAY, 9) - dt.timedelta(days=3))
    add_leave(org, people["employee"], leave_type, start="2030-03-21", end="2030-03-21", status="approved",
              created_at=at(MONDAY, 9) - dt.timedelta(days=9))
    job(reminders.send_approval_reminders, at(MONDAY, 9))
    assert [n.title for n in inbox(deputy.user_id)] == ["1 request waits for your decision"]
    assert inbox(people["hr_manager"].user_id) == []


def test_pending_corrections_are_part_of_the_reminder(people, org):
    with Session(get_engine()) as s:
        s.add(AttendanceCorrection(organization_id=org.id, employee_id=people["employee"].employee_id,
                                   work_date=MONDAY - dt.timedelta(days=7), check_in=at(MONDAY, 9),
                                   check_out=at(MONDAY, 17), reason="Forgot", requested_by_user_id=people[
                                       "employee"].user_id, created_at=at(MONDAY, 9) - dt.timedelta(days=4)))
        s.commit()
    job(reminders.send_approval_reminders, at(MONDAY, 9))
    [n] = inbox(people["manager"].user_id)
    assert "attendance correction" in n.body and n.link == "/attendance/approvals"


# ---------------------------------------------------------------- birthdays and anniversaries


@pytest.fixture
def team(people, org, make_person):
    """manager <- employee, peer (same manager); employee <- report; an outsider in another team."""
    peer = make_person(org, role=Role.employee, manager=people["manager"], first_name="Peer")
    report = make_person(org, role=Role.employee, manager=people["employee"], first_name="Report")
    outsider = make_person(org, role=Role.employee, manager=people["hr_manager"], first_name="Outsider")
    return {"peer": peer, "report": report, "outsider": outsider}


def test_a_birthday_note_reaches_the_team_but_not_the_person_or_others(people, team):
    set_employee(people["employee"], date_of_birth=dt.date(1990, 3, 4))
    assert job(reminders.send_celebrations, at(MONDAY, 9, 5)) == 3
    for who in (people["manager"], team["peer"], team["report"]):
        assert kinds(who, "celebration") == ["It's Employee Tester's birthday today"]
    for who in (people["employee"], team["outsider"], people["hr_manager"]):
        assert kinds(who, "celebration") == []
    assert job(reminders.send_celebrations, at(MONDAY, 10, 5)) == 0  # once


def test_no_note_before_the_local_hour(people, team):
    set_employee(people["employee"], date_of_birth=dt.date(1990, 3, 4))
    assert job(reminders.send_celebrations, at(MONDAY, 8, 5)) == 0


def test_people_who_opted_out_are_not_announced(people, team):
    set_employee(people["employee"], date_of_birth=dt.date(1990, 3, 4))
    run(service.set_celebration_sharing, actor=actor_of(people["employee"]), share=False)
    assert job(reminders.send_celebrations, at(MONDAY, 9, 5)) == 0


def test_recipients_who_switched_celebrations_off_get_nothing(people, team):
    set_employee(people["employee"], date_of_birth=dt.date(1990, 3, 4))
    run(service.set_preference, actor=actor_of(team["peer"]), kind="celebration", channel="off")
    job(reminders.send_celebrations, at(MONDAY, 9, 5))
    assert kinds(team["peer"], "celebration") == [] and kinds(people["manager"], "celebration") != []


def test_work_anniversaries_count_the_years_and_skip_the_joining_day(people, team):
    set_employee(people["employee"], date_of_joining=dt.date(2027, 3, 4))
    set_employee(team["peer"], date_of_joining=MONDAY)
    job(reminders.send_celebrations, at(MONDAY, 9, 5))
    assert kinds(people["manager"], "celebration") == ["Employee Tester: 3 years at Org A today"]


def test_a_29_february_birthday_is_celebrated_on_28_february_in_common_years(people, team):
    set_employee(people["employee"], date_of_birth=dt.date(2000, 2, 29))
    assert job(reminders.send_celebrations, at(dt.date(2030, 2, 28), 9, 5)) == 3
    assert job(reminders.send_celebrations, at(dt.date(2030, 3, 1), 9, 5)) == 0
    assert reminders._anniversary_of(dt.date(2000, 2, 29), dt.date(2032, 2, 28)) is False
    assert reminders._anniversary_of(dt.date(2000, 2, 29), dt.date(2032, 2, 29)) is True


# ---------------------------------------------------------------- weekly digest


def test_the_weekly_digest_goes_to_hr_and_admins_only_once_a_week(people, org, leave_type, make_person):
    joiner = make_person(org, role=Role.employee, first_name="Newbie", date_of_joining=MONDAY - dt.timedelta(days=3))
    add_leave(org, people["employee"], leave_type, start="2030-03-06", end="2030-03-07", status="approved")
    add_leave(org, people["manager"], leave_type, start="2030-03-20", end="2030-03-20",
              created_at=at(MONDAY, 6) - dt.timedelta(days=2))
    run(service.set_preference, actor=actor_of(people["hr_manager"]), kind="weekly_digest", channel="both")
    assert job(reminders.send_weekly_digest, at(MONDAY, 6)) == 2
    [hr] = inbox(people["hr_manager"].user_id)
    assert hr.kind == "weekly_digest" and "1 joiner" in hr.body and "1 pending leave request" in hr.body
    assert inbox(people["employee"].user_id) == [] and inbox(joiner.user_id) == []
    with Session(get_engine()) as s:
        hr_mail = s.exec(select(OutboxEmail).where(OutboxEmail.to_address == people["hr_manager"].email)).one()
        admin_mail = s.exec(select(OutboxEmail).where(OutboxEmail.to_address == people["admin"].email)).one()
    assert "Newbie Tester" in hr_mail.body_text and "Employee Tester: Annual" in hr_mail.body_text
    assert "Org A" in hr_mail.body_html and "Delivery problems" not in hr_mail.body_text
    assert "None: all mail and notifications were delivered." in admin_mail.body_text
    assert job(reminders.send_weekly_digest, at(MONDAY, 7)) == 0


def test_hr_can_switch_the_digest_to_the_app(people):
    run(service.set_preference, actor=actor_of(people["hr_manager"]), kind="weekly_digest", channel="in_app")
    job(reminders.send_weekly_digest, at(MONDAY, 6))
    with Session(get_engine()) as s:
        assert s.exec(select(OutboxEmail).where(OutboxEmail.to_address == people["hr_manager"].email)).all() == []
        pref = s.exec(select(NotificationPreference)).one()
        assert pref.channel == Channel.in_app
    assert len(inbox(people["hr_manager"].user_id)) == 1


def test_the_admins_digest_reports_failed_mails_and_undelivered_notifications(people, org):
    from hr_portal.notifications.models import ListenerFailure

    with Session(get_engine()) as s:
        s.add(OutboxEmail(organization_id=org.id, to_address="x@example.com", subject="s", body_text="t",
                          body_html="h", status="failed", attempts=5))
        s.add(ListenerFailure(organization_id=org.id, event_name="leave.applied", listener="l", payload={},
                              status="failed", attempts=5))
        s.commit()
    job(reminders.send_weekly_digest, at(MONDAY, 6))
    with Session(get_engine()) as s:
        admin_mail = s.exec(select(OutboxEmail).where(OutboxEmail.to_address == people["admin"].email)).one()
    assert "1 mail failed to send" in admin_mail.body_text
    assert "1 event notification could not be delivered after retries" in admin_mail.body_text
