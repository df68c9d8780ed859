"""The worker's `kiosk-visits` duty (portal/jobs/schedule.py): a kiosk that crashed or was
unplugged never asks again, so the server ends its idle visit by itself; expired hand-over
codes take their drafts with them."""

from __future__ import annotations

from flask import current_app

from portal import clock
from portal.db import db, write_intent
from portal.kiosk import service


def idle_visits_duty(_should_stop=None) -> str | None:
    assert db.session_factory is not None, "Database.init_app() was not called"
    files = current_app.extensions["submission_services"].files
    reset = current_app.config["KIOSK_IDLE_RESET_SECONDS"]
    now = clock.now()
    intent = write_intent.set(True)
    try:
        with db.session_factory() as session:
            wiped, failed = service.end_idle_visits(session, files, now, reset)
            expired = service.delete_expired_handoffs(session, files, now)
            pruned = service.prune_visits(session, now)
            session.commit()
    finally:
        write_intent.reset(intent)
    parts = []
    if wiped or failed:
        parts.append(f"{wiped} idle visit(s) wiped, {failed} failed")
    if expired:
        parts.append(f"{expired} expired hand-over draft(s) deleted")
    if pruned:
        parts.append(f"{pruned} old visit(s) pruned")
    return "kiosk: " + "; ".join(parts) if parts else None
