"""What a leave costs and which days it covers: weekends, holidays, half days, the sandwich rule, and
`leave_days` (the function attendance uses to mark days on leave)."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from hr_portal.core.db import get_engine
from hr_portal.core.errors import ValidationFailed
from hr_portal.leave import service
from hr_portal.org.models import Company
from tests.leave.helpers import NOW, d, run, update_type


def apply(bundle, who="employee", type_name="Annual", **kw):
    return run(service.apply_leave, actor=bundle["actors"][who], leave_type_id=bundle["types"][type_name].id,
               now=NOW, **kw)


def approve(bundle, leave_id, who="manager"):
    return run(service.decide, actor=bundle["actors"][who], leave_id=leave_id, status="approved", now=NOW)


def test_cost_excludes_weekends_and_company_holidays(leave_org, holiday):
    holiday(leave_org["org"], "2030-03-15", "Founders' Day")
    leave = apply(leave_org, start_date="2030-03-11", end_date="2030-03-19")
    # Mon 11..Thu 14 (4) + Fri 15 holiday + Sat/Sun + Mon 18, Tue 19 (2)
    assert leave.days == 6
    q = run(service.quote, actor=leave_org["actors"]["employee"], leave_type_id=leave_org["types"]["Annual"].id,
            start_date="2030-03-25", end_date="2030-04-02", now=NOW)
    assert q["days"] == 7 and q["excluded"] == ["2 weekly off day(s)"]


def test_half_day_at_start_and_end_cost_half_each(leave_org):
    leave = apply(leave_org, start_date="2030-03-14", end_date="2030-03-19", half_day_start=True, half_day_end=True)
    assert leave.days == 3.0  # Thu 0.5, Fri 1, Mon 1, Tue 0.5
    assert leave.half_day and leave.half_day_start and leave.half_day_end


def test_half_day_plus_two_days_over_a_weekend_costs_two_and_a_half(leave_org):
    leave = apply(leave_org, start_date="2030-03-14", end_date="2030-03-18", half_day_start=True)
    assert leave.days == 2.5  # Thu afternoon, Fri, (Sat, Sun), Mon


def test_single_day_half_day_costs_half(leave_org):
    leave = apply(leave_org, start_date="2030-03-12", end_date="2030-03-12", half_day_end=True)
    assert leave.days == 0.5 and leave.half_day


def test_sandwich_rule_counts_weekend_inside_but_not_at_the_edges(leave_org):
    update_type(leave_org["types"]["Annual"].id, count_non_working_days=True)
    inside = apply(leave_org, start_date="2030-03-15", end_date="2030-03-18")
    assert inside.days == 4  # Fri, Sat, Sun, Mon
    edge = apply(leave_org, start_date="2030-03-23", end_date="2030-03-25")
    assert edge.days == 1  # Sat and Sun before the first working day do not count


def test_request_on_weekend_only_is_refused(leave_org):
    with pytest.raises(ValidationFailed, match="weekly off days or holidays"):
        apply(leave_org, start_date="2030-03-16", end_date="2030-03-17")


def test_company_weekly_offs_decide_the_cost(leave_org):
    with Session(get_engine()) as s:
        company = s.get(Company, leave_org["org"].company.id)
        company.weekly_off_days = "5,6"  # Friday and Saturday off
        s.add(company)
        s.commit()
    leave = apply(leave_org, start_date="2030-03-14", end_date="2030-03-18")
    assert leave.days == 3  # Thu, Sun, Mon


def test_recurring_holiday_is_excluded_in_every_year(leave_org, holiday):
    holiday(leave_org["org"], "2020-03-12", "Town day", recurring=True)
    leave = apply(leave_org, start_date="2030-03-11", end_date="2030-03-13")
    assert leave.days == 2


def test_leave_days_gives_fraction_of_each_working_day_for_approved_leave(leave_org, holiday):
    holiday(leave_org["org"], "2030-03-15")
    emp = leave_org["people"]["employee"].employee_id
    leave = apply(leave_org, start_date="2030-03-14", end_date="2030-03-19", half_day_start=True)
    with Session(get_engine()) as s:
        assert service.leave_days(session=s, organization_id=leave_org["org"].id, employee_ids=[emp],
                                  start=d("2030-03-01"), end=d("2030-03-31")) == {}
        pending = service.leave_days(session=s, organization_id=leave_org["org"].id, employee_ids=[emp],
                                     start=d("2030-03-01"), end=d("2030-03-31"), statuses=("pending",))
    assert pending == {(emp, d("2030-03-14")): 0.5, (emp, d("2030-03-18")): 1.0, (emp, d("2030-03-19")): 1.0}
    approve(leave_org, leave.id)
    with Session(get_engine()) as s:
        whole_org = service.leave_days(session=s, organization_id=leave_org["org"].id, employee_ids=None,
                                       start=d("2030-03-18"), end=d("2030-03-31"))
        other_person = service.leave_days(session=s, organization_id=leave_org["org"].id,
                                          employee_ids=[leave_org["people"]["manager"].employee_id],
                                          start=d("2030-03-01"), end=d("2030-03-31"))
        other_org = service.leave_days(session=s, organization_id=leave_org["org"].id + 999, employee_ids=None,
                                       start=d("2030-03-01"), end=d("2030-03-31"))
    assert whole_org == {(emp, d("2030-03-18")): 1.0, (emp, d("2030-03-19")): 1.0}  # clipped to the range
    assert other_person == {} and other_org == {}


def test_leave_days_ignores_weekends_even_under_the_sandwich_rule(leave_org):
    update_type(leave_org["types"]["Annual"].id, count_non_working_days=True)
    emp = leave_org["people"]["employee"].employee_id
    leave = apply(leave_org, start_date="2030-03-15", end_date="2030-03-18")
    approve(leave_org, leave.id)
    with Session(get_engine()) as s:
        days = service.leave_days(session=s, organization_id=leave_org["org"].id, employee_ids=[emp],
                                  start=d("2030-03-01"), end=d("2030-03-31"))
    assert days == {(emp, d("2030-03-15")): 1.0, (emp, d("2030-03-18")): 1.0}


def test_cancelled_and_rejected_leave_is_not_on_leave(leave_org):
    emp = leave_org["people"]["employee"].employee_id
    a = apply(leave_org, start_date="2030-03-11", end_date="2030-03-11")
    b = apply(leave_org, start_date="2030-03-12", end_date="2030-03-12")
    run(service.cancel_leave, actor=leave_org["actors"]["employee"], leave_id=a.id, now=NOW)
    run(service.decide, actor=leave_org["actors"]["manager"], leave_id=b.id, status="rejected", now=NOW)
    with Session(get_engine()) as s:
        assert service.leave_days(session=s, organization_id=leave_org["org"].id, employee_ids=[emp],
                                  start=d("2030-03-01"), end=d("2030-03-31"),
                                  statuses=("approved", "pending")) == {}
