"""Indexes the reports' aggregate queries need, on tables other modules own, and one table of our own:
the per-day attendance rollup (`AttendanceDaySummary`).

Declared here (and created by the `reports` migration) so the models and the migrated schema agree:
- attendance records by organization and day, with the columns the attendance report and today's
  figures read (index-only scans over a date range instead of visiting millions of rows);
- leave requests by organization, status and dates (approved leave overlapping a range, upcoming
  absences);
- the leave ledger by organization and year (days owed) with the amount (index-only);
- the audit log's employee deactivations (when people left: headcount over time, leavers).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Column, Index, SmallInteger, text
from sqlmodel import Field, SQLModel

from hr_portal.attendance.models import AttendanceRecord
from hr_portal.core.audit import AuditLog
from hr_portal.leave.models import LeaveLedger, LeaveRequest

_att = AttendanceRecord.__table__.c
_req = LeaveRequest.__table__.c
_ledger = LeaveLedger.__table__.c
_audit = AuditLog.__table__.c
DEACTIVATED = text("action = 'employee.deactivated'")

REPORT_INDEXES = (
    Index("ix_report_attendance_org_day", _att.organization_id, _att.work_date, _att.employee_id, _att.status,
          _att.work_seconds, _att.is_late, _att.check_out),
    Index("ix_report_leave_org_status_dates", _req.organization_id, _req.status, _req.end_date, _req.start_date),
    Index("ix_report_ledger_org_year", _ledger.organization_id, _ledger.year, _ledger.leave_type_id,
          _ledger.employee_id, _ledger.amount),
    Index("ix_report_audit_deactivated", _audit.organization_id, _audit.entity_id, _audit.created_at,
          sqlite_where=DEACTIVATED, postgresql_where=DEACTIVATED),
)


class AttendanceDaySummary(SQLModel, table=True):
    """Attendance records per organization, work date, company and department: how many, how many with
    status late / half day, and their worked seconds. The organization-wide attendance report reads this
    (a year is ~40,000 rows) instead of aggregating millions of records.

    Kept by the database itself, in the same transaction as every change (migration `reports_day_summary`):
    triggers on `attendance_records` (insert, delete, and updates of the counted columns, whichever module
    or statement makes them: punches, check-out, auto check-out, corrections, bulk updates) add and
    subtract the record's contribution; a trigger on `employees` moves a person's records to their new
    company/department key when either changes (the report groups by the person's current department, as a
    direct count does). So every figure equals a direct GROUP BY over the records at every commit
    (tests/reports/test_day_summary.py). `department_id` 0 means "no department" (a key column is not NULL).
    Rows are never deleted by the triggers; a row whose records all went away holds zeros.

    Each key is split into DAY_SUMMARY_SLOTS rows by `slot` = the person's employee id mod that number
    (migration `day_summary_slots`): a punch locks its row until it commits, and with one row per department
    and day a department's 9:00 check-ins queued behind each other. Readers sum the slots.
    """

    __tablename__ = "attendance_day_summary"

    organization_id: int = Field(foreign_key="organizations.id", primary_key=True)
    work_date: dt.date = Field(primary_key=True)
    company_id: int = Field(primary_key=True)
    department_id: int = Field(primary_key=True)
    slot: int = Field(default=0, sa_column=Column(SmallInteger, primary_key=True, autoincrement=False))
    records: int = 0
    late: int = 0
    half_day: int = 0
    work_seconds: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))


# The rollup recomputed from the records (the migration's backfill; bench/generate_org.py after its bulk load
# with the triggers disabled; reports.service.rebuild_day_summary to repair or verify).
DAY_SUMMARY_SLOTS = 16
DAY_SUMMARY_REBUILD = f"""
INSERT INTO attendance_day_summary (organization_id, work_date, company_id, department_id, slot, records, late,
                                    half_day, work_seconds)
SELECT r.organization_id, r.work_date, e.company_id, COALESCE(e.department_id, 0), r.employee_id % {DAY_SUMMARY_SLOTS},
       COUNT(*), SUM(CASE WHEN r.status = 'late' THEN 1 ELSE 0 END),
       SUM(CASE WHEN r.status = 'half_day' THEN 1 ELSE 0 END), SUM(r.work_seconds)
FROM attendance_records r JOIN employees e ON e.id = r.employee_id
GROUP BY r.organization_id, r.work_date, e.company_id, COALESCE(e.department_id, 0), r.employee_id % {DAY_SUMMARY_SLOTS}
"""
