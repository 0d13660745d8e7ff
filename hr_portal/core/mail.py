"""Mail outbox: every message is stored first, then delivered (SMTP when configured, else files)."""

from __future__ import annotations

import html
import logging
import smtplib
import ssl
import threading
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any

from sqlalchemy import Index, Text, insert
from sqlmodel import Column, Field, Session, SQLModel, select

from hr_portal.core import txhooks
from hr_portal.core.config import get_settings
from hr_portal.core.db import aware, session_scope, utcnow
from hr_portal.core.models import ts_field

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5


class OutboxEmail(SQLModel, table=True):
    __tablename__ = "outbox_emails"
    __table_args__ = (Index("ix_outbox_status_next", "status", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int | None = Field(default=None, foreign_key="organizations.id", index=True)
    to_address: str = Field(max_length=254)
    subject: str = Field(max_length=300)
    body_text: str = Field(sa_column=Column(Text, nullable=False))
    body_html: str = Field(sa_column=Column(Text, nullable=False))
    kind: str = Field(default="", max_length=40)
    status: str = Field(default="pending", max_length=16)  # pending | sent | failed
    attempts: int = 0
    last_error: str | None = Field(default=None, max_length=1000)
    created_at: datetime = ts_field()
    next_attempt_at: datetime = ts_field()
    sent_at: datetime | None = ts_field(nullable=True, default_now=False)


def render(*, org_name: str, heading: str, paragraphs: list[str], action_label: str | None = None,
           action_url: str | None = None, footer: str = "") -> tuple[str, str]:
    """Build the text and HTML bodies of a mail from plain parts (all values escaped)."""
    text_lines = [heading, ""] + paragraphs
    if action_url:
        text_lines += ["", f"{action_label}: {action_url}"]
    text_lines += ["", f"— {org_name} via HR Portal"]
    if footer:
        text_lines += [footer]
    e = html.escape
    parts = "".join(f"<p style=\"margin:0 0 12px\">{e(p)}</p>" for p in paragraphs)
    button = (
        f'<p style="margin:20px 0"><a href="{e(action_url)}" style="background:#3e63dd;color:#fff;'
        f'padding:10px 16px;border-radius:6px;text-decoration:none">{e(action_label or "Open")}</a></p>'
        f'<p style="font-size:12px;color:#666">Or paste this link into your browser: {e(action_url)}</p>'
        if action_url else ""
    )
    body_html = (
        "<!doctype html><html><body style=\"font-family:system-ui,sans-serif;color:#1c2024;max-width:560px\">"
        f"<h2 style=\"font-size:18px\">{e(heading)}</h2>{parts}{button}"
        f"<p style=\"font-size:12px;color:#666\">{e(org_name)} via HR Portal{(' · ' + e(footer)) if footer else ''}</p>"
        "</body></html>"
    )
    return "\n".join(text_lines), body_html


def enqueue(session: Session, *, to: str, subject: str, text: str, html_body: str,
            organization_id: int | None = None, kind: str = "") -> OutboxEmail:
    mail = OutboxEmail(
        organization_id=organization_id, to_address=to, subject=subject[:300],
        body_text=text, body_html=html_body, kind=kind,
    )
    session.add(mail)
    deliver_after_commit(session)
    return mail


def enqueue_many(session: Session, mails: list[dict[str, Any]]) -> int:
    """Store many mails at once (one executemany on the table, in the session's transaction), for bulk
    work such as a CSV import: each dict holds `to`, `subject`, `text`, `html_body` and optionally
    `organization_id`, `kind`. Delivery starts after the commit, as for `enqueue`. Returns the count."""
    if not mails:
        return 0
    now = utcnow()
    session.connection().execute(insert(OutboxEmail.__table__), [
        {"organization_id": m.get("organization_id"), "to_address": m["to"], "subject": m["subject"][:300],
         "body_text": m["text"], "body_html": m["html_body"], "kind": m.get("kind", ""), "status": "pending",
         "attempts": 0, "created_at": now, "next_attempt_at": now} for m in mails])
    deliver_after_commit(session)
    return len(mails)


def deliver_after_commit(session: Session) -> None:
    """Start delivery in a thread once the outermost transaction commits (nothing is kicked for a
    rolled-back change, nor for mail queued inside a rolled-back savepoint: core/txhooks.py)."""
    txhooks.defer(session, "mail", True, _on_outer_commit)


def _on_outer_commit(session: Session, _queued: list[bool]) -> None:
    session.info["mail_queued"] = True
    _kick_after_commit(session)


def _kick_after_commit(session: Session) -> None:
    if session.info.pop("mail_queued", False):
        threading.Thread(target=_deliver_quietly, name="mail-delivery", daemon=True).start()


def _deliver_quietly(batch: int = 50) -> None:
    """Deliver what is due, batch after batch while batches come back full (a bulk enqueue)."""
    try:
        while deliver_pending(limit=batch) >= batch:
            pass
    except Exception:
        log.exception("mail delivery run failed")


_delivery_lock = threading.Lock()


def deliver_pending(limit: int = 50) -> int:
    """Send due mails; returns how many were sent. Safe to call from several threads or processes:
    each mail is claimed with a conditional update before it is sent."""
    from sqlalchemy import update

    sent = 0
    with _delivery_lock:
        with session_scope() as session:
            due = session.exec(
                select(OutboxEmail.id).where(OutboxEmail.status == "pending", OutboxEmail.next_attempt_at <= utcnow())
                .order_by(OutboxEmail.id).limit(limit)
            ).all()
        for mail_id in due:
            with session_scope() as session:
                claim_until = utcnow() + timedelta(minutes=5)
                claimed = session.exec(
                    update(OutboxEmail)
                    .where(OutboxEmail.id == mail_id, OutboxEmail.status == "pending",
                           OutboxEmail.next_attempt_at <= utcnow())
                    .values(next_attempt_at=claim_until, attempts=OutboxEmail.attempts + 1)
                ).rowcount
                if not claimed:
                    continue
                mail = session.get(OutboxEmail, mail_id)
            try:
                _send(mail)
            except Exception as exc:  # delivery problems are recorded, retried with backoff
                with session_scope() as session:
                    mail = session.get(OutboxEmail, mail_id)
                    mail.last_error = f"{type(exc).__name__}: {exc}"[:1000]
                    if mail.attempts >= MAX_ATTEMPTS:
                        mail.status = "failed"
                    else:
                        mail.next_attempt_at = utcnow() + timedelta(minutes=2 ** mail.attempts)
                    session.add(mail)
                log.warning("mail %s to %s failed: %s", mail_id, mail.to_address, exc)
                continue
            with session_scope() as session:
                mail = session.get(OutboxEmail, mail_id)
                mail.status, mail.sent_at, mail.last_error = "sent", utcnow(), None
                session.add(mail)
            sent += 1
    return sent


def _build_message(mail: OutboxEmail) -> EmailMessage:
    settings = get_settings()
    msg = EmailMessage()
    msg["From"] = settings.mail_from
    msg["To"] = mail.to_address
    msg["Subject"] = mail.subject
    msg["Message-ID"] = make_msgid(domain="hr-portal.local")
    msg.set_content(mail.body_text)
    msg.add_alternative(mail.body_html, subtype="html")
    return msg


def _send(mail: OutboxEmail) -> None:
    settings = get_settings()
    msg = _build_message(mail)
    if not settings.smtp_host:
        outbox = Path(settings.outbox_dir)
        outbox.mkdir(parents=True, exist_ok=True)
        stamp = aware(mail.created_at).strftime("%Y%m%dT%H%M%S")
        (outbox / f"{stamp}-{mail.id:06d}.eml").write_bytes(bytes(msg))
        return
    context = ssl.create_default_context()
    if settings.smtp_ssl:
        client = smtplib.SMTP_SSL(settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout_seconds, context=context)
    else:
        client = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout_seconds)
    with client:
        if settings.smtp_starttls and not settings.smtp_ssl:
            client.starttls(context=context)
        if settings.smtp_user:
            client.login(settings.smtp_user, settings.smtp_password)
        client.send_message(msg)
