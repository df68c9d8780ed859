"""Conditional questions on the page that answers them (issue 22, decision 0064).

A field whose `when:` names another field of the same page (「その他」 → details) is always in the
page's markup, inside a wrapper that is `hidden` while its condition is false for what the page
holds now (the stored answers, or what was just typed). So it is never shown, nor marked 必須,
when it does not apply.

Without JavaScript the resident answers the trigger and presses 次へ進む: a question that now
applies but was not on the page (the wrapper's `_asked` input was disabled) is not an error; the
page comes back with it shown, focused and a notice. With JavaScript (portal.js), the wrapper
carries a truth table of the triggers' form values for which the field applies
(`data-conditional`; for checkboxes, of the options the condition names), and the script shows
and hides it live. Only choice triggers (radio, yes/no, select, checkboxes) have a table; a
question behind another trigger (a date) is updated on 次へ進む only.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from werkzeug.datastructures import MultiDict

from portal.catalog import logic
from portal.catalog.schema import Field
from portal.rules import RuleEvaluationError

CONDITIONAL = "_conditional"  # one hidden input per conditional question on the page
ASKED = "_asked"  # one per conditional question shown (disabled while it is hidden)
ONE_OF = frozenset({"radio", "yesno", "select"})
MANY_OF = frozenset({"checkboxes"})
MAX_COMBINATIONS = 256  # a larger table is not sent: the question is updated on 次へ進む
NEWLY_ASKED_NOTICE = (
    "答えに合わせて、質問を追加しました。追加した質問に答えてから「次へ進む」を押してください。"
)


@dataclass(frozen=True)
class Shown:
    """How the page shows one conditional question: `visible` now, and `table` (JSON for the
    script, None when its triggers cannot be evaluated in the browser)."""

    visible: bool
    table: str | None
    label: str


class _Form:
    """The little a choice field's `read` needs of a form context."""

    def __init__(self, form: MultiDict) -> None:
        self.form = form
        self.files: MultiDict = MultiDict()


def same_page_triggers(f: Field, names: set[str]) -> set[str]:
    """The fields of this page (`names`, without the locked ones) that `f`'s condition reads."""
    if f.when is None:
        return set()
    return set(logic.rule(f.when).names) & (names - {f.name})


def conditional_fields(fields: Sequence[Field], locked: Iterable[str] = ()) -> dict[str, set[str]]:
    """The page's conditional questions and the fields of the page each depends on."""
    names = {f.name for f in fields} - set(locked)
    found = {}
    for f in fields:
        if f.name in names:
            triggers = same_page_triggers(f, names)
            if triggers:
                found[f.name] = triggers
    return found


def without_hidden(
    fields: Sequence[Field], answers: dict[str, Any], today: dt.date
) -> dict[str, Any]:
    """`answers` without the answers of the page's fields that do not apply to them (a
    question behind another conditional question goes with it)."""
    current = dict(answers)
    for _ in range(len(fields) + 1):
        dropped = [
            f.name
            for f in fields
            if f.name in current and not logic.field_applies(f, current, today)
        ]
        if not dropped:
            break
        for name in dropped:
            current.pop(name)
    return current


def page_answers(
    fields: Sequence[Field],
    stored: dict[str, Any],
    form: MultiDict | None,
    locked: Iterable[str],
    today: dt.date,
) -> dict[str, Any]:
    """What the page holds now: the stored answers, with the triggers as typed when the page
    is shown again from a form (a POST, or one kept after errors)."""
    answers = dict(stored)
    triggers = set().union(*conditional_fields(fields, locked).values())
    if form:
        reader = _Form(form)
        for f in fields:
            if f.name in triggers and f.type != "file":
                answers[f.name] = f.field_type.read(f, reader, f.name).value  # type: ignore[arg-type]
    return without_hidden(fields, answers, today)


def page_conditions(
    fields: Sequence[Field],
    stored: dict[str, Any],
    form: MultiDict | None,
    locked: Iterable[str],
    today: dt.date,
) -> dict[str, Shown]:
    """How each conditional question of the page is shown (see the module's docstring)."""
    locked = set(locked)
    conditional = conditional_fields(fields, locked)
    if not conditional:
        return {}
    now = page_answers(fields, stored, form, locked, today)
    by_name = {f.name: f for f in fields}
    return {
        name: Shown(
            visible=logic.field_applies(by_name[name], now, today),
            table=_table(by_name[name], [by_name[t] for t in sorted(triggers)], stored, today),
            label=by_name[name].label,
        )
        for name, triggers in conditional.items()
    }


def _relevant(trigger: Field, source: str) -> list[str]:
    """The options of a checkbox trigger that can change the rule: those it names (`"roof" in
    damage_parts`), or all of them when it names none or counts them (`len(changes) > 0`)."""
    values = [option.value for option in trigger.choices()]
    named = [v for v in values if f'"{v}"' in source or f"'{v}'" in source]
    return values if not named or "len(" in source else named


def _candidates(f: Field, source: str) -> list[Any] | None:
    """The form values a trigger may have: None (unanswered or hidden), then each option; for
    checkboxes each set of the options that matter, in the options' order."""
    if f.type in ONE_OF:
        return [None, *(option.value for option in f.choices())]
    if f.type in MANY_OF:
        values = _relevant(f, source)
        subsets: list[Any] = [None]
        for size in range(len(values) + 1):
            subsets.extend(list(c) for c in itertools.combinations(values, size))
        return subsets
    return None


def _table(f: Field, triggers: list[Field], stored: dict[str, Any], today: dt.date) -> str | None:
    """JSON: the triggers (name and whether one or many values) and the combinations of their
    form values for which `f` applies, the other answers as stored."""
    source = f.when or ""
    candidates = [_candidates(t, source) for t in triggers]
    count = 1
    for options in candidates:
        if options is None:
            return None
        count *= len(options)
    if count > MAX_COMBINATIONS:
        return None
    show = []
    for combination in itertools.product(*candidates):  # type: ignore[arg-type]
        answers = dict(stored)
        for trigger, raw in zip(triggers, combination, strict=True):
            if raw is None:
                answers.pop(trigger.name, None)
                continue
            form = MultiDict([(trigger.name, v) for v in (raw if isinstance(raw, list) else [raw])])
            value = trigger.field_type.read(trigger, _Form(form), trigger.name).value  # type: ignore[arg-type]
            answers[trigger.name] = value
        if _applies(f, answers, today):
            show.append(list(combination))
    on = [
        [t.name, "many", _relevant(t, source)] if t.type in MANY_OF else [t.name, "one"]
        for t in triggers
    ]
    return json.dumps({"on": on, "show": show}, ensure_ascii=False, separators=(",", ":"))


def _applies(f: Field, answers: dict[str, Any], today: dt.date) -> bool:
    try:
        return logic.field_applies(f, answers, today)
    except RuleEvaluationError:
        return False


def newly_asked(form: MultiDict, name: str) -> bool:
    """A conditional question the posted page had but did not show (no JavaScript): it now
    applies, and is asked before it is checked."""
    return name in form.getlist(CONDITIONAL) and name not in form.getlist(ASKED)
