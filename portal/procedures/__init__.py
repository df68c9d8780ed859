"""Procedure hooks: the little code some procedures need beyond what YAML can say.

A module in this package registers hooks for one procedure id with `@hooks_for("id")`. Hooks are
checked against the catalog at start-up (an id the catalog does not have stops start-up). Today a
hook can add cross-field errors to a step (`validate_step`); fee formulas and derived data come
here too when YAML cannot say them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

StepValidator = Callable[[str, dict[str, Any]], dict[str, str]]

VALIDATORS: dict[str, StepValidator] = {}


def hooks_for(procedure_id: str) -> Callable[[StepValidator], StepValidator]:
    def register(function: StepValidator) -> StepValidator:
        VALIDATORS[procedure_id] = function
        return function

    return register


def validate_step(procedure_id: str, step_id: str, answers: dict[str, Any]) -> dict[str, str]:
    """Cross-field errors for a step, keyed by input path; empty when the procedure has none."""
    validator = VALIDATORS.get(procedure_id)
    return validator(step_id, answers) if validator else {}


def check_hooks(procedure_ids: set[str]) -> list[str]:
    from portal.procedures import hoiku_riyou  # noqa: F401  (registers its hooks)

    return [
        f"portal/procedures: hooks registered for unknown procedure {pid!r}"
        for pid in VALIDATORS
        if pid not in procedure_ids
    ]
