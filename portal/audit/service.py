"""Appending to the audit log, checking its hash chain, and answering "who looked at this".

Each entry's hash is SHA-256 over a canonical JSON serialisation of its content and the hash of
the entry before it (64 zeros for the first). `record` appends in the caller's transaction: it
locks the `audit_head` row (SELECT ... FOR UPDATE on PostgreSQL; SQLite's write lock, taken by
BEGIN IMMEDIATE, already serialises writers), chains to the hash found there, inserts, and moves
the head with a guarded UPDATE. Ids are assigned while the lock is held, so id order is chain
order. `verify` walks the log in id order and recomputes everything; it detects edits, deletions,
insertions and reorderings by anyone who did not also rewrite every later hash and the head
(docs/decisions/0022-audit-log.md says what that leaves open).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from portal.audit.models import (
    ACTOR_MAX,
    DEPARTMENT_MAX,
    REASON_MAX,
    TARGET_MAX,
    AuditEntry,
    AuditHead,
)

GENESIS_HASH = "0" * 64
HEAD_ID = 1
HASH_FORMAT = 1  # part of every hashed serialisation: a later format can coexist with this one

ACTIONS = frozenset(
    {
        "view",
        "change",
        "export",
        "reveal",
        "sign_in",
        "sign_in_failed",
        "sign_out",
        "sign_out_everywhere",
        "lockout",
        "purge",
        "token_created",
        "token_revoked",
        # Assisted sessions (decision 0054): a helper registered or revoked by staff, a
        # resident's consent given and ended.
        "helper_registered",
        "helper_revoked",
        "consent_given",
        "consent_ended",
        # Kiosks (decision 0057): 職員を呼ぶ pressed at a kiosk, and a member answering it.
        "staff_called",
        "staff_call_answered",
        "certificate_printed",
        "certificate_handed_over",
        # A resident discarded their own unsent draft or bundle (issue 22, portal.discard).
        "draft_discarded",
    }
)
# Looks at or changes to a resident's data: a staff entry of these names its department, and the
# resident sees it on the status page (`views_of`).
ACCESS_ACTIONS = ("view", "reveal", "export", "change")

# ASCII ids only: a name, an address or an e-mail address cannot slip into the log.
_ACTOR = re.compile(r"(?:staff|resident|helper):[A-Za-z0-9._~-]{1,64}|system|anonymous")
_TARGET = re.compile(r"[a-z][a-z0-9_-]*:[A-Za-z0-9._~:/-]+")
_DEPARTMENT = re.compile(r"[a-z][a-z0-9-]*")
_YIELD_PER = 1000


@dataclass(frozen=True)
class Verification:
    ok: bool
    checked: int  # entries found intact (before the first bad one, if any)
    first_bad_id: int | None  # None when the log is intact or the head row itself is missing
    problem: str | None


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    target: str,
    department: str | None = None,
    reason: str | None = None,
    at: dt.datetime,
) -> AuditEntry:
    """Append one entry in the caller's transaction (flushed, not committed).

    The head row stays locked until the caller commits, so record late in the unit of work. A
    GET view that records must say so before its first query (`db.will_write()`), or SQLite
    refuses to upgrade its read transaction. Raises ValueError for an invalid entry.
    """
    reason = _check(actor, action, target, department, reason, at)
    head = session.execute(
        select(AuditHead.last_hash).where(AuditHead.id == HEAD_ID).with_for_update()
    ).one_or_none()
    if head is None:
        raise RuntimeError("audit_head has no row: run the migrations (flask db upgrade)")
    prev_hash = head.last_hash
    entry = AuditEntry(
        at=at,
        actor=actor,
        action=action,
        target=target,
        department=department,
        reason=reason,
        prev_hash=prev_hash,
        hash=entry_hash(
            prev_hash,
            at=at,
            actor=actor,
            action=action,
            target=target,
            department=department,
            reason=reason,
        ),
    )
    session.add(entry)
    session.flush()
    moved = session.execute(
        update(AuditHead)
        .where(AuditHead.id == HEAD_ID, AuditHead.last_hash == prev_hash)
        .values(last_id=entry.id, last_hash=entry.hash)
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:  # cannot happen while the lock is held; never fork the chain
        raise RuntimeError("the audit head moved while an entry was appended")
    return entry


def entry_hash(
    prev_hash: str,
    *,
    at: dt.datetime,
    actor: str,
    action: str,
    target: str,
    department: str | None,
    reason: str | None,
) -> str:
    """SHA-256 (hex) of the entry's canonical serialisation, which includes prev_hash."""
    content = {
        "v": HASH_FORMAT,
        "prev_hash": prev_hash,
        "at": _timestamp(at),
        "actor": actor,
        "action": action,
        "target": target,
        "department": department,
        "reason": reason,
    }
    serialised = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(serialised.encode("utf-8")).hexdigest()


def verify(session: Session) -> Verification:
    """Walk the log in id order: each entry's hash matches its content, each prev_hash is the
    hash of the entry before, and the head names the last entry.

    Safe while others append, on PostgreSQL's READ COMMITTED too: the head is read before the
    walk, so the walk sees at least the entries it names; entries beyond it must be named by
    the head when it is read again after the walk.
    """
    head = _head(session)
    if head is None:
        return Verification(False, 0, None, "audit_head has no row")
    head_id, head_hash = head
    if head_id is None and head_hash != GENESIS_HASH:
        return Verification(False, 0, None, "audit_head names no entry but holds a hash")

    checked = 0
    prev_id: int | None = None
    prev_hash = GENESIS_HASH
    head_seen = head_id is None
    beyond_head: list[int] = []  # entries appended after the head was read (or never named)
    columns = select(
        AuditEntry.id,
        AuditEntry.at,
        AuditEntry.actor,
        AuditEntry.action,
        AuditEntry.target,
        AuditEntry.department,
        AuditEntry.reason,
        AuditEntry.prev_hash,
        AuditEntry.hash,
    ).order_by(AuditEntry.id)
    rows = session.execute(columns.execution_options(yield_per=_YIELD_PER))
    try:
        for row in rows:
            if not head_seen and row.id > head_id:
                return Verification(
                    False, checked, head_id, "the head names this entry but it is missing"
                )
            if row.prev_hash != prev_hash:
                before = f"entry {prev_id}" if prev_id is not None else "the genesis"
                return Verification(
                    False, checked, row.id, f"prev_hash is not the hash of {before}"
                )
            computed = entry_hash(
                row.prev_hash,
                at=row.at,
                actor=row.actor,
                action=row.action,
                target=row.target,
                department=row.department,
                reason=row.reason,
            )
            if computed != row.hash:
                return Verification(False, checked, row.id, "hash does not match the content")
            if row.id == head_id:
                if row.hash != head_hash:
                    return Verification(
                        False, checked, row.id, "the head holds another hash for this entry"
                    )
                head_seen = True
            elif head_seen:
                beyond_head.append(row.id)
            prev_id, prev_hash = row.id, row.hash
            checked += 1
    finally:
        rows.close()

    if not head_seen:
        end = f"entry {prev_id}" if prev_id is not None else "no entry"
        return Verification(
            False,
            checked,
            head_id,
            f"the head names this entry but it is missing: the log ends at {end}"
            " (entries deleted from the end)",
        )
    if beyond_head:
        now_id, now_hash = _head(session) or (None, GENESIS_HASH)
        if now_id is None or now_id < prev_id:
            first = next(i for i in beyond_head if now_id is None or i > now_id)
            return Verification(
                False, checked, first, "the head does not name this entry or any after it"
            )
        if now_id == prev_id and now_hash != prev_hash:
            return Verification(
                False, checked, prev_id, "the head holds another hash for this entry"
            )
    return Verification(True, checked, None, None)


def views_of(session: Session, target: str) -> list[tuple[str, dt.datetime]]:
    """(department, at) of each staff look at or change to `target`, oldest first."""
    rows = session.execute(
        select(AuditEntry.department, AuditEntry.at)
        .where(
            AuditEntry.target == target,
            AuditEntry.actor.startswith("staff:", autoescape=True),
            AuditEntry.action.in_(ACCESS_ACTIONS),
            AuditEntry.department.is_not(None),
        )
        .order_by(AuditEntry.at, AuditEntry.id)
    )
    return [(department, at) for department, at in rows]


def _head(session: Session) -> tuple[int | None, str] | None:
    row = session.execute(
        select(AuditHead.last_id, AuditHead.last_hash).where(AuditHead.id == HEAD_ID)
    ).one_or_none()
    return None if row is None else (row.last_id, row.last_hash)


def _timestamp(at: dt.datetime) -> str:
    # Microseconds: what both databases keep, so a stored entry hashes as it did when recorded.
    return at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _check(
    actor: str,
    action: str,
    target: str,
    department: str | None,
    reason: str | None,
    at: dt.datetime,
) -> str | None:
    """Refuse an invalid entry (ValueError); return the reason cleaned (stripped, None if
    empty)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    if not isinstance(actor, str) or len(actor) > ACTOR_MAX or not _ACTOR.fullmatch(actor):
        raise ValueError(
            "actor must be staff:<id>, resident:<sub>, helper:<id>, system or anonymous"
        )
    if not isinstance(target, str) or len(target) > TARGET_MAX or not _TARGET.fullmatch(target):
        raise ValueError("target must be <kind>:<id> in ASCII, e.g. submission:ISM-...")
    if department is not None and (
        len(department) > DEPARTMENT_MAX or not _DEPARTMENT.fullmatch(department)
    ):
        raise ValueError("department must be a catalog department id, e.g. kosodate")
    if actor.startswith("staff:") and action in ACCESS_ACTIONS and department is None:
        raise ValueError(f"a staff {action} names the department acting")
    if not isinstance(at, dt.datetime) or at.tzinfo is None:
        raise ValueError("at must be an aware datetime (portal.clock.now())")
    if reason is not None:
        reason = reason.replace("\r\n", "\n").strip() or None
    if reason is not None:
        if len(reason) > REASON_MAX:
            raise ValueError(f"reason is longer than {REASON_MAX} characters")
        if any(unicodedata.category(c) in {"Cc", "Cs"} and c not in "\n\t" for c in reason):
            raise ValueError("reason contains control characters")
    if action == "reveal" and reason is None:
        raise ValueError("revealing a masked field needs a reason")
    return reason
