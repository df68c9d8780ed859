"""The back office's workflow (issue 12): what a staff member may do with a case, doing it, asking
the resident for what is missing, telling the resident, and the share of decisions made
electronically.

Statuses, transitions and the roles each needs come from the catalog's workflow (as snapshotted
with the case). Every change goes through `submissions.service.transition`: a conditional UPDATE
on the status the member saw, so of two members acting at once one wins and the other is told.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal import outbox
from portal.catalog.schema import CatalogData, Transition
from portal.i18n import current_language, in_language, translate
from portal.input_policy import BAD_CHARACTERS, bad_characters
from portal.localization import localized, localized_states
from portal.staff.models import StaffMember
from portal.submissions import service as submissions
from portal.submissions.models import CorrectionRequest, Submission, SubmissionEvent

COMMENT_MAX = 1000
MESSAGE_MIN = 4
MESSAGE_MAX = 2000


class Invalid(Exception):
    """Bad input: {form field: Japanese message}."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(errors)
        self.errors = errors


def actor_id(member: StaffMember) -> str:
    return f"staff:{member.id}"


def roles_for(member: StaffMember, submission: Submission) -> set[str]:
    return {r.role for r in member.roles if r.department == submission.department}


def available(member: StaffMember, submission: Submission) -> list[Transition]:
    """The staff transitions this member may apply to the case now (one per name)."""
    roles = roles_for(member, submission)
    found: dict[str, Transition] = {}
    for t in submissions.workflow_of(submission).transitions:
        if t.by == "staff" and t.source == submission.status and roles & set(t.roles):
            found.setdefault(t.name, t)
    return list(found.values())


def asks_resident(submission: Submission, transition: Transition) -> bool:
    """A transition into the resident's turn goes with a correction request."""
    return submissions.workflow_of(submission).states[transition.target].resident_turn


def _clean_comment(transition: Transition, text: str) -> str | None:
    if transition.comment == "none":
        return None
    comment = text.strip()
    if transition.comment == "required" and not comment:
        raise Invalid({"comment": f"「{transition.label}」の理由やコメントを入力してください"})
    if bad_characters(comment):
        raise Invalid({"comment": f"コメントに{BAD_CHARACTERS}"})
    if len(comment) > COMMENT_MAX:
        raise Invalid({"comment": f"コメントは{COMMENT_MAX}文字以内で入力してください"})
    return comment or None


def apply(
    session: Session,
    submission: Submission,
    member: StaffMember,
    name: str,
    *,
    expected: str,
    comment: str = "",
    now: dt.datetime,
    status_url: str | None = None,
) -> bool:
    """Apply the staff transition `name`; False when the case is no longer in `expected` (another
    member acted first). Raises Invalid for a missing comment, TransitionRefused for a transition
    this member may not apply."""
    transition = next((t for t in available(member, submission) if t.name == name), None)
    if transition is None:
        if submission.status != expected:
            return False
        raise submissions.TransitionRefused(f"{name!r} is not available to staff:{member.id}")
    if asks_resident(submission, transition):
        raise submissions.TransitionRefused("a correction request goes through ask_resident")
    text = _clean_comment(transition, comment)
    done = submissions.transition(
        session,
        submission,
        name,
        "staff",
        now,
        roles=roles_for(member, submission),
        actor_id=actor_id(member),
        comment=text,
        expected=expected,
    )
    if done and transition.notify:
        notify_resident(session, submission, transition, now, status_url, comment=text)
    return done


def ask_resident(
    session: Session,
    submission: Submission,
    member: StaffMember,
    name: str,
    *,
    expected: str,
    message: str,
    fields: list[str],
    now: dt.datetime,
    status_url: str | None = None,
) -> bool:
    """補正依頼: ask the resident to change the named fields (or add attachments to them)."""
    transition = next((t for t in available(member, submission) if t.name == name), None)
    if transition is None or not asks_resident(submission, transition):
        if submission.status != expected:
            return False
        raise submissions.TransitionRefused(f"{name!r} does not ask the resident")
    errors = {}
    message = message.strip()
    if bad_characters(message):
        errors["message"] = f"申請者へのお願いに{BAD_CHARACTERS}"
    elif not MESSAGE_MIN <= len(message) <= MESSAGE_MAX:
        errors["message"] = (
            f"申請者へのお願いを{MESSAGE_MIN}文字以上{MESSAGE_MAX}文字以内で入力してください"
        )
    known = {f.name for f in submissions.procedure_of(submission).fields()}
    chosen = [f for f in dict.fromkeys(fields) if f in known]
    if not chosen:
        errors["fields"] = "申請者に直してもらう項目を1つ以上選んでください"
    if errors:
        raise Invalid(errors)
    done = submissions.transition(
        session,
        submission,
        name,
        "staff",
        now,
        roles=roles_for(member, submission),
        actor_id=actor_id(member),
        comment=message,
        expected=expected,
    )
    if not done:
        return False
    session.add(
        CorrectionRequest(
            submission_id=submission.id,
            message=message,
            fields=chosen,
            requested_by=actor_id(member),
            requested_at=now,
            answers_before=dict(submission.answers),
        )
    )
    session.flush()
    if transition.notify:
        notify_resident(session, submission, transition, now, status_url, comment=message)
    return True


def corrections_of(session: Session, submission: Submission) -> list[CorrectionRequest]:
    return list(
        session.scalars(
            select(CorrectionRequest)
            .where(CorrectionRequest.submission_id == submission.id)
            .order_by(CorrectionRequest.id)
        )
    )


def resident_email(submission: Submission) -> str | None:
    """Where to tell the resident: the application's own e-mail answer, if it has one."""
    for f in submissions.procedure_of(submission).fields():
        value = submission.answers.get(f.name)
        if f.type == "email" and isinstance(value, str) and value:
            return value
    return None


def notify_resident(
    session: Session,
    submission: Submission,
    transition: Transition,
    now: dt.datetime,
    status_url: str | None,
    *,
    comment: str | None,
) -> None:
    """An e-mail (through the outbox) that the status changed, with what happens next. The status
    page shows the same; without an e-mail answer, the status page is where the resident sees it.
    """
    to = resident_email(submission)
    if not to:
        return
    # Written in the language the resident submitted in, not the clerk's (decision 0074).
    with in_language(submission.lang):
        subject, body = _status_mail(submission, transition, status_url, comment)
        outbox.enqueue(
            session,
            kind="submission_status",
            to=to,
            subject=subject,
            body=body,
            send_after=now,
            related=f"submission:{submission.public_id}",
            now=now,
        )


def _status_mail(
    submission: Submission, transition: Transition, status_url: str | None, comment: str | None
) -> tuple[str, str]:
    """Subject and body of the status mail, in the current language (`in_language`)."""
    _ = translate
    procedure = localized(submissions.procedure_of(submission))
    workflow = submissions.workflow_of(submission)
    state = localized_states(procedure.workflow, workflow.states)[transition.target]
    lines = [
        _("（このメールはデモンストレーション用のシステムから送られています）"),
        "",
        _(
            "申請「%(title)s」（受付番号 %(reference)s）の状況が変わりました。",
            title=procedure.title,
            reference=submission.reference,
        ),
        "",
        _("現在の状況：%(state)s", state=state.label),
        state.description,
    ]
    written_in_japanese = (
        [_("（担当課の職員が日本語で書いたお知らせです）")] if current_language() != "ja" else []
    )
    if comment and state.resident_turn:
        lines += ["", _("担当課からのお願い："), *written_in_japanese, comment]
    elif comment and transition.decision:
        lines += ["", _("担当課からのお知らせ："), *written_in_japanese, comment]
    if transition.target == "approved":
        lines += ["", _("このあと："), procedure.next_steps]
    if status_url:
        lines += ["", _("申請の状況と、担当課からのお願いの確認・再提出はこちら："), status_url]
    subject = _(
        "【申請の状況】%(state)s：%(title)s（%(reference)s）",
        state=state.label,
        title=procedure.title,
        reference=submission.reference,
    )
    return subject[:200], "\n".join(lines) + "\n"


@dataclass
class DecisionShare:
    department: str
    electronic: int
    paper: int

    @property
    def total(self) -> int:
        return self.electronic + self.paper

    @property
    def percent(self) -> float | None:
        return round(100 * self.electronic / self.total, 1) if self.total else None


def decision_shares(
    session: Session,
    catalog: CatalogData,
    departments: set[str],
    since: dt.datetime,
    until: dt.datetime,
) -> list[DecisionShare]:
    """Per department: decisions made electronically vs recorded from paper in [since, until).
    Which transitions decide, and how, comes from the catalog's workflows (`decision`)."""
    kinds = {
        t.name: t.decision for w in catalog.workflows.values() for t in w.transitions if t.decision
    }
    rows = session.execute(
        select(Submission.department, SubmissionEvent.transition, func.count())
        .join(Submission, Submission.id == SubmissionEvent.submission_id)
        .where(
            Submission.department.in_(departments),
            SubmissionEvent.transition.in_(kinds),
            SubmissionEvent.at >= since,
            SubmissionEvent.at < until,
        )
        .group_by(Submission.department, SubmissionEvent.transition)
    ).all()
    shares = {d: DecisionShare(d, 0, 0) for d in sorted(departments)}
    for department, name, count in rows:
        if kinds[name] == "electronic":
            shares[department].electronic += count
        else:
            shares[department].paper += count
    return list(shares.values())
