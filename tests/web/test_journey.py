"""The 住民票 journey through the Flask test client: steps, errors, check answers, submit,
confirmation and status page; plus the engine's guards (skipping ahead, double submit)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.db import db
from portal.submissions.models import Submission, SubmissionEvent
from tests.conftest import check_page, csrf_token

pytestmark = pytest.mark.db

BASE = "/procedures/juminhyo-copy"
ANSWERS = {
    "applicant": {
        "applicant_name": "大原 太郎",
        "applicant_kana": "オオハラ タロウ",
        "phone": "０９０-１２３４-５６７８",
        "relationship": "self",
    },
    "target": {"scope": "household-all", "items": ["householder", "honseki"]},
    "copies-purpose": {"copies": "２", "purpose": "employment"},
    "delivery": {"delivery": "counter"},
}


def start(client) -> str:
    page = client.get(BASE)
    check_page(page)
    response = client.post(f"{BASE}/start", data={"csrf_token": csrf_token(page.text)})
    assert response.status_code == 302
    assert response.headers["Location"] == f"{BASE}/apply/applicant"
    return response.headers["Location"]


def post_step(client, step_id: str, data: dict, query: str = ""):
    url = f"{BASE}/apply/{step_id}{query}"
    token = csrf_token(client.get(url).text)
    return client.post(url, data={**data, "csrf_token": token})


def fill_all(client):
    start(client)
    for step_id, data in ANSWERS.items():
        response = post_step(client, step_id, data)
        assert response.status_code == 302, (step_id, response.text[:500])
    return response


def test_complete_journey(client, app):
    last = fill_all(client)
    assert last.headers["Location"] == f"{BASE}/check"
    soup = check_page(client.get(f"{BASE}/check"))
    text = soup.get_text()
    assert "大原 太郎" in text and "09012345678" in text
    assert "世帯主の氏名と続柄、本籍と筆頭者" in text
    assert "2通" in text and "600円" in text

    page = client.get(f"{BASE}/check")
    response = client.post(
        f"{BASE}/check", data={"csrf_token": csrf_token(page.text), "declaration": "yes"}
    )
    assert response.headers["Location"] == f"{BASE}/done"
    done = check_page(client.get(f"{BASE}/done"))
    reference = done.select_one(".reference").get_text()
    assert reference.startswith("ISM-") and len(reference) == 13
    assert done.select_one("svg.qr[role=img]")["aria-label"].endswith(f"{reference}）")
    status_link = done.find("a", string=lambda s: s and "申請の状況を見る" in s)["href"]

    with app.app_context():
        submission = db.session.scalar(select(Submission))
        assert submission.status == "submitted"
        assert submission.fee_amount == 600
        assert submission.payment_status == "unpaid"
        assert submission.appointment_status == "none"
        assert submission.answers["copies"] == 2
        assert submission.snapshot["procedure"]["id"] == "juminhyo-copy"
        assert submission.snapshot["workflow"]["initial"] == "draft"
        assert [e.transition for e in submission.events] == ["submit"]

    status = client.get(status_link.replace("http://localhost", ""))
    soup = check_page(status)
    assert status.headers["Referrer-Policy"] == "no-referrer"
    assert soup.select_one(".status-tag").get_text() == "申請済み"
    assert reference in soup.get_text()
    receipt = check_page(client.get(status_link.replace("http://localhost", "") + "/receipt"))
    assert "受付票" in receipt.h1.get_text()


def test_errors_keep_everything_typed(client):
    start(client)
    response = post_step(
        client,
        "applicant",
        {"applicant_name": "大原 太郎", "applicant_kana": "", "phone": "12345"},
    )
    soup = check_page(response)
    assert soup.title.get_text().startswith("エラー：")
    summary = soup.select_one("[data-error-summary]")
    assert summary.has_attr("autofocus") and summary["tabindex"] == "-1"
    links = {a["href"]: a.get_text() for a in summary.select("a")}
    assert links == {
        "#f-applicant_kana": "氏名（フリガナ）を入力してください",
        "#f-phone": "日中に連絡のつく電話番号は0から始まる10桁または11桁の電話番号を入力してください",
        "#f-relationship": "住民票が必要な方との関係を選んでください",
    }
    assert soup.find(id="f-applicant_name")["value"] == "大原 太郎"
    phone = soup.find(id="f-phone")
    assert phone["value"] == "12345"
    assert phone["aria-invalid"] == "true"
    assert phone["aria-describedby"] == "f-phone-hint f-phone-error"
    assert soup.find(id="f-relationship").find_parent("fieldset")["aria-describedby"]


def test_conditional_field_is_required_only_when_it_applies(client):
    start(client)
    post_step(client, "applicant", ANSWERS["applicant"])
    response = post_step(client, "target", {"scope": "household-some"})
    soup = check_page(response)
    assert "住民票に載せる方の氏名を入力してください" in soup.select_one(".error-summary").text
    response = post_step(client, "target", {"scope": "self", "members": "ignored"})
    assert response.status_code == 302


def test_skipping_ahead_by_url_leads_back_to_the_first_incomplete_step(client):
    start(client)
    post_step(client, "applicant", ANSWERS["applicant"])
    response = client.get(f"{BASE}/apply/delivery")
    assert response.headers["Location"] == f"{BASE}/apply/target"
    response = client.get(f"{BASE}/check")
    assert response.headers["Location"] == f"{BASE}/apply/target"


def test_change_link_returns_to_check_answers(client):
    fill_all(client)
    soup = check_page(client.get(f"{BASE}/check"))
    change = soup.find("a", href=f"{BASE}/apply/copies-purpose?return=check")
    assert change is not None and "（通数と使いみち）" in change.get_text()
    response = post_step(
        client, "copies-purpose", {"copies": "3", "purpose": "pension"}, "?return=check"
    )
    assert response.headers["Location"] == f"{BASE}/check"
    assert "900円" in client.get(f"{BASE}/check").text


def test_declaration_is_required(client):
    fill_all(client)
    page = client.get(f"{BASE}/check")
    response = client.post(f"{BASE}/check", data={"csrf_token": csrf_token(page.text)})
    soup = check_page(response)
    assert soup.title.get_text().startswith("エラー：")
    assert "申請内容の確認にチェックを入れてください" in soup.select_one(".error-summary").text


def test_submitting_twice_gives_one_submission(client, app):
    fill_all(client)
    token = csrf_token(client.get(f"{BASE}/check").text)
    first = client.post(f"{BASE}/check", data={"csrf_token": token, "declaration": "yes"})
    second = client.post(f"{BASE}/check", data={"csrf_token": token, "declaration": "yes"})
    assert first.headers["Location"] == second.headers["Location"] == f"{BASE}/done"
    # After submission the steps are closed: a replayed step POST changes nothing.
    replay = client.post(
        f"{BASE}/apply/copies-purpose",
        data={"csrf_token": token, "copies": "9", "purpose": "other"},
    )
    assert replay.headers["Location"] == f"{BASE}/done"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Submission)) == 1
        assert db.session.scalar(select(func.count()).select_from(SubmissionEvent)) == 1
        assert db.session.scalar(select(Submission.answers))["copies"] == 2


def test_missing_csrf_token_is_refused_in_japanese(client):
    response = client.post(f"{BASE}/start")
    soup = check_page(response, 400)
    assert soup.h1.get_text() == "ページの有効期限が切れました"


def test_status_page_with_unknown_token_is_404(client):
    check_page(client.get("/status/not-a-real-token"), 404)


def test_the_signed_csrf_token_is_made_once_per_session_and_checked_as_before(app):
    """Decision 0089: the token a session's pages carry is Flask-WTF's, signed once per session
    token; each session has its own; a token of another session, or one signed with another
    key, is refused; after a new SECRET_KEY the pages carry a new token that works."""
    import portal.web

    resident, other = app.test_client(), app.test_client()
    tokens = [csrf_token(resident.get(BASE).text) for _ in range(2)]
    assert tokens[0] == tokens[1]
    assert csrf_token(other.get(BASE).text) != tokens[0]
    refused = other.post(f"{BASE}/start", data={"csrf_token": tokens[0]})
    assert refused.status_code == 400
    started = resident.post(f"{BASE}/start", data={"csrf_token": tokens[0]})
    assert started.status_code == 302
    app.secret_key = app.config["SECRET_KEY"] = "rotated-" + "k" * 56
    assert resident.post(f"{BASE}/start", data={"csrf_token": tokens[0]}).status_code == 400
    fresh = csrf_token(resident.get(BASE).text)
    assert fresh != tokens[0]
    assert resident.post(f"{BASE}/start", data={"csrf_token": fresh}).status_code == 302
    assert len(portal.web._SIGNED_CSRF) >= 3
