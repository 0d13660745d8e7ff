"""Organization settings, companies, the working-day calendar, the admin audit log and jobs list."""

from __future__ import annotations

import datetime as dt

import pytest

from hr_portal.auth import service as auth_service
from hr_portal.core.errors import Forbidden, NotFound, ValidationFailed
from hr_portal.org import service
from hr_portal.org.models import Company, CompanyUpdate, Holiday


def actor(db, person):
    return auth_service.actor_for(db, db.get(type(person.user), person.user.id))


def test_admin_renames_the_organization_and_it_is_audited(db, people):
    admin = actor(db, people["admin"])
    service.rename_organization(session=db, actor=admin, name="  Renamed Inc  ")
    db.commit()
    assert service.get_organization(session=db, actor=admin).name == "Renamed Inc"
    rows, total = service.list_audit(session=db, actor=admin, action="organization.renamed")
    assert total == 1 and "Renamed Inc" in rows[0]["changes"]


@pytest.mark.parametrize("role", ["hr_manager", "manager", "employee"])
def test_only_admins_change_settings(db, people, role):
    who = actor(db, people[role])
    with pytest.raises(Forbidden):
        service.rename_organization(session=db, actor=who, name="Nope")
    with pytest.raises(Forbidden):
        service.create_company(session=db, actor=who, data=CompanyUpdate(name="X"))
    with pytest.raises(Forbidden):
        service.list_audit(session=db, actor=who)
    with pytest.raises(Forbidden):
        service.list_jobs(session=db, actor=who)


def test_company_create_and_update_validate_time_zone_and_weekly_offs(db, people):
    admin = actor(db, people["admin"])
    created = service.create_company(session=db, actor=admin,
                                     data=CompanyUpdate(name="Lisbon Lda", timezone="Europe/Lisbon", weekly_off_days=[7]))
    assert created.weekly_off_days == [7]
    with pytest.raises(ValidationFailed, match="Unknown time zone"):
        service.update_company(session=db, actor=admin, company_id=created.id, data=CompanyUpdate(timezone="Mars/Base"))
    with pytest.raises(ValidationFailed, match="Weekly off days"):
        service.update_company(session=db, actor=admin, company_id=created.id,
                               data=CompanyUpdate(weekly_off_days=[1, 2, 3, 4, 5, 6, 7]))
    with pytest.raises(ValidationFailed, match="Weekly off days"):
        service.update_company(session=db, actor=admin, company_id=created.id, data=CompanyUpdate(weekly_off_days=[0]))
    with pytest.raises(ValidationFailed):
        service.create_company(session=db, actor=admin, data=CompanyUpdate(name="   "))


def test_another_organizations_company_is_not_found(db, people, other_org):
    admin = actor(db, people["admin"])
    with pytest.raises(NotFound):
        service.update_company(session=db, actor=admin, company_id=other_org.company.id, data=CompanyUpdate(name="Mine"))
    assert other_org.company.id not in [c.id for c in service.list_companies(session=db, actor=admin)]


def test_company_list_counts_active_people(db, people, org):
    admin = actor(db, people["admin"])
    (company,) = service.list_companies(session=db, actor=admin)
    assert company.headcount == 4


def test_day_kinds_mark_weekly_offs_and_one_off_and_recurring_holidays(db, org):
    company = db.get(Company, org.company.id)
    company.weekly_off_days = "6,7"
    db.add_all([
        Holiday(organization_id=org.id, company_id=company.id, date=dt.date(2020, 12, 25), name="Christmas", recurring=True),
        Holiday(organization_id=org.id, company_id=company.id, date=dt.date(2026, 12, 24), name="Eve", recurring=False),
        Holiday(organization_id=org.id, company_id=company.id, date=dt.date(2025, 12, 31), name="Old one-off"),
    ])
    db.commit()
    kinds = service.day_kinds(db, company, dt.date(2026, 12, 21), dt.date(2026, 12, 31))
    assert kinds[dt.date(2026, 12, 24)] == "holiday"  # one-off this year
    assert kinds[dt.date(2026, 12, 25)] == "holiday"  # recurring from 2020
    assert kinds[dt.date(2026, 12, 26)] == "weekly_off"  # Saturday
    assert kinds[dt.date(2026, 12, 31)] == "working"  # last year's one-off does not recur
    assert service.working_days(db, company, dt.date(2026, 12, 21), dt.date(2026, 12, 31)) == [
        dt.date(2026, 12, 21), dt.date(2026, 12, 22), dt.date(2026, 12, 23), dt.date(2026, 12, 28),
        dt.date(2026, 12, 29), dt.date(2026, 12, 30), dt.date(2026, 12, 31)]
    # One day, as a check-in's card asks: the range's own ends count, one-off and recurring alike.
    assert service.holidays_between(db, company, dt.date(2026, 12, 24), dt.date(2026, 12, 24)) == {
        dt.date(2026, 12, 24): "Eve"}
    assert service.holidays_between(db, company, dt.date(2027, 12, 25), dt.date(2027, 12, 25)) == {
        dt.date(2027, 12, 25): "Christmas"}
    assert service.holidays_between(db, company, dt.date(2025, 12, 31), dt.date(2026, 1, 1)) == {
        dt.date(2025, 12, 31): "Old one-off"}


def test_company_today_uses_the_company_time_zone(db, org):
    company = db.get(Company, org.company.id)
    company.timezone = "Pacific/Auckland"
    late_utc = dt.datetime(2026, 11, 26, 20, 0, tzinfo=dt.UTC)  # already the 27th in Auckland
    assert service.company_today(company, late_utc) == dt.date(2026, 11, 27)
    company.timezone = "America/Chicago"
    early_utc = dt.datetime(2026, 11, 26, 3, 0, tzinfo=dt.UTC)  # still the 25th in Chicago
    assert service.company_today(company, early_utc) == dt.date(2026, 11, 25)


def test_audit_log_is_filtered_paged_and_scoped_to_the_organization(client, db, people, other_org):
    from tests import factories

    other_admin = factories.create_person(db, other_org, role=factories.Role.admin)
    db.commit()
    for _ in range(3):
        factories.login(client, people["employee"].email)
    factories.login(client, other_admin.email)
    client.post("/api/v1/auth/login", json={"email": people["employee"].email, "password": "wrong-password-1"})
    admin = actor(db, people["admin"])
    rows, total = service.list_audit(session=db, actor=admin, action="auth.login")
    assert total == 3  # exact action: the three sign-ins
    assert service.list_audit(session=db, actor=admin, action="auth.*")[1] == 4  # prefix: plus the failure
    rows, total = service.list_audit(session=db, actor=admin, action="auth.login_failed")
    assert total == 1 and rows[0]["user"] == people["employee"].email
    rows, total = service.list_audit(session=db, actor=admin, user_email=other_admin.email)
    assert total == 0  # the other organization's sign-in is not visible
    today = dt.datetime.now(dt.UTC).date()
    assert service.list_audit(session=db, actor=admin, start=today + dt.timedelta(days=1))[1] == 0
    assert "auth.login" in service.audit_actions(session=db, actor=admin)


def test_jobs_list_shows_schedule_next_and_last_run(db, people):
    admin = actor(db, people["admin"])
    jobs = {j["id"]: j for j in service.list_jobs(session=db, actor=admin)}
    assert jobs["core.purge_expired_tokens"]["last_status"] == "never"
    assert jobs["core.purge_expired_tokens"]["next_run"]
    db.commit()  # run_job_now uses its own transactions (SQLite: one writer at a time)
    result = service.run_job_now(actor=admin, job_id="core.purge_expired_tokens")
    assert result["status"] == "succeeded"
    jobs = {j["id"]: j for j in service.list_jobs(session=db, actor=admin)}
    assert jobs["core.purge_expired_tokens"]["last_status"] == "succeeded"
    db.commit()
    with pytest.raises(NotFound):
        service.run_job_now(actor=admin, job_id="no.such.job")
