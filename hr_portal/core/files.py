"""Uploaded files (profile photos, leave attachments): limits, type checked by content, storage.

The bytes live in the database (`stored_file_blobs`), so every process on every machine that shares the
database sees the same files and a backup of the database is a backup of the files. Metadata sits in its
own table (`stored_files`) so listing or authorizing never loads the bytes.

- Ids are random (`secrets.token_urlsafe(24)`, 192 bits): unguessable, and never derived from the name.
- The type is decided from the first bytes (magic numbers), never from the file name or the browser's
  Content-Type; anything not on the purpose's list is refused (SVG, HTML, executables, ...).
- The original file name is kept only as metadata, reduced to a safe form, and its extension is replaced
  with the one of the detected type.
- Who may *read* a file is decided by the module that owns the reference (employees for photos, leave
  for attachments); see hr_portal/files/service.py. This module knows nothing about people or leave.
"""

from __future__ import annotations

import enum
import hashlib
import re
import secrets
import unicodedata
from datetime import datetime
from urllib.parse import quote

from sqlalchemy import Column, ForeignKey, Index, LargeBinary, String
from sqlalchemy import delete as sa_delete
from sqlmodel import Field, Session, SQLModel, select

from hr_portal.core.config import get_settings
from hr_portal.core.errors import AppError
from hr_portal.core.models import enum_type, ts_field

FILES_URL_PREFIX = "/api/v1/files/"


class FilePurpose(enum.StrEnum):
    photo = "photo"
    leave_attachment = "leave_attachment"


PNG, JPEG, WEBP, PDF = "image/png", "image/jpeg", "image/webp", "application/pdf"
ALLOWED: dict[FilePurpose, tuple[str, ...]] = {
    FilePurpose.photo: (PNG, JPEG, WEBP),
    FilePurpose.leave_attachment: (PDF, PNG, JPEG),
}
EXTENSIONS = {PNG: ".png", JPEG: ".jpg", WEBP: ".webp", PDF: ".pdf"}
LABELS = {PNG: "PNG", JPEG: "JPEG", WEBP: "WebP", PDF: "PDF"}


class FileTooLarge(AppError):
    status, code = 413, "PAYLOAD_TOO_LARGE"


class UnsupportedFileType(AppError):
    status, code = 415, "UNSUPPORTED_MEDIA_TYPE"


class StoredFile(SQLModel, table=True):
    __tablename__ = "stored_files"
    __table_args__ = (Index("ix_stored_files_org_purpose", "organization_id", "purpose", "created_at"),)

    id: str = Field(sa_column=Column(String(40), primary_key=True))
    organization_id: int = Field(foreign_key="organizations.id")
    purpose: FilePurpose = Field(sa_type=enum_type(FilePurpose))
    content_type: str = Field(max_length=40)
    size: int
    sha256: str = Field(max_length=64)
    # The name the uploader's file had, sanitized; shown and offered as the download name only.
    original_name: str = Field(default="", max_length=120)
    uploaded_by_user_id: int | None = Field(default=None, foreign_key="users.id")
    # Set once the owning record (a profile, a leave request) refers to the file; unlinked uploads are
    # readable only by their uploader and are purged after a day.
    linked: bool = False
    created_at: datetime = ts_field()


class StoredFileBlob(SQLModel, table=True):
    __tablename__ = "stored_file_blobs"

    file_id: str = Field(sa_column=Column(String(40), ForeignKey("stored_files.id", ondelete="CASCADE"),
                                          primary_key=True))
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


# ---------------------------------------------------------------- checks


def max_bytes() -> int:
    return get_settings().upload_max_bytes


def human_size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.1f}".rstrip("0").rstrip(".") + " MB"
    if n >= 1024:
        return f"{n // 1024} KB"
    return f"{n} bytes"


def sniff(data: bytes) -> str | None:
    """The content type the bytes really are (by their magic numbers), or None when not one we know."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and data[12:16] == b"IHDR":
        return PNG
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if len(data) >= 16 and data[:4] == b"RIFF" and data[8:12] == b"WEBP" and data[12:15] == b"VP8":
        return WEBP
    if data.startswith(b"%PDF-"):
        return PDF
    return None


def allowed_label(purpose: FilePurpose) -> str:
    labels = [LABELS[t] for t in ALLOWED[purpose]]
    return ", ".join(labels[:-1]) + " or " + labels[-1]


def check(data: bytes, purpose: FilePurpose) -> str:
    """Refuse empty, oversized and wrong-typed files; return the detected content type."""
    purpose = FilePurpose(purpose)
    limit = max_bytes()
    if not data:
        raise UnsupportedFileType("The file is empty.", details=[{"field": "file", "message": "The file is empty."}])
    if len(data) > limit:
        message = f"The file is too large: at most {human_size(limit)}."
        raise FileTooLarge(message, details=[{"field": "file", "message": message}])
    kind = sniff(data)
    if kind not in ALLOWED[purpose]:
        what = "a profile photo" if purpose == FilePurpose.photo else "an attachment"
        message = f"This file type is not accepted for {what}: upload a {allowed_label(purpose)} file."
        raise UnsupportedFileType(message, details=[{"field": "file", "message": message}])
    return kind


_UNSAFE = re.compile(r"[^\w.\- ()]+", re.UNICODE)


def sanitize_name(name: str | None, content_type: str) -> str:
    """A harmless display name: no path, no control or shell characters, at most 100 characters, and the
    extension of the detected type (so 'cv.pdf.exe' that is really a PDF becomes 'cv.pdf.pdf')."""
    base = re.split(r"[\\/]", str(name or ""))[-1]
    base = unicodedata.normalize("NFKC", base)
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C")
    base = _UNSAFE.sub("_", base).strip(" ._")
    stem = base.rsplit(".", 1)[0] if "." in base else base
    stem = re.sub(r"_+", "_", stem).strip(" ._")[:90] or "file"
    return stem + EXTENSIONS.get(content_type, "")


def content_disposition(name: str, *, inline: bool) -> str:
    """`inline`/`attachment` with an ASCII fallback name and the UTF-8 name (RFC 6266 / 5987)."""
    ascii_name = name.encode("ascii", "ignore").decode() or "file"
    ascii_name = ascii_name.replace('"', "").replace("\\", "")
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


# ---------------------------------------------------------------- storage


def new_id() -> str:
    return secrets.token_urlsafe(24)


def url(file_id: str | None) -> str | None:
    return f"{FILES_URL_PREFIX}{file_id}" if file_id else None


def store(session: Session, *, organization_id: int, purpose: FilePurpose, data: bytes, filename: str | None,
          uploaded_by_user_id: int | None, linked: bool = False) -> StoredFile:
    """Check and save a file; the caller's transaction commits it. Authorization is the caller's job."""
    kind = check(data, purpose)
    meta = StoredFile(id=new_id(), organization_id=organization_id, purpose=FilePurpose(purpose), content_type=kind,
                      size=len(data), sha256=hashlib.sha256(data).hexdigest(),
                      original_name=sanitize_name(filename, kind), uploaded_by_user_id=uploaded_by_user_id,
                      linked=linked)
    session.add(meta)
    session.flush()
    session.add(StoredFileBlob(file_id=meta.id, data=data))
    session.flush()
    return meta


def get_meta(session: Session, file_id: str | None, organization_id: int) -> StoredFile | None:
    """The file's metadata if it exists in that organization (no bytes loaded)."""
    if not isinstance(file_id, str) or not 16 <= len(file_id) <= 40 or not re.fullmatch(r"[\w\-]+", file_id):
        return None
    meta = session.get(StoredFile, file_id)
    if meta is None or meta.organization_id != organization_id:
        return None
    return meta


def read_bytes(session: Session, file_id: str) -> bytes:
    data = session.exec(select(StoredFileBlob.data).where(StoredFileBlob.file_id == file_id)).first()
    return bytes(data) if data is not None else b""


def delete(session: Session, file_id: str | None) -> None:
    if not file_id:
        return
    meta = session.get(StoredFile, file_id)
    if meta is not None:
        session.expunge(meta)
    session.exec(sa_delete(StoredFileBlob).where(StoredFileBlob.file_id == file_id))
    session.exec(sa_delete(StoredFile).where(StoredFile.id == file_id))


def purge_unlinked(session: Session, *, older_than: datetime) -> int:
    """Delete uploads nobody referred to (an attachment picked for a leave request that was never sent)."""
    ids = list(session.exec(select(StoredFile.id).where(StoredFile.linked == False,  # noqa: E712
                                                        StoredFile.created_at < older_than).limit(1000)).all())
    for file_id in ids:
        delete(session, file_id)
    return len(ids)
