"""merge module branches

Revision ID: c0ecbbdf1f91
Revises: 518e2fa66aee, d52701da4311, e39b80b98833
Create Date: 2026-11-26 05:24:55.580843
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = 'c0ecbbdf1f91'
down_revision: str | None = ('518e2fa66aee', 'd52701da4311', 'e39b80b98833')
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
