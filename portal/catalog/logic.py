"""Evaluating a procedure against answers: which steps and fields apply, and the fee.

Pure functions over catalog models and an answers dict; used by the submission engine, the
catalog check and the tests alike, so the rule language is applied the same way everywhere.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache
from typing import Any

from portal.catalog.schema import Field, Procedure, Step
from portal.office_days import next_open_day, office_closed
from portal.rules import Rule, RuleEvaluationError, compile_rule


@lru_cache(maxsize=2048)
def rule(source: str) -> Rule:
    """Compile once per distinct source; names were already checked by the catalog check."""
    return compile_rule(source)


def context(answers: dict[str, Any], today: dt.date) -> dict[str, Any]:
    return {**answers, "__today__": today, "__office_closed__": office_closed}


def step_applies(step: Step, answers: dict[str, Any], today: dt.date) -> bool:
    return step.when is None or rule(step.when).is_true(context(answers, today))


def field_applies(field: Field, answers: dict[str, Any], today: dt.date) -> bool:
    return field.when is None or rule(field.when).is_true(context(answers, today))


def applicable_steps(procedure: Procedure, answers: dict[str, Any], today: dt.date) -> list[Step]:
    return [step for step in procedure.steps if step_applies(step, answers, today)]


def applicable_fields(step: Step, answers: dict[str, Any], today: dt.date) -> list[Field]:
    return [field for field in step.fields if field_applies(field, answers, today)]


def check_errors(step: Step, answers: dict[str, Any], today: dt.date) -> dict[str, str]:
    """The messages of the step's `checks:` whose rule is false, by field. A rule that cannot
    be evaluated (it needs an answer that is missing) is left to the required-field errors."""
    errors: dict[str, str] = {}
    for check in step.checks:
        try:
            ok = rule(check.rule).is_true(context(answers, today))
        except RuleEvaluationError:
            continue
        if not ok and check.field not in errors:
            errors[check.field] = check.message
    return errors


EXAMPLE_DATE = re.compile(r"^today([+-]\d+)?( open)?$")


def resolve_examples(value: Any, today: dt.date) -> Any:
    """Example answers may give dates relative to the day they are used: "today", "today+7",
    "today-30" (a move date must fall near today whenever the tests run); "today+8 open" is the
    first day the city offices are open on or after today+8 (a visit date)."""
    if isinstance(value, str):
        match = EXAMPLE_DATE.match(value)
        if match:
            day = today + dt.timedelta(days=int(match.group(1) or 0))
            return (next_open_day(day) if match.group(2) else day).isoformat()
        return value
    if isinstance(value, dict):
        return {k: resolve_examples(v, today) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve_examples(v, today) for v in value]
    return value


def prune(procedure: Procedure, answers: dict[str, Any], today: dt.date) -> dict[str, Any]:
    """Drop answers to fields that no longer apply (a changed answer can hide earlier ones)."""
    kept: dict[str, Any] = {}
    for step in applicable_steps(procedure, answers, today):
        for field in applicable_fields(step, answers, today):
            if field.name in answers:
                kept[field.name] = answers[field.name]
    return kept


def fee_amount(procedure: Procedure, answers: dict[str, Any], today: dt.date) -> int | None:
    """The fee in yen from the catalog's fee rule, or None when the procedure has no fee."""
    if procedure.fee is None:
        return None
    amount = rule(procedure.fee.rule).evaluate(context(answers, today))
    if not isinstance(amount, int) or isinstance(amount, bool) or amount < 0:
        raise ValueError(f"fee rule of {procedure.id} gave {amount!r}, not a yen amount")
    return amount
