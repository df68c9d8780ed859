"""Demonstration data, loaded by `make run` (`flask demo load`); safe to run any number of times.

For every online procedure it files one application made of the catalog's example answers, with a
fixed public id, so a newcomer can open a status page straight away. Refused in production.
"""

from __future__ import annotations

import base64
import hashlib
import io

from flask import Flask
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from portal import clock
from portal.catalog import logic
from portal.db import db
from portal.submissions import service
from portal.submissions.models import Submission
from portal.urls import public_url_for


def _demo_public_id(procedure_id: str) -> str:
    return hashlib.sha256(f"demo:{procedure_id}".encode()).hexdigest()[:32]


def demo_pdf(title: str) -> FileStorage:
    """A one-page PDF standing in for a document the resident would photograph."""
    body = (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
        b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
        b"trailer<</Root 1 0 R>>\n%%EOF\n"
    )
    return FileStorage(io.BytesIO(body), filename=f"demo-{title}.pdf")


def example_answers(app: Flask, session, submission, procedure, today) -> dict:
    """The catalog's example answers in their stored form (My Numbers encrypted, ...)."""
    ctx = service.FormContext(
        session, submission, app.extensions["submission_services"], clock.now()
    )
    answers = {}
    examples = logic.resolve_examples(procedure.example_answers, today)
    for field in procedure.fields():
        value = examples.get(field.name)
        if field.type == "file" and field.required:
            info, error = ctx.store_upload(field, demo_pdf(field.label))
            assert error is None, error
            answers[field.name] = [info["token"]]
            continue
        if value is None:
            continue
        stored = field.field_type.from_example(field, value, ctx)
        if stored is not None:
            answers[field.name] = stored
    return logic.prune(procedure, answers, today)


def _sign_as_demo_persona(app: Flask, session, submission, now) -> None:
    """Sign a demo application with the mock card of the demo parent (岬 花子), as the card
    service would: the status page then shows a signature that verifies."""
    from cryptography.hazmat.primitives import serialization

    from portal.demo_data.people import load_personas
    from portal.identity import signature
    from portal.mock_jpki.ca import MockCA

    ca = MockCA(f"{app.config['INSTANCE_PATH']}/mock_jpki/ca")
    persona = load_personas()["parent"]
    digest = signature.document_digest(service.signed_content(session, submission))
    raw = ca.sign(persona, base64.urlsafe_b64decode(digest + "="), now)
    certificate = ca.certificate(persona, "signature", now)
    service.attach_signature(
        session,
        submission,
        {
            "digest": digest,
            "signature": base64.urlsafe_b64encode(raw).decode().rstrip("="),
            "certificate": certificate.public_bytes(serialization.Encoding.PEM).decode(),
            "signed_at": now.isoformat(),
        },
        now,
    )


# Demo staff accounts: fictional people, one shared demo password, and a TOTP secret derived
# from the login id (so a tester's authenticator app keeps working across `make run`s).
DEMO_STAFF_PASSWORD = "isumi-demo-2026"  # noqa: S105  (a published demo password)
DEMO_STAFF = [
    ("kosodate-clerk", "子育て 花子", [("clerk", "kosodate")]),
    ("kosodate-reviewer", "審査 三郎", [("reviewer", "kosodate")]),
    ("kosodate-approver", "決裁 和子", [("approver", "kosodate")]),
    ("shimin-clerk", "市民 一郎", [("clerk", "shimin")]),
    ("kaigo-reviewer", "介護 次郎", [("reviewer", "kaigo")]),
    ("admin", "管理 太郎", None),  # administrator of every department
]


def demo_totp_secret(login_id: str) -> str:
    digest = hashlib.sha256(f"demo-staff:{login_id}".encode()).digest()
    return base64.b32encode(digest[:20]).decode()


def _load_demo_staff(app: Flask, session, catalog, now) -> list[str]:
    from portal.staff import service as staff_service
    from portal.staff.models import ROLES, StaffMember

    key = app.extensions["submission_services"].my_number_key
    names = {d.id: d.name for d in catalog.departments}
    lines = []
    for login_id, display_name, roles in DEMO_STAFF:
        roles = roles or [("admin", d.id) for d in catalog.departments]
        if session.scalar(select(StaffMember.id).where(StaffMember.login_id == login_id)) is None:
            staff_service.create_member(
                session,
                login_id=login_id,
                display_name=display_name,
                password=DEMO_STAFF_PASSWORD,
                roles=roles,
                key=key,
                now=now,
                totp_secret=demo_totp_secret(login_id),
                demo=True,
            )
            session.commit()
        where = "、".join(f"{names[d]} {ROLES[r]}" for r, d in roles[:2])
        where += " ほか" if len(roles) > 2 else ""
        lines.append(
            f"demo staff {login_id} ({display_name}, {where}): password {DEMO_STAFF_PASSWORD}, "
            f"TOTP secret {demo_totp_secret(login_id)} (code now: flask staff code {login_id})"
        )
    return lines


def load_demo_data(app: Flask) -> list[str]:
    if app.config["PORTAL_ENV"] == "production":
        raise RuntimeError("demo data is never loaded in production")
    catalog = app.extensions["catalog"]
    lines = []
    with app.test_request_context(base_url=app.config["PUBLIC_URL"]):
        session = db.session
        now, today = clock.now(), clock.today_local()
        for procedure in catalog.procedures:
            if procedure.channel == "counter" or procedure.ended is not None:
                continue
            public_id = _demo_public_id(procedure.id)
            submission = session.scalar(select(Submission).where(Submission.public_id == public_id))
            if submission is None:
                submission, _token = service.start_draft(session, catalog, procedure, now)
                submission.public_id = public_id
                submission.answers = example_answers(app, session, submission, procedure, today)
                submission.steps_done = [step.id for step in procedure.steps]
                session.flush()
                if procedure.identity_level == "signature":
                    _sign_as_demo_persona(app, session, submission, now)
                service.submit(session, submission, True, app.config["STATUS_LINK_KEY"], today, now)
                session.commit()
                verb = "created"
            else:
                verb = "already present"
            token = service.status_token(app.config["STATUS_LINK_KEY"], submission)
            lines.append(
                f"demo application {submission.reference} ({procedure.title}) {verb}: "
                f"{public_url_for('submissions.status', token=token)}"
            )
        lines.extend(_load_demo_staff(app, session, catalog, now))
        lines.append(f"staff sign-in: {public_url_for('staff.login')}")
        session.close()
    return lines
