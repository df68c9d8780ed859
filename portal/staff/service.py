"""Staff sign-in: a password (Argon2id) and then a time-based one-time code (TOTP, RFC 6238).

Five failures in a row — wrong passwords and wrong codes alike — lock the account for 15 minutes;
a locked account refuses even the right password. An unknown login id costs the same Argon2 work
as a known one (no timing oracle), and an unknown id, a wrong password and a locked account all
get the same answer (the reason is kept for the audit log only). Each code is accepted once. Every
sign-in, failed sign-in and lockout is written to the audit log (ids only).
"""

from __future__ import annotations

import datetime as dt
import hmac

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import current_app, has_app_context
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from portal import audit, japanese
from portal.staff.models import ROLES, StaffMember, StaffRole

MAX_FAILURES = 5
LOCK_DURATION = dt.timedelta(minutes=15)
TOTP_WINDOW = 1  # also accept the code of the step before and after (clock drift)

_STANDARD_HASHER = PasswordHasher()
# The test configuration (TESTING, which production refuses) hashes with argon2's cheapest
# parameters: the tests make hundreds of members. The standard parameters rehash such a hash.
_TEST_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
# Verified against when the login id is unknown, so that both cases cost the same Argon2 work
# (one per hasher: the test hasher's members are compared with a test-hasher dummy).
_DUMMY_HASHES = {
    id(_STANDARD_HASHER): _STANDARD_HASHER.hash("not-a-password"),
    id(_TEST_HASHER): _TEST_HASHER.hash("not-a-password"),
}


def _hasher() -> PasswordHasher:
    testing = has_app_context() and current_app.config.get("TESTING")
    return _TEST_HASHER if testing else _STANDARD_HASHER


def _dummy_hash() -> str:
    return _DUMMY_HASHES[id(_hasher())]


class SignInRefused(Exception):
    """`reason`: "invalid" (wrong id, password or code) or "locked"."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def new_totp_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, login_id: str, issuer: str) -> str:
    """otpauth:// URI for an authenticator app (shown once, when an account is made)."""
    return pyotp.TOTP(secret).provisioning_uri(name=login_id, issuer_name=issuer)


def create_member(
    session: Session,
    *,
    login_id: str,
    display_name: str,
    password: str,
    roles: list[tuple[str, str]],
    key: bytes,
    now: dt.datetime,
    totp_secret: str | None = None,
    demo: bool = False,
) -> tuple[StaffMember, str]:
    """A new account with its roles [(role, department)]; returns it and its TOTP secret."""
    for role, _department in roles:
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r} (known: {', '.join(ROLES)})")
    if len(password) < 12:
        raise ValueError("a staff password has at least 12 characters")
    secret = totp_secret or new_totp_secret()
    member = StaffMember(
        login_id=login_id,
        display_name=display_name,
        password_hash=hash_password(password),
        totp_secret=japanese.encrypt_sensitive(secret, key),
        demo=demo,
        created_at=now,
    )
    member.roles = [StaffRole(role=role, department=dept) for role, dept in roles]
    session.add(member)
    session.flush()
    return member, secret


def _locked(member: StaffMember, now: dt.datetime) -> bool:
    return member.locked_until is not None and member.locked_until > now


def _record(session: Session, member_id: int | None, action: str, now: dt.datetime) -> None:
    audit.record(
        session,
        actor=f"staff:{member_id}" if member_id else "anonymous",
        action=action,
        target=f"staff:{member_id}" if member_id else "staff:unknown",
        at=now,
    )


def _count_failure(session: Session, member: StaffMember, now: dt.datetime) -> None:
    """One more failure (an atomic UPDATE); the fifth locks the account."""
    session.execute(
        update(StaffMember)
        .where(StaffMember.id == member.id)
        .values(failed_attempts=StaffMember.failed_attempts + 1)
    )
    session.refresh(member)
    _record(session, member.id, "sign_in_failed", now)
    if member.failed_attempts >= MAX_FAILURES:
        member.locked_until = now + LOCK_DURATION
        member.failed_attempts = 0
        _record(session, member.id, "lockout", now)
    session.flush()


def check_password(
    session: Session, login_id: str, password: str, now: dt.datetime, *, allow_demo: bool
) -> StaffMember:
    """The member whose password this is (the code is still to come), or SignInRefused."""
    member = session.scalar(select(StaffMember).where(StaffMember.login_id == login_id.strip()))
    usable = member is not None and member.active and (allow_demo or not member.demo)
    try:
        _hasher().verify(member.password_hash if usable else _dummy_hash(), password)
        matched = usable
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        matched = False
    if member is None or not usable:
        _record(session, None, "sign_in_failed", now)
        raise SignInRefused("invalid")
    if _locked(member, now):
        _record(session, member.id, "sign_in_failed", now)
        raise SignInRefused("locked")
    if not matched:
        _count_failure(session, member, now)
        raise SignInRefused("locked" if _locked(member, now) else "invalid")
    if _hasher().check_needs_rehash(member.password_hash):
        member.password_hash = hash_password(password)
    return member


def check_code(
    session: Session, member: StaffMember, code: str, now: dt.datetime, key: bytes
) -> None:
    """Accept a TOTP code once, or raise SignInRefused (counting the failure)."""
    if _locked(member, now):
        _record(session, member.id, "sign_in_failed", now)
        raise SignInRefused("locked")
    totp = pyotp.TOTP(japanese.decrypt_sensitive(member.totp_secret, key))
    typed = "".join(ch for ch in code if ch.isdigit())
    current = totp.timecode(now)
    last = member.totp_last_step if member.totp_last_step is not None else -1
    for step in range(current - TOTP_WINDOW, current + TOTP_WINDOW + 1):
        if step > last and hmac.compare_digest(totp.generate_otp(step), typed):
            member.totp_last_step = step
            member.failed_attempts = 0
            _record(session, member.id, "sign_in", now)
            session.flush()
            return
    _count_failure(session, member, now)
    raise SignInRefused("locked" if _locked(member, now) else "invalid")


def current_code(member: StaffMember, key: bytes, now: dt.datetime) -> str:
    """The code an authenticator app shows now (demo accounts: `flask staff code`)."""
    return pyotp.TOTP(japanese.decrypt_sensitive(member.totp_secret, key)).at(now)


def sign_out_everywhere(
    session: Session, member: StaffMember, by: StaffMember, now: dt.datetime
) -> None:
    """End every session of `member` (theirs carry the old generation from now on)."""
    session.execute(
        update(StaffMember)
        .where(StaffMember.id == member.id)
        .values(session_generation=StaffMember.session_generation + 1)
    )
    audit.record(
        session,
        actor=f"staff:{by.id}",
        action="sign_out_everywhere",
        target=f"staff:{member.id}",
        at=now,
    )
    session.flush()
