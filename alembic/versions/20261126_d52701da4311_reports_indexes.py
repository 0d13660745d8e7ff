"""reports: indexes for the dashboards' and reports' aggregate queries (attendance by organization and day,
leave requests by status and dates, the leave ledger by year, employee deactivations in the audit log)

Revision ID: d52701da4311
Revises: 13e498c373b3 (attendance), 63a3a874f2a6 (leave)
Create Date: 2026-11-26 04:45:00
"""
from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = 'd52701da4311'
# After the attendance and leave schemas, which create the indexed tables (a plain depends_on would leave
# those two revisions listed as heads that the database never records).
down_revision: str | Sequence[str] | None = ('13e498c373b3', '63a3a874f2a6')
branch_labels: str | Sequence[str] | None = ('reports',)
depends_on: str | Sequence[str] | None = None

DEACTIVATED = sa.text("action = 'employee.deactivated'")


def upgrade() -> None:
    op.create_index('ix_report_attendance_org_day', 'attendance_records',
                    ['organization_id', 'work_date', 'employee_id', 'status', 'work_seconds', 'is_late', 'check_out'],
                    unique=False)
    op.create_index('ix_report_leave_org_status_dates', 'leave_requests',
                    ['organization_id', 'status', 'end_date', 'start_date'], unique=False)
    op.create_index('ix_report_ledger_org_year', 'leave_ledger',
                    ['organization_id', 'year', 'leave_type_id', 'employee_id', 'amount'], unique=False)
    op.create_index('ix_report_audit_deactivated', 'audit_log', ['organization_id', 'entity_id', 'created_at'],
                    unique=False, sqlite_where=DEACTIVATED, postgresql_where=DEACTIVATED)


def downgrade() -> None:
    op.drop_index('ix_report_audit_deactivated', table_name='audit_log')
    op.drop_index('ix_report_ledger_org_year', table_name='leave_ledger')
    op.drop_index('ix_report_leave_org_status_dates', table_name='leave_requests')
    op.drop_index('ix_report_attendance_org_day', table_name='attendance_records')
