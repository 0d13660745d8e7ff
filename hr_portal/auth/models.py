"""Accounts and the tables sign-in needs: UI sessions, refresh-token families, revoked token ids,
password-reset tokens (stored hashed)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Index, func
from sqlmodel import Field, SQLModel

from hr_portal.core.models import enum_type, ts_field
from hr_portal.core.schemas import CamelModel


class Role(str, enum.Enum):
    admin = "admin"
    hr_manager = "hr_manager"
    manager = "manager"
    employee = "employee"


class User(SQLModel, table=True):
    __tablename__ = "users"
    __table_args__ = (Index("uq_users_email_lower", func.lower("email"), unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organizations.id", index=True)
    email: str = Field(max_length=254)
    password_hash: str | None = Field(default=None, max_length=100)
    role: Role = Field(default=Role.employee, sa_type=enum_type(Role))
    is_active: bool = True
    failed_login_count: int = 0
    locked_until: datetime | None = ts_field(nullable=True, default_now=False)
    # Bumped on password change/reset and deactivation: every token and UI session minted before is dead.
    token_version: int = 1
    last_login_at: datetime | None = ts_field(nullable=True, default_now=False)
    created_at: datetime = ts_field()


class UISession(SQLModel, table=True):
    """A browser session: the browser holds only the opaque token, we keep its SHA-256."""

    __tablename__ = "ui_sessions"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    organization_id: int = Field(foreign_key="organizations.id")
    token_version: int
    created_at: datetime = ts_field()
    expires_at: datetime = ts_field()
    revoked_at: datetime | None = ts_field(nullable=True, default_now=False)
    ip: str | None = Field(default=None, max_length=64)
    user_agent: str | None = Field(default=None, max_length=300)


class RefreshFamily(SQLModel, table=True):
    """All refresh tokens descending from one login. Reuse of a spent member revokes the family."""

    __tablename__ = "refresh_families"

    id: str = Field(primary_key=True, max_length=36)
    user_id: int = Field(foreign_key="users.id", index=True)
    created_at: datetime = ts_field()
    revoked_at: datetime | None = ts_field(nullable=True, default_now=False)


class RefreshToken(SQLModel, table=True):
    __tablename__ = "refresh_tokens"

    jti: str = Field(primary_key=True, max_length=36)
    family_id: str = Field(foreign_key="refresh_families.id", index=True, max_length=36)
    user_id: int = Field(foreign_key="users.id")
    expires_at: datetime = ts_field()
    used_at: datetime | None = ts_field(nullable=True, default_now=False)


class RevokedToken(SQLModel, table=True):
    """Access-token ids revoked before their expiry (logout). Rows past expires_at can be purged."""

    __tablename__ = "revoked_tokens"

    jti: str = Field(primary_key=True, max_length=36)
    expires_at: datetime = ts_field(index=True)


class PasswordResetToken(SQLModel, table=True):
    __tablename__ = "password_reset_tokens"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    purpose: str = Field(default="reset", max_length=16)  # reset | welcome
    created_at: datetime = ts_field()
    expires_at: datetime = ts_field()
    used_at: datetime | None = ts_field(nullable=True, default_now=False)


# ---- API schemas (camelCase on the wire, as the legacy clients expect) ----


class UserPublic(CamelModel):
    id: int
    email: str
    first_name: str
    last_name: str
    role: Role
    organization_id: int
    employee_id: int | None


class AuthTokens(CamelModel):
    user: UserPublic
    access_token: str
    refresh_token: str
    expires_in: int
