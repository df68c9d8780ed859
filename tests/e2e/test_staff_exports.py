"""Exports in a real browser (desktop): a 子育て支援課 clerk opens the export page from the staff
home page, sends the form without a procedure (the error summary), downloads the CSV of the
month (UTF-8 with a BOM, the My Number masked), then opens an application and its print view.
axe runs on every page."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from playwright.sync_api import expect

from tests.e2e.people import by_label
from tests.e2e.staff_people import create_member, sign_in

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "e2e-export-password"
# A 妊娠の届出 filed with the catalog's example answers, straight into the server's database.
FILE_ONE = """
from portal import create_app
from tests.factories import submitted
submission = submitted(create_app(), "ninshin-todoke")
print(submission.reference, submission.public_id)
"""


def test_a_clerk_downloads_the_csv_and_prints_a_case(make_page, audit, live_server):
    secret = create_member(live_server, "e2e-exports", "出力 次郎", "clerk:kosodate", PASSWORD)
    filed = subprocess.run(
        [sys.executable, "-c", FILE_ONE],
        env=live_server.env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    reference, public_id = filed.stdout.split()[-2:]

    clerk = make_page("desktop")
    sign_in(clerk, "e2e-exports", secret, PASSWORD)

    clerk.get_by_role("link", name="申請データの出力（CSV）").click()
    expect(clerk.get_by_role("heading", level=1)).to_have_text("申請データの出力")
    audit(clerk)
    clerk.get_by_role("button", name="CSVファイルをダウンロードする").click()
    expect(clerk.get_by_role("link", name="出力する手続を選んでください")).to_be_visible()
    audit(clerk)

    by_label(clerk, "手続").select_option(label="妊娠の届出")
    with clerk.expect_download() as download:
        clerk.get_by_role("button", name="CSVファイルをダウンロードする").click()
    assert re.fullmatch(r"ninshin-todoke_\d{8}-\d{8}\.csv", download.value.suggested_filename)
    with open(download.value.path(), "rb") as file:
        data = file.read()
    assert data.startswith("\ufeff受付番号,申請日時,状態,手数料,支払い,".encode())
    text = data.decode("utf-8")
    assert reference in text and "●●●● ●●●● 0021" in text and "100000000021" not in text

    clerk.goto(f"/staff/submissions/{public_id}")
    clerk.get_by_role("link", name="印刷用の表示").click()
    expect(clerk.get_by_role("heading", level=1)).to_have_text(
        f"妊娠の届出（受付番号 {reference}）"
    )
    expect(clerk.get_by_text("●●●● ●●●● 0021")).to_be_visible()
    expect(clerk.get_by_role("button", name="このページを印刷する")).to_be_visible()
    audit(clerk)
    clerk.emulate_media(media="print")
    expect(clerk.get_by_role("button", name="このページを印刷する")).to_be_hidden()
    assert "OK" in live_server.flask("audit", "verify")
