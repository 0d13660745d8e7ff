"""Notifications: delivery to the in-app inbox and the mail outbox by each user's preferences, the
inbox and preferences of the signed-in user, the admin view of the mail outbox, and who should hear
about what (approvers, HR).

Every actor-facing function is scoped to the actor's own user (their inbox, their preferences) or,
for the outbox, to the admin's organization. `deliver` is the system side used by listeners and jobs.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, insert, or_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from hr_portal.auth.models import Role, User
from hr_portal.core import audit, live, mail
from hr_portal.core.authz import Actor, require
from hr_portal.core.db import utcnow
from hr_portal.core.errors import Conflict, NotFound, ValidationFailed
from hr_portal.core.mail import OutboxEmail
from hr_portal.core.models import to_iso
from hr_portal.employees.models import Employee, EmployeeStatus
from hr_portal.notifications import templates
from hr_portal.notifications.models import (
    KINDS,
    CelebrationOptOut,
    Channel,
    Notification,
    NotificationKey,
    NotificationPreference,
    NotificationPublic,
    OutboxMailPublic,
    PreferencePublic,
    kinds_for,
)
from hr_portal.notifications.templates import MailContent
from hr_portal.org.models import Organization

log = logging.getLogger(__name__)

LATEST_LIMIT = 8
MAX_PAGE_SIZE = 100
OUTBOX_STATUSES = ("pending", "sent", "failed")


# ================================================================ delivery (system side)


def org_name(session: Session, organization_id: int) -> str:
    org = session.get(Organization, organization_id)
    return org.name if org else "HR Portal"


def _channels(session: Session, user_ids: list[int], kind: str) -> dict[int, Channel]:
    spec = KINDS[kind]
    chosen = dict(session.exec(select(NotificationPreference.user_id, NotificationPreference.channel).where(
        NotificationPreference.user_id.in_(user_ids), NotificationPreference.kind == kind)).all()) if user_ids else {}
    out = {}
    for uid in user_ids:
        channel = Channel(chosen.get(uid, spec.default))
        if channel == Channel.off and not spec.allow_off:
            channel = spec.default
        out[uid] = channel
    return out


CLAIM_CHUNK = 500  # recipients per INSERT (4 parameters each: well inside SQLite's limit)


def _claim_keys(session: Session, *, organization_id: int, user_ids: list[int], key: str) -> set[int]:
    """Insert the once-only key for every recipient, a few statements for any number of them; returns the
    recipients who got it now (not those who got it before, nor from a run committing concurrently: the
    insert waits for that one and skips the row)."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    key, now, claimed = key[:120], utcnow(), set()
    for start in range(0, len(user_ids), CLAIM_CHUNK):
        rows = [{"user_id": uid, "key": key, "organization_id": organization_id, "created_at": now}
                for uid in user_ids[start:start + CLAIM_CHUNK]]
        claimed.update(session.execute(insert(NotificationKey).values(rows).on_conflict_do_nothing()
                                       .returning(NotificationKey.user_id)).scalars())
    return claimed


def _holding_key(session: Session, user_ids: list[int], key: str) -> set[int]:
    """The recipients who got `key` before (in chunks, like `_claim_keys`)."""
    held: set[int] = set()
    for start in range(0, len(user_ids), CLAIM_CHUNK):
        held.update(session.exec(select(NotificationKey.user_id).where(
            NotificationKey.key == key, NotificationKey.user_id.in_(user_ids[start:start + CLAIM_CHUNK]))).all())
    return held


def deliver(session: Session, *, organization_id: int, user_ids: Iterable[int | None], kind: str, title: str,
            body: str = "", link: str = "", mail_content: MailContent | None = None, dedupe_key: str | None = None,
            exclude_user_ids: Iterable[int | None] = ()) -> int:
    """Notify users of one organization about something, each on the channels they chose for `kind`
    (in-app row + live push, email through the outbox, both, or nothing when switched off). With
    `dedupe_key`, a user who got that key before gets nothing (reminders run again stay single).
    Inactive users and users of other organizations are skipped. Returns how many users were reached."""
    if kind not in KINDS:
        raise ValueError(f"unknown notification kind {kind!r}")
    excluded = {u for u in exclude_user_ids if u}
    wanted = sorted({int(u) for u in user_ids if u} - excluded)
    if wanted and dedupe_key:
        # A reminder job runs every few minutes and finds mostly people it reached before: drop them before
        # reading anyone (the claim below still settles a run committing concurrently).
        held = _holding_key(session, wanted, dedupe_key[:120])
        wanted = [uid for uid in wanted if uid not in held]
    if not wanted:
        return 0
    users = {u.id: u for u in session.exec(select(User).where(
        User.id.in_(wanted), User.organization_id == organization_id, User.is_active == True)).all()}  # noqa: E712
    channels = _channels(session, list(users), kind)
    reach = [uid for uid in wanted if uid in users and channels[uid] != Channel.off]
    if dedupe_key and reach:
        claimed = _claim_keys(session, organization_id=organization_id, user_ids=reach, key=dedupe_key)
        reach = [uid for uid in reach if uid in claimed]
    content = mail_content
    notes: list[dict[str, Any]] = []
    mails: list[dict[str, Any]] = []
    now = utcnow()
    for uid in reach:
        user, channel = users[uid], channels[uid]
        if channel.in_app_on:
            notes.append({"organization_id": organization_id, "user_id": uid, "kind": kind, "title": title[:200],
                          "body": body[:1000], "link": link[:300], "read_at": None, "created_at": now})
        if channel.email_on and user.email:
            if content is None:
                content = templates.notice(org_name=org_name(session, organization_id), title=title, body=body,
                                           link=link)
            mails.append({"to": user.email, "subject": content.subject, "text": content.text,
                          "html_body": content.html, "organization_id": organization_id, "kind": kind})
    session.flush()
    if notes:  # one executemany for any number of recipients (a morning's reminders reach thousands)
        session.connection().execute(insert(Notification.__table__), notes)
        live.notify(session, *(live.user_topic(n["user_id"], "inbox") for n in notes))
    mail.enqueue_many(session, mails)
    return len(reach)


# ================================================================ recipients


def user_names(session: Session, user_ids: Iterable[int | None]) -> dict[int, str]:
    ids = sorted({u for u in user_ids if u})
    if not ids:
        return {}
    names = {e.user_id: e.full_name for e in session.exec(select(Employee).where(Employee.user_id.in_(ids))).all()}
    for u in session.exec(select(User).where(User.id.in_(ids))).all():
        names.setdefault(u.id, u.email)
    return names


def hr_user_ids(session: Session, organization_id: int) -> list[int]:
    """HR managers of the organization; its admins when it has no HR manager."""
    rows = session.exec(select(User.id, User.role).where(User.organization_id == organization_id,
                                                         User.is_active == True,  # noqa: E712
                                                         User.role.in_([Role.hr_manager, Role.admin]))).all()
    hr = [uid for uid, role in rows if Role(role) == Role.hr_manager]
    return sorted(hr or [uid for uid, _ in rows])


def _active_user_of(session: Session, employee_id: int | None) -> int | None:
    if employee_id is None:
        return None
    emp = session.get(Employee, employee_id)
    if emp is None or emp.status != EmployeeStatus.active or emp.user_id is None:
        return None
    return emp.user_id


def delegate_user_ids(session: Session, approver_employee_id: int, today: dt.date) -> list[int]:
    """Users standing in (leave delegations active today) for an approver."""
    from hr_portal.leave.models import LeaveDelegation

    rows = session.exec(select(Employee.user_id).join(
        LeaveDelegation, LeaveDelegation.delegate_employee_id == Employee.id).where(
        LeaveDelegation.approver_employee_id == approver_employee_id, LeaveDelegation.revoked_at.is_(None),
        LeaveDelegation.start_date <= today, LeaveDelegation.end_date >= today,
        Employee.status == EmployeeStatus.active)).all()
    return sorted({u for u in rows if u})


def manager_approver_user_ids(session: Session, employee_id: int, today: dt.date, *, with_delegates: bool = True
                              ) -> list[int]:
    """The reporting manager's user (plus delegates while delegated); HR when there is no active manager."""
    emp = session.get(Employee, employee_id)
    if emp is None:
        return []
    manager_user = _active_user_of(session, emp.manager_id)
    if manager_user is None:
        return hr_user_ids(session, emp.organization_id)
    ids = {manager_user}
    if with_delegates:
        ids.update(delegate_user_ids(session, emp.manager_id, today))
    return sorted(ids)


def leave_approver_user_ids(session: Session, leave_request: Any, today: dt.date) -> list[int]:
    """Who should act on a pending leave request now: step 1 the manager (and delegates), step 2 HR."""
    if getattr(leave_request, "step", 1) >= 2:
        return hr_user_ids(session, leave_request.organization_id)
    ids = manager_approver_user_ids(session, leave_request.employee_id, today)
    return [u for u in ids if u != leave_request.requester_user_id]


# ================================================================ the inbox (actor's own)


def _public(n: Notification) -> NotificationPublic:
    spec = KINDS.get(n.kind)
    return NotificationPublic(id=n.id, kind=n.kind, kind_label=spec.label if spec else n.kind, title=n.title,
                              body=n.body, link=n.link, read=n.read_at is not None, read_at=to_iso(n.read_at),
                              created_at=to_iso(n.created_at) or "")


def _check_kind(kind: str | None) -> str | None:
    if kind in (None, "", "all"):
        return None
    if kind not in KINDS:
        raise ValidationFailed.field("kind", "Unknown notification kind.")
    return kind


def list_notifications(*, session: Session, actor: Actor, unread_only: bool = False, kind: str | None = None,
                       page: int = 1, limit: int = 25) -> tuple[list[NotificationPublic], int]:
    """The actor's notifications, newest first, optionally only unread and of one kind."""
    require(actor)
    kind = _check_kind(kind)
    try:
        page, limit = int(page), int(limit)
    except (TypeError, ValueError) as exc:
        raise ValidationFailed.field("page", "Page and limit must be whole numbers.") from exc
    if page < 1 or not 1 <= limit <= MAX_PAGE_SIZE:
        raise ValidationFailed.field("page", f"Page starts at 1; limit is 1 to {MAX_PAGE_SIZE}.")
    conds = [Notification.user_id == actor.user_id, Notification.organization_id == actor.organization_id]
    if unread_only:
        conds.append(Notification.read_at.is_(None))
    if kind:
        conds.append(Notification.kind == kind)
    total = session.exec(select(func.count()).select_from(Notification).where(*conds)).one()
    rows = session.exec(select(Notification).where(*conds)
                        .order_by(Notification.created_at.desc(), Notification.id.desc())
                        .offset((page - 1) * limit).limit(limit)).all()
    return [_public(n) for n in rows], int(total)


def unread_count(*, session: Session, actor: Actor) -> int:
    require(actor)
    return int(session.exec(select(func.count()).select_from(Notification).where(
        Notification.user_id == actor.user_id, Notification.organization_id == actor.organization_id,
        Notification.read_at.is_(None))).one())


def inbox_summary(*, session: Session, actor: Actor, limit: int = LATEST_LIMIT) -> dict[str, Any]:
    """What the bell shows: the unread count and the latest notifications (read or not)."""
    require(actor)
    items, _ = list_notifications(session=session, actor=actor, page=1, limit=max(1, min(int(limit), 20)))
    return {"unread": unread_count(session=session, actor=actor), "items": items}


def mark_read(*, session: Session, actor: Actor, notification_id: Any) -> NotificationPublic:
    """Mark one of the actor's notifications read (idempotent). Someone else's is NotFound."""
    require(actor)
    try:
        notification_id = int(notification_id)
    except (TypeError, ValueError) as exc:
        raise NotFound("Notification not found.") from exc
    n = session.exec(select(Notification).where(Notification.id == notification_id,
                                                Notification.user_id == actor.user_id,
                                                Notification.organization_id == actor.organization_id)).first()
    if n is None:
        raise NotFound("Notification not found.")
    if n.read_at is None:
        n.read_at = utcnow()
        session.add(n)
        session.flush()
        live.notify(session, live.user_topic(actor.user_id, "inbox"))
    return _public(n)


def mark_all_read(*, session: Session, actor: Actor, kind: str | None = None) -> int:
    """Mark all of the actor's unread notifications (of one kind, when given) read. Returns how many."""
    require(actor)
    kind = _check_kind(kind)
    conds = [Notification.user_id == actor.user_id, Notification.organization_id == actor.organization_id,
             Notification.read_at.is_(None)]
    if kind:
        conds.append(Notification.kind == kind)
    changed = session.exec(update(Notification).where(*conds).values(read_at=utcnow())).rowcount or 0
    if changed:
        live.notify(session, live.user_topic(actor.user_id, "inbox"))
    return int(changed)


# ================================================================ preferences (actor's own)


def kind_options(role: Role) -> list[dict[str, str]]:
    return [{"value": k.key, "label": k.label} for k in kinds_for(role)]


def get_preferences(*, session: Session, actor: Actor) -> list[PreferencePublic]:
    require(actor)
    specs = kinds_for(actor.role)
    chosen = {p.kind: p.channel for p in session.exec(select(NotificationPreference).where(
        NotificationPreference.user_id == actor.user_id)).all()}
    out = []
    for spec in specs:
        channel = Channel(chosen.get(spec.key, spec.default))
        if channel == Channel.off and not spec.allow_off:
            channel = spec.default
        options = [Channel.in_app, Channel.email, Channel.both] + ([Channel.off] if spec.allow_off else [])
        out.append(PreferencePublic(kind=spec.key, label=spec.label, description=spec.description, channel=channel,
                                    options=options))
    return out


def set_preference(*, session: Session, actor: Actor, kind: Any, channel: Any) -> PreferencePublic:
    """Choose how the actor hears about one kind: in_app, email, both (or off where the kind allows it)."""
    require(actor)
    kind = str(kind or "")
    spec = KINDS.get(kind)
    if spec is None or actor.role not in spec.roles:
        raise ValidationFailed.field("kind", "Unknown notification kind.")
    try:
        channel = Channel(str(channel))
    except ValueError as exc:
        raise ValidationFailed.field("channel", "Choose in_app, email or both.") from exc
    if channel == Channel.off and not spec.allow_off:
        raise ValidationFailed.field("channel", f"“{spec.label}” ask you to act, so they cannot be switched off; "
                                                "choose the app, email or both.")
    pref = session.exec(select(NotificationPreference).where(NotificationPreference.user_id == actor.user_id,
                                                             NotificationPreference.kind == kind)).first()
    if pref is None:
        try:
            with session.begin_nested():
                pref = NotificationPreference(organization_id=actor.organization_id, user_id=actor.user_id,
                                              kind=kind, channel=channel)
                session.add(pref)
                session.flush()
        except IntegrityError:  # the same user saved twice at once: update the row the other request made
            pref = session.exec(select(NotificationPreference).where(
                NotificationPreference.user_id == actor.user_id, NotificationPreference.kind == kind)).one()
    pref.channel, pref.updated_at = channel, utcnow()
    session.add(pref)
    session.flush()
    return next(p for p in get_preferences(session=session, actor=actor) if p.kind == kind)


def get_celebration_sharing(*, session: Session, actor: Actor) -> bool:
    """Whether the actor's birthday and work anniversary are announced to their team (default yes)."""
    require(actor)
    return session.get(CelebrationOptOut, actor.user_id) is None


def set_celebration_sharing(*, session: Session, actor: Actor, share: Any) -> bool:
    require(actor)
    if not isinstance(share, bool):
        raise ValidationFailed.field("share", "Choose yes or no.")
    row = session.get(CelebrationOptOut, actor.user_id)
    if share and row is not None:
        session.delete(row)
    elif not share and row is None:
        try:
            with session.begin_nested():
                session.add(CelebrationOptOut(user_id=actor.user_id, organization_id=actor.organization_id))
                session.flush()
        except IntegrityError:
            pass  # opted out concurrently: same outcome
    session.flush()
    return share


# ================================================================ mail outbox (admin)


def _mail_public(m: OutboxEmail) -> OutboxMailPublic:
    return OutboxMailPublic(id=m.id, to=m.to_address, subject=m.subject, kind=m.kind or "", status=m.status,
                            attempts=m.attempts, last_error=m.last_error, created_at=to_iso(m.created_at) or "",
                            sent_at=to_iso(m.sent_at),
                            next_attempt_at=to_iso(m.next_attempt_at) if m.status == "pending" else None)


def _check_status(status: Any) -> str | None:
    if status in (None, "", "all"):
        return None
    if status not in OUTBOX_STATUSES:
        raise ValidationFailed.field("status", "Status is pending, sent or failed.")
    return str(status)


def list_outbox(*, session: Session, actor: Actor, status: Any = None, search: str | None = None, page: int = 1,
                limit: int = 25) -> tuple[list[OutboxMailPublic], int, dict[str, int]]:
    """The organization's mails, failed first, then newest first; with counts per status."""
    require(actor, Role.admin)
    status = _check_status(status)
    try:
        page, limit = int(page), int(limit)
    except (TypeError, ValueError) as exc:
        raise ValidationFailed.field("page", "Page and limit must be whole numbers.") from exc
    if page < 1 or not 1 <= limit <= MAX_PAGE_SIZE:
        raise ValidationFailed.field("page", f"Page starts at 1; limit is 1 to {MAX_PAGE_SIZE}.")
    base = [OutboxEmail.organization_id == actor.organization_id]
    counts = {s: 0 for s in OUTBOX_STATUSES}
    counts.update(dict(session.exec(select(OutboxEmail.status, func.count()).where(*base)
                                    .group_by(OutboxEmail.status)).all()))
    conds = list(base)
    if status:
        conds.append(OutboxEmail.status == status)
    search = (search or "").strip()[:200]
    if search:
        like = f"%{search.lower()}%"
        conds.append(or_(func.lower(OutboxEmail.to_address).like(like), func.lower(OutboxEmail.subject).like(like)))
    total = session.exec(select(func.count()).select_from(OutboxEmail).where(*conds)).one()
    failed_first = (OutboxEmail.status == "failed").desc()
    rows = session.exec(select(OutboxEmail).where(*conds)
                        .order_by(failed_first, OutboxEmail.created_at.desc(), OutboxEmail.id.desc())
                        .offset((page - 1) * limit).limit(limit)).all()
    return [_mail_public(m) for m in rows], int(total), counts


def _get_mail(session: Session, actor: Actor, mail_id: Any) -> OutboxEmail:
    try:
        mail_id = int(mail_id)
    except (TypeError, ValueError) as exc:
        raise NotFound("Mail not found.") from exc
    m = session.get(OutboxEmail, mail_id)
    if m is None or m.organization_id != actor.organization_id:
        raise NotFound("Mail not found.")
    return m


def get_mail(*, session: Session, actor: Actor, mail_id: Any) -> dict[str, Any]:
    """One mail with its text body (admins check what was sent)."""
    require(actor, Role.admin)
    m = _get_mail(session, actor, mail_id)
    return {**_mail_public(m).dump(), "bodyText": m.body_text}


def resend_mail(*, session: Session, actor: Actor, mail_id: Any) -> OutboxMailPublic:
    """Put a failed mail back in the queue (status pending, attempts 0, due now). Conflict unless failed."""
    require(actor, Role.admin)
    m = _get_mail(session, actor, mail_id)
    done = session.exec(update(OutboxEmail).where(OutboxEmail.id == m.id, OutboxEmail.status == "failed")
                        .values(status="pending", attempts=0, next_attempt_at=utcnow())).rowcount
    if done != 1:
        raise Conflict("Only failed mails can be sent again; this one is not failed (any more).")
    session.refresh(m)
    audit.record(session, action="mail.resent", actor=actor, entity_type="outbox_email", entity_id=m.id,
                 changes={"to": m.to_address, "subject": m.subject, "last_error": m.last_error})
    _kick_delivery_after_commit(session)
    return _mail_public(m)


def _kick_delivery_after_commit(session: Session) -> None:
    """Deliver the resent mail once the outermost transaction commits (not on a savepoint release)."""
    mail.deliver_after_commit(session)
