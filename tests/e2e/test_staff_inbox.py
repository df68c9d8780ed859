"""The staff inbox in a phone browser: a 危機管理課 clerk (a department no other browser test
files for) signs in, opens the inbox from the staff home page, types an impossible date (the
error summary), shows only the overdue 罹災証明書 cases, searches by name in hiragana (the
results are the POST's own page: the name is in no URL and not in the access log), and opens a
case. Found by labels and roles only; axe runs on every page."""

from __future__ import annotations

import re
import subprocess
import sys
import urllib.parse
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from playwright.sync_api import expect

from tests.e2e.people import by_label
from tests.e2e.staff_people import create_member, sign_in

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "e2e-inbox-password"
NAME, KANA, TYPED = "潮騒 凪", "シオサイ ナギ", "しおさい"
# Two 罹災証明書 (7 processing days) filed as 潮騒 凪 straight into the server's database: one
# ten days ago (overdue), one an hour ago; the server's clock decides what "now" is.
FILE_TWO = f"""
import datetime as dt
from portal import clock, create_app
from tests.web.test_staff_inbox import file_case
app = create_app()
now = clock.now()
for age in (dt.timedelta(days=10), dt.timedelta(hours=1)):
    print(*file_case(app, "risai-shomei", now - age, name="{NAME}", kana="{KANA}"))
"""


def test_a_clerk_filters_searches_by_kana_and_opens_a_case(make_page, audit, live_server):
    secret = create_member(live_server, "e2e-inbox", "受付 三郎", "clerk:kikikanri", PASSWORD)
    filed = subprocess.run(
        [sys.executable, "-c", FILE_TWO],
        env=live_server.env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    (overdue, _), (recent, _) = (line.split() for line in filed.stdout.strip().splitlines()[-2:])

    clerk = make_page("phone")
    sign_in(clerk, "e2e-inbox", secret, PASSWORD)

    clerk.get_by_role("link", name="受付一覧（絞り込み・検索）").click()
    expect(clerk.get_by_role("heading", level=1)).to_have_text("受付一覧（危機管理課）")
    results = clerk.get_by_role("table", name=re.compile(r"^申請（"))
    expect(results.get_by_role("link", name=overdue)).to_be_visible()
    expect(results.get_by_role("link", name=recent)).to_be_visible()
    audit(clerk)

    # An impossible date: explained next to the field and in the summary, the rest kept.
    filters = clerk.get_by_role("group", name="絞り込み")
    by_label(filters, "手続").select_option(label="罹災証明書の発行申請")
    by_label(filters, "開始日").fill("令和8年2月30日")
    filters.get_by_role("button", name="この条件で表示する").click()
    expect(clerk).to_have_title(re.compile("^エラー："))
    clerk.get_by_role("link", name=re.compile("開始日：.*存在しない日付です")).click()
    expect(by_label(clerk, "開始日")).to_be_focused()
    expect(by_label(filters, "手続")).to_have_value("risai-shomei")
    audit(clerk)

    # Only the overdue ones: said in words, with the due date.
    by_label(filters, "開始日").fill("")
    filters.get_by_role("checkbox", name="期限超過のみ").check()
    filters.get_by_role("button", name="この条件で表示する").click()
    expect(clerk.get_by_role("heading", level=1)).to_have_text("受付一覧（危機管理課）")
    query = parse_qs(urlparse(clerk.url).query)
    assert query["overdue"] == ["1"] and query["procedure"] == ["risai-shomei"]
    row = results.get_by_role("row").filter(has=clerk.get_by_role("link", name=overdue))
    expect(row).to_contain_text("期限超過")
    expect(row).to_contain_text(NAME)
    expect(results.get_by_role("link", name=recent)).to_have_count(0)
    counts = clerk.get_by_role("table", name=re.compile("^状態ごとの件数"))
    expect(counts.get_by_role("link", name="申請済み")).to_be_visible()
    audit(clerk)

    # Search by the name's reading in hiragana, all filters off first.
    clerk.get_by_role("link", name="条件を外す").click()
    by_label(clerk, "受付番号、氏名またはフリガナ").fill(TYPED)
    clerk.get_by_role("button", name="検索する").click()
    expect(clerk.get_by_role("heading", level=1)).to_have_text("受付一覧（危機管理課）")
    assert urlparse(clerk.url).path == "/staff/inbox/search" and not urlparse(clerk.url).query
    found = clerk.get_by_role("table", name=re.compile(r"^検索結果（"))
    expect(found.get_by_role("row")).to_have_count(3)  # the header and the two cases
    expect(found.get_by_role("link", name=overdue)).to_be_visible()
    expect(found.get_by_role("link", name=recent)).to_be_visible()
    expect(found).to_contain_text(KANA)
    audit(clerk)

    found.get_by_role("link", name=overdue).click()
    expect(clerk.get_by_role("heading", level=1)).to_contain_text(overdue)
    audit(clerk)

    # The name went in a POST body only: neither it nor its encoding is in the access log.
    log = live_server.access_log.read_text()
    assert "/staff/inbox/search" in log
    for text in (TYPED, KANA, NAME):
        assert text not in log and urllib.parse.quote(text) not in log
