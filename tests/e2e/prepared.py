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


def registered_helper(live_app, name: str, birth_date: str, organisation: str) -> str:
    """A helper registered by the city for a year from today (as the staff page does); their
    public id."""
    import datetime as dt

    from portal import clock
    from portal.assisted import service as assisted
    from portal.db import db

    with live_app.app_context():
        today = clock.today_local()
        helper = assisted.register_helper(
            db.session,
            name=name,
            birth_date=dt.date.fromisoformat(birth_date),
            organisation=organisation,
            valid_from=today,
            valid_until=today + dt.timedelta(days=365),
            actor="staff:1",
            now=clock.now(),
        )
        db.session.commit()
        return helper.public_id


def filled_but(
    live_app,
    procedure_id: str,
    since,
    step_id: str | None = None,
    *,
    practice: bool = False,
    owner: str | None = None,
    answers: dict | None = None,
) -> tuple[int, list[str]]:
    """The newest draft of the procedure made after `since` (with `practice`, the newest
    practice draft; with `owner`, the newest of that resident), for the resident themself, with
    the catalog's example answers (changed by `answers`) on every step but `step_id` (None: on
    every step), as if typed on those pages. Its id and its files' storage names."""
    from sqlalchemy import select

    from portal import clock
    from portal.catalog import logic
    from portal.db import db
    from portal.demo import demo_pdf, example_answers
    from portal.submissions.models import Submission
    from portal.uploads.models import Upload

    whose = (
        Submission.entered_by.startswith("practice:")
        if practice
        else Submission.entered_by.is_(None)
    )
    if owner is not None:
        whose = whose & (Submission.owner_sub == owner)
    changed = answers or {}
    with live_app.app_context():
        draft = db.session.scalars(
            select(Submission)
            .where(Submission.procedure_id == procedure_id, whose, Submission.created_at >= since)
            .order_by(Submission.id.desc())
        ).first()
        assert draft is not None, "the draft the browser started"
        procedure = live_app.extensions["catalog"].procedure(procedure_id)
        step = procedure.step(step_id) if step_id else None
        skipped = {f.name for f in step.fields} if step else set()
        if procedure.on_behalf:
            service.set_subject(db.session, draft, relationship="self", subject_person_id=None)
        today = clock.today_local()
        answers = example_answers(live_app, db.session, draft, procedure, today) | changed
        if practice:  # a practice run: with a photo attached, as a participant would
            ctx = service.FormContext(
                db.session, draft, live_app.extensions["submission_services"], clock.now()
            )
            for field in procedure.fields():
                if field.type == "file" and field.name not in answers:
                    info, error = ctx.store_upload(field, demo_pdf(field.label))
                    assert error is None, error
                    answers[field.name] = [info["token"]]
        kept = {k: v for k, v in answers.items() if k not in skipped}
        draft.answers = logic.prune(procedure, kept, today)
        draft.steps_done = [s.id for s in procedure.steps if s.id != step_id]
        db.session.commit()
        files = db.session.scalars(
            select(Upload.storage_name).where(Upload.submission_id == draft.id)
        )
        return draft.id, list(files)


def gone(live_app, submission_id: int, storage_names: list[str]) -> bool:
    """Whether the submission, its uploads and their stored files are all gone."""
    from sqlalchemy import select

    from portal.db import db
    from portal.submissions.models import Submission
    from portal.uploads.models import Upload, UploadBlob

    with live_app.app_context():
        return (
            db.session.get(Submission, submission_id) is None
            and db.session.scalar(select(Upload.id).where(Upload.submission_id == submission_id))
            is None
            and not list(
                db.session.scalars(
                    select(UploadBlob.storage_name).where(
                        UploadBlob.storage_name.in_(storage_names)
                    )
                )
            )
        )


def public_id(live_app, submission_id: int) -> str:
    """The public id of a submission (the staff case page's URL)."""
    from portal.db import db
    from portal.submissions.models import Submission

    with live_app.app_context():
        return db.session.get(Submission, submission_id).public_id


def moving_bundle_of(live_app, owner_sub: str, procedure_ids: list[str]) -> str:
    """An unsent moving bundle of the resident (a move into the city made two days ago), with a
    draft of each procedure, as the checklist starts it; its public id."""
    import datetime as dt

    from portal import clock
    from portal.bundles import service as bundles
    from portal.db import db

    with live_app.app_context():
        catalog = live_app.extensions["catalog"]
        moved = clock.today_local() - dt.timedelta(days=2)
        screening = {
            "direction": "into",
            "move_date": moved.isoformat(),
            "children": "yes",
            "insurance": "kokuho",
            "care": "no",
        }
        bundle, _members = bundles.start(
            db.session,
            catalog,
            next(e for e in catalog.life_events if e.id == "moving"),
            screening,
            procedure_ids,
            clock.now(),
            owner_sub=owner_sub,
            person_id=None,
        )
        db.session.commit()
        return bundle.public_id


def owner_of(live_app, persona_id: str) -> str:
    """The pairwise `sub` the portal knows the demo card holder by (as their login gives it)."""
    from portal.mock_jpki.provider import pairwise_sub

    with live_app.app_context():
        return pairwise_sub(live_app.config["JPKI_CLIENT_ID"], persona_id)


def newest_draft_owner(live_app, procedure_id: str) -> str:
    """The pairwise `sub` of who started the newest draft of the procedure in the browser."""
    from sqlalchemy import select

    from portal.db import db
    from portal.submissions.models import Submission

    with live_app.app_context():
        owner = db.session.scalars(
            select(Submission.owner_sub)
            .where(Submission.procedure_id == procedure_id)
            .order_by(Submission.id.desc())
        ).first()
        assert owner, "the draft the signed-in resident started"
        return owner
