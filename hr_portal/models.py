"""Import every module's tables so SQLModel.metadata is complete (Alembic and tests use this)."""

from hr_portal.auth.models import PasswordResetToken, RefreshFamily, RefreshToken, RevokedToken, UISession, User
from hr_portal.core.audit import AuditLog
from hr_portal.core.mail import OutboxEmail
from hr_portal.employees.models import Department, Employee
from hr_portal.org.models import Company, Holiday, Organization

__all__ = [
    "AuditLog", "Company", "Department", "Employee", "Holiday", "Organization", "OutboxEmail", "PasswordResetToken",
    "RefreshFamily", "RefreshToken", "RevokedToken", "UISession", "User",
]
