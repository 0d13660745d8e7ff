"""Notification jobs run once per occurrence even with several schedulers; templates; the outbox through a
real local SMTP server (aiosmtpd): delivery, retry with backoff, failure, and an admin's resend."""

from __future__ import annotations

import datetime as dt
import socket
import threading
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller
from sqlmodel import Session, select

from hr_portal.core import mail, scheduler
from hr_portal.core.db import get_engine
from hr_portal.core.mail import OutboxEmail
from hr_portal.core.scheduler import JobRun
from hr_portal.notifications import service, templates
from tests.notifications.conftest import actor_of, inbox, run

MONDAY_0920 = dt.datetime(2030, 3, 4, 9, 20, tzinfo=dt.UTC)


def test_notification_jobs_are_registered_with_their_schedules():
    jobs = scheduler.load_jobs()
    expected = {"notifications.checkin_reminders", "notifications.checkout_reminders",
                "notifications.approval_reminders", "notifications.weekly_digest", "notifications.celebrations",
                "notifications.retry_listeners"}
    assert expected <= set(jobs)
    assert jobs["notifications.weekly_digest"].cron == {"day_of_week": "mon", "hour": 6, "minute": 0}


@pytest.mark.race
def test_two_schedulers_racing_on_one_occurrence_remind_each_person_once(people):
    results: list = []
    barrier = threading.Barrier(4)

    def fire():
        barrier.wait()
        results.append(scheduler.run_job("notifications.checkin_reminders", now=MONDAY_0920))

    threads = [threading.Thread(target=fire) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [r for r in results if r is not None]
    assert len(winners) == 1 and winners[0].status == "succeeded" and winners[0].items == 4
    with Session(get_engine()) as s:
        assert len(s.exec(select(JobRun).where(JobRun.job_id == "notifications.checkin_reminders")).all()) == 1
    assert all(len(inbox(p.user_id)) == 1 for p in people.values())


@pytest.mark.race
def test_manual_runs_racing_a_scheduled_run_still_remind_once(people):
    results: list = []
    barrier = threading.Barrier(3)

    def fire(trigger):
        barrier.wait()
        results.append(scheduler.run_job("notifications.checkin_reminders", now=MONDAY_0920, trigger=trigger))

    threads = [threading.Thread(target=fire, args=(t,)) for t in ("schedule", "manual", "manual")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r.items for r in results if r is not None) == 4  # the once-only keys split the work, never double it
    assert all(len(inbox(p.user_id)) == 1 for p in people.values())


# ---------------------------------------------------------------- templates


def test_every_template_has_the_organization_name_in_text_and_html():
    contents = [
        templates.welcome(org_name="Acme <Robotics>", first_name="Ada", link="https://x/reset-password?token=t"),
        templates.password_reset(org_name="Acme <Robotics>", link="https://x/reset-password?token=t"),
        templates.leave_request(org_name="Acme <Robotics>", requester="Ada L", leave_type="Annual",
                                start="2030-03-04", end="2030-03-06", days=2.5, reason="Trip"),
        templates.leave_decision(org_name="Acme <Robotics>", status="approved", leave_type="Annual",
                                 start="2030-03-04", end="2030-03-04", days=1, comment="Enjoy", decided_by="Max"),
        templates.correction_decision(org_name="Acme <Robotics>", status="rejected", work_date="2030-03-04",
                                      comment="No"),
        templates.correction_request(org_name="Acme <Robotics>", requester="Ada", work_date="2030-03-04",
                                     times="09:00–17:00"),
        templates.digest(org_name="Acme <Robotics>", period="25 Feb – 3 Mar",
                         sections=[templates.DigestSection("New joiners (1)", ["Ada <script>"])]),
        templates.notice(org_name="Acme <Robotics>", title="You have not checked in yet", body="Line 1\nLine 2"),
    ]
    for c in contents:
        assert "Acme <Robotics>" in c.text and "Acme &lt;Robotics&gt;" in c.html and "<Robotics>" not in c.html
        assert c.subject and "<!doctype html>" in c.html
    assert "Ada &lt;script&gt;" in contents[6].html


def test_templates_say_what_happened_with_dates_days_and_links():
    req = templates.leave_request(org_name="Acme", requester="Ada L", leave_type="Annual", start="2030-03-04",
                                  end="2030-03-06", days=2.5, reason="Trip", link="/leave/approvals")
    assert req.subject == "Leave request from Ada L"
    assert "Mon 4 Mar 2030 – Wed 6 Mar 2030 (2.5 days)" in req.text and "Reason: Trip" in req.text
    assert "https://hr.portal.test/leave/approvals" in req.text
    assert "https://hr.portal.test/notifications/preferences" in req.text
    dec = templates.leave_decision(org_name="Acme", status="rejected", leave_type="Sick", start="2030-03-04",
                                   end="2030-03-04", days=1, comment="Busy week", decided_by="Max")
    assert dec.subject == "Your leave was rejected: Mon 4 Mar 2030" and "1 day" in dec.text
    assert "by Max" in dec.text and "Comment: Busy week" in dec.text
    welcome = templates.welcome(org_name="Acme", first_name="Ada", link="https://hr.portal.test/reset-password?token=t")
    assert "https://hr.portal.test/reset-password?token=t" in welcome.text and "7 days" in welcome.text


# ---------------------------------------------------------------- a real SMTP server


class _Sink:
    def __init__(self):
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd hook name
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_server():
    sink = _Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        yield controller, sink
    finally:
        controller.stop()


@pytest.fixture
def no_kick(monkeypatch):
    """Deliver only when the test says so (no background delivery thread after commits)."""
    monkeypatch.setattr(mail, "_kick_after_commit", lambda session: session.info.pop("mail_queued", None))
    monkeypatch.setattr(service, "_kick_delivery_after_commit", lambda session: None)


def _notify_manager(people, org):
    def work(session):
        content = templates.leave_request(org_name=org.organization.name, requester="Employee Tester",
                                          leave_type="Annual", start="2030-03-04", end="2030-03-04", days=1)
        return service.deliver(session, organization_id=org.id, user_ids=[people["manager"].user_id],
                               kind="leave_request", title="Employee Tester asks for Annual leave",
                               link="/leave/approvals", mail_content=content)
    run(work)


def _outbox_row(to: str) -> OutboxEmail:
    with Session(get_engine()) as s:
        return s.exec(select(OutboxEmail).where(OutboxEmail.to_address == to)).one()


def _due(row_id: int) -> None:
    from hr_portal.core.db import utcnow

    with Session(get_engine()) as s:
        row = s.get(OutboxEmail, row_id)
        row.next_attempt_at = utcnow() - dt.timedelta(seconds=1)
        s.add(row)
        s.commit()


def test_a_notification_mail_arrives_by_smtp_as_text_and_html(people, org, smtp_server, settings_override, no_kick):
    controller, sink = smtp_server
    settings_override(smtp_host="127.0.0.1", smtp_port=controller.port, smtp_starttls=False, smtp_ssl=False)
    _notify_manager(people, org)
    assert mail.deliver_pending() == 1
    [msg] = sink.messages
    assert msg["To"] == people["manager"].email and msg["Subject"] == "Leave request from Employee Tester"
    assert "Org A" in msg.get_body(("plain",)).get_content()
    assert "Org A" in msg.get_body(("html",)).get_content()
    assert _outbox_row(people["manager"].email).status == "sent"


def test_an_unreachable_smtp_server_retries_with_backoff_fails_and_an_admin_resends(
        people, org, smtp_server, settings_override, no_kick):
    settings_override(smtp_host="127.0.0.1", smtp_port=_free_port(), smtp_starttls=False, smtp_timeout_seconds=2)
    _notify_manager(people, org)
    row = _outbox_row(people["manager"].email)
    waits = []
    for _ in range(mail.MAX_ATTEMPTS):
        _due(row.id)
        assert mail.deliver_pending() == 0
        row = _outbox_row(people["manager"].email)
        if row.status == "pending":
            waits.append((row.next_attempt_at - row.created_at).total_seconds())
    assert row.status == "failed" and row.attempts == mail.MAX_ATTEMPTS and "Connection" in row.last_error
    assert waits == sorted(waits) and len(waits) == mail.MAX_ATTEMPTS - 1
    # Shown to the admin, failed first; the admin resends once the server is back.
    items, _, counts = run(service.list_outbox, actor=actor_of(people["admin"]))
    assert items[0].id == row.id and counts["failed"] == 1
    controller, sink = smtp_server
    settings_override(smtp_port=controller.port)
    run(service.resend_mail, actor=actor_of(people["admin"]), mail_id=row.id)
    assert mail.deliver_pending() == 1
    assert len(sink.messages) == 1 and _outbox_row(people["manager"].email).status == "sent"
