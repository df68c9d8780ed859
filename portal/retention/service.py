"""Retention: what the purge does, and finding what is due.

A submitted application is kept for its procedure's retention period (the catalog's
`retention.years`, counted from the submission time; the snapshot's when the procedure has left
the catalog). After it, `purge` anonymises it: answers, prefilled marks, acting-for details and
the signature (its certificate names the signer) are emptied, the owner, applicant and subject
ids and the status-link and resume-code hashes cleared, its files deleted from the file store and
their rows removed, and `purged_at` set. What remains — reference, procedure, department, status,
fee and payment status, dates and status history — is kept for statistics and to answer "what
happened to ISM-…". A bundle whose every member is purged loses its screening and shared answers
and its owner in the same way.

A certificate paid for at a kiosk (`kiosk_certificates`: who paid — the card login's `sub` —
where, when, how often printed, whether handed over at the counter) is the record of its issue,
kept as long as the counter's own record of the same issue: its procedure's retention period
(portal.kiosk.offers: 住民票の写し and 所得証明書, 5 years each), counted from the day it was paid
for; then the row is deleted (its payment, which the payments' own records keep, and its audit
entries, ids only, stay).

A draft never submitted and untouched for DRAFT_DAYS is deleted with its files. A bundle's drafts
go together with their bundle, once the bundle and every one of them are that old.

The work is done in batches, each one transaction that also appends one audit entry (actor
`system`, action `purge`, target `retention:<date in Japan>`, counts only), so whatever was purged
is recorded, even by a run that stops half-way. A run that finds nothing records one entry with
zero counts: the worker's daily job looks for today's entry to know it already ran. Files are
deleted before the transaction commits: if it then fails, the rows stay unpurged (without their
files) and the next run purges them again, so no file outlives its rows unnoticed. Each batch
locks its rows and re-checks them (SELECT ... FOR UPDATE on PostgreSQL; SQLite's write lock), so
two runs at once purge each application once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields
from functools import partial

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from portal import audit, clock
from portal.appointments.models import Appointment
from portal.bundles.models import DRAFT as BUNDLE_DRAFT
from portal.bundles.models import Bundle
from portal.catalog.schema import CatalogData
from portal.db import lock_in_order, retrying
from portal.kiosk.models import KioskCertificate
from portal.kiosk.offers import OFFERS
from portal.outbox import cancel_pending
from portal.payments.models import PaymentItem
from portal.submissions.models import CorrectionRequest, Submission, SubmissionEvent
from portal.uploads.models import Upload
from portal.uploads.service import FileStore

DRAFT_DAYS = 90
BATCH_SIZE = 100
ACTOR = "system"


@dataclass
class PurgeCounts:
    submissions: int = 0  # submitted applications anonymised
    drafts: int = 0  # drafts deleted
    bundles: int = 0  # bundles emptied (every member purged) or deleted (stale drafts)
    files: int = 0  # files deleted from the file store
    certificates: int = 0  # kiosk certificates' records deleted

    def add(self, other: PurgeCounts) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def any(self) -> bool:
        return any(getattr(self, f.name) for f in fields(self))

    def describe(self) -> str:
        """The audit entry's text (counts only)."""
        return (
            f"保存期間を過ぎた申請{self.submissions}件を匿名化、"
            f"{DRAFT_DAYS}日以上更新のない下書き{self.drafts}件を削除、"
            f"まとめて申請{self.bundles}件を整理、ファイル{self.files}件を削除、"
            f"キオスクで交付した証明書の記録{self.certificates}件を削除"
        )

    def summary(self, dry_run: bool = False) -> str:
        """The command's and the worker's line."""
        verb = "would purge" if dry_run else "purged"
        return (
            f"retention: {verb} {self.submissions} application(s), {self.drafts} draft(s), "
            f"{self.bundles} bundle(s), {self.files} file(s), "
            f"{self.certificates} kiosk certificate(s)"
        )


def run_target(today: dt.date) -> str:
    """The audit target of a day's runs."""
    return f"retention:{today.isoformat()}"


def years_before(now: dt.datetime, years: int) -> dt.datetime:
    """The same time of day `years` calendar years earlier in Japan (29 February → 28th)."""
    local = clock.to_local(now)
    try:
        earlier = local.replace(year=local.year - years)
    except ValueError:
        earlier = local.replace(year=local.year - years, day=28)
    return earlier.astimezone(dt.UTC)


# --- finding what is due -----------------------------------------------------------------------


def expired_submissions(session: Session, catalog: CatalogData, now: dt.datetime) -> list[int]:
    """Ids of submitted, not yet purged applications past their retention period."""
    procedure_ids = session.scalars(
        select(Submission.procedure_id)
        .where(Submission.submitted_at.is_not(None), Submission.purged_at.is_(None))
        .distinct()
    ).all()
    ids: list[int] = []
    for procedure_id in sorted(procedure_ids):
        pending = (
            Submission.procedure_id == procedure_id,
            Submission.submitted_at.is_not(None),
            Submission.purged_at.is_(None),
        )
        procedure = catalog.procedure(procedure_id)
        if procedure is not None:
            cutoff = years_before(now, procedure.retention.years)
            ids += session.scalars(
                select(Submission.id).where(*pending, Submission.submitted_at < cutoff)
            ).all()
            continue
        # Gone from the catalog: each application's own snapshot says how long to keep it.
        for row_id, snapshot, submitted_at in session.execute(
            select(Submission.id, Submission.snapshot, Submission.submitted_at).where(*pending)
        ):
            years = (snapshot.get("procedure", {}).get("retention") or {}).get("years")
            if years and submitted_at < years_before(now, int(years)):
                ids.append(row_id)
    return sorted(ids)


KIOSK_CERTIFICATE_YEARS = 5  # a kind no longer offered: the period of both kinds today


def kiosk_certificate_years(catalog: CatalogData, kind: str) -> int:
    """How long a kiosk certificate's record is kept: its procedure's retention period."""
    offer = OFFERS.get(kind)
    procedure = catalog.procedure(offer.procedure) if offer else None
    return procedure.retention.years if procedure is not None else KIOSK_CERTIFICATE_YEARS


def expired_kiosk_certificates(
    session: Session, catalog: CatalogData, now: dt.datetime
) -> list[int]:
    """Ids of kiosk certificates paid for longer ago than their retention period."""
    ids: list[int] = []
    kinds = session.scalars(select(KioskCertificate.kind).distinct()).all()
    for kind in sorted(kinds):
        cutoff = clock.to_local(years_before(now, kiosk_certificate_years(catalog, kind))).date()
        ids += session.scalars(
            select(KioskCertificate.id).where(
                KioskCertificate.kind == kind, KioskCertificate.day < cutoff
            )
        ).all()
    return sorted(ids)


def _stale_draft_conditions(cutoff: dt.datetime) -> tuple:
    return (Submission.submitted_at.is_(None), Submission.updated_at < cutoff)


def stale_drafts(session: Session, now: dt.datetime) -> list[int]:
    """Ids of drafts outside any bundle, never submitted and untouched for DRAFT_DAYS."""
    cutoff = now - dt.timedelta(days=DRAFT_DAYS)
    return list(
        session.scalars(
            select(Submission.id)
            .where(*_stale_draft_conditions(cutoff), Submission.bundle_id.is_(None))
            .order_by(Submission.id)
        )
    )


def stale_bundles(session: Session, now: dt.datetime, only: int | None = None) -> list[int]:
    """Ids of draft bundles untouched for DRAFT_DAYS whose members are all untouched drafts
    (or whether the bundle `only` is one)."""
    cutoff = now - dt.timedelta(days=DRAFT_DAYS)
    chosen = (Bundle.id == only,) if only is not None else ()
    lively = (
        select(Submission.id)
        .where(
            Submission.bundle_id == Bundle.id,
            (Submission.submitted_at.is_not(None)) | (Submission.updated_at >= cutoff),
        )
        .exists()
    )
    return list(
        session.scalars(
            select(Bundle.id)
            .where(Bundle.status == BUNDLE_DRAFT, Bundle.updated_at < cutoff, ~lively, *chosen)
            .order_by(Bundle.id)
        )
    )


def _count_files(session: Session, submission_ids: Iterable[int]) -> int:
    ids = list(submission_ids)
    total = 0
    for start in range(0, len(ids), 500):
        total += session.scalar(
            select(func.count(Upload.id)).where(Upload.submission_id.in_(ids[start : start + 500]))
        )
    return total


def due(session: Session, catalog: CatalogData, now: dt.datetime) -> PurgeCounts:
    """What a purge would do now (the dry run)."""
    expired = expired_submissions(session, catalog, now)
    drafts = stale_drafts(session, now)
    bundles = stale_bundles(session, now)
    members = list(
        session.scalars(select(Submission.id).where(Submission.bundle_id.in_(bundles)))
        if bundles
        else []
    )
    return PurgeCounts(
        submissions=len(expired),
        drafts=len(drafts) + len(members),
        bundles=len(bundles) + len(_bundles_emptied_by(session, expired)),
        files=_count_files(session, expired + drafts + members),
        certificates=len(expired_kiosk_certificates(session, catalog, now)),
    )


def _bundles_emptied_by(session: Session, submission_ids: list[int]) -> set[int]:
    """The bundles that purging these applications leaves with no unpurged member."""
    if not submission_ids:
        return set()
    chosen = set(submission_ids)
    candidates = set(
        session.scalars(
            select(Submission.bundle_id)
            .where(Submission.id.in_(submission_ids), Submission.bundle_id.is_not(None))
            .distinct()
        )
    )
    emptied = set()
    for bundle_id in candidates:
        members = session.execute(
            select(Submission.id, Submission.purged_at).where(Submission.bundle_id == bundle_id)
        ).all()
        if all(purged_at is not None or row_id in chosen for row_id, purged_at in members):
            emptied.add(bundle_id)
    return emptied


# --- doing it ----------------------------------------------------------------------------------


def _delete_files(session: Session, files: FileStore, submission_id: int) -> int:
    uploads = session.scalars(select(Upload).where(Upload.submission_id == submission_id)).all()
    for upload in uploads:
        files.delete(session, upload.storage_name)
    if uploads:
        session.execute(delete(Upload).where(Upload.submission_id == submission_id))
    return len(uploads)


def _anonymise(session: Session, files: FileStore, ids: list[int], now: dt.datetime) -> PurgeCounts:
    counts = PurgeCounts()
    # Lock order (docs/decisions/0046-lock-order-and-retries.md): their bundles first, then the
    # applications by id.
    bundle_ids = session.scalars(
        select(Submission.bundle_id).where(Submission.id.in_(ids), Submission.bundle_id.isnot(None))
    )
    lock_in_order(session, Bundle.id, bundle_ids)
    rows = session.scalars(
        select(Submission)
        .where(Submission.id.in_(ids), Submission.purged_at.is_(None))
        .order_by(Submission.id)
        .with_for_update()
    ).all()
    for submission in rows:
        counts.files += _delete_files(session, files, submission.id)
        submission.answers = {}
        submission.prefilled = {}
        submission.acting_for = None
        submission.signature = None
        submission.owner_sub = None
        submission.applicant_person_id = None
        submission.subject_person_id = None
        submission.status_token_hash = None
        submission.resume_code_hash = None
        submission.resume_expires_at = None
        submission.applicant_search = None
        submission.purged_at = now
        counts.submissions += 1
    session.flush()
    # What was asked and answered in correction requests, and staff comments, go with them.
    session.execute(
        update(CorrectionRequest)
        .where(CorrectionRequest.submission_id.in_(ids))
        .values(message="", answers_before=None, answers_after=None, resident_note=None)
    )
    session.execute(
        update(SubmissionEvent).where(SubmissionEvent.submission_id.in_(ids)).values(comment=None)
    )
    for bundle_id in sorted({s.bundle_id for s in rows if s.bundle_id is not None}):
        remaining = session.scalar(
            select(func.count(Submission.id)).where(
                Submission.bundle_id == bundle_id, Submission.purged_at.is_(None)
            )
        )
        if remaining == 0:
            session.execute(
                update(Bundle)
                .where(Bundle.id == bundle_id)
                .values(
                    owner_sub="",
                    applicant_person_id=None,
                    screening={},
                    shared={},
                    shared_prefilled={},
                )
            )
            counts.bundles += 1
    return counts


def _delete_draft(session: Session, files: FileStore, submission_id: int) -> int:
    removed = _delete_files(session, files, submission_id)
    session.execute(delete(SubmissionEvent).where(SubmissionEvent.submission_id == submission_id))
    session.execute(
        delete(CorrectionRequest).where(CorrectionRequest.submission_id == submission_id)
    )
    session.execute(
        update(Appointment)
        .where(Appointment.submission_id == submission_id)
        .values(submission_id=None)
    )
    session.execute(
        update(PaymentItem)
        .where(PaymentItem.submission_id == submission_id)
        .values(submission_id=None)
    )
    session.execute(delete(Submission).where(Submission.id == submission_id))
    return removed


def delete_draft(session: Session, files: FileStore, submission_id: int) -> int:
    """Delete one draft with its files, events and correction rows (a kiosk visit's wipe,
    portal/kiosk); the files deleted. Appointments and payment items let go of it."""
    return _delete_draft(session, files, submission_id)


def _delete_drafts(
    session: Session, files: FileStore, ids: list[int], now: dt.datetime
) -> PurgeCounts:
    counts = PurgeCounts()
    cutoff = now - dt.timedelta(days=DRAFT_DAYS)
    still_stale = session.scalars(
        select(Submission.id)
        .where(
            Submission.id.in_(ids),
            *_stale_draft_conditions(cutoff),
            Submission.bundle_id.is_(None),
        )
        .order_by(Submission.id)
        .with_for_update()
    ).all()
    for submission_id in still_stale:
        counts.files += _delete_draft(session, files, submission_id)
        counts.drafts += 1
    return counts


def _delete_bundles(
    session: Session, files: FileStore, ids: list[int], now: dt.datetime
) -> PurgeCounts:
    counts = PurgeCounts()
    for bundle_id in sorted(ids):
        bundle = session.scalar(select(Bundle).where(Bundle.id == bundle_id).with_for_update())
        if bundle is None or not stale_bundles(session, now, only=bundle_id):
            continue  # gone, or touched since it was found
        counts.add(delete_bundle(session, files, bundle, now))
    return counts


def delete_bundle(
    session: Session, files: FileStore, bundle: Bundle, now: dt.datetime
) -> PurgeCounts:
    """Delete a bundle with its member drafts and their files (a stale bundle, or one its
    resident discarded, issue 22); its appointment lets go of it, its pending mail is cancelled."""
    counts = PurgeCounts()
    members = session.scalars(
        select(Submission.id)
        .where(Submission.bundle_id == bundle.id)
        .order_by(Submission.id)
        .with_for_update()
    ).all()
    for submission_id in members:
        counts.files += _delete_draft(session, files, submission_id)
        counts.drafts += 1
    session.execute(
        update(Appointment).where(Appointment.bundle_id == bundle.id).values(bundle_id=None)
    )
    cancel_pending(session, f"bundle:{bundle.public_id}", now=now)
    session.execute(delete(Bundle).where(Bundle.id == bundle.id))
    counts.bundles += 1
    return counts


def _delete_kiosk_certificates(
    catalog: CatalogData, session: Session, files: FileStore, ids: list[int], now: dt.datetime
) -> PurgeCounts:
    """A batch step (the catalog bound first); a kiosk certificate has no files."""
    still_due = set(expired_kiosk_certificates(session, catalog, now)) & set(ids)
    if not still_due:
        return PurgeCounts()
    deleted = session.execute(
        delete(KioskCertificate).where(KioskCertificate.id.in_(sorted(still_due)))
    )
    return PurgeCounts(certificates=deleted.rowcount)  # type: ignore[attr-defined]


def _batches(ids: list[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), BATCH_SIZE):
        yield ids[start : start + BATCH_SIZE]


def purge(
    session_factory: Callable[[], Session],
    catalog: CatalogData,
    files: FileStore,
    now: dt.datetime,
    *,
    dry_run: bool = False,
) -> PurgeCounts:
    """Anonymise expired applications and delete stale drafts, batch by batch (each batch one
    transaction with its audit entry); with `dry_run`, only count what would be done."""
    with session_factory() as session:
        if dry_run:
            return due(session, catalog, now)
        expired = expired_submissions(session, catalog, now)
        drafts = stale_drafts(session, now)
        bundles = stale_bundles(session, now)
        certificates = expired_kiosk_certificates(session, catalog, now)
        session.rollback()

    total = PurgeCounts()
    work: list[tuple[Callable, list[int]]] = [
        *((_anonymise, batch) for batch in _batches(expired)),
        *((_delete_drafts, batch) for batch in _batches(drafts)),
        *((_delete_bundles, batch) for batch in _batches(bundles)),
        *(
            (partial(_delete_kiosk_certificates, catalog), batch)
            for batch in _batches(certificates)
        ),
    ]
    target = run_target(clock.to_local(now).date())
    for step, batch in work:
        with session_factory() as session:

            def unit(session=session, step=step, batch=batch) -> PurgeCounts:
                counts = step(session, files, batch, now)
                if counts.any():
                    audit.record(
                        session,
                        actor=ACTOR,
                        action="purge",
                        target=target,
                        reason=counts.describe(),
                        at=now,
                    )
                session.commit()
                return counts

            counts = retrying(session, unit)  # a batch meeting a deadlock runs again
        total.add(counts)
    if not total.any():
        with session_factory() as session:
            audit.record(
                session,
                actor=ACTOR,
                action="purge",
                target=target,
                reason=total.describe(),
                at=now,
            )
            session.commit()
    return total


def ran_on(session: Session, day: dt.date) -> bool:
    """Whether a purge already ran (and recorded it) on this day in Japan."""
    return (
        session.scalar(
            select(audit.AuditEntry.id).where(audit.AuditEntry.target == run_target(day)).limit(1)
        )
        is not None
    )
