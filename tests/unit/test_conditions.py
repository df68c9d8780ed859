"""Conditional questions on the page that answers them (portal.submissions.conditions, decision
0064): which are hidden for what the page holds, the truth table the browser shows them by, and
a question behind another hidden question."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from werkzeug.datastructures import MultiDict

from portal.catalog import load_catalog
from portal.catalog.schema import Field
from portal.submissions import conditions

CATALOG = load_catalog(Path(__file__).resolve().parents[2] / "procedure_catalog.yaml")
TODAY = dt.date(2026, 11, 22)


def _step(procedure_id: str, step_id: str):
    return CATALOG.procedure(procedure_id).step(step_id)


def test_a_chain_of_questions_follows_the_first_answer():
    fields = _step("jidoteate-shometsu", "reason").fields
    shown = conditions.page_conditions(fields, {}, None, (), TODAY)
    assert not shown["destination"].visible and not shown["new_address"].visible
    typed = MultiDict({"reason": "move-out", "destination": "domestic"})
    shown = conditions.page_conditions(fields, {}, typed, (), TODAY)
    assert shown["destination"].visible and shown["new_address"].visible
    # Another reason hides 転出先, and the new address behind it, whatever 転出先 still says.
    typed = MultiDict({"reason": "other", "destination": "domestic"})
    shown = conditions.page_conditions(fields, {}, typed, (), TODAY)
    assert not shown["destination"].visible and not shown["new_address"].visible
    assert shown["reason_detail"].visible
    answers = conditions.without_hidden(
        fields, {"reason": "other", "destination": "domestic"}, TODAY
    )
    assert "destination" not in answers and answers["reason"] == "other"


def test_the_table_of_a_checkbox_trigger_lists_every_set_that_needs_the_question():
    fields = _step("risai-shomei", "damage").fields
    table = json.loads(conditions.page_conditions(fields, {}, None, (), TODAY)["flood_depth"].table)
    # Only the option the condition names matters (nine options would be 513 combinations).
    assert table == {
        "on": [["damage_parts", "many", ["flood-above-floor"]]],
        "show": [[["flood-above-floor"]]],
    }


def test_a_condition_that_counts_the_checked_options_takes_them_all():
    changes = next(f for f in _step("hoiku-genkyo", "children").fields if f.name == "changes")
    detail = Field(name="change_detail", type="textarea", label="内容", when="len(changes) > 0")
    fields = [changes, detail]
    table = json.loads(
        conditions.page_conditions(fields, {}, None, (), TODAY)["change_detail"].table
    )
    options = [o.value for o in next(f for f in fields if f.name == "changes").options]
    assert table["on"] == [["changes", "many", options]]
    assert [None] not in table["show"] and [[]] not in table["show"]
    assert len(table["show"]) == 2 ** len(options) - 1  # every set but the empty one


def test_a_detail_asked_for_some_options_only_lists_those():
    """保育施設等の現況届 asks what changed only for changes no later question states (a change
    of work is stated by the employer, the hours and the 就労証明書 on the next page)."""
    fields = _step("hoiku-genkyo", "children").fields
    shown = conditions.page_conditions(fields, {}, MultiDict({"changes": "work"}), (), TODAY)
    assert not shown["change_detail"].visible
    typed = MultiDict([("changes", "work"), ("changes", "household")])
    assert conditions.page_conditions(fields, {}, typed, (), TODAY)["change_detail"].visible


def test_a_date_trigger_has_no_table_and_is_updated_on_the_server():
    fields = _step("kaigo-koshin", "current").fields
    shown = conditions.page_conditions(fields, {}, None, (), TODAY)
    assert shown["late_kind"].table is None


def test_a_locked_trigger_is_an_answer_not_a_question_of_the_page():
    fields = _step("jidoteate-shometsu", "reason").fields
    assert "destination" not in conditions.page_conditions(
        fields, {"reason": "move-out"}, None, {"reason"}, TODAY
    )


def test_a_question_the_page_did_not_show_is_newly_asked():
    form = MultiDict([("_conditional", "a"), ("_conditional", "b"), ("_asked", "b")])
    assert conditions.newly_asked(form, "a")
    assert not conditions.newly_asked(form, "b")
    assert not conditions.newly_asked(MultiDict(), "a")  # a form without the page's markers
