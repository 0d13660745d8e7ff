"""/api/v1/notifications: the caller's inbox and preferences; the admin's mail outbox (additive endpoints)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request

from hr_portal.core.api_support import AccessClaims, CurrentActor, PageDep, SessionDep, ok, paginated, run_unit
from hr_portal.core.schemas import DbId
from hr_portal.notifications import service
from hr_portal.notifications.models import PreferenceUpdate

router = APIRouter(prefix="/notifications", tags=["notifications"])


@router.get("")
async def list_notifications(request: Request, claims: AccessClaims, page: PageDep,
                             unread: Annotated[bool, Query()] = False,
                             kind: Annotated[str | None, Query(max_length=40)] = None) -> dict:
    def read(session, actor) -> dict:
        items, total = service.list_notifications(session=session, actor=actor, unread_only=unread, kind=kind,
                                                  page=page.page, limit=page.limit)
        return paginated([i.dump() for i in items], page=page.page, limit=page.limit, total=total)

    return await run_unit(request, claims, read)  # polled by clients: one thread hop (core/api_support.py)


@router.get("/unread-count")
async def unread_count(request: Request, claims: AccessClaims) -> dict:
    return await run_unit(request, claims, lambda session, actor: ok(
        {"unread": service.unread_count(session=session, actor=actor)}))


@router.post("/read-all")
def mark_all_read(session: SessionDep, actor: CurrentActor,
                  kind: Annotated[str | None, Query(max_length=40)] = None) -> dict:
    return ok({"marked": service.mark_all_read(session=session, actor=actor, kind=kind)}, "Marked as read")


@router.post("/{notification_id}/read")
def mark_read(notification_id: DbId, session: SessionDep, actor: CurrentActor) -> dict:
    return ok(service.mark_read(session=session, actor=actor, notification_id=notification_id).dump(),
              "Marked as read")


@router.get("/preferences")
def get_preferences(session: SessionDep, actor: CurrentActor) -> dict:
    prefs = service.get_preferences(session=session, actor=actor)
    return ok({"preferences": [p.dump() for p in prefs],
               "shareCelebrations": service.get_celebration_sharing(session=session, actor=actor)})


@router.put("/preferences")
def set_preference(body: PreferenceUpdate, session: SessionDep, actor: CurrentActor) -> dict:
    return ok(service.set_preference(session=session, actor=actor, kind=body.kind, channel=body.channel).dump(),
              "Preference saved")


@router.get("/outbox")
def list_outbox(session: SessionDep, actor: CurrentActor, page: PageDep,
                status: Annotated[Literal["pending", "sent", "failed"] | None, Query()] = None,
                search: Annotated[str | None, Query(max_length=200)] = None) -> dict:
    items, total, _counts = service.list_outbox(session=session, actor=actor, status=status, search=search,
                                                page=page.page, limit=page.limit)
    return paginated([i.dump() for i in items], page=page.page, limit=page.limit, total=total)


@router.post("/outbox/{mail_id}/resend")
def resend(mail_id: DbId, session: SessionDep, actor: CurrentActor) -> dict:
    return ok(service.resend_mail(session=session, actor=actor, mail_id=mail_id).dump(), "Mail queued again")
