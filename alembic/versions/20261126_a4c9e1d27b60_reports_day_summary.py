"""reports: attendance_day_summary (attendance records per organization, day, company and department),
kept exact by triggers on attendance_records and employees, and filled from the existing records

Revision ID: a4c9e1d27b60
Revises: 7b1e2f0a9c3d
Create Date: 2026-11-26 07:05:00
"""
from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = 'a4c9e1d27b60'
down_revision: str | Sequence[str] | None = '7b1e2f0a9c3d'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KEY = "organization_id, work_date, company_id, department_id"
COLS = f"{KEY}, records, late, half_day, work_seconds"
ADD = ("records = attendance_day_summary.records + excluded.records, "
       "late = attendance_day_summary.late + excluded.late, "
       "half_day = attendance_day_summary.half_day + excluded.half_day, "
       "work_seconds = attendance_day_summary.work_seconds + excluded.work_seconds")
COUNTED = ("OLD.organization_id IS DISTINCT FROM NEW.organization_id OR OLD.employee_id IS DISTINCT FROM "
           "NEW.employee_id OR OLD.work_date IS DISTINCT FROM NEW.work_date OR OLD.status IS DISTINCT FROM "
           "NEW.status OR OLD.work_seconds IS DISTINCT FROM NEW.work_seconds")
MOVED = ("OLD.company_id IS DISTINCT FROM NEW.company_id OR OLD.department_id IS DISTINCT FROM NEW.department_id")

# The rollup of everything already recorded (also used by bench/generate_org.py after a bulk load).
BACKFILL = f"""
INSERT INTO attendance_day_summary ({COLS})
SELECT r.organization_id, r.work_date, e.company_id, COALESCE(e.department_id, 0), COUNT(*),
       SUM(CASE WHEN r.status = 'late' THEN 1 ELSE 0 END), SUM(CASE WHEN r.status = 'half_day' THEN 1 ELSE 0 END),
       SUM(r.work_seconds)
FROM attendance_records r JOIN employees e ON e.id = r.employee_id
GROUP BY r.organization_id, r.work_date, e.company_id, COALESCE(e.department_id, 0)
"""

# ---------------------------------------------------------------- PostgreSQL
PG = [
    f"""
CREATE FUNCTION attendance_day_summary_apply() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE c integer; d integer;
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        SELECT company_id, COALESCE(department_id, 0) INTO c, d FROM employees WHERE id = OLD.employee_id;
        UPDATE attendance_day_summary SET records = records - 1,
               late = late - CASE WHEN OLD.status = 'late' THEN 1 ELSE 0 END,
               half_day = half_day - CASE WHEN OLD.status = 'half_day' THEN 1 ELSE 0 END,
               work_seconds = work_seconds - OLD.work_seconds
         WHERE organization_id = OLD.organization_id AND work_date = OLD.work_date
           AND company_id = c AND department_id = d;
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        SELECT company_id, COALESCE(department_id, 0) INTO c, d FROM employees WHERE id = NEW.employee_id;
        INSERT INTO attendance_day_summary ({COLS})
        VALUES (NEW.organization_id, NEW.work_date, c, d, 1, CASE WHEN NEW.status = 'late' THEN 1 ELSE 0 END,
                CASE WHEN NEW.status = 'half_day' THEN 1 ELSE 0 END, NEW.work_seconds)
        ON CONFLICT ({KEY}) DO UPDATE SET {ADD};
    END IF;
    RETURN NULL;
END $$""",
    f"""
CREATE FUNCTION attendance_day_summary_move() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE attendance_day_summary s SET records = s.records - m.n, late = s.late - m.late,
           half_day = s.half_day - m.half, work_seconds = s.work_seconds - m.secs
      FROM (SELECT organization_id, work_date, COUNT(*) AS n,
                   SUM(CASE WHEN status = 'late' THEN 1 ELSE 0 END) AS late,
                   SUM(CASE WHEN status = 'half_day' THEN 1 ELSE 0 END) AS half, SUM(work_seconds) AS secs
              FROM attendance_records WHERE employee_id = OLD.id GROUP BY organization_id, work_date) m
     WHERE s.organization_id = m.organization_id AND s.work_date = m.work_date
       AND s.company_id = OLD.company_id AND s.department_id = COALESCE(OLD.department_id, 0);
    INSERT INTO attendance_day_summary ({COLS})
    SELECT organization_id, work_date, NEW.company_id, COALESCE(NEW.department_id, 0), COUNT(*),
           SUM(CASE WHEN status = 'late' THEN 1 ELSE 0 END), SUM(CASE WHEN status = 'half_day' THEN 1 ELSE 0 END),
           SUM(work_seconds)
      FROM attendance_records WHERE employee_id = NEW.id GROUP BY organization_id, work_date
    ON CONFLICT ({KEY}) DO UPDATE SET {ADD};
    RETURN NULL;
END $$""",
    "CREATE TRIGGER trg_attendance_day_summary_ins AFTER INSERT OR DELETE ON attendance_records "
    "FOR EACH ROW EXECUTE FUNCTION attendance_day_summary_apply()",
    "CREATE TRIGGER trg_attendance_day_summary_upd AFTER UPDATE ON attendance_records "
    f"FOR EACH ROW WHEN ({COUNTED}) EXECUTE FUNCTION attendance_day_summary_apply()",
    "CREATE TRIGGER trg_attendance_day_summary_move AFTER UPDATE OF company_id, department_id ON employees "
    f"FOR EACH ROW WHEN ({MOVED}) EXECUTE FUNCTION attendance_day_summary_move()",
]
PG_DROP = [
    "DROP TRIGGER IF EXISTS trg_attendance_day_summary_move ON employees",
    "DROP TRIGGER IF EXISTS trg_attendance_day_summary_upd ON attendance_records",
    "DROP TRIGGER IF EXISTS trg_attendance_day_summary_ins ON attendance_records",
    "DROP FUNCTION IF EXISTS attendance_day_summary_move()",
    "DROP FUNCTION IF EXISTS attendance_day_summary_apply()",
]

# ---------------------------------------------------------------- SQLite (same logic, trigger bodies)
SQLITE_SUB = """
    UPDATE attendance_day_summary SET records = records - 1,
           late = late - (CASE WHEN OLD.status = 'late' THEN 1 ELSE 0 END),
           half_day = half_day - (CASE WHEN OLD.status = 'half_day' THEN 1 ELSE 0 END),
           work_seconds = work_seconds - OLD.work_seconds
     WHERE organization_id = OLD.organization_id AND work_date = OLD.work_date
       AND (company_id, department_id) = (SELECT company_id, COALESCE(department_id, 0) FROM employees
                                          WHERE id = OLD.employee_id);"""
SQLITE_ADD = f"""
    INSERT INTO attendance_day_summary ({COLS})
    SELECT NEW.organization_id, NEW.work_date, e.company_id, COALESCE(e.department_id, 0), 1,
           CASE WHEN NEW.status = 'late' THEN 1 ELSE 0 END, CASE WHEN NEW.status = 'half_day' THEN 1 ELSE 0 END,
           NEW.work_seconds
      FROM employees e WHERE e.id = NEW.employee_id
    ON CONFLICT ({KEY}) DO UPDATE SET {ADD};"""
SQLITE = [
    f"CREATE TRIGGER trg_attendance_day_summary_ins AFTER INSERT ON attendance_records BEGIN {SQLITE_ADD} END",
    f"CREATE TRIGGER trg_attendance_day_summary_del AFTER DELETE ON attendance_records BEGIN {SQLITE_SUB} END",
    "CREATE TRIGGER trg_attendance_day_summary_upd AFTER UPDATE ON attendance_records "
    f"WHEN {COUNTED.replace('IS DISTINCT FROM', 'IS NOT')} BEGIN {SQLITE_SUB} {SQLITE_ADD} END",
    f"""CREATE TRIGGER trg_attendance_day_summary_move AFTER UPDATE OF company_id, department_id ON employees
WHEN {MOVED.replace('IS DISTINCT FROM', 'IS NOT')} BEGIN
    UPDATE attendance_day_summary SET
           records = records - (SELECT COUNT(*) FROM attendance_records r WHERE r.employee_id = OLD.id
                                AND r.organization_id = attendance_day_summary.organization_id
                                AND r.work_date = attendance_day_summary.work_date),
           late = late - (SELECT COUNT(*) FROM attendance_records r WHERE r.employee_id = OLD.id AND r.status = 'late'
                          AND r.organization_id = attendance_day_summary.organization_id
                          AND r.work_date = attendance_day_summary.work_date),
           half_day = half_day - (SELECT COUNT(*) FROM attendance_records r WHERE r.employee_id = OLD.id
                                  AND r.status = 'half_day'
                                  AND r.organization_id = attendance_day_summary.organization_id
                                  AND r.work_date = attendance_day_summary.work_date),
           work_seconds = work_seconds - (SELECT COALESCE(SUM(r.work_seconds), 0) FROM attendance_records r
                                          WHERE r.employee_id = OLD.id
                                          AND r.organization_id = attendance_day_summary.organization_id
                                          AND r.work_date = attendance_day_summary.work_date)
     WHERE company_id = OLD.company_id AND department_id = COALESCE(OLD.department_id, 0)
       AND EXISTS (SELECT 1 FROM attendance_records r WHERE r.employee_id = OLD.id
                   AND r.organization_id = attendance_day_summary.organization_id
                   AND r.work_date = attendance_day_summary.work_date);
    INSERT INTO attendance_day_summary ({COLS})
    SELECT organization_id, work_date, NEW.company_id, COALESCE(NEW.department_id, 0), COUNT(*),
           SUM(CASE WHEN status = 'late' THEN 1 ELSE 0 END), SUM(CASE WHEN status = 'half_day' THEN 1 ELSE 0 END),
           SUM(work_seconds)
      FROM attendance_records WHERE employee_id = NEW.id GROUP BY organization_id, work_date
    ON CONFLICT ({KEY}) DO UPDATE SET {ADD};
END""",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS trg_attendance_day_summary_move",
    "DROP TRIGGER IF EXISTS trg_attendance_day_summary_upd",
    "DROP TRIGGER IF EXISTS trg_attendance_day_summary_del",
    "DROP TRIGGER IF EXISTS trg_attendance_day_summary_ins",
]


def upgrade() -> None:
    op.create_table(
        'attendance_day_summary',
        sa.Column('organization_id', sa.Integer(), nullable=False),
        sa.Column('work_date', sa.Date(), nullable=False),
        sa.Column('company_id', sa.Integer(), nullable=False),
        sa.Column('department_id', sa.Integer(), nullable=False),
        sa.Column('records', sa.Integer(), nullable=False),
        sa.Column('late', sa.Integer(), nullable=False),
        sa.Column('half_day', sa.Integer(), nullable=False),
        sa.Column('work_seconds', sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(['organization_id'], ['organizations.id']),
        sa.PrimaryKeyConstraint('organization_id', 'work_date', 'company_id', 'department_id'),
    )
    statements = PG if op.get_bind().dialect.name == 'postgresql' else SQLITE
    for statement in statements:
        op.execute(statement)
    op.execute(BACKFILL)


def downgrade() -> None:
    for statement in PG_DROP if op.get_bind().dialect.name == 'postgresql' else SQLITE_DROP:
        op.execute(statement)
    op.drop_table('attendance_day_summary')
