"""Profile photos: own or (HR) anyone's, replaced and removed cleanly, visible to the whole organization only."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from hr_portal.auth.models import Role
from hr_portal.core import files
from hr_portal.core.db import get_engine
from hr_portal.core.errors import Forbidden, NotFound
from hr_portal.employees import service
from hr_portal.employees.models import Employee
from hr_portal.files import service as files_service
from tests.files import samples
from tests.leave.helpers import actor_of, run


def file_id(url: str) -> str:
    return url.rsplit("/", 1)[-1]


def can_open(actor, fid) -> bool:
    try:
        run(files_service.open_file, actor=actor, file_id=fid)
        return True
    except NotFound:
        return False


def test_own_photo_is_visible_to_every_role_of_the_org_and_nobody_outside(org, people, make_person, other_org):
    me = people["employee"]
    url = run(service.set_photo, actor=actor_of(me), employee_id=me.employee_id, filename="me.webp",
              data=samples.webp())
    fid = file_id(url)
    for who in ("admin", "hr_manager", "manager", "employee"):
        assert can_open(actor_of(people[who]), fid), who
    colleague = make_person(org, role=Role.employee)  # sees only self in the directory, yet sees the photo
    assert can_open(actor_of(colleague), fid)
    assert not can_open(actor_of(make_person(other_org, role=Role.admin)), fid)


def test_replacing_deletes_the_old_file_and_remove_clears_it(people):
    me = people["manager"]
    first = file_id(run(service.set_photo, actor=actor_of(me), employee_id=me.employee_id, filename="a.png",
                        data=samples.png()))
    second = file_id(run(service.set_photo, actor=actor_of(me), employee_id=me.employee_id, filename="b.jpg",
                         data=samples.jpeg()))
    assert first != second
    assert not can_open(actor_of(people["admin"]), first)
    detail = run(service.get_employee, actor=actor_of(me), employee_id=me.employee_id)
    assert detail.photo_url == f"/api/v1/files/{second}"
    run(service.remove_photo, actor=actor_of(me), employee_id=me.employee_id)
    with Session(get_engine()) as s:
        assert s.get(Employee, me.employee_id).photo_file_id is None
        assert files.get_meta(s, second, me.organization_id) is None


def test_only_hr_changes_someone_elses_photo(people, other_org, make_person):
    target = people["employee"].employee_id
    with pytest.raises(Forbidden):
        run(service.set_photo, actor=actor_of(people["manager"]), employee_id=target, filename="x.png",
            data=samples.png())
    for who in ("hr_manager", "admin"):
        run(service.set_photo, actor=actor_of(people[who]), employee_id=target, filename="x.png", data=samples.png())
    with pytest.raises(NotFound):  # another organization's admin: the person does not exist for them
        run(service.set_photo, actor=actor_of(make_person(other_org, role=Role.admin)), employee_id=target,
            filename="x.png", data=samples.png())
    with pytest.raises(NotFound):  # an employee poking at a colleague they cannot see
        run(service.remove_photo, actor=actor_of(people["employee"]), employee_id=people["admin"].employee_id)


def test_a_pdf_is_not_a_photo(people):
    me = people["employee"]
    with pytest.raises(files.UnsupportedFileType):
        run(service.set_photo, actor=actor_of(me), employee_id=me.employee_id, filename="me.png", data=samples.pdf())
    detail = run(service.get_employee, actor=actor_of(me), employee_id=me.employee_id)
    assert detail.photo_url is None


def test_directory_rows_carry_the_photo_url(people):
    from hr_portal.employees.models import EmployeeQuery

    me = people["employee"]
    url = run(service.set_photo, actor=actor_of(me), employee_id=me.employee_id, filename="me.png",
              data=samples.png())
    result = run(service.list_employees, actor=actor_of(people["admin"]), query=EmployeeQuery())
    rows = result[0] if isinstance(result, tuple) else result.items
    assert {r.id: r.photo_url for r in rows}[me.employee_id] == url
