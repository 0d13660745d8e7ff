"""leave schema: leave types, ledger, requests, approvals, delegations

Revision ID: 63a3a874f2a6
Revises: 2141ca1760cd
Create Date: 2026-11-26 03:47:18.650498
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '63a3a874f2a6'
down_revision: str | None = '2141ca1760cd'
branch_labels: str | Sequence[str] | None = ('leave',)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('leave_types',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.Column('paid', sa.Boolean(), nullable=False),
    sa.Column('allow_half_day', sa.Boolean(), nullable=False),
    sa.Column('yearly_entitlement', sa.Float(), nullable=False),
    sa.Column('accrual', sa.Enum('upfront', 'monthly', 'none', name='accrual', native_enum=False, length=20), nullable=False),
    sa.Column('prorate_on_joining', sa.Boolean(), nullable=False),
    sa.Column('carry_forward_cap', sa.Float(), nullable=False),
    sa.Column('carry_forward_expiry_months', sa.Integer(), nullable=True),
    sa.Column('max_consecutive_days', sa.Float(), nullable=True),
    sa.Column('min_notice_days', sa.Integer(), nullable=False),
    sa.Column('reason_required_above_days', sa.Float(), nullable=True),
    sa.Column('count_non_working_days', sa.Boolean(), nullable=False),
    sa.Column('allow_negative', sa.Boolean(), nullable=False),
    sa.Column('hr_approval_above_days', sa.Float(), nullable=True),
    sa.Column('color', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('archived', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('organization_id', 'name', name='uq_leave_type_org_name')
    )
    with op.batch_alter_table('leave_types', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_leave_types_organization_id'), ['organization_id'], unique=False)

    op.create_table('leave_delegations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('approver_employee_id', sa.Integer(), nullable=False),
    sa.Column('delegate_employee_id', sa.Integer(), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['approver_employee_id'], ['employees.id'], ),
    sa.ForeignKeyConstraint(['delegate_employee_id'], ['employees.id'], ),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('leave_delegations', schema=None) as batch_op:
        batch_op.create_index('ix_leave_deleg_delegate', ['delegate_employee_id', 'start_date', 'end_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_leave_delegations_approver_employee_id'), ['approver_employee_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_leave_delegations_organization_id'), ['organization_id'], unique=False)

    op.create_table('leave_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('employee_id', sa.Integer(), nullable=False),
    sa.Column('leave_type_id', sa.Integer(), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=False),
    sa.Column('half_day_start', sa.Boolean(), nullable=False),
    sa.Column('half_day_end', sa.Boolean(), nullable=False),
    sa.Column('days', sa.Float(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('status', sa.Enum('pending', 'approved', 'rejected', 'cancelled', name='leavestatus', native_enum=False, length=20), nullable=False),
    sa.Column('step', sa.Integer(), nullable=False),
    sa.Column('steps_required', sa.Integer(), nullable=False),
    sa.Column('requester_user_id', sa.Integer(), nullable=True),
    sa.Column('approver_user_id', sa.Integer(), nullable=True),
    sa.Column('approver_employee_id', sa.Integer(), nullable=True),
    sa.Column('approver_comment', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['approver_employee_id'], ['employees.id'], ),
    sa.ForeignKeyConstraint(['approver_user_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['employee_id'], ['employees.id'], ),
    sa.ForeignKeyConstraint(['leave_type_id'], ['leave_types.id'], ),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], ),
    sa.ForeignKeyConstraint(['requester_user_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('leave_requests', schema=None) as batch_op:
        batch_op.create_index('ix_leave_req_emp_dates', ['employee_id', 'start_date', 'end_date'], unique=False)
        batch_op.create_index('ix_leave_req_org_status', ['organization_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_leave_requests_organization_id'), ['organization_id'], unique=False)

    op.create_table('leave_approvals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('leave_request_id', sa.Integer(), nullable=False),
    sa.Column('step', sa.Integer(), nullable=False),
    sa.Column('decision', sa.Enum('pending', 'approved', 'rejected', 'cancelled', name='leavestatus', native_enum=False, length=20), nullable=False),
    sa.Column('actor_user_id', sa.Integer(), nullable=False),
    sa.Column('on_behalf_of_employee_id', sa.Integer(), nullable=True),
    sa.Column('comment', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_user_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['leave_request_id'], ['leave_requests.id'], ),
    sa.ForeignKeyConstraint(['on_behalf_of_employee_id'], ['employees.id'], ),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('leave_request_id', 'step', name='uq_leave_approval_step')
    )
    with op.batch_alter_table('leave_approvals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_leave_approvals_organization_id'), ['organization_id'], unique=False)

    op.create_table('leave_ledger',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('employee_id', sa.Integer(), nullable=False),
    sa.Column('leave_type_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('entry_date', sa.Date(), nullable=False),
    sa.Column('kind', sa.Enum('allocation', 'accrual', 'carry_forward', 'taken', 'cancelled', 'expired', 'adjustment', name='ledgerkind', native_enum=False, length=20), nullable=False),
    sa.Column('amount', sa.Float(), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('leave_request_id', sa.Integer(), nullable=True),
    sa.Column('actor_user_id', sa.Integer(), nullable=True),
    sa.Column('period_key', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_user_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['employee_id'], ['employees.id'], ),
    sa.ForeignKeyConstraint(['leave_request_id'], ['leave_requests.id'], ),
    sa.ForeignKeyConstraint(['leave_type_id'], ['leave_types.id'], ),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('leave_ledger', schema=None) as batch_op:
        batch_op.create_index('ix_leave_ledger_emp_type_year', ['employee_id', 'leave_type_id', 'year'], unique=False)
        batch_op.create_index(batch_op.f('ix_leave_ledger_leave_request_id'), ['leave_request_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_leave_ledger_leave_type_id'), ['leave_type_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_leave_ledger_organization_id'), ['organization_id'], unique=False)
        batch_op.create_index('uq_leave_ledger_period', ['employee_id', 'leave_type_id', 'period_key'], unique=True)



def downgrade() -> None:
    with op.batch_alter_table('leave_ledger', schema=None) as batch_op:
        batch_op.drop_index('uq_leave_ledger_period')
        batch_op.drop_index(batch_op.f('ix_leave_ledger_organization_id'))
        batch_op.drop_index(batch_op.f('ix_leave_ledger_leave_type_id'))
        batch_op.drop_index(batch_op.f('ix_leave_ledger_leave_request_id'))
        batch_op.drop_index('ix_leave_ledger_emp_type_year')

    op.drop_table('leave_ledger')
    with op.batch_alter_table('leave_approvals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_leave_approvals_organization_id'))

    op.drop_table('leave_approvals')
    with op.batch_alter_table('leave_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_leave_requests_organization_id'))
        batch_op.drop_index('ix_leave_req_org_status')
        batch_op.drop_index('ix_leave_req_emp_dates')

    op.drop_table('leave_requests')
    with op.batch_alter_table('leave_delegations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_leave_delegations_organization_id'))
        batch_op.drop_index(batch_op.f('ix_leave_delegations_approver_employee_id'))
        batch_op.drop_index('ix_leave_deleg_delegate')

    op.drop_table('leave_delegations')
    with op.batch_alter_table('leave_types', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_leave_types_organization_id'))

    op.drop_table('leave_types')
