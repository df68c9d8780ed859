"""Kiosks: registering and revoking terminals, visits, the wipe that ends a visit, and the
「続きはスマートフォンで」 hand-over. Takes the database session and `now`; never touches the
request, the Flask session or templates (portal/kiosk/mode.py and views.py do).

A visit's wipe deletes, in one transaction: every draft the visit started that was not handed
over (with its files), and every server-side session that carries the visit's id; then it marks
the visit ended and the kiosk wiped. If any part fails, the transaction rolls back and
`wipe_or_alert` puts the kiosk out of service and records an alert in a second transaction: the
visit stays open (nothing is half-deleted and called done) until staff have it wiped again.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from portal.identity.models import WebSession
from portal.kiosk.models import Kiosk, KioskAlert, KioskHandoff, KioskVisit, KioskVisitDraft
from portal.retention import service as retention
from portal.security import (
    SHORT_CODE_ALPHABET,
    SHORT_CODE_LENGTH,
    format_short_code,
    new_token,
    normalize_short_code,
    token_hash,
)
from portal.submissions import extensions
from portal.submissions import service as engine
from portal.submissions.models import Submission
from portal.uploads.service import FileStore

log = logging.getLogger(__name__)

HELPER_KIND = "kiosk"  # Submission.entered_by "kiosk:<kiosk public id>"
SESSION_KEY = "kiosk_visit"  # the visit's public id in the server-side session's data
# 8 characters, none of them easy to mistake for another (no 0/O/D, 1/I/L, 2/Z, 5/S, 8/B, U/V).
HANDOFF_ALPHABET = SHORT_CODE_ALPHABET
HANDOFF_LENGTH = SHORT_CODE_LENGTH
WIPE_FAILED = "wipe-failed"
STAFF_CALL = "staff-call"  # 職員を呼ぶ: an alert carrying only the kiosk (its place)


class KioskError(Exception):
    """A kiosk operation that cannot be done (unknown kiosk, nothing to hand over)."""


# --- terminals ----------------------------------------------------------------------------------


def register(
    session: Session, *, name: str, place: str, actor: str, now: dt.datetime
) -> tuple[Kiosk, str]:
    """A new kiosk and the token its cookie will hold (only the hash is stored)."""
    token = new_token()
    kiosk = Kiosk(
        public_id=secrets.token_hex(8),
        name=name,
        place=place,
        token_hash=token_hash(token),
        registered_at=now,
        registered_by=actor,
        last_seen_at=now,
    )
    session.add(kiosk)
    session.flush()
    return kiosk, token


def revoke(session: Session, kiosk: Kiosk, *, actor: str, now: dt.datetime) -> None:
    """The kiosk's cookie stops working at once; its open visit is wiped by the next duty."""
    if kiosk.revoked_at is None:
        kiosk.revoked_at = now
        kiosk.revoked_by = actor
        session.flush()


def kiosks(session: Session) -> list[Kiosk]:
    return list(session.scalars(select(Kiosk).order_by(Kiosk.revoked_at.is_not(None), Kiosk.id)))


def by_public_id(session: Session, public_id: str) -> Kiosk | None:
    return session.scalar(select(Kiosk).where(Kiosk.public_id == public_id))


def by_token(session: Session, token: str) -> Kiosk | None:
    """The registered, unrevoked kiosk of a cookie's token."""
    kiosk = session.scalar(select(Kiosk).where(Kiosk.token_hash == token_hash(token)))
    if kiosk is None or kiosk.revoked_at is not None:
        return None
    return kiosk


SEEN_INTERVAL = dt.timedelta(seconds=60)


def seen(session: Session, kiosk: Kiosk, now: dt.datetime) -> bool:
    """Note that the kiosk asked for a page (at most once a minute); whether it wrote."""
    if kiosk.last_seen_at is not None and now - kiosk.last_seen_at < SEEN_INTERVAL:
        return False
    kiosk.last_seen_at = now
    session.flush()
    return True


# --- visits -------------------------------------------------------------------------------------


def start_visit(session: Session, kiosk: Kiosk, now: dt.datetime) -> KioskVisit:
    visit = KioskVisit(
        public_id=secrets.token_hex(16), kiosk_id=kiosk.id, started_at=now, last_seen_at=now
    )
    session.add(visit)
    session.flush()
    return visit


def open_visits(session: Session, kiosk_id: int) -> list[KioskVisit]:
    return list(
        session.scalars(
            select(KioskVisit)
            .where(KioskVisit.kiosk_id == kiosk_id, KioskVisit.ended_at.is_(None))
            .order_by(KioskVisit.id)
        )
    )


def reset_at(visit: KioskVisit, reset_seconds: int) -> dt.datetime:
    return visit.last_seen_at + dt.timedelta(seconds=reset_seconds)


def is_idle(visit: KioskVisit, now: dt.datetime, reset_seconds: int) -> bool:
    return reset_at(visit, reset_seconds) <= now


def seconds_left(visit: KioskVisit, now: dt.datetime, reset_seconds: int) -> int:
    return max(0, int((reset_at(visit, reset_seconds) - now).total_seconds()))


def touch(session: Session, visit: KioskVisit, now: dt.datetime) -> None:
    """A request of the visit: activity (guarded: an ended visit is never revived)."""
    session.execute(
        update(KioskVisit)
        .where(KioskVisit.id == visit.id, KioskVisit.ended_at.is_(None))
        .values(last_seen_at=now)
    )
    visit.last_seen_at = now


def record_drafts(
    session: Session, visit: KioskVisit, kiosk: Kiosk, draft_tokens: list[str]
) -> int:
    """The drafts this visit's browser holds that were started during the visit: recorded (to
    be wiped with it) and marked as entered at the kiosk (so no login elsewhere takes them
    over: portal.submissions.drafts.owned_draft). A draft the resident started elsewhere and
    continued here is neither. How many were new."""
    known = set(
        session.scalars(
            select(KioskVisitDraft.submission_id).where(KioskVisitDraft.visit_id == visit.id)
        )
    )
    added = 0
    for token in draft_tokens:
        submission = engine.find_by_draft_token(session, token)
        if submission is None or submission.id in known:
            continue
        if submission.created_at < visit.started_at:
            continue
        session.add(KioskVisitDraft(visit_id=visit.id, submission_id=submission.id))
        if submission.entered_by is None:
            extensions.mark_helped(submission, HELPER_KIND, kiosk.public_id)
        known.add(submission.id)
        added += 1
    session.flush()
    return added


def visit_drafts(session: Session, visit: KioskVisit) -> list[Submission]:
    """The unfinished drafts this visit started and still holds."""
    ids = select(KioskVisitDraft.submission_id).where(KioskVisitDraft.visit_id == visit.id)
    rows = session.scalars(select(Submission).where(Submission.id.in_(ids)).order_by(Submission.id))
    return [s for s in rows if engine.is_draft(s)]


def _delete_drafts(session: Session, files: FileStore, visit: KioskVisit) -> int:
    ids = list(
        session.scalars(
            select(KioskVisitDraft.submission_id).where(KioskVisitDraft.visit_id == visit.id)
        )
    )
    deleted = 0
    for submission_id in ids:
        submission = session.get(Submission, submission_id)
        # A submitted application is the city's now; only what was left unfinished goes.
        if submission is not None and engine.is_draft(submission):
            retention.delete_draft(session, files, submission_id)
            deleted += 1
    session.execute(delete(KioskVisitDraft).where(KioskVisitDraft.visit_id == visit.id))
    return deleted


def _delete_sessions(session: Session, visit: KioskVisit) -> int:
    result = session.execute(
        delete(WebSession).where(WebSession.data[SESSION_KEY].as_string() == visit.public_id)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def wipe(
    session: Session, files: FileStore, visit: KioskVisit, now: dt.datetime, reason: str
) -> bool:
    """End a visit and delete what only it could reach (see the module docstring); False when
    another request or worker ended it first. Flushes; the caller commits."""
    claimed = session.execute(
        update(KioskVisit)
        .where(KioskVisit.id == visit.id, KioskVisit.ended_at.is_(None))
        .values(ended_at=now, end_reason=reason)
    )
    if not getattr(claimed, "rowcount", 0):
        return False
    _delete_drafts(session, files, visit)
    _delete_sessions(session, visit)
    session.execute(update(Kiosk).where(Kiosk.id == visit.kiosk_id).values(last_wiped_at=now))
    session.flush()
    return True


def wipe_or_alert(
    session: Session, files: FileStore, visit_id: int, now: dt.datetime, reason: str
) -> bool:
    """Wipe a visit and commit; on any failure roll back, put its kiosk out of service and
    record an alert for staff (committed). True when the visit is over (wiped now or before)."""
    try:
        visit = session.get(KioskVisit, visit_id)
        if visit is not None and visit.ended_at is None:
            wipe(session, files, visit, now, reason)
        session.commit()
        return True
    except Exception as error:  # any failure: nobody is served on top of a half-wiped visit
        session.rollback()
        log.error("kiosk visit %s: wipe failed (%s)", visit_id, type(error).__name__)
        kiosk_id = session.scalar(select(KioskVisit.kiosk_id).where(KioskVisit.id == visit_id))
        if kiosk_id is not None:
            put_out_of_service(session, kiosk_id, type(error).__name__, now)
            session.commit()
        return False


def put_out_of_service(session: Session, kiosk_id: int, detail: str, now: dt.datetime) -> None:
    session.execute(
        update(Kiosk)
        .where(Kiosk.id == kiosk_id, Kiosk.out_of_service_since.is_(None))
        .values(out_of_service_since=now)
    )
    session.add(
        KioskAlert(kiosk_id=kiosk_id, kind=WIPE_FAILED, detail=detail[:200], created_at=now)
    )
    session.flush()


def open_alerts(session: Session) -> list[KioskAlert]:
    """Failed wipes staff have not answered."""
    return list(
        session.scalars(
            select(KioskAlert)
            .where(KioskAlert.resolved_at.is_(None), KioskAlert.kind == WIPE_FAILED)
            .order_by(KioskAlert.id)
        )
    )


# --- 職員を呼ぶ ---------------------------------------------------------------------------------


def call_staff(session: Session, kiosk: Kiosk, now: dt.datetime) -> tuple[KioskAlert, bool]:
    """A help request from the kiosk: nothing but the kiosk (staff read its place) and the
    time. A second press while one is open is the same request; whether it is new."""
    waiting = session.scalar(
        select(KioskAlert).where(
            KioskAlert.kiosk_id == kiosk.id,
            KioskAlert.kind == STAFF_CALL,
            KioskAlert.resolved_at.is_(None),
        )
    )
    if waiting is not None:
        return waiting, False
    call = KioskAlert(kiosk_id=kiosk.id, kind=STAFF_CALL, detail="", created_at=now)
    session.add(call)
    session.flush()
    return call, True


def open_calls(session: Session) -> list[tuple[KioskAlert, Kiosk]]:
    """Help requests no one has answered yet, oldest first, with their kiosk."""
    calls = session.scalars(
        select(KioskAlert)
        .where(KioskAlert.kind == STAFF_CALL, KioskAlert.resolved_at.is_(None))
        .order_by(KioskAlert.id)
    ).all()
    found = []
    for call in calls:
        kiosk = session.get(Kiosk, call.kiosk_id)
        if kiosk is not None:
            found.append((call, kiosk))
    return found


def answer_call(session: Session, call_id: int, actor: str, now: dt.datetime) -> bool:
    """Staff mark a help request answered (once: two clerks pressing at once answer it once)."""
    result = session.execute(
        update(KioskAlert)
        .where(
            KioskAlert.id == call_id,
            KioskAlert.kind == STAFF_CALL,
            KioskAlert.resolved_at.is_(None),
        )
        .values(resolved_at=now, resolved_by=actor)
    )
    return bool(getattr(result, "rowcount", 0))


def wipe_again(
    session: Session, files: FileStore, kiosk: Kiosk, *, actor: str, now: dt.datetime
) -> bool:
    """Staff: wipe the kiosk's open visits again; back in service (alerts answered) only when
    every one is wiped. Commits."""
    for visit in open_visits(session, kiosk.id):
        if not wipe_or_alert(session, files, visit.id, now, "staff"):
            return False
    session.execute(
        update(KioskAlert)
        .where(
            KioskAlert.kiosk_id == kiosk.id,
            KioskAlert.kind == WIPE_FAILED,
            KioskAlert.resolved_at.is_(None),
        )
        .values(resolved_at=now, resolved_by=actor)
    )
    session.execute(
        update(Kiosk)
        .where(Kiosk.id == kiosk.id)
        .values(out_of_service_since=None, last_wiped_at=now)
    )
    session.commit()
    return True


def visits_to_end(session: Session, now: dt.datetime, reset_seconds: int) -> list[int]:
    """Open visits idle past the reset, or of a revoked kiosk."""
    cutoff = now - dt.timedelta(seconds=reset_seconds)
    revoked = select(Kiosk.id).where(Kiosk.revoked_at.is_not(None))
    return list(
        session.scalars(
            select(KioskVisit.id)
            .where(
                KioskVisit.ended_at.is_(None),
                (KioskVisit.last_seen_at <= cutoff) | KioskVisit.kiosk_id.in_(revoked),
            )
            .order_by(KioskVisit.id)
        )
    )


def end_idle_visits(
    session: Session, files: FileStore, now: dt.datetime, reset_seconds: int
) -> tuple[int, int]:
    """Wipe every visit that is over though its kiosk never asked (unplugged, crashed);
    (wiped, failed). Each visit in its own transaction."""
    wiped = failed = 0
    for visit_id in visits_to_end(session, now, reset_seconds):
        session.rollback()  # a fresh transaction per visit
        if wipe_or_alert(session, files, visit_id, now, "idle"):
            wiped += 1
        else:
            failed += 1
    return wiped, failed


# --- 「続きはスマートフォンで」 ------------------------------------------------------------


def new_handoff_code() -> str:
    return "".join(secrets.choice(HANDOFF_ALPHABET) for _ in range(HANDOFF_LENGTH))


normalize_code = normalize_short_code
format_code = format_short_code


def hand_over(
    session: Session,
    visit: KioskVisit,
    kiosk: Kiosk,
    submission: Submission,
    owner_sub: str,
    now: dt.datetime,
    minutes: int,
) -> tuple[str, KioskHandoff]:
    """Take a draft of this visit out of it: the visit's wipe no longer deletes it, no browser
    holds it any more, and only the code, with the same resident's card login, opens it."""
    recorded = session.scalar(
        select(KioskVisitDraft).where(
            KioskVisitDraft.visit_id == visit.id,
            KioskVisitDraft.submission_id == submission.id,
        )
    )
    if recorded is None or not engine.is_draft(submission) or submission.owner_sub != owner_sub:
        raise KioskError("not a draft of this visit's resident")
    code = new_handoff_code()
    handoff = KioskHandoff(
        code_hash=token_hash(code),
        submission_id=submission.id,
        owner_sub=owner_sub,
        place=kiosk.place,
        started_at=submission.created_at,
        created_at=now,
        expires_at=now + dt.timedelta(minutes=minutes),
    )
    session.add(handoff)
    session.delete(recorded)
    submission.draft_token_hash = token_hash(new_token())  # the kiosk's browser lets go
    submission.updated_at = now
    session.flush()
    return code, handoff


def redeem(
    session: Session, code: str, owner_sub: str, now: dt.datetime
) -> tuple[Submission, str] | None:
    """The handed-over draft, with a bearer token for this browser, when the code is right,
    unused, unexpired and the signed-in resident is the one who started it; the code is used
    up. None otherwise (the same answer for every reason)."""
    normalized = normalize_code(code)
    if len(normalized) != HANDOFF_LENGTH:
        return None
    handoff = session.scalar(
        select(KioskHandoff).where(KioskHandoff.code_hash == token_hash(normalized))
    )
    if handoff is None or handoff.owner_sub != owner_sub:
        return None
    used = session.execute(
        update(KioskHandoff)
        .where(
            KioskHandoff.id == handoff.id,
            KioskHandoff.used_at.is_(None),
            KioskHandoff.expires_at > now,
        )
        .values(used_at=now)
    )
    if not getattr(used, "rowcount", 0):
        return None
    submission = session.get(Submission, handoff.submission_id)
    if submission is None or not engine.is_draft(submission):
        return None
    submission.entered_by = None  # an ordinary draft of the resident's from now on
    token = engine.take_over_draft(session, submission, now)
    return submission, token


def pending_handoff(submission: Submission) -> bool:
    """A kiosk draft waiting for its code (hidden from "my applications")."""
    return bool(submission.entered_by and submission.entered_by.startswith(HELPER_KIND + ":"))


def delete_expired_handoffs(session: Session, files: FileStore, now: dt.datetime) -> int:
    """Drafts whose hand-over code expired unused: nobody can reach them any more."""
    rows = session.scalars(
        select(KioskHandoff).where(KioskHandoff.used_at.is_(None), KioskHandoff.expires_at <= now)
    ).all()
    deleted = 0
    for handoff in rows:
        submission = session.get(Submission, handoff.submission_id)
        if submission is not None and engine.is_draft(submission) and pending_handoff(submission):
            retention.delete_draft(session, files, submission.id)
            deleted += 1
        session.delete(handoff)
    # A used code's row (who it was for) has no use once its time is over.
    session.execute(
        delete(KioskHandoff).where(
            KioskHandoff.used_at.is_not(None), KioskHandoff.expires_at <= now
        )
    )
    session.flush()
    return deleted


VISIT_DAYS = 30


def prune_visits(session: Session, now: dt.datetime) -> int:
    """Ended visits (times only, no personal data) kept VISIT_DAYS for the kiosk's use figures."""
    cutoff = now - dt.timedelta(days=VISIT_DAYS)
    ended = select(KioskVisit.id).where(KioskVisit.ended_at <= cutoff)
    session.execute(delete(KioskVisitDraft).where(KioskVisitDraft.visit_id.in_(ended)))
    result = session.execute(delete(KioskVisit).where(KioskVisit.ended_at <= cutoff))
    return int(getattr(result, "rowcount", 0) or 0)
