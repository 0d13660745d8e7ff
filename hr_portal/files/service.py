"""Who may open an uploaded file. The owning module decides: employees for profile photos (everyone of the
organization), leave for attachments (the requester, their approvers, HR and admins). A file that is not
the actor's to see is "not found", exactly like one that does not exist or belongs to another organization."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from hr_portal.core import files
from hr_portal.core.authz import Actor, require
from hr_portal.core.errors import NotFound
from hr_portal.employees import service as employees_service
from hr_portal.leave import service as leave_service


def readable(session: Session, actor: Actor, meta: files.StoredFile) -> bool:
    if meta.organization_id != actor.organization_id:
        return False
    if meta.purpose == files.FilePurpose.photo:
        return employees_service.photo_readable(session, actor, meta)
    if meta.purpose == files.FilePurpose.leave_attachment:
        return leave_service.attachment_readable(session, actor, meta)
    return False  # deny by default: a purpose without a reader is nobody's to read


def open_file(*, session: Session, actor: Actor, file_id: Any) -> tuple[files.StoredFile, bytes]:
    """The file's metadata and bytes, if the actor may see it; NotFound otherwise."""
    require(actor)
    meta = files.get_meta(session, file_id if isinstance(file_id, str) else None, actor.organization_id)
    if meta is None or not readable(session, actor, meta):
        raise NotFound("File not found.")
    return meta, files.read_bytes(session, meta.id)


def response_headers(meta: files.StoredFile) -> dict[str, str]:
    """Headers for serving a stored file: its real type, never sniffed by the browser, images shown inline
    and everything else downloaded, never cached by shared caches or kept on disk."""
    inline = meta.content_type.startswith("image/")
    return {
        "Content-Type": meta.content_type,
        "X-Content-Type-Options": "nosniff",
        "Content-Disposition": files.content_disposition(meta.original_name or "file", inline=inline),
        "Cache-Control": "private, no-store",
        # A PDF opened in the browser cannot run scripts or be framed by another site.
        "Content-Security-Policy": "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox",
    }
