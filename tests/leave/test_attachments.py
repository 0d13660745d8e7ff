"""Leave attachments: the type's "attachment required above N days" rule (service), uploading and linking a
document to a request, and who may open it (requester, approvers and delegates, HR, admin; nobody else)."""

from __future__ import annotations

import datetime as dt

import pytest

from hr_portal.auth.models import Role
from hr_portal.core import files
from hr_portal.core.errors import NotFound, ValidationFailed
from hr_portal.files import service as files_service
from hr_portal.leave import service
from hr_portal.leave.models import LeaveTypeInput
from tests import factories
from tests.files import samples
from tests.leave.helpers import NOW, actor_of, run, update_type


def upload(bundle, who="employee", data=None, name="certificate.pdf"):
    return run(service.upload_attachment, actor=bundle["actors"][who], filename=name,
               data=samples.pdf() if data is None else data)


def apply_sick(bundle, start="2030-03-11", end="2030-03-13", who="employee", **kw):
    return run(service.apply_leave, actor=bundle["actors"][who], leave_type_id=bundle["types"]["Sick"].id,
               start_date=start, end_date=end, reason="Flu", now=NOW, **kw)


@pytest.fixture
def sick_needs_document(leave_org):
    update_type(leave_org["types"]["Sick"].id, attachment_required_above_days=2.0)
    return leave_org


# ---------------------------------------------------------------- the N-days rule


def test_longer_than_n_days_without_attachment_is_refused_with_a_clear_message(sick_needs_document):
    with pytest.raises(ValidationFailed) as exc:
        apply_sick(sick_needs_document)  # Mon-Wed: 3 days > 2
    assert exc.value.details[0]["field"] == "attachment"
    assert exc.value.message == ("Attach a supporting document (PDF, PNG or JPEG) for Sick leave of more than "
                                 "2 days; this request is 3 days.")


def test_up_to_n_days_needs_no_attachment(sick_needs_document):
    leave = apply_sick(sick_needs_document, end="2030-03-12")
    assert leave.days == 2 and leave.attachment_url is None


def test_longer_request_with_attachment_is_accepted_and_links_it(sick_needs_document):
    up = upload(sick_needs_document)
    leave = apply_sick(sick_needs_document, attachment_id=up["id"])
    assert leave.attachment_url == f"/api/v1/files/{up['id']}" and leave.attachment_name == "certificate.pdf"
    listed = run(service.get_request, actor=sick_needs_document["actors"]["manager"], leave_id=leave.id)
    assert listed.attachment_url == leave.attachment_url
    # one document, one request
    with pytest.raises(ValidationFailed, match="already belongs"):
        apply_sick(sick_needs_document, start="2030-03-18", end="2030-03-20", attachment_id=up["id"])


def test_quote_shows_the_rule_before_submitting(sick_needs_document):
    q = run(service.quote, actor=sick_needs_document["actors"]["employee"],
            leave_type_id=sick_needs_document["types"]["Sick"].id, start_date="2030-03-11", end_date="2030-03-13",
            reason="Flu", now=NOW)
    assert [p["field"] for p in q["problems"]] == ["attachment"]
    q = run(service.quote, actor=sick_needs_document["actors"]["employee"],
            leave_type_id=sick_needs_document["types"]["Sick"].id, start_date="2030-03-11", end_date="2030-03-13",
            reason="Flu", has_attachment=True, now=NOW)
    assert q["problems"] == []


def test_types_without_the_setting_never_ask_for_a_document(leave_org):
    assert leave_org["types"]["Sick"].attachment_required_above_days is None
    assert apply_sick(leave_org).days == 3


def test_someone_elses_upload_cannot_be_attached(sick_needs_document):
    up = upload(sick_needs_document, who="manager")
    with pytest.raises(ValidationFailed, match="not found"):
        apply_sick(sick_needs_document, attachment_id=up["id"])
    with pytest.raises(ValidationFailed, match="not found"):
        apply_sick(sick_needs_document, attachment_id="nope-" + "x" * 20)


def test_hr_sets_the_rule_on_a_type_and_it_is_validated(leave_org):
    hr = leave_org["actors"]["hr_manager"]
    sick = leave_org["types"]["Sick"].id
    detail = run(service.update_type, actor=hr, leave_type_id=sick,
                 data=LeaveTypeInput(attachment_required_above_days=1.5))
    assert detail.attachment_required_above_days == 1.5
    with pytest.raises(ValidationFailed, match="Attachment required above must be"):
        run(service.update_type, actor=hr, leave_type_id=sick, data=LeaveTypeInput(attachment_required_above_days=-1))
    with pytest.raises(ValidationFailed, match="half number"):
        run(service.update_type, actor=hr, leave_type_id=sick, data=LeaveTypeInput(attachment_required_above_days=1.2))
    detail = run(service.update_type, actor=hr, leave_type_id=sick,
                 data=LeaveTypeInput(attachment_required_above_days=None))
    assert detail.attachment_required_above_days is None


def test_wrong_file_types_are_refused_on_upload(leave_org):
    with pytest.raises(files.UnsupportedFileType, match="PDF, PNG or JPEG"):
        upload(leave_org, data=samples.HTML, name="note.pdf")
    with pytest.raises(files.UnsupportedFileType):
        upload(leave_org, data=samples.webp(), name="scan.webp")


# ---------------------------------------------------------------- who may open it


def _can_open(actor, file_id) -> bool:
    try:
        run(files_service.open_file, actor=actor, file_id=file_id)
        return True
    except NotFound:
        return False


def test_attachment_is_visible_to_requester_approvers_hr_admin_only(sick_needs_document, make_person, other_org):
    b = sick_needs_document
    up = upload(b)
    apply_sick(b, attachment_id=up["id"])
    org = b["org"]
    colleague = make_person(org, role=Role.employee, manager=b["people"]["manager"])
    other_manager = make_person(org, role=Role.manager)
    outsider_admin = make_person(other_org, role=Role.admin)
    expected = {
        "employee (requester)": (b["actors"]["employee"], True),
        "manager (reporting manager)": (b["actors"]["manager"], True),
        "hr_manager": (b["actors"]["hr_manager"], True),
        "admin": (b["actors"]["admin"], True),
        "colleague with the same manager": (actor_of(colleague), False),
        "manager of another team": (actor_of(other_manager), False),
        "admin of another organization": (actor_of(outsider_admin), False),
    }
    seen = {who: _can_open(actor, up["id"]) for who, (actor, _) in expected.items()}
    assert seen == {who: allowed for who, (_, allowed) in expected.items()}
    meta, data = run(files_service.open_file, actor=b["actors"]["manager"], file_id=up["id"])
    assert data == samples.pdf() and meta.content_type == "application/pdf"


def test_manager_above_the_reporting_manager_sees_it(leave_org, make_person):
    top = make_person(leave_org["org"], role=Role.manager)
    middle = make_person(leave_org["org"], role=Role.manager, manager=top)
    worker = make_person(leave_org["org"], role=Role.employee, manager=middle)
    from sqlmodel import Session, select

    from hr_portal.core.db import get_engine
    from hr_portal.employees.models import Employee

    with Session(get_engine()) as s:
        emp = s.exec(select(Employee).where(Employee.id == worker.employee_id)).one()
        service.grant_entitlements(s, emp, today=NOW.date())
        s.commit()
    w = actor_of(worker)
    up = run(service.upload_attachment, actor=w, filename="a.png", data=samples.png())
    run(service.apply_leave, actor=w, leave_type_id=leave_org["types"]["Annual"].id, start_date="2030-03-11",
        end_date="2030-03-11", attachment_id=up["id"], now=NOW)
    assert _can_open(actor_of(top), up["id"]) and _can_open(actor_of(middle), up["id"])


def test_a_delegate_sees_it_while_the_delegation_runs(sick_needs_document, make_person):
    b = sick_needs_document
    delegate = make_person(b["org"], role=Role.manager)
    up = upload(b)
    apply_sick(b, attachment_id=up["id"])
    assert not _can_open(actor_of(delegate), up["id"])
    today = dt.date.today()
    delegation = run(service.create_delegation, actor=b["actors"]["manager"], delegate_employee_id=delegate.employee_id,
                     start_date=(today - dt.timedelta(days=1)).isoformat(),
                     end_date=(today + dt.timedelta(days=3)).isoformat())
    assert _can_open(actor_of(delegate), up["id"])
    run(service.revoke_delegation, actor=b["actors"]["manager"], delegation_id=delegation["id"])
    assert not _can_open(actor_of(delegate), up["id"])


def test_an_unsent_upload_is_visible_to_its_uploader_only(leave_org):
    up = upload(leave_org)
    assert _can_open(leave_org["actors"]["employee"], up["id"])
    assert not _can_open(leave_org["actors"]["admin"], up["id"])
    assert not _can_open(leave_org["actors"]["manager"], up["id"])


def test_unknown_or_malformed_ids_are_not_found(leave_org):
    for bad in ("", "x", "../../etc/passwd", "a" * 39, None, 12):
        assert not _can_open(leave_org["actors"]["admin"], bad)


def test_person_without_employee_record_cannot_upload(leave_org):
    a = leave_org["actors"]["employee"]
    from hr_portal.core.authz import Actor
    from hr_portal.core.errors import Forbidden

    with pytest.raises(Forbidden):
        run(service.upload_attachment, actor=Actor(user_id=a.user_id, organization_id=a.organization_id,
                                                   role=a.role, employee_id=None), filename="a.pdf",
            data=samples.pdf())


_ = factories
