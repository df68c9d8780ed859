"""Remembered contacts (issue 22): a signed-in resident's telephone number and e-mail address,
kept only with their consent (the box 「次の申請でも使う」 on the confirmation page, never ticked
for them) to fill the fields with the catalog prefill `applicant.phone` / `applicant.email` in
their next application. The resident deletes them from 申請一覧 at any time."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import delete
from sqlalchemy.orm import Session

from portal.catalog.schema import Procedure
from portal.submissions.models import RememberedContact

# catalog prefill source -> the key of the remembered contact
SOURCES = {"applicant.phone": "phone", "applicant.email": "email"}


def remembered(session: Session, owner_sub: str | None) -> dict[str, str]:
    """The resident's remembered phone and e-mail ({} when none)."""
    if not owner_sub:
        return {}
    row = session.get(RememberedContact, owner_sub)
    if row is None:
        return {}
    return {k: v for k, v in (("phone", row.phone), ("email", row.email)) if v}


def answered(procedure: Procedure, answers: dict[str, Any]) -> dict[str, str]:
    """The phone and e-mail this application answers in the fields that remembered contacts
    fill: what the resident may ask to keep."""
    found: dict[str, str] = {}
    for field in procedure.fields():
        key = SOURCES.get(field.prefill.source) if field.prefill else None
        value = answers.get(field.name)
        if key and isinstance(value, str) and value:
            found[key] = value
    return found


def remember(session: Session, owner_sub: str, contact: dict[str, str], now: dt.datetime) -> None:
    """Keep (or replace) the resident's contact, with their consent."""
    row = session.get(RememberedContact, owner_sub)
    if row is None:
        row = RememberedContact(owner_sub=owner_sub, updated_at=now)
        session.add(row)
    row.phone = contact.get("phone") or row.phone
    row.email = contact.get("email") or row.email
    row.updated_at = now


def forget(session: Session, owner_sub: str) -> bool:
    """Delete the resident's remembered contact; whether there was one."""
    result = session.execute(
        delete(RememberedContact).where(RememberedContact.owner_sub == owner_sub)
    )
    return bool(getattr(result, "rowcount", 0))
