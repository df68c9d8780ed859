"""Phone and e-mail remembered with consent (issue 22): only when the resident ticks
「次の申請でも使う」 on the confirmation page are they kept, to fill the next application; the box is
never ticked for them; they are deleted from 申請一覧."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.db import db
from portal.submissions import service
from portal.submissions.models import RememberedContact, Submission
from tests.conftest import check_page
from tests.web.test_identity_features import begin, draft_of, login, post, stub  # noqa: F401

# the stub card provider of the identity tests, installed in the app for every test here
pytestmark = [pytest.mark.db, pytest.mark.usefixtures("stub")]

KOSEKI = "/procedures/koseki-shomei"
SHOTOKU = "/procedures/shotoku-shomei"
BOX = "入力した電話番号とメールアドレスを、次の申請でも使う"


def _complete_koseki(app, client, phone: str) -> None:
    begin(client, KOSEKI)
    draft = draft_of(app, "koseki-shomei", "sub-adult")
    with app.app_context():
        row = db.session.get(Submission, draft.id)
        procedure = service.procedure_of(row)
        row.answers = dict(procedure.example_answers) | {"phone": phone}
        row.steps_done = [s.id for s in procedure.steps]
        db.session.commit()


def _contact(app):
    with app.app_context():
        return db.session.scalar(select(RememberedContact))


def test_a_contact_is_remembered_only_with_consent_and_fills_the_next_application(app, client):
    login(client, "adult")
    _complete_koseki(app, client, "09011112222")
    page = check_page(client.get(f"{KOSEKI}/check"))
    box = page.find("input", attrs={"name": "remember_contact"})
    assert box is not None and not box.has_attr("checked")  # never ticked for the resident
    assert page.find("label", string=BOX)

    response = post(client, f"{KOSEKI}/check", {"declaration": "yes"})
    assert response.headers["Location"] == f"{KOSEKI}/done"
    assert _contact(app) is None  # not asked: not kept

    begin(client, SHOTOKU)
    post(client, f"{SHOTOKU}/who", {"who": "self"})
    page = check_page(client.get(f"{SHOTOKU}/apply/subject"))
    assert page.find("input", attrs={"name": "phone"})["value"] == ""


def test_the_remembered_contact_fills_the_next_phone_and_can_be_deleted(app, client):
    login(client, "adult")
    _complete_koseki(app, client, "09011112222")
    post(client, f"{KOSEKI}/check", {"declaration": "yes", "remember_contact": "yes"})
    assert _contact(app).phone == "09011112222"

    begin(client, SHOTOKU)
    post(client, f"{SHOTOKU}/who", {"who": "self"})
    page = check_page(client.get(f"{SHOTOKU}/apply/subject"))
    assert page.find("input", attrs={"name": "phone"})["value"] == "09011112222"
    assert "前の申請で「次の申請でも使う」を選んだ連絡先です" in page.get_text()

    other = login(app.test_client(), "parent")  # someone else's draft gets nothing of it
    begin(other, KOSEKI)
    page = check_page(other.get(f"{KOSEKI}/apply/requester"))
    assert page.find("input", attrs={"name": "phone"})["value"] == ""

    listing = check_page(client.get("/my/applications"))
    assert "09011112222" in listing.get_text()
    response = post(client, "/my/contact/forget", {})
    assert response.headers["Location"] == "/my/applications"
    assert _contact(app) is None
    listing = check_page(client.get("/my/applications"))
    assert "09011112222" not in listing.get_text()
    assert "記憶していた電話番号とメールアドレスを削除しました。" in listing.get_text()
