"""A channel made only of the engine's extension points (docs/decisions/0037): a volunteer who
helps a resident apply (an "assisted session" in miniature). Defined here, in the test, with a
blueprint of its own and `portal.submissions.extensions` / `portal.submissions.access` alone:
it adds a page before submit, acts after submit, shows an item on the status page and marks
who helped — and the resident's journey through the engine shows each of them."""

from __future__ import annotations

import pytest
from flask import Blueprint, redirect, render_template_string, request, session, url_for
from markupsafe import Markup
from sqlalchemy import select

from portal.db import db
from portal.submissions import access, extensions, service
from portal.submissions.extensions import (
    BeforeSubmitPage,
    ExtensionError,
    HelperKind,
    StatusItem,
    Submitted,
)
from portal.submissions.models import Submission
from portal.submissions.summary import MASKED
from tests.conftest import check_page, csrf_token
from tests.factories import submitted
from tests.web.test_journey import BASE, fill_all

pytestmark = pytest.mark.db

PROCEDURE = "juminhyo-copy"
KIND = "volunteer"

HELP_PAGE = """<!doctype html><html lang="ja"><head><meta charset="utf-8">
<title>お手伝いの記録</title></head><body><main><h1>お手伝いの記録</h1>
<form method="post"><input type="hidden" name="csrf_token" value="{{ csrf_token() }}">
<label for="helper">支援者の番号</label><input id="helper" name="helper">
<button type="submit">記録して確認に進む</button></form></main></body></html>"""


def volunteer_channel(app, submitted: list[str]) -> None:
    """The test channel: its blueprint and its registrations (nothing else)."""
    bp = Blueprint("volunteer", __name__, url_prefix="/volunteer")

    @bp.route("/<procedure_id>/helped", methods=["GET", "POST"])
    def helped(procedure_id: str):
        submission = access.draft_for(procedure_id)  # the engine's public request helper
        if submission is None:
            return "no draft", 404
        if request.method == "POST":
            extensions.mark_helped(submission, KIND, request.form["helper"])
            db.session.commit()
            session["volunteer_pages"] = [*session.get("volunteer_pages", []), submission.public_id]
            return redirect(url_for("submissions.check", procedure_id=procedure_id))
        return render_template_string(HELP_PAGE)

    def after_submit(event: Submitted) -> None:
        submitted.append(event.submission.reference or "")

    def status_item(submission: Submission, token: str) -> StatusItem | None:
        if not (submission.entered_by or "").startswith(f"{KIND}:"):
            return None
        return StatusItem(
            facts=(("支援の種類", "ボランティアによる入力支援"),),
            body=Markup('<p id="volunteer-item">お手伝いした方への感想をお寄せください。</p>'),
        )

    registry = app.extensions["submission_extensions"]
    registry.add_before_submit(
        BeforeSubmitPage(
            name="volunteer-helped",
            applies=lambda s: s.procedure_id == PROCEDURE,
            done=lambda s: s.public_id in session.get("volunteer_pages", []),
            url=lambda s: url_for("volunteer.helped", procedure_id=s.procedure_id),
        )
    )
    registry.add_after_submit(after_submit)
    registry.add_status_items(status_item)
    registry.add_helper_kind(
        HelperKind(KIND, lambda _session, helper_id: f"ボランティア（支援者番号 {helper_id}）")
    )
    app.register_blueprint(bp)


def test_a_channel_adds_itself_through_the_extension_points_alone(app, client):
    submitted: list[str] = []
    volunteer_channel(app, submitted)
    last = fill_all(client)
    assert last.headers["Location"] == f"{BASE}/check"

    # (a) The page before submit comes first: the check page sends the resident there, and a
    # POST to the check page submits nothing meanwhile.
    response = client.get(f"{BASE}/check")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/volunteer/{PROCEDURE}/helped"
    page = client.get(f"/volunteer/{PROCEDURE}/helped")
    token = csrf_token(page.text)
    response = client.post(f"{BASE}/check", data={"csrf_token": token, "declaration": "yes"})
    assert response.headers["Location"] == f"/volunteer/{PROCEDURE}/helped"
    with app.app_context():
        assert db.session.scalar(select(Submission.status)) == "draft"
    assert submitted == []

    # (e) The channel's page marks who helped, then hands back to the engine's check page.
    response = client.post(
        f"/volunteer/{PROCEDURE}/helped", data={"csrf_token": token, "helper": "V-07"}
    )
    assert response.headers["Location"] == f"{BASE}/check"
    check = check_page(client.get(f"{BASE}/check"))
    assert check.h1.get_text() == "申請内容の確認"

    # (b) After submit: the hook runs once, in the submitting transaction (it sees the
    # reference), and not again for a second, idempotent submit.
    token = csrf_token(client.get(f"{BASE}/check").text)
    response = client.post(f"{BASE}/check", data={"csrf_token": token, "declaration": "yes"})
    assert response.headers["Location"] == f"{BASE}/done"
    with app.app_context():
        submission = db.session.scalar(select(Submission))
        assert submission.status == "submitted"
        assert submission.entered_by == "volunteer:V-07"
        assert submitted == [submission.reference]
    done = check_page(client.get(f"{BASE}/done"))
    status_link = done.find("a", string=lambda s: s and "申請の状況を見る" in s)["href"]
    client.post(f"{BASE}/check", data={"csrf_token": token, "declaration": "yes"})
    assert len(submitted) == 1

    # (c) and (e) on the status page: the channel's facts and item, and who helped.
    status = check_page(client.get(status_link))
    facts = {
        row.dt.get_text(): row.dd.get_text(" ", strip=True) for row in status.select(".facts__row")
    }
    assert facts["支援の種類"] == "ボランティアによる入力支援"
    assert facts["入力の支援"] == "ボランティア（支援者番号 V-07）"
    assert facts["手数料"] == "600円（未払い）"  # the payments channel's fact, as before
    assert (
        status.select_one("#volunteer-item").get_text()
        == "お手伝いした方への感想をお寄せください。"
    )


def test_the_engine_refuses_what_it_cannot_honour(app):
    registry = app.extensions["submission_extensions"]
    with pytest.raises(ExtensionError):
        registry.add_signing_flow("bundle", lambda pending, user: ("", 204))  # bundles has it
    with pytest.raises(ExtensionError):
        registry.add_helper_kind(HelperKind("staff", lambda s, i: None))  # the counter's
    with app.test_request_context(), pytest.raises(ExtensionError):
        extensions.mark_helped(Submission(), "nobody", "1")


def test_a_channel_masks_sensitive_answers_through_the_answer_mask(app):
    """Point 6 (decision 0054): while a registered mask says so, the summary shows the answers
    of `sensitive` fields masked, on the server; otherwise as before."""
    app.extensions["submission_extensions"].add_answer_mask(
        lambda _submission: session.get("test_mask") is True
    )
    case = submitted(app, "ninshin-todoke")  # the mother's My Number, sensitive: true
    token = service.status_token(app.config["STATUS_LINK_KEY"], case)
    client = app.test_client()
    plain = check_page(client.get(f"/status/{token}", follow_redirects=True)).main.get_text()
    assert "0021" in plain and MASKED not in plain
    with client.session_transaction() as web_session:
        web_session["test_mask"] = True
    masked = check_page(client.get(f"/status/{token}", follow_redirects=True)).main.get_text()
    assert MASKED in masked and "0021" not in masked
    assert "岬 花子" in masked  # only the sensitive answers (the example mother)
