"""Prepared states for browser tests: what an earlier journey already proved in a browser is
made here through the engine's service layer, in the live server's own database, so that a test
starts where its own assertions begin instead of clicking through the same pages again.

    live_app            (fixture, conftest.py) the portal app configured exactly like the live server (same database,
                        keys and clock file), for the factories of tests/factories.py
    status_page(...)    a submitted application and the path of its status page
"""

from __future__ import annotations

from portal.submissions import service
from tests import factories


def status_page(live_app, procedure_id: str, answers: dict | None = None) -> str:
    """A submitted application of the procedure (the catalog's example answers unless given);
    the path of its status page, as the resident's confirmation mail links it."""
    submission = factories.submitted(live_app, procedure_id, answers)
    return f"/status/{service.status_token(live_app.config['STATUS_LINK_KEY'], submission)}"
