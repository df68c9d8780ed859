"""Kiosk services in a real browser (issue 20): check-in and the printed queue slip, and the
staff side. One persistent browser profile is the terminal (as tests/e2e/test_kiosk.py; the
registration itself is proven there, so this terminal starts registered), landscape touch.

Two appointments of today are prepared. The first is checked in by a keyboard-wedge scanner
typing the ticket's QR token and Enter, the second by its short code typed by hand; a wrong code
gets its message. The queue slip, rendered as print media at the configured paper width, fits
one slip (one PDF page of the receipt paper, nothing wider than the paper) and shows only the
number, the counter, the time and the opaque code. 職員を呼ぶ appears on the clerk's open day
view within seconds (its script polls), is answered, and the kiosk says staff are coming; the
day view shows both arrivals. The visit's text size and contrast change; every kiosk page has
targets of at least 44 × 44 px. axe on every page."""

from __future__ import annotations

import datetime as dt
import re

import pyotp
import pytest
from playwright.sync_api import expect

from portal.clock import TOKYO
from portal.db import db
from portal.kiosk import service as kiosks
from tests.e2e import visited
from tests.e2e.people import by_label, group
from tests.e2e.staff_people import create_member
from tests.e2e.targets import assert_kiosk_page, assert_targets
from tests.e2e.test_login import use_card
from tests.factories import booked

PLACE = "本庁舎1階 総合案内"
MORNING = dt.datetime(2026, 12, 2, 8, 50, tzinfo=TOKYO)  # a Wednesday
KIOSK_SCREEN = {"width": 1920, "height": 1080}  # landscape touch screen
MM = 96 / 25.4  # CSS pixels per millimetre


def heading(page):
    return page.get_by_role("heading", level=1)


def registered_terminal(playwright, launch_args, live_server, live_app, profile):
    """The terminal's persistent profile holding a kiosk cookie (registered by the service)."""
    with live_app.app_context():
        _kiosk, token = kiosks.register(
            db.session, name="総合案内1号機", place=PLACE, actor="staff:1", now=MORNING
        )
        db.session.commit()
    context = playwright.chromium.launch_persistent_context(
        str(profile),
        **launch_args,
        base_url=live_server.url,
        viewport=KIOSK_SCREEN,
        has_touch=True,
        locale="ja-JP",
        timezone_id="Asia/Tokyo",
        bypass_csp=True,  # lets axe-core be injected; the CSP itself is tested elsewhere
    )
    context.add_cookies(
        [{"name": "portal_kiosk", "value": token, "url": live_server.url, "httpOnly": True}]
    )
    context.set_default_timeout(10_000)
    visited.record(context, live_server.url, touch=True)
    return context


def pdf_pages(data: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page[^s]", data))


def printed_slip(page, width_mm: int) -> str:
    """The slip as the receipt printer gets it: one page of the paper, nothing wider; its text."""
    page.emulate_media(media="print")
    try:
        widest = page.evaluate(
            """() => Math.max(...Array.from(document.body.querySelectorAll('*'))
                .filter((el) => el.getClientRects().length)
                .map((el) => el.getBoundingClientRect().right))"""
        )
        assert widest <= width_mm * MM, f"the slip is {widest / MM:.1f} mm wide"
        text = page.evaluate("() => document.body.innerText")
        pdf = page.pdf(width=f"{width_mm}mm", prefer_css_page_size=True, print_background=False)
        assert pdf_pages(pdf) == 1, f"{pdf_pages(pdf)} pages"
    finally:
        page.emulate_media(media="screen")
    return " ".join(text.split())


def clerk_at_the_day_view(make_page, secret):
    clerk = make_page("desktop")
    clerk.goto("/staff/login")
    by_label(clerk, "ログインID").fill("kiosk-clerk")
    by_label(clerk, "パスワード").fill("pw-" * 5)
    clerk.get_by_role("button", name="次へ").click()
    by_label(clerk, "確認コード（数字6桁）").fill(pyotp.TOTP(secret).at(MORNING))
    clerk.get_by_role("button", name="ログインする").click()
    clerk.goto("/staff/appointments?counter=shimin-main&day=2026-12-02")
    expect(clerk.get_by_text("いまキオスクからの呼び出しはありません")).to_be_visible()
    return clerk


def test_check_in_prints_a_queue_slip_and_staff_see_arrivals_and_calls(
    playwright, browser_type_launch_args, live_server, live_app, make_page, audit, tmp_path
):
    live_server.set_clock((MORNING - dt.timedelta(days=1)).isoformat())
    try:
        hanako = booked(live_app, MORNING.replace(hour=10, minute=30), name="夷隅 花子")
        taro = booked(live_app, MORNING.replace(hour=10, minute=45), name="夷隅 太郎")
        live_server.set_clock(MORNING.isoformat())
        secret = create_member(live_server, "kiosk-clerk", "市民 二郎", "clerk:shimin", "pw-" * 5)
        clerk = clerk_at_the_day_view(make_page, secret)
        context = registered_terminal(
            playwright, browser_type_launch_args, live_server, live_app, tmp_path / "terminal"
        )
        page = context.pages[0] if context.pages else context.new_page()
        elsewhere: list[str] = []  # no request of the kiosk goes to another site
        context.on(
            "request",
            lambda request: (
                None
                if request.url.startswith((live_server.url, "data:", "blob:"))
                else elsewhere.append(request.url)
            ),
        )
        try:
            page.goto("/kiosk/")
            assert_kiosk_page(page)
            page.get_by_role("button", name="予約の受付（チェックイン）").tap()
            expect(heading(page)).to_have_text("予約の受付")
            audit(page)
            assert_kiosk_page(page)

            # A wrong code: the message, the code kept.
            by_label(page, "受付コード").fill("ACEF-GHJK")
            page.get_by_role("button", name="受付する").tap()
            expect(page.get_by_text("この受付コードの予約は見つかりません").first).to_be_visible()
            expect(by_label(page, "受付コード")).to_have_value("ACEF-GHJK")
            audit(page)
            assert_kiosk_page(page)

            # The wedge scanner types the QR code's token into the focused field, then Enter.
            by_label(page, "受付コード").fill("")
            by_label(page, "受付コード").focus()
            page.keyboard.type(hanako["ticket"])
            page.keyboard.press("Enter")
            expect(heading(page)).to_have_text("受付しました")
            first = page.locator("#queue-number").inner_text()
            assert re.fullmatch(r"\d+", first)
            expect(page.get_by_role("button", name="受付票を印刷する")).to_be_visible()
            audit(page)
            assert_kiosk_page(page)
            code = f"{hanako['code'][:4]}-{hanako['code'][4:]}"
            # Only the number, the counter, the time and the opaque code: no name, no frame.
            assert printed_slip(page, 80) == f"受付番号 {first} 市民課 窓口 受付 08:50 {code}"

            # The short code typed by hand: the next number.
            page.get_by_role("link", name="ほかの予約を受付する").tap()
            by_label(page, "受付コード").fill(taro["code"].lower())
            page.get_by_role("button", name="受付する").tap()
            expect(page.locator("#queue-number")).to_have_text(str(int(first) + 1))

            # 職員を呼ぶ: the clerk's open day view shows the place within seconds.
            page.get_by_role("button", name="職員を呼ぶ").tap()
            expect(heading(page)).to_have_text("職員を呼びました")
            audit(page)
            assert_kiosk_page(page)
            calls = clerk.locator("#kiosk-calls")
            expect(calls).to_contain_text(f"{PLACE}（総合案内1号機）で職員が呼ばれています")
            audit(clerk)
            calls.get_by_role("button", name=re.compile(f"^対応しました.*{PLACE}")).click()
            expect(clerk.get_by_text("呼び出しに対応済みにしました。")).to_be_visible()
            # The measurement finds a small target (then the reload drops it).
            page.evaluate(
                """() => { const b = document.createElement('button'); b.textContent = 'x';
                b.style.cssText = 'all: unset; width: 20px; height: 20px';
                document.querySelector('main').append(b); }"""
            )
            with pytest.raises(AssertionError, match="20×20"):
                assert_targets(page)
            page.reload()
            expect(heading(page)).to_have_text("職員が向かっています")

            # 文字の大きさと色 for this visit: larger type, sharper colours; targets still fit.
            page.get_by_role("link", name="手続をする").tap()
            page.get_by_role("link", name="文字の大きさと色").tap()
            expect(heading(page)).to_have_text("文字の大きさと色")
            audit(page)
            assert_kiosk_page(page)
            page.get_by_role("radio", name="とても大きい").check()
            page.get_by_role("radio", name="くっきり（白地に黒）").check()
            page.get_by_role("button", name="この設定にする").tap()
            expect(heading(page)).to_have_text("手続を選んでください")
            expect(page.locator("html")).to_have_class("text-xlarge contrast-high")
            audit(page)
            assert_kiosk_page(page)
            page.get_by_role("link", name="終了").tap()
            page.get_by_role("button", name="消去して終了する").tap()
            expect(heading(page)).to_have_text("ご用件を選んでください")
            assert not elsewhere, elsewhere
        finally:
            context.close()

        # The day view (reloaded by the answer) shows both arrivals and where they checked in.
        for name, number in (("夷隅 花子", first), ("夷隅 太郎", str(int(first) + 1))):
            row = clerk.get_by_role("row").filter(has=clerk.get_by_role("rowheader", name=name))
            expect(row).to_contain_text("来庁済み")
            expect(row).to_contain_text(f"受付番号 {number}")
            expect(row).to_contain_text(f"キオスク（{PLACE}）で受付")
        audit(clerk)
        clerk.get_by_role("link", name="キオスクの呼び出し").click()
        expect(heading(clerk)).to_have_text("キオスクの呼び出し")
        audit(clerk)
    finally:
        live_server.set_clock(None)


def test_a_certificate_is_printed_after_card_login_and_payment(
    playwright, browser_type_launch_args, live_server, live_app, audit, tmp_path
):
    """証明書を印刷する: the card, the mock provider's card payment (on this site), the demo
    住民票 with its watermark on one A4 page, and the free reprint offered the same day."""
    context = registered_terminal(
        playwright, browser_type_launch_args, live_server, live_app, tmp_path / "terminal"
    )
    page = context.pages[0] if context.pages else context.new_page()
    try:
        page.goto("/kiosk/")
        page.get_by_role("button", name="証明書を印刷する").tap()
        expect(heading(page)).to_have_text("証明書を印刷する")
        audit(page)
        assert_kiosk_page(page)
        page.get_by_role("button", name="マイナンバーカードでログイン").tap()
        use_card(page, "adult")
        page.get_by_role("button", name="住民票の写し（1通 300円）を支払って印刷する").tap()
        expect(heading(page)).to_have_text("お支払い方法を選んでください")
        assert page.url.startswith(live_server.url)  # the payment stays on this site
        group(page, "お支払い方法").get_by_role("radio", name="クレジットカード").check()
        page.get_by_role("button", name="次へ進む").tap()
        by_label(page, "カード番号").fill("4242 4242 4242 4242")
        by_label(page, "有効期限（月/年）").fill("12/30")
        by_label(page, "セキュリティコード").fill("123")
        by_label(page, "カード名義（ローマ字）").fill("TARO OHARA")
        page.get_by_role("button", name="300円を支払う").tap()
        expect(heading(page)).to_have_text("住民票の写しを印刷します")
        document = page.get_by_role("article", name="住民票の写し（デモ）")
        expect(document).to_contain_text("大原 太郎")
        expect(document).to_contain_text("証明書として使えません")
        audit(page)
        assert_kiosk_page(page)
        page.emulate_media(media="print")
        pdf = page.pdf(prefer_css_page_size=True)
        assert pdf_pages(pdf) == 1
        watermark = page.locator(".certificate__watermark").evaluate(
            "(el) => getComputedStyle(el, '::before').content"
        )
        assert watermark == '"デモ"'  # printed over the document
        expect(page.get_by_role("button", name="印刷する")).to_be_hidden()
        page.emulate_media(media="screen")
        page.get_by_role("link", name="証明書の画面に戻る").tap()
        expect(page.get_by_role("link", name="住民票の写しをもう一度印刷する")).to_be_visible()
        audit(page)
        page.get_by_role("link", name="終了").tap()
        page.get_by_role("button", name="消去して終了する").tap()
        expect(heading(page)).to_have_text("ご用件を選んでください")
    finally:
        context.close()
