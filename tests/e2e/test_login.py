"""Login with the (mock) My Number card on a phone, logout that ends the session on the server,
and a Japanese page for each way a login can fail."""

from __future__ import annotations

from pathlib import Path

import yaml
from playwright.sync_api import expect

from tests.e2e import visited
from tests.e2e.people import by_label, group

PERSONAS = {
    p["id"]: p
    for p in yaml.safe_load(
        (Path(__file__).parents[2] / "portal/demo_data/people.yaml").read_text(encoding="utf-8")
    )["personas"]
}


def to_card_reader(page, audit) -> None:
    page.goto("/")
    page.get_by_role("link", name="ログイン", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("マイナンバーカードでログイン")
    audit(page)
    page.get_by_role("button", name="マイナンバーカードでログインする").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("マイナンバーカードで本人確認")


def use_card(page, persona_id: str, pin: str | None = None) -> None:
    group(page, "使うカード（デモ用）").get_by_role(
        "radio", name=PERSONAS[persona_id]["card_label"]
    ).check()
    by_label(page, "利用者証明用電子証明書の暗証番号（数字4桁）").fill(
        pin or PERSONAS[persona_id]["auth_pin"]
    )
    page.get_by_role("button", name="本人確認する").click()


def test_login_and_a_logout_that_ends_the_session(make_page, audit, browser):
    page = make_page("phone")
    to_card_reader(page, audit)
    use_card(page, "adult")
    expect(page.get_by_text("大原 太郎 さん")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text("いすみ市のオンライン手続")
    audit(page)
    copied = page.context.cookies()

    page.get_by_role("button", name="ログアウト").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("ログアウトしました")
    audit(page)
    expect(page.get_by_role("link", name="ログイン", exact=True)).to_be_visible()

    # The cookie copied before the logout opens nothing any more.
    thief = browser.new_context(base_url=page.url.split("/logout")[0], locale="ja-JP")
    visited.record(thief, page.url.split("/logout")[0])
    thief.add_cookies(copied)
    other = thief.new_page()
    other.goto("/my/applications")
    expect(other.get_by_role("heading", level=1)).to_have_text("マイナンバーカードでログイン")
    expect(other.get_by_role("link", name="ログイン", exact=True)).to_be_visible()
    expect(other.get_by_text("大原 太郎 さん")).to_have_count(0)
    thief.close()


def test_failed_logins_say_what_to_do(make_page, audit):
    page = make_page("phone")
    to_card_reader(page, audit)
    page.get_by_role("button", name="キャンセルして申請サービスに戻る").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("ログインを取りやめました")
    audit(page)

    page.get_by_role("link", name="もう一度ログインする").click()
    page.get_by_role("button", name="マイナンバーカードでログインする").click()
    use_card(page, "locked")
    expect(page.get_by_role("heading", level=1)).to_have_text("カードがロックされています")
    page.get_by_role("button", name="申請サービスに戻る").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("カードがロックされています")
    # A plain page: where the PIN is reset, and the counter's booking (no retry, no count).
    expect(page.get_by_text("市民課 窓口（本庁舎1階 1番窓口）で、初期化できます")).to_be_visible()
    expect(page.get_by_role("link", name="市民課の窓口を予約する")).to_be_visible()
    expect(page.get_by_role("link", name="もう一度ログインする")).to_have_count(0)
    audit(page)

    page.goto("/login/callback?code=forged&state=forged")
    expect(page.get_by_role("heading", level=1)).to_have_text("ログインの有効期限が切れました")
    audit(page)
