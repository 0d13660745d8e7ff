"""Indexes the reports' aggregate queries need, on tables other modules own. No tables of our own.

Declared here (and created by the `reports` migration) so the models and the migrated schema agree:
- attendance records by organization and day, with the columns the attendance report and today's
  figures read (index-only scans over a date range instead of visiting millions of rows);
- leave requests by organization, status and dates (approved leave overlapping a range, upcoming
  absences);
- the leave ledger by organization and year (days owed) with the amount (index-only);
- the audit log's employee deactivations (when people left: headcount over time, leavers).
"""

from __future__ import annotations

from sqlalchemy import Index, text

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
