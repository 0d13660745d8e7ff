"""Mail templates: each returns the subject, a plain-text part and an HTML part, with the organization's
name in them. Every value is escaped in the HTML (see core/mail.render)."""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import date

from hr_portal.core.config import get_settings
from hr_portal.core.mail import render


@dataclass(frozen=True)
class MailContent:
    subject: str
    text: str
    html: str


def absolute_url(path: str) -> str:
    """A portal link for a mail: always the configured base URL, never a request's Host header."""
    base = get_settings().base_url.rstrip("/")
    if path.startswith(("http://", "https://")):
        return path
    return base + (path if path.startswith("/") else "/" + path)


def preferences_footer() -> str:
    return f"Choose what you receive: {absolute_url('/notifications/preferences')}"


def fmt_date(day: date | str | None) -> str:
    if day is None:
        return ""
    if isinstance(day, str):
        try:
            day = date.fromisoformat(day[:10])
        except ValueError:
            return day
    return f"{day:%a} {day.day} {day:%b %Y}"


def fmt_range(start: date | str | None, end: date | str | None) -> str:
    a, b = fmt_date(start), fmt_date(end)
    return a if not b or a == b else f"{a} – {b}"


def fmt_days(days: float | int | str | None) -> str:
    try:
        value = float(days)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return ""
    shown = f"{value:g}"
    return f"{shown} day" if value == 1 else f"{shown} days"


def _mail(subject: str, org_name: str, **parts) -> MailContent:
    text, body_html = render(org_name=org_name, **parts)
    return MailContent(subject=subject[:300], text=text, html=body_html)


# ---------------------------------------------------------------- account mails (transactional)


def welcome(*, org_name: str, first_name: str, link: str, valid_days: int = 7) -> MailContent:
    return _mail(
        f"Welcome to {org_name}: set your HR Portal password", org_name,
        heading=f"Welcome to {org_name}, {first_name}".strip().rstrip(","),
        paragraphs=[f"An account on {org_name}'s HR Portal was created for you: check in and out, ask for leave "
                    "and see your balances there.",
                    f"Choose your password with the link below. It works once and for {valid_days} days."],
        action_label="Set my password", action_url=link)


def password_reset(*, org_name: str, link: str, valid_minutes: int = 60) -> MailContent:
    return _mail(
        "Reset your HR Portal password", org_name, heading="Reset your password",
        paragraphs=["Someone (hopefully you) asked to reset the password of your HR Portal account.",
                    f"The link works once and expires in {valid_minutes} minutes. If you did not ask for it, "
                    "ignore this mail: your password stays as it is."],
        action_label="Choose a new password", action_url=link)


# ---------------------------------------------------------------- leave and corrections


def leave_request(*, org_name: str, requester: str, leave_type: str, start: date | str | None,
                  end: date | str | None, days: float | None, reason: str = "", link: str = "/leave/approvals",
                  on_behalf_of: str = "") -> MailContent:
    paragraphs = [f"{requester} asks for {leave_type} leave: {fmt_range(start, end)}"
                  + (f" ({fmt_days(days)})." if fmt_days(days) else ".")]
    paragraphs.append(f"Reason: {reason}" if reason else "No reason given.")
    if on_behalf_of:
        paragraphs.append(f"You get this as the delegate of {on_behalf_of}.")
    return _mail(f"Leave request from {requester}", org_name,
                 heading=f"{requester} asks for {leave_type} leave", paragraphs=paragraphs,
                 action_label="Review the request", action_url=absolute_url(link), footer=preferences_footer())


def leave_decision(*, org_name: str, status: str, leave_type: str, start: date | str | None, end: date | str | None,
                   days: float | None = None, comment: str | None = None, decided_by: str = "",
                   link: str = "/leave") -> MailContent:
    word = {"approved": "approved", "rejected": "rejected"}.get(status, status)
    paragraphs = [f"{leave_type} leave, {fmt_range(start, end)}" + (f" ({fmt_days(days)})" if fmt_days(days) else "")
                  + f": {word}" + (f" by {decided_by}." if decided_by else ".")]
    if comment:
        paragraphs.append(f"Comment: {comment}")
    return _mail(f"Your leave was {word}: {fmt_date(start)}", org_name,
                 heading=f"Your {leave_type} leave was {word}", paragraphs=paragraphs,
                 action_label="See my leave", action_url=absolute_url(link), footer=preferences_footer())


def correction_request(*, org_name: str, requester: str, work_date: date | str | None, times: str = "",
                       reason: str = "", link: str = "/attendance/approvals") -> MailContent:
    paragraphs = [f"{requester} asks to correct the attendance of {fmt_date(work_date)}"
                  + (f" to {times}." if times else ".")]
    paragraphs.append(f"Reason: {reason}" if reason else "No reason given.")
    return _mail(f"Attendance correction from {requester}", org_name,
                 heading=f"{requester} asks for an attendance correction", paragraphs=paragraphs,
                 action_label="Review the correction", action_url=absolute_url(link), footer=preferences_footer())


def correction_decision(*, org_name: str, status: str, work_date: date | str | None, comment: str | None = None,
                        decided_by: str = "", link: str = "/attendance") -> MailContent:
    paragraphs = [f"Your correction of {fmt_date(work_date)} was {status}" + (f" by {decided_by}." if decided_by else ".")]
    if status == "approved":
        paragraphs.append("Your attendance record for that day now shows the corrected times.")
    if comment:
        paragraphs.append(f"Comment: {comment}")
    return _mail(f"Attendance correction {status}: {fmt_date(work_date)}", org_name,
                 heading=f"Your attendance correction was {status}", paragraphs=paragraphs,
                 action_label="See my attendance", action_url=absolute_url(link), footer=preferences_footer())


# ---------------------------------------------------------------- generic notices and the digest


def notice(*, org_name: str, title: str, body: str, link: str = "", action_label: str = "Open HR Portal"
           ) -> MailContent:
    """Reminders, escalations and team notes: the in-app notification as a mail."""
    paragraphs = [p for p in body.split("\n") if p.strip()] or [title]
    return _mail(title, org_name, heading=title, paragraphs=paragraphs, action_label=action_label,
                 action_url=absolute_url(link or "/notifications"), footer=preferences_footer())


@dataclass(frozen=True)
class DigestSection:
    heading: str
    lines: list[str]
    empty: str = "Nothing this week."


def digest(*, org_name: str, period: str, sections: list[DigestSection], link: str = "/") -> MailContent:
    """The weekly HR digest: headed sections with bullet lines (text and HTML)."""
    e = html.escape
    url = absolute_url(link)
    text_lines = [f"Weekly HR digest · {org_name}", period, ""]
    html_parts = []
    for s in sections:
        text_lines.append(s.heading)
        text_lines += [f"  - {line}" for line in s.lines] or [f"  {s.empty}"]
        text_lines.append("")
        items = "".join(f"<li style=\"margin:0 0 4px\">{e(line)}</li>" for line in s.lines)
        html_parts.append(f"<h3 style=\"font-size:15px;margin:18px 0 6px\">{e(s.heading)}</h3>"
                          + (f"<ul style=\"margin:0;padding-left:20px\">{items}</ul>" if s.lines
                             else f"<p style=\"margin:0;color:#666\">{e(s.empty)}</p>"))
    text_lines += [f"Open HR Portal: {url}", "", f"— {org_name} via HR Portal", preferences_footer()]
    body_html = (
        "<!doctype html><html><body style=\"font-family:system-ui,sans-serif;color:#1c2024;max-width:560px\">"
        f"<h2 style=\"font-size:18px;margin-bottom:4px\">Weekly HR digest · {e(org_name)}</h2>"
        f"<p style=\"margin:0 0 8px;color:#666\">{e(period)}</p>{''.join(html_parts)}"
        f"<p style=\"margin:20px 0\"><a href=\"{e(url)}\" style=\"background:#3e63dd;color:#fff;padding:10px 16px;"
        f"border-radius:6px;text-decoration:none\">Open HR Portal</a></p>"
        f"<p style=\"font-size:12px;color:#666\">{e(org_name)} via HR Portal · {e(preferences_footer())}</p>"
        "</body></html>"
    )
    return MailContent(subject=f"Weekly HR digest: {period}", text="\n".join(text_lines), html=body_html)
