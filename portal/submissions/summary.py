"""The check-answers summary: one Python builder and one Jinja component
(`components/answers.html`: `answer_groups` and `check_summary`) for every page that shows an
application's answers — the resident's check, status and receipt pages, the counter's check,
print and confirmation pages, a bundle's check page and the staff case pages."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

from flask import current_app, has_app_context
from markupsafe import Markup

from portal import deadlines
from portal.catalog import logic
from portal.catalog.schema import Field, Procedure, Step
from portal.i18n import showing_localized, shown
from portal.localization import localized
from portal.submissions import extensions, service
from portal.submissions.models import Submission

NOT_ANSWERED = "未入力"
# A sensitive answer shown to someone who must not see it (a helper in an assisted session).
MASKED = "●●●●（ご本人だけに表示します）"
# A sensitive answer on a staff page, until a member reveals it with a reason (audited); types
# that mask themselves (a My Number, an account number) show their own partial mask instead.
STAFF_MASKED = "●●●●（理由を入力して表示できます）"

# The "who is this application for" page's file field (代理): the letter of delegation.
WHO_LETTER = Field(
    name="letter",
    type="file",
    label="委任状",
    hint="ご本人が署名した委任状を、写真またはPDFで添付してください（3つまで）。",
    max_files=3,
)


@dataclass(frozen=True)
class SummaryRow:
    label: str
    value: str


@dataclass(frozen=True)
class SummaryGroup:
    """One card of answers: `key` makes its heading's id, `change_url` its "変更する" link (None:
    no link), `note` an optional fragment under the answers."""

    key: str
    title: str
    rows: list[SummaryRow]
    change_url: str | None = None
    note: Markup | None = None


@dataclass(frozen=True)
class CheckSummary:
    """What a check-answers page shows before the declaration: the answers, the fee and the
    last day to file."""

    groups: list[SummaryGroup]
    procedure: Procedure
    fee: int | None = None
    deadline: dt.date | None = None
    overdue: bool = False  # the deadline is before the day the summary was made


def rows_of(
    fields: list[Field],
    answers: dict[str, Any],
    ctx: service.FormContext,
    masked: bool = False,
    staff: bool = False,
) -> list[SummaryRow]:
    """Label/value rows; with `masked`, a sensitive field's answer is replaced by MASKED here, on
    the server (the page never holds it); with `staff`, one whose type does not mask itself is
    replaced by STAFF_MASKED."""
    rows = []
    for f in fields:
        value = answers.get(f.name)
        if value is None:
            text = shown(NOT_ANSWERED)
        elif masked and f.sensitive:
            text = shown(MASKED)
        elif staff and f.sensitive and not f.field_type.self_masking:
            text = STAFF_MASKED
        else:
            text = f.field_type.display(f, value, ctx)
        rows.append(SummaryRow(f.label, text))
    return rows


def masks_sensitive(submission: Submission) -> bool:
    """Whether the current request's viewer sees sensitive answers masked (extension point 6)."""
    if not has_app_context() or extensions.EXTENSION_KEY not in current_app.extensions:
        return False
    return extensions.registry().masks_sensitive(submission)


def answer_groups(
    submission: Submission,
    ctx: service.FormContext,
    today: dt.date,
    *,
    change_url: Callable[[Step], str] | None = None,
    acting_change_url: str | None = None,
    skip: Collection[str] = (),
    omit_empty: bool = False,
    staff: bool = False,
    localize: bool = False,
) -> list[SummaryGroup]:
    """The answers grouped by step, as label/value rows (who the application is for first, when
    someone acted for someone else). `change_url(step)`: the link that changes a step's answers
    (None: no links); `skip`: field names not to show (a bundle's shared answers); `staff`: a
    staff page (sensitive answers masked until revealed, `rows_of`); `localize`: a resident's
    page (step titles, labels and chosen options in the resident's language)."""
    if localize:
        with showing_localized():
            return _answer_groups(
                submission, ctx, today, localized(service.procedure_of(submission)),
                change_url, acting_change_url, skip, omit_empty, staff,
            )  # fmt: skip
    return _answer_groups(
        submission, ctx, today, service.procedure_of(submission),
        change_url, acting_change_url, skip, omit_empty, staff,
    )  # fmt: skip


def _answer_groups(
    submission: Submission,
    ctx: service.FormContext,
    today: dt.date,
    procedure: Procedure,
    change_url: Callable[[Step], str] | None,
    acting_change_url: str | None,
    skip: Collection[str],
    omit_empty: bool,
    staff: bool,
) -> list[SummaryGroup]:
    masked = masks_sensitive(submission)
    groups = []
    if service.acting_for_someone(submission):
        groups.append(
            SummaryGroup(
                "acting-for", shown("代理人"), acting_rows(submission, ctx), acting_change_url
            )
        )
    for step in logic.applicable_steps(procedure, submission.answers, today):
        fields = [
            f
            for f in logic.applicable_fields(step, submission.answers, today)
            if f.name not in skip
        ]
        if omit_empty and not fields:
            continue
        groups.append(
            SummaryGroup(
                step.id,
                step.title,
                rows_of(fields, submission.answers, ctx, masked, staff),
                change_url(step) if change_url else None,
            )
        )
    return groups


def acting_rows(submission: Submission, ctx: service.FormContext) -> list[SummaryRow]:
    acting = submission.acting_for or {}
    if acting["delegation"] == "household_record":
        delegation = shown("住民記録で同じ世帯であることを確認")
    else:
        letter = WHO_LETTER.field_type.display(WHO_LETTER, acting.get("letter"), ctx)
        delegation = shown("委任状：%(files)s", files=letter)
    return [
        SummaryRow(shown("代理で申請した方"), acting["applicant_name"]),
        SummaryRow(shown("申請の対象となる方"), acting["subject_name"]),
        SummaryRow(shown("関係"), shown(service.RELATIONSHIPS[acting["relationship"]])),
        SummaryRow(shown("代理の確認"), delegation),
    ]


def deadline_of(procedure: Procedure, answers: dict[str, Any]) -> dt.date | None:
    """The last day to file, when the procedure's deadline counts from a date answered here."""
    counting = procedure.deadline.counting if procedure.deadline else None
    if counting is None or not counting.event_field or not answers.get(counting.event_field):
        return None
    return deadlines.deadline(dt.date.fromisoformat(answers[counting.event_field]), counting)


def check_summary(
    submission: Submission,
    ctx: service.FormContext,
    today: dt.date,
    *,
    change_url: Callable[[Step], str] | None = None,
    acting_change_url: str | None = None,
    localize: bool = False,
) -> CheckSummary:
    """Everything a check-answers page shows above its declaration (`components/answers.html`,
    macro `check_summary`)."""
    procedure = service.procedure_of(submission)
    deadline = deadline_of(procedure, submission.answers)
    return CheckSummary(
        groups=answer_groups(
            submission,
            ctx,
            today,
            change_url=change_url,
            acting_change_url=acting_change_url,
            localize=localize,
        ),
        procedure=localized(procedure) if localize else procedure,
        fee=logic.fee_amount(procedure, submission.answers, today),
        deadline=deadline,
        overdue=deadline is not None and deadline < today,
    )
