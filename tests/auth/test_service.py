"""hr_portal.auth.service against a real database: accounts, sign-in, tokens, UI sessions, passwords."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, update
from sqlmodel import Session, select

from hr_portal.auth import service
from hr_portal.auth.models import PasswordResetToken, RefreshFamily, RefreshToken, Role, UISession, User
from hr_portal.core import events
from hr_portal.core.audit import AuditLog
from hr_portal.core.config import get_settings
from hr_portal.core.db import aware, get_engine, utcnow
from hr_portal.core.errors import AccountLocked, Conflict, Unauthorized, ValidationFailed
from hr_portal.core.mail import OutboxEmail
from hr_portal.core.security import hash_token, verify_password
from hr_portal.employees.models import Employee, EmployeeStatus
from hr_portal.org.models import Company, Organization
from tests.factories import PASSWORD, access_token_accepted, claims_of, create_organization, create_person
from tests.sql_count import statements

NEW_PASSWORD = "Brand-New-Pass-77"


def other_session() -> Session:
    """A second, independent connection (what another request would see)."""
    return Session(get_engine(), expire_on_commit=False)


def count(session: Session, model, *where) -> int:
    return session.exec(select(func.count()).select_from(model).where(*where)).one()


@pytest.fixture
def person(db):
    """An active employee in a fresh organization, committed."""
    org = create_organization(db)
    p = create_person(db, org, role=Role.employee)
    db.commit()
    return p


def register(db, **overrides):
    kwargs = dict(organization_name="Acme", first_name="Ada", last_name="Lovelace", email="ada@acme.example",
                  password=PASSWORD)
    kwargs.update(overrides)
    tokens = service.register_organization(session=db, **kwargs)
    db.commit()
    return tokens


def fail_login(db, email: str, password: str = "Wrong-Pass-99"):
    with pytest.raises(Unauthorized):
        service.login(session=db, email=email, password=password)
    db.rollback()  # what the API does after an error: the counter must survive it


# =============================================================================== registration


def test_register_organization_creates_org_company_admin_and_employee(db):
    tokens = register(db, organization_name="Umbrella", timezone="Europe/Berlin")

    org = db.get(Organization, tokens.user.organization_id)
    company = db.exec(select(Company).where(Company.organization_id == org.id)).one()
    user = db.get(User, tokens.user.id)
    employee = db.get(Employee, tokens.user.employee_id)
    assert org.name == "Umbrella" and company.timezone == "Europe/Berlin"
    assert Role(user.role) == Role.admin and user.organization_id == org.id
    assert verify_password(PASSWORD, user.password_hash)
    assert employee.user_id == user.id and employee.company_id == company.id
    assert employee.status == EmployeeStatus.active
    assert db.exec(select(AuditLog.action).where(AuditLog.organization_id == org.id)).all() == [
        "organization.registered"]


def test_register_organization_refuses_a_duplicate_email_and_leaves_nothing_behind(db):
    register(db, email="dup@example.com")
    with pytest.raises(Conflict):
        service.register_organization(session=db, organization_name="Other", first_name="B", last_name="C",
                                      email="DUP@example.com", password=PASSWORD)
    db.rollback()
    assert count(db, Organization) == 1 and count(db, User) == 1 and count(db, Employee) == 1


def test_register_organization_lists_every_blank_field(db):
    with pytest.raises(ValidationFailed) as err:
        service.register_organization(session=db, organization_name=" ", first_name="", last_name=" ",
                                      email="x@example.com", password=PASSWORD)
    assert {d["field"] for d in err.value.details} == {"organizationName", "firstName", "lastName"}


def test_registered_event_is_dispatched_only_after_commit(db):
    seen = []

    def listener(name, payload):
        seen.append((name, payload))

    events.subscribe(events.USER_REGISTERED, listener)
    try:
        service.register_organization(session=db, organization_name="Rolled back", first_name="A", last_name="B",
                                      email="rolled@example.com", password=PASSWORD)
        assert seen == []
        db.rollback()
        assert seen == []
        tokens = register(db, email="kept@example.com")
    finally:
        events.unsubscribe(events.USER_REGISTERED, listener)
    assert seen == [(events.USER_REGISTERED, {"user_id": tokens.user.id,
                                              "organization_id": tokens.user.organization_id})]


# =============================================================================== login and lockout


def test_login_counts_failures_even_though_the_caller_rolls_back(db, person):
    fail_login(db, person.email)
    fail_login(db, person.email)
    with other_session() as s:
        assert s.get(User, person.user_id).failed_login_count == 2


def test_login_locks_after_five_failures_and_records_it(db, person):
    for _ in range(5):
        fail_login(db, person.email)
    with other_session() as s:
        user = s.get(User, person.user_id)
        assert aware(user.locked_until) > utcnow() + timedelta(minutes=14)
        assert user.failed_login_count == 0  # the next lock needs five new failures
        actions = s.exec(select(AuditLog.action).where(AuditLog.actor_user_id == person.user_id)).all()
    assert actions.count("auth.login_failed") == 5 and actions.count("auth.account_locked") == 1

    with pytest.raises(AccountLocked) as err:
        service.login(session=db, email=person.email, password=PASSWORD)
    assert 14 * 60 < int(err.value.headers["Retry-After"]) <= 15 * 60 + 1


def test_lock_threshold_and_duration_come_from_settings(db, person, settings_override):
    settings_override(login_max_failures=2, login_lock_minutes=3)
    fail_login(db, person.email)
    fail_login(db, person.email)
    with pytest.raises(AccountLocked) as err:
        service.login(session=db, email=person.email, password=PASSWORD)
    assert 2 * 60 < int(err.value.headers["Retry-After"]) <= 3 * 60 + 1


def test_locked_account_does_not_count_further_attempts(db, person):
    for _ in range(5):
        fail_login(db, person.email)
    for _ in range(3):
        with pytest.raises(AccountLocked):
            service.login(session=db, email=person.email, password="Wrong-Pass-99")
        db.rollback()
    with other_session() as s:
        assert s.get(User, person.user_id).failed_login_count == 0


def test_login_after_the_lock_expired_succeeds_and_clears_the_lock(db, person):
    for _ in range(5):
        fail_login(db, person.email)
    db.exec(update(User).where(User.id == person.user_id).values(locked_until=utcnow() - timedelta(seconds=1)))
    db.commit()
    tokens = service.login(session=db, email=person.email, password=PASSWORD)
    db.commit()
    assert tokens.user.id == person.user_id
    user = db.get(User, person.user_id)
    db.refresh(user)
    assert user.locked_until is None and user.failed_login_count == 0 and user.last_login_at is not None


def test_login_is_case_insensitive_on_email(db, person):
    assert service.login(session=db, email=person.email.upper(), password=PASSWORD).user.id == person.user_id


def test_a_sign_in_reads_the_account_twice_and_writes_once_per_table(db, person):
    """Beside bcrypt, a sign-in at 9:00 costs its statements: the account by email before the hash; after it, the
    account as it is now with its employee record in one statement (the response's names come from it), then
    the writes (sign-in stamp, audit, the sign-in's token family and refresh token)."""
    with statements(this_thread=True) as seen:
        tokens = service.login(session=db, email=person.email, password=PASSWORD)
        db.commit()
    assert (tokens.user.first_name, tokens.user.employee_id) == (person.employee.first_name, person.employee_id)
    reads = [q for q in seen if q.lstrip().upper().startswith("SELECT")]
    assert len(reads) == 2, reads
    assert len(seen) <= 6, seen


def test_login_refuses_over_long_password_before_checking_it(db, person):
    with pytest.raises(ValidationFailed) as err:
        service.login(session=db, email=person.email, password="é" * 37)
    assert err.value.details[0]["field"] == "password"
    with other_session() as s:
        assert s.get(User, person.user_id).failed_login_count == 0


@pytest.mark.parametrize("change", ["user-inactive", "employee-inactive", "no-password"])
def test_login_refuses_a_disabled_account_with_the_bad_credentials_message(db, person, change):
    if change == "user-inactive":
        db.exec(update(User).where(User.id == person.user_id).values(is_active=False))
    elif change == "employee-inactive":
        db.exec(update(Employee).where(Employee.id == person.employee_id).values(status=EmployeeStatus.inactive))
    else:
        db.exec(update(User).where(User.id == person.user_id).values(password_hash=None))
    db.commit()
    with pytest.raises(Unauthorized) as err:
        service.login(session=db, email=person.email, password=PASSWORD)
    assert err.value.message == service.BAD_CREDENTIALS


# =============================================================================== tokens


def test_access_token_claims_are_complete(db, person):
    tokens = service.login(session=db, email=person.email, password=PASSWORD)
    db.commit()
    claims = claims_of(tokens.access_token)
    settings = get_settings()
    assert claims["type"] == "access" and claims["sub"] == str(person.user_id)
    assert claims["iss"] == settings.jwt_issuer and claims["aud"] == settings.jwt_audience
    assert claims["org"] == person.organization_id
    assert claims["exp"] - claims["iat"] == settings.access_token_minutes * 60
    refresh_claims = claims_of(tokens.refresh_token)
    assert refresh_claims["exp"] - refresh_claims["iat"] == settings.refresh_token_days * 86400
    assert refresh_claims["fam"] == claims["fam"] and refresh_claims["jti"] != claims["jti"]


def test_refresh_reuse_revokes_the_family_even_though_the_caller_rolls_back(db, person):
    first = service.login(session=db, email=person.email, password=PASSWORD)
    db.commit()
    second = service.refresh(session=db, refresh_token=first.refresh_token)
    db.commit()

    with pytest.raises(Unauthorized):
        service.refresh(session=db, refresh_token=first.refresh_token)
    db.rollback()

    family_id = claims_of(first.refresh_token)["fam"]
    with other_session() as s:
        assert s.get(RefreshFamily, family_id).revoked_at is not None
    assert not access_token_accepted(second.access_token)
    with pytest.raises(Unauthorized):
        service.refresh(session=db, refresh_token=second.refresh_token)


def test_refresh_marks_the_old_token_used_and_stores_the_new_one(db, person):
    first = service.login(session=db, email=person.email, password=PASSWORD)
    db.commit()
    second = service.refresh(session=db, refresh_token=first.refresh_token)
    db.commit()
    old = db.get(RefreshToken, claims_of(first.refresh_token)["jti"])
    new = db.get(RefreshToken, claims_of(second.refresh_token)["jti"])
    assert old.used_at is not None and new.used_at is None
    assert old.family_id == new.family_id == claims_of(second.access_token)["fam"]


def test_deactivation_refuses_existing_tokens_at_once(db, person):
    tokens = service.login(session=db, email=person.email, password=PASSWORD)
    db.commit()
    assert access_token_accepted(tokens.access_token)
    db.exec(update(User).where(User.id == person.user_id).values(is_active=False))
    db.commit()
    assert not access_token_accepted(tokens.access_token)
    with pytest.raises(Unauthorized):
        service.refresh(session=db, refresh_token=tokens.refresh_token)


def test_logout_revokes_access_token_and_its_login(db, person):
    tokens = service.login(session=db, email=person.email, password=PASSWORD)
    db.commit()
    actor, claims = service.actor_from_access_token(session=db, token=tokens.access_token)
    service.logout(session=db, actor=actor, access_claims=claims)
    db.commit()
    assert not access_token_accepted(tokens.access_token)
    with pytest.raises(Unauthorized):
        service.refresh(session=db, refresh_token=tokens.refresh_token)


# =============================================================================== UI sessions


def ui_login(db, email: str, password: str = PASSWORD):
    token, actor = service.create_ui_session(session=db, email=email, password=password, ip="203.0.113.9",
                                             user_agent="pytest")
    db.commit()
    return token, actor


def resolve(token):
    with other_session() as s:
        return service.actor_from_ui_session(session=s, token=token)


def test_ui_session_resolves_to_its_user(db, person):
    token, actor = ui_login(db, person.email)
    resolved = resolve(token)
    assert resolved is not None
    assert (resolved.user_id, resolved.organization_id, resolved.role, resolved.employee_id) == (
        person.user_id, person.organization_id, Role.employee, person.employee_id)
    assert (actor.user_id, actor.organization_id) == (resolved.user_id, resolved.organization_id)


def test_ui_session_token_is_stored_only_as_a_hash(db, person):
    token, _ = ui_login(db, person.email)
    row = db.exec(select(UISession).where(UISession.user_id == person.user_id)).one()
    assert row.token_hash == hash_token(token) != token
    assert row.ip == "203.0.113.9" and row.user_agent == "pytest"


@pytest.mark.parametrize("token", [None, "", "not-a-session", "x" * 500])
def test_unknown_ui_session_token_gives_no_actor(db, token):
    assert resolve(token) is None


def test_ui_session_is_refused_after_end_ui_session(db, person):
    token, _ = ui_login(db, person.email)
    other_token, _ = ui_login(db, person.email)
    service.end_ui_session(session=db, token=token)
    db.commit()
    assert resolve(token) is None
    assert resolve(other_token) is not None  # only that session ended


def test_ui_session_is_refused_after_change_password(db, person):
    token, actor = ui_login(db, person.email)
    service.change_password(session=db, actor=actor, current_password=PASSWORD, new_password=NEW_PASSWORD)
    db.commit()
    assert resolve(token) is None


def test_ui_session_is_refused_after_deactivation(db, person):
    token, _ = ui_login(db, person.email)
    db.exec(update(User).where(User.id == person.user_id).values(is_active=False))
    db.commit()
    assert resolve(token) is None


def test_ui_session_is_refused_after_expiry(db, person):
    token, _ = ui_login(db, person.email)
    db.exec(update(UISession).where(UISession.token_hash == hash_token(token))
            .values(expires_at=utcnow() - timedelta(seconds=1)))
    db.commit()
    assert resolve(token) is None


def test_ui_session_lifetime_comes_from_settings(db, person):
    token, _ = ui_login(db, person.email)
    row = db.exec(select(UISession).where(UISession.token_hash == hash_token(token))).one()
    lifetime = aware(row.expires_at) - aware(row.created_at)
    assert abs(lifetime - timedelta(hours=get_settings().ui_session_hours)) < timedelta(seconds=5)


def test_ui_sign_in_uses_the_same_credential_checks(db, person):
    with pytest.raises(Unauthorized):
        service.create_ui_session(session=db, email=person.email, password="Wrong-Pass-99")
    db.rollback()
    for _ in range(4):
        fail_login(db, person.email)
    with pytest.raises(AccountLocked):
        service.create_ui_session(session=db, email=person.email, password=PASSWORD)


def test_ui_sessions_of_different_users_never_mix(db):
    org_a, org_b = create_organization(db), create_organization(db)
    alice = create_person(db, org_a, role=Role.hr_manager)
    bob = create_person(db, org_b, role=Role.admin)
    db.commit()
    token_a, _ = ui_login(db, alice.email)
    token_b, _ = ui_login(db, bob.email)
    a, b = resolve(token_a), resolve(token_b)
    assert (a.user_id, a.organization_id, a.role) == (alice.user_id, org_a.id, Role.hr_manager)
    assert (b.user_id, b.organization_id, b.role) == (bob.user_id, org_b.id, Role.admin)


# =============================================================================== change password


def test_change_password_requires_the_current_password(db, person):
    token, actor = ui_login(db, person.email)
    with pytest.raises(ValidationFailed) as err:
        service.change_password(session=db, actor=actor, current_password="Wrong-Pass-99", new_password=NEW_PASSWORD)
    assert err.value.details[0]["field"] == "currentPassword"
    db.rollback()
    assert resolve(token) is not None
    assert service.login(session=db, email=person.email, password=PASSWORD).user.id == person.user_id


@pytest.mark.parametrize("new_password", ["short", "password123", "é" * 37, PASSWORD])
def test_change_password_refuses_a_weak_or_unchanged_new_password(db, person, new_password):
    _, actor = ui_login(db, person.email)
    with pytest.raises(ValidationFailed) as err:
        service.change_password(session=db, actor=actor, current_password=PASSWORD, new_password=new_password)
    assert err.value.details[0]["field"] == "newPassword"


def test_change_password_sets_it_and_revokes_api_tokens(db, person):
    tokens = service.login(session=db, email=person.email, password=PASSWORD)
    db.commit()
    _, actor = ui_login(db, person.email)
    service.change_password(session=db, actor=actor, current_password=PASSWORD, new_password=NEW_PASSWORD)
    db.commit()

    assert not access_token_accepted(tokens.access_token)
    with pytest.raises(Unauthorized):
        service.refresh(session=db, refresh_token=tokens.refresh_token)
    db.rollback()
    with pytest.raises(Unauthorized):
        service.login(session=db, email=person.email, password=PASSWORD)
    db.rollback()
    fresh = service.login(session=db, email=person.email, password=NEW_PASSWORD)
    db.commit()
    assert access_token_accepted(fresh.access_token)


def test_password_change_bumps_token_version_and_revokes_every_session_and_login(db, person):
    """Both revocation layers, checked separately (each alone would hide the other's absence)."""
    tokens = service.login(session=db, email=person.email, password=PASSWORD)
    db.commit()
    ui_login(db, person.email)
    token, actor = ui_login(db, person.email)
    version = db.get(User, person.user_id).token_version
    service.change_password(session=db, actor=actor, current_password=PASSWORD, new_password=NEW_PASSWORD)
    db.commit()
    with other_session() as s:
        assert s.get(User, person.user_id).token_version == version + 1
        assert all(r.revoked_at is not None for r in s.exec(select(UISession)).all())
        assert s.get(RefreshFamily, claims_of(tokens.refresh_token)["fam"]).revoked_at is not None


def test_change_password_requires_an_actor(db):
    with pytest.raises(Unauthorized):
        service.change_password(session=db, actor=None, current_password=PASSWORD, new_password=NEW_PASSWORD)


# =============================================================================== password links


def test_password_link_uses_the_configured_base_url(db, person, settings_override):
    settings_override(base_url="https://people.example.org/")
    link = service.create_password_link(db, person.user)
    assert link.startswith("https://people.example.org/reset-password?token=")


def test_welcome_link_lives_seven_days_and_reset_link_one_hour(db, person):
    service.create_password_link(db, person.user, purpose="welcome")
    service.create_password_link(db, person.user, purpose="reset")
    db.commit()
    rows = {r.purpose: r for r in db.exec(select(PasswordResetToken)).all()}
    welcome = aware(rows["welcome"].expires_at) - aware(rows["welcome"].created_at)
    reset = aware(rows["reset"].expires_at) - aware(rows["reset"].created_at)
    assert abs(welcome - timedelta(days=7)) < timedelta(seconds=5)
    assert abs(reset - timedelta(hours=1)) < timedelta(seconds=5)


def _link_token(link: str) -> str:
    return link.split("token=", 1)[1]


def test_request_password_reset_queues_one_mail_for_a_real_account_only(db, person):
    service.request_password_reset(session=db, email=person.email.upper())
    service.request_password_reset(session=db, email="nobody@example.com")
    service.request_password_reset(session=db, email="not an email")
    mails = db.exec(select(OutboxEmail)).all()
    assert [(m.to_address, m.kind) for m in mails] == [(person.email, "password_reset")]
    assert count(db, PasswordResetToken) == 1


def test_confirm_password_reset_sets_password_and_spends_token(db, person):
    token = _link_token(service.create_password_link(db, person.user))
    db.commit()
    service.confirm_password_reset(session=db, token=token, new_password=NEW_PASSWORD)
    db.commit()
    assert service.login(session=db, email=person.email, password=NEW_PASSWORD).user.id == person.user_id
    db.commit()
    with pytest.raises(ValidationFailed):
        service.confirm_password_reset(session=db, token=token, new_password="Another-Pass-88")


def test_confirm_password_reset_ends_ui_sessions_and_clears_a_lock(db, person):
    ui_token, _ = ui_login(db, person.email)
    for _ in range(5):
        fail_login(db, person.email)
    token = _link_token(service.create_password_link(db, person.user))
    db.commit()
    service.confirm_password_reset(session=db, token=token, new_password=NEW_PASSWORD)
    db.commit()
    assert resolve(ui_token) is None
    assert service.login(session=db, email=person.email, password=NEW_PASSWORD).user.id == person.user_id


def test_confirm_password_reset_refuses_a_deactivated_user(db, person):
    token = _link_token(service.create_password_link(db, person.user))
    db.exec(update(User).where(User.id == person.user_id).values(is_active=False))
    db.commit()
    with pytest.raises(ValidationFailed):
        service.confirm_password_reset(session=db, token=token, new_password=NEW_PASSWORD)
    db.rollback()
    assert verify_password(PASSWORD, db.get(User, person.user_id).password_hash)


def test_welcome_link_sets_a_first_password(db):
    org = create_organization(db)
    invited = create_person(db, org, password=None)
    token = _link_token(service.create_password_link(db, invited.user, purpose="welcome"))
    db.commit()
    service.confirm_password_reset(session=db, token=token, new_password=NEW_PASSWORD)
    db.commit()
    assert service.login(session=db, email=invited.email, password=NEW_PASSWORD).user.id == invited.user_id
