"""The registered 公金受取口座 offered as the payment account (issue 22, decision 0076).

A radio field with `public_funds: {option: koukin}` pays into the account the resident
registered for public payments (公金受取口座登録法; the city may ask the registry for it to pay
them a benefit, 第10条). The step page shows that account masked beside the option, so the
resident sees which account it is without typing one; the option is never chosen for them. When
the registry holds none, the option says so and choosing it is refused with a message (nothing
else typed is lost). Only the resident's own account: `holder: subject` reads it only when the
application is about the resident themself. Nothing is read or checked for a draft without a
signed-in resident, or for an application made for someone else: the option then stays as the
catalog words it (the city confirms the account).

Each read goes through the records service under the submission's reader id (logged), at most
once per request and person.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, g, has_app_context

from portal.catalog.fields import BankAccountType
from portal.catalog.schema import Field, Option, Step
from portal.i18n import translate
from portal.records.base import RegisteredAccount
from portal.submissions.drafts import acting_for_someone, procedure_of
from portal.submissions.forms import StepOutcome
from portal.submissions.models import Submission

# Not looked up: no signed-in resident, another person's application, or no records service.
UNKNOWN: Any = object()


def holder(field: Field, submission: Submission) -> str | None:
    """The record id whose 公金受取口座 the option uses; None when it is not the resident's own."""
    spec = field.public_funds
    if spec is None or not submission.applicant_person_id:
        return None
    if spec.holder == "subject" and (
        acting_for_someone(submission)
        or submission.subject_person_id != submission.applicant_person_id
    ):
        return None
    return submission.applicant_person_id


def registered(field: Field, submission: Submission) -> RegisteredAccount | None:
    """The registered account (None: none registered), or UNKNOWN when not looked up."""
    person_id = holder(field, submission)
    records = current_app.extensions.get("resident_records") if has_app_context() else None
    if person_id is None or records is None:
        return UNKNOWN
    cache = g.setdefault("public_funds_accounts", {})
    key = (submission.public_id, person_id)
    if key not in cache:
        cache[key] = records.public_funds_account(
            person_id,
            reader=f"submission:{submission.public_id}",
            purpose=f"{procedure_of(submission).title}：公金受取口座の確認",
        )
    return cache[key]


def masked(account: RegisteredAccount) -> str:
    """The account as the page shows it: bank, branch, kind, the last three digits, holder."""
    value = {
        "bank_code": account.bank_code,
        "branch_code": account.branch_code,
        "account_type": account.account_type,
        "account_number": account.account_number,
        "holder_kana": account.holder_kana,
    }
    bank, branch = BankAccountType.names(account.bank_code, account.branch_code)
    value.update(bank_name=bank or account.bank_code, branch_name=branch or account.branch_code)
    return " ".join(BankAccountType().display(None, value, None).split())


def with_account(field: Field, submission: Submission) -> Field:
    """The field as the page shows it: the 公金受取口座 option names the registered account, or
    says that none is registered."""
    spec = field.public_funds
    if spec is None:
        return field
    account = registered(field, submission)
    if account is UNKNOWN:
        return field
    if account is None:
        note = translate("公金受取口座の登録が確認できませんでした。別の口座を選んでください。")
    else:
        note = translate("登録済みの口座：%(account)s", account=masked(account))
    options = [
        Option(value=o.value, label=o.label, hint=f"{note}{o.hint or ''}")
        if o.value == spec.option
        else o
        for o in field.options
    ]
    return field.model_copy(update={"options": options})


NOT_REGISTERED = (
    "公金受取口座が登録されていません。マイナポータルで登録してから申請するか、"
    "別の口座を選んでください"
)


def check(step: Step, outcome: StepOutcome, submission: Submission) -> None:
    """Refuse the 公金受取口座 option when the registry holds none for the resident."""
    for field in step.fields:
        spec = field.public_funds
        if spec is None or outcome.values.get(field.name) != spec.option:
            continue
        if registered(field, submission) is None:
            outcome.errors[field.name] = translate(NOT_REGISTERED)
