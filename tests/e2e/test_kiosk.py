"""Kiosk mode in a real browser (issue 20, first slice): one persistent browser profile is the
terminal, as a real kiosk has (never a new context per visitor), on a portrait touch screen.

An administrator registers the terminal on the terminal itself. Resident A logs in with their
card, fills half of 住民票, takes 「続きはスマートフォンで」 for it, starts 妊娠の届出, types a
phone number and walks away. The warning shows; the idle reset follows (the page's fake clock
and the live server's clock, moved in step). Resident B sees only that the previous visit was
wiped, presses Back again and again, opens the same procedure: nothing of A. A's visit and its
draft are gone from the database, and once the browser is closed no file of its profile holds
A's name or phone numbers. On a phone, A's code opens the 住民票 draft only after A's own card
login, and fails the second time. An unregistered browser gets the page about kiosks. axe runs
on every page visited."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pyotp
from playwright.sync_api import expect
from sqlalchemy import func, select

from portal.db import db
from portal.identity.models import WebSession
from portal.kiosk.models import KioskVisit
from portal.submissions.models import Submission
from tests.e2e import visited
from tests.e2e.people import by_label, group
from tests.e2e.staff_people import create_member
from tests.e2e.targets import assert_targets
from tests.e2e.test_login import use_card

PLACE = "本庁舎1階 市民課前"
NAME = "大原 太郎"  # the card of the "adult" demo person
JUMINHYO_PHONE = "08011112222"
NINSHIN_PHONE = "09087654321"
SECRETS = [NAME, NAME.replace(" ", ""), JUMINHYO_PHONE, NINSHIN_PHONE]
KIOSK_SCREEN = {"width": 1080, "height": 1920}  # portrait touch screen


def heading(page):
    return page.get_by_role("heading", level=1)


def register_this_terminal(page, audit, live_server) -> None:
    """The administrator signs in on the terminal and presses 「この端末をキオスクとして登録」."""
    secret = create_member(live_server, "kiosk-admin", "キオスク 管理者", "admin:shimin", "pw-" * 5)
    page.goto("/staff/login")
    by_label(page, "ログインID").fill("kiosk-admin")
    by_label(page, "パスワード").fill("pw-" * 5)
    page.get_by_role("button", name="次へ").tap()
    by_label(page, "確認コード（数字6桁）").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="ログインする").tap()
    page.get_by_role("link", name="キオスク端末").tap()
    expect(heading(page)).to_have_text("キオスク端末")
    audit(page)
    assert_targets(page)
    by_label(page, "端末の名前").fill("本庁舎1号機")
    by_label(page, "設置場所（画面に表示します）").fill(PLACE)
    page.get_by_role("button", name="この端末をキオスクとして登録").tap()
    expect(heading(page)).to_have_text("ご用件を選んでください")
    expect(page.get_by_text(PLACE)).to_be_visible()
    audit(page)
    assert_targets(page)


def resident_a(page, audit) -> str:
    """A's visit up to walking away; the 「続きはスマートフォンで」 code A took."""
    page.get_by_role("button", name="手続をする").tap()
    expect(heading(page)).to_have_text("手続を選んでください")
    audit(page)
    assert_targets(page)
    page.get_by_role("button", name="マイナンバーカードでログイン").tap()
    expect(heading(page)).to_have_text("マイナンバーカードで本人確認")
    use_card(page, "adult")
    expect(heading(page)).to_have_text("手続を選んでください")

    page.get_by_role("link", name="住民票の写し等の交付請求").tap()
    page.get_by_role("button", name="申請を始める").tap()
    expect(heading(page)).to_have_text("請求する方について")
    expect(page.get_by_role("link", name="終了")).to_be_visible()
    audit(page)
    assert_targets(page)
    name = by_label(page, "氏名")
    if name.is_editable():
        name.fill(NAME)
    by_label(page, "氏名（フリガナ）").fill("オオハラ タロウ")
    by_label(page, "日中に連絡のつく電話番号").fill(JUMINHYO_PHONE)
    group(page, "住民票が必要な方との関係").get_by_role("radio", name="本人").check()
    page.get_by_role("button", name="次へ進む").tap()
    expect(heading(page)).to_have_text("必要な住民票")

    page.get_by_role("link", name="終了").tap()
    expect(heading(page)).to_have_text("終了しますか")
    audit(page)
    assert_targets(page)
    page.get_by_role("button", name=re.compile("^続きはスマートフォンで")).tap()
    expect(heading(page)).to_have_text("続きはスマートフォンで")
    expect(page.get_by_text(f"{PLACE}で")).to_be_visible()
    expect(
        page.get_by_role("img", name=re.compile("続きをスマートフォンで開くQRコード"))
    ).to_be_visible()
    audit(page)
    assert_targets(page)
    code = page.locator("#handoff-code").inner_text()
    assert re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}", code)

    # A starts another procedure, types a phone number, and walks away without 終了.
    page.get_by_role("link", name="ほかの手続をする").tap()
    page.get_by_role("link", name="妊娠の届出").tap()
    page.get_by_role("button", name="申請を始める").tap()
    expect(heading(page)).to_have_text("届出をする方")
    group(page, "届出をする方").get_by_role("radio", name="妊娠している本人").check()
    by_label(page, "日中に連絡のつく電話番号").fill(NINSHIN_PHONE)
    page.get_by_role("button", name="次へ進む").tap()
    expect(heading(page)).not_to_have_text("届出をする方")
    return code


def nothing_of_a(page) -> None:
    text = page.content()
    for secret in SECRETS:
        assert secret not in text, f"{secret!r} on {page.url}"


def test_a_kiosk_forgets_each_resident(
    playwright, browser_type_launch_args, live_server, live_app, make_page, audit, tmp_path
):
    profile = tmp_path / "kiosk-profile"
    context = playwright.chromium.launch_persistent_context(
        str(profile),
        **browser_type_launch_args,
        base_url=live_server.url,
        viewport=KIOSK_SCREEN,
        has_touch=True,
        locale="ja-JP",
        timezone_id="Asia/Tokyo",
        bypass_csp=True,  # lets axe-core be injected; the CSP itself is tested elsewhere
    )
    context.set_default_timeout(10_000)
    visited.record(context, live_server.url, touch=True)
    page = context.pages[0] if context.pages else context.new_page()
    try:
        page.clock.install()
        register_this_terminal(page, audit, live_server)
        with live_app.app_context():  # other browser tests of this worker share the database
            before_a = db.session.scalar(select(func.max(Submission.id))) or 0
            db.session.rollback()
        code = resident_a(page, audit)
        walked_away = dt.datetime.now(dt.UTC)

        # The warning, then the reset: by the server's clock; the page only shows it.
        dialog = page.get_by_role("alertdialog")
        live_server.set_clock((walked_away + dt.timedelta(seconds=65)).isoformat())
        page.clock.fast_forward("01:05")
        expect(dialog).to_be_visible()
        expect(dialog).to_have_accessible_name("まだお使いですか？")
        expect(page.get_by_role("button", name="続ける")).to_be_focused()
        audit(page)
        assert_targets(page)
        live_server.set_clock((walked_away + dt.timedelta(seconds=100)).isoformat())
        page.clock.fast_forward("00:40")
        expect(heading(page)).to_have_text("ご用件を選んでください")
        expect(page.get_by_role("status")).to_have_text(
            re.compile(r"^前の方の情報は消去されました（\d{1,2}:\d{2}）$")
        )
        audit(page)
        assert_targets(page)

        # A's visit is gone from the database: its session and the draft A walked away from.
        with live_app.app_context():
            assert not db.session.scalar(
                select(func.count())
                .select_from(Submission)
                .where(Submission.procedure_id == "ninshin-todoke", Submission.id > before_a)
            )
            assert not db.session.scalar(
                select(func.count())
                .select_from(WebSession)
                .where(WebSession.data["kiosk_visit"].as_string().is_not(None))
            )
            assert not db.session.scalar(
                select(func.count()).select_from(KioskVisit).where(KioskVisit.ended_at.is_(None))
            )

        # Resident B: Back, again and again, shows nothing of A: every page of A's visit that
        # history still names is refused by the server and shows the start screen instead.
        went_back = 0
        for _ in range(8):
            if page.go_back() is None:
                break
            went_back += 1
            nothing_of_a(page)
            expect(heading(page)).to_have_text("ご用件を選んでください")
        assert went_back >= 3
        page.goto("/kiosk/")
        page.get_by_role("button", name="手続をする").tap()
        page.get_by_role("link", name="妊娠の届出").tap()
        expect(page.get_by_text("入力中の申請があります")).to_have_count(0)
        page.get_by_role("button", name="申請を始める").tap()
        expect(heading(page)).to_have_text("届出をする方")
        expect(by_label(page, "日中に連絡のつく電話番号")).to_have_value("")
        nothing_of_a(page)
        page.get_by_role("link", name="終了").tap()
        page.get_by_role("button", name="消去して終了する").tap()
        expect(heading(page)).to_have_text("ご用件を選んでください")
    finally:
        live_server.set_clock(None)
        context.close()

    # Nothing of A in any file the browser kept.
    files = [path for path in Path(profile).rglob("*") if path.is_file()]
    assert (profile / "Default" / "History").is_file() and len(files) > 20
    # The scan reads what the browser kept: its history names the kiosk's pages (no personal data).
    assert b"/kiosk/procedures" in (profile / "Default" / "History").read_bytes()
    for path in files:
        if path.is_file():
            data = path.read_bytes()
            for secret in SECRETS:
                for encoded in (secret.encode(), secret.encode("utf-16-le")):
                    assert encoded not in data, f"{secret!r} in {path.relative_to(profile)}"

    # On A's phone: the page about kiosks for an unregistered browser; the code after A's login.
    phone = make_page("phone")
    phone.goto("/kiosk/")
    expect(heading(phone)).to_have_text("キオスク端末について")
    audit(phone)
    phone.goto(f"/continue?code={code.replace('-', '')}")
    expect(heading(phone)).to_have_text("キオスク端末で始めた入力の続き")
    expect(phone.get_by_role("textbox")).to_have_count(0)  # nothing opens before the login
    audit(phone)
    phone.get_by_role("button", name="マイナンバーカードでログイン").click()
    use_card(phone, "adult")
    expect(by_label(phone, "コード")).to_have_value(code.replace("-", ""))
    audit(phone)
    phone.get_by_role("button", name="続きを開く").click()
    expect(heading(phone)).to_have_text("必要な住民票")
    expect(
        phone.get_by_text("キオスク端末で入力した内容から、続きを入力できます。")
    ).to_be_visible()
    phone.get_by_role("link", name="戻る").click()
    expect(by_label(phone, "日中に連絡のつく電話番号")).to_have_value(JUMINHYO_PHONE)

    # The second time, the same code opens nothing.
    phone.goto("/continue")
    by_label(phone, "コード").fill(code)
    phone.get_by_role("button", name="続きを開く").click()
    expect(phone.get_by_text("コードが正しくないか")).to_have_count(2)  # summary and field
    audit(phone)
