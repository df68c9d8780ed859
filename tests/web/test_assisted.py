"""Assisted sessions, first slice (issue 21): helpers registered by the city, the resident's
consent, the hand-over before the PIN and before a sensitive step, the banner, the end (on the
shared device, from "my applications", by the clock, by revoking the helper) and the masking of
sensitive answers for the helper, on the server."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import urlsplit

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select

from portal import audit, clock
from portal.assisted.models import AssistHelper, AssistSession
from portal.catalog import logic
from portal.db import db
from portal.mock_jpki.ca import MockCA
from portal.submissions import summary
from portal.submissions.forms import FormContext
from portal.submissions.models import Submission
from tests.conftest import check_page, csrf_token
from tests.factories import staff_sign_in
from tests.web.test_identity_features import StubProvider

NOW = dt.datetime(2026, 6, 1, 1, 30, tzinfo=dt.UTC)  # 10:30 in Japan
END_OF_DAY = dt.datetime(2026, 6, 1, 14, 59, 59, tzinfo=dt.UTC)  # 23:59:59 in Japan
HELPER = {
    "name": "渡辺 健",  # the card of the "care-manager" demo person
    "birth_date": "1980-10-30",
    "organisation": "デジタル推進委員",
    "valid_from": "2026-04-01",
    "valid_until": "2027-03-31",
}
BANNER = "渡辺 健さん（デジタル推進委員）がお手伝いしています"
NINSHIN = "/procedures/ninshin-todoke"
MOTHER_STEP = f"{NINSHIN}/apply/mother"  # holds the mother's My Number (sensitive: true)
MY_NUMBER = "123456789018"


@pytest.fixture
def stub(app, tmp_path):
    provider = StubProvider(MockCA(tmp_path / "ca"))
    app.extensions["identity_provider"] = provider
    return provider


@pytest.fixture(autouse=True)
def now():
    clock.set_override(NOW)
    return NOW


def form_post(client, page_url: str, url: str, data: dict | None = None):
    token = csrf_token(client.get(page_url).text)
    return client.post(url, data={**(data or {}), "csrf_token": token})


@pytest.fixture
def office(app, staff):
    """The administrator's client (signed in once: a TOTP code is never accepted twice)."""
    return staff_sign_in(app.test_client(), "admin", staff["admin"])


def register(app, office, **changes) -> AssistHelper:
    response = form_post(office, "/staff/helpers", "/staff/helpers", HELPER | changes)
    assert response.status_code == 303, response.text
    with app.app_context():
        return db.session.scalars(select(AssistHelper).order_by(AssistHelper.id.desc())).first()


def card_login(client, page_url: str, next_url: str, persona: str):
    """The card login started from a page's form (its `next`), then the card service's answer."""
    response = form_post(client, page_url, "/login", {"next": next_url})
    assert response.status_code == 302
    response = client.get(f"/login/callback?as={persona}")
    assert response.headers["Location"] == next_url
    return client.get(next_url)


def helper_signed_in(app, persona="care-manager"):
    client = app.test_client()
    response = card_login(client, "/assist/", "/assist/welcome", persona)
    return client, response


def consent(client, scope="procedure:ninshin-todoke", duration="day", resident="elderly"):
    """「お手伝いを始める」, the hand-over, the resident's card login and consent."""
    response = form_post(client, "/assist/", "/assist/start")
    assert response.headers["Location"] == "/assist/hand-over"
    page = check_page(client.get("/assist/hand-over"))
    assert page.h1.get_text() == "ここからはご本人が入力してください"
    check_page(card_login(client, "/assist/hand-over", "/assist/consent", resident))
    response = form_post(
        client, "/assist/consent", "/assist/consent", {"scope": scope, "duration": duration}
    )
    assert response.status_code == 303, response.text
    assert urlsplit(response.headers["Location"]).path == "/assist/give-back"
    page = check_page(client.get(response.headers["Location"]))
    assert page.h1.get_text() == "お手伝いの方に端末をお渡しください"
    return form_post(client, response.headers["Location"], "/assist/give-back", {"next": NINSHIN})


def assisted(app, office):
    register(app, office)
    client, _ = helper_signed_in(app)
    assert consent(client).headers["Location"] == NINSHIN
    return client


def form_values(page: BeautifulSoup) -> dict[str, str]:
    """What a browser would send from the page's main form (as filled)."""
    form = page.find("form", attrs={"method": "post", "action": None}) or page.main.form
    data: dict[str, str] = {}
    for field in form.find_all(["input", "select", "textarea"]):
        name = field.get("name")
        if not name:
            continue
        if field.name == "select":
            chosen = field.find("option", selected=True)
            data[name] = chosen["value"] if chosen else ""
        elif field.name == "textarea":
            data[name] = field.get_text()
        elif field.get("type") in ("radio", "checkbox"):
            if field.has_attr("checked"):
                data[name] = field["value"]
        else:
            data[name] = field.get("value", "")
    return data


def audit_entries(app, action: str) -> list[audit.AuditEntry]:
    with app.app_context():
        return list(
            db.session.scalars(select(audit.AuditEntry).where(audit.AuditEntry.action == action))
        )


def the_session(app) -> AssistSession:
    with app.app_context():
        return db.session.scalars(select(AssistSession)).one()


# --- helpers known to the city ----------------------------------------------------------------


def test_an_administrator_registers_a_helper_who_is_recognised_by_their_card(
    app, staff, office, stub
):
    client = office
    page = check_page(client.get("/staff/helpers"))
    assert page.h1.get_text() == "お手伝いの方"
    response = form_post(
        client, "/staff/helpers", "/staff/helpers", HELPER | {"valid_until": "2026-03-31"}
    )
    page = check_page(response, 400)
    assert "有効期間の終了日は、開始日より後の日付" in page.get_text()
    assert page.find("input", attrs={"name": "name"})["value"] == "渡辺 健"  # nothing lost
    response = form_post(
        client, "/staff/helpers", "/staff/helpers", HELPER | {"birth_date": "昭和"}
    )
    assert "生年月日を、例のように入力してください" in check_page(response, 400).get_text()

    helper = register(app, office, birth_date="１９８０年１０月３０日")
    assert (helper.name, helper.birth_date, helper.organisation) == (
        "渡辺 健",
        dt.date(1980, 10, 30),
        "デジタル推進委員",
    )
    listing = check_page(client.get("/staff/helpers")).main.get_text()
    assert "渡辺 健" in listing and "有効" in listing
    (entry,) = audit_entries(app, "helper_registered")
    assert entry.target == f"helper:{helper.public_id}" and entry.actor.startswith("staff:")

    clerk = staff_sign_in(app.test_client(), "kosodate-clerk", staff["kosodate-clerk"])
    assert clerk.get("/staff/helpers").status_code == 404

    helper_client, response = helper_signed_in(app)
    assert response.headers["Location"] == "/assist/"
    page = check_page(helper_client.get("/assist/"))
    assert page.find("button", string="お手伝いを始める")
    assert "渡辺 健さん" in page.main.get_text()
    with helper_client.session_transaction() as web_session:
        assert "user" not in web_session  # the helper never acts as a resident here
    helpers_sign_ins = [e for e in audit_entries(app, "sign_in") if e.actor.startswith("helper:")]
    assert [e.actor for e in helpers_sign_ins] == [f"helper:{helper.public_id}"]


def test_an_unregistered_expired_or_revoked_helper_cannot_start(app, staff, office, stub):
    client, response = helper_signed_in(app, persona="adult")  # nobody registered 大原 太郎
    page = check_page(response, 403)
    assert "お手伝いの方として市に登録されていません" in page.get_text()
    assert form_post(client, "/assist/", "/assist/start").headers["Location"] == "/assist/"

    # Valid until today: signed in at 23:50, the registration has run out at 00:05.
    helper = register(app, office, valid_until="2026-06-01")
    clock.set_override(dt.datetime(2026, 6, 1, 14, 50, tzinfo=dt.UTC))
    client, _ = helper_signed_in(app)
    clock.set_override(dt.datetime(2026, 6, 1, 15, 5, tzinfo=dt.UTC))
    page = check_page(form_post(client, "/assist/", "/assist/start"), 403)
    assert "有効期限が過ぎています" in page.get_text()
    assert "有効期限が過ぎています" in check_page(client.get("/assist/")).get_text()
    _, response = helper_signed_in(app)
    assert "有効期限が過ぎています" in check_page(response, 403).get_text()

    clock.set_override(NOW)
    client, _ = helper_signed_in(app)
    consent(client)
    assert BANNER in client.get(NINSHIN).text
    response = form_post(office, "/staff/helpers", f"/staff/helpers/{helper.public_id}/revoke")
    assert response.status_code == 303
    # The open session ended with the registration: the next request has no resident in it.
    response = client.get(NINSHIN)
    assert response.headers["Location"] == "/assist/"
    with client.session_transaction() as web_session:
        assert "user" not in web_session and "assist" not in web_session
    assert the_session(app).end_reason == "helper_revoked"
    page = check_page(form_post(client, "/assist/", "/assist/start"), 403)
    assert "登録が取り消されています" in page.get_text()
    assert [e.action for e in audit_entries(app, "helper_revoked")] == ["helper_revoked"]


# --- consent, banner, end ---------------------------------------------------------------------


def test_the_resident_consents_in_plain_words_and_the_consent_is_recorded(app, staff, office, stub):
    helper = register(app, office)
    client, _ = helper_signed_in(app)
    form_post(client, "/assist/", "/assist/start")
    page = check_page(card_login(client, "/assist/hand-over", "/assist/consent", "elderly"))
    text = page.main.get_text()
    assert "中村 キヨさん" in text and "渡辺 健さん（デジタル推進委員）" in text
    assert "暗証番号" in text and "●●●●" in text and "ほかの申請" in text
    assert "今日の終わり（23時59分）まで" in text
    # やさしい日本語, through the portal's language choice (kept for the rest of the session).
    easy = check_page(client.get("/assist/consent?lang=easy", follow_redirects=True)).main
    assert easy.h1.get_text() == "お手伝（てつだ）いを たのむ ことの 確認（かくにん）"
    assert "お手伝（てつだ）いの 人（ひと）に 見（み）えない もの" in easy.get_text()
    assert (
        "暗証番号（あんしょうばんごう）" in easy.get_text() and "中村 キヨさん" in easy.get_text()
    )
    # English: each choice of time reads as one sentence, its end in the English date format.
    english = check_page(client.get("/assist/consent?lang=en", follow_redirects=True)).main
    assert english.h1.get_text() == "Agreeing to be helped"
    hour = english.find("input", attrs={"name": "duration", "value": "1h"})
    label = english.find("label", attrs={"for": hour["id"]}).get_text(" ", strip=True)
    assert re.fullmatch(r"1 hour \(until [A-Z][a-z]+ \d{1,2}, \d{4}, \d{1,2}:\d{2}\)", label), label
    client.get("/assist/consent?lang=ja")
    response = form_post(client, "/assist/consent", "/assist/consent", {"duration": "day"})
    assert "お手伝いを頼む手続を選んでください" in check_page(response, 400).get_text()
    assert not audit_entries(app, "consent_given")

    response = form_post(
        client,
        "/assist/consent",
        "/assist/consent",
        {"scope": "procedure:ninshin-todoke", "duration": "day"},
    )
    assert response.status_code == 303
    assist = the_session(app)
    assert (assist.helper_id, assist.resident_sub, assist.scope_kind, assist.scope_id) == (
        helper.id,
        "sub-elderly",
        "procedure",
        "ninshin-todoke",
    )
    assert (assist.consented_at, assist.expires_at) == (NOW, END_OF_DAY)
    (entry,) = audit_entries(app, "consent_given")
    assert entry.actor == "resident:sub-elderly" and entry.target == f"assist:{assist.public_id}"
    assert f"helper:{helper.public_id}" in entry.reason and "ninshin-todoke" in entry.reason

    # An hour's consent ends at 11:30, never past the end of the day.
    client, _ = helper_signed_in(app)
    consent(client, duration="1h")
    with app.app_context():
        newest = db.session.scalars(select(AssistSession).order_by(AssistSession.id.desc())).first()
        assert newest.expires_at == NOW + dt.timedelta(hours=1)


def test_every_page_shows_who_is_helping_and_an_end_button(app, staff, office, stub):
    client = assisted(app, office)
    response = form_post(client, NINSHIN, f"{NINSHIN}/start")
    step = response.headers["Location"]
    for url in (NINSHIN, step, "/"):
        page = check_page(client.get(url))
        bar = page.find(attrs={"aria-label": "お手伝い中"})
        assert BANNER in bar.get_text(), url
        assert bar.find("button", string="お手伝いを終了する"), url
    # Outside the consent's scope, and the resident's other applications: not for the helper.
    assert client.get("/procedures/juminhyo-copy").status_code == 404
    assert client.get("/my/applications").status_code == 404


def test_ending_on_the_device_drops_the_resident_at_once(app, staff, office, stub):
    client = assisted(app, office)
    step = form_post(client, NINSHIN, f"{NINSHIN}/start").headers["Location"]
    page = check_page(form_post(client, step, "/assist/end"))
    assert page.h1.get_text() == "お手伝いを終了しました"
    assert page.find(attrs={"aria-label": "お手伝い中"}) is None  # no banner on this page
    with client.session_transaction() as web_session:
        # Only the helper's sign-in, and the digests of the paths the session opened.
        assert set(web_session) <= {"assist_helper", "assist_closed", "csrf_token", "_flashes"}
    assert client.get(step).status_code == 404  # a page the session opened
    assert BANNER not in client.get(NINSHIN).text
    assist = the_session(app)
    assert assist.ended_at == NOW and assist.end_reason == "resident"
    (entry,) = audit_entries(app, "consent_ended")
    assert entry.actor == "resident:sub-elderly" and entry.reason == "resident"


def test_logging_out_ends_the_consent_too(app, office, stub):
    client = assisted(app, office)
    response = form_post(client, NINSHIN, "/logout")
    assert response.headers["Location"] == "/assist/"
    assert "ご本人はログアウトしました" in check_page(client.get("/assist/")).get_text()
    with client.session_transaction() as web_session:
        assert "user" not in web_session and "assist_helper" in web_session
    assist = the_session(app)
    assert assist.ended_at == NOW and assist.end_reason == "resident"
    assert [e.reason for e in audit_entries(app, "consent_ended")] == ["resident"]


def test_revoking_from_my_applications_ends_the_helpers_access_on_the_next_request(
    app, office, stub
):
    client = assisted(app, office)
    step = form_post(client, NINSHIN, f"{NINSHIN}/start").headers["Location"]
    assert client.get(step).status_code == 200

    phone = app.test_client()  # the resident's own phone, later
    assert phone.get("/login/callback?as=elderly").status_code == 302
    page = check_page(phone.get("/my/applications"))
    assert "渡辺 健さん（デジタル推進委員）" in page.main.get_text()
    assist = the_session(app)
    response = form_post(phone, "/my/applications", f"/assist/consents/{assist.public_id}/end")
    assert response.headers["Location"] == "/my/applications"
    assert "同意を取り消す" not in check_page(phone.get("/my/applications")).get_text()

    assert client.get(step).status_code == 404  # a page the session opened
    assert "お手伝いは終了しました" in check_page(client.get("/assist/")).get_text()
    with client.session_transaction() as web_session:
        assert "user" not in web_session and "drafts" not in web_session
    # Someone else cannot end it (nor learn that it exists).
    stranger = app.test_client()
    stranger.get("/login/callback?as=adult")
    url = f"/assist/consents/{assist.public_id}/end"
    assert form_post(stranger, "/my/applications", url).status_code == 404


def test_a_consent_past_its_end_time_no_longer_works(app, staff, office, stub):
    register(app, office)
    client, _ = helper_signed_in(app)
    consent(client, duration="1h")
    assert BANNER in client.get(NINSHIN).text
    for minutes in (20, 40):  # active all along (the login's idle limit is 30 minutes)
        clock.set_override(NOW + dt.timedelta(minutes=minutes))
        assert BANNER in client.get(NINSHIN).text
    clock.set_override(NOW + dt.timedelta(hours=1))
    response = client.get(NINSHIN)
    assert response.headers["Location"] == "/assist/"
    assert the_session(app).end_reason == "expired"
    (entry,) = audit_entries(app, "consent_ended")
    assert entry.actor == "system" and entry.reason == "expired"


# --- secrets stay with the resident -----------------------------------------------------------


def _fill_all_but_the_mother_step(app) -> None:
    with app.app_context():
        procedure = app.extensions["catalog"].procedure("ninshin-todoke")
        row = db.session.scalars(select(Submission).order_by(Submission.id.desc())).first()
        answers = {k: v for k, v in procedure.example_answers.items() if k != "my_number"}
        row.answers = logic.prune(procedure, answers, clock.today_local())
        row.steps_done = [s.id for s in procedure.steps if s.id != "mother"]
        db.session.commit()


def test_a_sensitive_step_is_handed_over_and_its_answer_masked_for_the_helper(
    app, staff, office, stub
):
    client = assisted(app, office)
    form_post(client, NINSHIN, f"{NINSHIN}/start")
    _fill_all_but_the_mother_step(app)

    _resident_enters_the_my_number(client)

    check = check_page(client.get(f"{NINSHIN}/check")).main.get_text()
    assert summary.MASKED in check and "9018" not in check and MY_NUMBER not in check
    assert "いすみ市" in check  # the other answers are there
    assert client.get(MOTHER_STEP).status_code == 303  # and the step stays the resident's

    # The resident sees their own answer (as the engine shows a My Number: the last four).
    form_post(client, f"{NINSHIN}/check", "/assist/resident", {"next": f"{NINSHIN}/check"})
    check = check_page(client.get(f"{NINSHIN}/check")).main.get_text()
    assert summary.MASKED not in check and "9018" in check


def _resident_enters_the_my_number(client) -> None:
    """The helper never sees the step with the My Number: the hand-over comes first; the
    resident enters it; saving it hands the device back."""
    response = client.get(MOTHER_STEP)
    assert response.status_code == 303
    assert urlsplit(response.headers["Location"]).path == "/assist/resident"
    page = check_page(client.get(response.headers["Location"]))
    assert page.h1.get_text() == "ここからはご本人が入力してください"
    assert page.find("input", attrs={"name": "my_number"}) is None
    response = form_post(
        client, response.headers["Location"], "/assist/resident", {"next": MOTHER_STEP}
    )
    assert response.headers["Location"] == MOTHER_STEP

    page = check_page(client.get(MOTHER_STEP))  # the resident's turn
    assert "いまは、ご本人が入力する番です" in page.get_text()
    data = form_values(page) | {"my_number": MY_NUMBER}
    response = client.post(MOTHER_STEP, data=data)
    assert response.status_code == 302, response.text
    location = urlsplit(response.headers["Location"])
    assert location.path == "/assist/give-back"  # saved: the device goes back to the helper
    form_post(
        client, response.headers["Location"], "/assist/give-back", {"next": f"{NINSHIN}/check"}
    )


def test_an_application_filed_in_a_session_says_who_helped(app, staff, office, stub):
    client = assisted(app, office)
    form_post(client, NINSHIN, f"{NINSHIN}/start")
    _fill_all_but_the_mother_step(app)
    _resident_enters_the_my_number(client)
    response = form_post(client, f"{NINSHIN}/check", f"{NINSHIN}/check", {"declaration": "yes"})
    assert response.headers["Location"] == f"{NINSHIN}/done", response.text
    done = check_page(client.get(f"{NINSHIN}/done"))
    status_link = done.find("a", string=lambda s: s and "申請の状況を見る" in s)["href"]
    phone = app.test_client()  # the resident, later, on their own phone
    assert phone.get("/login/callback?as=elderly").status_code == 302
    status = check_page(phone.get(status_link, follow_redirects=True))
    assert status.h1.get_text() == "申請の状況", status.h1
    facts = {
        row.dt.get_text(): row.dd.get_text(" ", strip=True) for row in status.select(".facts__row")
    }
    assert facts["入力の支援"].startswith("渡辺 健さん（デジタル推進委員）がお手伝いしました")
    assert "9018" in status.main.get_text()  # not masked outside the session
    listing = check_page(phone.get("/my/applications"))
    (helped,) = listing.select(".application-helper")
    assert helped.get_text().startswith(
        "入力の支援：渡辺 健さん（デジタル推進委員）がお手伝いしました"
    )
    assist = the_session(app)
    with app.app_context():
        row = db.session.scalars(select(Submission).order_by(Submission.id.desc())).first()
        assert row.entered_by == f"helper:{assist.public_id}"
        public_id = row.public_id
    clerk = staff_sign_in(app.test_client(), "kosodate-clerk", staff["kosodate-clerk"])
    case = check_page(clerk.get(f"/staff/submissions/{public_id}")).main.get_text()
    assert "入力の支援：渡辺 健さん（デジタル推進委員）がお手伝いしました" in case
    assert "2026年06月01日 10時30分" in case and "妊娠の届出" in case


def test_the_summary_masks_only_when_asked(app):
    """rows_of: a sensitive answer becomes MASKED; a field without the flag is shown."""
    with app.app_context():
        procedure = app.extensions["catalog"].procedure("kaigo-kogaku")
        payment = procedure.step("payment")
        account = procedure.field("bank_account")
        assert account is not None and account.sensitive
        value = {  # an account typed instead of the example's 公金受取口座
            "bank_code": "4893",
            "branch_code": "012",
            "account_type": "ordinary",
            "account_number": "0012345",
            "holder_kana": "ナカムラ キヨ",
        }
        services = app.extensions["submission_services"]
        ctx = FormContext(db.session, Submission(answers={}), services, clock.now())
        shown = summary.rows_of(payment.fields, {"bank_account": value}, ctx)
        masked = summary.rows_of(payment.fields, {"bank_account": value}, ctx, masked=True)
        row = next(r for r in masked if r.label == account.label)
        assert row.value == summary.MASKED
        plain = next(r for r in shown if r.label == account.label)
        assert "ナカムラ キヨ" in plain.value and "345" in plain.value
        assert "ナカムラ" not in row.value and "345" not in row.value


# --- after the session, the helper keeps nothing ------------------------------------------------


def _file_in_a_session(app, office, client=None):
    """The helper's browser in a session that files 妊娠の届出: every page of it opened once."""
    client = client or assisted(app, office)
    form_post(client, NINSHIN, f"{NINSHIN}/start")
    _fill_all_but_the_mother_step(app)
    _resident_enters_the_my_number(client)
    response = form_post(client, f"{NINSHIN}/check", f"{NINSHIN}/check", {"declaration": "yes"})
    assert response.headers["Location"] == f"{NINSHIN}/done", response.text
    check_page(client.get(f"{NINSHIN}/done"))
    with client.session_transaction() as web_session:
        paths = list(web_session["assist_paths"])
    return client, paths


@pytest.mark.parametrize("how", ["end", "revoke", "expiry"])
def test_every_url_of_an_ended_session_answers_404_to_the_helper(app, staff, office, stub, how):
    register(app, office)
    client, _ = helper_signed_in(app)
    consent(client, duration="1h")
    client, paths = _file_in_a_session(app, office, client)
    # The list is the session's: what it opened, and the status link of what it filed (which the
    # done page showed to the helper, who may have noted it) with its page on "my applications".
    assert {f"{NINSHIN}/check", f"{NINSHIN}/done", MOTHER_STEP} <= set(paths)
    status_links = [p for p in paths if p.startswith("/status/")]
    assert len(status_links) == 1 and any(p.startswith("/my/applications/") for p in paths)
    assert not any(p.startswith(("/assist", "/static", "/login")) or p == "/" for p in paths)
    assist = the_session(app)
    from portal.assisted.mode import digest

    assert set(assist.touched) == {digest(p) for p in paths}  # kept on the server, as digests
    assert not any(status_links[0] in h for h in assist.touched)

    if how == "end":
        form_post(client, f"{NINSHIN}/done", "/assist/end")
    elif how == "revoke":
        phone = app.test_client()
        assert phone.get("/login/callback?as=elderly").status_code == 302
        url = f"/assist/consents/{assist.public_id}/end"
        assert form_post(phone, "/my/applications", url).status_code == 303
    else:  # the browser in use all along (the login's idle limit is 30 minutes)
        for minutes in (20, 40, 60):
            clock.set_override(NOW + dt.timedelta(minutes=minutes))
            client.get("/")
    for path in [*paths, status_links[0] + "/receipt"]:
        assert client.get(path).status_code == 404, path
    # The helper signed in on another device, without the session's browser: 404 as well.
    other, _ = helper_signed_in(app)
    for path in paths:
        assert other.get(path).status_code == 404, path
    # Nothing else is closed to the helper, and the resident's own phone opens the status link.
    assert client.get("/").status_code == 200 and client.get(NINSHIN).status_code == 200
    phone = app.test_client()
    assert phone.get("/login/callback?as=elderly").status_code == 302
    assert phone.get(status_links[0]).status_code == 200


# --- the PIN and its tries are the resident's ---------------------------------------------------


def test_the_card_service_is_never_shown_in_the_helpers_turn(app, staff, office, stub):
    """The card service's page (the PIN, and after a wrong one how many tries are left) opens
    only in the resident's turn: in the helper's, the hand-over comes first, GET or POST."""
    client = assisted(app, office)
    authorize = "/mock-jpki/authorize?client_id=portal&response_type=code"
    for response in (
        client.get(authorize),
        form_post(client, NINSHIN, authorize, {"card": "elderly", "pin": "0000"}),
    ):
        assert response.status_code == 303
        location = urlsplit(response.headers["Location"])
        assert location.path == "/assist/resident" and "mock-jpki" in location.query
    form_post(client, NINSHIN, "/assist/resident", {"next": NINSHIN})
    assert client.get(authorize).status_code != 303  # the resident's turn: the service answers


def test_a_locked_card_ends_on_a_plain_page_with_the_counter_to_book(app, stub, monkeypatch):
    from portal.identity.providers import ProviderError

    def locked():
        raise ProviderError("card_locked")

    monkeypatch.setattr(stub, "finish_login", locked)
    client = app.test_client()
    page = check_page(client.get("/login/callback"), 400)
    text = page.main.get_text()
    assert page.h1.get_text() == "カードがロックされています"
    assert "市民課 窓口（本庁舎1階 1番窓口）で、初期化できます" in text
    assert "回間違えると" not in text and "もう一度ログインする" not in text  # no count, no retry
    link = page.find("a", string="市民課の窓口を予約する")["href"]
    booking = check_page(client.get(link))
    chosen = booking.find("input", attrs={"value": "mynumber-pin"})
    assert chosen is not None and chosen.has_attr("checked"), link


# --- practice mode (スマホ教室) -------------------------------------------------------------------


def _counts(app) -> tuple[int, int, int]:
    from sqlalchemy import func

    from portal.uploads.models import Upload, UploadBlob

    with app.app_context():
        return tuple(  # type: ignore[return-value]
            db.session.scalar(select(func.count()).select_from(model))
            for model in (Submission, Upload, UploadBlob)
        )


def test_a_practice_run_completes_a_procedure_and_leaves_nothing(app, staff, office, stub):
    from portal.assisted.models import PracticeClass

    register(app, office)
    helper, _ = helper_signed_in(app)
    before = _counts(app)
    response = form_post(helper, "/assist/", "/assist/practice/start")
    assert response.headers["Location"] == "/assist/practice"
    page = check_page(helper.get("/assist/practice"))
    assert page.find(attrs={"aria-label": "練習"}), "「練習」 on every page"
    join = urlsplit(page.find("code").get_text()).path

    # A participant's phone joins from the link, logs in with a demo card, practises.
    phone = app.test_client()
    assert phone.get(join).headers["Location"] == "/assist/practice"
    assert phone.get("/login/callback?as=elderly").status_code == 302
    start = form_post(phone, NINSHIN, f"{NINSHIN}/start")
    assert start.status_code == 302
    with app.app_context():
        draft = db.session.scalars(select(Submission).order_by(Submission.id.desc())).first()
        assert draft.entered_by.startswith("practice:")
    _fill_all_but_the_mother_step(app)
    page = check_page(phone.get(MOTHER_STEP))
    assert page.find(attrs={"aria-label": "練習"})
    response = phone.post(MOTHER_STEP, data=form_values(page) | {"my_number": MY_NUMBER})
    assert response.headers["Location"] == f"{NINSHIN}/check", response.status_code
    assert check_page(phone.get(f"{NINSHIN}/check")).find(attrs={"aria-label": "練習"})
    response = form_post(phone, f"{NINSHIN}/check", f"{NINSHIN}/check", {"declaration": "yes"})
    assert response.headers["Location"] == "/assist/practice/done/ninshin-todoke"
    done = check_page(phone.get(response.headers["Location"]))
    assert done.h1.get_text() == "練習はここまでです"
    assert "市には送信していません" in done.main.get_text()
    assert _counts(app) == before  # no submission, no draft, no file
    assert phone.get(f"{NINSHIN}/done").status_code in (302, 303)  # nothing was filed

    # A run left half-way is deleted when the helper ends the class; the phone leaves it too.
    form_post(phone, NINSHIN, f"{NINSHIN}/start")
    assert _counts(app) != before
    form_post(helper, "/assist/practice", "/assist/practice/end")
    assert _counts(app) == before
    response = phone.get(NINSHIN)
    assert response.headers["Location"] == "/assist/practice"
    with phone.session_transaction() as web_session:
        assert "user" not in web_session and "drafts" not in web_session
    with app.app_context():
        (practice,) = db.session.scalars(select(PracticeClass))
        assert practice.ended_at == NOW and practice.runs == 1
    assert phone.get(join).status_code == 404  # the class is over


# --- staff see sensitive answers masked until revealed -------------------------------------------


def test_staff_see_sensitive_answers_masked_until_they_reveal_them_with_a_reason(app):
    """As the My Number reveal always did: a case page shows a sensitive answer masked (a bank
    account's last three digits, as its type masks itself; other sensitive answers not at all),
    and 「理由を記録して…を表示する」 shows them whole, once, audited with the reason."""
    from tests.factories import staff_members, submitted

    secret = staff_members(app, {"sosai-clerk": [("clerk", "shimin")]})["sosai-clerk"]
    # 葬祭費 paid into an account the applicant typed (the example uses her 公金受取口座)
    account = {
        "bank_code": "0134",
        "branch_code": "243",
        "account_type": "ordinary",
        "account_number": "1234567",
        "holder_kana": "ミサキ ハナコ",
    }
    case = submitted(
        app, "sosaihi-kokuho", extra={"account_choice": "other", "bank_account": account}
    )
    number = case.answers["bank_account"]["account_number"]
    client = staff_sign_in(app.test_client(), "sosai-clerk", secret)
    url = f"/staff/submissions/{case.public_id}"
    page = check_page(client.get(url))
    text = page.main.get_text()
    assert f" {number} " not in text and " " + "●" * (len(number) - 3) + number[-3:] in text
    button = page.find("button", string=lambda s: s and s.startswith("理由を記録して"))
    assert "口座番号" in button.get_text()
    response = form_post(client, url, f"{url}/reveal", {"reason": "振込先の確認のため"})
    revealed = check_page(response).find(id="revealed-title").parent.get_text()
    assert f" {number} " in revealed
    (entry,) = audit_entries(app, "reveal")
    assert entry.reason == "振込先の確認のため" and number not in (entry.reason or "")


def test_a_sensitive_answer_without_a_mask_of_its_own_is_masked_for_staff(app):
    from portal.catalog.schema import Field

    with app.app_context():
        services = app.extensions["submission_services"]
        ctx = FormContext(db.session, Submission(answers={}), services, clock.now())
        address = Field(name="where", type="text", label="居所", sensitive=True)
        (row,) = summary.rows_of([address], {"where": "いすみ市岬町1"}, ctx, staff=True)
        assert row.value == summary.STAFF_MASKED
        (row,) = summary.rows_of([address], {"where": "いすみ市岬町1"}, ctx)
        assert row.value == "いすみ市岬町1"  # the resident's own pages


def test_a_helper_practises_the_procedure_of_an_ended_session(app, staff, office, stub):
    """The pages of a procedure are the same paths for a practice draft: open in a class; the
    status link of what the ended session filed stays closed."""
    client, paths = _file_in_a_session(app, office)
    form_post(client, f"{NINSHIN}/done", "/assist/end")
    assert client.get(f"{NINSHIN}/check").status_code == 404
    form_post(client, "/assist/", "/assist/practice/start")
    step = form_post(client, NINSHIN, f"{NINSHIN}/start").headers["Location"]
    assert check_page(client.get(step)).find(attrs={"aria-label": "練習"})
    assert client.get(f"{NINSHIN}/check").status_code in (302, 303)  # not done yet: no 404
    (status_link,) = [p for p in paths if p.startswith("/status/")]
    assert client.get(status_link).status_code == 404


def test_a_class_nobody_ended_is_ended_overnight_with_its_drafts(app, staff, office, stub):
    from portal.assisted.models import PracticeClass
    from portal.assisted.practice import expired_classes_duty

    register(app, office)
    helper, _ = helper_signed_in(app)
    before = _counts(app)
    form_post(helper, "/assist/", "/assist/practice/start")
    form_post(helper, NINSHIN, f"{NINSHIN}/start")  # a run left half-way, the tablet put away
    assert _counts(app) != before
    with app.app_context():
        assert expired_classes_duty() is None  # the class is still on
    clock.set_override(END_OF_DAY + dt.timedelta(seconds=1))
    with app.app_context():
        assert expired_classes_duty() == "practice: 1 class(es) ended, 1 draft(s) deleted"
        (practice,) = db.session.scalars(select(PracticeClass))
        assert practice.ended_at is not None
    assert _counts(app) == before


def test_the_language_and_furigana_the_helper_chose_stay_for_the_hand_over(app, office, stub):
    """A volunteer helping a resident who reads English (or needs ふりがな) chooses it before
    「お手伝いを始める」: the hand-over and consent pages are in it; when the session ends, the
    next resident's pages start in Japanese again."""
    register(app, office)
    client, _ = helper_signed_in(app)
    client.get("/assist/?lang=en")
    form_post(client, "/assist/", "/assist/start")
    page = check_page(client.get("/assist/hand-over"))
    assert page.html["lang"] == "en"
    client.get("/assist/?lang=easy")
    client.get("/assist/?furigana=on")
    form_post(client, "/assist/", "/assist/start")
    page = check_page(client.get("/assist/hand-over"))
    assert page.html["lang"] == "ja" and page.find("ruby") is not None  # easy, with ふりがな
    check_page(card_login(client, "/assist/hand-over", "/assist/consent", "elderly"))
    response = form_post(
        client,
        "/assist/consent",
        "/assist/consent",
        {"scope": "procedure:ninshin-todoke", "duration": "day"},
    )
    assert response.status_code == 303, response.text
    form_post(client, "/assist/", "/assist/end")
    page = check_page(client.get("/assist/"))
    assert page.html["lang"] == "ja" and page.find("ruby") is None
