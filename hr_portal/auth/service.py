"""Accounts, sign-in, tokens and password reset. No reflex or fastapi imports here."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from sqlalchemy import bindparam, func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from hr_portal.auth.models import (
    AuthTokens,
    PasswordResetToken,
    RefreshFamily,
    RefreshToken,
    RevokedToken,
    Role,
    UISession,
    User,
    UserPublic,
)
from hr_portal.core import audit, cache, events, mail
from hr_portal.core.authz import Actor, require
from hr_portal.core.config import get_settings
from hr_portal.core.db import aware, utcnow
from hr_portal.core.errors import AccountLocked, Conflict, RateLimited, Unauthorized, ValidationFailed
from hr_portal.core.security import (
    MAX_PASSWORD_BYTES,
    decode_jwt,
    encode_jwt,
    hash_password,
    hash_token,
    new_jti,
    new_token,
    validate_password,
    verify_password,
)
from hr_portal.employees.models import Employee
from hr_portal.org.models import Company, Organization

BAD_CREDENTIALS = "Invalid email or password."
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def normalize_email(email: str) -> str:
    email = (email or "").strip().lower()
    if not _EMAIL_RE.match(email) or len(email) > 254:
        raise ValidationFailed.field("email", "Enter a valid email address.")
    return email


def get_user_by_email(session: Session, email: str) -> User | None:
    return session.exec(select(User).where(func.lower(User.email) == email.strip().lower())).first()


def employee_of(session: Session, user_id: int) -> Employee | None:
    return session.exec(select(Employee).where(Employee.user_id == user_id)).first()


_UNREAD: Any = object()  # "the caller has not read the user's employee record": read it


def user_public(session: Session, user: User, employee: Employee | None = _UNREAD) -> UserPublic:
    emp = employee_of(session, user.id) if employee is _UNREAD else employee
    return UserPublic(
        id=user.id, email=user.email, first_name=emp.first_name if emp else "", last_name=emp.last_name if emp else "",
        role=user.role, organization_id=user.organization_id, employee_id=emp.id if emp else None,
    )


def actor_for(session: Session, user: User, *, ip: str | None = None, user_agent: str | None = None,
              employee: Employee | None = _UNREAD) -> Actor:
    emp = employee_of(session, user.id) if employee is _UNREAD else employee
    return Actor(user_id=user.id, organization_id=user.organization_id, role=Role(user.role),
                 employee_id=emp.id if emp else None, email=user.email, ip=ip, user_agent=user_agent)


# ---------------------------------------------------------------- registration


def register_organization(
    *, session: Session, organization_name: str, first_name: str, last_name: str, email: str, password: str,
    timezone: str = "UTC", ip: str | None = None, user_agent: str | None = None,
) -> AuthTokens:
    """Create an organization, its default company, and the caller as its admin (with an employee record)."""
    organization_name = (organization_name or "").strip()
    first_name, last_name = (first_name or "").strip(), (last_name or "").strip()
    problems = []
    if not organization_name:
        problems.append({"field": "organizationName", "message": "Organization name is required."})
    if not first_name:
        problems.append({"field": "firstName", "message": "First name is required."})
    if not last_name:
        problems.append({"field": "lastName", "message": "Last name is required."})
    if problems:
        raise ValidationFailed(problems[0]["message"], details=problems)
    email = normalize_email(email)
    validate_password(password)
    if get_user_by_email(session, email):
        raise Conflict("An account with this email already exists.")
    password_hash = hash_password(password)

    org = Organization(name=organization_name[:200])
    session.add(org)
    session.flush()
    company = Company(organization_id=org.id, name=organization_name[:200], timezone=timezone)
    session.add(company)
    user = User(organization_id=org.id, email=email, password_hash=password_hash, role=Role.admin)
    session.add(user)
    try:
        session.flush()
    except IntegrityError as exc:
        session.rollback()
        raise Conflict("An account with this email already exists.") from exc
    employee = Employee(
        organization_id=org.id, company_id=company.id, user_id=user.id, employee_code="EMP-0001",
        first_name=first_name[:100], last_name=last_name[:100], email=email, designation="Administrator",
        date_of_joining=utcnow().date(),
    )
    session.add(employee)
    session.flush()
    audit.record(session, action="organization.registered", organization_id=org.id, user_id=user.id,
                 entity_type="organization", entity_id=org.id, ip=ip, user_agent=user_agent)
    events.publish(session, events.USER_REGISTERED, user_id=user.id, organization_id=org.id)
    return issue_tokens(session, user)


# ---------------------------------------------------------------- sign-in


def _check_credentials(session: Session, *, email: str, password: str, ip: str | None,
                       user_agent: str | None) -> tuple[User, Employee | None]:
    """Shared by API login and UI sign-in. Lockout after N failures in a row; one message for
    unknown email and wrong password. Ends the read transaction before bcrypt so no lock is held.
    Returns the user and their employee record (None for an account without one)."""
    settings = get_settings()
    # Credential stuffing guard: failed sign-ins per client IP per minute (successes don't count, so
    # a whole office behind one NAT address can still sign in at 9:00).
    fail_key = f"loginfail:{ip or 'unknown'}"
    limit = settings.login_rate_limit_per_minute
    if limit > 0 and cache.current(fail_key) >= limit:
        raise RateLimited("Too many failed sign-in attempts from your network. Try again in a minute.",
                          headers={"Retry-After": "60"})
    if len((password or "").encode("utf-8")) > MAX_PASSWORD_BYTES:
        raise ValidationFailed.field("password", f"Password must be at most {MAX_PASSWORD_BYTES} bytes in UTF-8.")
    email_norm = (email or "").strip().lower()
    user = get_user_by_email(session, email_norm) if email_norm else None
    user_id = user.id if user else None
    locked_until = aware(user.locked_until) if user else None
    session.commit()  # release the (SQLite) transaction while bcrypt runs

    now = utcnow()
    if user is not None and locked_until and locked_until > now:
        retry = int((locked_until - now).total_seconds()) + 1
        raise AccountLocked(
            f"Too many failed sign-in attempts. Try again in {max(1, retry // 60)} minute(s).",
            headers={"Retry-After": str(retry)},
        )
    ok = verify_password(password or "", user.password_hash if user else None)
    if not ok:
        cache.hit(fail_key, 60)
    if user is None:
        audit.record(session, action="auth.login_failed", changes={"email": email_norm[:254], "reason": "unknown"},
                     ip=ip, user_agent=user_agent)
        session.commit()
        raise Unauthorized(BAD_CREDENTIALS)
    if not ok:
        count = session.exec(
            update(User).where(User.id == user_id).values(failed_login_count=User.failed_login_count + 1)
            .returning(User.failed_login_count)
        ).scalar_one()
        audit.record(session, action="auth.login_failed", organization_id=user.organization_id, user_id=user_id,
                     entity_type="user", entity_id=user_id, ip=ip, user_agent=user_agent)
        if count >= settings.login_max_failures:
            until = now + timedelta(minutes=settings.login_lock_minutes)
            session.exec(update(User).where(User.id == user_id).values(locked_until=until, failed_login_count=0))
            audit.record(session, action="auth.account_locked", organization_id=user.organization_id,
                         user_id=user_id, entity_type="user", entity_id=user_id, ip=ip, user_agent=user_agent)
        session.commit()
        raise Unauthorized(BAD_CREDENTIALS)
    # The account as it is now (deactivated or re-keyed during the hash?) and its employee record, in one
    # statement; the record is passed on to the response instead of being read again.
    user, emp = session.exec(
        select(User, Employee).outerjoin(Employee, Employee.user_id == User.id).where(User.id == user_id)
        .order_by(Employee.id).limit(1).execution_options(populate_existing=True)).one()
    if not user.is_active or user.password_hash is None or (emp is not None and emp.status != "active"):
        session.rollback()
        raise Unauthorized(BAD_CREDENTIALS)
    user.failed_login_count = 0
    user.locked_until = None
    user.last_login_at = now
    session.add(user)
    audit.record(session, action="auth.login", organization_id=user.organization_id, user_id=user.id,
                 entity_type="user", entity_id=user.id, ip=ip, user_agent=user_agent)
    return user, emp


def login(*, session: Session, email: str, password: str, ip: str | None = None, user_agent: str | None = None) -> AuthTokens:
    user, emp = _check_credentials(session, email=email, password=password, ip=ip, user_agent=user_agent)
    return issue_tokens(session, user, employee=emp)


def issue_tokens(session: Session, user: User, *, family_id: str | None = None,
                 employee: Employee | None = _UNREAD) -> AuthTokens:
    settings = get_settings()
    if family_id is None:
        family_id = new_jti()
        session.add(RefreshFamily(id=family_id, user_id=user.id))
    claims = {"ver": user.token_version, "fam": family_id, "org": user.organization_id}
    access, _, _ = encode_jwt(sub=user.id, token_type="access",
                              lifetime=timedelta(minutes=settings.access_token_minutes), extra=claims)
    refresh, refresh_jti, refresh_exp = encode_jwt(sub=user.id, token_type="refresh",
                                                   lifetime=timedelta(days=settings.refresh_token_days), extra=claims)
    session.add(RefreshToken(jti=refresh_jti, family_id=family_id, user_id=user.id, expires_at=refresh_exp))
    session.flush()
    return AuthTokens(user=user_public(session, user, employee), access_token=access, refresh_token=refresh,
                      expires_in=settings.access_token_minutes * 60)


def _access_check_statement():
    """Everything an access token's checks need, in ONE statement (one round trip per API request):
    the user (active? token_version?), their employee id, whether the token's sign-in (refresh family)
    is still live and whether the token's id was revoked (logout). Nothing is cached: a logout, a
    deactivation or a password change in any process takes effect on the next request."""
    from sqlalchemy import bindparam, exists
    from sqlalchemy import select as sa_select

    users, families, revoked = User.__table__, RefreshFamily.__table__, RevokedToken.__table__
    employees = Employee.__table__
    employee_id = (sa_select(employees.c.id).where(employees.c.user_id == users.c.id).limit(1)
                   .scalar_subquery())
    family_live = exists().where(families.c.id == bindparam("fam"), families.c.user_id == users.c.id,
                                 families.c.revoked_at.is_(None))
    jti_revoked = exists().where(revoked.c.jti == bindparam("jti"))
    return sa_select(users.c.organization_id, users.c.role, users.c.is_active, users.c.token_version,
                     users.c.email, employee_id.label("employee_id"), family_live.label("family_live"),
                     jti_revoked.label("jti_revoked")).where(users.c.id == bindparam("sub"))


_ACCESS_CHECK = _access_check_statement()


def actor_from_access_token(*, session: Session, token: str, ip: str | None = None,
                            user_agent: str | None = None) -> tuple[Actor, dict]:
    claims = decode_jwt(token, expected_type="access")
    return actor_from_access_claims(session=session, claims=claims, ip=ip, user_agent=user_agent), claims


def actor_from_access_claims(*, session: Session, claims: dict, ip: str | None = None,
                             user_agent: str | None = None) -> Actor:
    """The actor behind an access token whose signature and expiry `decode_jwt` has checked: 401 when
    the token was revoked, its sign-in ended, or the account was deactivated or re-keyed since."""
    session.flush()  # a change this session has not written yet counts (the check reads the database)
    row = session.connection().execute(
        _ACCESS_CHECK, {"sub": claims["sub"], "fam": claims.get("fam") or "", "jti": claims["jti"]}).first()
    if (row is None or row.jti_revoked or not row.is_active or claims.get("ver") != row.token_version
            or not row.family_live):
        raise Unauthorized("Token has been revoked.")
    return Actor(user_id=claims["sub"], organization_id=row.organization_id, role=Role(row.role),
                 employee_id=row.employee_id, email=row.email, ip=ip, user_agent=user_agent)


def logout(*, session: Session, actor: Actor, access_claims: dict, refresh_token: str | None = None) -> None:
    require(actor)
    now = utcnow()
    session.merge(RevokedToken(jti=access_claims["jti"], expires_at=aware(_ts(access_claims["exp"]))))
    families = {access_claims.get("fam")}
    if refresh_token:
        try:
            claims = decode_jwt(refresh_token, expected_type="refresh")
        except Unauthorized:
            claims = None
        if claims and claims["sub"] == actor.user_id:
            families.add(claims.get("fam"))
    for fam in filter(None, families):
        session.exec(update(RefreshFamily).where(RefreshFamily.id == fam, RefreshFamily.user_id == actor.user_id,
                                                 RefreshFamily.revoked_at.is_(None)).values(revoked_at=now))
    audit.record(session, action="auth.logout", actor=actor, entity_type="user", entity_id=actor.user_id)


def _ts(epoch: int):
    from datetime import UTC, datetime

    return datetime.fromtimestamp(epoch, UTC)


def refresh(*, session: Session, refresh_token: str) -> AuthTokens:
    claims = decode_jwt(refresh_token or "", expected_type="refresh")
    row = session.get(RefreshToken, claims["jti"])
    family = session.get(RefreshFamily, claims.get("fam") or "")
    if row is None or family is None or row.family_id != family.id:
        raise Unauthorized("Invalid refresh token.")
    if family.revoked_at is not None:
        raise Unauthorized("Refresh token has been revoked.")
    spent = session.exec(
        update(RefreshToken).where(RefreshToken.jti == row.jti, RefreshToken.used_at.is_(None)).values(used_at=utcnow())
    ).rowcount
    if spent != 1:
        # Reuse of a spent token: someone else holds a copy. Kill the whole login.
        session.exec(update(RefreshFamily).where(RefreshFamily.id == family.id).values(revoked_at=utcnow()))
        audit.record(session, action="auth.refresh_reuse", user_id=row.user_id, entity_type="user", entity_id=row.user_id,
                     organization_id=claims.get("org"))
        session.commit()
        raise Unauthorized("Refresh token has already been used; all tokens of this sign-in are revoked.")
    user = session.get(User, claims["sub"])
    if user is None or not user.is_active or claims.get("ver") != user.token_version:
        session.rollback()
        raise Unauthorized("Refresh token has been revoked.")
    return issue_tokens(session, user, family_id=family.id)


# ---------------------------------------------------------------- UI sessions


def create_ui_session(*, session: Session, email: str, password: str, ip: str | None = None,
                      user_agent: str | None = None) -> tuple[str, Actor]:
    user, emp = _check_credentials(session, email=email, password=password, ip=ip, user_agent=user_agent)
    token = new_token()
    settings = get_settings()
    session.add(UISession(token_hash=hash_token(token), user_id=user.id, organization_id=user.organization_id,
                          token_version=user.token_version, expires_at=utcnow() + timedelta(hours=settings.ui_session_hours),
                          ip=ip, user_agent=(user_agent or "")[:300] or None))
    session.flush()
    return token, actor_for(session, user, ip=ip, user_agent=user_agent, employee=emp)


def actor_from_ui_session(*, session: Session, token: str | None, ip: str | None = None,
                          user_agent: str | None = None) -> Actor | None:
    """The actor behind a browser's opaque session token, or None when it is not (or no longer) valid."""
    found = ui_session_lookup(session=session, token=token, ip=ip, user_agent=user_agent)
    return found[0] if found is not None else None


# Built once with a bound parameter: every Reflex event that touches the database runs it, and building the
# select (and its cache key) cost about twice what running it does.
_UI_SESSION_LOOKUP = (
    select(UISession.revoked_at, UISession.expires_at, UISession.token_version, User.token_version,
           User.is_active, User.id, User.organization_id, User.role, User.email,
           Employee.id, Employee.first_name, Employee.last_name, Organization.name)
    .select_from(UISession)
    .join(User, User.id == UISession.user_id)
    .outerjoin(Employee, Employee.user_id == User.id)
    .outerjoin(Organization, Organization.id == User.organization_id)
    .where(UISession.token_hash == bindparam("token_hash")))


def ui_session_lookup(*, session: Session, token: str | None, ip: str | None = None,
                      user_agent: str | None = None) -> tuple[Actor, UserPublic, str] | None:
    """The actor behind a browser session token with its profile (`user_public`) and organization name,
    in ONE statement (ui_sessions join users, left join employees and organizations): the Reflex UI
    re-validates the session on every event. None when the session is unknown, revoked or expired, the
    user is inactive, or the user's token_version moved on (password change, reset, deactivation)."""
    if not token or len(token) > 200:
        return None
    row = session.exec(_UI_SESSION_LOOKUP, params={"token_hash": hash_token(token)}).first()
    if row is None:
        return None
    (revoked_at, expires_at, session_version, user_version, is_active, user_id, org_id, role, email,
     employee_id, first_name, last_name, org_name) = row
    if revoked_at is not None or aware(expires_at) <= utcnow() or not is_active or session_version != user_version:
        return None
    role = Role(role)
    actor = Actor(user_id=user_id, organization_id=org_id, role=role, employee_id=employee_id, email=email,
                  ip=ip, user_agent=user_agent)
    profile = UserPublic(id=user_id, email=email, first_name=first_name or "", last_name=last_name or "",
                         role=role, organization_id=org_id, employee_id=employee_id)
    return actor, profile, org_name or ""


def end_ui_session(*, session: Session, token: str | None) -> None:
    if token:
        session.exec(update(UISession).where(UISession.token_hash == hash_token(token), UISession.revoked_at.is_(None))
                     .values(revoked_at=utcnow()))


# ---------------------------------------------------------------- passwords


def _set_password(session: Session, user: User, new_password: str) -> None:
    user.password_hash = hash_password(new_password)
    user.token_version += 1  # every access/refresh token and UI session minted before stops working
    user.failed_login_count = 0
    user.locked_until = None
    session.add(user)
    session.exec(update(RefreshFamily).where(RefreshFamily.user_id == user.id, RefreshFamily.revoked_at.is_(None))
                 .values(revoked_at=utcnow()))
    session.exec(update(UISession).where(UISession.user_id == user.id, UISession.revoked_at.is_(None))
                 .values(revoked_at=utcnow()))


def change_password(*, session: Session, actor: Actor, current_password: str, new_password: str) -> None:
    require(actor)
    user = session.get(User, actor.user_id)
    if user is None or not verify_password(current_password or "", user.password_hash):
        raise ValidationFailed.field("currentPassword", "Current password is incorrect.")
    validate_password(new_password, field="newPassword")
    if verify_password(new_password, user.password_hash):
        raise ValidationFailed.field("newPassword", "Choose a password different from the current one.")
    _set_password(session, user, new_password)
    audit.record(session, action="auth.password_changed", actor=actor, entity_type="user", entity_id=user.id)
    events.publish(session, events.PASSWORD_CHANGED, user_id=user.id, organization_id=user.organization_id)


def create_password_link(session: Session, user: User, *, purpose: str = "reset") -> str:
    """A single-use link (1 hour for resets, longer for welcome mails); only its hash is stored."""
    settings = get_settings()
    token = new_token()
    lifetime = timedelta(minutes=settings.password_reset_minutes) if purpose == "reset" else timedelta(days=7)
    session.add(PasswordResetToken(token_hash=hash_token(token), user_id=user.id, purpose=purpose,
                                   expires_at=utcnow() + lifetime))
    return f"{settings.base_url.rstrip('/')}/reset-password?token={token}"


def create_welcome_links(session: Session, user_ids: list[int]) -> list[str]:
    """`create_password_link(purpose="welcome")` for many new accounts at once (CSV import): one
    executemany on the table instead of an ORM object per token."""
    from sqlalchemy import insert

    settings = get_settings()
    now, tokens = utcnow(), [new_token() for _ in user_ids]
    if tokens:
        session.connection().execute(insert(PasswordResetToken.__table__), [
            {"token_hash": hash_token(t), "user_id": uid, "purpose": "welcome", "created_at": now,
             "expires_at": now + timedelta(days=7), "used_at": None} for t, uid in zip(tokens, user_ids, strict=True)])
    return [f"{settings.base_url.rstrip('/')}/reset-password?token={t}" for t in tokens]


def request_password_reset(*, session: Session, email: str, ip: str | None = None, user_agent: str | None = None) -> None:
    """Same outcome whether or not the email exists: a link is mailed only to a real, active account."""
    cache.check_rate("reset", ip or "unknown", get_settings().reset_rate_limit_per_minute)
    email_norm = (email or "").strip().lower()
    user = get_user_by_email(session, email_norm) if _EMAIL_RE.match(email_norm) else None
    if user is None or not user.is_active:
        return
    link = create_password_link(session, user, purpose="reset")
    org = session.get(Organization, user.organization_id)
    text, body_html = mail.render(
        org_name=org.name if org else "HR Portal", heading="Reset your password",
        paragraphs=["Someone (hopefully you) asked to reset the password of your HR Portal account.",
                    "The link works once and expires in one hour. If you did not ask for it, ignore this mail."],
        action_label="Choose a new password", action_url=link,
    )
    mail.enqueue(session, to=user.email, subject="Reset your HR Portal password", text=text, html_body=body_html,
                 organization_id=user.organization_id, kind="password_reset")
    audit.record(session, action="auth.password_reset_requested", organization_id=user.organization_id,
                 user_id=user.id, entity_type="user", entity_id=user.id, ip=ip, user_agent=user_agent)
    events.publish(session, events.PASSWORD_RESET_REQUESTED, user_id=user.id, organization_id=user.organization_id)


def confirm_password_reset(*, session: Session, token: str, new_password: str) -> None:
    validate_password(new_password, field="newPassword")
    bad = ValidationFailed.field("token", "This reset link is invalid or has expired. Ask for a new one.")
    if not token or len(token) > 200:
        raise bad
    row = session.exec(select(PasswordResetToken).where(PasswordResetToken.token_hash == hash_token(token))).first()
    if row is None or row.used_at is not None or aware(row.expires_at) <= utcnow():
        raise bad
    spent = session.exec(update(PasswordResetToken).where(PasswordResetToken.id == row.id,
                                                          PasswordResetToken.used_at.is_(None))
                         .values(used_at=utcnow())).rowcount
    if spent != 1:
        raise bad
    user = session.get(User, row.user_id)
    if user is None or not user.is_active:
        raise bad
    _set_password(session, user, new_password)
    audit.record(session, action="auth.password_reset", organization_id=user.organization_id, user_id=user.id,
                 entity_type="user", entity_id=user.id)
    events.publish(session, events.PASSWORD_CHANGED, user_id=user.id, organization_id=user.organization_id)
