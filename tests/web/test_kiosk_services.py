"""Kiosk services beyond the first slice (issue 20): check-in by the ticket's short code or
its QR code typed by a keyboard-wedge scanner (the counter's check-in, one engine) with a queue
slip to print, the receipt printer's stylesheet, 職員を呼ぶ reaching staff, and the card at the
kiosk (reminders; the PIN kept out of every log and store). Flask test client; the browser
test (tests/e2e/test_kiosk_services.py) prints the slip."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import func, select

from portal import clock, create_app
from portal.appointments.models import Appointment
from portal.clock import TOKYO
from portal.config import ConfigError
from portal.db import db
from portal.security import SHORT_CODE_ALPHABET, format_short_code
from tests.conftest import check_page, csrf_token
from tests.factories import booked, staff_sign_in
from tests.web.test_kiosk import form_post, register_terminal, stub  # noqa: F401 (fixture)

DAY_BEFORE = dt.datetime(2026, 11, 30, 16, 0, tzinfo=TOKYO)  # Monday
TODAY = dt.datetime(2026, 12, 1, 9, 40, tzinfo=TOKYO)  # Tuesday
PLACE = "本庁舎1階 市民課前"


@pytest.fixture
def tickets(app):
    """Today's 10:00 and 10:15 appointments and Thursday's, booked the day before."""
    clock.set_override(DAY_BEFORE)
    made = {
        "hanako": booked(app, dt.datetime(2026, 12, 1, 10, 0, tzinfo=TOKYO)),
        "taro": booked(app, dt.datetime(2026, 12, 1, 10, 15, tzinfo=TOKYO), name="夷隅 太郎"),
        "thursday": booked(app, dt.datetime(2026, 12, 3, 9, 0, tzinfo=TOKYO), name="木曜 一郎"),
    }
    clock.set_override(TODAY)
    return made


def at_checkin(terminal):
    """The start screen's 予約の受付 tile: a new visit on the check-in page."""
    response = form_post(terminal, "/kiosk/", "/kiosk/visit", {"service": "checkin"})
    assert response.headers["Location"] == "/kiosk/checkin"


def check_in(terminal, code: str):
    return form_post(terminal, "/kiosk/checkin", "/kiosk/checkin", {"code": code})


def test_the_short_code_is_on_the_ticket_and_checks_in_at_the_kiosk(app, staff, tickets):
    code = tickets["hanako"]["code"]
    assert len(code) == 8 and set(code) <= set(SHORT_CODE_ALPHABET)
    with app.app_context():
        row = db.session.scalar(
            select(Appointment).where(Appointment.public_id == tickets["hanako"]["public_id"])
        )
        assert row.checkin_code_hash and code not in repr(row.__dict__)  # only the hash

    terminal, _ = register_terminal(app, staff, place=PLACE)
    start = check_page(terminal.get("/kiosk/"))
    assert start.find("button", string="予約の受付（チェックイン）")["value"] == "checkin"
    at_checkin(terminal)
    page = check_page(terminal.get("/kiosk/checkin"))
    field = page.find("input", attrs={"name": "code"})
    assert field["autocomplete"] == "off" and field.has_attr("autofocus")  # the scanner types here

    # Typed as people type it: lower case, full width, with the hyphen.
    typed = format_short_code(code).lower().replace("a", "ａ")
    response = check_in(terminal, typed)
    assert response.status_code == 303 and response.headers["Location"] == "/kiosk/checkin/slip"
    slip = check_page(terminal.get("/kiosk/checkin/slip"))
    text = slip.select_one(".slip").get_text(" ", strip=True)
    assert slip.select_one("#queue-number").get_text() == "1"
    assert format_short_code(code) in text and "市民課" in text
    assert "夷隅" not in slip.get_text() and "0470000000" not in slip.get_text()
    assert slip.find("link", href="/kiosk/print.css", media="print")
    assert terminal.get("/kiosk/checkin/slip").headers["Cache-Control"] == "no-store"

    # The same engine as the counter: arrived, with the day's queue number.
    with app.app_context():
        row = db.session.scalar(
            select(Appointment).where(Appointment.public_id == tickets["hanako"]["public_id"])
        )
        assert (row.status, row.queue_number, row.details["kiosk"]) == ("arrived", 1, PLACE)

    # The scanner types the QR code's token and Enter: the next number (the same visit).
    response = check_in(terminal, tickets["taro"]["ticket"] + "\n")
    assert response.headers["Location"] == "/kiosk/checkin/slip"
    assert (
        check_page(terminal.get("/kiosk/checkin/slip")).select_one("#queue-number").get_text()
        == "2"
    )
    # Checking in twice gives the same number again.
    check_in(terminal, code)
    assert (
        check_page(terminal.get("/kiosk/checkin/slip")).select_one("#queue-number").get_text()
        == "1"
    )

    # The counter's day view shows the arrivals and where they checked in.
    clerk = staff_sign_in(app.test_client(), "shimin-clerk", staff["shimin-clerk"], ahead=1)
    rows = [
        r.get_text(" ", strip=True)
        for r in check_page(clerk.get("/staff/appointments?counter=shimin-main")).select(
            "table.table tbody tr"
        )
    ]
    hanako = next(r for r in rows if "夷隅 花子" in r)
    assert (
        "来庁済み" in hanako and "受付番号 1" in hanako and f"キオスク（{PLACE}）で受付" in hanako
    )

    # The counter takes the short code too (one check-in).
    page = clerk.get("/staff/appointments?counter=shimin-main")
    answer = clerk.post(
        "/staff/appointments/check-in",
        data={"counter": "shimin-main", "ticket": code, "csrf_token": csrf_token(page.text)},
        follow_redirects=True,
    ).text
    assert "受付済みです。受付番号は 1 番" in answer


def test_the_manage_page_shows_the_short_code_beside_the_qr_code(app, tickets):
    from portal.appointments import service

    token = service.manage_token(app.config["SECRET_KEY"], tickets["thursday"]["public_id"])
    soup = check_page(app.test_client().get(f"/appointments/manage/{token}"))
    assert soup.select_one("#checkin-code").get_text() == format_short_code(
        tickets["thursday"]["code"]
    )
    assert soup.select_one("svg.qr") is not None


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "受付コード（8文字）を入力するか"),
        ("ACEF-GHJK", "この受付コードの予約は見つかりません"),
        ("not a ticket", "この受付コードの予約は見つかりません"),
        ("thursday", "この予約は本日ではありません（12月3日の予約です）"),
    ],
)
def test_wrong_codes_get_a_clear_message_and_keep_what_was_typed(
    app, staff, tickets, typed, message
):
    terminal, _ = register_terminal(app, staff)
    at_checkin(terminal)
    typed = tickets["thursday"]["code"] if typed == "thursday" else typed
    soup = check_page(check_in(terminal, typed), 400)
    assert message in soup.select_one(".error-summary").get_text()
    assert soup.find("input", attrs={"name": "code"})["value"] == typed
    with app.app_context():
        assert not db.session.scalar(select(Appointment).where(Appointment.status != "booked"))


def test_past_and_cancelled_appointments_are_refused(app, staff, tickets):
    terminal, _ = register_terminal(app, staff)
    clock.set_override(TODAY + dt.timedelta(days=3))  # Friday: Thursday's is over
    at_checkin(terminal)
    soup = check_page(check_in(terminal, tickets["thursday"]["code"]), 400)
    assert "この予約の日（12月3日）は過ぎています。職員にお声がけください" in soup.get_text()
    clock.set_override(TODAY)
    with app.app_context():
        row = db.session.scalar(
            select(Appointment).where(Appointment.public_id == tickets["taro"]["public_id"])
        )
        row.status = "cancelled"
        db.session.commit()
    terminal.post("/kiosk/end", data={"csrf_token": csrf_token(terminal.get("/kiosk/end").text)})
    at_checkin(terminal)
    soup = check_page(check_in(terminal, tickets["taro"]["code"]), 400)
    assert "この予約は取り消されています。職員にお声がけください" in soup.get_text()


def test_check_in_is_only_for_a_registered_kiosk_in_a_visit(app, staff, tickets):
    browser = app.test_client()
    assert browser.get("/kiosk/checkin").status_code == 403
    assert browser.get("/kiosk/checkin/slip").status_code == 403
    terminal, _ = register_terminal(app, staff)
    assert terminal.get("/kiosk/checkin").headers["Location"] == "/kiosk/"  # no visit yet
    at_checkin(terminal)
    # No slip before a check-in; after the visit ends, the slip is gone with it.
    assert terminal.get("/kiosk/checkin/slip").headers["Location"] == "/kiosk/checkin"
    check_in(terminal, tickets["hanako"]["code"])
    terminal.post(
        "/kiosk/end", data={"csrf_token": csrf_token(terminal.get("/kiosk/checkin/slip").text)}
    )
    assert terminal.get("/kiosk/checkin/slip").headers["Location"] == "/kiosk/"


# --- printing -----------------------------------------------------------------------------------


def test_the_receipt_printer_width_is_a_setting(app, staff, tmp_path):
    terminal, _ = register_terminal(app, staff)
    css = terminal.get("/kiosk/print.css")
    assert css.mimetype == "text/css"
    assert "@page { size: 80mm 120mm; margin: 3mm; }" in css.text
    assert app.test_client().get("/kiosk/print.css").status_code == 403  # not a kiosk

    app.config["KIOSK_PAPER_WIDTH_MM"] = 58  # a narrower roll
    assert "@page { size: 58mm 98mm; margin: 3mm; }" in terminal.get("/kiosk/print.css").text
    for width in (40, 300):
        with pytest.raises(ConfigError, match="PORTAL_KIOSK_PAPER_WIDTH_MM"):
            create_app("test", {"INSTANCE_PATH": str(tmp_path), "KIOSK_PAPER_WIDTH_MM": width})


def test_printouts_carry_no_name(app, tickets):
    """The appointment ticket prints the QR code and codes, not the name (no-print)."""
    from portal.appointments import service

    token = service.manage_token(app.config["SECRET_KEY"], tickets["hanako"]["public_id"])
    soup = check_page(app.test_client().get(f"/appointments/manage/{token}"))
    name_row = next(row for row in soup.select(".facts__row") if "夷隅 花子" in row.get_text())
    assert "no-print" in name_row["class"]


# --- 職員を呼ぶ -----------------------------------------------------------------------------------


def test_a_call_for_staff_carries_only_the_place_and_is_answered(app, staff):
    from portal.audit.models import AuditEntry
    from portal.kiosk.models import KioskAlert

    clock.set_override(TODAY)
    terminal, _ = register_terminal(app, staff, place=PLACE)
    response = form_post(terminal, "/kiosk/", "/kiosk/help")
    assert response.headers["Location"] == "/kiosk/help"
    shown = check_page(terminal.get("/kiosk/help"))
    assert "職員を呼びました" in shown.h1.get_text() and "9:40" in shown.get_text()
    # Pressed again (from the bar of any screen of the visit): the same call.
    page = check_page(terminal.get("/kiosk/procedures"))
    assert (
        page.select_one(".kiosk-bar form[action='/kiosk/help'] button").get_text() == "職員を呼ぶ"
    )
    form_post(terminal, "/kiosk/procedures", "/kiosk/help")
    with app.app_context():
        calls = db.session.scalars(select(KioskAlert)).all()
        assert [(c.kind, c.detail) for c in calls] == [("staff-call", "")]  # nothing personal
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "staff_called"))
        assert entry.actor == "anonymous" and entry.target.startswith("kiosk:")

    # Any clerk sees it on the calls page and on the day view (reload, no JavaScript needed).
    clerk = staff_sign_in(app.test_client(), "shimin-clerk", staff["shimin-clerk"], ahead=1)
    day_response = clerk.get("/staff/appointments?counter=shimin-main")
    day_view = check_page(day_response)
    panel = day_view.select_one("#kiosk-calls").get_text(" ", strip=True)
    assert f"{PLACE} （本庁舎1号機）で職員が呼ばれています" in panel
    assert day_view.find("script", src="/static/js/kiosk-calls.js")
    polled = clerk.get("/staff/kiosk-calls", headers={"X-Portal-Poll": "1"})
    assert polled.headers["Cache-Control"] == "no-store"
    soup = check_page(polled)
    assert PLACE in soup.select_one("#kiosk-calls").get_text()

    # 対応しました: gone from the list, audited, the kiosk's page says staff are coming.
    form = day_view.select_one("#kiosk-calls form")
    answered = clerk.post(
        form["action"],
        data={
            "csrf_token": csrf_token(day_response.text),
            "next": form.find("input", attrs={"name": "next"})["value"],
        },
    )
    assert answered.headers["Location"].startswith("/staff/appointments?counter=shimin-main")
    assert "いまキオスクからの呼び出しはありません" in clerk.get("/staff/kiosk-calls").text
    assert "職員が向かっています" in terminal.get("/kiosk/help").text
    again = clerk.post(
        form["action"], data={"csrf_token": csrf_token(day_response.text)}, follow_redirects=True
    )
    assert "すでにほかの職員が対応済み" in again.text
    with app.app_context():
        entry = db.session.scalar(
            select(AuditEntry).where(AuditEntry.action == "staff_call_answered")
        )
        assert entry.actor.startswith("staff:") and entry.target.startswith("kiosk-call:")
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(AuditEntry)
                .where(AuditEntry.action == "staff_call_answered")
            )
            == 1
        )

    # Not for residents, not for anybody's browser.
    assert app.test_client().get("/staff/kiosk-calls").status_code == 404
    assert app.test_client().post("/kiosk/help").status_code in (400, 403)


# --- the card at the kiosk ----------------------------------------------------------------------


def test_the_card_login_at_the_kiosk_keeps_the_pin_out_of_logs_pages_and_storage(
    app, staff, caplog
):
    """The mock card service's reader screen inside the kiosk frame: the resident picks the card
    and types the PIN (a wrong one first); the PIN is in no log record, no page, no row."""
    import logging

    from sqlalchemy import inspect

    caplog.set_level(logging.DEBUG)
    clock.set_override(TODAY)
    terminal, _ = register_terminal(app, staff, place=PLACE)
    # The card service's metadata as its discovery page gives it (no HTTP in the test client).
    metadata = app.test_client().get("/mock-jpki/.well-known/openid-configuration").get_json()
    client = app.extensions["identity_provider"].client
    client.server_metadata.update(metadata, _loaded_at=1)
    form_post(terminal, "/kiosk/", "/kiosk/visit")
    response = form_post(terminal, "/kiosk/procedures", "/login", {"next": "/kiosk/procedures"})
    assert response.status_code == 302
    reader = response.headers["Location"]
    assert reader.startswith("http://localhost/mock-jpki/authorize?")
    reader = reader.removeprefix("http://localhost")
    page = terminal.get(reader)
    soup = check_page(page)
    assert soup.select_one(".kiosk-bar__place").get_text() == PLACE  # the kiosk frame
    pin = soup.find("input", attrs={"name": "pin"})
    assert (pin["type"], pin["autocomplete"]) == ("password", "off")
    assert page.headers["Cache-Control"] == "no-store"

    wrong, right = "9081", "1234"  # the demo card "adult"'s PIN is 1234
    answer = terminal.post(
        reader,
        data={
            "csrf_token": csrf_token(page.text),
            "card": "adult",
            "pin": wrong,
            "action": "login",
        },
    )
    assert "暗証番号が違います" in answer.text and not shows(wrong, answer.text)
    answer = terminal.post(
        reader,
        data={
            "csrf_token": csrf_token(page.text),
            "card": "adult",
            "pin": right,
            "action": "login",
        },
    )
    assert answer.status_code == 302 and "/login/callback?code=" in answer.headers["Location"]
    assert not shows(right, answer.headers["Location"])

    for record in caplog.records:
        text = record.getMessage() + repr(getattr(record, "__dict__", {}))
        assert not shows(wrong, text) and not shows(right, text), text[:200]
    with app.app_context():
        engine = db.engine
        for table in inspect(engine).get_table_names():
            for row in db.session.execute(text_select(table)).all():
                for value in row:
                    if isinstance(value, (str, dict, list)):
                        cell = str(value)
                        assert not shows(wrong, cell), f"{table}: {cell[:80]}"
                        assert not shows(right, cell), f"{table}: {cell[:80]}"
                        assert "'pin'" not in cell, table


def shows(pin: str, text: str) -> bool:
    """Whether the PIN stands in the text as a value of its own ("9081", pin=9081, '9081').

    A bare substring test is wrong: four digits turn up inside timestamps' microseconds, floats
    and random tokens (a CI run failed on 15:24:43.908194 holding the wrong PIN 9081)."""
    return re.search(rf"(?<![0-9A-Za-z_.\-]){pin}(?![0-9A-Za-z_.\-])", text) is not None


def text_select(table: str):
    from sqlalchemy import text

    return text(f'SELECT * FROM "{table}"')  # noqa: S608 - names from the schema itself


def test_reminders_to_take_the_card_and_printouts(app, staff, stub):  # noqa: F811
    terminal, _ = register_terminal(app, staff)
    form_post(terminal, "/kiosk/", "/kiosk/visit")
    assert terminal.get("/login/callback?as=parent").status_code == 302  # a card login (stub)
    menu = check_page(terminal.get("/kiosk/procedures"))
    assert "カードを忘れずにお取りください" in menu.select_one(".kiosk-reminder").get_text()
    assert "お取り忘れのないように" in menu.select_one("#kiosk-timeout").get_text()
    end = check_page(terminal.get("/kiosk/end"))
    assert "マイナンバーカードと、印刷した紙をお取りください" in end.get_text()
    form_post(terminal, "/kiosk/end", "/kiosk/end")
    start = check_page(terminal.get("/kiosk/"))  # after the wipe, at the reset
    assert "マイナンバーカードや印刷した紙を、お取り忘れではありませんか" in start.get_text()


# --- 文字の大きさと色 ---------------------------------------------------------------------------


def test_text_size_and_contrast_on_the_ordinary_site_without_javascript(app):
    browser = app.test_client()
    home = check_page(browser.get("/"))
    link = home.find("a", string="文字の大きさと色")
    assert link["href"].startswith("/display?next=")
    assert not home.html.get("class")
    page = browser.get("/display?next=/privacy")
    form = check_page(page)
    assert form.find("input", attrs={"name": "size", "value": "standard"}).has_attr("checked")
    # A value no form offers: a Japanese message, the choices kept.
    bad = browser.post(
        "/display",
        data={
            "csrf_token": csrf_token(page.text),
            "size": "huge",
            "contrast": "high",
            "next": "/privacy",
        },
    )
    soup = check_page(bad, 400)
    assert "文字の大きさを選んでください" in soup.select_one(".error-summary").get_text()
    assert soup.find("input", attrs={"name": "contrast", "value": "high"}).has_attr("checked")
    done = browser.post(
        "/display",
        data={
            "csrf_token": csrf_token(page.text),
            "size": "xlarge",
            "contrast": "high",
            "next": "/privacy",
        },
    )
    assert done.status_code == 303 and done.headers["Location"] == "/privacy"
    cookie = done.headers["Set-Cookie"]
    assert cookie.startswith("portal_display=xlarge.high") and "HttpOnly" in cookie
    assert check_page(browser.get("/privacy")).html["class"] == ["text-xlarge", "contrast-high"]
    # Only a path on this site is followed back.
    away = browser.post(
        "/display",
        data={
            "csrf_token": csrf_token(page.text),
            "size": "standard",
            "contrast": "standard",
            "next": "https://evil.example/",
        },
    )
    assert away.headers["Location"] == "/"
    assert not check_page(browser.get("/")).html.get("class")


def test_at_a_kiosk_the_setting_lasts_one_visit(app, staff):
    terminal, _ = register_terminal(app, staff)
    start = check_page(terminal.get("/kiosk/"))
    assert start.find("button", string="文字の大きさと色")["value"] == "display"
    response = form_post(terminal, "/kiosk/", "/kiosk/visit", {"service": "display"})
    assert response.headers["Location"] == "/display"
    page = terminal.get("/display")
    assert check_page(page).select_one(".kiosk-bar__place")  # in the kiosk frame
    done = terminal.post(
        "/display", data={"csrf_token": csrf_token(page.text), "size": "large", "contrast": "high"}
    )
    assert done.headers["Location"] == "/kiosk/procedures"
    assert "portal_display" not in done.headers.get("Set-Cookie", "")  # the visit's session only
    assert check_page(terminal.get("/kiosk/procedures")).html["class"] == [
        "text-large",
        "contrast-high",
    ]
    form_post(terminal, "/kiosk/end", "/kiosk/end")
    assert not check_page(terminal.get("/kiosk/")).html.get("class")  # the next visitor


# --- 証明書を印刷する -----------------------------------------------------------------------------


class SameOriginProvider:
    """The in-process fake provider, its checkout on this site as the mock payment service's."""

    def __new__(cls):
        from tests.payment_fakes import FakeProvider

        class Provider(FakeProvider):
            def create(self, **kwargs):
                payment = super().create(**kwargs)
                return self.set(
                    payment.id, checkout_url=f"http://localhost/mock-pay/checkout/{payment.id}"
                )

        return Provider()


def test_a_certificate_is_printed_after_payment_and_again_that_day_without_paying(
    app,
    staff,
    stub,  # noqa: F811
):
    from portal.audit.models import AuditEntry
    from portal.kiosk.models import KioskCertificate
    from portal.payments.models import Payment

    provider = SameOriginProvider()
    app.extensions["payment_provider"] = provider
    clock.set_override(TODAY)
    terminal, _ = register_terminal(app, staff, place=PLACE)
    start = check_page(terminal.get("/kiosk/"))
    assert start.find("button", string="証明書を印刷する")["value"] == "certificates"
    response = form_post(terminal, "/kiosk/", "/kiosk/visit", {"service": "certificates"})
    assert response.headers["Location"] == "/kiosk/certificates"
    page = check_page(terminal.get("/kiosk/certificates"))
    assert page.find("button", string="マイナンバーカードでログイン")  # the card first
    assert not page.find("button", string=re.compile("支払って印刷する"))
    assert terminal.get("/login/callback?as=parent").status_code == 302

    page = check_page(terminal.get("/kiosk/certificates"))
    assert page.find("button", string="住民票の写し（1通 300円）を支払って印刷する")
    paying = form_post(terminal, "/kiosk/certificates", "/kiosk/certificates/juminhyo")
    assert paying.status_code == 303
    assert paying.headers["Location"].startswith("http://localhost/mock-pay/checkout/pay_")
    with app.app_context():
        certificate = db.session.scalar(select(KioskCertificate))
        payment = db.session.get(Payment, certificate.payment_id)
        assert (payment.amount, payment.status, payment.department) == (300, "created", "shimin")
        public_id, provider_id = certificate.public_id, payment.provider_payment_id
    # Not paid: the return shows no certificate (the query string proves nothing).
    back = terminal.get(f"/kiosk/certificates/{public_id}/paid?status=paid")
    assert back.headers["Location"] == f"/kiosk/certificates/{public_id}"
    assert terminal.get(f"/kiosk/certificates/{public_id}").status_code == 402
    provider.set(provider_id, status="paid")
    terminal.get(f"/kiosk/certificates/{public_id}/paid")
    document = check_page(terminal.get(f"/kiosk/certificates/{public_id}"))
    text = document.select_one(".certificate").get_text(" ", strip=True)
    assert "住民票の写し" in text and "デモ" in text and "証明書として使えません" in text
    assert document.select_one(".certificate__watermark")["data-watermark"] == "デモ"

    # Paper out: the same day, at this or any kiosk, printed again without paying again.
    listing = check_page(terminal.get("/kiosk/certificates"))
    again = listing.find("a", string="住民票の写しをもう一度印刷する")
    assert again["href"] == f"/kiosk/certificates/{public_id}"
    check_page(terminal.get(again["href"]))
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Payment)) == 1
        assert db.session.scalar(select(KioskCertificate.printed_count)) == 2
        printed = db.session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "certificate_printed")
        )
        assert printed == 2

    # Another resident, or the next day, gets nothing.
    form_post(terminal, "/kiosk/end", "/kiosk/end")
    form_post(terminal, "/kiosk/", "/kiosk/visit", {"service": "certificates"})
    assert terminal.get("/login/callback?as=adult").status_code == 302
    assert terminal.get(f"/kiosk/certificates/{public_id}").status_code == 404
    assert "もう一度印刷する" not in terminal.get("/kiosk/certificates").text
    clock.set_override(TODAY + dt.timedelta(days=1))  # the idle visit is wiped on the way
    form_post(terminal, "/kiosk/", "/kiosk/visit", {"service": "certificates"})
    assert terminal.get("/login/callback?as=parent").status_code == 302
    assert terminal.get(f"/kiosk/certificates/{public_id}").status_code == 404


def test_payment_never_leaves_the_portals_origin_at_a_kiosk(app, staff, stub):  # noqa: F811
    from tests.payment_fakes import FakeProvider

    app.extensions["payment_provider"] = FakeProvider()  # its checkout is on another site
    terminal, _ = register_terminal(app, staff)
    form_post(terminal, "/kiosk/", "/kiosk/visit", {"service": "certificates"})
    assert terminal.get("/login/callback?as=parent").status_code == 302
    refused = form_post(terminal, "/kiosk/certificates", "/kiosk/certificates/juminhyo")
    soup = check_page(refused, 409)
    assert "職員にお声がけください" in soup.get_text()
    assert "pay.example" not in refused.text


def _pay_and_print(app, terminal, provider, kind: str):
    """Pay `kind` at the kiosk (the provider says paid) and show it; the certificate's ids."""
    from portal.kiosk.models import KioskCertificate
    from portal.payments.models import Payment

    paying = form_post(terminal, "/kiosk/certificates", f"/kiosk/certificates/{kind}")
    assert paying.status_code == 303, paying.text
    with app.app_context():
        certificate = db.session.scalar(
            select(KioskCertificate)
            .where(KioskCertificate.kind == kind)
            .order_by(KioskCertificate.id.desc())
        )
        payment = db.session.get(Payment, certificate.payment_id)
        public_id, provider_id = certificate.public_id, payment.provider_payment_id
        paid = (payment.amount, payment.department)
    provider.set(provider_id, status="paid")
    terminal.get(f"/kiosk/certificates/{public_id}/paid")
    return public_id, paid


def test_the_income_certificate_is_printed_from_the_tax_record_and_reprinted_free(
    app,
    staff,
    stub,  # noqa: F811
):
    from portal.kiosk.models import KioskCertificate
    from portal.payments.models import Payment
    from portal.records.models import RecordRead

    provider = SameOriginProvider()
    app.extensions["payment_provider"] = provider
    clock.set_override(TODAY)
    terminal, _ = register_terminal(app, staff, place=PLACE)
    form_post(terminal, "/kiosk/", "/kiosk/visit", {"service": "certificates"})
    assert terminal.get("/login/callback?as=parent").status_code == 302
    page = check_page(terminal.get("/kiosk/certificates"))
    # Both certificates of the issue, each with its catalog fee (1 copy).
    assert page.find("button", string="住民票の写し（1通 300円）を支払って印刷する")
    assert page.find("button", string="所得証明書（1通 300円）を支払って印刷する")

    public_id, paid = _pay_and_print(app, terminal, provider, "shotoku")
    assert paid == (300, "zeimu")  # the tax department's payment (shotoku-shomei)
    document = check_page(terminal.get(f"/kiosk/certificates/{public_id}"))
    certificate = document.select_one(".certificate")
    rows = {
        row.dt.get_text(strip=True): row.dd.get_text(strip=True)
        for row in certificate.select(".facts__row")
    }
    # The records the counter uses: last year's income of the card login's person, no more.
    assert rows == {
        "氏名": "岬 花子",
        "住所": "千葉県いすみ市岬町和泉567番地",
        "所得の年": "2025年分（1月から12月）",
        "所得金額": "1,300,000円",
        "市・県民税": "課税",
    }
    assert "所得証明書" in certificate.get_text() and "証明書として使えません" in certificate.text
    assert certificate.select_one(".certificate__watermark")["data-watermark"] == "デモ"
    assert "生年月日" not in certificate.text and "100000000021" not in document.text
    assert not document.select(".kiosk-note")  # from the records: nothing to say

    listing = check_page(terminal.get("/kiosk/certificates"))
    again = listing.find("a", string="所得証明書をもう一度印刷する")
    assert again["href"] == f"/kiosk/certificates/{public_id}"
    check_page(terminal.get(again["href"]))
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Payment)) == 1
        assert db.session.scalar(select(KioskCertificate.printed_count)) == 2
        reads = db.session.scalars(
            select(RecordRead.reader).where(RecordRead.record.like("tax_status:%"))
        ).all()
        # Checked before payment (by the kiosk), then read for each print (by the certificate).
        assert reads[0].startswith("kiosk:")
        assert reads[1:] == [f"kiosk-certificate:{public_id}"] * 2


def test_without_a_resident_record_the_kiosk_says_so(app, staff, stub):  # noqa: F811
    from portal.payments.models import Payment

    provider = SameOriginProvider()
    app.extensions["payment_provider"] = provider
    records = app.extensions.pop("resident_records")  # the card matches no record
    try:
        clock.set_override(TODAY)
        terminal, _ = register_terminal(app, staff, place=PLACE)
        form_post(terminal, "/kiosk/", "/kiosk/visit", {"service": "certificates"})
        assert terminal.get("/login/callback?as=parent").status_code == 302
        # 所得証明書 needs the tax record: refused before any payment, with the reason.
        refused = form_post(terminal, "/kiosk/certificates", "/kiosk/certificates/shotoku")
        assert "住民税の記録が見つからない" in check_page(refused, 409).get_text()
        with app.app_context():
            assert db.session.scalar(select(func.count()).select_from(Payment)) == 0
        # 住民票の写し prints the card's items, and says so.
        public_id, _ = _pay_and_print(app, terminal, provider, "juminhyo")
        document = check_page(terminal.get(f"/kiosk/certificates/{public_id}"))
        assert (
            "マイナンバーカードの記載事項を印刷しています"
            in document.select_one(".kiosk-note").text
        )
        assert "岬 花子" in document.select_one(".certificate").text
    finally:
        app.extensions["resident_records"] = records


def test_a_paid_certificate_not_printed_is_handed_over_at_the_counter_once(
    app,
    staff,
    stub,  # noqa: F811
):
    from portal.audit.models import AuditEntry
    from portal.kiosk.models import KioskCertificate
    from portal.payments.models import Payment

    provider = SameOriginProvider()
    app.extensions["payment_provider"] = provider
    clock.set_override(TODAY)
    terminal, _ = register_terminal(app, staff, place=PLACE)
    form_post(terminal, "/kiosk/", "/kiosk/visit", {"service": "certificates"})
    assert terminal.get("/login/callback?as=parent").status_code == 302
    public_id, _ = _pay_and_print(app, terminal, provider, "juminhyo")  # paid, paper out
    _pay_and_print(app, terminal, provider, "shotoku")  # the tax department's, not 市民課's
    form_post(terminal, "/kiosk/certificates", "/kiosk/certificates/juminhyo")  # never paid
    code = public_id[:8].upper()
    page = check_page(terminal.get(f"/kiosk/certificates/{public_id}"))
    assert code in page.get_text()  # the kiosk tells the resident their 受取番号
    assert code in terminal.get("/kiosk/certificates").text

    clerk = staff_sign_in(app.test_client(), "shimin-clerk", staff["shimin-clerk"])
    counter = check_page(clerk.get("/staff/counter"))
    table = counter.find("caption", string=re.compile("キオスクでお支払い済み")).parent
    rows = [[cell.get_text(strip=True) for cell in tr.select("th, td")] for tr in table.tbody("tr")]
    assert rows == [
        [code, "住民票の写し", PLACE, "2026年12月1日 9時40分", "1回", "窓口で渡しました"]
    ]
    url = f"/staff/counter/kiosk-certificates/{public_id}/handed-over"

    # Another department's clerk neither sees it nor hands it over.
    other = staff_sign_in(app.test_client(), "kosodate-clerk", staff["kosodate-clerk"])
    assert code not in other.get("/staff/counter").text
    assert (
        other.post(url, data={"csrf_token": csrf_token(other.get("/staff/").text)}).status_code
        == 404
    )

    handed = clerk.post(url, data={"csrf_token": csrf_token(clerk.get("/staff/counter").text)})
    assert handed.headers["Location"] == "/staff/counter"
    counter = check_page(clerk.get("/staff/counter"))
    assert f"受取番号 {code} の証明書を、窓口で渡したことを記録しました" in counter.get_text()
    assert code not in counter.select_one("main").get_text().split("記録しました")[1]
    again = clerk.post(url, data={"csrf_token": csrf_token(clerk.get("/staff/counter").text)})
    assert again.status_code == 303
    assert "すでにほかの職員が窓口で渡し済み" in clerk.get("/staff/counter").text
    with app.app_context():
        certificate = db.session.scalar(
            select(KioskCertificate).where(KioskCertificate.public_id == public_id)
        )
        assert certificate.handed_over_by.startswith("staff:")
        assert certificate.handed_over_at is not None
        entries = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "certificate_handed_over")
        ).all()
        assert [e.target for e in entries] == [f"kiosk-certificate:{public_id}"]
        payments_before = db.session.scalar(select(func.count()).select_from(Payment))

    # No kiosk prints it after that, and nothing is paid again.
    refused = terminal.get(f"/kiosk/certificates/{public_id}")
    assert "窓口でお渡ししました" in check_page(refused, 410).get_text()
    listing = terminal.get("/kiosk/certificates").text
    assert "住民票の写しをもう一度印刷する" not in listing
    assert "所得証明書をもう一度印刷する" in listing
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Payment)) == payments_before
        assert (
            db.session.scalar(
                select(KioskCertificate.printed_count).where(
                    KioskCertificate.public_id == public_id
                )
            )
            == 1
        )
    # The next day it is no longer the counter's either.
    clock.set_override(TODAY + dt.timedelta(days=1))
    clerk = staff_sign_in(app.test_client(), "shimin-clerk", staff["shimin-clerk"])
    token = csrf_token(clerk.get("/staff/counter").text)
    assert clerk.post(url, data={"csrf_token": token}).status_code == 404
