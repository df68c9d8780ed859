"""Booking a counter in a real browser, with the live server's clock set to Monday 30 November
2026, 10:00 in Tokyo: book, reschedule and cancel on a phone; a day that is booked out is
announced as 満員; a time taken by someone else meanwhile gives the "already taken" page whose
alternatives keep what was typed; booking by keyboard only; a counter procedure's page leads to
the booking; the clerk checks the visitor in by typing the ticket token (as a scanner does),
blocks a slot and closes days. axe runs on every page.

And the races through HTTP: 50 residents book the same slot of capacity 1 at once (20 at
capacity 3): exactly 1 (3) get their appointment, every other one gets the "already taken" page,
none a 5xx. Marked pg_smoke: CI runs it again on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import re
import threading
from urllib.parse import parse_qs, urlparse

import pyotp
import pytest
from playwright.sync_api import expect
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from portal.appointments import availability
from portal.appointments.models import AppointmentSlot
from portal.catalog import load_catalog
from portal.clock import TOKYO
from tests.e2e.http_resident import HttpResident
from tests.e2e.people import by_label, group, tab_to
from tests.e2e.test_juminhyo import ROOT

CATALOG = load_catalog(ROOT / "procedure_catalog.yaml")
NOW = dt.datetime(2026, 11, 30, 10, 0, tzinfo=TOKYO)
PASSWORD = "e2e-shimin-password"


@pytest.fixture
def fixed_clock(live_server):
    live_server.set_clock(NOW.isoformat())
    yield
    live_server.set_clock(None)


def _clear(live_server) -> None:
    """Appointments of earlier tests (same server) out of the way: each test starts empty."""
    engine = create_engine(live_server.database_url)
    with engine.begin() as connection:
        for table in ("appointments", "appointment_slots", "appointment_closures"):
            connection.execute(text(f"DELETE FROM {table}"))  # noqa: S608 - fixed names
        connection.execute(text("DELETE FROM outbox_messages"))
    engine.dispose()


@pytest.fixture
def empty(live_server, fixed_clock):
    _clear(live_server)
    yield
    _clear(live_server)


def block_day(live_server, counter_id: str, day: dt.date) -> None:
    """Block every slot of a day (blocked slots count as taken): the day shows 満員."""
    counter = CATALOG.counter(counter_id)
    engine = create_engine(live_server.database_url)
    with Session(engine) as session:
        for start in availability.slot_starts(counter.booking, day):
            session.add(
                AppointmentSlot(
                    counter_id=counter_id,
                    starts_at=start,
                    capacity=counter.booking.capacity,
                    booked=0,
                    blocked=True,
                )
            )
        session.commit()
    engine.dispose()


def choose_and_see_days(page, service: str, people: str = "1人") -> None:
    group(page, "用件（いくつでも選べます）").get_by_role(
        "checkbox", name=re.compile(service)
    ).check()
    by_label(page, "来庁する人数").select_option(label=people)
    page.get_by_role("button", name="空いている日を見る").click()


def fill_contact(page, name: str, email: str) -> None:
    by_label(page, "お名前").fill(name)
    by_label(page, "メールアドレス").fill(email)


def test_book_reschedule_and_cancel_on_a_phone(make_page, audit, live_server, empty):
    block_day(live_server, "shimin-main", dt.date(2026, 12, 3))
    page = make_page("phone")
    page.goto("/appointments/")
    expect(page.get_by_role("heading", level=1)).to_have_text("窓口の予約")
    audit(page)
    page.get_by_role("link", name="市民課 窓口を予約する").click()
    page.get_by_role("button", name="空いている日を見る").click()
    expect(page.get_by_role("link", name=re.compile("用件を1つ以上選んでください"))).to_be_visible()
    audit(page)
    choose_and_see_days(page, "転入届", "2人")
    page.get_by_role("link", name="次の月（12月）").click()
    expect(page.get_by_role("cell", name="12月3日（木） 満員")).to_be_visible()
    expect(page.get_by_role("cell", name="12月5日（土） 予約できません")).to_be_visible()
    audit(page)
    page.get_by_role("link", name="12月1日（火） 空きあり").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("2026年12月1日（火）の時間を選ぶ")
    expect(page.get_by_text("約35分")).to_be_visible()  # 30 minutes, and 5 for the second person
    audit(page)
    page.get_by_role("button", name="この内容で予約する").click()
    expect(page.get_by_role("link", name="時間を選んでください")).to_be_visible()
    audit(page)
    page.get_by_role("radio", name="9時00分から").check()
    fill_contact(page, "夷隅 花子", "hanako@example.jp")
    page.get_by_role("button", name="この内容で予約する").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("予約しました")
    expect(page.get_by_text("2026年12月1日（火） 9時00分から9時45分まで").first).to_be_visible()
    expect(page.get_by_role("img", name="予約票のQRコード（窓口で読み取ります）")).to_be_visible()
    audit(page)
    with page.expect_download() as download:
        page.get_by_role("link", name="カレンダーに追加する（.ics ファイル）").click()
    assert download.value.suggested_filename == "appointment.ics"

    page.get_by_role("link", name="日時を変更する").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("日時を変更する")
    audit(page)
    page.get_by_role("link", name="次の月（12月）").click()
    page.get_by_role("link", name="12月2日（水） 空きあり").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("2026年12月2日（水）の時間を選ぶ")
    audit(page)
    page.get_by_role("radio", name="14時00分から").check()
    page.get_by_role("button", name="この時間に変更する").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("予約の確認")
    expect(page.get_by_text("2026年12月2日（水） 14時00分から14時45分まで").first).to_be_visible()

    page.get_by_role("link", name="予約を取り消す").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("予約を取り消しますか")
    audit(page)
    page.get_by_role("button", name="予約を取り消す").click()
    expect(page.get_by_text("この予約は取り消されています。")).to_be_visible()
    audit(page)

    # The messages wait in the outbox; in development they show on the mail page.
    page.goto("/dev/mail")
    expect(page.get_by_role("link", name="窓口の予約を取り消しました")).to_be_visible()
    expect(page.get_by_role("link", name="窓口の予約の日時を変更しました")).to_be_visible()


def test_a_time_taken_meanwhile_offers_others_and_keeps_what_was_typed(
    make_page, audit, live_server, empty
):
    day_url = "/appointments/kosodate-main/2026-12-02?service=hoiku-soudan&people=1"
    first, second = make_page("phone"), make_page("phone")
    for page in (first, second):
        page.goto(day_url)
        page.get_by_role("radio", name="9時00分から").check()
    fill_contact(first, "大原 一郎", "ichiro@example.jp")
    fill_contact(second, "岬 次郎", "jiro@example.jp")
    first.get_by_role("button", name="この内容で予約する").click()
    expect(first.get_by_role("heading", level=1)).to_have_text("予約しました")

    second.get_by_role("button", name="この内容で予約する").click()
    expect(second.get_by_role("heading", level=1)).to_have_text("この時間は予約が埋まりました")
    audit(second)
    second.get_by_role("button", name="2026年12月2日（水） 9時30分からで予約する").click()
    expect(second.get_by_role("heading", level=1)).to_have_text("予約しました")
    expect(second.get_by_text("岬 次郎 様")).to_be_visible()


def test_booking_by_keyboard_only(make_page, live_server, empty):
    page = make_page("desktop")
    page.goto("/procedures/shibo-todoke")  # a counter procedure leads to the booking
    tab_to(page, page.get_by_role("link", name="窓口に行く日時を予約する"))
    page.keyboard.press("Enter")
    expect(page.get_by_text("「死亡届」のための予約です。")).to_be_visible()
    tab_to(page, page.get_by_role("link", name="次の月（12月）"))
    page.keyboard.press("Enter")
    tab_to(page, page.get_by_role("link", name="12月2日（水） 空きあり"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("2026年12月2日（水）の時間を選ぶ")
    tab_to(page, page.get_by_role("radio").first)
    page.keyboard.press("ArrowDown")  # the second time (slots of 30 minutes from 8時30分)
    expect(page.get_by_role("radio", name="9時00分から")).to_be_checked()
    tab_to(page, by_label(page, "お名前"))
    page.keyboard.type("太東 三郎")
    page.keyboard.press("Tab")
    page.keyboard.type("saburo@example.jp")
    tab_to(page, page.get_by_role("button", name="この内容で予約する"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("予約しました")
    expect(page.get_by_text("おくやみコーナー（亡くなった方の手続のご案内）").first).to_be_visible()


def create_clerk(live_server) -> str:
    output = live_server.flask(
        "staff",
        "create",
        "e2e-shimin",
        "--name",
        "市民 一郎",
        "--role",
        "clerk:shimin",
        "--password",
        PASSWORD,
    )
    uri = re.search(r"otpauth://\S+", output).group(0)
    return parse_qs(urlparse(uri).query)["secret"][0]


def test_the_clerk_checks_visitors_in_with_the_ticket(make_page, audit, live_server, empty):
    resident = make_page("phone")
    resident.goto("/appointments/shimin-main?service=juminhyo&people=1&month=2026-12")
    resident.get_by_role("link", name="12月1日（火） 空きあり").click()
    resident.get_by_role("radio", name="9時00分から").check()
    fill_contact(resident, "夷隅 花子", "hanako@example.jp")
    resident.get_by_role("button", name="この内容で予約する").click()
    ticket = resident.locator("code.ticket-token").inner_text()

    morning = dt.datetime(2026, 12, 1, 8, 45, tzinfo=TOKYO)
    live_server.set_clock(morning.isoformat())
    secret = create_clerk(live_server)
    clerk = make_page("desktop")
    clerk.goto("/staff/login")
    by_label(clerk, "ログインID").fill("e2e-shimin")
    by_label(clerk, "パスワード").fill(PASSWORD)
    clerk.get_by_role("button", name="次へ").click()
    by_label(clerk, "確認コード（数字6桁）").fill(pyotp.TOTP(secret).at(morning))
    clerk.get_by_role("button", name="ログインする").click()
    clerk.get_by_role("link", name="窓口の予約").click()
    expect(clerk.get_by_role("heading", level=1)).to_have_text("窓口の予約：2026年12月1日（火）")
    expect(clerk.get_by_role("rowheader", name="夷隅 花子")).to_be_visible()
    audit(clerk)

    by_label(clerk, "予約票の番号").fill(ticket)
    clerk.keyboard.press("Enter")  # what a scanner sends after the token
    expect(
        clerk.get_by_text("受付しました。受付番号 1 番をお渡しください（夷隅 花子 様）。")
    ).to_be_visible()
    row = clerk.get_by_role("row").filter(has_text="夷隅 花子")
    expect(row).to_contain_text("受付番号 1")
    audit(clerk)
    clerk.get_by_role("button", name="対応済み（夷隅 花子 様）").click()
    expect(clerk.get_by_role("row").filter(has_text="夷隅 花子")).to_contain_text("対応済み")

    clerk.get_by_role("button", name="受付停止（14時00分）").click()
    expect(clerk.get_by_role("button", name="受付再開（14時00分）")).to_be_visible()
    resident.goto("/appointments/shimin-main/2026-12-01?service=juminhyo&people=1")
    expect(resident.get_by_role("radio", name="14時00分から")).to_have_count(0)
    expect(resident.get_by_role("radio", name="14時15分から")).to_have_count(1)

    clerk.get_by_role("link", name="受付停止の期間（臨時閉庁など）を設定する").click()
    expect(clerk.get_by_role("heading", level=1)).to_have_text("受付停止の期間")
    audit(clerk)
    clerk.get_by_role("button", name="受付停止の期間を追加する").click()
    expect(clerk.get_by_role("link", name=re.compile("最初の日を"))).to_be_visible()
    audit(clerk)
    by_label(clerk, "最初の日").fill("2026-12-07")
    by_label(clerk, "最後の日").fill("2026-12-08")
    by_label(clerk, "理由").fill("庁舎の電気設備の点検")
    clerk.get_by_role("button", name="受付停止の期間を追加する").click()
    expect(clerk.get_by_role("cell", name="庁舎の電気設備の点検", exact=True)).to_be_visible()
    resident.goto("/appointments/shimin-main?service=juminhyo&people=1&month=2026-12")
    expect(resident.get_by_role("cell", name="12月7日（月） 予約できません")).to_be_visible()
    expect(resident.get_by_role("link", name="12月9日（水） 空きあり")).to_be_visible()


def race(live_server, counter: str, service: str, bookers: int) -> dict[int, int]:
    """`bookers` residents open the same day page, then all press 予約する at once."""
    path = f"/appointments/{counter}/2026-12-02?service={service}&people=1"
    residents = [HttpResident(live_server.url) for _ in range(bookers)]
    tokens = [r.get(path).csrf_token for r in residents]
    barrier = threading.Barrier(bookers, timeout=60)
    statuses: dict[int, int] = {}
    pages = {}

    def book(n: int) -> None:
        data = [
            ("service", service),
            ("people", "1"),
            ("time", "09:00"),
            ("name", f"住民 {n}"),
            ("email", f"resident{n}@example.jp"),
        ]
        barrier.wait()
        page = residents[n].post(path, data, tokens[n])
        statuses[n] = page.status
        pages[n] = page

    threads = [threading.Thread(target=book, args=(n,)) for n in range(bookers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    counts: dict[int, int] = {}
    for n, status in statuses.items():
        counts[status] = counts.get(status, 0) + 1
        if status == 409:
            assert "この時間は予約が埋まりました" in pages[n].html
    assert len(statuses) == bookers
    return counts


@pytest.mark.pg_smoke
@pytest.mark.parametrize(
    ("counter", "service", "bookers", "capacity"),
    [("kosodate-main", "hoiku-soudan", 50, 1), ("shimin-main", "juminhyo", 20, 3)],
)
def test_parallel_bookings_never_exceed_a_slot(
    live_server, empty, counter, service, bookers, capacity
):
    assert CATALOG.counter(counter).booking.capacity == capacity
    counts = race(live_server, counter, service, bookers)
    # 200 after the redirect to the booking's page; 409 is the "already taken" page.
    assert counts == {200: capacity, 409: bookers - capacity}, counts
    engine = create_engine(live_server.database_url)
    with engine.connect() as connection:
        booked = connection.execute(
            text("SELECT booked, capacity FROM appointment_slots WHERE counter_id = :c"),
            {"c": counter},
        ).all()
    engine.dispose()
    assert (capacity, capacity) in booked and all(b <= c for b, c in booked)
