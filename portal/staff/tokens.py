"""Staff API tokens: made and revoked on the command line (`flask staff token create|revoke`),
checked on every request to the staff JSON API (portal.staff.api).

A token is 32 random bytes behind a recognisable prefix (so secret scanners and people can tell
what leaked); only its SHA-256 is stored, which is enough for a random value of that size. A token
works until it expires or is revoked, and only while its member is active; it reads what its
member may read at the time of each request.
"""

from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from portal.security import token_hash
from portal.staff.models import StaffApiToken, StaffMember

PREFIX = "isp_"
MAX_DAYS = 366
LABEL_MAX = 100


def create_token(
    session: Session, member: StaffMember, *, label: str, days: int, now: dt.datetime
) -> tuple[StaffApiToken, str]:
    """A new token for `member`; returns the row and the token itself (shown once, never
    stored). Raises ValueError for a label or lifetime out of bounds."""
    label = " ".join(label.split())
    if not label or len(label) > LABEL_MAX:
        raise ValueError(f"the label must have 1 to {LABEL_MAX} characters")
    if not 1 <= days <= MAX_DAYS:
        raise ValueError(f"a token lives 1 to {MAX_DAYS} days")
    token = PREFIX + secrets.token_urlsafe(32)
    row = StaffApiToken(
        token_hash=token_hash(token),
        staff_id=member.id,
        label=label,
        created_at=now,
        expires_at=now + dt.timedelta(days=days),
    )
    session.add(row)
    session.flush()
    return row, token


def revoke_token(session: Session, token_id: int, now: dt.datetime) -> bool:
    """Revoke a token (once); False when there is no such token or it was already revoked."""
    result = session.execute(
        update(StaffApiToken)
        .where(StaffApiToken.id == token_id, StaffApiToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return result.rowcount == 1


def authenticate(session: Session, header: str | None, now: dt.datetime) -> StaffApiToken | None:
    """The usable token named by an `Authorization: Bearer <token>` header, else None (no header,
    another scheme, an unknown, expired or revoked token, an inactive member). Records the use."""
    scheme, _, presented = (header or "").strip().partition(" ")
    presented = presented.strip()
    if scheme.lower() != "bearer" or not presented.startswith(PREFIX) or len(presented) > 200:
        return None
    digest = token_hash(presented)
    row = session.scalar(select(StaffApiToken).where(StaffApiToken.token_hash == digest))
    if row is None or row.revoked_at is not None or row.expires_at <= now or not row.member.active:
        return None
    row.last_used_at = now
    return row
