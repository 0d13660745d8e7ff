"""uploads: stored files (metadata + bytes in the database), profile photo on employees, leave attachments and
the leave type's "attachment required above N days" rule

Revision ID: 7b1e2f0a9c3d
Revises: c0ecbbdf1f91
Create Date: 2026-11-26 07:20:00
"""
from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = '7b1e2f0a9c3d'
down_revision: str | Sequence[str] | None = 'c0ecbbdf1f91'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'stored_files',
        sa.Column('id', sa.String(length=40), nullable=False),
        sa.Column('organization_id', sa.Integer(), nullable=False),
        sa.Column('purpose', sa.Enum('photo', 'leave_attachment', name='filepurpose', native_enum=False,
                                     length=20), nullable=False),
        sa.Column('content_type', sa.String(length=40), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('original_name', sa.String(length=120), nullable=False),
        sa.Column('uploaded_by_user_id', sa.Integer(), nullable=True),
        sa.Column('linked', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['organization_id'], ['organizations.id']),
        sa.ForeignKeyConstraint(['uploaded_by_user_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_stored_files_org_purpose', 'stored_files', ['organization_id', 'purpose', 'created_at'],
                    unique=False)
    op.create_table(
        'stored_file_blobs',
        sa.Column('file_id', sa.String(length=40), nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(['file_id'], ['stored_files.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('file_id'),
    )
    op.add_column('employees', sa.Column('photo_file_id', sa.String(length=40), nullable=True))
    op.add_column('leave_requests', sa.Column('attachment_file_id', sa.String(length=40), nullable=True))
    op.create_index('ix_leave_req_attachment', 'leave_requests', ['attachment_file_id'], unique=False)
    op.add_column('leave_types', sa.Column('attachment_required_above_days', sa.Float(), nullable=True))


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite 3.35+): a batch copy of `employees` would lose its expression index.
    op.drop_column('leave_types', 'attachment_required_above_days')
    op.drop_index('ix_leave_req_attachment', table_name='leave_requests')
    op.drop_column('leave_requests', 'attachment_file_id')
    op.drop_column('employees', 'photo_file_id')
    op.drop_table('stored_file_blobs')
    op.drop_index('ix_stored_files_org_purpose', table_name='stored_files')
    op.drop_table('stored_files')
