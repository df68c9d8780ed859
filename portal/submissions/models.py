"""Submissions: one row per application, from first draft to its final state.

A submission has three independent statuses (docs/decisions/0001-lifecycle.md): `status` follows
the procedure's workflow (draft → submitted → ...), `payment_status` and `appointment_status` are
set by the payment and appointment domains. A draft is a submission in the workflow's initial
state; it carries the snapshot of the procedure it started with, so a catalog change never alters
an application under way. Every status change is also written to `submission_events`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base, SharedJSON

# Payment status of a submission, independent of its workflow status.
PAYMENT_NONE = "none"  # the procedure has no fee
PAYMENT_UNPAID = "unpaid"  # a fee is due: the resident pays online or at the counter
PAYMENT_AFTER_REVIEW = "after_review"  # 事後決済: payable once the department approved it
PAYMENT_PAID = "paid"
PAYMENT_REFUNDED = "refunded"
# Appointment status of a submission.
APPOINTMENT_NONE = "none"


class Submission(Base):
    __tablename__ = "submissions"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    procedure_id: Mapped[str] = mapped_column(String(64), index=True)
    # The department that handles it (from the procedure when the draft started): staff see
    # the applications of their own departments only.
    department: Mapped[str] = mapped_column(String(64), index=True)
    # The signed-in resident who started it (their pairwise `sub`); None for anonymous drafts,
    # which are reached by their bearer token or secret status link only.
    owner_sub: Mapped[str | None] = mapped_column(String(64), index=True, default=None)
    # The resident-record ids of who applied and whom the application is about (the same
    # person unless acting for someone, 代理); None when not signed in or not found. The person
    # concerned sees the application on their own "my applications".
    applicant_person_id: Mapped[str | None] = mapped_column(String(64), default=None)
    subject_person_id: Mapped[str | None] = mapped_column(String(64), index=True, default=None)
    # Acting for someone else: {"relationship", "applicant_name", "subject_name",
    # "subject_birth_date", "delegation": "household_record" | "letter", "letter": upload token}
    acting_for: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    # Answers filled in from the card or the city's records: {field name: "card" | "records"}
    prefilled: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    # The electronic signature made at submit (identity level "signature"): {"digest",
    # "signature", "certificate" (PEM), "signed_at" (ISO)}; None otherwise.
    signature: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    # {"procedure": <procedure as in the catalog>, "workflow": <its workflow>}
    # Read through SharedJSON: the rows of one procedure version share one parsed value, so it
    # is never changed in place (refresh_snapshot assigns a new one).
    snapshot: Mapped[dict[str, Any]] = mapped_column(SharedJSON)
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    steps_done: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(32), index=True)
    payment_status: Mapped[str] = mapped_column(String(32), default=PAYMENT_NONE)
    appointment_status: Mapped[str] = mapped_column(String(32), default=APPOINTMENT_NONE)
    fee_amount: Mapped[int | None] = mapped_column(default=None)
    reference: Mapped[str | None] = mapped_column(String(20), unique=True, default=None)
    draft_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    status_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True, default=None)
    # A code the resident writes down to continue on another day or device (hash only).
    resume_code_hash: Mapped[str | None] = mapped_column(String(64), unique=True, default=None)
    resume_expires_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]
    submitted_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    # The language the resident used when submitting (portal.i18n.LANGUAGES; None before
    # migration 0030 or for a draft): mail about it is written in it (decision 0074).
    lang: Mapped[str | None] = mapped_column(String(8), default=None)
    # Set when the retention period ended and the application was anonymised (portal.retention):
    # its answers, files and who filed it are gone; reference, procedure, status and dates stay.
    purged_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    # Filed together with other procedures of a life event: the bundles channel's table, named
    # by string so the engine imports no channel (portal.models imports every model).
    bundle_id: Mapped[int | None] = mapped_column(
        ForeignKey("bundles.id"), index=True, default=None
    )
    # Who entered it for the applicant, "<kind>:<id>" of a registered helper kind
    # (portal.submissions.extensions.mark_helped): a counter clerk is "staff:<id>" (書かない窓口).
    # None when the resident entered it themself.
    entered_by: Mapped[str | None] = mapped_column(String(64), default=None)
    # The applicant's name and kana, normalised (NFKC, no spaces), set at submit for the staff
    # inbox's search; cleared by the retention purge.
    applicant_search: Mapped[str | None] = mapped_column(String(300), default=None)

    __table_args__ = (
        # The staff inbox: a department's submitted cases, newest first (keyset pagination). On
        # PostgreSQL it also covers the counts per status and the name search (index-only scans;
        # docs/benchmarks.md, "Staff inbox").
        Index(
            "ix_submissions_inbox",
            "department",
            "submitted_at",
            "id",
            postgresql_include=["status", "procedure_id", "applicant_search"],
        ),
    )

    # Loaded when a page asks for them (status pages), not with every draft lookup.
    events: Mapped[list[SubmissionEvent]] = relationship(
        back_populates="submission", order_by="SubmissionEvent.id"
    )


class SubmissionEvent(Base):
    """One status change: which transition, from and to which state, by whom, when."""

    __tablename__ = "submission_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    transition: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str] = mapped_column(String(32))
    to_status: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(16))
    # Who exactly: "staff:<id>" for a staff member (None for the resident and the system).
    actor_id: Mapped[str | None] = mapped_column(String(64), default=None)
    # What the member wrote with it (a reason to reject, a note when sending back, ...).
    comment: Mapped[str | None] = mapped_column(Text, default=None)
    at: Mapped[dt.datetime]

    submission: Mapped[Submission] = relationship(back_populates="events")


class CorrectionRequest(Base):
    """補正依頼: staff ask the resident for what is missing. The resident may change only the named
    fields (and add attachments to named file fields), then resubmits; the answers before and after
    are both kept, so staff see the difference."""

    __tablename__ = "correction_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    message: Mapped[str] = mapped_column(Text)
    fields: Mapped[list[str]] = mapped_column(JSON)  # field names the resident may change
    requested_by: Mapped[str] = mapped_column(String(64))  # "staff:<id>"
    requested_at: Mapped[dt.datetime]
    answers_before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    answers_after: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    resident_note: Mapped[str | None] = mapped_column(Text, default=None)
    answered_at: Mapped[dt.datetime | None] = mapped_column(default=None)


class RememberedContact(Base):
    """A signed-in resident's telephone number and e-mail address, kept only when they ticked
    「次の申請でも使う」 on the confirmation page, to fill those fields of their next application
    (catalog prefill `applicant.phone` / `applicant.email`, issue 22). The resident deletes it
    from 申請一覧; a newer consent replaces it."""

    __tablename__ = "remembered_contacts"

    owner_sub: Mapped[str] = mapped_column(String(64), primary_key=True)
    phone: Mapped[str | None] = mapped_column(String(20), default=None)
    email: Mapped[str | None] = mapped_column(String(254), default=None)
    updated_at: Mapped[dt.datetime]
