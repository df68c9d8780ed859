"""Retention on SQLite and PostgreSQL: `flask retention purge` anonymises applications past their
procedure's retention period (answers, who filed it, the signature, the files) and keeps what
statistics need; it keeps applications still within the period; it deletes drafts untouched for
90 days with their files (a bundle's drafts with their bundle); a dry run changes nothing; two
purges at once purge each application once; the worker purges once a day; every run is in the
audit log, and `flask audit verify` still passes afterwards."""

from __future__ import annotations

import datetime as dt
import secrets

import pytest
from sqlalchemy import func, select

from portal import audit, clock
from portal.bundles.models import Bundle
from portal.db import db
from portal.demo import demo_pdf
from portal.retention import service as retention
from portal.submissions import service
from portal.submissions.models import Submission
from portal.uploads.models import Upload
from tests.concurrency import run_together
from tests.web.test_staff_exports import at, file_ninshin

pytestmark = pytest.mark.db

NOW = at(2026, 4, 10, 3, 0)  # a night in Japan
SIGNATURE = {"digest": "d", "signature": "s", "certificate": "-----BEGIN...", "signed_at": "x"}
ACTING_FOR = {
    "relationship": "child",
    "applicant_name": "大原 太郎",
    "subject_name": "大原 花子",
    "subject_birth_date": "1995-06-15",
    "delegation": "household_record",
}


def purge(app, *extra: str, when: dt.datetime = NOW) -> str:
    clock.set_override(when)
    result = app.test_cli_runner().invoke(args=["retention", "purge", *extra])
    assert result.exit_code == 0, result.output
    return result.output.strip()


def filed(app, when: dt.datetime, *, bundle_id: int | None = None) -> int:
    """A 妊娠の届出 with an attachment, filed at `when` by a signed-in resident for someone."""
    _ref, public_id = file_ninshin(app, when, attach=True)
    with app.app_context():
        row = db.session.scalar(select(Submission).where(Submission.public_id == public_id))
        row.owner_sub = "resident-sub"
        row.applicant_person_id = "adult"
        row.subject_person_id = "parent"
        row.prefilled = {"mother": "card"}
        row.acting_for = ACTING_FOR
        row.signature = SIGNATURE
        row.bundle_id = bundle_id
        db.session.commit()
        return row.id


def draft(app, when: dt.datetime, *, bundle_id: int | None = None) -> int:
    """A draft with one stored file, last touched at `when`."""
    clock.set_override(when)
    with app.app_context():
        catalog = app.extensions["catalog"]
        procedure = catalog.procedure("ninshin-todoke")
        row, _token = service.start_draft(db.session, catalog, procedure, clock.now())
        ctx = service.FormContext(
            db.session, row, app.extensions["submission_services"], clock.now()
        )
        info, error = ctx.store_upload(procedure.field("diagnosis_document"), demo_pdf("診断書"))
        assert error is None
        row.answers = {"phone": "09012345678", "diagnosis_document": [info["token"]]}
        row.bundle_id = bundle_id
        db.session.commit()
        return row.id


def bundle(app, when: dt.datetime, status: str = "draft") -> int:
    with app.app_context():
        row = Bundle(
            public_id=secrets.token_hex(16),
            life_event="birth",
            owner_sub="resident-sub",
            applicant_person_id="adult",
            definition={},
            procedures=["ninshin-todoke"],
            screening={"who": "self"},
            shared={"phone": "09012345678"},
            shared_prefilled={"phone": "card"},
            shared_done=[],
            status=status,
            created_at=when,
            updated_at=when,
        )
        db.session.add(row)
        db.session.commit()
        return row.id


def storage_names(app, submission_id: int) -> list[str]:
    with app.app_context():
        return list(
            db.session.scalars(
                select(Upload.storage_name).where(Upload.submission_id == submission_id)
            )
        )


def file_exists(app, storage_name: str) -> bool:
    with app.app_context():
        try:
            app.extensions["submission_services"].files.read(db.session, storage_name)
        except FileNotFoundError:
            return False
        return True


def get(app, model, row_id: int):
    with app.app_context():
        row = db.session.get(model, row_id)
        if row is not None:
            db.session.expunge(row)
        return row


def purge_entries(app) -> list[audit.AuditEntry]:
    with app.app_context():
        return list(
            db.session.scalars(
                select(audit.AuditEntry)
                .where(audit.AuditEntry.action == "purge")
                .order_by(audit.AuditEntry.id)
            )
        )


def audit_verified(app) -> bool:
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    return result.exit_code == 0 and "audit log OK" in result.output


# -- submitted applications --------------------------------------------------------------------


def test_expired_applications_are_anonymised_and_their_files_deleted(app):
    old = filed(app, at(2021, 4, 9, 10, 0))  # 5 years (ninshin-todoke) end 2026-04-09 10:00
    recent = filed(app, at(2021, 4, 10, 10, 0))  # still within, by seven hours
    old_files, recent_files = storage_names(app, old), storage_names(app, recent)
    assert len(old_files) == len(recent_files) == 1 and file_exists(app, old_files[0])
    before = get(app, Submission, old)

    assert purge(app) == (
        "retention: purged 1 application(s), 0 draft(s), 0 bundle(s), 1 file(s), 0 kiosk certificate(s)"
    )

    purged = get(app, Submission, old)
    assert purged.purged_at == NOW
    assert (purged.answers, purged.prefilled, purged.acting_for, purged.signature) == (
        {},
        {},
        None,
        None,
    )
    assert (purged.owner_sub, purged.applicant_person_id, purged.subject_person_id) == (
        None,
        None,
        None,
    )
    assert purged.status_token_hash is None and purged.resume_code_hash is None
    # What statistics need stays.
    for name in ("reference", "procedure_id", "department", "status", "submitted_at", "created_at"):
        assert getattr(purged, name) == getattr(before, name), name
    assert purged.snapshot == before.snapshot
    assert storage_names(app, old) == [] and not file_exists(app, old_files[0])

    kept = get(app, Submission, recent)
    assert kept.purged_at is None and kept.answers["my_number"].startswith("v1:")
    assert kept.acting_for == ACTING_FOR and kept.owner_sub == "resident-sub"
    assert storage_names(app, recent) == recent_files and file_exists(app, recent_files[0])

    (entry,) = purge_entries(app)
    assert (entry.actor, entry.target, entry.department) == (
        "system",
        "retention:2026-04-10",
        None,
    )
    assert entry.reason == (
        "保存期間を過ぎた申請1件を匿名化、90日以上更新のない下書き0件を削除、"
        "まとめて申請0件を整理、ファイル1件を削除、キオスクで交付した証明書の記録0件を削除"
    )
    assert "大原" not in entry.reason
    assert audit_verified(app)

    # The next day the other one's time has come; the first is not purged twice.
    assert purge(app, when=NOW + dt.timedelta(days=1)).startswith("retention: purged 1 application")
    assert get(app, Submission, old).purged_at == NOW
    assert get(app, Submission, recent).purged_at == NOW + dt.timedelta(days=1)
    # Nothing left: the run is still recorded, with zero counts.
    assert purge(app, when=NOW + dt.timedelta(days=2)) == (
        "retention: purged 0 application(s), 0 draft(s), 0 bundle(s), 0 file(s), 0 kiosk certificate(s)"
    )
    assert [e.target for e in purge_entries(app)] == [
        "retention:2026-04-10",
        "retention:2026-04-11",
        "retention:2026-04-12",
    ]
    assert audit_verified(app)


def test_a_bundle_loses_its_shared_answers_once_every_member_is_purged(app):
    submitted_bundle = bundle(app, at(2021, 1, 5, 9, 0), status="submitted")
    first = filed(app, at(2021, 1, 5, 9, 0), bundle_id=submitted_bundle)
    second = filed(app, at(2021, 4, 20, 9, 0), bundle_id=submitted_bundle)
    purge(app)
    assert get(app, Submission, first).purged_at and not get(app, Submission, second).purged_at
    assert get(app, Bundle, submitted_bundle).shared == {"phone": "09012345678"}
    assert purge(app, when=at(2026, 4, 21, 3, 0)) == (
        "retention: purged 1 application(s), 0 draft(s), 1 bundle(s), 1 file(s), 0 kiosk certificate(s)"
    )
    emptied = get(app, Bundle, submitted_bundle)
    assert (emptied.shared, emptied.screening, emptied.shared_prefilled) == ({}, {}, {})
    assert emptied.owner_sub == "" and emptied.applicant_person_id is None
    assert emptied.status == "submitted"
    assert audit_verified(app)


# -- drafts --------------------------------------------------------------------------------------


def test_stale_drafts_are_deleted_with_their_files(app):
    stale = draft(app, NOW - dt.timedelta(days=91))
    fresh = draft(app, NOW - dt.timedelta(days=89))
    recent_application = filed(app, NOW - dt.timedelta(days=200))  # submitted: not a draft
    stale_file = storage_names(app, stale)[0]
    # A bundle whose drafts are all stale goes with them; one with a fresh draft stays whole.
    old_bundle = bundle(app, NOW - dt.timedelta(days=120))
    old_members = [draft(app, NOW - dt.timedelta(days=100), bundle_id=old_bundle) for _ in "ab"]
    lively_bundle = bundle(app, NOW - dt.timedelta(days=120))
    lively_members = [
        draft(app, NOW - dt.timedelta(days=100), bundle_id=lively_bundle),
        draft(app, NOW - dt.timedelta(days=3), bundle_id=lively_bundle),
    ]
    member_files = [name for m in old_members for name in storage_names(app, m)]

    assert purge(app) == (
        "retention: purged 0 application(s), 3 draft(s), 1 bundle(s), 3 file(s), 0 kiosk certificate(s)"
    )
    assert get(app, Submission, stale) is None and not file_exists(app, stale_file)
    assert get(app, Submission, fresh) is not None and storage_names(app, fresh)
    assert get(app, Submission, recent_application).answers
    assert get(app, Bundle, old_bundle) is None
    assert all(get(app, Submission, m) is None for m in old_members)
    assert not any(file_exists(app, name) for name in member_files)
    assert get(app, Bundle, lively_bundle) is not None
    assert all(get(app, Submission, m) is not None for m in lively_members)
    with app.app_context():
        assert db.session.scalar(select(func.count(Upload.id))) == 4
    assert audit_verified(app)


# -- the dry run, two runs at once, the worker -----------------------------------------------------


def snapshot_of_everything(app) -> tuple:
    with app.app_context():
        rows = db.session.scalars(select(Submission).order_by(Submission.id)).all()
        uploads = db.session.scalars(select(Upload.storage_name).order_by(Upload.id)).all()
        entries = db.session.scalar(select(func.count(audit.AuditEntry.id)))
        return (
            [(r.id, r.answers, r.owner_sub, r.signature, r.purged_at) for r in rows],
            list(uploads),
            entries,
        )


def test_a_dry_run_counts_and_changes_nothing(app):
    filed(app, at(2020, 1, 1, 9, 0))
    filed(app, at(2025, 1, 1, 9, 0))
    draft(app, NOW - dt.timedelta(days=91))
    draft(app, NOW - dt.timedelta(days=1))
    before = snapshot_of_everything(app)
    assert purge(app, "--dry-run") == (
        "retention: would purge 1 application(s), 1 draft(s), 0 bundle(s), 2 file(s), 0 kiosk certificate(s)"
    )
    assert snapshot_of_everything(app) == before
    assert all(file_exists(app, name) for name in before[1])
    assert purge_entries(app) == []
    # The real run does what the dry run said.
    assert purge(app) == (
        "retention: purged 1 application(s), 1 draft(s), 0 bundle(s), 2 file(s), 0 kiosk certificate(s)"
    )


def test_two_purges_at_once_purge_each_application_once(app):
    ids = [filed(app, at(2020, 1, 1, 9, n)) for n in range(4)]
    files = [name for i in ids for name in storage_names(app, i)]
    clock.set_override(NOW)
    results: list[retention.PurgeCounts] = []

    def work(_n: int) -> None:
        with app.app_context():
            results.append(
                retention.purge(
                    db.session_factory,
                    app.extensions["catalog"],
                    app.extensions["submission_services"].files,
                    NOW,
                )
            )

    assert run_together(2, work) == []
    assert sum(r.submissions for r in results) == 4
    assert sum(r.files for r in results) == 4
    assert all(get(app, Submission, i).purged_at == NOW for i in ids)
    assert not any(file_exists(app, name) for name in files)
    assert audit_verified(app)


def test_the_worker_purges_once_a_day(app):
    filed(app, at(2020, 1, 1, 9, 0))
    runner = app.test_cli_runner()

    def worker(when: dt.datetime) -> list[str]:
        clock.set_override(when)
        result = runner.invoke(args=["portal", "worker", "--once"])
        assert result.exit_code == 0, result.output
        return [line for line in result.output.splitlines() if line.startswith("retention")]

    assert worker(NOW) == [
        "retention: purged 1 application(s), 0 draft(s), 0 bundle(s), 1 file(s), 0 kiosk certificate(s)"
    ]
    filed(app, at(2020, 1, 2, 9, 0))  # expired, but today's run is done
    assert worker(NOW + dt.timedelta(hours=2)) == []
    assert len(purge_entries(app)) == 1
    # Tomorrow (in Japan) it runs again; a day with nothing to do prints nothing but is recorded.
    tomorrow = at(2026, 4, 11, 0, 5)
    assert worker(tomorrow) == [
        "retention: purged 1 application(s), 0 draft(s), 0 bundle(s), 1 file(s), 0 kiosk certificate(s)"
    ]
    assert worker(tomorrow + dt.timedelta(days=1)) == []
    assert [e.target for e in purge_entries(app)] == [
        "retention:2026-04-10",
        "retention:2026-04-11",
        "retention:2026-04-12",
    ]
    assert audit_verified(app)


def test_years_before_keeps_the_time_of_day_and_handles_29_february():
    leap = at(2028, 2, 29, 12, 0)
    assert retention.years_before(leap, 5) == at(2023, 2, 28, 12, 0)
    assert retention.years_before(at(2026, 4, 10, 0, 30), 1) == at(2025, 4, 10, 0, 30)


def kiosk_certificate(app, kind: str, day: dt.date) -> int:
    """A certificate paid for at a kiosk on `day` (its kiosk and payment rows too)."""
    from portal.kiosk.models import Kiosk, KioskCertificate
    from portal.payments import service as payments

    paid_at = dt.datetime.combine(day, dt.time(10, 0), tzinfo=clock.TOKYO)
    with app.app_context():
        kiosk = Kiosk(
            public_id=secrets.token_hex(16),
            name="本庁舎1号機",
            place="本庁舎1階",
            token_hash=secrets.token_hex(32),
            registered_at=paid_at,
            registered_by="staff:1",
        )
        db.session.add(kiosk)
        payment = payments.create_resident_charge(
            db.session,
            department="shimin",
            description="住民票の写し（キオスク）1通",
            amount=300,
            owner_sub="resident-sub",
            now=paid_at,
        )
        db.session.flush()
        row = KioskCertificate(
            public_id=secrets.token_hex(16),
            kind=kind,
            owner_sub="resident-sub",
            kiosk_id=kiosk.id,
            payment_id=payment.id,
            day=day,
            created_at=paid_at,
        )
        db.session.add(row)
        db.session.commit()
        return row.id


def test_kiosk_certificates_are_kept_for_their_procedures_period_then_deleted(app):
    from portal.kiosk.models import KioskCertificate
    from portal.payments.models import Payment

    # NOW is 2026-04-10 in Japan; both kinds' procedures keep their records 5 years.
    old = kiosk_certificate(app, "juminhyo", dt.date(2021, 4, 9))
    old_income = kiosk_certificate(app, "shotoku", dt.date(2020, 12, 1))
    kept = kiosk_certificate(app, "juminhyo", dt.date(2021, 4, 10))  # exactly 5 years: kept
    recent = kiosk_certificate(app, "shotoku", dt.date(2026, 4, 9))
    assert purge(app, "--dry-run").endswith(", 2 kiosk certificate(s)")
    assert get(app, KioskCertificate, old) is not None  # the dry run deleted nothing
    assert purge(app).endswith("0 file(s), 2 kiosk certificate(s)")
    assert get(app, KioskCertificate, old) is None
    assert get(app, KioskCertificate, old_income) is None
    assert get(app, KioskCertificate, kept) is not None
    assert get(app, KioskCertificate, recent) is not None
    with app.app_context():  # the payments are the payments' own records
        assert db.session.scalar(select(func.count()).select_from(Payment)) == 4
    assert purge_entries(app)[-1].reason.endswith("キオスクで交付した証明書の記録2件を削除")
    assert audit_verified(app)
    # The next day the one of exactly five years goes too.
    assert purge(app, when=NOW + dt.timedelta(days=1)).endswith(", 1 kiosk certificate(s)")
    assert get(app, KioskCertificate, kept) is None
    assert get(app, KioskCertificate, recent) is not None
