"""Delivery by preference, the inbox (own only), preferences, and the admin mail outbox."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from hr_portal.auth.models import Role
from hr_portal.core.db import get_engine
from hr_portal.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from hr_portal.core.mail import OutboxEmail
from hr_portal.notifications import service
from hr_portal.notifications.models import Channel, NotificationKey
from tests.notifications.conftest import inbox, run


def _deliver(org, user_ids, kind="leave_request", **kw):
    def work(session):
        return service.deliver(session, organization_id=org.id, user_ids=user_ids, kind=kind,
                               title=kw.pop("title", "Something happened"), body=kw.pop("body", "Details"),
                               link=kw.pop("link", "/leave/approvals"), **kw)
    return run(work)


def _mails(to: str | None = None) -> list[OutboxEmail]:
    with Session(get_engine()) as s:
        q = select(OutboxEmail).order_by(OutboxEmail.id)
        if to:
            q = q.where(OutboxEmail.to_address == to)
        return list(s.exec(q).all())


# ---------------------------------------------------------------- delivery


def test_default_channel_both_gives_an_inbox_row_and_a_mail(people, org):
    manager = people["manager"]
    assert _deliver(org, [manager.user_id]) == 1
    assert [n.title for n in inbox(manager.user_id)] == ["Something happened"]
    mails = _mails(manager.email)
    assert len(mails) == 1 and mails[0].kind == "leave_request" and org.organization.name in mails[0].body_text


def test_a_user_who_chose_email_only_gets_no_inbox_row(people, org, actors):
    run(service.set_preference, actor=actors["manager"], kind="leave_request", channel="email")
    _deliver(org, [people["manager"].user_id])
    assert inbox(people["manager"].user_id) == []
    assert len(_mails(people["manager"].email)) == 1


def test_a_user_who_chose_in_app_only_gets_no_mail(people, org, actors):
    run(service.set_preference, actor=actors["manager"], kind="leave_request", channel="in_app")
    _deliver(org, [people["manager"].user_id])
    assert len(inbox(people["manager"].user_id)) == 1
    assert _mails(people["manager"].email) == []


def test_switched_off_kinds_deliver_nothing(people, org, actors):
    run(service.set_preference, actor=actors["employee"], kind="celebration", channel="off")
    assert _deliver(org, [people["employee"].user_id], kind="celebration") == 0
    assert inbox(people["employee"].user_id) == [] and _mails() == []


def test_users_of_another_organization_and_inactive_users_are_skipped(people, org, other_org, make_person):
    stranger = make_person(other_org, role=Role.manager)
    gone = make_person(org, role=Role.manager, is_active=False)
    assert _deliver(org, [stranger.user_id, gone.user_id, people["hr_manager"].user_id, None]) == 1
    assert inbox(stranger.user_id) == [] and inbox(gone.user_id) == []


def test_a_dedupe_key_delivers_once_per_user(people, org):
    uid = people["employee"].user_id
    assert _deliver(org, [uid], kind="checkin_reminder", dedupe_key="checkin:2030-03-04") == 1
    assert _deliver(org, [uid], kind="checkin_reminder", dedupe_key="checkin:2030-03-04") == 0
    assert _deliver(org, [uid], kind="checkin_reminder", dedupe_key="checkin:2030-03-05") == 1
    assert len(inbox(uid)) == 2 and len(_mails(people["employee"].email)) == 2


def test_excluded_users_get_nothing(people, org):
    emp = people["employee"]
    assert _deliver(org, [emp.user_id, people["manager"].user_id], exclude_user_ids=[emp.user_id]) == 1
    assert inbox(emp.user_id) == []


def test_nothing_is_stored_when_the_transaction_rolls_back(people, org):
    with Session(get_engine()) as s:
        service.deliver(s, organization_id=org.id, user_ids=[people["manager"].user_id], kind="leave_request",
                        title="x", dedupe_key="k")
        s.rollback()
    assert inbox(people["manager"].user_id) == [] and _mails() == []
    with Session(get_engine()) as s:
        assert s.exec(select(NotificationKey)).all() == []


def test_unknown_kinds_are_a_programming_error(people, org):
    with pytest.raises(ValueError):
        _deliver(org, [people["manager"].user_id], kind="nope")


# ---------------------------------------------------------------- the inbox


def test_list_is_newest_first_and_filters_unread_and_kind(people, org, actors):
    uid = people["manager"].user_id
    _deliver(org, [uid], title="first")
    _deliver(org, [uid], kind="approval_reminder", title="second")
    _deliver(org, [uid], title="third")
    items, total = run(service.list_notifications, actor=actors["manager"])
    assert total == 3 and [i.title for i in items] == ["third", "second", "first"]
    run(service.mark_read, actor=actors["manager"], notification_id=items[0].id)
    unread, total = run(service.list_notifications, actor=actors["manager"], unread_only=True)
    assert total == 2 and [i.title for i in unread] == ["second", "first"]
    kind_only, total = run(service.list_notifications, actor=actors["manager"], kind="approval_reminder")
    assert total == 1 and kind_only[0].kind_label == "Reminders about waiting requests"


def test_paging_returns_the_requested_slice(people, org, actors):
    uid = people["manager"].user_id
    for i in range(5):
        _deliver(org, [uid], title=f"n{i}", kind="approval_reminder")
    page2, total = run(service.list_notifications, actor=actors["manager"], page=2, limit=2)
    assert total == 5 and [i.title for i in page2] == ["n2", "n1"]
    with pytest.raises(ValidationFailed):
        run(service.list_notifications, actor=actors["manager"], page=0)
    with pytest.raises(ValidationFailed):
        run(service.list_notifications, actor=actors["manager"], limit=1000)
    with pytest.raises(ValidationFailed):
        run(service.list_notifications, actor=actors["manager"], kind="secret")


def test_unread_count_and_mark_all_read(people, org, actors):
    uid = people["manager"].user_id
    for _ in range(3):
        _deliver(org, [uid])
    _deliver(org, [uid], kind="approval_reminder")
    assert run(service.unread_count, actor=actors["manager"]) == 4
    assert run(service.mark_all_read, actor=actors["manager"], kind="approval_reminder") == 1
    assert run(service.unread_count, actor=actors["manager"]) == 3
    assert run(service.mark_all_read, actor=actors["manager"]) == 3
    assert run(service.unread_count, actor=actors["manager"]) == 0
    assert run(service.mark_all_read, actor=actors["manager"]) == 0


def test_the_bell_summary_has_the_count_and_the_latest_eight(people, org, actors):
    uid = people["manager"].user_id
    for i in range(10):
        _deliver(org, [uid], title=f"n{i}")
    summary = run(service.inbox_summary, actor=actors["manager"])
    assert summary["unread"] == 10 and len(summary["items"]) == 8 and summary["items"][0].title == "n9"


def test_nobody_reads_or_marks_someone_elses_notifications(people, org, actors):
    _deliver(org, [people["manager"].user_id])
    theirs = inbox(people["manager"].user_id)[0]
    for who in ("employee", "admin", "hr_manager"):
        with pytest.raises(NotFound):
            run(service.mark_read, actor=actors[who], notification_id=theirs.id)
        assert run(service.list_notifications, actor=actors[who])[1] == 0
    assert run(service.mark_all_read, actor=actors["admin"]) == 0
    assert inbox(people["manager"].user_id)[0].read_at is None


def test_mark_read_is_idempotent_and_rejects_junk_ids(people, org, actors):
    _deliver(org, [people["manager"].user_id])
    n = inbox(people["manager"].user_id)[0]
    first = run(service.mark_read, actor=actors["manager"], notification_id=n.id)
    again = run(service.mark_read, actor=actors["manager"], notification_id=str(n.id))
    assert first.read and again.read_at == first.read_at
    for junk in ("abc", None, "1; drop table users"):
        with pytest.raises(NotFound):
            run(service.mark_read, actor=actors["manager"], notification_id=junk)


# ---------------------------------------------------------------- preferences


def test_preferences_show_defaults_and_only_the_kinds_of_the_role(actors):
    emp = {p.kind: p for p in run(service.get_preferences, actor=actors["employee"])}
    hr = {p.kind: p for p in run(service.get_preferences, actor=actors["hr_manager"])}
    assert "weekly_digest" not in emp and hr["weekly_digest"].channel == Channel.email
    assert emp["leave_decision"].channel == Channel.both
    assert Channel.off not in emp["leave_decision"].options and Channel.off in emp["celebration"].options


def test_a_preference_is_saved_and_changed(actors):
    saved = run(service.set_preference, actor=actors["employee"], kind="checkin_reminder", channel="in_app")
    assert saved.channel == Channel.in_app
    run(service.set_preference, actor=actors["employee"], kind="checkin_reminder", channel="off")
    prefs = {p.kind: p.channel for p in run(service.get_preferences, actor=actors["employee"])}
    assert prefs["checkin_reminder"] == Channel.off


def test_kinds_that_ask_to_act_cannot_be_switched_off(actors):
    with pytest.raises(ValidationFailed) as exc:
        run(service.set_preference, actor=actors["manager"], kind="leave_request", channel="off")
    assert exc.value.details[0]["field"] == "channel"


def test_bad_preference_input_is_refused(actors):
    for kind, channel in [("nope", "email"), ("leave_request", "sms"), ("", "email"),
                          ("weekly_digest", "email")]:  # the digest is not an employee's kind
        with pytest.raises(ValidationFailed):
            run(service.set_preference, actor=actors["employee"], kind=kind, channel=channel)


def test_preferences_are_per_user(actors):
    run(service.set_preference, actor=actors["employee"], kind="celebration", channel="off")
    prefs = {p.kind: p.channel for p in run(service.get_preferences, actor=actors["manager"])}
    assert prefs["celebration"] == Channel.in_app


def test_celebration_sharing_defaults_on_and_can_be_switched(actors):
    assert run(service.get_celebration_sharing, actor=actors["employee"]) is True
    run(service.set_celebration_sharing, actor=actors["employee"], share=False)
    run(service.set_celebration_sharing, actor=actors["employee"], share=False)  # idempotent
    assert run(service.get_celebration_sharing, actor=actors["employee"]) is False
    run(service.set_celebration_sharing, actor=actors["employee"], share=True)
    assert run(service.get_celebration_sharing, actor=actors["employee"]) is True
    with pytest.raises(ValidationFailed):
        run(service.set_celebration_sharing, actor=actors["employee"], share="no")


# ---------------------------------------------------------------- the admin mail outbox


def _mail(org, status="sent", to="a@example.com", attempts=1, error=None, subject="Hello"):
    with Session(get_engine(), expire_on_commit=False) as s:
        m = OutboxEmail(organization_id=org.id if org else None, to_address=to, subject=subject, body_text="text",
                        body_html="<p>html</p>", kind="test", status=status, attempts=attempts, last_error=error)
        s.add(m)
        s.commit()
        return m


def test_outbox_lists_failed_first_with_counts_and_filters(people, org, other_org, actors):
    _mail(org, "sent", subject="old sent")
    _mail(org, "failed", error="SMTPRecipientsRefused", subject="broken", to="x@bad.example")
    _mail(org, "pending", subject="waiting")
    _mail(other_org, "failed", subject="not ours")
    items, total, counts = run(service.list_outbox, actor=actors["admin"])
    assert total == 3 and items[0].subject == "broken" and items[0].last_error == "SMTPRecipientsRefused"
    assert counts == {"pending": 1, "sent": 1, "failed": 1}
    only_failed, total, _ = run(service.list_outbox, actor=actors["admin"], status="failed")
    assert total == 1 and only_failed[0].status == "failed"
    found, total, _ = run(service.list_outbox, actor=actors["admin"], search="BAD.example")
    assert total == 1 and found[0].to == "x@bad.example"
    with pytest.raises(ValidationFailed):
        run(service.list_outbox, actor=actors["admin"], status="bounced")


def test_only_admins_see_the_outbox(actors, org):
    m = _mail(org, "failed")
    for who in ("hr_manager", "manager", "employee"):
        with pytest.raises(Forbidden):
            run(service.list_outbox, actor=actors[who])
        with pytest.raises(Forbidden):
            run(service.resend_mail, actor=actors[who], mail_id=m.id)


def test_resend_puts_a_failed_mail_back_in_the_queue(actors, org, monkeypatch):
    kicked = []
    monkeypatch.setattr(service, "_kick_delivery_after_commit", lambda s: kicked.append(True))
    m = _mail(org, "failed", attempts=5, error="timeout")
    out = run(service.resend_mail, actor=actors["admin"], mail_id=m.id)
    assert out.status == "pending" and out.attempts == 0 and kicked == [True]
    with pytest.raises(Conflict):
        run(service.resend_mail, actor=actors["admin"], mail_id=m.id)


def test_sent_mails_and_other_organizations_mails_are_not_resent(actors, org, other_org):
    sent = _mail(org, "sent")
    foreign = _mail(other_org, "failed")
    with pytest.raises(Conflict):
        run(service.resend_mail, actor=actors["admin"], mail_id=sent.id)
    with pytest.raises(NotFound):
        run(service.resend_mail, actor=actors["admin"], mail_id=foreign.id)
    with pytest.raises(NotFound):
        run(service.get_mail, actor=actors["admin"], mail_id=foreign.id)
    with pytest.raises(NotFound):
        run(service.resend_mail, actor=actors["admin"], mail_id="x")


def test_admin_reads_a_mail_body(actors, org):
    m = _mail(org, "sent", subject="Body check")
    detail = run(service.get_mail, actor=actors["admin"], mail_id=m.id)
    assert detail["subject"] == "Body check" and detail["bodyText"] == "text"


def test_hr_user_ids_prefer_hr_managers_then_admins(people, org, other_org, make_person):
    with Session(get_engine()) as s:
        assert service.hr_user_ids(s, org.id) == [people["hr_manager"].user_id]
    admin_only = make_person(other_org, role=Role.admin)
    with Session(get_engine()) as s:
        assert service.hr_user_ids(s, other_org.id) == [admin_only.user_id]

