"""Assisted sessions: registering helpers, recognising a helper's card login, the resident's
consent, its end, and the helper's own history. Takes the database session and `now`; never
touches the request (portal.assisted.mode and views do).
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
import unicodedata
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from portal import audit, clock
from portal.assisted.models import AssistHelper, AssistSession

_SUB = re.compile(r"[A-Za-z0-9._~-]{1,64}")
HELPER_KIND = "helper"  # Submission.entered_by "helper:<assist session public id>"
MAX_LENGTH = 100
# How long the resident may let the helper help: the choices on the consent page (never past
# the end of the day).
DURATIONS = {"1h": dt.timedelta(hours=1), "3h": dt.timedelta(hours=3), "day": None}


def normalise_name(name: str) -> str:
    """A name as the card and the registration compare it: NFKC, without any spaces."""
    return "".join(unicodedata.normalize("NFKC", name).split())


def helper_state(helper: AssistHelper, today: dt.date) -> str:
    """ "active", "revoked", "expired" or "not_yet" (before its validity starts)."""
    if helper.revoked_at is not None:
        return "revoked"
    if today > helper.valid_until:
        return "expired"
    if today < helper.valid_from:
        return "not_yet"
    return "active"


def register_helper(
    session: Session,
    *,
    name: str,
    birth_date: dt.date,
    organisation: str,
    valid_from: dt.date,
    valid_until: dt.date,
    actor: str,
    now: dt.datetime,
) -> AssistHelper:
    helper = AssistHelper(
        public_id=secrets.token_hex(8),
        name=name,
        birth_date=birth_date,
        organisation=organisation,
        valid_from=valid_from,
        valid_until=valid_until,
        registered_at=now,
        registered_by=actor,
    )
    session.add(helper)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="helper_registered",
        target=f"helper:{helper.public_id}",
        at=now,
    )
    return helper


def revoke_helper(session: Session, helper: AssistHelper, *, actor: str, now: dt.datetime) -> int:
    """Revoke a helper and end every session they have open at once; how many were open."""
    helper.revoked_at = now
    helper.revoked_by = actor
    audit.record(
        session, actor=actor, action="helper_revoked", target=f"helper:{helper.public_id}", at=now
    )
    open_ones = session.scalars(
        select(AssistSession).where(
            AssistSession.helper_id == helper.id, AssistSession.ended_at.is_(None)
        )
    ).all()
    for assist in open_ones:
        end(session, assist, reason="helper_revoked", actor=actor, now=now)
    return len(open_ones)


def helpers(session: Session) -> list[AssistHelper]:
    return list(session.scalars(select(AssistHelper).order_by(AssistHelper.id.desc())))


def helper_by_public_id(session: Session, public_id: str) -> AssistHelper | None:
    return session.scalar(select(AssistHelper).where(AssistHelper.public_id == public_id))


def helper_for_card(session: Session, name: str, birthdate: str) -> AssistHelper | None:
    """The registration matching a card login's name and birth date (the newest, if several)."""
    try:
        born = dt.date.fromisoformat(birthdate)
    except (TypeError, ValueError):
        return None
    wanted = normalise_name(name or "")
    found = [
        h
        for h in session.scalars(
            select(AssistHelper)
            .where(AssistHelper.birth_date == born)
            .order_by(AssistHelper.id.desc())
        )
        if normalise_name(h.name) == wanted
    ]
    if not found:
        return None
    today = clock.to_local(clock.now()).date()
    active = [h for h in found if helper_state(h, today) == "active"]
    return active[0] if active else found[0]


def end_of_day(now: dt.datetime) -> dt.datetime:
    """The last moment of today in Japan: no consent lasts longer."""
    local = clock.to_local(now)
    midnight = dt.datetime.combine(local.date() + dt.timedelta(days=1), dt.time(), local.tzinfo)
    return (midnight - dt.timedelta(seconds=1)).astimezone(dt.UTC)


def expiry(duration: str, now: dt.datetime) -> dt.datetime:
    limit = end_of_day(now)
    length = DURATIONS[duration]
    return limit if length is None else min(now + length, limit)


@dataclass(frozen=True)
class Scope:
    kind: str  # "procedure" or "life_event"
    id: str
    title: str


def consent(
    session: Session,
    helper: AssistHelper,
    *,
    resident_sub: str,
    scope: Scope,
    duration: str,
    now: dt.datetime,
) -> AssistSession:
    assist = AssistSession(
        public_id=secrets.token_hex(16),
        helper_id=helper.id,
        resident_sub=resident_sub,
        scope_kind=scope.kind,
        scope_id=scope.id,
        scope_title=scope.title,
        consented_at=now,
        expires_at=expiry(duration, now),
    )
    session.add(assist)
    session.flush()
    audit.record(
        session,
        actor=resident_actor(resident_sub),
        action="consent_given",
        target=f"assist:{assist.public_id}",
        reason=(
            f"helper:{helper.public_id} {scope.kind}:{scope.id} "
            f"until {assist.expires_at:%Y-%m-%dT%H:%M:%SZ}"
        ),
        at=now,
    )
    return assist


def resident_actor(sub: str) -> str:
    """The audit actor of a resident (their card login's `sub`, when it fits the log's form)."""
    actor = f"resident:{sub}"
    return actor if _SUB.fullmatch(sub) else "anonymous"


def by_public_id(session: Session, public_id: str) -> AssistSession | None:
    return session.scalar(select(AssistSession).where(AssistSession.public_id == public_id))


def live(session: Session, public_id: str | None, now: dt.datetime) -> AssistSession | None:
    """The assisted session if it still gives access: not ended, not past its end time, and its
    helper not revoked. One that has run out is ended here (audited)."""
    if not public_id:
        return None
    assist = by_public_id(session, public_id)
    if assist is None or assist.ended_at is not None:
        return None
    helper = session.get(AssistHelper, assist.helper_id)
    if now >= assist.expires_at or helper is None or helper.revoked_at is not None:
        end(session, assist, reason="expired", actor="system", now=now)
        return None
    return assist


def end(
    session: Session, assist: AssistSession, *, reason: str, actor: str, now: dt.datetime
) -> bool:
    """End the session once (a guarded UPDATE: two requests end it once). True if this call did."""
    ended = session.execute(
        update(AssistSession)
        .where(AssistSession.id == assist.id, AssistSession.ended_at.is_(None))
        .values(ended_at=now, end_reason=reason)
        .execution_options(synchronize_session=False)
    )
    session.refresh(assist)
    if getattr(ended, "rowcount", 0) != 1:
        return False
    audit.record(
        session,
        actor=actor,
        action="consent_ended",
        target=f"assist:{assist.public_id}",
        reason=reason,
        at=now,
    )
    return True


def open_sessions_of(session: Session, resident_sub: str, now: dt.datetime) -> list[AssistSession]:
    """The resident's consents still giving access (for "my applications")."""
    return [
        a
        for a in session.scalars(
            select(AssistSession)
            .where(AssistSession.resident_sub == resident_sub, AssistSession.ended_at.is_(None))
            .order_by(AssistSession.consented_at)
        )
        if now < a.expires_at
    ]


def history(session: Session, helper: AssistHelper) -> list[tuple[dt.date, int]]:
    """The helper's own record: per day (Japan), how many sessions — no names, no applications."""
    days: dict[dt.date, int] = {}
    for consented_at in session.scalars(
        select(AssistSession.consented_at).where(AssistSession.helper_id == helper.id)
    ):
        day = clock.to_local(consented_at).date()
        days[day] = days.get(day, 0) + 1
    return sorted(days.items(), reverse=True)


def touched_by_helper(
    session: Session, helper_public_id: str, digests: set[str], now: dt.datetime
) -> bool:
    """Whether one of the path digests was touched by a session of the helper that is over
    (ended, or past its end time)."""
    helper = helper_by_public_id(session, helper_public_id)
    if helper is None or not digests:
        return False
    kept = session.scalars(
        select(AssistSession.touched).where(
            AssistSession.helper_id == helper.id,
            (AssistSession.ended_at.is_not(None)) | (AssistSession.expires_at <= now),
        )
    )
    return any(digests.intersection(touched) for touched in kept)


def count_open(session: Session, helper: AssistHelper) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(AssistSession)
            .where(AssistSession.helper_id == helper.id, AssistSession.ended_at.is_(None))
        )
        or 0
    )
