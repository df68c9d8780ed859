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
from tests.e2e.people import by_label
from tests.e2e.staff_people import create_member
from tests.e2e.targets import assert_kiosk_page, assert_targets
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
