"""Staff accounts and their roles, each role scoped to one department of the catalog."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base

# Roles (役割) as the city names them; a member holds each role in one or more departments.
ROLES = {
    "clerk": "窓口担当",
    "reviewer": "審査担当",
    "approver": "決裁者",
    "admin": "管理者",
}


class StaffMember(Base):
    __tablename__ = "staff_members"

    id: Mapped[int] = mapped_column(primary_key=True)
    login_id: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(Text)  # Argon2id, PHC string
    totp_secret: Mapped[str] = mapped_column(Text)  # base32, encrypted at rest (AES-GCM)
    # The last TOTP time step used: a code is accepted once (no replay within its window).
    totp_last_step: Mapped[int | None] = mapped_column(default=None)
    failed_attempts: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(default=None)
    # Raised by "sign out everywhere": sessions carrying an older generation stop working.
    session_generation: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)
    demo: Mapped[bool] = mapped_column(default=False)  # made by `flask demo load`
    created_at: Mapped[dt.datetime]

    roles: Mapped[list[StaffRole]] = relationship(
        back_populates="member", order_by="StaffRole.id", lazy="selectin"
    )

    def departments(self, *roles: str) -> set[str]:
        """The departments where this member holds any of `roles` (any role when none given)."""
        return {r.department for r in self.roles if not roles or r.role in roles}

    def is_admin(self) -> bool:
        return any(r.role == "admin" for r in self.roles)


class StaffRole(Base):
    __tablename__ = "staff_roles"
    __table_args__ = (UniqueConstraint("staff_id", "role", "department"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_members.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    department: Mapped[str] = mapped_column(String(64))

    member: Mapped[StaffMember] = relationship(back_populates="roles")


class StaffApiToken(Base):
    """A bearer token for the staff JSON API (the city's core systems fetch applications with
    it). It acts as its member: the member's departments, at the time of each request, decide
    what it may read. Only the SHA-256 of the token is stored (`flask staff token create` prints
    the token once); it expires, and can be revoked (`flask staff token revoke`)."""

    __tablename__ = "staff_api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_members.id"), index=True)
    label: Mapped[str] = mapped_column(String(100))  # what uses it, e.g. 住民記録システム連携
    created_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime]
    revoked_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(default=None)

    member: Mapped[StaffMember] = relationship(lazy="joined")
