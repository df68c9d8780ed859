"""Demonstration data, loaded by `make run` (`flask demo load`); safe to run any number of times.

For every online procedure it files one application made of the catalog's example answers, with a
fixed public id, so a newcomer can open a status page straight away. Refused in production.
"""

from __future__ import annotations

import hashlib

from flask import Flask, url_for
from sqlalchemy import select

from portal import clock
from portal.catalog import logic
from portal.db import db
from portal.submissions import service
from portal.submissions.models import Submission


def _demo_public_id(procedure_id: str) -> str:
    return hashlib.sha256(f"demo:{procedure_id}".encode()).hexdigest()[:32]


def load_demo_data(app: Flask) -> list[str]:
    if app.config["PORTAL_ENV"] == "production":
        raise RuntimeError("demo data is never loaded in production")
    catalog = app.extensions["catalog"]
    lines = []
    with app.test_request_context(base_url="http://127.0.0.1:8000"):
        session = db.session
        now, today = clock.now(), clock.today_local()
        for procedure in catalog.procedures:
            if procedure.channel == "counter":
                continue
            public_id = _demo_public_id(procedure.id)
            submission = session.scalar(select(Submission).where(Submission.public_id == public_id))
            if submission is None:
                submission, _token = service.start_draft(session, catalog, procedure, now)
                submission.public_id = public_id
                submission.answers = logic.prune(procedure, dict(procedure.example_answers), today)
                submission.steps_done = [step.id for step in procedure.steps]
                session.flush()
                service.submit(session, submission, True, app.config["STATUS_LINK_KEY"], today, now)
                session.commit()
                verb = "created"
            else:
                verb = "already present"
            token = service.status_token(app.config["STATUS_LINK_KEY"], submission)
            lines.append(
                f"demo application {submission.reference} ({procedure.title}) {verb}: "
                f"{url_for('submissions.status', token=token, _external=True)}"
            )
        session.close()
    return lines
