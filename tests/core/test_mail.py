"""hr_portal.core.mail: the outbox, file delivery, SMTP delivery, retries."""

from __future__ import annotations

import socket
import threading
from datetime import timedelta
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import update
from sqlmodel import Session

from hr_portal.core import mail
from hr_portal.core.db import aware, get_engine, utcnow
from hr_portal.core.mail import MAX_ATTEMPTS, OutboxEmail, deliver_pending, enqueue, render
from tests.factories import html_body, outbox_messages, text_body


@pytest.fixture
def kicks(monkeypatch):
    """Record the after-commit delivery kicks instead of starting background threads, so each
    test controls delivery with deliver_pending()."""
    calls: list[int] = []
    monkeypatch.setattr(mail, "_kick_after_commit", lambda session: calls.append(1) if session.info.pop(
        "mail_queued", False) else None)
    return calls


def queue(db, to: str = "someone@example.com", subject: str = "Hello", **kw) -> int:
    text, body_html = render(org_name="Acme <Labs>", heading="Welcome", paragraphs=["Line one", "5 < 6 & 7 > 3"],
                             action_label="Open the portal", action_url="https://hr.portal.test/x?a=1&b=2")
    row = enqueue(db, to=to, subject=subject, text=text, html_body=body_html, kind="test", **kw)
    db.commit()
    return row.id


def reload(mail_id: int) -> OutboxEmail:
    with Session(get_engine()) as s:
        return s.get(OutboxEmail, mail_id)


def make_due(mail_id: int) -> None:
    with Session(get_engine()) as s:
        s.exec(update(OutboxEmail).where(OutboxEmail.id == mail_id).values(next_attempt_at=utcnow() - timedelta(seconds=1)))
        s.commit()


# ------------------------------------------------------------------------------ render


def test_render_escapes_values_in_html_and_keeps_text_plain():
    text, body_html = render(org_name="Acme <Labs>", heading="Hi <b>", paragraphs=["a & b"],
                             action_label="Go", action_url="https://x.example/?a=1&b=2")
    assert "Acme <Labs>" in text and "https://x.example/?a=1&b=2" in text
    assert "<b>" not in body_html.split("<h2", 1)[1].split("</h2>")[0]
    assert "Acme &lt;Labs&gt;" in body_html and "a &amp; b" in body_html
    assert 'href="https://x.example/?a=1&amp;b=2"' in body_html


# ------------------------------------------------------------------------------ outbox and files


def test_mail_is_stored_pending_and_kicked_only_after_commit(db, kicks):
    text, body_html = render(org_name="Acme", heading="Hi", paragraphs=["x"])
    row = enqueue(db, to="a@example.com", subject="S", text=text, html_body=body_html)
    db.flush()
    assert kicks == []
    db.commit()
    assert kicks == [1]
    assert reload(row.id).status == "pending"


def test_rolled_back_mail_is_never_stored_or_sent(db, kicks, outbox):
    text, body_html = render(org_name="Acme", heading="Hi", paragraphs=["x"])
    enqueue(db, to="a@example.com", subject="S", text=text, html_body=body_html)
    db.rollback()
    assert kicks == []
    assert deliver_pending() == 0
    assert outbox_messages(outbox) == []


def test_deliver_pending_writes_eml_files_with_text_and_html_parts(db, kicks, outbox):
    mail_id = queue(db, to="reader@example.com", subject="Your account")
    assert deliver_pending() == 1

    [message] = outbox_messages(outbox)
    assert message["To"] == "reader@example.com" and message["Subject"] == "Your account"
    assert message["From"] and message["Message-ID"]
    assert message.get_content_type() == "multipart/alternative"
    assert "5 < 6 & 7 > 3" in text_body(message)
    assert "5 &lt; 6 &amp; 7 &gt; 3" in html_body(message)
    row = reload(mail_id)
    assert row.status == "sent" and row.sent_at is not None and row.attempts == 1 and row.last_error is None
    assert deliver_pending() == 0  # sent once only
    assert len(outbox_messages(outbox)) == 1


def test_deliver_pending_skips_mail_that_is_not_due_yet(db, kicks, outbox):
    mail_id = queue(db)
    with Session(get_engine()) as s:
        s.exec(update(OutboxEmail).values(next_attempt_at=utcnow() + timedelta(minutes=5)))
        s.commit()
    assert deliver_pending() == 0
    assert reload(mail_id).status == "pending" and outbox_messages(outbox) == []


def test_concurrent_delivery_runs_send_each_mail_once(db, kicks, outbox):
    ids = [queue(db, to=f"r{i}@example.com") for i in range(5)]
    barrier = threading.Barrier(4)
    results: list[int] = []

    def run():
        barrier.wait()
        results.append(deliver_pending())

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sum(results) == 5
    assert sorted(m["To"] for m in outbox_messages(outbox)) == sorted(f"r{i}@example.com" for i in range(5))
    assert all(reload(i).attempts == 1 for i in ids)


def test_password_reset_mail_reaches_the_outbox_through_the_background_kick(db, outbox):
    """Without the test hook: the after-commit thread delivers on its own."""
    from hr_portal.auth import service
    from tests.factories import create_organization, create_person

    org = create_organization(db)
    person = create_person(db, org)
    db.commit()
    service.request_password_reset(session=db, email=person.email)
    db.commit()
    for thread in threading.enumerate():
        if thread.name == "mail-delivery":
            thread.join(10)
    messages = outbox_messages(outbox)  # no deliver_pending() here: the kick did it
    assert len(messages) == 1 and messages[0]["To"] == person.email and "reset-password?token=" in text_body(messages[0])


# ------------------------------------------------------------------------------ SMTP


class _Collector:
    def __init__(self) -> None:
        self.envelopes: list = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd hook name
        self.envelopes.append(envelope)
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_server():
    handler = _Collector()
    controller = Controller(handler, hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        yield controller, handler
    finally:
        controller.stop()


def test_smtp_delivery_sends_a_multipart_message(db, kicks, outbox, smtp_server, settings_override):
    controller, handler = smtp_server
    settings_override(smtp_host="127.0.0.1", smtp_port=controller.port, smtp_starttls=False,
                      mail_from="HR Portal <hr@portal.test>")
    mail_id = queue(db, to="smtp-reader@example.com", subject="Via SMTP")

    assert deliver_pending() == 1
    assert len(handler.envelopes) == 1
    envelope = handler.envelopes[0]
    assert envelope.rcpt_tos == ["smtp-reader@example.com"]
    assert envelope.mail_from == "hr@portal.test"
    message = message_from_bytes(envelope.original_content, policy=policy.default)
    assert message["Subject"] == "Via SMTP"
    assert "Line one" in text_body(message) and "<h2" in html_body(message)
    assert reload(mail_id).status == "sent"
    assert outbox_messages(outbox) == []  # SMTP configured: no file


def test_failing_smtp_records_the_error_and_retries_with_growing_delays(db, kicks, settings_override):
    settings_override(smtp_host="127.0.0.1", smtp_port=_free_port(), smtp_starttls=False, smtp_timeout_seconds=2)
    mail_id = queue(db)

    assert deliver_pending() == 0
    row = reload(mail_id)
    assert row.status == "pending" and row.attempts == 1
    assert row.last_error and "Connection" in row.last_error
    first_delay = aware(row.next_attempt_at) - utcnow()
    assert timedelta(seconds=30) < first_delay <= timedelta(minutes=2)
    assert deliver_pending() == 0 and reload(mail_id).attempts == 1  # not due again yet

    make_due(mail_id)
    deliver_pending()
    row = reload(mail_id)
    assert row.attempts == 2 and row.status == "pending"
    assert aware(row.next_attempt_at) - utcnow() > first_delay


def test_mail_is_failed_after_max_attempts(db, kicks, settings_override):
    settings_override(smtp_host="127.0.0.1", smtp_port=_free_port(), smtp_starttls=False, smtp_timeout_seconds=2)
    mail_id = queue(db)
    for attempt in range(1, MAX_ATTEMPTS + 1):
        make_due(mail_id)
        assert deliver_pending() == 0
        row = reload(mail_id)
        assert row.attempts == attempt
        assert row.status == ("failed" if attempt == MAX_ATTEMPTS else "pending")
    assert row.last_error

    make_due(mail_id)
    deliver_pending()
    assert reload(mail_id).attempts == MAX_ATTEMPTS  # a failed mail is left alone


def test_a_failed_mail_does_not_block_the_others(db, kicks, outbox, smtp_server, settings_override, monkeypatch):
    controller, handler = smtp_server
    settings_override(smtp_host="127.0.0.1", smtp_port=controller.port, smtp_starttls=False)
    bad = queue(db, to="bad@example.com")
    good = queue(db, to="good@example.com")

    original = mail._send

    def flaky(message_row):
        if message_row.to_address == "bad@example.com":
            raise OSError("mailbox unavailable")
        original(message_row)

    monkeypatch.setattr(mail, "_send", flaky)
    assert deliver_pending() == 1
    assert reload(bad).status == "pending" and "mailbox unavailable" in reload(bad).last_error
    assert reload(good).status == "sent"
    assert [e.rcpt_tos for e in handler.envelopes] == [["good@example.com"]]
