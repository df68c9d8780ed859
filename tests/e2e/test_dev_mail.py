"""The development mail pages on a phone: a message put in the live server's outbox is listed,
opens with its headers and body, and its .ics downloads; axe on the list and the message."""

from __future__ import annotations

import datetime as dt
import secrets
from pathlib import Path

from playwright.sync_api import expect
from sqlalchemy.orm import Session

from portal.appointments.ics import appointment_ics
from portal.db import make_engine
from portal.outbox import enqueue

NOW = dt.datetime(2026, 11, 22, 1, 0, tzinfo=dt.UTC)


def put_message(database_url: str, subject: str) -> int:
    """Write straight into the server's database, as a booking's transaction would."""
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            message = enqueue(
                session,
                kind="appointment_confirmation",
                to="ohara.taro@example.jp",
                subject=subject,
                body="大原 太郎 様\n\n市民課の窓口予約を受け付けました。\n日時：2026年12月3日（木）9時30分\n",
                send_after=NOW,
                related="appointment:E2E",
                now=NOW,
                attachments=[
                    {
                        "filename": "予約.ics",
                        "content_type": "text/calendar; method=PUBLISH",
                        "content": appointment_ics(
                            uid="appointment-E2E@isumi.example.jp",
                            start=dt.datetime(2026, 12, 3, 0, 30, tzinfo=dt.UTC),
                            end=dt.datetime(2026, 12, 3, 1, 0, tzinfo=dt.UTC),
                            summary="住民票の写しの交付（市民課）",
                            location="いすみ市役所 本庁舎1階 市民課",
                            description="本人確認書類をお持ちください。",
                            url=None,
                            now=NOW,
                        ),
                    }
                ],
            )
            session.commit()
            return message.id
    finally:
        engine.dispose()


def test_the_development_mail_pages_on_a_phone(make_page, audit, live_server):
    subject = f"【いすみ市】窓口予約を受け付けました（{secrets.token_hex(3)}）"
    message_id = put_message(live_server.database_url, subject)

    page = make_page("phone")
    page.goto("/dev/mail")
    expect(page.get_by_role("heading", level=1)).to_have_text("開発用メール")
    table = page.get_by_role("table", name="メールの一覧（新しい順、200件まで）")
    expect(table.get_by_role("row", name=subject)).to_contain_text("送信待ち")
    audit(page)

    table.get_by_role("link", name=subject).click()
    expect(page).to_have_url(f"{live_server.url}/dev/mail/{message_id}")
    expect(page.get_by_role("heading", level=1)).to_have_text(subject)
    expect(page.get_by_text("市民課の窓口予約を受け付けました。")).to_be_visible()
    audit(page)

    with page.expect_download() as download:
        page.get_by_role("link", name="予約.ics").click()
    assert download.value.suggested_filename == "予約.ics"
    content = Path(download.value.path()).read_text(encoding="utf-8")
    assert "DTSTART;TZID=Asia/Tokyo:20261203T093000" in content
