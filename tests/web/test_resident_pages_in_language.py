"""Issue 23 (decision 0074): the booking, status, receipt, "my applications", payment and error
pages' own chrome follows the chosen language, and mail is written in the language the resident
used when it was made (a booking's, a submission's), also when a clerk's action sends it; a
clerk's own words reach the resident with a line, in the resident's language, saying they are
written in Japanese."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from portal import clock
from portal.clock import TOKYO
from portal.db import db
from portal.i18n import FOREIGN, HTML_LANG
from portal.outbox.models import OutboxMessage
from portal.staff import workflow
from portal.submissions.models import Submission
from tests.conftest import check_page, csrf_token
from tests.web.test_booking_pages import book, manage_path
from tests.web.test_identity_features import login, stub  # noqa: F401  (fixture)
from tests.web.test_languages_pages import english_draft, japanese_outside_allowed

KANA = re.compile(r"[\u3041-\u30ff]")
NOW = dt.datetime(2026, 11, 30, 10, 0, tzinfo=TOKYO)  # Monday


@pytest.fixture(autouse=True)
def fixed_clock(app):
    clock.set_override(NOW)
    yield
    clock.set_override(None)


def messages(app) -> list[OutboxMessage]:
    with app.app_context():
        rows = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        db.session.expunge_all()
        return rows


def test_the_booking_pages_read_in_english_from_the_list_to_the_cancellation(client, app):
    client.get("/?lang=en")
    pages = {
        "index": client.get("/appointments/"),
        "calendar": client.get("/appointments/shimin-main?service=juminhyo&people=1"),
        "day": client.get("/appointments/shimin-main/2026-12-01?service=juminhyo&people=1"),
    }
    path = manage_path(book(client, name="Hanako Isumi"))
    pages["manage"] = client.get(path + "?booked=1")
    pages["reschedule"] = client.get(path + "/reschedule")
    pages["cancel"] = client.get(path + "/cancel")
    for name, response in pages.items():
        soup = check_page(response)
        assert japanese_outside_allowed(soup) == [], name
    manage = check_page(pages["manage"]).get_text(" ", strip=True)
    assert "Booked" in manage and "Booking slip" in manage
    assert "Tue, December 1, 2026, 9:00 to 9:15" in manage
    calendar = check_page(pages["calendar"])
    assert calendar.select_one(".calendar__caption").get_text(strip=True) == "November 2026"
    assert [th.get_text(strip=True) for th in calendar.select("thead th")][:2] == ["Mon", "Tue"]


def test_a_booking_error_is_explained_in_english_and_keeps_what_was_typed(client):
    client.get("/?lang=en")
    response = book(client, name="", email="not-an-address")
    assert response.status_code == 422
    soup = check_page(response, 422)
    text = soup.get_text(" ", strip=True)
    assert "Enter your name" in text and "The e-mail address is not valid" in text
    assert soup.select_one("#f-email")["value"] == "not-an-address"


def test_the_booking_pages_read_in_easy_japanese(client):
    client.get("/?lang=easy")
    path = manage_path(book(client))
    soup = check_page(client.get(path))
    assert soup.h1.get_text(strip=True) == "よやくの ないよう"
    text = soup.get_text(" ", strip=True)
    assert "予約票" not in text and "よやくひょう" in text
    calendar = check_page(client.get("/appointments/shimin-main?service=juminhyo&people=1"))
    assert calendar.select_one("#calendar-title").get_text(strip=True) == "日を えらぶ"


def test_booking_mail_is_written_in_the_language_of_the_booking(client, app):
    client.get("/?lang=en")
    path = manage_path(book(client, day="2026-12-02", name="Hanako Isumi"))
    confirmation, reminder = messages(app)
    assert (confirmation.lang, reminder.lang) == ("en", "en")
    assert confirmation.subject == "Your counter booking is confirmed"
    assert reminder.subject == "[Tomorrow] Your counter booking"
    assert "Date and time: Wednesday, December 2, 2026" not in confirmation.body  # local_date
    assert "Date and time: December 2, 2026, 9:00 to 9:15" in confirmation.body
    assert "日時：" not in confirmation.body and "様" not in confirmation.body
    # Cancelled later from a Japanese session: still the booking's language.
    client.get("/?lang=ja")
    page = client.get(path + "/cancel")
    client.post(path + "/cancel", data={"csrf_token": csrf_token(page.text)})
    cancelled = messages(app)[-1]
    assert cancelled.kind == "appointment_cancelled"
    assert cancelled.subject == "Your counter booking is cancelled" and cancelled.lang == "en"


def test_booking_mail_stays_japanese_for_a_japanese_booking(client, app):
    book(client)
    confirmation = messages(app)[0]
    assert confirmation.lang == "ja" and confirmation.subject == "窓口の予約を受け付けました"
    assert "日時：2026年12月1日（火）9時00分から9時15分まで" in confirmation.body


def submit_in_english(app, client) -> str:
    english_draft(app, client, "juminhyo-copy")
    url = "/procedures/juminhyo-copy/check"
    response = client.post(
        url, data={"csrf_token": csrf_token(client.get(url).text), "declaration": "yes"}
    )
    done = check_page(client.get(response.headers["Location"]))
    return done.select_one("a.link-break")["href"].replace("http://localhost", "")


def test_the_status_page_and_the_receipt_printout_read_in_english(app, client):
    status_url = submit_in_english(app, client)
    status = check_page(client.get(status_url))
    assert japanese_outside_allowed(status) == []
    assert status.h1.get_text(strip=True) == "Application status"
    receipt_link = status.select_one('a[href$="/receipt"]')
    assert receipt_link.get_text(strip=True) == "Show or print the receipt"
    receipt = check_page(client.get(receipt_link["href"]))
    assert japanese_outside_allowed(receipt) == []
    text = receipt.get_text(" ", strip=True)
    assert "Receipt" in text and "Applied at" in text and "受付票" not in text
    with app.app_context():
        assert db.session.scalar(select(Submission.lang)) == "en"


def test_the_status_page_reads_in_easy_japanese(app, client):
    status_url = submit_in_english(app, client)
    client.get("/?lang=easy")
    soup = check_page(client.get(status_url))
    assert soup.h1.get_text(strip=True) == "しんせいの ようす"
    assert "これまでの経過" not in soup.get_text()


def test_a_clerks_message_reaches_the_resident_in_their_language_marked_as_japanese(
    app, client, monkeypatch
):
    status_url = submit_in_english(app, client)
    monkeypatch.setattr(workflow, "resident_email", lambda _submission: "resident@example.jp")
    with app.test_request_context("/staff/inbox"):  # a clerk's request: Japanese pages
        transition = next(
            t
            for t in app.extensions["catalog"].workflows["standard"].transitions
            if t.name == "ask_resident"
        )
        submission = db.session.scalar(select(Submission))
        workflow.notify_resident(
            db.session,
            submission,
            transition,
            clock.now(),
            "http://localhost" + status_url,
            comment="本籍の欄を確認してください。",
        )
        db.session.commit()
    mail = messages(app)[-1]
    assert mail.kind == "submission_status" and mail.lang == "en"
    assert "has changed" in mail.body and "Request from the department:" in mail.body
    lines = mail.body.splitlines()
    note = lines.index("(The department's staff wrote the following in Japanese.)")
    assert lines[note + 1] == "本籍の欄を確認してください。"
    assert "状況が変わりました" not in mail.body
    assert mail.subject.startswith("[Application status]")


def test_my_applications_reads_in_english(client, stub):  # noqa: F811
    login(client, "mover")
    client.get("/?lang=en")
    soup = check_page(client.get("/my/applications"))
    assert soup.h1.get_text(strip=True) == "My applications"
    assert japanese_outside_allowed(soup) == []


@pytest.mark.parametrize(
    ("lang", "heading", "help_text"),
    [
        ("en", "Page not found", "If you need help, contact"),
        ("easy", "ページが 見つかりません", "こまった ときは"),
    ],
)
def test_an_error_page_reads_in_the_chosen_language(client, lang, heading, help_text):
    client.get(f"/?lang={lang}")
    soup = check_page(client.get("/no-such-page"), 404)
    assert soup.h1.get_text(strip=True) == heading
    assert help_text in soup.get_text(" ", strip=True)


def test_the_mock_payment_pages_read_in_english(client):
    from tests.web.test_mock_pay import create

    payment = create(client)
    client.get("/?lang=en")
    checkout = check_page(client.get(f"/mock-pay/checkout/{payment['id']}"))
    assert checkout.h1.get_text(strip=True) == "Choose how to pay"
    labels = [label.get_text(" ", strip=True) for label in checkout.select(".choice__label")]
    assert labels[0].startswith("Credit card")
    card = check_page(client.get(f"/mock-pay/checkout/{payment['id']}/card"))
    assert card.h1.get_text(strip=True) == "Pay by credit card"
    for soup in (checkout, card):
        # The payment's description is the portal's (Japanese) text, as sent to the provider.
        assert [t for t in japanese_outside_allowed(soup) if "住民票" not in t] == []


def test_the_mock_cards_read_in_the_chosen_language_with_the_names_as_registered(app):
    """Decision 0079: a demo card's label is its holder's name (marked Japanese, never
    translated) and what the card is for, part by part in the page's language."""
    from flask import session

    from portal.demo_data.people import load_personas
    from portal.mock_jpki.views import card_label

    people = load_personas()
    nakamura = next(p for p in people.values() if p.name == "中村 キヨ")
    sato = next(p for p in people.values() if p.name == "佐藤 由美")
    name = '<span class="person-name" lang="ja">{}</span>'
    with app.test_request_context("/"):
        session["lang"] = "en"
        assert str(card_label(nakamura)) == (
            name.format("中村 キヨ") + " (80 · lives alone · care support level 2)"
        )
        assert str(card_label(sato)) == (
            name.format("佐藤 由美")
            + f" (54 · eldest daughter of {name.format('中村 キヨ')} · lives in Mobara City)"
        )
        session["lang"] = "ja"
        assert (
            str(card_label(nakamura)) == name.format("中村 キヨ") + "（80歳・一人暮らし・要支援2）"
        )


@pytest.mark.parametrize("lang", sorted(FOREIGN))
def test_the_mock_payment_pages_mark_the_japanese_description(client, lang):
    """The payment's description is the portal's Japanese text (the procedure's title and the
    reference), as sent to the provider: on a page in another language it is marked lang="ja",
    on every hosted page that shows it (the store terminal's receipt too)."""
    from tests.web.test_mock_pay import CARD, choose, create

    client.get(f"/?lang={lang}")
    pages = {}
    card = create(client)
    pages["checkout"] = client.get(f"/mock-pay/checkout/{card['id']}")
    choose(client, card["id"], "card")
    pages["card"] = client.get(f"/mock-pay/checkout/{card['id']}/card")
    token = csrf_token(pages["card"].text)
    client.post(
        f"/mock-pay/checkout/{card['id']}/card",
        data={"csrf_token": token, **CARD, "number": "4000 0000 0000 3220"},
    )
    pages["3ds"] = client.get(f"/mock-pay/3ds/{card['id']}")
    qr = create(client)
    choose(client, qr["id"], "qr")
    pages["qr"] = client.get(f"/mock-pay/qr/{qr['id']}")
    pages["qr app"] = client.get(f"/mock-pay/qr/{qr['id']}/app")
    konbini = create(client)
    choose(client, konbini["id"], "konbini")
    pages["number"] = client.get(f"/mock-pay/checkout/{konbini['id']}/number")
    number = re.search(r"\b\d{11}\b", pages["number"].text).group(0)
    pages["store"] = client.post("/mock-pay/store", data={"csrf_token": token, "number": number})
    pages["paid number"] = client.get(f"/mock-pay/checkout/{konbini['id']}/number")
    for name, response in pages.items():
        page = check_page(response)
        assert page.html["lang"] == HTML_LANG[lang], name
        shown = page.find("main").find_all(string=re.compile("住民票の写し"))
        assert shown, name
        marked = {text.find_parent(attrs={"lang": True})["lang"] for text in shown}
        assert marked == {"ja"}, name
    # The one-time password's label and hint on the 3-D Secure page are in the page's language
    # (no kana: the Chinese page is Han characters too).
    three_ds = check_page(pages["3ds"])
    otp = three_ds.find("input", attrs={"name": "otp"})
    label = three_ds.find("label", attrs={"for": otp["id"]})
    hints = [three_ds.find(id=i) for i in otp["aria-describedby"].split()]
    for text in [label.get_text(" ", strip=True), *(h.get_text(" ", strip=True) for h in hints)]:
        assert text and not KANA.search(text), text
    # The QR page's button is in the page's language too.
    qr_page = check_page(pages["qr"])
    buttons = [b.get_text(" ", strip=True) for b in qr_page.find("main").find_all("button")]
    assert buttons and not any(KANA.search(text) for text in buttons), buttons
