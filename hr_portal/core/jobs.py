"""Jobs of the core: mail delivery retries and housekeeping of expired auth rows."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlmodel import Session

from hr_portal.core.scheduler import job


@job("core.deliver_mail", cron={"minute": "*"}, description="Send mails waiting in the outbox (retries with backoff)")
def deliver_mail(*, session: Session, now: datetime) -> int:
    from hr_portal.core.mail import deliver_pending

    session.commit()  # deliver_pending uses its own short transactions
    return deliver_pending(limit=200)


@job("core.purge_expired_tokens", cron={"hour": 3, "minute": 17},
     description="Delete expired revoked-token ids, UI sessions and reset links")
def purge_expired_tokens(*, session: Session, now: datetime) -> int:
    from hr_portal.auth.models import PasswordResetToken, RevokedToken, UISession

    removed = 0
    removed += session.exec(delete(RevokedToken).where(RevokedToken.expires_at < now)).rowcount or 0
    removed += session.exec(delete(UISession).where(UISession.expires_at < now - timedelta(days=1))).rowcount or 0
    removed += session.exec(delete(PasswordResetToken).where(PasswordResetToken.expires_at < now - timedelta(days=1))
                            ).rowcount or 0
    return removed
