"""申請一覧 for signed-in residents: a draft started on the phone is continued on another device,
submitted, and shown with its status; another resident gets 404 on its address."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.people import fill_step
from tests.e2e.test_juminhyo import ANSWERS, PROCEDURE, answer_steps, submit_and_read_reference
from tests.e2e.test_login import to_card_reader, use_card


def sign_in(page, audit, persona_id: str) -> None:
    to_card_reader(page, audit)
    use_card(page, persona_id)
    expect(page.locator(".site-header__user")).to_be_visible()


def test_my_applications_across_devices_and_residents(make_page, audit):
    phone = make_page("phone")
    phone.goto("/my/applications")
    expect(phone.get_by_role("heading", level=1)).to_have_text("マイナンバーカードでログイン")
    # 伊藤 翔: no other browser test files anything as him (the list starts empty).
    sign_in(phone, audit, "moved")
    phone.get_by_role("link", name="申請一覧").click()
    expect(
        phone.get_by_text("ログインしてから入力・申請した手続は、まだありません。")
    ).to_be_visible()
    audit(phone)

    phone.goto("/procedures/juminhyo-copy")
    phone.get_by_role("button", name="申請を始める").click()
    fill_step(phone, PROCEDURE.steps[0], ANSWERS)  # the first step only, then stop
    phone.get_by_role("button", name="次へ進む").click()
    phone.get_by_role("link", name="申請一覧").click()
    expect(phone.get_by_text("入力中")).to_be_visible()
    audit(phone)

    # Another device, the same resident: continue where the phone stopped.
    desktop = make_page("desktop")
    sign_in(desktop, audit, "moved")
    desktop.get_by_role("link", name="申請一覧").click()
    desktop.get_by_role("button", name=re.compile("続きを入力する")).click()
    expect(desktop.get_by_role("heading", level=1)).to_have_text("必要な住民票")
    answer_steps(desktop, audit, ANSWERS)
    reference = submit_and_read_reference(desktop, audit)

    desktop.get_by_role("link", name="申請一覧").click()
    mine = desktop.locator(".applications__item")
    expect(mine.get_by_text(f"受付番号 {reference}")).to_be_visible()
    # Its fee can be paid from here, together with any other unpaid one.
    expect(
        desktop.get_by_role("checkbox", name=re.compile(f"受付番号 {reference}"))
    ).to_be_checked()
    expect(desktop.locator(".status-tag")).to_have_text("申請済み")
    audit(desktop)
    desktop.get_by_role("link", name=re.compile("申請の状況を見る")).click()
    expect(desktop.get_by_role("heading", level=1)).to_have_text("申請の状況")
    expect(desktop.get_by_text(reference)).to_be_visible()

    # Another resident gets 404 on the same address.
    desktop.get_by_role("link", name="申請一覧").click()
    detail = re.search(r'href="(/my/applications/[0-9a-f]+)"', desktop.content()).group(1)
    stranger = make_page("phone")
    sign_in(stranger, audit, "parent")
    response = stranger.goto(detail)
    assert response.status == 404
    expect(stranger.get_by_role("heading", level=1)).to_have_text("ページが見つかりません")
    audit(stranger)
