"""Texts built in Python follow the resident's language (decision 0096).

- The counter's visitor screen: the declaration error and the "the clerk changed it" notice.
- The display settings' errors.
- The city's name in body text: the Japanese a translation keeps (Korean `이스미시(いすみ市)`) is
  marked lang="ja"; not in the <title>; the Chinese name (kanji, Chinese) is not marked.
"""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from portal.db import db
from portal.submissions.models import Submission
from tests.conftest import check_page, csrf_token
from tests.web.test_staff_counter import clerk, complete, issue_link, open_on_screen, read_card
from tests.web.test_staff_counter import staff as staff  # noqa: F401  (fixture)
from tests.web.test_staff_counter import stub as stub  # noqa: F401  (fixture)


def test_the_counter_visitor_screen_in_korean(app, staff, stub):  # noqa: F811
    client = clerk(app, staff)
    public_id = read_card(client)
    complete(app, public_id)
    screen = open_on_screen(app, issue_link(client, public_id))
    assert screen.get("/counter/confirm?lang=ko").status_code in (302, 303)
    page = check_page(screen.get("/counter/confirm"))
    assert page.html["lang"] == "ko"
    header = page.find(class_="site-header__home")
    assert header.find("span", attrs={"lang": "ja"}).get_text() == "いすみ市"
    version = page.find("input", attrs={"name": "version"})["value"]
    token = csrf_token(screen.get("/counter/confirm").text)

    response = screen.post("/counter/confirm", data={"csrf_token": token, "version": version})
    page = check_page(response, 400)
    error = page.find(id="f-declaration-error").get_text()
    assert "신청 내용 확인에 체크해 주십시오" in error
    assert page.find("a", string="신청 내용 확인에 체크해 주십시오")
    assert "申請内容の確認にチェック" not in page.get_text()

    with app.app_context():
        submission = db.session.scalar(select(Submission).where(Submission.public_id == public_id))
        submission.answers = {**submission.answers, "hittosha": "佐藤 一郎"}
        db.session.commit()
    response = screen.post(
        "/counter/confirm",
        data={"csrf_token": token, "version": version, "declaration": "yes"},
    )
    assert response.headers["Location"] == "/counter/confirm"
    text = check_page(screen.get("/counter/confirm")).get_text()
    assert "직원이 신청 내용을 변경했습니다" in text
    assert "職員が申請内容を変更しました" not in text


def test_display_settings_errors_in_english(client):
    client.get("/?lang=en")
    token = csrf_token(client.get("/display").text)
    response = client.post("/display", data={"csrf_token": token, "size": "x", "contrast": "y"})
    page = check_page(response, 400)
    summary = page.find(class_="error-summary").get_text()
    assert "Choose a text size" in summary and "Choose the colours" in summary


def test_the_city_name_in_korean_body_text_is_marked_japanese(client):
    client.get("/?lang=ko")
    page = check_page(client.get("/"))
    assert page.html["lang"] == "ko"
    h1 = page.h1
    assert h1.get_text().startswith("이스미시(いすみ市)")
    assert h1.find("span", attrs={"lang": "ja"}).get_text() == "いすみ市"
    header = page.find(class_="site-header__home")
    assert header.find("span", attrs={"lang": "ja"}).get_text() == "いすみ市"
    # Every いすみ市 in the body is inside an element marked lang="ja".
    for node in page.body.find_all(string=lambda s: "いすみ市" in s):
        assert node.find_parent(attrs={"lang": True})["lang"] == "ja", node
    # The <title> is plain text: no markup in it.
    assert page.title.string.count("이스미시(いすみ市)") == 1


def test_the_chinese_city_name_is_chinese(client):
    client.get("/?lang=zh")
    page = check_page(client.get("/"))
    assert "夷隅市" in page.h1.get_text()
    assert page.h1.find("span", attrs={"lang": "ja"}) is None


# --- The 400 pages: bad input and an expired form (portal/web.py) ----------------------------


def test_the_bad_input_page_in_english_and_vietnamese(client):
    for lang, heading, body in (
        ("en", "What you entered contains characters", "Please check what you entered"),
        ("vi", "Nội dung đã nhập có ký tự không dùng được", "Vui lòng kiểm tra nội dung"),
    ):
        client.get(f"/?lang={lang}")
        page = client.get("/resume")
        response = client.post(
            "/resume", data={"code": "AB\x00CD", "csrf_token": csrf_token(page.text)}
        )
        soup = check_page(response, 400)
        assert soup.html["lang"] == lang
        assert soup.h1.get_text().startswith(heading)
        assert body in soup.get_text()
        assert "使用できない文字" not in soup.get_text()


def test_the_expired_form_page_in_english_and_portuguese(client):
    for lang, heading in (("en", "This page has expired"), ("pt", "A página expirou")):
        client.get(f"/?lang={lang}")
        soup = check_page(client.post("/resume", data={"code": "ABCD"}), 400)
        assert soup.h1.get_text() == heading
        assert "有効期限" not in soup.get_text() and "しばらく操作" not in soup.get_text()


# --- Upload rejections (portal/uploads/service.py, shown by the file field) ------------------


@pytest.mark.db
def test_an_upload_rejection_in_english_and_korean(app):
    from tests.factories import HOIKU_ANSWERS_BEFORE_EMPLOYMENT
    from tests.web.test_engine import HOIKU, post, signed_in, start

    for lang, expected in (
        ("en", "Choose a JPEG, PNG, PDF or HEIC (iPhone photo) file"),
        ("ko", "JPEG, PNG, PDF, HEIC(iPhone 사진) 중 하나의 파일을 선택해 주십시오"),
    ):
        client = signed_in(app, f"upload-{lang}")
        client.get(f"/?lang={lang}")
        start(client, HOIKU)
        for step, data in HOIKU_ANSWERS_BEFORE_EMPLOYMENT.items():
            assert post(client, f"{HOIKU}/apply/{step}", data).status_code == 302, step
        response = post(
            client,
            f"{HOIKU}/apply/guardian-work",
            {
                "guardian_work": "employed",
                "employer": "株式会社いすみ",
                "weekly_hours": "40",
                "work_certificate": (io.BytesIO(b"just some text\n"), "photo.png"),
            },
            content_type="multipart/form-data",
        )
        page = check_page(response, response.status_code)
        assert page.html["lang"] == lang
        messages = " ".join(e.get_text(" ", strip=True) for e in page.select(".error-message"))
        assert expected in messages, messages
        assert "いずれかのファイルを選んでください" not in page.get_text()
        assert "：" not in messages or lang == "zh"


# --- The payment problem pages (portal/payments/views.py) -------------------------------------


@pytest.mark.db
def test_payment_problem_pages_in_english_and_chinese(app, client):
    from portal.payments.providers import ProviderError
    from tests.payment_fakes import FakeProvider
    from tests.web.test_payment_pages import juminhyo, pay_from_status, payment_row

    fake = FakeProvider()
    app.extensions["payment_provider"] = fake
    application = juminhyo(app)
    client.get("/?lang=en")
    pay_from_status(client, app, application)
    payment = payment_row(app)
    fake.set("pay_1", status="paid", amount=1)
    location = pay_from_status(client, app, application).headers["Location"]
    soup = check_page(client.get(f"{location}/return"), 409)
    assert soup.h1.get_text() == "We could not confirm the payment"
    assert "did not match this payment" in soup.get_text()
    assert "お支払い" not in soup.get_text() and "決済サービス" not in soup.get_text()
    assert payment.status == "created"

    class Down(FakeProvider):
        def create(self, **_kwargs):
            raise ProviderError("down")

    app.extensions["payment_provider"] = Down()
    other = juminhyo(app)
    client.get("/?lang=zh")
    soup = check_page(pay_from_status(client, app, other), 503)
    assert soup.h1.get_text() == "无法连接到支付服务"
    assert "目前无法打开付款页面" in soup.get_text()
    assert "決済サービス" not in soup.get_text()


# --- The signature's verdict on the status page (portal/identity/signature.py) --------------


@pytest.mark.db
def test_the_signature_verdict_in_english_and_nepali(app, tmp_path):
    from portal.mock_jpki.ca import MockCA
    from portal.submissions import service
    from tests.web.test_identity_features import StubProvider, draft_of, sign, signing_client

    signer = StubProvider(MockCA(tmp_path / "ca"))
    app.extensions["identity_provider"] = signer
    client = signing_client(app, signer)
    assert sign(client).status_code == 302
    submission = draft_of(app, "hoiku-riyou", "sub-parent")
    token = service.status_token(app.config["STATUS_LINK_KEY"], submission)
    client.get("/?lang=en")
    text = check_page(client.get(f"/status/{token}")).get_text()
    assert "The electronic signature is valid" in text
    assert "電子署名は有効です" not in text
    with app.app_context():
        row = db.session.get(Submission, submission.id)
        row.answers = {**row.answers, "nursery_1": "taito"}
        db.session.commit()
    client.get("/?lang=ne")
    text = check_page(client.get(f"/status/{token}")).get_text()
    assert "हस्ताक्षरपछि आवेदनको विवरण परिवर्तन गरिएको छ" in text
    assert "署名の後で申請内容が変更されています" not in text


# --- The "who" step and the acting-for rows (portal/submissions/who.py, summary.py) ----------


@pytest.mark.db
def test_the_who_step_in_english(app, client, tmp_path):
    from portal.mock_jpki.ca import MockCA
    from tests.web.test_identity_features import KAIGO, StubProvider, begin, login, post

    app.extensions["identity_provider"] = StubProvider(MockCA(tmp_path / "ca"))
    login(client, "spouse")
    client.get("/?lang=en")
    begin(client, KAIGO)
    page = check_page(client.get(f"{KAIGO}/who"))
    labels = [label.get_text(strip=True) for label in page.select(".choice__label")]
    assert "岬 花子 (a member of your household)" in labels
    assert "Apply on behalf of someone else" in labels
    assert any(label.startswith("Yourself (") for label in labels)
    text = page.get_text()
    assert "Your relationship to them" in text and "Letter of delegation" in text
    for japanese in (
        "同じ世帯の方",
        "ご本人（",
        "その方とのご関係",
        "委任状が必要です",
        "対象となる方",
    ):
        assert japanese not in text, japanese
    response = post(client, f"{KAIGO}/who", {"who": "other", "relationship": "family"})
    errors = check_page(response).find(class_="error-summary").get_text()
    assert "Letter of delegation" in errors and "委任状" not in errors


@pytest.mark.db
def test_the_acting_for_rows_in_korean(app, client):
    from portal.submissions import service
    from tests.factories import submitted

    case = submitted(app, "ninshin-todoke")
    with app.app_context():
        row = db.session.get(Submission, case.id)
        row.acting_for = {
            "relationship": "household",
            "applicant_name": "岬 健一",
            "subject_name": "岬 花子",
            "subject_birth_date": "1990-04-10",
            "delegation": "household_record",
            "letter": [],
        }
        db.session.commit()
        token = service.status_token(app.config["STATUS_LINK_KEY"], row)
    client.get("/?lang=ko")
    page = check_page(client.get(f"/status/{token}"))
    card = page.find(id="group-acting-for").find_parent("section").get_text()
    for korean in ("대리인", "대리로 신청한 분", "신청 대상자", "관계", "대리 확인"):
        assert korean in card, korean
    assert "주민 기록으로 같은 세대임을 확인" in card
    for japanese in ("代理人", "代理で申請した方", "住民記録で同じ世帯", "同じ世帯の家族"):
        assert japanese not in card, japanese


# --- The correction page's title (portal/submissions/corrections.py) -------------------------


@pytest.mark.db
def test_the_correction_page_title_in_english_and_easy_japanese(app):
    from portal.submissions import service
    from tests.web.test_staff_workflow import MEMBERS, act, ask, create_members, hoiku_case
    from tests.web.test_staff_workflow import sign_in as staff_sign_in

    secrets = create_members(app, MEMBERS)
    clerk = staff_sign_in(app.test_client(), "k-clerk", secrets["k-clerk"])
    public_id = hoiku_case(app)
    act(clerk, public_id, "start_review", expected="submitted")
    ask(clerk, public_id, message="勤務先の名前を正式な名称で入力してください", fields=["employer"])
    with app.app_context():
        submission = db.session.scalar(select(Submission).where(Submission.public_id == public_id))
        token = service.status_token(app.config["STATUS_LINK_KEY"], submission)
    for lang, title in (
        ("en", "Correct the items we asked about"),
        ("easy", "たのまれた ところを なおす"),
    ):
        resident = app.test_client()
        resident.get(f"/?lang={lang}")
        page = check_page(resident.get(f"/status/{token}/correct"))
        assert title in page.get_text()
        assert "お願いされた項目を直す" not in page.get_text()


# --- The assisted session (portal/assisted/): refusals, errors and notices -------------------


@pytest.fixture
def assist_office(app, tmp_path):
    """The administrator's client, with the card stub and the clock of tests/web/test_assisted."""
    from portal import clock
    from portal.mock_jpki.ca import MockCA
    from tests.factories import staff_members, staff_sign_in
    from tests.web.conftest import STAFF
    from tests.web.test_assisted import NOW
    from tests.web.test_identity_features import StubProvider

    app.extensions["identity_provider"] = StubProvider(MockCA(tmp_path / "ca"))
    clock.set_override(NOW)
    secrets = staff_members(app, dict(STAFF.values()))
    yield staff_sign_in(app.test_client(), "admin", secrets["admin"])
    clock.set_override(None)


@pytest.mark.db
def test_an_unregistered_helper_is_refused_in_english(app, assist_office):
    from tests.web.test_assisted import card_login

    client = app.test_client()
    client.get("/assist/?lang=en")
    page = check_page(card_login(client, "/assist/", "/assist/welcome", "adult"), 403)
    assert "is not registered with the city as a helper" in page.get_text()
    assert "登録されていません" not in page.get_text()


@pytest.mark.db
def test_the_consent_errors_in_english_and_portuguese(app, assist_office):
    from tests.web.test_assisted import card_login, form_post, register

    register(app, assist_office)
    client = app.test_client()
    card_login(client, "/assist/", "/assist/welcome", "care-manager")
    form_post(client, "/assist/", "/assist/start")
    check_page(card_login(client, "/assist/hand-over", "/assist/consent", "elderly"))
    for lang, scope, duration in (
        ("en", "Choose the procedure you want help with", "Choose how long you want help for"),
        ("pt", "Escolha o procedimento em que você quer ajuda", "Escolha por quanto tempo"),
    ):
        client.get(f"/assist/consent?lang={lang}")
        response = form_post(client, "/assist/consent", "/assist/consent", {})
        page = check_page(response, 400)
        assert page.html["lang"].startswith(lang)
        summary = page.find(class_="error-summary").get_text()
        assert scope in summary and duration in summary
        assert "お手伝いを頼む" not in page.get_text()


# --- Input errors built in Python: the character policy, the nursery's duplicate choice ------


def test_the_booking_forms_character_error_in_english_and_chinese(client):
    import datetime as dt

    from portal import clock

    clock.set_override(dt.datetime(2026, 11, 30, 1, 0, tzinfo=dt.UTC))
    try:
        url = "/appointments/shimin-main/2026-12-01?service=juminhyo&people=1"
        for lang, expected in (
            ("en", "Contains characters that cannot be used"),
            ("zh", "含有无法使用的字符"),
        ):
            client.get(f"/?lang={lang}")
            page = client.get(url)
            response = client.post(
                url,
                data={
                    "time": "09:00",
                    "name": "夷隅\x0b花子",
                    "email": "hanako@example.jp",
                    "csrf_token": csrf_token(page.text),
                },
            )
            soup = check_page(response, 422)
            messages = " ".join(e.get_text(" ", strip=True) for e in soup.select(".error-message"))
            assert expected in messages, messages
            assert "使用できない文字" not in soup.get_text()
    finally:
        clock.set_override(None)


@pytest.mark.db
def test_the_nurserys_duplicate_choice_in_english(app):
    from tests.factories import HOIKU_ANSWERS_BEFORE_EMPLOYMENT
    from tests.web.test_engine import HOIKU, post, signed_in, start

    client = signed_in(app, "duplicate-choice")
    client.get("/?lang=en")
    start(client, HOIKU)
    for step in ("guardian", "children"):
        data = HOIKU_ANSWERS_BEFORE_EMPLOYMENT[step]
        assert post(client, f"{HOIKU}/apply/{step}", data).status_code == 302, step
    response = post(
        client,
        f"{HOIKU}/apply/preferences",
        {"nursery_1": "ohara", "nursery_2": "ohara", "start_date": "2027-04-01"},
    )
    page = check_page(response, response.status_code)
    summary = page.find(class_="error-summary").get_text()
    assert "Choice 2 is the same facility as a higher choice" in summary
    assert "上位の希望" not in page.get_text()


# --- The mock card service's form errors (portal/mock_jpki/views.py) -------------------------


def test_the_card_services_pin_errors_in_english_and_korean(client, app):
    from tests.web.test_validation_pages import _card_page, _enter_pin

    client.get("/?lang=en")
    url = _card_page(client, app)
    text = check_page(_enter_pin(client, url, "12")).get_text()
    assert "Enter the PIN as 4 digits (this was not counted as a try)" in text
    assert "数字4桁" not in text
    client.get("/?lang=ko")
    text = check_page(_enter_pin(client, url, "9999")).get_text()
    assert "비밀번호가 틀렸습니다. 2회 더 틀리면 잠깁니다" in text
    assert "暗証番号が違います" not in text


# --- The mock payment service's form errors and refusals (portal/mock_pay/) -----------------


@pytest.mark.db
def test_the_payment_services_card_errors_in_english_and_vietnamese(client):
    from tests.web.test_mock_pay import create, errors_of, pay_card

    client.get("/?lang=en")
    payment = create(client)
    soup = check_page(pay_card(client, payment["id"], number="1234", cvc=""), 422)
    assert errors_of(soup) == [
        "Enter a card number of 14 to 16 digits (it has 4 now)",
        "Enter the security code",
    ]
    assert "カード番号" not in soup.get_text() and "セキュリティコード" not in soup.get_text()
    client.get("/?lang=vi")
    soup = check_page(pay_card(client, payment["id"], expiry="13/30"), 422)
    assert errors_of(soup) == ["Vui lòng nhập tháng hết hạn từ 01 đến 12 (ví dụ: 12/28)"]


@pytest.mark.db
def test_the_store_terminals_refusal_in_english(client):
    from tests.web.test_mock_pay import errors_of, page

    client.get("/?lang=en")
    _soup, token = page(client, "/mock-pay/store")
    response = client.post("/mock-pay/store", data={"csrf_token": token, "number": "12345678901"})
    assert errors_of(check_page(response, 422)) == [
        "This payment number was not found. Check the number"
    ]
    response = client.post("/mock-pay/store", data={"csrf_token": token, "number": "123"})
    errors = errors_of(check_page(response, 422))
    assert errors[0].startswith("Enter the payment number in digits")
