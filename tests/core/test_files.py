"""core/files.py: size limit, type by content (never by name), safe names, random ids, storage."""

from __future__ import annotations

import pytest
from sqlmodel import select

from hr_portal.core import files
from hr_portal.core.db import utcnow
from hr_portal.core.files import FilePurpose, FileTooLarge, UnsupportedFileType
from tests.files import samples


@pytest.mark.parametrize(("data", "kind"), [
    (samples.png(), "image/png"), (samples.jpeg(), "image/jpeg"), (samples.webp(), "image/webp"),
    (samples.pdf(), "application/pdf"),
    (samples.SVG, None), (samples.HTML, None), (samples.EXE, None), (samples.GIF, None), (b"%PD", None),
    (b"\x89PNG\r\n\x1a\n", None),
])
def test_sniff_decides_by_magic_bytes(data, kind):
    assert files.sniff(data) == kind


def test_photo_accepts_png_jpeg_webp_and_refuses_pdf_and_scripts():
    for data in (samples.png(), samples.jpeg(), samples.webp()):
        files.check(data, FilePurpose.photo)
    for data in (samples.pdf(), samples.SVG, samples.HTML, samples.GIF):
        with pytest.raises(UnsupportedFileType) as exc:
            files.check(data, FilePurpose.photo)
        assert exc.value.status == 415 and "PNG, JPEG or WebP" in exc.value.message


def test_attachment_accepts_pdf_png_jpeg_and_refuses_webp_and_executables():
    for data in (samples.pdf(), samples.png(), samples.jpeg()):
        files.check(data, FilePurpose.leave_attachment)
    for data in (samples.webp(), samples.EXE, samples.HTML):
        with pytest.raises(UnsupportedFileType) as exc:
            files.check(data, FilePurpose.leave_attachment)
        assert "PDF, PNG or JPEG" in exc.value.message


def test_a_script_named_like_a_pdf_is_refused():
    with pytest.raises(UnsupportedFileType):
        files.check(samples.HTML, FilePurpose.leave_attachment)  # the name never matters: there is none here


def test_size_limit_is_configurable_and_exact(settings_override):
    settings_override(upload_max_bytes=1000)
    ok = samples.pdf() + b" " * (1000 - len(samples.pdf()))
    assert files.check(ok, FilePurpose.leave_attachment) == "application/pdf"
    with pytest.raises(FileTooLarge) as exc:
        files.check(ok + b" ", FilePurpose.leave_attachment)
    assert exc.value.status == 413 and "at most 1000 bytes" in exc.value.message


def test_empty_file_is_refused():
    with pytest.raises(UnsupportedFileType, match="empty"):
        files.check(b"", FilePurpose.photo)


@pytest.mark.parametrize(("name", "kind", "expected"), [
    ("../../etc/passwd", "application/pdf", "passwd.pdf"),
    ("C:\\Users\\ann\\scan 1.jpeg", "image/jpeg", "scan 1.jpg"),
    ("cv.pdf.exe", "application/pdf", "cv.pdf.pdf"),
    ('a"b<script>.png', "image/png", "a_b_script.png"),
    ("Ärztliches Attest\x00\n.pdf", "application/pdf", "Ärztliches Attest.pdf"),
    ("", "image/png", "file.png"),
    ("x" * 300 + ".pdf", "application/pdf", "x" * 90 + ".pdf"),
])
def test_names_are_sanitized_and_get_the_detected_extension(name, kind, expected):
    assert files.sanitize_name(name, kind) == expected


def test_content_disposition_has_ascii_fallback_and_utf8_name():
    value = files.content_disposition("Ärztliches Attest.pdf", inline=False)
    assert value.startswith('attachment; filename="rztliches Attest.pdf"')
    assert "filename*=UTF-8''%C3%84rztliches%20Attest.pdf" in value
    assert files.content_disposition("p.png", inline=True).startswith("inline;")


def test_store_keeps_bytes_in_the_database_under_a_random_id(db, org):
    data = samples.pdf()
    a = files.store(db, organization_id=org.id, purpose=FilePurpose.leave_attachment, data=data,
                    filename="note.pdf", uploaded_by_user_id=None)
    b = files.store(db, organization_id=org.id, purpose=FilePurpose.leave_attachment, data=data,
                    filename="note.pdf", uploaded_by_user_id=None)
    assert a.id != b.id and len(a.id) >= 32 and "note" not in a.id
    assert files.read_bytes(db, a.id) == data
    assert (a.content_type, a.size, a.original_name) == ("application/pdf", len(data), "note.pdf")
    assert files.get_meta(db, a.id, org.id + 1) is None  # another organization: not there
    assert files.get_meta(db, "../" + a.id, org.id) is None
    files.delete(db, a.id)
    assert files.get_meta(db, a.id, org.id) is None
    assert db.exec(select(files.StoredFileBlob).where(files.StoredFileBlob.file_id == a.id)).first() is None


def test_purge_removes_only_old_unlinked_uploads(db, org):
    import datetime as dt

    old = files.store(db, organization_id=org.id, purpose=FilePurpose.leave_attachment, data=samples.pdf(),
                      filename="a.pdf", uploaded_by_user_id=None)
    kept = files.store(db, organization_id=org.id, purpose=FilePurpose.photo, data=samples.png(),
                       filename="p.png", uploaded_by_user_id=None, linked=True)
    fresh = files.store(db, organization_id=org.id, purpose=FilePurpose.leave_attachment, data=samples.pdf(),
                        filename="b.pdf", uploaded_by_user_id=None)
    old.created_at = old.created_at - dt.timedelta(days=2)
    kept.created_at = kept.created_at - dt.timedelta(days=2)
    db.add_all([old, kept])
    db.flush()
    assert files.purge_unlinked(db, older_than=utcnow() - dt.timedelta(days=1)) == 1
    assert files.get_meta(db, old.id, org.id) is None
    assert files.get_meta(db, kept.id, org.id) is not None and files.get_meta(db, fresh.id, org.id) is not None


def test_purge_runs_as_a_scheduled_job(db, org):
    import datetime as dt

    from hr_portal.core import scheduler

    jobs = scheduler.load_jobs()
    assert "files.purge_unlinked" in jobs
    old = files.store(db, organization_id=org.id, purpose=FilePurpose.leave_attachment, data=samples.pdf(),
                      filename="a.pdf", uploaded_by_user_id=None)
    old.created_at = old.created_at - dt.timedelta(hours=25)
    db.add(old)
    db.flush()
    assert jobs["files.purge_unlinked"].func(session=db, now=utcnow()) == 1
