"""Conditional questions on the page that answers them (issue 22, decision 0064): 住民票の写し's
「使いみち（具体的に）」 is asked only when 使いみち is 「その他」, on the same page.

Without JavaScript the question is in the page but hidden (and not marked 必須 where anyone can
see it); answering その他 and pressing 次へ進む shows it with a notice instead of an error; once
shown it is required; when it does not apply nothing typed in it is required or kept. The wrapper
carries the table portal.js shows it by."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from portal.db import db
from portal.submissions.models import Submission
from tests.conftest import check_page
from tests.web.test_journey import ANSWERS, BASE, post_step, start

pytestmark = pytest.mark.db

STEP = "copies-purpose"


def _reach_step(client) -> None:
    start(client)
    for step_id in ("applicant", "target"):
        assert post_step(client, step_id, ANSWERS[step_id]).status_code == 302


def _wrapper(page):
    hidden_input = page.find("input", attrs={"name": "_conditional", "value": "purpose_detail"})
    return hidden_input.parent


def _answers(app) -> dict:
    with app.app_context():
        return db.session.scalar(select(Submission)).answers


def test_the_question_is_hidden_until_its_answer_needs_it(client):
    _reach_step(client)
    page = check_page(client.get(f"{BASE}/apply/{STEP}"))
    wrapper = _wrapper(page)
    assert wrapper.has_attr("hidden")
    assert wrapper.find("input", attrs={"name": "purpose_detail"}) is not None
    assert wrapper.find("input", attrs={"name": "_asked"}).has_attr("disabled")
    table = json.loads(wrapper["data-conditional"])
    assert table == {"on": [["purpose", "one"]], "show": [["other"]]}
    # Everything a resident sees on the page: 使いみち（具体的に） is not among them.
    visible = [tag for tag in page.select(".label, .legend") if not tag.find_parent(hidden=True)]
    assert all("具体的に" not in tag.get_text() for tag in visible)


def test_without_javascript_the_question_is_asked_after_the_answer_that_needs_it(client, app):
    _reach_step(client)
    # The page as the browser posts it without the script: the question was not shown.
    form = {"copies": "1", "purpose": "other", "_conditional": "purpose_detail"}
    response = post_step(client, STEP, form)
    assert response.status_code == 200, response.text[:300]
    page = check_page(response)
    assert not page.select("[data-error-summary]")  # not an error: a new question
    assert "質問を追加しました" in page.get_text()
    wrapper = _wrapper(page)
    assert not wrapper.has_attr("hidden")
    assert not wrapper.find("input", attrs={"name": "_asked"}).has_attr("disabled")
    detail = wrapper.find("input", attrs={"name": "purpose_detail"})
    assert detail.has_attr("autofocus") and detail.has_attr("required")
    assert "必須" in wrapper.find("label").get_text()
    selected = page.find("select", attrs={"name": "purpose"}).find("option", selected=True)
    assert selected["value"] == "other"  # the answer is kept
    assert "purpose" not in _answers(app)  # nothing saved yet

    # Shown and left empty, it is required.
    asked = form | {"_asked": "purpose_detail"}
    page = check_page(post_step(client, STEP, asked))
    assert "使いみち（具体的に）を入力してください" in page.get_text()

    assert post_step(client, STEP, asked | {"purpose_detail": "資格試験"}).status_code == 302
    assert _answers(app)["purpose_detail"] == "資格試験"


def test_a_question_that_does_not_apply_is_neither_required_nor_kept(client, app):
    _reach_step(client)
    form = {"copies": "1", "purpose": "pension", "_conditional": "purpose_detail"}
    # Typed before the answer changed (the script hid it again): not required, not kept.
    response = post_step(client, STEP, form | {"purpose_detail": "書きかけ", "_asked": "x"})
    assert response.status_code == 302, response.text[:300]
    answers = _answers(app)
    assert answers["purpose"] == "pension" and "purpose_detail" not in answers
    # Back on the page, the question is hidden again.
    assert _wrapper(check_page(client.get(f"{BASE}/apply/{STEP}"))).has_attr("hidden")


def test_a_form_without_the_page_markers_is_checked_as_before(client):
    """A client that does not post the page's markers (the API, older tests) gets the error."""
    _reach_step(client)
    page = check_page(post_step(client, STEP, {"copies": "1", "purpose": "other"}))
    assert "使いみち（具体的に）を入力してください" in page.get_text()
