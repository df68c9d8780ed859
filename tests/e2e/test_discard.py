"""Discarding an unsent draft and an unsent bundle from 申請一覧 on a phone (issue 22): each
through its confirmation page; both are gone afterwards."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e import prepared
from tests.e2e.test_my_applications import sign_in


def test_a_draft_and_a_bundle_are_discarded(make_page, audit, live_app):
    phone = make_page("phone")
    # 岬 健一: no other browser test files anything as him.
    sign_in(phone, audit, "spouse")
    phone.goto("/procedures/koseki-shomei")
    phone.get_by_role("button", name=re.compile("申請を始める")).click()
    expect(phone.get_by_role("link", name="この申請を削除する")).to_be_visible()
    owner = prepared.newest_draft_owner(live_app, "koseki-shomei")
    prepared.moving_bundle_of(live_app, owner, ["tennyu-yoyaku", "kodomo-iryohi"])

    phone.get_by_role("link", name="申請一覧").click()
    # By its title: other browser tests of this worker may have left him a draft of their own.
    this_draft = (
        phone.get_by_role("listitem")
        .filter(has=phone.get_by_role("heading", name="戸籍証明書等の交付請求"))
        .get_by_role("link", name=re.compile("^この申請を削除する"))
    )
    this_draft.click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("この申請を削除する")
    audit(phone)
    phone.get_by_role("button", name="削除する").click()
    expect(phone.get_by_text(re.compile("入力中の申請（.*）を削除しました"))).to_be_visible()
    audit(phone)

    phone.get_by_role("link", name=re.compile("^まとめて申請をやめる")).click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("まとめて申請をやめる")
    audit(phone)
    phone.get_by_role("button", name="まとめて申請をやめる").click()
    expect(phone.get_by_text(re.compile("まとめて申請（引越し）をやめ"))).to_be_visible()
    expect(phone.get_by_role("link", name=re.compile("まとめて申請をやめる"))).to_have_count(0)
    expect(this_draft).to_have_count(0)
