"""reports: attendance_day_summary split into 16 slots per organization, day, company and department
(slot = employee id mod 16), so that concurrent punches of one department no longer queue on one row

Every check-in and check-out changes its department's row for the day through the triggers of
`reports_day_summary`, and the row stays locked until the punch commits: at 9:00 a department's punches
waited for each other (seen as seconds of `Lock: transactionid` waits under 100 websocket sessions). A
person always lands in the same slot, so the triggers' arithmetic is unchanged; readers sum the slots.
The table is derived data: it is rebuilt from the records.

Revision ID: b7d3f19c2e84
Revises: a4c9e1d27b60
Create Date: 2026-11-26 14:10:00
"""
import importlib.util
from collections.abc import Sequence
from pathlib import Path

import sqlalchemy as sa

from alembic import op

revision: str = 'b7d3f19c2e84'
down_revision: str | Sequence[str] | None = 'a4c9e1d27b60'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SLOTS = 16


def _previous():
    """The `reports_day_summary` migration: its trigger statements, which this one rewrites with the slot."""
    path = Path(__file__).with_name("20261126_a4c9e1d27b60_reports_day_summary.py")
    spec = importlib.util.spec_from_file_location("_reports_day_summary", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _slotted(statement: str) -> str:
    """The same trigger with the slot as a fifth key column: the person's id mod SLOTS."""
    return (statement
            .replace("organization_id, work_date, company_id, department_id, records",
                     "organization_id, work_date, company_id, department_id, slot, records")
            .replace("ON CONFLICT (organization_id, work_date, company_id, department_id)",
                     "ON CONFLICT (organization_id, work_date, company_id, department_id, slot)")
            # PostgreSQL, apply(): the subtraction and the insert
            .replace("AND company_id = c AND department_id = d;",
                     f"AND company_id = c AND department_id = d AND slot = OLD.employee_id % {SLOTS};")
            .replace("VALUES (NEW.organization_id, NEW.work_date, c, d, 1,",
                     f"VALUES (NEW.organization_id, NEW.work_date, c, d, NEW.employee_id % {SLOTS}, 1,")
            # PostgreSQL, move(): a person's days leave one key and join another, in their own slot
            .replace("AND s.company_id = OLD.company_id AND s.department_id = COALESCE(OLD.department_id, 0);",
                     "AND s.company_id = OLD.company_id AND s.department_id = COALESCE(OLD.department_id, 0)\n"
                     f"       AND s.slot = OLD.id % {SLOTS};")
            .replace("SELECT organization_id, work_date, NEW.company_id, COALESCE(NEW.department_id, 0), COUNT(*),",
                     f"SELECT organization_id, work_date, NEW.company_id, COALESCE(NEW.department_id, 0), "
                     f"NEW.id % {SLOTS}, COUNT(*),")
            # SQLite
            .replace("SELECT NEW.organization_id, NEW.work_date, e.company_id, COALESCE(e.department_id, 0), 1,",
                     f"SELECT NEW.organization_id, NEW.work_date, e.company_id, COALESCE(e.department_id, 0), "
                     f"NEW.employee_id % {SLOTS}, 1,")
            .replace("WHERE id = OLD.employee_id);",
                     f"WHERE id = OLD.employee_id)\n       AND slot = OLD.employee_id % {SLOTS};")
            .replace("WHERE company_id = OLD.company_id AND department_id = COALESCE(OLD.department_id, 0)",
                     "WHERE company_id = OLD.company_id AND department_id = COALESCE(OLD.department_id, 0)"
                     f" AND slot = OLD.id % {SLOTS}"))


REBUILD = f"""
INSERT INTO attendance_day_summary (organization_id, work_date, company_id, department_id, slot, records, late,
                                    half_day, work_seconds)
SELECT r.organization_id, r.work_date, e.company_id, COALESCE(e.department_id, 0), r.employee_id % {SLOTS}, COUNT(*),
       SUM(CASE WHEN r.status = 'late' THEN 1 ELSE 0 END), SUM(CASE WHEN r.status = 'half_day' THEN 1 ELSE 0 END),
       SUM(r.work_seconds)
FROM attendance_records r JOIN employees e ON e.id = r.employee_id
GROUP BY r.organization_id, r.work_date, e.company_id, COALESCE(e.department_id, 0), r.employee_id % {SLOTS}
"""


def _create_table(slots: bool) -> None:
    key = ['organization_id', 'work_date', 'company_id', 'department_id'] + (['slot'] if slots else [])
    op.create_table(
        'attendance_day_summary',
        sa.Column('organization_id', sa.Integer(), nullable=False),
        sa.Column('work_date', sa.Date(), nullable=False),
        sa.Column('company_id', sa.Integer(), nullable=False),
        sa.Column('department_id', sa.Integer(), nullable=False),
        *([sa.Column('slot', sa.SmallInteger(), nullable=False)] if slots else []),
        sa.Column('records', sa.Integer(), nullable=False),
        sa.Column('late', sa.Integer(), nullable=False),
        sa.Column('half_day', sa.Integer(), nullable=False),
        sa.Column('work_seconds', sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(['organization_id'], ['organizations.id']),
        sa.PrimaryKeyConstraint(*key),
    )


def _rebuild(slots: bool) -> None:
    prev = _previous()
    pg = op.get_bind().dialect.name == 'postgresql'
    for statement in prev.PG_DROP if pg else prev.SQLITE_DROP:
        op.execute(statement)
    op.drop_table('attendance_day_summary')
    _create_table(slots)
    for statement in prev.PG if pg else prev.SQLITE:
        op.execute(_slotted(statement) if slots else statement)
    op.execute(REBUILD if slots else prev.BACKFILL)


def upgrade() -> None:
    _rebuild(slots=True)


def downgrade() -> None:
    _rebuild(slots=False)
